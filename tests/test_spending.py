"""Spending in SQL: exact conversion with a carried remainder, reserve and settle,
the overdraft rule, expiry, refusals before anything is written, concurrency; the
wiring into attempt_start / attempt_finish; the Python manager and the recorder's
fallback to a cheaper model."""

import json
import os
import random
import threading
import time
import uuid
from datetime import timedelta
from decimal import Decimal

import psycopg
import pytest

from debugloop.errors import InsufficientBalance, NotFound, ReservationNotActive, SpendInDebt, wrap_exceptions

MODEL = "gpt-4o-mini"
N_COSTS = int(os.environ.get("DEBUGLOOP_SPEND_COSTS", "1000"))
CHUNK = 100  # reserve + settle pairs per statement and transaction (see the property tests)
TASK = "Parse the invoice CSV and compute the total with tax"
BIG = {"input_tokens": 100_000, "output_tokens": 20_000}  # gpt-4o: $0.45, gpt-4o-mini: $0.027


@pytest.fixture
def conn(db):
    """Autocommit: each statement its own transaction, as a client's calls are."""
    with psycopg.connect(db.url, autocommit=True) as connection:
        yield connection


@pytest.fixture
def peer(dl):
    dl.peers.create("peer_spender", kind="agent", display_name="spender", agent_names=["fixer"])
    return "peer_spender"


def q(conn, sql, *args):
    with wrap_exceptions():
        return conn.execute(sql, args).fetchone()


def reserve(conn, peer, estimate=None, model=MODEL, request=None, expires_in=None):
    hold = uuid.uuid4()
    q(
        conn,
        "select debugloop.spending_reserve(%s, %s, %s, %s, %s, expires_in => %s)",
        hold,
        peer,
        model,
        request,
        estimate,
        expires_in,
    )
    return hold


def settle(conn, hold, cost):
    return q(conn, "select (r).* from debugloop.spending_settle(%s, %s) r", hold, cost)


def balance(conn, peer):
    return q(conn, "select available, held, remainder, debt, charged, posted from debugloop.spending_balance(%s)", peer)


def check(conn):
    bad = conn.execute("select * from debugloop.ledger_check() c where not c.holds").fetchall()
    assert bad == []


def counts(conn):
    """The rows every write of spending or attempts adds to."""
    return q(
        conn,
        "select (select count(*) from debugloop.debug_execution_attempts), (select count(*) from debugloop.ledger_holds),"
        " (select count(*) from debugloop.spend_reservations), (select count(*) from debugloop.ledger_transfers),"
        " (select count(*) from debugloop.outbox)",
    )


def spending_on(conn):
    conn.execute("select debugloop.settings_set('enable_token_spending', 'true')")


def real_costs(conn, n):
    """n random costs of calls (0 to 3,000 input and 0 to 500 output tokens) at the
    prices of the catalog's real rows, as exact decimals."""
    prices = conn.execute(
        "select input_price_per_million, output_price_per_million from debugloop.model_price_catalog"
        " where input_price_per_million > 0 order by catalog_id limit 200"
    ).fetchall()
    assert len(prices) >= 10
    rng = random.Random(22)
    costs = []
    for _ in range(n):
        pin, pout = rng.choice(prices)
        costs.append(pin * rng.randint(0, 3000) / 1_000_000 + pout * rng.randint(0, 500) / 1_000_000)
    return costs


def test_the_conversion_carries_the_exact_remainder_over_10000_real_costs(conn):
    """The rule spending_settle applies (_spending_convert), folded over 10,000 costs in
    one server-side loop: whole tokens posted + the remainder carried = the exact sum."""
    costs = real_costs(conn, 10_000)
    posted, remainder, steps = q(
        conn,
        """
        with recursive fold as (
            select 0::bigint as n, 0::bigint as posted, 0::numeric as remainder, 0 as bad
            union all
            select f.n + 1, f.posted + c.posted, c.remainder_after,
                   f.bad + (c.posted < 0 or c.remainder_after < 0 or c.remainder_after >= 1)::int
              from fold f
             cross join lateral debugloop._spending_convert(f.remainder, (%s::numeric[])[f.n + 1]) c
             where f.n < cardinality(%s::numeric[])
        )
        select posted, remainder, n from fold where bad = 0 order by n desc limit 1
        """,
        costs,
        costs,
    )
    assert steps == len(costs)  # no step posted a negative or carried a remainder outside [0, 1)
    assert posted + remainder == sum(costs, Decimal(0)) * 1000
    assert 0 <= remainder < 1


