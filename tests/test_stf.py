"""The STF registry: normalised hashing, registration and provenance, extraction
from successful attempts, quality scores, review, matching and recording reuse."""

import ast
import json
import uuid

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from debugloop.errors import AlreadyRecorded, InvalidParameter, NotFound, ReviewConflict, wrap_exceptions
from debugloop.units import split_artifacts, split_python
from helpers import run_cli


def one(conn, sql, *args):
    with wrap_exceptions():
        return conn.execute(sql, args).fetchone()[0]


def stf_hash(conn, code, language="python"):
    return one(conn, "select debugloop.stf_hash(%s, %s)", code, language)


def attempt(
    dl, *, status="success", request="sum the prices of an order", artifacts=None, agent="coder", category=None
):
    attempt_id = dl.attempts.start(agent, request, "gpt-4o", problem_category=category)
    return dl.attempts.finish(
        attempt_id,
        status,
        artifacts=artifacts,
        error_type=None if status == "success" else "ValueError",
        error_message=None if status == "success" else "bad value",
    )


ORDER_TOTAL = '''\
def order_total(items, discount=0.0):
    """The total of an order's items after a discount."""
    total = sum(item.price * item.quantity for item in items)
    if discount:
        total = total * (1 - discount)
    return round(total, 2)
'''


# -- hashing --------------------------------------------------------------------------


SAME = [
    # reformatting: indentation width, spaces around operators, blank lines, trailing whitespace
    ("def f(a, b):\n    return a + b\n", "def f(a,b):\n  return a+b   \n\n\n"),
    ("def f(a, b):\n    x = [a,\n         b]\n    return x\n", "def f(a, b):\n    x = [a, b]\n    return x\n"),
    ("def f(a, b):\n    return (a, b,)\n", "def f(a, b):\n    return (a, b)\n"),
    # comments and docstrings
    ("def f(a):\n    return a * 2\n", "def f(a):  # doubles\n    # the result\n    return a * 2\n"),
    ("def f(a):\n    return a * 2\n", 'def f(a):\n    """Double a."""\n    return a * 2\n'),
    ("def f(a):\n    return a * 2\n", "def f(a):\n    '''Double\n    a.\n    '''\n    return a * 2\n"),
    # quotes of the same string
    ("def f():\n    return 'x'\n", 'def f():\n    return "x"\n'),
    # other languages
    ("function f(a, b) {\n  return a + b;\n}\n", "function f(a,b){ return a+b; } // sum\n"),
    ("function f(a) { return 'x' + a; }", 'function f(a) { /* quote */ return "x" + a; }'),
    ("func f(a int) int {\n\treturn a * 2\n}\n", "func f(a int) int {\n    // double\n    return a*2\n}\n"),
]

DIFFERENT = [
    ("def f(a, b):\n    return a + b\n", "def f(a, b):\n    return a - b\n"),  # operator
    ("def f(a):\n    return a * 2\n", "def f(a):\n    return a * 3\n"),  # constant
    ("def f(a):\n    return g(a)\n", "def f(a):\n    return h(a)\n"),  # called function
    ("def f(a):\n    return 'x'\n", "def f(a):\n    return 'y'\n"),  # string
    (
        "def f(a):\n    if a:\n        return 1\n    return 2\n",
        "def f(a):\n    if a:\n        return 1\n        return 2\n",
    ),  # block
    ("def f(a):\n    return a < 2\n", "def f(a):\n    return a <= 2\n"),
    ("def f(a):\n    return a\n", "def f(a):\n    return a  # x\n    return a\n"),
    ("function f(a) { return a + 1; }", "function f(a) { return a + 2; }"),
    ("function f(a) { return `x${a}`; }", "function f(a) { return 'x${a}'; }"),  # template is not a string
]


@pytest.mark.parametrize(("a", "b"), SAME)
def test_hash_ignores_layout_comments_and_docstrings(conn, a, b):
    language = "go" if a.startswith("func ") else "javascript" if a.startswith("function") else "python"
    assert stf_hash(conn, a, language) == stf_hash(conn, b, language)


@pytest.mark.parametrize(("a", "b"), DIFFERENT)
def test_hash_changes_with_behaviour(conn, a, b):
    language = "javascript" if a.startswith("function") else "python"
    assert stf_hash(conn, a, language) != stf_hash(conn, b, language)


