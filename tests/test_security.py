"""Security and trust against a real PostgreSQL: no operator or function that an
agent plants in public or pg_temp runs with the rights of the SECURITY DEFINER
functions' owner, of an admin or of a superuser; what an agent says of itself
never approves its own golden state; who reviewed is the database role, never a
name passed in; concurrent successes of one request and approach make one golden
state, approved once."""

from __future__ import annotations

import json
import threading
import uuid

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import make_conninfo

from debugloop.errors import InvalidParameter, ReviewConflict
from debugloop.migrate import migrate
from helpers import CODE, FIX, REQUEST, login_role

USAGE = {"prompt_tokens": 2_000, "completion_tokens": 300}
HIJACKER = "hijacker"

# -- hijacks from public and pg_temp ------------------------------------------------------

# What a hijack does when it runs: note who it ran as, and try to make the hijacker a
# superuser. Made by the superuser, SECURITY INVOKER: it has the rights of whoever ran
# the hijack that called it.
RECORDER = """
create table public.hijack_log (what text, ran_as name, session_role name, ran_as_superuser boolean,
                                escalated boolean);
grant insert, select on public.hijack_log to public;
create function public.hijack_record(what text) returns boolean
language plpgsql set search_path = pg_catalog, pg_temp as $$
declare
    escalated boolean := false;
begin
    begin
        execute 'alter role hijacker superuser';
        escalated := true;
    exception when others then
        null;
    end;
    insert into public.hijack_log
    values (what, current_user, session_user, (select r.rolsuper from pg_roles r where r.rolname = current_user),
            escalated);
    return true;
end
$$;
grant execute on function public.hijack_record(text) to public;
"""

# Operators and functions an agent defines in public (where it was granted CREATE, as
# on PostgreSQL before 15): each matches argument types exactly where PostgreSQL's own
# needs a coercion or is polymorphic or variadic, or has the very signature of a
# built-in (which wins only where public comes before pg_catalog), and returns what
# the real one would.
OPERATORS = [  # (name, left, right, result)
    ("||", "bigint", "text", "a::text || b"),
    ("||", "text", "bigint", "a || b::text"),
    ("||", "integer", "text", "a::text || b"),
    ("||", "text", "integer", "a || b::text"),
    ("||", "text", "uuid", "a || b::text"),
    ("||", "uuid", "text", "a::text || b"),
    ("||", "text", "numeric", "a || b::text"),
    ("||", "numeric", "text", "a::text || b"),
    ("||", "text", "text", "a operator(pg_catalog.||) b"),
    ("=", "text", "text", "a operator(pg_catalog.=) b"),
]
FUNCTIONS = [  # (name, argument types, result expression over $1, $2, ...)
    ("lower", ["varchar"], "pg_catalog.lower($1::text)"),
    ("upper", ["varchar"], "pg_catalog.upper($1::text)"),
    ("btrim", ["varchar"], "pg_catalog.btrim($1::text)"),
    ("btrim", ["text"], "pg_catalog.btrim($1)"),
    ("now", [], "pg_catalog.now()"),
    ("gen_random_uuid", [], "pg_catalog.gen_random_uuid()"),
    ("format", ["text", "text"], "pg_catalog.format($1, $2)"),
    ("format", ["text", "uuid"], "pg_catalog.format($1, $2)"),
    ("format", ["text", "integer"], "pg_catalog.format($1, $2)"),
    ("format", ["text", "bigint"], "pg_catalog.format($1, $2)"),
    ("format", ["text", "numeric"], "pg_catalog.format($1, $2)"),
    ("format", ["text", "text", "text"], "pg_catalog.format($1, $2, $3)"),
    ("coalesce", ["text", "text"], "pg_catalog.textcat($1, $2)"),
    ("nullif", ["text", "text"], "$1"),
    ("to_jsonb", ["text"], "pg_catalog.to_jsonb($1)"),
    ("jsonb_build_object", ["text", "text"], "pg_catalog.jsonb_build_object($1, $2)"),
    ("jsonb_build_object", ["text", "numeric"], "pg_catalog.jsonb_build_object($1, $2)"),
    ("md5", ["varchar"], "pg_catalog.md5($1::text)"),
    ("left", ["varchar", "integer"], "pg_catalog.left($1::text, $2)"),
    ("regexp_replace", ["varchar", "text", "text", "text"], "pg_catalog.regexp_replace($1::text, $2, $3, $4)"),
]
RESULT_TYPES = {"lower": "text", "upper": "text", "btrim": "text", "now": "timestamptz", "gen_random_uuid": "uuid",
                "format": "text", "coalesce": "text", "nullif": "text", "to_jsonb": "jsonb",
                "jsonb_build_object": "jsonb", "md5": "text", "left": "text", "regexp_replace": "text"}  # fmt: skip
