"""What the reward engine costs, on a throwaway embedded PostgreSQL.

    .venv/bin/python bench/rewards.py [--stfs 10000] [--rewards 2000] [--attempts 1500] [--copies 40]

1. Calculation and posting of one reward, among --stfs STFs (made on the server,
   in batches, from one template of varied code, each from its own attempt by
   peer_alice, all approved while rewards were off): debugloop._reward_stf (the
   quote: tier, novelty from the nearest earlier STF by the HNSW index, the
   daily cap; then the reward_payments row and the ledger transfer from
   issuance) for --rewards STFs drawn at random. Each line gives the server's
   time of the call (clock_timestamp around it, in a pg_temp wrapper) and the
   client's round trip of that call, p50/p95/p99, with the load average. Beside
   it, the same way: the quote alone (reward_preview), a bare ledger transfer from
   issuance (what a payment posts), and a royalty (stf_record_use by another
   peer, rewards on vs off). Goal: p95 <= 2 ms (the seed: < 50 ms).
2. attempt_finish with rewards on / off (bench/attempts.py's start + finish pair),
   in alternating blocks so that load on the shared machine falls on both. Goal:
   at most 10 % more.
3. The import of bench/importer.py's corpus (--copies of the bundled Claude Code
   sessions) into two fresh databases, rewards off and on. Goal: at most 10 % more.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import psycopg

import debugloop
from attempts import one_attempt
from common import latency, throwaway_server
from importer import make_corpus

# the server makes the STFs: per STF an attempt of alice's and a function of varied
# names, operators and constants (so that similarities spread), in batches of 500
SEED = r'''
create function pg_temp.seed(first integer, last integer) returns void
language plpgsql set search_path = debugloop, pg_catalog, pg_temp as $$
declare
    a uuid;
    w text;
    v text;
begin
    for i in first .. last loop
        w := substr(md5(i::text), 1, 6);
        v := substr(md5((i * 7)::text), 3, 5);
        a := attempt_start('alice', 'compute the ' || w || ' of ' || v, 'gpt-4o');
        perform attempt_finish(a, 'success');
        perform stf_register('fn_' || w || '_' || i,
            format(E'def %s_%s(rows, %s):\n    """Compute the %s of %s rows."""\n    acc = %s\n' ||
                   E'    for r in rows:\n        if r.get("%s") %s %s:\n            acc = acc %s r["%s"]\n    return acc\n',
                   w, i, v, w, v, i % 7, v, (array['>', '<', '=='])[i % 3 + 1], i % 11,
                   (array['+', '*', '-', 'or'])[i % 4 + 1], w),
            source_attempt_id => a);
    end loop;
end $$;
'''

# the server's time of one call, in milliseconds (the client times the round trip)
TIMERS = """
create function pg_temp.timed_reward(stf uuid) returns double precision language plpgsql as $$
declare t timestamptz := clock_timestamp();
begin
    perform debugloop._reward_stf(stf, true);
    return extract(epoch from clock_timestamp() - t) * 1000;
end $$;
create function pg_temp.timed_quote(stf uuid) returns double precision language plpgsql as $$
declare t timestamptz := clock_timestamp();
begin
    perform debugloop.reward_preview('stf', stf);
    return extract(epoch from clock_timestamp() - t) * 1000;
end $$;
create function pg_temp.timed_transfer(id uuid) returns double precision language plpgsql as $$
declare t timestamptz := clock_timestamp();
begin
    perform debugloop.ledger_transfer(id, 'sys_issuance', 'peer_carol', 100, 'earned', 'stf_contribution');
    return extract(epoch from clock_timestamp() - t) * 1000;
end $$;
create function pg_temp.timed_use(stf uuid, attempt uuid) returns double precision language plpgsql as $$
declare t timestamptz := clock_timestamp();
begin
    perform debugloop.stf_record_use(stf, attempt, true);
    return extract(epoch from clock_timestamp() - t) * 1000;