def test_hash_depends_on_the_language_family(conn):
    code = "x = 1\n"
    assert stf_hash(conn, code, "python") != stf_hash(conn, code, "go")
    assert stf_hash(conn, code, "javascript") == stf_hash(conn, code, "typescript")


# Generated functions: a random expression over the parameters, laid out in random ways.

NAMES = st.sampled_from(["a", "b", "count", "total", "items"])
OPERATORS = st.sampled_from(["+", "-", "*", "//", "%", "<", "==", "and", "or"])
CONSTANTS = st.integers(min_value=0, max_value=999)


@st.composite
def expressions(draw, depth=0):
    if depth > 2 or draw(st.booleans()):
        return draw(st.one_of(NAMES, CONSTANTS.map(str)))
    left, right = draw(expressions(depth + 1)), draw(expressions(depth + 1))
    return f"({left} {draw(OPERATORS)} {right})"


def layout(expression: str, indent: int, spaced: bool, comment: str | None, doc: str | None) -> str:
    pad = " " * indent
    body = expression if spaced else expression.replace(" ", "").replace("and", " and ").replace("or", " or ")
    lines = ["def generated(a, b, count, total, items):"]
    if doc is not None:
        lines.append(f'{pad}"""{doc}"""')
    if comment is not None:
        lines.append(f"{pad}# {comment}")
        lines.append("")
    lines.append(f"{pad}result = {body}" + (f"  # {comment}" if comment else ""))
    lines.append(f"{pad}return result   ")
    return "\n".join(lines) + "\n"


def without_docstring(source: str) -> str:
    tree = ast.parse(source)
    body = tree.body[0].body
    if isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        del body[0]
    return ast.dump(tree)


TEXT = st.text(alphabet="abcdefghij xyz.,", min_size=1, max_size=30)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    expression=expressions(),
    indent=st.sampled_from([2, 4, 8]),
    spaced=st.booleans(),
    comment=st.none() | TEXT,
    doc=st.none() | TEXT,
)
def test_hash_property_layout_never_matters(conn, expression, indent, spaced, comment, doc):
    plain = layout(expression, 4, True, None, None)
    variant = layout(expression, indent, spaced, comment, doc)
    assert without_docstring(variant) == ast.dump(ast.parse(plain))  # the variant is the same program
    assert stf_hash(conn, plain) == stf_hash(conn, variant)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(first=expressions(), second=expressions())
def test_hash_property_different_programs_differ(conn, first, second):
    a, b = layout(first, 4, True, None, None), layout(second, 4, True, None, None)
    same_program = ast.dump(ast.parse(a)) == ast.dump(ast.parse(b))
    assert (stf_hash(conn, a) == stf_hash(conn, b)) == same_program


# -- registration and provenance ------------------------------------------------------


def test_same_code_from_two_attempts_is_one_row_with_two_provenances(dl, conn):
    first = attempt(dl, agent="alice-agent")
    second = attempt(dl, agent="bob-agent")
    reformatted = ORDER_TOTAL.replace("    ", "  ").replace('"""The total', '"""Sum of the')
    id1 = dl.stfs.register("order_total", ORDER_TOTAL, source_attempt_id=first.attempt_id)
    id2 = dl.stfs.register("order_total", reformatted, source_attempt_id=second.attempt_id)
    assert id1 == id2
    assert one(conn, "select count(*) from debugloop.debug_transform_functions") == 1
    rows = conn.execute(
        "select attempt_id, contributor from debugloop.debug_stf_provenance where stf_id = %s order by contributor",
        (id1,),
    ).fetchall()
    assert rows == [(first.attempt_id, "alice-agent"), (second.attempt_id, "bob-agent")]
    stf = dl.stfs.get(id1)
    assert stf.success_count == 2  # both attempts succeeded with it
    assert stf.stf_code == ORDER_TOTAL  # the first registration keeps its code
    # registering again from the same attempt adds nothing
    assert dl.stfs.register("order_total", ORDER_TOTAL, source_attempt_id=first.attempt_id) == id1
    assert one(conn, "select count(*) from debugloop.debug_stf_provenance") == 2
    assert dl.stfs.get(id1).success_count == 2