# In the hijacker's own temporary schema: functions (never found by an unqualified
# call) and views named like the relations functions read.
TEMP_FUNCTIONS = [("lower", ["varchar"]), ("format", ["text", "text"]), ("now", [])]
TEMP_VIEWS = ["pg_roles", "pg_extension", "pg_settings", "settings", "debug_execution_attempts", "debug_golden_states"]


def _plant(conn: psycopg.Connection) -> None:
    """The hijacks, made by the hijacker: in public and in its pg_temp."""
    for i, (op, left, right, body) in enumerate(OPERATORS):
        name = sql.Identifier(f"hijack_op_{i}")
        conn.execute(
            sql.SQL(
                "create function public.{name}(a {left}, b {right}) returns {result} language plpgsql"
                " set search_path = pg_catalog, pg_temp"
                " as $$ begin perform public.hijack_record({what}); return {body}; end $$"
            ).format(
                name=name,
                left=sql.SQL(left),
                right=sql.SQL(right),
                result=sql.SQL("boolean" if op == "=" else "text"),
                what=sql.Literal(f"operator public.{op}({left}, {right})"),
                body=sql.SQL(body),
            )
        )
        conn.execute(
            sql.SQL(
                "create operator public.{op} (leftarg = {left}, rightarg = {right}, function = public.{name})"
            ).format(op=sql.SQL(op), left=sql.SQL(left), right=sql.SQL(right), name=name)
        )
    for schema, functions in (("public", FUNCTIONS), ("pg_temp", [(n, a, None) for n, a in TEMP_FUNCTIONS])):
        for name, args, body in functions:
            result = RESULT_TYPES[name]
            what = f"function {schema}.{name}({', '.join(args)})"
            conn.execute(
                sql.SQL(
                    "create function {schema}.{name}({args}) returns {result} language plpgsql"
                    " set search_path = pg_catalog, pg_temp"
                    " as $$ begin perform public.hijack_record({what}); return {body}; end $$"
                ).format(
                    schema=sql.Identifier(schema),
                    name=sql.Identifier(name),
                    args=sql.SQL(", ").join(sql.SQL(a) for a in args),
                    result=sql.SQL(result),
                    what=sql.Literal(what),
                    body=sql.SQL(body or f"null::{result}"),
                )
            )
    for view in TEMP_VIEWS:
        conn.execute(
            sql.SQL("create temporary view {view} as select 1 as x where public.hijack_record({what})").format(
                view=sql.Identifier(view), what=sql.Literal(f"view pg_temp.{view}")
            )
        )


def _vector(dims: int) -> str:
    """A vector literal, left to the function's argument type to read."""
    return "'[" + ",".join(["0.5"] * dims) + "]'"


def _agent_calls(conn: psycopg.Connection) -> dict:
    """Every SECURITY DEFINER function an agent may call, called by the hijacker on its
    connection (search path: public and its pg_temp first). Returns what they made."""
    one = lambda query, *args: conn.execute(query, args).fetchone()[0]  # noqa: E731
    failed = one("select debugloop.attempt_start('hijacker', %s, 'gpt-4o', approach_description => 'split on commas')",
                 REQUEST)  # fmt: skip
    one(
        "select status from debugloop.attempt_finish(%s, 'error', %s::jsonb, 'KeyError', 'amount missing in row 12')",
        failed,
        json.dumps(USAGE),
    )
    fixed = one(
        "select debugloop.attempt_start('hijacker', %s, 'gpt-4o-mini', parent_attempt_id => %s,"
        " approach_description => %s)",
        REQUEST,
        failed,
        FIX,
    )
    one(
        "select status from debugloop.attempt_finish(%s, 'success', %s::jsonb, quality_score => 0.95,"
        " artifacts => %s::jsonb)",
        fixed,
        json.dumps(USAGE),
        json.dumps({"files": {"billing/invoice.py": CODE}, "summary": "a fix"}),
    )
    stf = one("select debugloop.stf_register('invoice_total_v2', %s || '# v2', contributor => 'hijacker')", CODE)
    conn.execute("select * from debugloop.stf_extract(%s)", (fixed,))
    one("select usage_count from debugloop.stf_record_use(%s, %s, true)", stf, fixed)
    conn.execute(f"select debugloop.stf_set_embedding(%s, {_vector(384)}, 'hijack-model')", (stf,))
    golden = one("select debugloop.golden_nominate(%s, 'hijacker', quality_score => 0.9)", fixed)
    reuser = one("select debugloop.attempt_start('hijacker', 'reuse it', 'gpt-4o')")
    one("select cost_status from debugloop.attempt_record_usage(%s, %s::jsonb)", reuser, json.dumps(USAGE))
    one("select reuse_count from debugloop.golden_record_reuse(%s, %s, true)", golden, reuser)
    session = {"key": "s1", "correlation_id": str(uuid.uuid4()), "title": "hijack session"}
    unit = {"key": "u1", "session": "s1", "request": "list the files", "model": "gpt-4o", "status": "success",
            "started_at": "2025-01-01T00:00:00Z", "completed_at": "2025-01-01T00:00:05Z", "usage": USAGE}  # fmt: skip
    one(
        "select inserted from debugloop.import_units('claude-code', %s, %s::jsonb, %s::jsonb)",
        uuid.uuid4(),
        json.dumps([session]),
        json.dumps([unit]),
    )
    one(
        "select debugloop.agent_session_record('claude-code', %s, 'hook', 'UserPromptSubmit', prompt => %s)",
        f"hijack-{uuid.uuid4()}",
        REQUEST,
    )
    return {"stf": stf, "golden": golden}


