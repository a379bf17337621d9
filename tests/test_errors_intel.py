"""Error intelligence: normalisation, signatures and frames, classification, the
signature table, error->success mappings and their confidence, fixes, known failures."""

from decimal import Decimal

import pytest

from debugloop.errors import InvalidParameter, NotFound, wrap_exceptions


def one(conn, sql, *args):
    with wrap_exceptions():
        return conn.execute(sql, args).fetchone()[0]


def norm(conn, message):
    return one(conn, "select debugloop.error_normalize(%s)", message)


def sig(conn, error_type, message, stacktrace=None):
    return one(conn, "select debugloop.error_signature(%s, %s, %s)", error_type, message, stacktrace)


# -- normalisation ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("connect to alice@example.com failed", "connect to <email> failed"),
        ("GET https://api.github.com/repos/a/b?x=1 failed", "GET <url> failed"),
        ("host db-1.prod.internal:5432 unreachable", "host <host> unreachable"),
        ("peer 10.0.0.12:8080 reset", "peer <ip> reset"),
        ("peer [2001:db8::1]:443 reset", "peer <ip> reset"),
        ("job 0b7e0c1e-8a47-4b6e-9f5e-1c2d3e4f5a6b failed", "job <uuid> failed"),
        ("commit 3f4e2a1b9c is missing", "commit <hex> is missing"),
        ("md5 d41d8cd98f00b204e9800998ecf8427e mismatch", "md5 <hex> mismatch"),
        ("segfault at 0x7ffd5e8c3a10", "segfault at <hex>"),
        ("<app.models.User object at 0x7f3b2c1d0e50> is not JSON serializable", "<object> is not JSON serializable"),
        ("started 2024-01-15T10:30:00.123Z ended 2024-01-15 10:31:02", "started <date> ended <date>"),
        ("Mon, 15 Jan 2024 10:30:00 GMT expired", "<date> expired"),
        ("at 10:30:02 the lock was held", "at <date> the lock was held"),
        ("Timeout of 2000ms exceeded", "Timeout of <duration> exceeded"),
        ("waited 1.5 seconds", "waited <duration>"),
        ("value 3.14159 out of range", "value <n> out of range"),
        ("expected 42 items, got 7", "expected <n> items, got <n>"),
        ("Invalid query id=12345, user='bob'", "Invalid query id=<v>, user=<v>"),
        (
            "[Errno 2] No such file or directory: '/tmp/pytest-of-ci/pytest-3/x0/data.csv'",
            "[Errno <n>] No such file or directory: <str>",
        ),
        ("cannot open /home/alice/proj/config.yaml", "cannot open <path>"),
        ("cannot open C:\\Users\\alice\\proj\\config.yaml", "cannot open <path>"),
        ("src/app/main.py:42:10: E501 line too long", "E501 line too long"),  # a linter's location goes
        ("see src/app/main.py:42:10 for details", "see <path>:<n>:<n> for details"),
        ('File "app.py", line 12, column 5', "File <str>, line <n>, column <n>"),
        ("404 Client Error: Not Found for url: https://x.io/a", "404 Client Error: Not Found"),
        ("HTTP Error 503 from https://x.io/a", "HTTP Error 503 from <url>"),
        ("Incorrect API key provided: sk-proj-****************21sA.", "Incorrect API key provided: <secret>."),
        (
            "ERROR: No matching distribution found for torch==2.1.0+cu118",
            "ERROR: No matching distribution found for torch",
        ),
        ("assert 99.5 == 100.0", "assert <n> == <n>"),
        ("expected len(x) >= 3", "expected len(x) >= <n>"),
        ("installed numpy 1.26.4 but need 2.0.1", "installed numpy <version> but need <version>"),
        ("in organization org-OOhFjD3fpmItZTQAxWOQx11o on tokens", "in organization <id> on tokens"),
        ("Error code: 429 - rate limited", "Error code: 429 - rate limited"),
        ("returned non-zero exit status 128.", "returned non-zero exit status <n>."),
        ("it doesn't work and/or can't start", "it doesn't work and/or can't start"),
    ],
)
def test_normalize_replaces_each_kind_of_variable_part(conn, message, expected):
    assert norm(conn, message) == expected


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("'user_id'", "'user_id'"),
        ("No module named 'numpy'", "No module named 'numpy'"),
        ("'NoneType' object has no attribute 'split'", "'NoneType' object has no attribute 'split'"),
        ("name 'foo' is not defined", "name 'foo' is not defined"),
        ('relation "users" does not exist', "relation 'users' does not exist"),
        ("Cannot read properties of undefined (reading 'map')", "Cannot read properties of undefined (reading 'map')"),
        ("Cannot find module 'express'", "Cannot find module 'express'"),
        ("Property 'foo' does not exist on type 'Bar'.", "Property 'foo' does not exist on type 'Bar'."),
        ("unsupported operand type(s) for +: 'int' and 'str'", "unsupported operand type(s) for +: 'int' and 'str'"),
        ("invalid literal for int() with base 10: 'abc'", "invalid literal for int() with base <n>: <str>"),
    ],
)
def test_normalize_keeps_the_names_that_tell_errors_apart(conn, message, expected):
    assert norm(conn, message) == expected


