"""What spending adds to recording an attempt, measured on a throwaway embedded PostgreSQL.

    .venv/bin/python bench/spending.py [--pairs 600] [--rounds 3] [--durable]

attempt_start + attempt_finish pairs through the Python client (each call its own
commit, as an agent records), in three modes run in turns (round robin, each mode
first, second and last in turn, so that the load of a shared machine and the growing
tables fall on each alike):

  off     enable_token_spending off: no reservation
  on      spending on: attempt_start reserves (a ledger hold), attempt_finish settles
  limits  spending on, with a day budget of the peer, a month budget of a team it is in
          (soft and hard limits, never reached) and a rate limit rule for the peer and model

Prints p50/p95/p99 and pairs/s per mode, and the p95 that spending adds (goal: <= 1 ms)
and that the budget and rate limit checks add on top of it. Then the server's own time
(clock_timestamp around the call, in pg_temp wrappers: what a loaded machine's client
round trips do not blur) of spending_reserve + spending_settle in modes on and limits,
and of the two checks alone when no budget and no rate limit applies.
"""

from __future__ import annotations

import argparse
import statistics
import time
import uuid

import psycopg

import debugloop
from common import latency, percentile, throwaway_server

USAGE = {"usage": {"prompt_tokens": 3_000, "completion_tokens": 400}}
PEER = "peer_bench_spender"
AGENT = "bench-spender"
MODEL = "gpt-4o-mini"


def pair(dl: debugloop.Client, i: int) -> float:
    t0 = time.perf_counter()
    attempt_id = dl.attempts.start(AGENT, f"Fix the failing test number {i % 50}", MODEL, estimate_usd="0.01")
    dl.attempts.finish(attempt_id, "success", usage=USAGE)
    return (time.perf_counter() - t0) * 1000