def _admin_calls(conn: psycopg.Connection, made: dict, model: str) -> None:
    """Every SECURITY DEFINER function only an admin may call (and the settings audit
    trigger's, through settings_set)."""
    conn.execute("select debugloop.settings_set('enable_token_rewards', 'true')")  # the reward triggers do their work
    conn.execute("select * from debugloop.price_set('hijackers', %s, 1.5, 6)", (model,))
    doc = {model + "-mini": {"litellm_provider": "hijackers", "mode": "chat", "input_cost_per_token": 1e-07,
                             "output_cost_per_token": 4e-07}}  # fmt: skip
    conn.execute("select * from debugloop.price_import(%s::jsonb, 'hijack test')", (json.dumps(doc),))
    conn.execute("select * from debugloop.price_reprice(now() - interval '1 day', true)")
    for subject, key in (("stf", made["stf"]), ("golden", made["golden"])):
        status = conn.execute(f"select approval_status from debugloop.{subject}_get(%s::text)", (key,)).fetchone()[0]
        if status == "approved":
            conn.execute(f"select debugloop.{subject}_reject(%s, 'the operator', 'again')", (key,))
        elif status == "pending":
            conn.execute(f"select debugloop.{subject}_approve(%s, 'the operator', 'ok')", (key,))
        conn.execute(f"select debugloop.{subject}_reopen(%s, 'the operator')", (key,))
        conn.execute(f"select debugloop.{subject}_approve(%s, 'the operator', 'ok')", (key,))
        conn.execute(f"select debugloop.{subject}_reject(%s, 'the operator')", (key,))
        conn.execute(f"select debugloop.{subject}_reopen(%s, 'the operator')", (key,))
    conn.execute("select debugloop.stf_reembed()")
    conn.execute("select * from debugloop.analytics_refresh()")
    _ledger_calls(conn, model)
    conn.execute("select * from debugloop.reward_backfill()")
    conn.execute("select debugloop.learn_queued(), debugloop.learn_pending(100)")
    conn.execute("select debugloop.settings_set('enable_token_rewards', 'false')")
    conn.execute("select debugloop.settings_set('golden_min_quality', '0.81')")
    conn.execute("select debugloop.settings_set('golden_min_quality', '0.8')")


