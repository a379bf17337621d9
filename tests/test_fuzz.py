"""A fuzz test of the SQL API: every public function of the schema (read from the
catalog, so a new one is covered the day it is added) called with generated
arguments of its types, as the superuser and, where it may, as debugloop_agent.

Each call must return a result without a number that is not finite (a NaN cost or
similarity is a silent wrong answer), or raise an error whose SQLSTATE is registered
(python/debugloop/errors.py, class DL): never an internal error, never a standard
SQLSTATE for bad input (22xxx, 23xxx, 42xxx, ...); take at most a second
(``statement_timeout``) on arguments under 100 KB; and leave the database as it was
after an error (a fingerprint of every table of the schema and of the session's
advisory locks, taken before and after). Every call runs in a transaction that is
rolled back, so that the admin and destructive functions change nothing either.

Profiles: by default (``DEBUGLOOP_FUZZ`` unset) the examples are derandomized and
few, so that the suite stays fast and a failure reproduces; ``DEBUGLOOP_FUZZ=deep``
runs 300 examples per function and role with a fresh random seed each run.
``DEBUGLOOP_FUZZ_EXAMPLES=N`` sets the number for either, and
``DEBUGLOOP_FUZZ_STATS=1`` prints how each function's calls ended (run pytest with -s).
"""

from __future__ import annotations

import json
import math
import os
import time
from dataclasses import dataclass, field
from datetime import UTC
from decimal import Decimal

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from psycopg import sql

from debugloop.errors import REGISTRY
from helpers import CODE, FIX, PARAPHRASE, REQUEST