def test_posted_plus_remainder_is_the_exact_sum_through_reserve_and_settle(conn, peer):
    """N_COSTS (1,000; DEBUGLOOP_SPEND_COSTS=10000 for all) of those costs through the
    real spending_reserve and spending_settle, CHUNK pairs to a statement (autocommit:
    a transaction each). Why chunks: in one transaction every version of the peer's
    rows, and every hold it settled (still in the active-holds index, whose entries
    are only marked dead once no transaction can see them), is walked again by each
    later pair: 10,000 pairs in one transaction cost ~17 ms a pair by the end."""
    costs = real_costs(conn, 10_000)[:N_COSTS]
    q(conn, "select debugloop.ledger_grant(gen_random_uuid(), %s, 100000000, 'spending test')", peer)
    for start in range(0, len(costs), CHUNK):
        conn.execute(
            "select count((debugloop.spending_settle((debugloop.spending_reserve(gen_random_uuid(), %s, %s, null, c)).hold_id,"
            " c)).status) from unnest(%s::numeric[]) with ordinality u(c, n)",
            (peer, MODEL, costs[start : start + CHUNK]),
        )
    available, held, remainder, debt, charged, posted = balance(conn, peer)
    exact = sum(costs, Decimal(0)) * 1000
    assert charged == exact
    assert posted + remainder == exact
    assert 0 <= remainder < 1 and held == 0 and debt == 0
    spent = q(
        conn,
        "select sum(posted_tokens), count(*) filter (where status = 'settled') from debugloop.spend_reservations"
        " where peer_id = %s",
        peer,
    )
    assert spent == (posted, len(costs))
    settled = q(
        conn,
        "select coalesce(sum(amount), 0) from debugloop.ledger_transfers where from_peer_id = %s"
        " and transaction_type in ('settle', 'spent')",
        peer,
    )[0]
    assert settled == posted  # what the ledger posted is what the conversion said
    check(conn)


def test_a_reservation_resolves_once(conn, peer):
    hold = reserve(conn, peer, estimate=Decimal("0.010"))
    assert settle(conn, hold, Decimal("0.0042"))[7] == "settled"
    with pytest.raises(ReservationNotActive) as twice:
        settle(conn, hold, Decimal("0.0042"))
    assert "settled" in str(twice.value)
    with pytest.raises(ReservationNotActive):
        q(conn, "select debugloop.spending_release(%s)", hold)
    released = reserve(conn, peer, estimate=Decimal("0.010"))
    q(conn, "select debugloop.spending_release(%s)", released)
    with pytest.raises(ReservationNotActive):
        settle(conn, released, Decimal("0.001"))
    with pytest.raises(ReservationNotActive):
        q(conn, "select debugloop.spending_release(%s)", uuid.uuid4())
    available, held, remainder, *_ = balance(conn, peer)
    assert (available, held, remainder) == (1000 - 4, 0, Decimal("0.2"))
    check(conn)


def test_an_expired_hold_comes_back_and_a_late_call_is_still_charged(conn, peer):
    hold = reserve(conn, peer, estimate=Decimal("0.9"), expires_in=timedelta(seconds=1))  # 900 of 1000
    with pytest.raises(InsufficientBalance):
        reserve(conn, peer, estimate=Decimal("0.5"), expires_in=timedelta(minutes=5))
    time.sleep(1.2)
    # the reservation counts the expired hold back at once, before any sweep
    second = reserve(conn, peer, estimate=Decimal("0.5"))
    # the sweep (an operator's schedule): ledger_expire_holds gives the tokens back
    swept = conn.execute("select hold_id, status from debugloop.ledger_expire_holds()").fetchall()
    assert swept == [] or swept == [(hold, "expired")]
    assert q(conn, "select status from debugloop.ledger_holds where hold_id = %s", hold)[0] == "expired"
    assert balance(conn, peer)[:2] == (500, 500)
    # the first call reports back after all: its cost is charged from the balance
    late = settle(conn, hold, Decimal("0.3"))
    assert (late[7], late[10], late[11]) == ("settled", 300, 300)  # status, posted, excess
    assert balance(conn, peer)[:2] == (200, 500)
    settle(conn, second, Decimal("0.5"))
    assert balance(conn, peer)[:2] == (200, 0)
    check(conn)


def test_a_call_that_costs_more_than_the_balance_leaves_a_debt_that_blocks(conn, peer):
    hold = reserve(conn, peer, estimate=Decimal("0.5"))
    row = settle(conn, hold, Decimal("1.7"))  # 1,700 tokens: 500 held, 500 from the balance, 700 owed
    assert (row[10], row[11], row[12]) == (1700, 500, 700)
    assert balance(conn, peer)[:4] == (0, 0, 0, 700)
    with pytest.raises(SpendInDebt):
        reserve(conn, peer, estimate=Decimal("0.001"))
    q(conn, "select debugloop.ledger_grant(gen_random_uuid(), %s, 1000, 'top up')", peer)
    assert q(conn, "select debt from debugloop.spending_repay(%s)", peer)[0] == 0
    assert balance(conn, peer)[:4] == (300, 0, 0, 0)
    check(conn)