def test_concurrent_registrations_of_one_code_make_one_row(dl, db):
    import threading

    ids, errors = [], []
    barrier = threading.Barrier(4)

    def register(i):
        try:
            with psycopg.connect(db.url, autocommit=True) as c:
                barrier.wait()
                ids.append(
                    one(
                        c,
                        "select debugloop.stf_register('order_total', %s, contributor => %s)",
                        ORDER_TOTAL,
                        f"agent-{i}",
                    )
                )
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=register, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(set(ids)) == 1
    with psycopg.connect(db.url) as c:
        assert one(c, "select count(*) from debugloop.debug_stf_provenance") == 4


@pytest.mark.parametrize(
    ("kwargs", "field", "error"),
    [
        ({"name": " ", "code": ORDER_TOTAL}, "name", InvalidParameter),
        ({"name": "f", "code": ""}, "code", InvalidParameter),
        ({"name": "f", "code": ORDER_TOTAL, "language": "Python 3!"}, "language", InvalidParameter),
        ({"name": "f", "code": ORDER_TOTAL, "source_attempt_id": uuid.uuid4()}, "source_attempt_id", NotFound),
    ],
)
def test_register_refuses_bad_input_and_changes_nothing(dl, conn, kwargs, field, error):
    with pytest.raises(error) as info:
        dl.stfs.register(**kwargs)
    assert info.value.field == field
    assert one(conn, "select count(*) from debugloop.debug_transform_functions") == 0


def test_docstring_and_search_text_are_derived_in_sql(dl):
    stf = dl.stfs.get(dl.stfs.register("order_total", ORDER_TOTAL, language="Python"))
    assert stf.stf_language == "python"
    assert stf.docstring == "The total of an order's items after a discount."
    assert stf.normalized_code.startswith("def order_total ( items , discount = 0.0 ) :")
    assert "doc" not in stf.normalized_code


# -- splitting (Python) ----------------------------------------------------------------


def test_split_python_keeps_functions_and_methods_with_their_parameters():
    source = '''
import os

@cache
def load(path: str, *, encoding: str = "utf-8", **options) -> str:
    """Read a file."""
    def inner():
        return 1
    return open(path, encoding=encoding).read()

class Cart:
    def add(self, item, quantity: int = 1, *rest):
        self.items.append((item, quantity))
        return self
'''
    units = split_python(source, "app/io.py")
    assert [u["name"] for u in units] == ["load", "Cart.add"]
    load, add = units
    assert load["code"].startswith("@cache\ndef load(")
    assert "def inner" in load["code"]  # nested functions stay in their function
    assert load["parameters"] == [
        {"name": "path", "kind": "positional", "annotation": "str", "default": None},
        {"name": "encoding", "kind": "keyword", "annotation": "str", "default": "'utf-8'"},
        {"name": "options", "kind": "var_keyword", "annotation": None, "default": None},
    ]
    assert load["docstring"] == "Read a file."
    assert add["code"].startswith("def add(self")
    assert [p["name"] for p in add["parameters"]] == ["item", "quantity", "rest"]
    assert add["parameters"][1]["default"] == "1"
    assert split_python("def broken(:\n") is None


def test_split_artifacts_reads_files_snippets_and_diffs():
    diff = (
        "--- a/app/money.py\n+++ b/app/money.py\n@@ -1,2 +1,6 @@\n import decimal\n"
        "+def cents(amount):\n+    value = decimal.Decimal(amount)\n+    return int(value * 100)\n"
    )
    units = split_artifacts(
        {
            "files": {"app/cart.py": ORDER_TOTAL, "web/sum.js": "function sum(a) {\n  return a;\n}\n"},
            "snippets": [{"code": "func F() int {\n\treturn 1\n}\n", "language": "go"}],
            "diff": diff,
        }
    )
    names = {(u["name"], u.get("language")) for u in units}
    assert names == {("order_total", "python"), ("sum.js", None), ("snippet 1", "go"), ("cents", "python")}


# -- extraction from successful attempts ----------------------------------------------