DEEP = os.environ.get("DEBUGLOOP_FUZZ") == "deep"
PROFILE = settings(
    max_examples=int(os.environ.get("DEBUGLOOP_FUZZ_EXAMPLES", "300" if DEEP else "25")),
    derandomize=not DEEP,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
TIME_LIMIT_MS = 1000
INPUT_LIMIT = 100_000  # bytes of arguments in one call
JSON_TYPES = {114, 3802}  # the type oids of json and jsonb

# -- the database the calls run against -------------------------------------------------

SESSION_OK = {"key": "s1", "correlation_id": "00000000-0000-4000-8000-000000000001", "title": "a session"}
UNIT_OK = {
    "key": "u1",
    "session": "s1",
    "request": "Fix the build",
    "status": "success",
    "model": "claude-sonnet-4-5",
    "started_at": "2025-01-01T00:00:00Z",
    "completed_at": "2025-01-01T00:00:05Z",
    "usage": {"input_tokens": 5, "output_tokens": 7},
}
FILE_OK = {"path": "/logs/a.jsonl", "byte_offset": 10, "line_number": 1, "head_md5": "x", "state": {}}


@dataclass
class World:
    """What the seeded database holds, for arguments that name existing rows."""

    ids: dict[str, list[str]] = field(default_factory=dict)  # uuids by what they name
    prefixes: list[str] = field(default_factory=list)  # ids as the CLI takes them: whole, or 8+ hex digits
    signatures: list[str] = field(default_factory=list)
    settings: list[str] = field(default_factory=list)

    def uuids(self, name: str) -> list[str]:
        kind = {"source_attempt_id": "attempt_id", "parent_attempt_id": "attempt_id", "after": "stf_id"}.get(name, name)
        return self.ids.get(kind) or [u for us in self.ids.values() for u in us]


def _seed(conn) -> World:
    """A small database with a bit of everything: a failure and its fix (a mapping),
    STFs (one with a neural embedding), a golden state, reuses, a running attempt, a
    custom price with a pattern, an import."""
    q = conn.execute
    usage = json.dumps({"prompt_tokens": 2000, "completion_tokens": 300})
    (fail,) = q(
        "select debugloop.attempt_start('fixer', %s, 'gpt-4o', approach_description => 'split lines')", [REQUEST]
    ).fetchone()
    q("select debugloop.attempt_finish(%s, 'error', %s, 'KeyError', %s)", [fail, usage, "'amount'"])
    (ok,) = q(
        "select debugloop.attempt_start('fixer', %s, 'gpt-4o-mini', parent_attempt_id => %s,"
        " approach_description => %s)",
        [REQUEST, fail, FIX],
    ).fetchone()
    artifacts = json.dumps({"files": {"src/invoice.py": CODE}})
    q(
        "select debugloop.attempt_finish(%s, 'success', %s, quality_score => 0.95, artifacts => %s)",
        [ok, usage, artifacts],
    )
    (other,) = q("select debugloop.attempt_start('helper', %s, 'claude-sonnet-4-5')", [PARAPHRASE]).fetchone()
    q("select debugloop.attempt_finish(%s, 'success', %s, quality_score => 0.9)", [other, usage])
    q("select debugloop.attempt_start('runner', 'Rename the user table', 'gpt-4o')")
    (golden,) = q("select debugloop.golden_nominate(%s)", [ok]).fetchone()
    (stf,) = q("select stf_id from debugloop.debug_transform_functions limit 1").fetchone()
    q("select debugloop.stf_record_use(%s, %s, true)", [stf, other])
    q("select debugloop.golden_record_reuse(%s, %s, true)", [golden, other])
    embedding = "[" + ",".join(["0.05"] * 384) + "]"
    q("select debugloop.stf_set_embedding(%s, %s::debugloop.vector, 'all-MiniLM-L6-v2')", [stf, embedding])
    q("select debugloop.price_set('acme', 'acme-1', 1, 2, name_pattern => '^acme-.*')")
    q(
        "select * from debugloop.import_units('claude-code', gen_random_uuid(), %s, %s, %s)",
        [json.dumps([SESSION_OK]), json.dumps([UNIT_OK]), json.dumps(FILE_OK)],
    )
    q("select * from debugloop.analytics_refresh()")
    world = World()
    for kind, table in [
        ("attempt_id", "debug_execution_attempts"),
        ("correlation_id", "debug_execution_attempts"),
        ("stf_id", "debug_transform_functions"),
        ("golden_state_id", "debug_golden_states"),
    ]:
        query = sql.SQL("select distinct {}::text from debugloop.{}").format(
            sql.Identifier(kind), sql.Identifier(table)
        )
        world.ids[kind] = [i for (i,) in q(query)]
        world.prefixes += [v for i in world.ids[kind] for v in (i, i[:8], i.replace("-", "")[:12].upper())]
    world.signatures = [s for (s,) in q("select signature from debugloop.debug_error_signatures")]
    world.signatures += [s[:8] for s in world.signatures]
    world.settings = [k for (k,) in q("select key from debugloop.settings order by key")]
    return world


@dataclass(frozen=True)
class Function:
    name: str
    signature: str
    arg_names: tuple[str, ...]
    arg_types: tuple[str, ...]
    defaults: int  # the last `defaults` arguments have defaults
    agent_may_call: bool


EXTENSION_TYPES = ("vector", "halfvec", "sparsevec")


def _cast(type_: str) -> str:
    """The type as a cast names it: the extensions' types live in schema debugloop."""
    base = type_.removesuffix("[]")
    return f"debugloop.{type_}" if base in EXTENSION_TYPES else type_


def _functions(conn) -> list[Function]:
    """The public functions of the schema, with their input arguments, from the catalog."""
    rows = conn.execute(
        r"""select p.proname, p.oid::regprocedure::text, coalesce(p.proargnames, '{}'),
                   coalesce(p.proargmodes::text[], '{}'), array(select format_type(t, null) from unnest(p.proargtypes) t),
                   p.pronargdefaults, has_function_privilege('debugloop_agent', p.oid, 'execute')
              from pg_proc p
             where p.pronamespace = 'debugloop'::regnamespace and p.prokind = 'f' and p.proname !~ '^(_|tg_)'
               and not exists (select from pg_depend d  -- pgvector's and pg_trgm's own functions live here too
                                where d.classid = 'pg_proc'::regclass and d.objid = p.oid and d.deptype = 'e')
             order by p.proname, 2"""
    ).fetchall()
    functions = []
    for name, signature, names, modes, types, defaults, agent in rows:
        inputs = [n for n, m in zip(names, modes or ["i"] * len(names), strict=True) if m in ("i", "b", "v")]
        assert len(inputs) == len(types), f"{signature}: every argument needs a name"
        types = [t.removeprefix("debugloop.") for t in types]  # the extensions' types, wherever they are named from
        functions.append(Function(name, signature, tuple(inputs), tuple(types), defaults, agent))
    return functions


def _fingerprint_query(conn) -> sql.Composed:
    """One query whose result changes when any row of any table of the schema does, or
    when the session holds another advisory lock."""
    tables = conn.execute(
        "select relname from pg_class where relnamespace = 'debugloop'::regnamespace and relkind = 'r' order by 1"
    ).fetchall()
    parts = [
        sql.SQL("select {}::text, count(*), coalesce(sum(hashtextextended(t::text, 0)), 0) from debugloop.{} t").format(
            sql.Literal(t), sql.Identifier(t)
        )
        for (t,) in tables
    ]
    parts.append(
        sql.SQL(
            "select 'advisory locks', count(*), coalesce(sum(hashtextextended(l.objid::text, 0)), 0)"
            " from pg_locks l where l.locktype = 'advisory' and l.pid = pg_backend_pid()"
        )
    )
    return sql.SQL(" union all ").join(parts)


# -- arguments --------------------------------------------------------------------------
#
# Every argument has valid values (what a careful client sends, so that a call gets past
# the first check and into the function) and wild ones (what a careless client or an
# attacker sends). A call breaks one argument and keeps the others valid, or draws every
# argument wild. Values are SQL text for the type's input function (or lists, for arrays).

CHARS = st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00")  # PostgreSQL text holds no NUL
LONG_TEXT = st.sampled_from(
    ["a", "/", "a/", "(", "é", "Error: ", "def f(x):\n    return x\n", " ", "-", ".", "😀"]
).flatmap(lambda unit: st.integers(1, INPUT_LIMIT // (len(unit.encode()) + 1)).map(lambda n: unit * n))
WORDS = st.text(st.characters(whitelist_categories=("Ll", "Lu", "Nd")), min_size=1, max_size=20)
WILD_TEXT = st.one_of(
    st.text(CHARS, max_size=40),
    st.sampled_from(["", " ", "NaN", "Infinity", "-1", "1e30", "null", "'; select 1; --", "\\", "%s", "{}", "[]"]),
    LONG_TEXT,
)
SHORT_WILD_TEXT = WILD_TEXT.filter(lambda t: len(t) < 1000)
VALID_TEXT = {
    "status": ["success", "error", "timeout", "cancelled", "running", "pending", "approved", "rejected"],
    "source": ["claude-code", "swe-agent", "openhands"],
    "model": ["gpt-4o", "openai/gpt-4o", "claude-sonnet-4-5", "openrouter/anthropic/claude-sonnet-4.5", "acme-7"],
    "provider": ["openai", "anthropic", "acme"],
    "language": ["python", "typescript", "go"],
    "name_pattern": ["^acme-.*", "gpt-.*-turbo"],
    "category": ["syntax", "import", "network", "other"],
    "error_type": ["KeyError", "builtins.ValueError", "json.decoder.JSONDecodeError"],
    "problem": [REQUEST, PARAPHRASE, "Rename the user table"],
    "message": ["KeyError: 'amount'", 'Traceback (most recent call last):\n  File "a.py", line 1\nValueError: x'],
    "code": [CODE, "def f(x):\n    y = x\n    return y\n", "function f(a) {\n  b();\n  return a + 1;\n}\n"],
    "value": ["on", "off", "0.5", "5", "20"],
    "embedding_model": ["all-MiniLM-L6-v2"],
    "name": ["invoice_total", "slugify"],
    "period": ["daily", "weekly", "monthly", "session"],
    "timezone": ["UTC", "Europe/Berlin", "Asia/Shanghai"],
}
for alias, of in [("model_name", "model"), ("user_request", "problem"), ("stacktrace", "message")]:
    VALID_TEXT[alias] = VALID_TEXT[of]
VALID_TEXT["problem_category"] = VALID_TEXT["category"]
ID_ARGUMENTS = ("attempt_id", "stf_id", "golden_state_id", "correlation_id", "signature")
WILD_TEXT_BY_NAME = {
    "status": ["SUCCESS", "ok"],
    "source": ["custom", "litellm"],
    "model": ["unknown", "/", "a/", "x", "a.", "gpt-4o/"],  # the long ones repeat these to 45,000 characters
    "provider": ["OpenAI", "a b", ""],
    "language": ["cobol", "Python", "c++", "x" * 100],
    "name_pattern": ["", ".*", "^", "$", "(", "[", "a|", "(a+)+$", "\\", "x{0}", "|", "(?:)", "^.*$"],
    "embedding_model": ["", " "],
    "period": ["hourly", "Daily", ""],
    "timezone": ["", "Mars/Olympus", "UTC+99", "EST5EDT,M3.2.0", "localtime"],
    **{n: ["0123456", "zzzzzzzz", "00000000-0000-0000-0000-000000000000", "ABCDEF12", "0" * 65] for n in ID_ARGUMENTS},
}
WILD_TEXT_BY_NAME["model_name"] = WILD_TEXT_BY_NAME["model"]
VALID_INT = {
    "k": [1, 3, 5],
    "limit": [0, 5, 50],
    "max_chars": [300, 1000, 6000],
    "long_context_threshold": [200_000],
    "context_window": [128_000],
    "max_output_tokens": [4096],
}
VALID_BIGINT = {
    "input_tokens": [0, 1000, 200_000],
    "output_tokens": [0, 300],
    "successes": [0, 1, 95],
    "failures": [0, 5],
}
VALID_NUMERIC = {"quality_score": ["0.5", "0.9", "0.95", "1"], "confidence_score": ["0.9"], "batch_discount": ["0.5"]}
VALID_TIME = {
    "started_at": ["2025-01-01T00:00:00Z", "now"],
    "completed_at": ["2025-01-02T00:00:00Z", "now"],
    "since": ["2024-01-01", "2025-06-01T12:00:00Z"],
    "effective_from": ["2024-06-01", "2030-01-01"],
    "at": ["now", "2025-01-01"],
}
VALID_DATE = {"since": ["2025-06-01", "2024-01-01"], "until": ["2025-06-10", "2030-01-01"]}
WILD_DATE = st.one_of(
    st.sampled_from(["infinity", "-infinity", "epoch", "4713-01-01 BC", "5874897-12-31", "1900-01-01", "2100-01-01"]),
    st.dates().map(lambda d: d.isoformat()),
)
INT_EDGES = [0, 1, -1, 2, 5, 20, 40, 41, 100, 101, 300, 1000, 1001, 2**31 - 1, -(2**31)]
WILD_NUMERIC = st.one_of(
    st.sampled_from(["NaN", "Infinity", "-Infinity", "0", "-0.01", "1.01", "1e30", "-1e30", "1e-30", "1e1000"]),
    st.decimals(allow_nan=False, allow_infinity=False, places=4, min_value=-(10**6), max_value=10**6).map(str),
)
WILD_TIME = st.one_of(
    st.sampled_from(
        ["infinity", "-infinity", "epoch", "1900-01-01", "4713-01-01 00:00:00+00 BC", "294276-12-31 23:59:59+00"]
        + ["2100-01-01", "now"]
    ),
    st.datetimes(timezones=st.just(UTC)).map(lambda d: d.isoformat()),
)
JSON_LEAF = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**20), 10**20),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([1e30, -1, 0.5, 10**15, 2**63]),
    st.text(CHARS, max_size=20),
)
WILD_JSON = st.recursive(
    JSON_LEAF,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(CHARS, max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
COUNT = st.integers(0, 10**6)
WILD_COUNT = st.one_of(
    st.sampled_from([-1, 0.5, 1e30, 10**15, 2**63, 2**64, "5", None, True, [], {}]), st.integers(-(10**20), 10**20)
)
USAGE_KEYS = [
    "prompt_tokens",
    "completion_tokens",
    "input_tokens",
    "output_tokens",
    "cache_read_input_tokens",
    "cache_creation_input_tokens",
    "promptTokenCount",
    "candidatesTokenCount",
    "cachedContentTokenCount",
    "cache_read_tokens",
    "reasoning_tokens",
]
TIME_IN_LOG = st.sampled_from(["2025-01-01T00:00:00Z", "2025-01-01T00:00:03Z"])


def _usage(count):
    one = st.dictionaries(st.sampled_from(USAGE_KEYS), count, min_size=1, max_size=4)
    odd = [[], {}, [[]], [{}], {"prompt_tokens": 5, "prompt_tokens_details": {"cached_tokens": 9}}]
    return st.one_of(one, st.lists(one, max_size=3), one.map(lambda u: {"usage": u}), st.sampled_from(odd))


def _price_doc(count, price):
    """A document in LiteLLM's format (model_prices_and_context_window.json)."""
    entry = st.fixed_dictionaries(
        {
            "input_cost_per_token": price,
            "output_cost_per_token": price,
            "litellm_provider": st.sampled_from(["openai", "anthropic", "gemini"]),
        },
        optional={
            "max_input_tokens": count,
            "max_output_tokens": count,
            "rpm": count,
            "tpm": count,
            "input_cost_per_token_batches": price,
            "input_cost_per_token_above_200k_tokens": price,
            "cache_read_input_token_cost": price,
            "deprecation_date": st.sampled_from(["2025-01-01", "2025-13-45"]),
        },
    )
    return st.dictionaries(
        st.sampled_from(["gpt-x", "openai/gpt-y", "claude-z", "a/b/c"]), entry, min_size=1, max_size=3
    )


def _units(count, text, times):
    """The `units` of import_units."""
    unit = st.fixed_dictionaries(
        {
            "key": st.sampled_from(["u1", "u2", "u3"]),
            "session": st.just("s1"),
            "request": text,
            "started_at": times,
            "status": st.sampled_from(["success", "error", "running"]),
        },
        optional={
            "usage": _usage(count),
            "completed_at": times,
            "parent": st.sampled_from(["u1", "u2"]),
            "model": st.sampled_from(["gpt-4o", "claude-sonnet-4-5"]),
            "error_message": text,
        },
    )
    return st.lists(unit, max_size=3)


ARTIFACTS = st.fixed_dictionaries(
    {},
    optional={
        "files": st.dictionaries(
            st.sampled_from(["a.py", "b.ts", "tests/test_a.py", "x.cob"]), st.sampled_from([CODE, "x"])
        ),
        "snippets": st.lists(
            st.fixed_dictionaries(
                {"code": st.sampled_from([CODE, ""])},
                optional={"language": st.sampled_from(["cobol", "python"]), "name": st.sampled_from(["f", ""])},
            ),
            max_size=2,
        ),
        "diff": st.just("--- a/x.go\n+++ b/x.go\n@@\n+func f() {\n+  a()\n+  b()\n+}\n"),
        "units": st.lists(
            st.fixed_dictionaries(
                {"name": st.just("f"), "code": st.just(CODE), "language": st.sampled_from(["python", "cobol"])}
            ),
            max_size=2,
        ),
    },
)
VALID_JSON = {
    "usage": _usage(COUNT),
    "doc": _price_doc(COUNT, st.sampled_from([1e-6, 3e-6, 1.5e-5, 0])),
    "units": _units(COUNT, st.just("Fix the build"), TIME_IN_LOG),
    "sessions": st.just([SESSION_OK]),
    "file": st.just(FILE_OK),
    "artifacts": ARTIFACTS,
    "parameters": st.just([{"name": "rows", "kind": "positional"}]),
    "tools_used": st.just(["Read", "Edit"]),
}
WILD_JSON_BY_NAME = {
    "usage": _usage(WILD_COUNT),
    "doc": _price_doc(WILD_COUNT, st.one_of(WILD_COUNT, st.floats(-1, 1))),
    "units": _units(
        WILD_COUNT, SHORT_WILD_TEXT, st.one_of(TIME_IN_LOG, WILD_TIME, st.sampled_from(["not a date", 5, None]))
    ),
    "sessions": st.lists(
        st.fixed_dictionaries(
            {
                "key": st.sampled_from(["s1", "s2", None, 5]),
                "correlation_id": st.sampled_from(["00000000-0000-4000-8000-000000000002", "not-a-uuid", None, 5]),
            },
            optional={
                "title": WILD_JSON,
                "reported_cost_usd": st.sampled_from([1.5, -1, 1e30, "NaN", "x"]),
                "path": WILD_JSON,
            },
        ),
        max_size=2,
    ),
    "file": st.fixed_dictionaries(
        {"path": st.sampled_from(["/logs/a.jsonl", None, 5]), "byte_offset": WILD_COUNT, "line_number": WILD_COUNT}
    ),
}


def _vector(dims, value):
    return dims.flatmap(lambda n: st.lists(value, min_size=n, max_size=n)).map(
        lambda xs: "[" + ",".join(repr(float(x)) for x in xs) + "]"
    )


VALID_VECTOR = _vector(st.just(384), st.floats(0.0625, 1, width=32))
WILD_VECTOR = st.one_of(
    _vector(st.sampled_from([1, 3, 383, 384, 385]), st.floats(-1e3, 1e3, width=32)),
    st.sampled_from([0.0, 1e-30, 3e38, -3e38, 1e-45]).map(lambda x: "[" + ",".join([repr(x)] * 384) + "]"),
)


def _valid(name: str, type_: str, world: World):
    """Values of an argument that a careful client sends."""
    if type_ == "text":
        if name in ID_ARGUMENTS:
            return st.sampled_from(world.signatures if name == "signature" else world.prefixes)
        if name == "key":
            return st.sampled_from(world.settings)
        return st.sampled_from(VALID_TEXT[name]) if name in VALID_TEXT else WORDS
    if type_ == "integer":
        return st.sampled_from(VALID_INT.get(name, [1, 5])).map(str)
    if type_ == "bigint":
        return st.sampled_from(VALID_BIGINT.get(name, [0, 1, 1000])).map(str)
    if type_ == "numeric":
        return st.sampled_from(VALID_NUMERIC.get(name, ["0", "1", "2.5", "15"]))
    if type_ == "boolean":
        return st.sampled_from(["true", "false"])
    if type_ == "uuid":
        return st.sampled_from(world.uuids(name))
    if type_ == "timestamp with time zone":
        return st.sampled_from(VALID_TIME.get(name, ["2025-01-01T00:00:00Z"]))
    if type_ == "date":
        return st.sampled_from(VALID_DATE.get(name, ["2025-06-01"]))
    if type_ == "jsonb":
        return VALID_JSON.get(name, st.just({"a": 1})).map(json.dumps)
    if type_ == "text[]":
        return st.lists(st.sampled_from(["openai", "anthropic", "my-alias"]), max_size=2)
    if type_ == "uuid[]":
        return st.lists(st.sampled_from(world.uuids("stf_id")), max_size=2)
    if type_ == "bigint[]":
        return st.lists(st.sampled_from(["1", "2", "1000"]), max_size=3)
    if type_ == "vector":
        return VALID_VECTOR
    if type_ == "interval":
        return st.sampled_from(["30 seconds", "10 minutes", "1 hour"])
    raise AssertionError(f"the fuzz test has no values for type {type_} (argument {name}): add them")


def _wild(name: str, type_: str, world: World):
    """Values of an argument that a careless client or an attacker sends, null among them."""
    if type_ == "text":
        extra = WILD_TEXT_BY_NAME.get(name)
        base = st.one_of(st.sampled_from(extra), WILD_TEXT) if extra else WILD_TEXT
        if name in ("model", "model_name"):
            base = st.one_of(base, st.sampled_from(extra).map(lambda unit: unit * (45_000 // len(unit))))
    elif type_ in ("integer", "bigint"):
        bits = 31 if type_ == "integer" else 63
        edges = INT_EDGES + ([10**15 - 1, 10**15, 2**63 - 1, -(2**63)] if bits == 63 else [])
        base = st.one_of(st.sampled_from(edges), st.integers(-(2**bits), 2**bits - 1)).map(str)
    elif type_ == "numeric":
        base = WILD_NUMERIC
    elif type_ == "uuid":
        base = st.one_of(st.just("00000000-0000-0000-0000-000000000000"), st.uuids().map(str))
    elif type_ == "timestamp with time zone":
        base = WILD_TIME
    elif type_ == "date":
        base = WILD_DATE
    elif type_ == "jsonb":
        base = st.one_of(WILD_JSON_BY_NAME[name], WILD_JSON) if name in WILD_JSON_BY_NAME else WILD_JSON
        base = base.map(json.dumps)
    elif type_ == "text[]":
        base = st.lists(st.one_of(st.sampled_from(["OpenAI", "", "a b"]), SHORT_WILD_TEXT), max_size=4)
    elif type_ == "uuid[]":
        base = st.lists(st.uuids().map(str), max_size=3)
    elif type_ == "bigint[]":
        base = st.lists(st.integers(-(2**63), 2**63 - 1).map(str), max_size=3)
    elif type_ == "vector":
        base = WILD_VECTOR
    elif type_ == "interval":
        # values the type accepts, as for the other types: text that is no interval fails the caller's own cast
        base = st.sampled_from(["0", "-1 hour", "1000 years", "infinity", "-infinity", "100000000 hours", "P1D"])
    else:
        base = _valid(name, type_, world)
    return st.one_of(st.none(), base)


def _call(function: Function, world: World):
    """The arguments of one call of `function`, as (name, type, value) triples; those
    with a default may be left out. Every argument is valid, or one is wild and the
    others valid, or all are wild."""
    specs = list(zip(function.arg_names, function.arg_types, strict=True))
    required = len(specs) - function.defaults
    every = -1

    def arguments(wild_at: int):
        parts = []
        for i, (name, type_) in enumerate(specs):
            value = _wild(name, type_, world) if wild_at in (every, i) else _valid(name, type_, world)
            argument = st.tuples(st.just(name), st.just(type_), value)
            parts.append(argument if i < required or i == wild_at else st.one_of(st.none(), argument))
        return st.tuples(*parts).map(lambda xs: tuple(x for x in xs if x is not None))

    valid = len(specs)  # no argument wild
    return st.integers(every, valid).flatmap(arguments).filter(lambda args: _size(args) < INPUT_LIMIT)


def _size(args) -> int:
    values = [v for _, _, v in args if v is not None]
    return sum(len(v.encode()) if isinstance(v, str) else sum(len(x.encode()) for x in v) for v in values)


# -- what a call may answer -------------------------------------------------------------


def _not_finite(value, in_json: bool, given: set[str]) -> str | None:
    """Why a result value is a silent wrong answer: a number that is not finite (NaN,
    an infinity), as a cost or a similarity computed from a bad input would be; in a
    JSON document such a number is the text "NaN" or "Infinity" (unless the caller
    sent that text, which a document may echo)."""
    if isinstance(value, (list, tuple)):
        return next((why for why in (_not_finite(v, in_json, given) for v in value) if why), None)
    if isinstance(value, dict):
        return next((why for why in (_not_finite(v, in_json, given) for v in value.values()) if why), None)
    if (isinstance(value, Decimal) and not value.is_finite()) or (
        isinstance(value, float) and not math.isfinite(value)
    ):
        return f"returned a number that is not finite: {value}"
    if in_json and value in ("NaN", "Infinity", "-Infinity") and not any(value.lower() in g for g in given):
        return f"returned a number that is not finite, as JSON text: {value}"
    return None


def _bad_result(cursor, rows, args) -> str | None:
    given = {str(v).lower() for _, _, v in args}
    for i, column in enumerate(cursor.description or []):
        why = _not_finite([row[i] for row in rows], column.type_code in JSON_TYPES, given)
        if why:
            return f"{column.name}: {why}"
    return None


def _short(args) -> str:
    def one(v):
        text = repr(v)
        return text if len(text) <= 80 else f"{text[:60]}...({len(text)} chars)"

    return ", ".join(f"{n} => {one(v)}" for n, _, v in args)


@dataclass
class Fuzzer:
    """Calls functions and keeps what went wrong: the shortest example of each
    (function, role, kind of problem)."""

    conn: psycopg.Connection
    fingerprint: sql.Composed
    findings: dict[tuple[str, str, str], str] = field(default_factory=dict)
    outcomes: dict[str, dict[str, int]] = field(default_factory=dict)

    def call(self, function: Function, args, as_agent: bool) -> None:
        statement = sql.SQL("select * from debugloop.{}({})").format(
            sql.Identifier(function.name),
            sql.SQL(", ").join(
                sql.SQL("{} => %s::{}").format(sql.Identifier(n), sql.SQL(_cast(t))) for n, t, _ in args
            ),
        )
        outcome, problem = self._run(statement, [v for _, _, v in args], args, as_agent)
        if problem is not None and problem.startswith("took"):
            # once more, so that a machine busy with something else does not make a finding
            outcome, problem = self._run(statement, [v for _, _, v in args], args, as_agent)
        counts = self.outcomes.setdefault(function.signature, {})
        counts[outcome] = counts.get(outcome, 0) + 1
        if problem is not None:
            who = "debugloop_agent" if as_agent else "superuser"
            key = (function.signature, who, problem.split(" ")[0])
            example = f"{function.name}({_short(args)}) as {who}: {problem}"
            if key not in self.findings or len(example) < len(self.findings[key]):
                self.findings[key] = example

    def examples(self, function: Function, world: World):
        """The Hypothesis test of one function: its calls, as each role that may call it."""
        roles = st.booleans() if function.agent_may_call else st.just(False)

        @PROFILE
        @given(args=_call(function, world), as_agent=roles)
        def run(args, as_agent):
            self.call(function, args, as_agent)

        return run

    def _run(self, statement, params, args, as_agent: bool) -> tuple[str, str | None]:
        conn = self.conn
        try:
            with conn.transaction(force_rollback=True):
                conn.execute(f"set local statement_timeout = {TIME_LIMIT_MS}")
                before = conn.execute(self.fingerprint).fetchall()
                try:
                    with conn.transaction():
                        if as_agent:
                            conn.execute("set local role debugloop_agent")
                        started = time.monotonic()
                        cursor = conn.execute(statement, params)
                        rows = cursor.fetchall()
                        took = (time.monotonic() - started) * 1000
                except psycopg.Error as exc:
                    state = exc.sqlstate or "client"
                    problem = None if state in REGISTRY else f"{state} {exc.diag.message_primary or exc}"
                    if state == "57014":
                        problem = f"took over {TIME_LIMIT_MS} ms (statement_timeout)"
                    after = conn.execute(self.fingerprint).fetchall()
                    if after != before:
                        changed = sorted({r[0] for r in set(before) ^ set(after)})
                        problem = f"left the database changed after {state}: {changed}"
                    return state, problem
        except psycopg.Error as exc:
            return "rollback", f"rollback failed: {exc.sqlstate} {exc}"
        if took > TIME_LIMIT_MS:
            return "ok", f"took {took:.0f} ms"
        return "ok", _bad_result(cursor, rows, args)


@pytest.fixture(scope="module")
def seeded(module_db):
    with psycopg.connect(module_db.url, autocommit=True) as conn:
        world = _seed(conn)
        yield conn, world


SHARDS = 3  # the functions in three parts, so that a parallel run (pytest -n) spreads them


@pytest.mark.parametrize("shard", range(SHARDS))
def test_every_public_function_answers_any_arguments_with_a_result_or_a_registered_error(seeded, shard):
    conn, world = seeded
    every = _functions(conn)
    assert len(every) > 50 and any(f.agent_may_call for f in every)
    functions = every[shard::SHARDS]
    fuzzer = Fuzzer(conn, _fingerprint_query(conn))

    for function in functions:
        fuzzer.examples(function, world)()

    if os.environ.get("DEBUGLOOP_FUZZ_STATS"):
        for signature, counts in sorted(fuzzer.outcomes.items()):
            print(signature, dict(sorted(counts.items(), key=lambda kv: -kv[1])))
    calls = {s: sum(c.values()) for s, c in fuzzer.outcomes.items()}
    assert all(calls[f.signature] >= (PROFILE.max_examples if f.arg_names else 1) for f in functions)
    assert not fuzzer.findings, f"{len(fuzzer.findings)} finding(s) in {sum(calls.values())} calls:\n" + "\n".join(
        sorted(fuzzer.findings.values())
    )
