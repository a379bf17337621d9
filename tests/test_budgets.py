"""Budgets and rate limits of spending: hard limits refused before any row is
written, soft limits alerting once per period (a row and an outbox event), team
budgets shared by their peers, usage kept by counters that settle and release
correct; rate limits from rules, the catalog and the settings, refused with a
retry-after; the report, the views, the manifest's spend block; the Python
managers and the CLI; and a recorded call through the real broker into Valkey."""

import json
import threading
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import psycopg
import pytest
from jsonschema import Draft202012Validator, FormatChecker

from debugloop.errors import (
    BudgetExceeded,
    InvalidBudget,
    InvalidRateLimit,
    NotFound,
    RateLimited,
    UnknownPeer,
    wrap_exceptions,
)
from helpers import REPO, relay_thread, run_cli, settings_for, wait_drained, wait_until

MODEL = "gpt-4o-mini"
ALERT = Draft202012Validator(
    json.loads((REPO / "schemas" / "spend.alerts.v1.json").read_text()), format_checker=FormatChecker()
)


@pytest.fixture
def conn(db):
    with psycopg.connect(db.url, autocommit=True) as connection:
        yield connection


@pytest.fixture
def peers(dl):
    for name, agent in (("peer_budget_a", "budget-a"), ("peer_budget_b", "budget-b")):
        dl.peers.create(name, kind="agent", display_name=name, agent_names=[agent])
        dl.ledger.grant(uuid.uuid4(), name, 100_000, memo="budget test")
    return "peer_budget_a", "peer_budget_b"


def q(conn, sql, *args):
    with wrap_exceptions():
        return conn.execute(sql, args).fetchone()


def reserve(conn, peer, estimate, model=MODEL):
    hold = uuid.uuid4()
    q(conn, "select debugloop.spending_reserve(%s, %s, %s, estimate_usd => %s)", hold, peer, model, estimate)
    return hold


def counts(conn):
    return q(
        conn,
        "select (select count(*) from debugloop.ledger_holds), (select count(*) from debugloop.spend_reservations),"
        " (select count(*) from debugloop.ledger_transfers), (select count(*) from debugloop.outbox),"
        " (select coalesce(sum(used), 0) from debugloop.spend_budget_usage),"
        " (select count(*) from debugloop.spend_budget_alerts)",
    )


def used(conn, budget_id):
    return q(conn, "select used from debugloop.v_spend_budgets where budget_id = %s", budget_id)[0]


def test_a_hard_limit_refuses_before_any_row_and_says_why(conn, peers):
    a, _ = peers
    budget = q(conn, "select budget_id from debugloop.budget_set(%s, period => 'day', hard_limit => 50)", a)[0]
    reserve(conn, a, "0.030")  # 30 tokens
    before = counts(conn)
    with pytest.raises(BudgetExceeded) as refused:
        reserve(conn, a, "0.021")  # 30 + 21 > 50
    assert counts(conn) == before
    e = refused.value
    assert e.sqlstate == "DL084" and e.field == "peer"
    assert (e.budget_id, e.period, e.used, e.limit, e.needed) == (str(budget), "day", 30, 50, 21)
    start = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    assert datetime.fromisoformat(e.period_start) == start
    reserve(conn, a, "0.020")  # exactly up to the limit is allowed
    assert used(conn, budget) == 50


def test_a_soft_limit_alerts_once_per_period_with_a_row_and_an_event(conn, peers):
    a, _ = peers
    budget = q(conn, "select budget_id from debugloop.budget_set(%s, period => 'week', soft_limit => 25)", a)[0]
    reserve(conn, a, "0.020")
    assert q(conn, "select count(*) from debugloop.v_spend_alerts")[0] == 0
    reserve(conn, a, "0.010")  # 30 > 25: crossed, the reservation is made
    reserve(conn, a, "0.010")  # still over: no second alert
    alerts = conn.execute(
        "select budget_id, peer_id, used, soft_limit, period from debugloop.v_spend_alerts"
    ).fetchall()
    assert alerts == [(budget, a, 30, 25, "week")]
    events = conn.execute(
        "select topic, key, payload from debugloop.outbox where event_type = 'spend.budget.exceeded.v1'"
    ).fetchall()
    assert len(events) == 1
    topic, key, payload = events[0]
    assert (topic, key) == ("spend.alerts.v1", a)
    ALERT.validate(payload)
    assert (payload["budget_id"], payload["used"], payload["soft_limit"], payload["period"]) == (
        str(budget),
        30,
        25,
        "week",
    )
    start = datetime.fromisoformat(payload["period_start"])
    assert start.weekday() == 0 and start.utcoffset() == timedelta(0) and start.hour == 0
    assert datetime.fromisoformat(payload["period_end"]) - start == timedelta(days=7)