# -- signatures -----------------------------------------------------------------------

TRACE = """Traceback (most recent call last):
  File "{root}/app/views.py", line {a}, in handler
    data = load(request.body)
  File "{root}/app/loader.py", line {b}, in load
    return json.loads(text)
  File "/usr/lib/python3.11/json/__init__.py", line 346, in loads
    return _default_decoder.decode(s)
  File "{venv}/site-packages/simplejson/decoder.py", line 337, in decode
    obj, end = self.raw_decode(s, idx=_w(s, 0).end())
json.decoder.JSONDecodeError: Expecting value: line {c} column 1 (char {d})
"""


def test_the_same_error_on_another_machine_has_the_same_signature(conn):
    here = TRACE.format(root="/home/alice/proj", a=42, b=10, c=1, d=0, venv="/home/alice/.venv/lib/python3.11")
    there = TRACE.format(root="/srv/build/proj", a=44, b=11, c=3, d=17, venv="/opt/venv/lib/python3.12")
    assert sig(conn, "json.decoder.JSONDecodeError", "Expecting value: line 1 column 1 (char 0)", here) == sig(
        conn, "json.decoder.JSONDecodeError", "Expecting value: line 3 column 1 (char 17)", there
    )
    frames = one(conn, "select debugloop._error_frames(%s)", here)
    assert frames == ["app/views.py:handler", "app/loader.py:load"]  # library frames left out
    elsewhere = here.replace("in load", "in load_config")
    # one error in two places: one group (the message's), two locations within it
    assert sig(conn, "JSONDecodeError", "Expecting value: line 1 column 1 (char 0)", elsewhere) == sig(
        conn, "JSONDecodeError", "Expecting value: line 1 column 1 (char 0)", here
    )
    assert one(conn, "select debugloop.error_location(%s)", elsewhere) != one(
        conn, "select debugloop.error_location(%s)", here
    )


def test_a_chained_traceback_is_signed_by_the_exception_raised_last(conn):
    chained = """Traceback (most recent call last):
  File "/app/settings.py", line 10, in get
    return self.values[key]
KeyError: 'DATABASE_URL'

During handling of the above exception, another exception occurred:

Traceback (most recent call last):
  File "/app/main.py", line 5, in <module>
    start()
  File "/app/boot.py", line 22, in start
    raise ConfigError("missing setting") from None
boot.ConfigError: missing setting DATABASE_URL
"""
    frames = one(conn, "select debugloop._error_frames(%s)", chained)
    assert frames == ["app/main.py:<module>", "app/boot.py:start"]
    kind = conn.execute("select kind from debugloop._error_parts(null, '', %s)", (chained,)).fetchone()[0]
    assert kind == "boot.ConfigError"  # the type keeps its module: requests' and json's JSONDecodeError differ