def test_a_successful_attempt_registers_its_functions(dl, conn):
    source = (
        ORDER_TOTAL
        + """

def get_name(self):
    return self.name


def test_order_total():
    assert order_total([]) == 0
"""
    )
    a = attempt(dl, artifacts={"files": {"shop/orders.py": source}}, category="logic")
    rows = conn.execute(
        "select stf_name, stf_parameters, problem_category, contributor_agent_name"
        " from debugloop.debug_transform_functions"
    ).fetchall()
    assert [r[0] for r in rows] == ["order_total"]
    name, parameters, category, contributor = rows[0]
    assert parameters == [
        {"name": "items", "kind": "positional", "annotation": None, "default": None},
        {"name": "discount", "kind": "positional", "annotation": None, "default": "0.0"},
    ]
    assert (category, contributor) == ("logic", "coder")
    outcome = {(r.name, r.action, r.detail) for r in dl.stfs.extract(a.attempt_id)}
    assert outcome == {
        ("order_total", "deduplicated", None),
        ("get_name", "skipped", "fewer than 3 lines of code"),
        ("test_order_total", "skipped", "a test"),
    }
    other = attempt(dl, artifacts={"files": {"shop/tax.py": ORDER_TOTAL.replace("order_total", "gross_total")}})
    assert [s.stf_name for s in dl.stfs.list(attempt_id=a.attempt_id)] == ["order_total"]
    assert [s.stf_name for s in dl.stfs.list(attempt_id=other.attempt_id)] == ["gross_total"]
    assert len(dl.stfs.list()) == 2


def test_sql_only_extraction_registers_files_snippets_and_diff_additions(conn):
    """A psql user's attempt: artefacts without units, written by plain SQL."""
    artifacts = {
        "files": {
            "lib/slug.ts": "export function slugify(text: string): string {\n  return text.toLowerCase()\n"
            "    .replace(/[^a-z0-9]+/g, '-');\n}\n",
            "gen/api_pb2.py": "# Generated by the protocol buffer compiler.  DO NOT EDIT!\nx = 1\ny = 2\nz = 3\n",
            "tests/test_slug.py": "def test_slug():\n    assert 1\n    assert 2\n",
            "README.md": "# not code\n",
        },
        "snippets": [
            {
                "name": "retry",
                "language": "python",
                "code": "def retry(fn, times=3):\n    for i in range(times):\n        try:\n"
                "            return fn()\n        except OSError:\n            pass\n",
            }
        ],
        "diff": "--- a/cmd/main.go\n+++ b/cmd/main.go\n@@ -1 +1,4 @@\n package main\n+func double(x int) int {\n"
        "+\treturn x * 2\n+}\n",
    }
    attempt_id = one(conn, "select debugloop.attempt_start('sql-agent', 'make slugs', 'gpt-4o')")
    conn.execute("select debugloop.attempt_finish(%s, 'success', artifacts => %s)", (attempt_id, json.dumps(artifacts)))
    rows = conn.execute("select stf_name, stf_language from debugloop.debug_transform_functions order by 1").fetchall()
    assert rows == [("main.go (diff)", "go"), ("retry", "python"), ("slug.ts", "typescript")]


def test_extraction_follows_the_flag_and_the_status(dl, conn):
    files = {"files": {"shop/orders.py": ORDER_TOTAL}}
    attempt(dl, status="error", artifacts=files)
    assert one(conn, "select count(*) from debugloop.debug_transform_functions") == 0
    with dl.connection() as c:
        c.execute("set local debugloop.enable_stf_extraction = off")
        attempt_id = dl.attempts.start("coder", "sum", "gpt-4o", conn=c)
        dl.attempts.finish(attempt_id, "success", artifacts=files, conn=c)
    assert one(conn, "select count(*) from debugloop.debug_transform_functions") == 0
    attempt(dl, artifacts=files)
    assert one(conn, "select count(*) from debugloop.debug_transform_functions") == 1


def test_extract_of_an_unknown_attempt_is_not_found(dl):
    with pytest.raises(NotFound) as info:
        dl.stfs.extract(uuid.uuid4())
    assert info.value.field == "attempt_id"


# -- quality, usage, review --------------------------------------------------------------


def scores(dl, stf_id):
    s = dl.stfs.get(stf_id)
    return {
        k: float(getattr(s, k))
        for k in (
            "evidence_score",
            "reuse_score",
            "generality_score",
            "documentation_score",
            "size_score",
            "quality_score",
            "complexity_score",
        )
    }