def _ledger_calls(conn: psycopg.Connection, tag: str) -> None:
    """Every SECURITY DEFINER function of peers and the ledger, as an admin runs them."""
    a, b = f"peer_{tag}_a", f"peer_{tag}_b"
    role = HIJACKER  # a login role, bound to a peer and unbound again
    conn.execute("select debugloop.peer_create(%s, display_name => 'A', agent_names => array[%s])", (a, f"agent-{tag}"))
    conn.execute("select debugloop.peer_create(%s)", (b,))
    conn.execute("select debugloop.peer_map_agent(%s, %s)", (f"agent-{tag}-2", a))
    conn.execute("select * from debugloop.peer_adopt_agents()")
    conn.execute("select debugloop.peer_bind_role(%s, %s)", (a, role))
    conn.execute("select debugloop.peer_unbind_role(%s)", (role,))
    conn.execute("select debugloop.ledger_grant(%s, %s, 50, 'a grant')", (uuid.uuid4(), a))
    conn.execute("select debugloop.ledger_adjust(%s, %s, 5, 'a correction')", (uuid.uuid4(), a))
    conn.execute("select debugloop.ledger_transfer(%s, %s, %s, 3)", (uuid.uuid4(), a, b))
    batch = [{"transfer_id": str(uuid.uuid4()), "from_peer_id": a, "to_peer_id": b, "amount": 1}]
    conn.execute("select * from debugloop.ledger_transfers(%s::jsonb)", (json.dumps(batch),))
    settled, released = uuid.uuid4(), uuid.uuid4()
    conn.execute("select debugloop.ledger_hold(%s, %s, 4)", (settled, a))
    conn.execute("select debugloop.ledger_settle(%s, 2)", (settled,))
    conn.execute("select debugloop.ledger_hold(%s, %s, 4)", (released, a))
    conn.execute("select debugloop.ledger_release(%s)", (released,))
    conn.execute("select * from debugloop.ledger_expire_holds()")
    reserved, given_back = uuid.uuid4(), uuid.uuid4()  # spending, on the same peer's grant
    conn.execute("select * from debugloop.spending_reserve(%s, %s, 'gpt-4o', estimate_usd => 0.01)", (reserved, a))
    conn.execute("select * from debugloop.spending_settle(%s, 0.0042)", (reserved,))
    conn.execute("select * from debugloop.spending_reserve(%s, %s, 'gpt-4o', estimate_usd => 0.01)", (given_back, a))
    conn.execute("select * from debugloop.spending_release(%s)", (given_back,))
    conn.execute("select * from debugloop.spending_repay(%s)", (a,))
    team = f"team-{tag}"  # budgets and rate limits (admin), then a reservation they check
    conn.execute("select * from debugloop.budget_team_set(%s, array[%s, %s], 'a team')", (team, a, b))
    budget = conn.execute("select budget_id from debugloop.budget_set(team => %s, period => 'day', soft_limit => 10,"
                          " hard_limit => 1000)", (team,)).fetchone()[0]  # fmt: skip
    conn.execute("select * from debugloop.budget_set(%s, period => 'month', hard_limit => 1000)", (a,))
    conn.execute("select * from debugloop.budget_rate_limit_set(%s, 'gpt-4o', 100, 1000000)", (a,))
    counted = uuid.uuid4()
    conn.execute("select * from debugloop.spending_reserve(%s, %s, 'gpt-4o', estimate_usd => 0.02)", (counted, a))
    conn.execute("select * from debugloop.spending_settle(%s, 0.011, 1200)", (counted,))
    conn.execute("select debugloop.budget_rate_limit_remove(%s, 'gpt-4o')", (a,))
    conn.execute("select * from debugloop.budget_retire(%s)", (budget,))
    conn.execute("select * from debugloop.budget_team_retire(%s)", (team,))
    conn.execute("select debugloop.peer_set_status(%s, 'frozen', 'a test')", (b,))
    # the relay's calls (it runs as an admin)
    slots = conn.execute("select debugloop.outbox_claim()").fetchone()[0]
    assert slots
    ids = [row[0] for row in conn.execute("select event_id from debugloop.outbox_batch(100)")]
    conn.execute("select debugloop.outbox_mark(%s)", (ids,))
    conn.execute("select * from debugloop.outbox_status()")
    conn.execute("select * from debugloop.outbox_pending()")
    conn.execute("select debugloop.outbox_prune()")
    conn.execute("select debugloop.outbox_release()")


# what an operator runs besides the definer functions: invoker functions whose bodies
# concatenate numbers, format and build JSON (pinned too), and views (made by a reload
# whose search path leaves public out)
INVOKER_CALLS = [
    "select debugloop.util_embed_sparse('turn a title into a url slug')",
    "select debugloop.util_embed('turn a title into a url slug')",
    "select debugloop.manifest(%s, 'hijacker', 'gpt-4o')",
    "select debugloop.manifest_markdown(%s, 'hijacker', 'gpt-4o')",
    "select * from debugloop.stf_match(%s)",
    "select * from debugloop.golden_match(%s)",
    "select * from debugloop.error_describe('KeyError', 'amount missing in row 12')",
    "select * from debugloop.attempt_estimate(%s, 'gpt-4o')",
    "select * from debugloop.analytics_metrics(now() - interval '1 day')",
    "select * from debugloop.v_golden_states",
    "select * from debugloop.v_stfs",
    "select * from debugloop.v_settings",
    "select * from debugloop.v_quality_summary",
    "select * from debugloop.v_cost_by_agent",
    "select * from debugloop.v_api",
    "select * from debugloop.v_spend_daily",
    "select * from debugloop.v_spend_budgets",
    "select * from debugloop.v_spend_alerts",
]