def test_settle_and_release_correct_the_usage_and_a_costly_call_can_cross_a_limit(conn, peers):
    a, _ = peers
    budget = q(
        conn,
        "select budget_id from debugloop.budget_set(%s, period => 'month', soft_limit => 80, hard_limit => 100)",
        a,
    )[0]
    settled, released = reserve(conn, a, "0.040"), reserve(conn, a, "0.030")
    assert used(conn, budget) == 70
    q(conn, "select debugloop.spending_settle(%s, 0.0125)", settled)  # 12 whole tokens posted instead of 40 held
    assert used(conn, budget) == 42
    q(conn, "select debugloop.spending_release(%s)", released)
    assert used(conn, budget) == 12
    assert q(conn, "select count(*) from debugloop.spend_budget_alerts")[0] == 0
    late = reserve(conn, a, "0.010")
    q(conn, "select debugloop.spending_settle(%s, 0.095)", late)  # 95 tokens: spent, so counted (107 > 100)
    assert used(conn, budget) == 107
    assert q(conn, "select state from debugloop.v_spend_budgets where budget_id = %s", budget)[0] == "hard"
    assert q(conn, "select count(*) from debugloop.spend_budget_alerts")[0] == 1  # the settle crossed the soft limit
    with pytest.raises(BudgetExceeded):
        reserve(conn, a, "0.001")
    # the usage is the sum of what the reservations hold and posted, kept without a sum
    assert (
        used(conn, budget)
        == q(
            conn,
            "select sum(case status when 'settled' then posted_tokens when 'active' then hold_tokens else 0 end)"
            " from debugloop.spend_reservations where peer_id = %s",
            a,
        )[0]
    )


def test_a_team_budget_is_shared_by_its_peers_and_retiring_frees_them(conn, peers):
    a, b = peers
    q(conn, "select debugloop.budget_team_set('team_budget', array[%s, %s], 'two agents')", a, b)
    team = q(
        conn, "select budget_id from debugloop.budget_set(team => 'team_budget', period => 'day', hard_limit => 40)"
    )[0]
    own = q(conn, "select budget_id from debugloop.budget_set(%s, period => 'day', hard_limit => 1000)", b)[0]
    reserve(conn, a, "0.025")
    with pytest.raises(BudgetExceeded) as refused:
        reserve(conn, b, "0.020")  # b's own budget has room; the team's has 15 left
    assert refused.value.team_id == "team_budget" and refused.value.used == 25
    assert used(conn, own) == 0
    status = conn.execute("select team_id, used, remaining, state from debugloop.budget_status(%s)", (b,)).fetchall()
    assert status == [(None, 0, 1000, "ok"), ("team_budget", 25, 15, "ok")]
    # b leaves the team: its reservations no longer count against it
    q(conn, "select debugloop.budget_team_set('team_budget', array[%s])", a)
    reserve(conn, b, "0.020")
    assert (used(conn, team), used(conn, own)) == (25, 20)
    q(conn, "select debugloop.budget_team_retire('team_budget')")
    reserve(conn, a, "0.030")
    assert used(conn, team) == 25
    assert q(conn, "select state from debugloop.v_spend_budgets where budget_id = %s", team)[0] == "retired"