def test_node_pytest_and_shell_errors_are_understood(conn):
    node = """TypeError: Cannot read properties of undefined (reading 'map')
    at renderList (/srv/app/src/components/List.js:12:20)
    at processChild (/srv/app/node_modules/react-dom/cjs/react-dom-server.node.development.js:3043:14)
    at Module._compile (node:internal/modules/cjs/loader:1105:14)
    at async main (/srv/app/src/index.js:5:3)"""
    assert one(conn, "select debugloop._error_frames(%s)", node) == [
        "components/List.js:renderList",
        "src/index.js:main",
    ]
    pytest_out = """____________________________ test_total_with_discount ____________________________

    def test_total_with_discount():
>       assert invoice.total() == 108.0
E       assert 107.99 == 108.0

tests/test_invoice.py:42: AssertionError"""
    assert one(conn, "select debugloop._error_frames(%s)", pytest_out) == ["test_total_with_discount"]
    assert sig(conn, None, "assert 107.99 == 108.0", pytest_out) == sig(
        conn, None, "assert 99.5 == 100.0", pytest_out.replace(":42:", ":57:")
    )
    assert sig(conn, None, "bash: foo: command not found") != sig(conn, None, "bash: bar: command not found")
    assert sig(conn, None, "sh: 1: foo: not found") == sig(conn, None, "sh: 7: foo: not found")


def test_a_type_given_or_read_from_the_message_gives_one_signature(conn):
    assert (
        sig(conn, None, "KeyError: 'user_id'")
        == sig(conn, "KeyError", "'user_id'")
        == sig(conn, "builtins.KeyError", "KeyError: 'user_id'")
    )
    assert sig(conn, "KeyError", "'user_id'") != sig(conn, "KeyError", "'email'")


@pytest.mark.parametrize(
    ("error_type", "message", "category"),
    [
        ("SyntaxError", "invalid syntax", "syntax"),
        ("ModuleNotFoundError", "No module named 'numpy'", "import"),
        ("TypeError", "'NoneType' object is not subscriptable", "type"),
        ("AttributeError", "'NoneType' object has no attribute 'split'", "attribute"),
        ("KeyError", "'user_id'", "key_index"),
        ("ValueError", "invalid literal for int() with base 10: 'x'", "value"),
        ("AssertionError", "assert 1 == 2", "assertion"),
        (None, "Timeout of 2000ms exceeded.", "timeout"),
        (
            "requests.exceptions.ConnectionError",
            "HTTPSConnectionPool(host='x.io', port=443): Max retries exceeded",
            "network",
        ),
        ("PermissionError", "[Errno 13] Permission denied: '/etc/x'", "permission"),
        ("openai.RateLimitError", "Error code: 429 - {'error': {'code': 'rate_limit_exceeded'}}", "rate_limit"),
        ("openai.BadRequestError", "This model's maximum context length is 128000 tokens.", "context_length"),
        (
            None,
            "<tool_use_error>File has not been read yet. Read it first before writing to it.</tool_use_error>",
            "tool",
        ),
        (None, "fatal: not a git repository (or any of the parent directories): .git", "other"),
    ],
)
def test_errors_are_classified(conn, error_type, message, category):
    assert one(conn, "select debugloop.error_classify(%s, %s)", error_type, message) == category


# -- signatures of failed attempts, mappings, confidence ----------------------------


def _fail(dl, request, parent=None, *, message="'user_id'", error_type="KeyError", approach=None, model="gpt-4o"):
    attempt_id = dl.attempts.start("fixer", request, model, parent_attempt_id=parent, approach_description=approach)
    dl.attempts.finish(attempt_id, "error", error_type=error_type, error_message=message)
    return attempt_id


def _succeed(dl, request, parent, approach):
    attempt_id = dl.attempts.start("fixer", request, "gpt-4o", parent_attempt_id=parent, approach_description=approach)
    dl.attempts.finish(attempt_id, "success")
    return attempt_id