def test_hijacks_in_public_and_pg_temp_never_run_with_more_rights_than_the_hijackers(db, conn):
    """An agent with CREATE on public plants exact-match operators and functions there,
    and functions and views in its pg_temp; it calls every SECURITY DEFINER function it
    may call, an admin and a superuser with public on their search path call the rest
    (and some invoker functions). A hijack that ran as anyone but the hijacker itself
    (the functions' owner, the admin, the superuser) fails the test."""
    conn.autocommit = True
    conn.execute(RECORDER)
    hijacker_url = login_role(db.url, HIJACKER, "debugloop_agent")
    admin_url = login_role(db.url, "hijack_admin", "debugloop_admin")
    conn.execute(sql.SQL("grant create on schema public to {}").format(sql.Identifier(HIJACKER)))
    definers = {
        name
        for (name,) in conn.execute(
            "select p.proname from pg_proc p where p.pronamespace = 'debugloop'::regnamespace and p.prosecdef"
        )
    }
    try:
        with psycopg.connect(hijacker_url, autocommit=True) as agent:
            agent.execute("set search_path = public, pg_temp, debugloop")
            _plant(agent)
            # the hijacks are live: the hijacker's own statement runs one (as the hijacker)
            assert agent.execute("select 1::bigint || 'x'").fetchone()[0] == "1x"
            # the code reloaded with them in place (a `db migrate` after an upgrade): what it
            # creates binds to none of them
            conn.execute("update debugloop.schema_state set code_checksum = ''")
            assert migrate(db.url).code_reloaded
            made = _agent_calls(agent)
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute("set search_path = public, debugloop")
            _admin_calls(admin, made, "hijack-admin-model")
        conn.execute("set search_path = public, debugloop")
        superuser_made = _agent_calls(conn)
        _admin_calls(conn, superuser_made, "hijack-superuser-model")
        for query in INVOKER_CALLS:
            conn.execute(query, (REQUEST,) * query.count("%s"))
        conn.execute("reset search_path")

        log = conn.execute("select what, ran_as, session_role, ran_as_superuser, escalated from public.hijack_log")
        ran = log.fetchall()
        assert any(row[1] == HIJACKER for row in ran), "the hijacks never ran: the test proves nothing"
        assert [row for row in ran if row[1] != HIJACKER] == []
        assert not any(row[4] for row in ran)
        assert not conn.execute("select rolsuper from pg_roles where rolname = %s", (HIJACKER,)).fetchone()[0]
        # every SECURITY DEFINER function was called above (settings_set fires the audit trigger's)
        called = {"attempt_start", "attempt_finish", "stf_register", "stf_extract", "stf_record_use",
                  "stf_set_embedding", "golden_nominate", "golden_record_reuse", "import_units", "price_set",
                  "price_import", "price_reprice", "stf_approve", "stf_reject", "stf_reopen", "golden_approve",
                  "golden_reject", "golden_reopen", "stf_reembed", "analytics_refresh", "tg_settings__audit",
                  "agent_session_record", "peer_create", "peer_map_agent", "peer_adopt_agents", "peer_bind_role",
                  "peer_unbind_role", "peer_set_status", "ledger_grant", "ledger_adjust", "ledger_transfer",
                  "ledger_transfers", "ledger_hold", "ledger_settle", "ledger_release", "ledger_expire_holds",
                  "attempt_record_usage", "outbox_claim", "outbox_batch", "outbox_mark", "outbox_status",
                  "outbox_pending", "outbox_prune", "outbox_release", "reward_backfill", "spending_reserve",
                  "spending_settle", "spending_release", "spending_repay", "learn_pending", "learn_queued",
                  "budget_set", "budget_retire", "budget_team_set", "budget_team_retire", "budget_rate_limit_set",
                  "budget_rate_limit_remove",
                  # the reward triggers, fired by the approvals, reuses and retries above
                  "tg_debug_transform_functions__reward", "tg_debug_golden_states__reward",
                  "tg_debug_golden_reuses__bonus", "tg_debug_stf_uses__royalty",
                  "tg_debug_error_success_mappings__reward"}  # fmt: skip
        assert definers <= called, f"not called by this test: {sorted(definers - called)}"
    finally:
        conn.execute(sql.SQL("alter role {} nosuperuser").format(sql.Identifier(HIJACKER)))


