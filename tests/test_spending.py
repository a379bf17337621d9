"""Spending in SQL: exact conversion with a carried remainder, reserve and settle,
the overdraft rule, expiry, refusals before anything is written, concurrency."""

import os
import random
import uuid
from decimal import Decimal

import pytest

from debugloop.errors import wrap_exceptions

MODEL = "gpt-4o-mini"
N_COSTS = int(os.environ.get("DEBUGLOOP_SPEND_COSTS", "1000"))


@pytest.fixture
def peer(dl):
    dl.peers.create("peer_spender", kind="agent", display_name="spender")
    return "peer_spender"


def q(conn, sql, *args):
    with wrap_exceptions():
        return conn.execute(sql, args).fetchone()


def reserve(conn, peer, estimate=None, model=MODEL, request=None):
    hold = uuid.uuid4()
    q(conn, "select debugloop.spending_reserve(%s, %s, %s, %s, %s)", hold, peer, model, request, estimate)
    return hold


def settle(conn, hold, cost):
    return q(conn, "select (r).* from debugloop.spending_settle(%s, %s) r", hold, cost)


def balance(conn, peer):
    return q(conn, "select available, held, remainder, debt, charged, posted from debugloop.spending_balance(%s)", peer)


def check(conn):
    bad = conn.execute("select * from debugloop.ledger_check() c where not c.holds").fetchall()
    assert bad == []


def test_posted_plus_remainder_is_the_exact_sum_over_10000_real_costs(conn, peer):
    prices = conn.execute(
        "select input_price_per_million, output_price_per_million from debugloop.model_price_catalog"
        " where input_price_per_million > 0 order by catalog_id limit 200"
    ).fetchall()
    assert len(prices) >= 10
    rng = random.Random(22)
    costs = []
    for _ in range(N_COSTS):
        pin, pout = rng.choice(prices)
        costs.append(pin * rng.randint(0, 3000) / 1_000_000 + pout * rng.randint(0, 500) / 1_000_000)
    q(conn, "select debugloop.ledger_grant(gen_random_uuid(), %s, 10000000, 'spending test')", peer)
    conn.execute(
        "select (debugloop.spending_settle((debugloop.spending_reserve(gen_random_uuid(), %s, %s, null, c)).hold_id, c)).status"
        " from unnest(%s::numeric[]) with ordinality u(c, n) order by n",
        (peer, MODEL, costs),
    )
    available, held, remainder, debt, charged, posted = balance(conn, peer)
    exact = sum(costs, Decimal(0)) * 1000
    assert charged == exact
    assert posted + remainder == exact
    assert 0 <= remainder < 1 and held == 0 and debt == 0
    spent = q(conn, "select sum(posted_tokens) from debugloop.spend_reservations where peer_id = %s", peer)[0]
    assert spent == posted
    check(conn)