def test_quality_dimensions_follow_the_documented_rules(dl):
    good = scores(dl, dl.stfs.register("order_total", ORDER_TOTAL, description="sum an order"))
    assert good["documentation_score"] == 1.0  # docstring, a descriptive name, a description
    assert good["size_score"] == 1.0  # 6 lines
    assert good["generality_score"] == 1.0  # parameters, no literal paths or secrets
    assert good["evidence_score"] == 0.0 and good["reuse_score"] == 0.0
    assert good["complexity_score"] == round(2 / 15, 2)  # for, if
    assert good["quality_score"] == round(0.20 + 0.15 + 0.15, 2)

    hard_coded = """def f():
    key = "sk-live-0123456789abcdef"
    with open("/etc/app/config.json") as fh:
        return post("https://api.example.com/v1", fh.read(), key, 4242)
"""
    poor = scores(dl, dl.stfs.register("f", hard_coded))
    # no parameters (-0.3), a path and a URL (-0.25 each), a credential (-0.5), a magic number (-0.05)
    assert poor["generality_score"] == 0.0
    assert poor["documentation_score"] == 0.0
    assert poor["quality_score"] < good["quality_score"]


def test_scores_update_when_usage_changes(dl):
    stf_id = dl.stfs.register("order_total", ORDER_TOTAL)
    before = scores(dl, stf_id)
    uses = [attempt(dl, request=f"task {i}") for i in range(6)]
    for i, a in enumerate(uses):
        stf = dl.stfs.record_use(stf_id, a.attempt_id, success=i != 0)
    assert (stf.usage_count, stf.success_count, stf.failure_count) == (6, 5, 1)
    after = scores(dl, stf_id)
    assert after["evidence_score"] > before["evidence_score"]
    assert after["reuse_score"] == round(__import__("math").log(7) / __import__("math").log(11), 2)
    assert after["quality_score"] > before["quality_score"]
    with pytest.raises(AlreadyRecorded):
        dl.stfs.record_use(stf_id, uses[0].attempt_id, success=True)
    assert dl.stfs.get(stf_id).usage_count == 6
    with pytest.raises(NotFound) as info:
        dl.stfs.record_use(stf_id, uuid.uuid4(), success=True)
    assert info.value.field == "attempt_id"


def test_review_workflow_and_its_audit(dl, conn, as_role):
    stf_id = dl.stfs.register("order_total", ORDER_TOTAL)
    dba = as_role("dba", "debugloop_admin")  # who reviews is the role
    assert dl.stfs.get(stf_id).approval_status == "pending"
    assert dba.stfs.review(stf_id, "approve", "dba").approval_status == "approved"
    with pytest.raises(ReviewConflict):
        dba.stfs.review(stf_id, "approve", "dba")
    rejected = dba.stfs.review(stf_id, "reject", "dba", "leaks a path")
    assert (rejected.approval_status, rejected.approved_by) == ("rejected", "dba")
    with pytest.raises(ReviewConflict) as info:
        dba.stfs.review(stf_id, "approve", "dba")
    assert "stf_reopen" in info.value.hint
    assert dba.stfs.review(stf_id, "reopen", "dba").approval_status == "pending"
    audit = conn.execute(
        "select decision, reviewed_by, notes from debugloop.debug_stf_reviews order by reviewed_at, review_id"
    ).fetchall()
    assert [a[0] for a in audit] == ["approved", "rejected", "pending"]
    assert audit[1][2] == "leaks a path"
    with pytest.raises(InvalidParameter):
        dba.stfs.review(stf_id, "maybe", "dba")


def test_review_needs_the_admin_role(db):
    with psycopg.connect(db.url, autocommit=True) as c:
        stf_id = one(c, "select debugloop.stf_register('order_total', %s)", ORDER_TOTAL)
        c.execute("set role debugloop_agent")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            c.execute("select debugloop.stf_approve(%s, 'me')", (stf_id,))


# -- matching -------------------------------------------------------------------------


CODES = {
    "parse_iso_date": (
        'def parse_iso_date(text):\n    """Parse an ISO 8601 date string into a date."""\n'
        "    year, month, day = text.split('-')\n    return date(int(year), int(month), int(day))\n"
    ),
    "retry_with_backoff": (
        'def retry_with_backoff(fn, attempts=5, base=0.5):\n    """Call fn again after failures, '
        'waiting exponentially longer."""\n    for n in range(attempts):\n        try:\n'
        "            return fn()\n        except ConnectionError:\n            time.sleep(base * 2 ** n)\n"
        "    return fn()\n"
    ),
    "slugify": (
        'def slugify(title):\n    """Make a URL slug from a title."""\n'
        "    words = re.findall('[a-z0-9]+', title.lower())\n    return '-'.join(words)\n"
    ),
}