def test_the_owner_role_owns_the_definer_functions_and_may_do_no_more_than_they_need(conn):
    (attributes,) = conn.execute(
        """select (r.rolsuper, r.rolcreaterole, r.rolcreatedb, r.rolcanlogin, r.rolbypassrls, r.rolreplication)::text
             from pg_roles r where r.rolname = 'debugloop_owner'"""
    ).fetchone()
    assert attributes == "(f,f,f,f,f,f)"
    assert conn.execute(
        """select array_agg(distinct pg_get_userbyid(p.proowner)) from pg_proc p
            where p.pronamespace = 'debugloop'::regnamespace and p.prosecdef"""
    ).fetchone()[0] == ["debugloop_owner"]
    assert conn.execute(
        "select array_agg(pg_get_userbyid(c.relowner)) from pg_class c"
        " where c.relnamespace = 'debugloop'::regnamespace and c.relkind = 'm'"
    ).fetchone()[0] == ["debugloop_owner"]  # analytics_refresh() refreshes them
    # no role it is a member of, no CREATE anywhere, no DELETE or TRUNCATE on any table but
    # three: a login role's binding to a peer, which peer_unbind_role removes (audited), the
    # outbox, whose events outbox_mark moves to outbox_published once the broker has them,
    # and outbox_published, whose events outbox_prune removes after their retention
    assert (
        conn.execute("select count(*) from pg_auth_members where member = 'debugloop_owner'::regrole").fetchone()[0]
        == 0
    )
    creates = conn.execute(
        """select n.nspname from pg_namespace n where has_schema_privilege('debugloop_owner', n.oid, 'create')"""
    ).fetchall()
    assert creates == []
    assert not conn.execute(
        "select has_database_privilege('debugloop_owner', current_database(), 'create')"
    ).fetchone()[0]
    destructive = conn.execute(
        """select c.relname, p from pg_class c, unnest(array['delete', 'truncate', 'references', 'trigger']) p
            where c.relnamespace = 'debugloop'::regnamespace and c.relkind = 'r'
              and has_table_privilege('debugloop_owner', c.oid, p)"""
    ).fetchall()
    # the learning queue's rows are deleted with the learning they stand for (learn_pending);
    # published outbox rows move to outbox_published, which the relay prunes; budget_team_set
    # replaces a team's members and budget_rate_limit_remove removes a rate limit rule
    assert sorted(destructive) == [
        ("debug_learn_queue", "delete"),
        ("outbox", "delete"),
        ("outbox_published", "delete"),
        ("peer_roles", "delete"),
        ("spend_rate_limits", "delete"),
        ("spend_team_members", "delete"),
    ]
    # the extensions live where no agent can create anything
    assert conn.execute(
        "select array_agg(e.extname::text order by e.extname) from pg_extension e"
        " where e.extnamespace = 'debugloop'::regnamespace"
    ).fetchone()[0] == ["pg_trgm", "vector"]
    for role in ("debugloop_agent", "debugloop_admin", "debugloop_reader", "public"):
        assert not conn.execute("select has_schema_privilege(%s, 'debugloop', 'create')", (role,)).fetchone()[0]


# -- trust: what an agent says of itself, and what needs another peer ------------------------


def _solve(client, quality=0.99, request=REQUEST, approach=FIX):
    """One successful attempt in a chain of its own."""
    attempt_id = client.attempts.start("fixer", request, "gpt-4o-mini", approach_description=approach)
    client.attempts.finish(attempt_id, "success", usage=USAGE, quality_score=quality)
    return attempt_id


def _golden(conn):
    return conn.execute(
        """select g.golden_state_id, g.approval_status, g.nomination_evidence -> 'independent_successes'
             from debugloop.debug_golden_states g order by g.nominated_at"""
    ).fetchall()


def test_an_agents_own_chains_never_approve_its_golden_state_other_peers_do(conn, as_role):
    alice = as_role("agent_alice", "debugloop_agent")
    chains = [_solve(alice) for _ in range(4)]  # four chains, each claiming quality 0.99
    ((golden_id, status, independent),) = _golden(conn)
    assert (status, independent) == ("pending", 0)
    assert {a.recorded_by for a in map(alice.attempts.get, chains)} == {"agent_alice"}
    evidence = alice.golden.get(golden_id).nomination_evidence
    assert evidence["recorded_by"] == "agent_alice" and evidence["approve"] is False
    assert conn.execute("select count(*) from debugloop.debug_golden_reviews").fetchone()[0] == 0

    _solve(as_role("agent_bob", "debugloop_agent"))
    assert [g[1:] for g in _golden(conn)] == [("pending", 1)]  # one other peer is not enough (2)
    _solve(as_role("agent_carol", "debugloop_agent"))
    assert [g[1:] for g in _golden(conn)] == [("approved", 2)]
    review = conn.execute("select reviewed_by, automatic, on_behalf_of from debugloop.debug_golden_reviews").fetchall()
    assert review == [("debugloop", True, None)]


