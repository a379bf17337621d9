"""What the reward engine costs, on a throwaway embedded PostgreSQL.

    .venv/bin/python bench/rewards.py [--stfs 2000] [--attempts 1500] [--copies 40]

1. Calculation and posting of one reward: debugloop._reward_stf (the quote:
   tier, novelty from the 32 nearest earlier STFs by the HNSW index, the daily cap;
   then the reward_payments row and the ledger transfer from issuance) for STFs
   approved while rewards were off, among --stfs STFs; and a royalty
   (stf_record_use by another peer, rewards on vs off). p50/p95/p99.
   Goal: p95 <= 2 ms (the seed: < 50 ms).
2. attempt_finish with rewards on / off (bench/attempts.py's start + finish pair),
   in alternating blocks so that load on the shared machine falls on both. Goal:
   at most 10 % more.
3. The import of bench/importer.py's corpus (--copies of the bundled Claude Code
   sessions) into two fresh databases, rewards off and on. Goal: at most 10 % more.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import psycopg

import debugloop
from attempts import one_attempt
from common import latency, throwaway_server
from importer import make_corpus

CODE = '''def total_{n}(rows, rate):
    """Sum the {w} amounts of rows and add a rate."""
    total = 0
    for row in rows:
        if row.get("{w}"):
            total += float(row["{w}"]) * {n}
    return round(total * (1 + rate), 2)
'''


def word(n: int) -> str:
    letters = ""
    while True:
        n, r = divmod(n, 26)
        letters += "abcdefghijklmnopqrstuvwxyz"[r]
        if n == 0:
            return letters


def setup(conn: psycopg.Connection) -> None:
    for peer, agent in (("peer_alice", "alice"), ("peer_bob", "bob")):
        conn.execute("select debugloop.peer_create(%s, 'agent', %s)", (peer, agent))
        conn.execute("select debugloop.peer_map_agent(%s, %s)", (agent, peer))
    conn.execute("select debugloop.settings_set('reward_daily_cap', '1000000000')")


def attempt(conn: psycopg.Connection, agent: str, i: int) -> str:
    a = conn.execute(
        "select debugloop.attempt_start(%s, %s, 'gpt-4o')", (agent, f"sum the {word(i)} amounts of rows")
    ).fetchone()[0]
    conn.execute("select debugloop.attempt_finish(%s, 'success')", (a,))
    return a


def flag(conn: psycopg.Connection, on: bool) -> None:
    conn.execute("select debugloop.settings_set('enable_token_rewards', %s)", ("true" if on else "false",))


def reward_latency(url: str, stfs: int) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        setup(conn)
        flag(conn, False)
        ids = []
        for i in range(stfs):
            source = attempt(conn, "alice", i)
            ids.append(
                conn.execute(
                    "select debugloop.stf_register(%s, %s, source_attempt_id => %s)",
                    (f"total_{word(i)}", CODE.format(n=i, w=word(i)), source),
                ).fetchone()[0]
            )
        conn.execute("update debugloop.debug_transform_functions set quality_score = 0.8, complexity_score = 0.5")
        for s in ids:
            conn.execute("select debugloop.stf_approve(%s)", (s,))
        flag(conn, True)
        samples = []
        for s in ids[: stfs // 2]:
            t = time.perf_counter()
            conn.execute("select debugloop._reward_stf(%s, true)", (s,))
            samples.append((time.perf_counter() - t) * 1000)
        paid = conn.execute("select count(*), sum(amount) from debugloop.reward_payments").fetchone()
        print(latency("STF reward: quote + post", samples), f"({paid[0]} paid, {paid[1]} tokens)", flush=True)
        uses = [attempt(conn, "bob", stfs + i) for i in range(stfs)]
        for label, on, part in (("stf_record_use, rewards off", False, 0), ("stf_record_use + royalty", True, 1)):
            flag(conn, on)
            samples = []
            for s, a in list(zip(ids, uses, strict=True))[part::2]:
                t = time.perf_counter()
                conn.execute("select debugloop.stf_record_use(%s, %s, true)", (s, a))
                samples.append((time.perf_counter() - t) * 1000)
            print(latency(label, samples), flush=True)
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
    ap.add_argument("--stfs", type=int, default=2000, help="STFs in the table; half are paid while timed")
    ap.add_argument("--attempts", type=int, default=1500, help="attempts per side for attempt_finish")
    ap.add_argument("--copies", type=int, default=40, help="copies of the bundled Claude Code sessions to import")
    args = ap.parse_args()
    with throwaway_server() as status:
        reward_latency(status.url(), args.stfs)
        finish_overhead(status.url(), 2 * args.attempts)
    import_overhead(args.copies)


if __name__ == "__main__":
    main()