def test_match_finds_the_function_for_a_differently_worded_problem(dl):
    ids = {name: dl.stfs.register(name, code, description=None) for name, code in CODES.items()}
    for stf_id in ids.values():
        dl.stfs.review(stf_id, "approve", "dba")
    best = dl.stfs.match("the HTTP call fails intermittently, try it again with exponential waiting", k=3)
    assert best[0].stf_id == ids["retry_with_backoff"]
    assert best[0].similarity > best[-1].similarity or best[0].text_rank > best[-1].text_rank
    assert [m.score for m in best] == sorted([m.score for m in best], reverse=True)
    assert dl.stfs.match("turn an article title into a url slug", k=1)[0].stf_id == ids["slugify"]


def test_match_recommends_approved_or_good_enough_pending_only(dl, conn):
    stf_id = dl.stfs.register("slugify", CODES["slugify"])
    quality = float(dl.stfs.get(stf_id).quality_score)
    conn.execute(
        "update debugloop.settings set value = to_jsonb(%s::numeric) where key = 'stf_recommend_min_quality'",
        (quality + 0.01,),
    )
    conn.commit()
    assert dl.stfs.match("url slug from a title") == []
    dl.stfs.review(stf_id, "approve", "dba")
    assert [m.stf_id for m in dl.stfs.match("url slug from a title")] == [stf_id]
    dl.stfs.review(stf_id, "reject", "dba")
    assert dl.stfs.match("url slug from a title") == []


@pytest.mark.parametrize("exact_below", [2000, 0], ids=["exact", "hnsw"])
def test_filtered_match_returns_k_rows_whenever_k_rows_match(dl, conn, exact_below):
    """Many Python STFs and a handful of Go ones: a search filtered to Go must still
    return all of them, whether it compares them exactly (few match) or goes through
    the HNSW index (forced by stf_exact_search_below = 0), whose bounded iterative
    scan stops early and falls back to the exact search."""
    rows = [
        (f"py_{i}", f"def py_{i}(a):\n    '''Python helper {i}.'''\n    x = a + {i}\n    return x * {i}\n", "python")
        for i in range(300)
    ]
    rows += [(f"go_{i}", f"func Go{i}(a int) int {{\n\tx := a + {i}\n\treturn x * {i}\n}}\n", "go") for i in range(7)]
    conn.cursor().executemany("select debugloop.stf_register(%s, %s, %s)", rows)
    conn.execute("update debugloop.settings set value = '0'::jsonb where key = 'stf_recommend_min_quality'")
    conn.execute(
        "update debugloop.settings set value = to_jsonb(%s) where key = 'stf_exact_search_below'", (exact_below,)
    )
    conn.execute("update debugloop.settings set value = '100'::jsonb where key = 'stf_max_scan_tuples'")
    conn.commit()
    assert dl.stfs.match("python helper 17", k=1)[0].stf_name == "py_17"
    go = dl.stfs.match("python helper", k=5, language="go")
    assert len(go) == 5 and {m.stf_language for m in go} == {"go"}
    assert len(dl.stfs.match("python helper", k=10, language="go")) == 7
    assert dl.stfs.match("python helper", k=5, language="rust") == []


class FakeEmbedder:
    """Stands in for the neural model (an external model): fixed vectors per text."""

    def __init__(self, model, vectors):
        self.model, self.vectors = model, vectors

    def embed(self, texts):
        return [self.vectors.get(t, axis(0)) for t in texts]


def axis(i):
    v = [0.0] * 384
    v[i] = 1.0
    return v


def test_match_refuses_bad_input(dl, conn):
    with pytest.raises(InvalidParameter) as info:
        dl.stfs.match(" ")
    assert info.value.field == "problem"
    with pytest.raises(InvalidParameter) as info:
        dl.stfs.match("x", k=0)
    assert info.value.field == "k"
    with pytest.raises(InvalidParameter) as info:
        dl.stfs.match("x", embedder=FakeEmbedder("", {}))
    assert info.value.field == "embedding_model"
    with pytest.raises(InvalidParameter) as info:
        one(conn, "select count(*) from debugloop.stf_match('x', query_embedding => '[1,0,0]', embedding_model => 'm')")
    assert info.value.field == "query_embedding"