def test_who_recorded_an_attempt_is_the_calling_role(db, conn, as_role):
    bob = as_role("agent_bob", "debugloop_agent")
    assert bob.attempts.get(_solve(bob, quality=None)).recorded_by == "agent_bob"
    with psycopg.connect(login_role(db.url, "agent_service", "debugloop_agent", "agent_bob"), autocommit=True) as c:
        c.execute("set role agent_bob")  # acting as another role it is a member of: that role recorded it
        attempt_id = c.execute("select debugloop.attempt_start('fixer', 'a task', 'gpt-4o')").fetchone()[0]
    # an insert that names a recorder gets the caller's (a superuser may insert directly)
    conn.execute(
        "insert into debugloop.debug_execution_attempts (correlation_id, agent_name, user_request, recorded_by)"
        " values (gen_random_uuid(), 'fixer', 'another task', 'agent_alice')"
    )
    rows = conn.execute(
        "select user_request, recorded_by from debugloop.debug_execution_attempts"
        " where user_request in ('a task', 'another task') order by 1"
    ).fetchall()
    assert rows == [("a task", "agent_bob"), ("another task", "postgres")]
    assert bob.attempts.get(attempt_id).recorded_by == "agent_bob"


def test_who_reviewed_is_the_role_whatever_name_it_gives(dl, conn, db, as_role):
    golden_id = dl.golden.nominate(_solve(dl, quality=None), quality_score=0.9)
    stf_id = dl.stfs.register("invoice_total", CODE)
    erin = as_role("admin_erin", "debugloop_admin")
    for manager, key in ((erin.golden, golden_id), (erin.stfs, stf_id)):
        for claimed in ("debugloop", " Debugloop "):  # the automatic approver's name: nobody's to claim
            with pytest.raises(InvalidParameter) as info:
                manager.review(key, "approve", claimed)
            assert info.value.field == "reviewed_by" and "automatic approver" in info.value.message
        assert manager.get(key).approval_status == "pending"
        approved = manager.review(key, "approve", "mallory", "looks right")
        assert approved.approved_by == "admin_erin"
    assert conn.execute(
        "select reviewed_by, on_behalf_of, automatic, notes from debugloop.debug_golden_reviews"
    ).fetchall() == [("admin_erin", "mallory", False, "looks right")]
    assert conn.execute("select reviewed_by, on_behalf_of, automatic from debugloop.debug_stf_reviews").fetchall() == [
        ("admin_erin", "mallory", False)
    ]
    attempt = dl.attempts.get(dl.golden.get(golden_id).execution_attempt_id)
    assert attempt.golden_state_approved_by == "admin_erin"
    with pytest.raises(InvalidParameter) as info:  # nor the automatic nominator's
        erin.golden.nominate(attempt.attempt_id, nominated_by="debugloop")
    assert info.value.field == "nominated_by"
    # a role that happens to be named debugloop (the compose file's login) reviews as itself
    ops = as_role("debugloop", "debugloop_admin")
    ops.golden.review(golden_id, "reject", notes="superseded")
    assert conn.execute(
        "select reviewed_by, automatic from debugloop.debug_golden_reviews where decision = 'rejected'"
    ).fetchall() == [("debugloop", False)]
    # the workflow's `automatic` is debugloop's own: an admin that calls it gets no table rights
    with psycopg.connect(login_role(db.url, "admin_erin"), autocommit=True) as c:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            c.execute("select debugloop._golden_review(%s, 'pending', null, 'x', true)", (golden_id,))


# -- one golden state per request and approach, under concurrency --------------------------

ROUNDS = ("alpha", "bravo", "charlie", "delta")
PEERS = [f"racer_{i}" for i in range(4)]