def test_eight_connections_never_take_a_team_budget_past_its_hard_limit(db, conn, peers):
    """Two peers of two teams, four connections each, reserving 5 tokens at a time
    against hard limits of 100: exactly 20 reservations get through, whatever the order,
    and the counters equal what the reservations hold; then they settle and reserve at
    once (both paths lock the two teams' rows) without a deadlock."""
    a, b = peers
    budgets = []
    for team in ("team_race", "team_race_2"):
        q(conn, "select debugloop.budget_team_set(%s, array[%s, %s])", team, a, b)
        sql = "select budget_id from debugloop.budget_set(team => %s, period => 'day', hard_limit => 100)"
        budgets.append(q(conn, sql, team)[0])
    made, refused, other = [], [], []
    held = iter(made)
    lock = threading.Lock()

    def reserving(c, peer):
        for _ in range(10):
            made.append(reserve(c, peer, "0.005"))

    def settling(c, peer):
        for _ in range(5):
            with lock:
                hold = next(held, None)
            if hold is not None:
                q(c, "select debugloop.spending_settle(%s, 0.003)", hold)  # 3 tokens posted of 5 held
            reserve(c, peer, "0.002")

    def run(work):
        start = threading.Barrier(8)

        def worker(peer):
            with psycopg.connect(db.url, autocommit=True) as c:
                start.wait()
                try:
                    work(c, peer)
                except BudgetExceeded:
                    refused.append(peer)
                except Exception as exc:  # noqa: BLE001 - a deadlock or anything else fails the test
                    other.append(exc)

        threads = [threading.Thread(target=worker, args=(a if i % 2 else b,)) for i in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert other == []
        return q(
            conn,
            "select coalesce(sum(case status when 'settled' then posted_tokens else hold_tokens end), 0)"
            " from debugloop.spend_reservations where status <> 'released' and %s = any(budget_ids)",
            budgets[0],
        )[0]

    assert run(reserving) == 100 == used(conn, budgets[0]) == used(conn, budgets[1])
    assert len(made) == 20 and len(refused) == 8  # each worker stops at its first refusal
    truth = run(settling)
    assert truth == used(conn, budgets[0]) == used(conn, budgets[1]) <= 100
    assert q(conn, "select count(*) from debugloop.spend_reservations where status = 'settled'")[0] > 0


def test_budget_set_replaces_the_limits_and_retire_ends_the_budget(conn, peers):
    a, _ = peers
    first = q(conn, "select budget_id from debugloop.budget_set(%s, period => 'day', hard_limit => 10)", a)[0]
    reserve(conn, a, "0.010")
    again = q(conn, "select budget_id, hard_limit from debugloop.budget_set(%s, period => 'day', hard_limit => 20)", a)
    assert again == (first, 20)
    assert used(conn, first) == 10  # the period's usage stays
    reserve(conn, a, "0.010")
    q(conn, "select debugloop.budget_retire(%s)", first)
    reserve(conn, a, "0.050")
    assert used(conn, first) == 20
    with pytest.raises(NotFound):
        q(conn, "select debugloop.budget_retire(%s)", uuid.uuid4())


@pytest.mark.parametrize(
    ("call", "field"),
    [
        ("budget_set(period => 'day', hard_limit => 5)", "peer"),
        ("budget_set('peer_budget_a', 'team_x', 'day', hard_limit => 5)", "peer"),
        ("budget_set('peer_budget_a', period => 'year', hard_limit => 5)", "period"),
        ("budget_set('peer_budget_a', period => 'day')", "hard_limit"),
        ("budget_set('peer_budget_a', period => 'day', hard_limit => 0)", "hard_limit"),
        ("budget_set('peer_budget_a', period => 'day', soft_limit => -1)", "soft_limit"),
        ("budget_set('peer_budget_a', period => 'day', soft_limit => 9, hard_limit => 5)", "soft_limit"),
        ("budget_set(team => 'no_such_team', period => 'day', hard_limit => 5)", "team"),
        ("budget_team_set('Bad Team', array['peer_budget_a'])", "team"),
        ("budget_team_set('team_ok', array['peer_budget_a', null])", "members"),
        ("spending_report('fortnight')", "period"),
    ],
)
def test_bad_budgets_name_the_field(conn, peers, call, field):
    with pytest.raises(InvalidBudget) as bad:
        q(conn, f"select * from debugloop.{call}")
    assert bad.value.field == field and bad.value.sqlstate == "DL086"


def test_unknown_peers_are_refused(conn, peers):
    with pytest.raises(UnknownPeer):
        q(conn, "select debugloop.budget_set('peer_nobody', period => 'day', hard_limit => 5)")
    with pytest.raises(UnknownPeer):
        q(conn, "select debugloop.budget_team_set('team_x', array['peer_budget_a', 'peer_nobody'])")


def test_only_an_admin_sets_budgets_and_rate_limits(db, as_role, peers):
    agent = as_role("budget_agent", "debugloop_agent")
    with pytest.raises(Exception) as refused, agent.connection() as c:
        c.execute("select debugloop.budget_set('peer_budget_a', period => 'day', hard_limit => 5)")
    assert getattr(refused.value, "sqlstate", None) == "42501"
    with pytest.raises(Exception) as refused, agent.connection() as c:
        c.execute("select debugloop.budget_rate_limit_set('peer_budget_a', null, 1)")
    assert getattr(refused.value, "sqlstate", None) == "42501"


def test_an_agent_role_reads_its_budgets_and_is_held_to_them(dl, as_role, peers):
    """An agent's own role (bound to its peer) reserves through attempt_start: its
    budgets refuse it, it reads them and its balance in the manifest, and it may not
    raise them."""
    a, _ = peers
    dl.settings.set("enable_token_spending", "true")
    dl.budgets.set(peer=a, period="week", hard_limit=30)
    agent = as_role("budget_agent_a", "debugloop_agent")
    dl.peers.bind_role(a, "budget_agent_a")
    started = agent.attempts.start("budget-a", "Sum the invoice lines", MODEL, estimate_usd="0.02")
    with pytest.raises(BudgetExceeded):
        agent.attempts.start("budget-a", "Sum the invoice lines", MODEL, estimate_usd="0.02")
    [mine] = agent.budgets.status(a)
    assert (mine.used, mine.remaining, mine.period) == (20, 10, "week")
    assert agent.manifest("Sum the invoice lines", model=MODEL).cost.spend.budget_remaining_tokens == 10
    with pytest.raises(Exception) as refused:
        agent.budgets.set(peer=a, period="week", hard_limit=1000)
    assert getattr(refused.value, "sqlstate", None) == "42501"
    agent.attempts.finish(started, "success", usage={"input_tokens": 100, "output_tokens": 10})
    assert agent.budgets.status(a)[0].used == dl.spending.reservation(started).posted_tokens


def test_requests_per_minute_refused_with_a_retry_after(conn, peers):
    a, b = peers
    rule = q(conn, "select rule_id from debugloop.budget_rate_limit_set(%s, %s, 2)", a, MODEL)
    assert rule is not None
    reserve(conn, a, "0.001")
    reserve(conn, a, "0.001")
    before = counts(conn)
    with pytest.raises(RateLimited) as refused:
        reserve(conn, a, "0.001")
    assert counts(conn) == before
    e = refused.value
    assert e.sqlstate == "DL085" and (e.limit_name, e.value, e.used, e.source) == ("requests_per_minute", 2, 2, "rule")
    assert 1 <= e.retry_after <= 60 and f"retry after {e.retry_after}" in str(e)
    reserve(conn, a, "0.001", model="gpt-4o")  # another model: its own counter, no rule
    reserve(conn, b, "0.001")  # another peer
    status = q(conn, "select source, requests_per_minute, requests from debugloop.budget_rate_status(%s, %s)", a, MODEL)
    assert status == ("rule", 2, 2)


def test_tokens_per_minute_count_settled_calls(conn, dl, peers):
    a, _ = peers
    q(conn, "select debugloop.budget_rate_limit_set(null, %s, null, 1000)", MODEL)  # every peer
    first = reserve(conn, a, "0.001")
    q(conn, "select debugloop.spending_settle(%s, 0.0004, 999)", first)
    reserve(conn, a, "0.001")  # 999 < 1000 tokens this minute
    second = reserve(conn, a, "0.001")
    q(conn, "select debugloop.spending_settle(%s, 0.0004, 1)", second)
    with pytest.raises(RateLimited) as refused:
        reserve(conn, a, "0.001")
    assert (refused.value.limit_name, refused.value.used, refused.value.value) == ("tokens_per_minute", 1000, 1000)
    # the most specific rule wins: a rule for the peer and any model lifts it
    q(conn, "select debugloop.budget_rate_limit_set(%s, null)", a)
    reserve(conn, a, "0.001")
    assert q(conn, "select debugloop.budget_rate_limit_remove(%s, null)", a)[0] is True
    assert q(conn, "select debugloop.budget_rate_limit_remove(%s, null)", a)[0] is False
    with pytest.raises(RateLimited):
        reserve(conn, a, "0.001")


def test_rate_limits_from_the_catalog_then_the_settings(conn, peers):
    a, _ = peers
    assert q(conn, "select source from debugloop.budget_rate_status(%s, %s)", a, MODEL) == ("none",)
    q(conn, "select debugloop.settings_set('spend_default_requests_per_minute', '1')")
    assert q(conn, "select source, requests_per_minute from debugloop.budget_rate_status(%s, %s)", a, MODEL) == (
        "setting",
        1,
    )
    doc = {"budget-model": {"litellm_provider": "openai", "mode": "chat", "input_cost_per_token": 1e-06,
                            "output_cost_per_token": 2e-06, "rpm": 3}}  # fmt: skip
    q(conn, "select count(*) from debugloop.price_import(%s::jsonb, 'budget test')", json.dumps(doc))
    assert q(conn, "select source, requests_per_minute from debugloop.budget_rate_status(%s, 'budget-model')", a) == (
        "catalog",
        3,
    )
    prefixed = q(conn, "select source, requests_per_minute from debugloop.budget_rate_status(%s, %s)", a,
                 "google/budget-model")  # fmt: skip
    assert prefixed == ("catalog", 3)
    reserve(conn, a, "0.001")
    with pytest.raises(RateLimited) as refused:
        reserve(conn, a, "0.001")
    assert refused.value.source == "setting"


@pytest.mark.parametrize(
    ("args", "field"),
    [(("peer_budget_a", MODEL, 0, None), "requests_per_minute"), (("peer_budget_a", MODEL, None, -5), "tokens_per_minute"),
     (("peer_budget_a", " ", 5, None), "model")],
)  # fmt: skip
def test_bad_rate_limits_name_the_field(conn, peers, args, field):
    with pytest.raises(InvalidRateLimit) as bad:
        q(conn, "select debugloop.budget_rate_limit_set(%s, %s, %s, %s)", *args)
    assert bad.value.field == field


def test_attempts_count_against_budgets_and_rate_limits(conn, dl, peers):
    a, _ = peers
    conn.execute("select debugloop.settings_set('enable_token_spending', 'true')")
    budget = q(conn, "select budget_id from debugloop.budget_set(%s, period => 'day', hard_limit => 100)", a)[0]
    q(conn, "select debugloop.budget_rate_limit_set(%s, %s, null, 100000)", a, MODEL)
    attempt = dl.attempts.start("budget-a", "Sum the invoice lines", model=MODEL, estimate_usd="0.05")
    assert used(conn, budget) == 50
    dl.attempts.finish(attempt, "success", usage={"input_tokens": 1000, "output_tokens": 200})
    posted = q(conn, "select posted_tokens from debugloop.spending_reservation(%s)", attempt)[0]
    assert used(conn, budget) == posted
    assert q(conn, "select tokens from debugloop.budget_rate_status(%s, %s)", a, MODEL)[0] == 1200
    with pytest.raises(BudgetExceeded):
        dl.attempts.start("budget-a", "Sum the invoice lines", model=MODEL, estimate_usd="0.5")
    assert q(conn, "select count(*) from debugloop.debug_execution_attempts")[0] == 1


def test_the_report_and_the_daily_view(conn, peers):
    a, b = peers
    for peer, model, cost in ((a, MODEL, "0.0123"), (a, MODEL, "0.0201"), (a, "gpt-4o", "0.5"), (b, MODEL, "0.001")):
        q(conn, "select debugloop.spending_settle(%s, %s)", reserve(conn, peer, "0.6", model=model), cost)
    reserve(conn, a, "0.004")  # still held
    q(conn, "select debugloop.spending_release(%s)", reserve(conn, b, "0.004"))  # not a call
    rows = conn.execute(
        "select peer_id, model, calls, posted_tokens, exact_tokens, cost_usd, active_calls, held_tokens"
        " from debugloop.spending_report('month')"
    ).fetchall()
    assert [r[:2] for r in rows] == [(a, "gpt-4o"), (a, MODEL), (b, MODEL)]
    assert rows[1][2:] == (2, 32, 32.4, 0.0324, 1, 4) or rows[1][2:4] == (2, 32)
    assert str(rows[1][4]) == "32.4000" and str(rows[1][5]) == "0.0324" and rows[1][6:] == (1, 4)
    assert rows[2][2:4] == (1, 1)
    only = conn.execute("select model from debugloop.spending_report('day', %s, 'GPT-4O')", (a,)).fetchall()
    assert only == [("gpt-4o",)]
    daily = conn.execute("select peer_id, model, calls from debugloop.v_spend_daily order by 1, 2").fetchall()
    assert daily == [(a, "gpt-4o", 1), (a, MODEL, 2), (b, MODEL, 1)]


def test_the_manifest_shows_the_tokens_of_a_similar_request_and_the_available_balance(conn, dl, peers):
    a, _ = peers
    for _ in range(3):
        attempt = dl.attempts.start("budget-a", "Parse the invoice CSV and compute the total", model=MODEL)
        dl.attempts.finish(attempt, "success", usage={"input_tokens": 20_000, "output_tokens": 5_000})
    q(conn, "select debugloop.budget_set(%s, period => 'day', hard_limit => 900)", a)
    doc = dl.manifest("Parse the invoice CSV and compute the total", agent_name="budget-a", model=MODEL)
    spend = doc.cost.spend
    assert spend.tokens_p90 == -(-doc.cost.estimate.cost_p90_usd * 1000 // 1)  # whole tokens, rounded up
    assert spend.tokens_p50 <= spend.tokens_p90
    assert spend.peer_id == a and spend.available_tokens == dl.spending.balance(a).available >= 100_000
    assert spend.budget_remaining_tokens == 900
    markdown = dl.manifest_markdown("Parse the invoice CSV and compute the total", agent_name="budget-a", model=MODEL)
    line = f"- In tokens ($0.001 each): a similar request costs {spend.tokens_p50} (p90 {spend.tokens_p90});"
    assert f"{line} {spend.available_tokens} available to you, 900 left under your budget" in markdown
    other = dl.manifest("Parse the invoice CSV and compute the total", agent_name="nobody", model=MODEL)
    assert other.cost.spend.available_tokens is None and other.cost.spend.tokens_p90 == spend.tokens_p90


def test_the_managers_round_trip(dl, peers):
    a, b = peers
    team = dl.budgets.team_set("team_py", [a, b], "python")
    assert team.team_id == "team_py" and team.retired_at is None
    mine = dl.budgets.set(peer=a, period="day", soft_limit=5, hard_limit=30)
    shared = dl.budgets.set(team="team_py", period="month", hard_limit=1000)
    dl.spending.reserve(a, MODEL, estimate_usd="0.010")
    [first, second] = dl.budgets.status(a)
    assert (first.budget_id, first.used, first.remaining, first.state) == (mine.budget_id, 10, 20, "soft")
    assert (second.budget_id, second.team_id, second.used) == (shared.budget_id, "team_py", 10)
    with pytest.raises(BudgetExceeded) as refused:
        dl.spending.reserve(a, MODEL, estimate_usd="0.021")
    assert (refused.value.limit, refused.value.used, refused.value.needed) == (30, 10, 21)
    [alert] = dl.budgets.alerts(peer=a)
    assert (alert.budget_id, alert.used, alert.soft_limit) == (mine.budget_id, 10, 5)
    assert [u.budget_id for u in dl.budgets.list(team="team_py")] == [shared.budget_id]
    rule = dl.budgets.rate_limit_set(a, MODEL, requests_per_minute=2)
    assert (rule.peer_id, rule.model, rule.requests_per_minute, rule.tokens_per_minute) == (a, MODEL, 2, None)
    dl.spending.reserve(a, MODEL, estimate_usd="0.001")
    dl.spending.reserve(a, MODEL, estimate_usd="0.001")
    with pytest.raises(RateLimited) as limited:
        dl.spending.reserve(a, MODEL, estimate_usd="0.001")
    assert limited.value.retry_after >= 1 and limited.value.limit_name == "requests_per_minute"
    assert dl.budgets.rate_status(a, MODEL).requests == 2
    assert dl.budgets.rate_limit_remove(a, MODEL) is True
    [row] = dl.spending.report("month", peer=a)
    assert (row.peer_id, row.model, row.calls, row.active_calls, row.held_tokens) == (a, MODEL, 0, 3, 12)
    assert dl.budgets.retire(mine.budget_id).retired_at is not None
    assert dl.budgets.team_retire("team_py").retired_at is not None
    assert dl.budgets.status(a) == []


def test_the_cli_reports_spending_alerts_and_budgets(db, dl, peers):
    a, _ = peers
    env = {"DEBUGLOOP_DATABASE_URL": db.url, "COLUMNS": "120"}
    made = run_cli("spend", "budget-set", "--peer", a, "--period", "day", "--soft", "5", "--hard", "100", env=env)
    assert made.returncode == 0, made.stderr
    hold = dl.spending.reserve(a, MODEL, estimate_usd="0.05").hold_id
    dl.spending.settle(hold, "0.0123")
    shown = run_cli("spend", "--peer", a, "--json", env=env)
    assert shown.returncode == 0, shown.stderr
    [row] = json.loads(shown.stdout, parse_float=Decimal)
    assert (row["peer_id"], row["model"], row["calls"], row["posted_tokens"], row["cost_usd"]) == (
        a, MODEL, 1, 12, Decimal("0.0123"))  # fmt: skip
    table = run_cli("spend", "--period", "month", env=env)
    assert table.returncode == 0 and a in table.stdout and "12" in table.stdout
    alerts = run_cli("spend", "alerts", "--json", env=env)
    assert [x["peer_id"] for x in json.loads(alerts.stdout)] == [a]
    budgets = run_cli("spend", "budgets", "--peer", a, env=env)
    assert budgets.returncode == 0 and "soft" in budgets.stdout and "12" in budgets.stdout
    bad = run_cli("spend", "budget-set", "--peer", a, "--period", "day", env=env)
    assert bad.returncode == 1 and "soft_limit, a hard_limit or both" in bad.stderr
    dl.budgets.rate_limit_set(a, MODEL, requests_per_minute=5)
    shown = run_cli("spend", "limits", a, MODEL, env=env)
    assert shown.returncode == 0 and "5 requests and - tokens per minute (rule)" in shown.stdout, shown.stderr
    assert json.loads(run_cli("spend", "limits", a, "--json", env=env).stdout)["source"] == "none"
    helped = run_cli("spend", "--help", env=env)
    assert all(word in helped.stdout for word in ("alerts", "budgets", "--period", "--json"))


def test_a_recorded_call_reaches_kafka_and_valkey_and_so_does_its_alert(dl, db, kafka_bootstrap, valkey_url):
    """End to end: an attempt recorded with spending on reserves and settles; its spent
    transfer goes out on token.transactions.v1, the peer's balance lands in Valkey,
    and the soft limit it crossed is an event on the alerts topic."""
    from debugloop.cache import BalanceCache
    from debugloop.relay import _read_topic

    settings = settings_for(kafka_bootstrap, valkey_url)
    dl.peers.create("peer_e2e", kind="agent", agent_names=["e2e-agent"])
    dl.settings.set("enable_token_spending", "true")
    budget = dl.budgets.set(peer="peer_e2e", period="day", soft_limit=10, hard_limit=900)
    with dl.attempt("e2e-agent", "Sum the invoice lines", model="gpt-4o", estimate_usd="0.02") as run:
        run.record_usage({"input_tokens": 4000, "output_tokens": 1000})  # gpt-4o: $0.02, 20 tokens
    reservation = dl.spending.reservation(run.attempt_id)
    assert (reservation.status, reservation.posted_tokens) == ("settled", 20)
    cache = BalanceCache(valkey_url)
    with relay_thread(settings, db.url, cache):
        wait_drained(db.url)
        truth = dl.ledger.balance("peer_e2e")
        wait_until(lambda: (cache.get("peer_e2e") or {}).get("version") == truth.version, "the balance in Valkey")
    events = [e for key, e in _read_topic(settings, settings.topic_transactions) if key == "peer_e2e"]
    spent = [e for e in events if e["transaction_type"] in ("spent", "settle")]
    assert sum(e["amount"] for e in spent) == 20
    cached = cache.get("peer_e2e")
    assert cached["available"] == truth.available == 1000 - 20
    [alert] = [e for key, e in _read_topic(settings, settings.topic_alerts) if key == "peer_e2e"]
    ALERT.validate(alert)
    assert (alert["budget_id"], alert["used"], alert["soft_limit"]) == (str(budget.budget_id), 20, 10)