def history(dl):
    """Three successes each of gpt-4o and gpt-4o-mini at TASK, by an agent of no peer."""
    for model in ("gpt-4o", "gpt-4o-mini") * 3:
        a = dl.attempts.start("historian", TASK, model)
        dl.attempts.finish(a, "success", usage=BIG)


def test_attempt_start_reserves_and_finish_settles_in_its_transaction(conn, dl, peer):
    a = dl.attempts.start("fixer", TASK, MODEL)  # spending off: nothing held
    with pytest.raises(NotFound):
        dl.spending.reservation(a)
    dl.attempts.finish(a, "success", usage=BIG)
    spending_on(conn)
    a = dl.attempts.start("fixer", TASK, MODEL, estimate_usd=Decimal("0.05"))
    r = dl.spending.reservation(a)
    assert (r.peer_id, r.basis, r.hold_tokens, r.status) == (peer, "caller", 50, "active")
    p90 = dl.attempts.start("fixer", TASK, MODEL)  # the earlier attempt at TASK gives a p90
    assert dl.spending.reservation(p90).basis == "p90"
    dl.spending.release(dl.spending.reservation(p90).hold_id)
    dl.attempts.finish(p90, "cancelled")  # no active reservation left: nothing to settle
    assert dl.spending.balance(peer).held == 50
    with dl.connection() as tx:  # the cost and its charge commit together, or neither does
        finished = dl.attempts.finish(a, "success", usage=BIG, conn=tx)
        assert dl.spending.reservation(a, conn=tx).status == "settled"
        raise psycopg.Rollback()
    assert dl.spending.reservation(a).status == "active"
    finished = dl.attempts.finish(a, "success", usage=BIG)
    r = dl.spending.reservation(a)
    assert (r.status, r.cost_usd, r.posted_tokens) == ("settled", finished.cost_usd, 27)
    b = dl.spending.balance(peer)
    assert (b.available, b.held, b.posted, b.charged) == (1000 - 27, 0, 27, Decimal("27.000"))
    nothing = dl.attempts.start("fixer", TASK, MODEL)
    dl.attempts.finish(nothing, "error", error_type="Crash")  # no usage: the hold comes back
    assert dl.spending.reservation(nothing).status == "released"
    other = dl.attempts.start("someone else", TASK, MODEL)  # an agent of no peer is charged nothing
    with pytest.raises(NotFound):
        dl.spending.reservation(other)
    check(conn)


def test_imported_history_is_never_charged(conn, dl, peer):
    spending_on(conn)
    before = dl.spending.balance(peer)
    sessions = json.dumps([{"key": "s1", "correlation_id": str(uuid.uuid4())}])
    units = [
        {"key": "u1", "session": "s1", "request": TASK, "agent": "fixer", "model": MODEL, "status": "success",
         "started_at": "2026-11-01T10:00:00Z", "completed_at": "2026-11-01T10:01:00Z", "usage": BIG},
        {"key": "u2", "session": "s1", "request": TASK, "agent": "fixer", "model": MODEL, "status": "running",
         "started_at": "2026-11-01T11:00:00Z", "usage": BIG},
    ]  # fmt: skip
    call = "select inserted, finished from debugloop.import_units('claude-code', gen_random_uuid(), %s, %s)"
    assert q(conn, call, sessions, json.dumps(units)) == (2, 0)
    units[1] = {**units[1], "status": "success", "completed_at": "2026-11-01T11:02:00Z"}  # the running one finishes
    assert q(conn, call, sessions, json.dumps(units))[1] == 1
    assert q(conn, "select count(*) from debugloop.debug_execution_attempts where status = 'success'")[0] == 2
    assert q(conn, "select count(*) from debugloop.spend_reservations")[0] == 0
    assert dl.spending.balance(peer) == before


def test_insufficient_balance_is_refused_before_any_row_with_a_cheaper_model(conn, dl, peer):
    history(dl)
    spending_on(conn)
    # 1000 tokens: take 900 of them away, so that gpt-4o's 450 cannot be held
    dl.spending.settle(dl.spending.reserve(peer, MODEL, estimate_usd=Decimal("0.9")).hold_id, Decimal("0.9"))
    before = counts(conn)
    with pytest.raises(InsufficientBalance) as refused:
        dl.attempts.start("fixer", TASK, "gpt-4o")
    e = refused.value
    assert (e.balance, e.held, e.available, e.needed, e.model) == (100, 0, 100, 450, "gpt-4o")
    assert e.cheaper_model == "gpt-4o-mini" and Decimal(str(e.cheaper_estimate_usd)) == Decimal("0.027")
    assert e.field == "peer" and "gpt-4o-mini" in e.hint
    assert counts(conn) == before  # no attempt, hold, reservation, transfer or event
    with pytest.raises(InsufficientBalance):  # the recorder too, without fallback
        with dl.attempt("fixer", TASK, "gpt-4o"):
            pytest.fail("the block must not run: the call is refused before it")
    assert counts(conn) == before
    with dl.attempt("fixer", TASK, "gpt-4o", fallback=True) as a:
        assert (a.model, a.requested_model) == ("gpt-4o-mini", "gpt-4o")
        a.record_usage(BIG)
    assert (a.result.model_used, a.result.cost_usd) == ("gpt-4o-mini", Decimal("0.027"))
    r = dl.spending.reservation(a.attempt_id)
    assert (r.model, r.status, r.posted_tokens) == ("gpt-4o-mini", "settled", 27)
    assert dl.spending.balance(peer).available == 100 - 27
    check(conn)