def _finish_together(urls: list[str], request: str) -> list[BaseException]:
    """One attempt per url (role), started first; then all finish at once and wait for
    each other (up to a second: one may hold a lock the others need) before they commit."""
    connections = [psycopg.connect(url) for url in urls]
    attempts = []
    for c in connections:
        attempts.append(
            c.execute(
                "select debugloop.attempt_start('racer', %s, 'gpt-4o-mini', approach_description => %s)", (request, FIX)
            ).fetchone()[0]
        )
        c.commit()
    barrier = threading.Barrier(len(connections), timeout=1)
    errors: list[BaseException] = []

    def finish(c: psycopg.Connection, attempt_id) -> None:
        try:
            c.execute(
                "select debugloop.attempt_finish(%s, 'success', %s::jsonb, quality_score => 0.95)",
                (attempt_id, json.dumps(USAGE)),
            )
            try:
                barrier.wait()
            except threading.BrokenBarrierError:
                pass
            c.commit()
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)

    threads = [threading.Thread(target=finish, args=pair) for pair in zip(connections, attempts, strict=True)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    for c in connections:
        c.close()
    return errors


def test_concurrent_successes_of_one_request_and_approach_make_one_golden_state(db, conn, as_role):
    urls = [login_role(db.url, peer, "debugloop_agent") for peer in PEERS]
    for i, word in enumerate(ROUNDS):
        request = f"{REQUEST} for the {word} ledger"
        if i % 2:  # earlier successes by other peers, below the nomination bar: each racer alone may be approved
            for peer in ("earlier_a", "earlier_b"):
                _solve(as_role(peer, "debugloop_agent"), quality=0.5, request=request)
        assert _finish_together(urls, request) == []
        states = conn.execute(
            """select g.golden_state_id, g.approval_status from debugloop.debug_golden_states g
                where g.problem_description = %s""",
            (request,),
        ).fetchall()
        assert len(states) == 1, (word, states)
        approvals = conn.execute(
            "select count(*) from debugloop.debug_golden_reviews where golden_state_id = %s and decision = 'approved'",
            (states[0][0],),
        ).fetchone()[0]
        assert approvals == (1 if states[0][1] == "approved" else 0), word
        if i % 2:
            assert states[0][1] == "approved", word


def test_a_nomination_of_another_attempt_of_the_same_request_and_approach_returns_its_golden_state(dl, conn):
    first = dl.golden.nominate(_solve(dl, quality=None), quality_score=0.9)
    assert dl.golden.nominate(_solve(dl, quality=None), quality_score=0.9) == first
    other = dl.golden.nominate(_solve(dl, quality=None, approach="another way"), quality_score=0.9)
    assert other != first
    dl.golden.review(first, "reject")
    third = dl.golden.nominate(_solve(dl, quality=None), quality_score=0.9)
    assert third not in (first, other)
    with pytest.raises(ReviewConflict) as info:  # one live golden state per request and approach
        dl.golden.review(first, "reopen")
    assert info.value.field == "golden_state_id" and "reject the other" in info.value.hint
    assert (
        conn.execute(
            "select count(*) from debugloop.debug_golden_states where approval_status <> 'rejected'"
        ).fetchone()[0]
        == 2
    )


# -- a migrator that is no superuser -----------------------------------------------------


def test_a_migrator_that_is_no_superuser_needs_what_the_readme_lists(pg_server):
    """CREATEROLE (here: ADMIN on the roles another migrator made), a database of its
    own, and vector (not a trusted extension) made by a superuser in schema debugloop:
    then it migrates, hands the definer functions to debugloop_owner, and lends that
    role CREATE on the schema only while it does."""
    name = f"nosuper_{uuid.uuid4().hex[:8]}"
    superuser = pg_server.url("postgres")
    with psycopg.connect(superuser, autocommit=True) as admin:
        if not admin.execute("select exists (select from pg_roles where rolname = 'dl_migrator')").fetchone()[0]:
            admin.execute("create role dl_migrator login createrole")
        admin.execute(
            "grant debugloop_reader, debugloop_agent, debugloop_admin, debugloop_owner to dl_migrator with admin option"
        )
        admin.execute(sql.SQL("create database {} owner dl_migrator").format(sql.Identifier(name)))
    try:
        with psycopg.connect(pg_server.url(name), autocommit=True) as db_admin:
            db_admin.execute("create schema debugloop authorization dl_migrator")
            db_admin.execute("create extension vector schema debugloop")
        migrated = migrate(make_conninfo(pg_server.url(name), user="dl_migrator"))
        assert migrated.version >= 10 and migrated.code_reloaded
        with psycopg.connect(pg_server.url(name)) as c:
            owners = c.execute(
                """select array_agg(distinct pg_get_userbyid(p.proowner)) from pg_proc p
                    where p.pronamespace = 'debugloop'::regnamespace and p.prosecdef"""
            ).fetchone()[0]
            assert owners == ["debugloop_owner"]
            assert not c.execute("select has_schema_privilege('debugloop_owner', 'debugloop', 'create')").fetchone()[0]
    finally:
        with psycopg.connect(superuser, autocommit=True) as admin:
            admin.execute(sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name)))