def test_a_query_uses_the_embeddings_of_its_own_model(dl):
    ids = [dl.stfs.register(name, code) for name, code in CODES.items()]
    for stf_id in ids:
        dl.stfs.review(stf_id, "approve", "dba")
    dl.stfs.set_neural_embedding(ids[2], axis(7), "model-a")
    dl.stfs.set_neural_embedding(ids[1], axis(8), "model-a")
    dl.stfs.set_neural_embedding(ids[0], axis(7), "model-b")
    best = dl.stfs.match("anything", k=3, embedder=FakeEmbedder("model-a", {"anything": axis(7)}))
    assert [m.stf_id for m in best] == [ids[2], ids[1]]  # model-b's embedding never takes part
    assert best[0].similarity == pytest.approx(1.0) and best[1].similarity == pytest.approx(0.0)
    with pytest.raises(InvalidParameter) as info:
        dl.stfs.set_neural_embedding(ids[0], [0.1] * 10, "model-a")
    assert info.value.field == "embedding"


def test_embed_neural_fills_what_is_missing_and_resumes(dl):
    ids = [dl.stfs.register(name, code) for name, code in CODES.items()]
    texts = {}

    class Recording(FakeEmbedder):
        def embed(self, batch):
            texts.update(dict.fromkeys(batch))
            return [axis(len(texts)) for _ in batch]

    seen = []
    embedder = Recording("model-a", {})
    assert dl.stfs.embed_neural(embedder, batch_size=2, progress=lambda done, total: seen.append((done, total))) == 3
    assert seen == [(2, 3), (3, 3)]
    assert {dl.stfs.get(i).embedding_model for i in ids} == {"model-a"}
    assert dl.stfs.embed_neural(embedder) == 0  # nothing left for this model
    assert dl.stfs.embed_neural(Recording("model-b", {})) == 3
    assert any("retry with backoff" in t for t in texts)  # the search text is what is embedded


# -- the browser ------------------------------------------------------------------------


def test_cli_search_list_show_approve_export(dl, db, tmp_path):
    stf_id = dl.stfs.register("slugify", CODES["slugify"], description="url slugs")
    env = {"DEBUGLOOP_DATABASE_URL": db.url, "COLUMNS": "200"}
    listed = run_cli("stf", "list", env=env)
    assert listed.returncode == 0, listed.stderr
    assert "slugify" in listed.stdout and "pending" in listed.stdout
    approved = run_cli("stf", "approve", str(stf_id), "--by", "dba", env=env)
    assert approved.returncode == 0, approved.stderr
    assert dl.stfs.get(stf_id).approval_status == "approved"
    again = run_cli("stf", "approve", str(stf_id), "--by", "dba", env=env)
    assert again.returncode == 1 and "cannot become approved" in again.stderr
    found = run_cli("stf", "search", "make a slug for a url", env=env)
    assert found.returncode == 0, found.stderr
    assert "slugify" in found.stdout
    shown = run_cli("stf", "show", str(stf_id)[:8], env=env)
    assert shown.returncode == 0, shown.stderr
    assert "re.findall" in shown.stdout and "approved" in shown.stdout
    exported = run_cli("stf", "export", "--format", "json", env=env)
    assert exported.returncode == 0, exported.stderr
    rows = json.loads(exported.stdout)
    assert [r["stf_name"] for r in rows] == ["slugify"] and rows[0]["stf_code"] == CODES["slugify"]
    out = tmp_path / "stfs.csv"
    as_csv = run_cli("stf", "export", "--format", "csv", "--output", str(out), env=env)
    assert as_csv.returncode == 0, as_csv.stderr
    import csv

    with out.open(newline="") as fh:
        records = list(csv.DictReader(fh))
    assert records[0]["stf_code"] == CODES["slugify"] and records[0]["approval_status"] == "approved"
    missing = run_cli("stf", "show", str(uuid.uuid4()), env=env)
    assert missing.returncode == 1 and "does not exist" in missing.stderr
    bad = run_cli("stf", "export", "--format", "xml", env=env)
    assert bad.returncode != 0 and "format" in bad.stderr