def test_no_cheaper_model_when_none_fits(conn, dl, peer):
    spending_on(conn)
    dl.spending.settle(dl.spending.reserve(peer, MODEL, estimate_usd=Decimal("1")).hold_id, Decimal("1"))
    with pytest.raises(InsufficientBalance) as refused:
        dl.spending.reserve(peer, "gpt-4o", user_request=TASK)
    assert (refused.value.available, refused.value.cheaper_model) == (0, None)
    with pytest.raises(InsufficientBalance):  # fallback without a cheaper model: refused still
        with dl.attempt("fixer", TASK, "gpt-4o", fallback=True):
            pass


def test_the_manager_round_trip(dl, peer):
    e = dl.spending.estimate("gpt-4o")
    assert (e.basis, e.tokens) == ("max_output", int((e.cost_usd * 1000).to_integral_value(rounding="ROUND_CEILING")))
    assert dl.spending.estimate("gpt-4o", estimate_usd=Decimal("0.0101")).tokens == 11
    hold = uuid.uuid4()
    r = dl.spending.reserve(peer, "gpt-4o", estimate_usd=0.0101, hold_id=hold)
    assert dl.spending.reserve(peer, "gpt-4o", estimate_usd=0.0101, hold_id=hold) == r  # a retry
    settled = dl.spending.settle(hold, Decimal("0.0123"))  # 12.3 tokens: 11 held, 1 more from the balance
    assert (settled.posted_tokens, settled.excess_tokens, settled.debt_tokens) == (12, 1, 0)
    assert dl.spending.balance(peer).remainder == Decimal("0.3")
    assert dl.spending.repay(peer).debt == 0
    with pytest.raises(ReservationNotActive):
        dl.spending.release(hold)


def test_eight_connections_never_hold_more_than_the_balance(db, conn, peer):
    """8 connections reserve random amounts for one peer at once, settle or release
    some; the holds never exceed what the peer had, no balance goes negative, and
    the ledger's invariants hold throughout and after."""
    q(conn, "select debugloop.ledger_grant(gen_random_uuid(), %s, 4000, 'concurrency')", peer)
    funds = balance(conn, peer)[0]
    stop = time.monotonic() + 4
    failures: list[BaseException] = []
    refused = [0]
    seen: list[tuple[int, int]] = []

    def worker(n: int) -> None:
        rng = random.Random(n)
        try:
            with psycopg.connect(db.url, autocommit=True) as c:
                while time.monotonic() < stop:
                    tokens = rng.randint(1, 900)
                    try:
                        hold = reserve(c, peer, estimate=Decimal(tokens) / 1000)
                    except InsufficientBalance:
                        refused[0] += 1
                        continue
                    if rng.random() < 0.5:
                        q(c, "select debugloop.spending_release(%s)", hold)
                    else:
                        settle(c, hold, Decimal(rng.randint(0, tokens)) / 1000)  # within its hold
        except BaseException as exc:  # noqa: BLE001 (reported below)
            failures.append(exc)

    violations: list[tuple] = []

    def checker() -> None:
        with psycopg.connect(db.url, autocommit=True) as c:
            while time.monotonic() < stop:
                with c.transaction():
                    c.execute("set transaction isolation level repeatable read")
                    row = c.execute(
                        "select a.balance, a.held, a.lifetime_spent, (select coalesce(sum(e.amount), 0)"
                        " from debugloop.ledger_entries e where e.account_id = a.account_id)"
                        " from debugloop.ledger_accounts a where a.peer_id = %s",
                        (peer,),
                    ).fetchone()
                available, held, spent, entries = row
                seen.append((available, held))
                if available < 0 or held > funds or available + held + spent != funds or available != entries:
                    violations.append(row)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)] + [threading.Thread(target=checker)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == [] and violations == []
    assert len(seen) > 10
    assert refused[0] > 0  # the balance was contended for
    available, held, remainder, debt, charged, posted = balance(conn, peer)
    assert held == 0 and debt == 0 and available + posted == funds
    check(conn)