def test_every_failed_attempt_is_linked_to_its_signature(dl, conn):
    first = _fail(dl, "load the profile")
    second = _fail(dl, "load the profile again")
    a, b = dl.attempts.get(first), dl.attempts.get(second)
    assert a.error_signature == b.error_signature == dl.errors.describe("KeyError: 'user_id'").signature
    row = dl.errors.get(a.error_signature[:10])
    assert (row.occurrences, row.category, row.error_type, row.normalized_message) == (
        2,
        "key_index",
        "KeyError",
        "'user_id'",
    )
    ok = dl.attempts.finish(dl.attempts.start("fixer", "x", "gpt-4o"), "success")
    assert ok.error_signature is None


def test_fail_fail_success_maps_each_error_to_the_fix_with_the_formula(dl, conn):
    first = _fail(dl, "save the order", message="'user_id'")
    second = _fail(
        dl, "save the order", first, error_type="TypeError", message="'NoneType' object is not subscriptable"
    )
    fix = _succeed(dl, "save the order", second, "check for a missing user before saving")
    rows = conn.execute(
        """select error_type, success_count, failure_count, confidence_score, wilson_lower_bound, successful_attempt_id,
                  successful_approach, failed_attempt_ids
             from debugloop.debug_error_success_mappings order by error_type"""
    ).fetchall()
    wilson_1_0 = one(conn, "select debugloop.error_wilson(1, 0)")
    assert rows == [
        ("KeyError", 1, 0, Decimal("1.00"), wilson_1_0, fix, "check for a missing user before saving", [first]),
        ("TypeError", 1, 0, Decimal("1.00"), wilson_1_0, fix, "check for a missing user before saving", [second]),
    ]
    assert wilson_1_0 == Decimal("0.2065")

    # the same error fixed the same way in another task: the count rises
    again = _fail(dl, "save the invoice")
    _succeed(dl, "save the invoice", again, "check for a missing user before saving")
    # a task where that approach is tried against the error and fails: a failure
    third = _fail(dl, "save the refund")
    _fail(dl, "save the refund", third, approach="check for a missing user before saving", message="'user_id'")
    success, failure, confidence, wilson = conn.execute(
        """select success_count, failure_count, confidence_score, wilson_lower_bound
             from debugloop.debug_error_success_mappings where error_type = 'KeyError'"""
    ).fetchone()
    assert (success, failure) == (2, 1)
    assert confidence == max(Decimal("0.10"), min(Decimal("1.00"), Decimal(2) / 3)).quantize(Decimal("0.01"))
    assert wilson == one(conn, "select debugloop.error_wilson(2, 1)")


def test_the_trigger_keeps_confidence_whatever_client_writes_the_row(dl, conn):
    fix = _succeed(dl, "parse the config", _fail(dl, "parse the config"), "use dict.get")
    conn.execute("update debugloop.debug_error_success_mappings set success_count = 0, failure_count = 9")
    assert conn.execute(
        "select confidence_score, wilson_lower_bound from debugloop.debug_error_success_mappings"
    ).fetchone() == (Decimal("0.10"), Decimal("0"))  # the floor of the seed's formula
    conn.execute("update debugloop.debug_error_success_mappings set success_count = 95, failure_count = 5")
    confidence, wilson = conn.execute(
        "select confidence_score, wilson_lower_bound from debugloop.debug_error_success_mappings"
    ).fetchone()
    assert confidence == Decimal("0.95") and Decimal("0.88") < wilson < Decimal("0.89")
    assert fix