def setup(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("select debugloop.peer_create(%s, 'agent', 'bench', agent_names => array[%s])", (PEER, AGENT))
        conn.execute("select debugloop.peer_create('peer_bench_other', 'agent', 'other')")
        conn.execute("select debugloop.ledger_grant(%s, %s, 1000000000, 'bench')", (uuid.uuid4(), PEER))


def mode(url: str, name: str) -> None:
    """Switch the database to a mode (the flag, and the budgets and rule of `limits`)."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "select debugloop.settings_set('enable_token_spending', %s)", ("false" if name == "off" else "true",)
        )
        budgets = conn.execute("select budget_id from debugloop.spend_budgets where retired_at is null").fetchall()
        for (budget_id,) in budgets:
            conn.execute("select debugloop.budget_retire(%s)", (budget_id,))
        conn.execute("select debugloop.budget_rate_limit_remove(%s, %s)", (PEER, MODEL))
        if name == "limits":
            conn.execute("select debugloop.budget_team_set('bench_team', array[%s, 'peer_bench_other'])", (PEER,))
            conn.execute("select debugloop.budget_set(%s, period => 'day', soft_limit => 1000000000, hard_limit => 1000000000)",
                         (PEER,))  # fmt: skip
            conn.execute(
                "select debugloop.budget_set(team => 'bench_team', period => 'month', hard_limit => 1000000000)"
            )
            conn.execute("select debugloop.budget_rate_limit_set(%s, %s, 1000000, 1000000000)", (PEER, MODEL))


# the server's time of one call, in milliseconds
TIMERS = """
create function pg_temp.timed_reserve(hold uuid, peer text) returns double precision language plpgsql as $$
declare t timestamptz := clock_timestamp();
begin
    perform debugloop.spending_reserve(hold, peer, 'gpt-4o-mini', estimate_usd => 0.01);
    return extract(epoch from clock_timestamp() - t) * 1000;
end $$;
create function pg_temp.timed_settle(hold uuid) returns double precision language plpgsql as $$
declare t timestamptz := clock_timestamp();
begin
    perform debugloop.spending_settle(hold, 0.0042, 1200);
    return extract(epoch from clock_timestamp() - t) * 1000;
end $$;
create function pg_temp.timed_checks(peer text) returns double precision language plpgsql as $$
declare t timestamptz := clock_timestamp();
begin
    perform debugloop._spending_rate_check(peer, 'gpt-4o-mini');
    perform debugloop._budget_count(peer, 10);
    return extract(epoch from clock_timestamp() - t) * 1000;
end $$;
"""


def server(url: str, pairs: int, rounds: int) -> None:
    """Server-side times of reserve + settle (on, limits) and of the checks with nothing set."""
    samples: dict[str, list[float]] = {"on": [], "limits": [], "checks": []}
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(TIMERS)
        for _round in range(rounds):
            for m in ("on", "limits"):
                mode(url, m)
                for i in range(pairs + 20):
                    hold = uuid.uuid4()
                    t = conn.execute("select pg_temp.timed_reserve(%s, %s)", (hold, PEER)).fetchone()[0]
                    t += conn.execute("select pg_temp.timed_settle(%s)", (hold,)).fetchone()[0]
                    if i >= 20:  # after the plans of the mode
                        samples[m].append(t)
                if m == "on":
                    samples["checks"] += [
                        conn.execute("select pg_temp.timed_checks(%s)", (PEER,)).fetchone()[0] for _ in range(pairs)
                    ]
    print(latency("server: reserve+settle, on", samples["on"]))
    print(latency("server: reserve+settle, limits", samples["limits"]))
    print(latency("server: both checks, nothing set", samples["checks"]))
    p50 = {m: statistics.median(v) for m, v in samples.items()}
    p95 = {m: percentile(v, 0.95) for m, v in samples.items()}
    print(f"server: budgets + rate limit add p50 {p50['limits'] - p50['on']:+.3f} ms, p95 {p95['limits'] - p95['on']:+.3f} ms"
          f" to a reserve+settle pair; with nothing set the checks cost p50 {p50['checks']:.3f} ms")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pairs", type=int, default=600, help="pairs per mode and round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--durable", action="store_true", help="fsync on (default: off, as the tests run)")
    parser.add_argument("--profile", action="store_true", help="track_functions = all: the functions' times")
    args = parser.parse_args()
    modes = ("off", "on", "limits")
    with throwaway_server(fast=not args.durable) as status:
        url = status.url()
        print(f"load average {' '.join(open('/proc/loadavg').read().split()[:3])} at the start")
        setup(url)
        if args.profile:
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute("select set_config('track_functions', 'all', false)")
                conn.execute(f"alter database {conn.info.dbname} set track_functions = 'all'")
        samples: dict[str, list[float]] = {m: [] for m in modes}
        elapsed: dict[str, float] = dict.fromkeys(modes, 0.0)
        with debugloop.connect(url) as dl:
            for i in range(200):  # warm up: pool, plans, caches
                pair(dl, i)
            for r in range(args.rounds):
                for m in modes[r % 3 :] + modes[: r % 3]:  # each mode first, second and last in turn
                    mode(url, m)
                    for i in range(50):
                        pair(dl, i)  # the new mode's plans
                    t0 = time.perf_counter()
                    samples[m] += [pair(dl, i) for i in range(args.pairs)]
                    elapsed[m] += time.perf_counter() - t0
        server(url, args.pairs, args.rounds)
        with psycopg.connect(url) as conn:
            reservations = conn.execute("select count(*) from debugloop.spend_reservations").fetchone()[0]
            alerts = conn.execute("select count(*) from debugloop.spend_budget_alerts").fetchone()[0]
            profile = conn.execute(
                "select funcname, calls, round(total_time::numeric / calls * 1000, 1), round(self_time::numeric / calls"
                " * 1000, 1) from pg_stat_user_functions where schemaname = 'debugloop'"
                " order by funcname like any (array['%budget%', '%spending_rate%']) desc, total_time desc limit 30"
            ).fetchall()
    print(f"load average {' '.join(open('/proc/loadavg').read().split()[:3])} at the end")
    for m in modes:
        print(latency(f"start+finish, spending {m}", samples[m]) + f"  {len(samples[m]) / elapsed[m]:,.0f} pairs/s")
    p95 = {m: percentile(samples[m], 0.95) for m in modes}
    p50 = {m: statistics.median(samples[m]) for m in modes}
    print(f"spending adds: p50 {p50['on'] - p50['off']:+.3f} ms, p95 {p95['on'] - p95['off']:+.3f} ms (goal <= 1 ms)")
    print(
        f"budgets + rate limit add on top: p50 {p50['limits'] - p50['on']:+.3f} ms, p95 {p95['limits'] - p95['on']:+.3f} ms"
    )
    print(f"spending with limits vs off: p95 {p95['limits'] - p95['off']:+.3f} ms")
    print(f"({reservations:,} reservations made, {alerts} alerts)")
    if args.profile:
        print(f"{'function':<36} {'calls':>7} {'total us':>9} {'self us':>8}  (per call, all modes)")
        for name, calls, total, own in profile:
            print(f"{name:<36} {calls:>7} {total:>9} {own:>8}")


if __name__ == "__main__":
    main()
