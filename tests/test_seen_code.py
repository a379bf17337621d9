"""Code seen before is not lexed again (issue 17): STF extraction keeps the line
count and the STF of every code it met (debug_stf_seen_code), and the Python
client splits the same source once per process; what is registered is the same
as without them."""

import json

from debugloop import units

ORDERS = '''\
def order_total(items, discount=0.0):
    """The total of an order's items after a discount."""
    total = 0
    for item in items:
        total += item["price"] * item["quantity"]
    return total * (1 - discount)


def get_name(self):
    return self.name


def test_order_total():
    assert order_total([]) == 0
'''

SLUG = (
    "export function slugify(text: string): string {\n  return text.toLowerCase()\n"
    "    .replace(/[^a-z0-9]+/g, '-');\n}\n"
)


def finish(conn, agent, artifacts):
    """An attempt by plain SQL that succeeds with these artefacts (no Python splitting)."""
    attempt_id = conn.execute("select debugloop.attempt_start(%s, 'sum an order', 'gpt-4o')", (agent,)).fetchone()[0]
    conn.execute("select debugloop.attempt_finish(%s, 'success', artifacts => %s)", (attempt_id, json.dumps(artifacts)))
    return attempt_id


def registry(conn):
    """The STFs with their counts and scores, and their producers, as comparable values."""
    stfs = conn.execute(
        """select stf_hash, stf_name, stf_language, success_count, evidence_score, reuse_score, generality_score,
                  documentation_score, size_score, complexity_score, quality_score
             from debugloop.debug_transform_functions order by stf_hash"""
    ).fetchall()
    producers = conn.execute(
        """select f.stf_hash, a.agent_name, p.contributor
             from debugloop.debug_stf_provenance p
             join debugloop.debug_transform_functions f using (stf_id)
             join debugloop.debug_execution_attempts a on a.attempt_id = p.attempt_id
            order by 1, 2, 3"""
    ).fetchall()
    return stfs, producers


def lexed(conn):
    """How many times this transaction ran the tokenizer (pg_stat_xact_user_functions)."""
    row = conn.execute(
        "select coalesce(sum(calls), 0) from pg_stat_xact_user_functions"
        " where schemaname = 'debugloop' and funcname = '_stf_lex'"
    ).fetchone()
    return row[0]


ARTIFACTS = {"files": {"shop/orders.py": ORDERS, "lib/slug.ts": SLUG}}


def test_code_seen_before_is_not_lexed_again_and_registers_the_same(db, conn):
    conn.execute("set track_functions = 'all'")
    finish(conn, "alice-agent", ARTIFACTS)
    first = lexed(conn)
    seen = conn.execute(
        "select language, lines, stf_id is not null from debugloop.debug_stf_seen_code order by 1"
    ).fetchall()
    assert seen == [("python", 9, True), ("typescript", 4, True)]
    finish(conn, "bob-agent", ARTIFACTS)
    second = lexed(conn) - first
    assert first > 0
    # known code is not lexed at all: not for its line count, its hash, its docstring or its scores
    assert second == 0 < first
    cached = registry(conn)
    conn.commit()

    # the same two attempts on a database that forgets what it saw after each
    with conn.cursor() as c:
        c.execute("delete from debugloop.debug_stf_provenance")
        c.execute("delete from debugloop.debug_stf_seen_code")
        c.execute("delete from debugloop.debug_stf_code_stats")
        c.execute("delete from debugloop.debug_transform_functions")
    for agent in ("alice-agent", "bob-agent"):
        finish(conn, agent, ARTIFACTS)
        conn.execute("delete from debugloop.debug_stf_seen_code")
        conn.execute("delete from debugloop.debug_stf_code_stats")
    assert registry(conn) == cached
    stfs, producers = cached
    assert {(s[1], s[3]) for s in stfs} == {("orders.py", 2), ("slug.ts", 2)}
    assert len(producers) == 4


def test_trivial_code_seen_before_is_still_skipped_with_its_reason(dl, conn):
    artifacts = {"files": {"shop/orders.py": ORDERS}}
    a = finish(conn, "alice-agent", artifacts)
    b = finish(conn, "bob-agent", artifacts)
    conn.commit()
    assert dl.stfs.extract(a) == dl.stfs.extract(b)
    units_of = {(r.name, r.action, r.detail) for r in dl.stfs.extract(b)}
    assert units_of == {("orders.py", "deduplicated", None)}


def test_python_splits_the_same_source_once_and_hands_out_copies(monkeypatch):
    calls = []
    real = units._split_python
    monkeypatch.setattr(units, "_split_python", lambda source, path: calls.append(path) or real(source, path))
    units._SPLIT_CACHE.clear()
    first = units.split_python(ORDERS, "shop/orders.py")
    first[0]["name"] = "changed by the caller"
    second = units.split_python(ORDERS, "shop/orders.py")
    assert calls == ["shop/orders.py"]
    assert [u["name"] for u in second] == ["order_total", "get_name", "test_order_total"]
    units.split_python(ORDERS, "other/orders.py")  # another path is another set of units
    assert calls == ["shop/orders.py", "other/orders.py"]
    assert units.split_python("def broken(:\n", None) is None