def test_wilson_ranks_95_of_100_above_1_of_1(dl, conn):
    strong = _succeed(dl, "t1", _fail(dl, "t1"), "approach A")
    _succeed(dl, "t2", _fail(dl, "t2"), "approach B")
    conn.execute(
        "update debugloop.debug_error_success_mappings set success_count = 95, failure_count = 5"
        " where successful_attempt_id = %s",
        (strong,),
    )
    conn.commit()
    fixes = dl.errors.fixes("KeyError: 'user_id'")
    assert [f.successful_approach for f in fixes] == ["approach A", "approach B"]
    assert [f.match for f in fixes] == ["exact", "exact"] and fixes[0].rank == 1


def test_fixes_fall_back_to_similar_errors(dl):
    _succeed(
        dl,
        "t",
        _fail(
            dl, "t", error_type="FileNotFoundError", message="[Errno 2] No such file or directory: '/data/users.csv'"
        ),
        "create the data folder first",
    )
    exact = dl.errors.fixes(
        "[Errno 2] No such file or directory: '/srv/other/orders.csv'", error_type="FileNotFoundError"
    )
    assert [(f.match, f.successful_approach) for f in exact] == [("exact", "create the data folder first")]
    similar = dl.errors.fixes(
        "[Errno 2] No such file or directory (while opening the data file)", error_type="FileNotFoundError"
    )
    assert similar and similar[0].match == "similar" and 0.3 <= similar[0].similarity < 1
    assert dl.errors.fixes("ZeroDivisionError: division by zero") == []


def test_fixes_take_an_exception_object(dl):
    _succeed(dl, "t", _fail(dl, "t", message="'user_id'"), "use .get with a default")
    try:
        {}["user_id"]
    except KeyError as exc:
        fixes = dl.errors.fixes(exc)
    assert [f.successful_approach for f in fixes] == ["use .get with a default"]


def test_known_failures_are_approaches_that_never_succeeded(dl):
    request = "Migrate the users table to the new schema"
    for _ in range(2):
        _fail(
            dl,
            request,
            approach="drop and recreate the table",
            error_type="ForeignKeyViolation",
            message='update or delete on table "users" violates foreign key constraint "orders_user_id_fkey"',
        )
    _fail(dl, request, approach="alter the column in place", message="'user_id'")
    _succeed(dl, request, None, "alter the column in place")
    _fail(
        dl,
        "Migrate the users table to the new schema, carefully",
        approach="rename columns one by one",
        error_type="TimeoutError",
        message="canceling statement due to statement timeout",
    )
    found = dl.errors.known_failures(request)
    assert [(f.approach_description, f.failures, f.match) for f in found] == [
        ("drop and recreate the table", 2, "same request"),
        ("rename columns one by one", 1, "similar request"),
    ]
    assert found[0].errors[0]["error_type"] == "ForeignKeyViolation" and found[0].errors[0]["count"] == 2


def test_bad_arguments_are_reported(dl, conn):
    with pytest.raises(InvalidParameter) as info:
        dl.errors.fixes("boom", k=0)
    assert info.value.field == "k"
    with pytest.raises(NotFound):
        dl.errors.get("0123456789abcdef")
    with pytest.raises(InvalidParameter):
        dl.errors.get("xyz")


def test_cli_errors_top_show_and_fixes(dl, db):
    from helpers import run_cli

    fix = _succeed(dl, "t", _fail(dl, "t"), "use .get with a default")
    signature = dl.attempts.get(dl.attempts.get(fix).parent_attempt_id).error_signature
    env = {"DEBUGLOOP_DATABASE_URL": db.url, "COLUMNS": "200"}
    top = run_cli("errors", "top", env=env)
    assert top.returncode == 0 and signature[:12] in top.stdout and "key_index" in top.stdout
    shown = run_cli("errors", "show", signature[:10], env=env)
    assert shown.returncode == 0 and "use .get with a default" in shown.stdout
    fixes = run_cli("errors", "fixes", "KeyError: 'user_id'", env=env)
    assert fixes.returncode == 0 and "use .get with a default" in fixes.stdout and "exact" in fixes.stdout
    missing = run_cli("errors", "show", "deadbeef00", env=env)
    assert missing.returncode == 1 and "no error signature" in missing.stderr