end $$;
"""


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"load {one:.2f} / {five:.2f}"


def setup(conn: psycopg.Connection) -> None:
    for peer, agent in (("peer_alice", "alice"), ("peer_bob", "bob"), ("peer_carol", "carol")):
        conn.execute("select debugloop.peer_create(%s, 'agent', %s)", (peer, agent))
        conn.execute("select debugloop.peer_map_agent(%s, %s)", (agent, peer))
    conn.execute("select debugloop.settings_set('reward_daily_cap', '1000000000')")


def attempt(conn: psycopg.Connection, agent: str, i: int) -> str:
    a = conn.execute(
        "select debugloop.attempt_start(%s, %s, 'gpt-4o')", (agent, f"use the {i} amounts of rows")
    ).fetchone()[0]
    conn.execute("select debugloop.attempt_finish(%s, 'success')", (a,))
    return a


def flag(conn: psycopg.Connection, on: bool) -> None:
    conn.execute("select debugloop.settings_set('enable_token_rewards', %s)", ("true" if on else "false",))


def timed(conn: psycopg.Connection, label: str, query: str, args: list[tuple]) -> None:
    """Run query once per args, and print the server's time and the client's round trip."""
    server, client = [], []
    for a in args:
        t = time.perf_counter()
        server.append(conn.execute(query, a).fetchone()[0])
        client.append((time.perf_counter() - t) * 1000)
    print(latency(f"{label}: server", server), load(), flush=True)
    print(latency(f"{label}: client", client), load(), flush=True)


def reward_latency(url: str, stfs: int, rewards: int) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        setup(conn)
        flag(conn, False)
        conn.execute(SEED)
        t = time.perf_counter()
        for first in range(0, stfs, 500):
            conn.execute("select pg_temp.seed(%s, %s)", (first, min(stfs, first + 500) - 1))
        conn.execute("update debugloop.debug_transform_functions set quality_score = 0.8, complexity_score = 0.5")
        conn.execute("select count(debugloop.stf_approve(stf_id)) from debugloop.debug_transform_functions")
        conn.execute("vacuum analyze")
        print(f"{stfs:,} STFs made and approved in {time.perf_counter() - t:.0f} s", load(), flush=True)
        conn.execute(TIMERS)
        flag(conn, True)
        ids = [r[0] for r in conn.execute("select stf_id from debugloop.debug_transform_functions order by random()")]
        sample = ids[:rewards]
        timed(conn, "quote alone (preview)", "select pg_temp.timed_quote(%s)", [(s,) for s in sample])
        timed(conn, "STF reward, quote + post", "select pg_temp.timed_reward(%s)", [(s,) for s in sample])
        paid = conn.execute("select count(*), sum(amount) from debugloop.reward_payments").fetchone()
        print(f"{paid[0]:,} STF rewards paid, {paid[1]:,} tokens", flush=True)
        transfers = [(uuid.uuid4(),) for _ in sample]
        timed(conn, "bare transfer from issuance", "select pg_temp.timed_transfer(%s)", transfers)
        uses = [(s, attempt(conn, "bob", i)) for i, s in enumerate(ids[: 2 * min(rewards, 500)])]
        for label, on, part in (("record_use, rewards off", False, 0), ("record_use + royalty", True, 1)):
            flag(conn, on)
            timed(conn, label, "select pg_temp.timed_use(%s, %s)", uses[part::2])
        bad = conn.execute("select count(*) from debugloop.ledger_check() where not holds").fetchone()[0]
        if bad:
            sys.exit(f"ledger_check: {bad} invariants fail")


def finish_overhead(url: str, n: int) -> None:
    with debugloop.connect(url) as dl, psycopg.connect(url, autocommit=True) as conn:
        for i in range(200):
            one_attempt(dl, i)  # warm up
        times: dict[bool, list[float]] = {False: [], True: []}
        block = 100
        for b in range(n // block):
            on = b % 2 == 1
            flag(conn, on)
            times[on] += [one_attempt(dl, 1000 + b * block + i) for i in range(block)]
        for on in (False, True):
            print(latency(f"attempt start+finish, rewards {'on' if on else 'off'}", times[on]), flush=True)
        ratio = statistics.median(times[True]) / statistics.median(times[False])
        print(f"attempt_finish with rewards / without (median): {ratio:.3f}x", flush=True)


def import_overhead(copies: int) -> None:
    with tempfile.TemporaryDirectory() as root:
        tmp = Path(root) / "projects"
        tmp.mkdir()
        lines, _ = make_corpus(tmp, copies)
        seconds = {}
        for on in (False, True, False, True):
            with throwaway_server() as status:
                with psycopg.connect(status.url(), autocommit=True) as conn:
                    flag(conn, on)
                with debugloop.connect(status.url()) as dl:
                    t = time.perf_counter()
                    dl.imports.run("claude-code", [tmp])
                    seconds.setdefault(on, []).append(time.perf_counter() - t)
        for on in (False, True):
            best = min(seconds[on])
            print(
                f"import of {lines:,} lines, rewards {'on' if on else 'off'}: best {best:.2f} s ({lines / best:,.0f} lines/s)"
            )
        print(f"import with rewards / without (best of 2): {min(seconds[True]) / min(seconds[False]):.3f}x")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--stfs", type=int, default=10000, help="STFs in the table")
    ap.add_argument("--rewards", type=int, default=2000, help="STF rewards timed (drawn at random among the STFs)")
    ap.add_argument("--attempts", type=int, default=1500, help="attempts per side for attempt_finish")
    ap.add_argument("--copies", type=int, default=40, help="copies of the bundled Claude Code sessions to import")
    args = ap.parse_args()
    with throwaway_server() as status:
        reward_latency(status.url(), args.stfs, args.rewards)
        finish_overhead(status.url(), 2 * args.attempts)
    import_overhead(args.copies)


if __name__ == "__main__":
    main()
