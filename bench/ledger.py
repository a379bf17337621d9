"""The token ledger, side by side with pgledger, on one durable embedded PostgreSQL.

    .venv/bin/python bench/ledger.py [--seconds 10] [--threads 8] [--pgledger DIR] [--fast]

One server (fsync and synchronous_commit on unless --fast) holds two databases:
debugloop's, migrated, and pgledger's (MIT; loaded from --pgledger, by default
../shared/peers/pgledger beside the repository; skipped when absent). The same
client drives both: one psycopg connection per thread, autocommit, prepared
statements, for --seconds each, in alternating slices of about 2 s (so that other
load on the machine falls on both alike), each after half a second of warm-up:

1. single transfers of 1 token between random pairs of 50 accounts, then of 10;
2. batched transfers: batches of --batch transfers among 50 accounts, one call each,
   from one connection and from --threads (a batch locks all its accounts at once);
3. minting: every transfer from one account (debugloop: issuance, shards taken
   without waiting) to one of 50, against transfers spread over the 50 measured in
   the same alternating slices: the contention case, as a ratio;
4. hold + settle pairs among 50 peers (debugloop only: pgledger has no holds), from
   --threads connections and twice as many (each pair is two commits);
5. ledger_balance latency from one connection.

Both ledgers refuse to overdraw the 50 accounts: pgledger's are made with
allow_negative_balance false and funded from an account that may go negative,
as debugloop's peers are funded from issuance.

Goals: single transfers >= 1.0x pgledger in the same run; batched >= 20,000
transfers/s; minting >= 0.8x the spread case; hold + settle >= 1,000 pairs/s;
ledger_balance p95 <= 1 ms.
"""

from __future__ import annotations

import argparse
import random
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import orjson
import psycopg

from common import latency, percentile, throwaway_server
from debugloop.migrate import migrate

REPO = Path(__file__).resolve().parent.parent
PGLEDGER = REPO.parent / "shared" / "peers" / "pgledger"
PGLEDGER_FILES = ("ulid-to-uuid.sql", "uuid-to-ulid.sql", "pgledger.sql")
FUNDS = 1_000_000_000


@dataclass
class Run:
    """What the threads of one measurement did."""

    name: str
    done: int = 0
    latencies_ms: list[float] = field(default_factory=list)
    seconds: float = 0.0
    per_call: int = 1  # transfers per call

    @property
    def rate(self) -> float:
        return self.done * self.per_call / self.seconds

    def line(self, unit: str = "transfers/s") -> str:
        return (
            f"{self.name:<40} {self.rate:>9,.0f} {unit}   p50 {percentile(self.latencies_ms, 0.5):6.2f} ms"
            f"   p95 {percentile(self.latencies_ms, 0.95):6.2f} ms"
        )


def measure(name: str, url: str, threads: int, seconds: float, step: Callable, per_call: int = 1) -> Run:
    """Run ``step(cursor, rng)`` in ``threads`` threads, each on its own connection,
    for half a second of warm-up and then ``seconds``."""
    run = Run(name, per_call=per_call)
    lock = threading.Lock()
    start = threading.Barrier(threads + 1)
    stop_at = [0.0]

    def worker(k: int) -> None:
        rng = random.Random(k)
        samples: list[float] = []
        done = 0
        with psycopg.connect(url, autocommit=True) as conn, conn.cursor() as cur:
            warm_until = time.perf_counter() + 0.5
            while time.perf_counter() < warm_until:
                step(cur, rng)
            start.wait()
            while True:
                t0 = time.perf_counter()
                if t0 >= stop_at[0]:
                    break
                step(cur, rng)
                samples.append((time.perf_counter() - t0) * 1000)
                done += 1
        with lock:
            run.done += done
            run.latencies_ms += samples

    pool = [threading.Thread(target=worker, args=(k,)) for k in range(threads)]
    for t in pool:
        t.start()
    stop_at[0] = float("inf")
    start.wait()
    t0 = time.perf_counter()
    stop_at[0] = t0 + seconds
    for t in pool:
        t.join()
    run.seconds = time.perf_counter() - t0
    return run


# -- debugloop ------------------------------------------------------------------------


def debugloop_setup(url: str, accounts: int) -> list[str]:
    peers = [f"peer_bench{n:03d}" for n in range(accounts)]
    with psycopg.connect(url, autocommit=True) as conn:
        for peer in peers:
            conn.execute("select debugloop.peer_create(%s, 'service')", (peer,))
            conn.execute("select debugloop.ledger_grant(%s, %s, %s)", (uuid.uuid4(), peer, FUNDS))
    return peers


def debugloop_transfer(peers: list[str]) -> Callable:
    def step(cur, rng) -> None:
        a, b = rng.sample(peers, 2)
        cur.execute(
            "select transfer_id from debugloop.ledger_transfer(%s, %s, %s, 1)", (uuid.uuid4(), a, b), prepare=True
        )

    return step


def debugloop_batch(peers: list[str], size: int) -> Callable:
    def step(cur, rng) -> None:
        body = []
        for _ in range(size):
            a, b = rng.sample(peers, 2)
            body.append({"transfer_id": str(uuid.uuid4()), "from_peer_id": a, "to_peer_id": b, "amount": 1})
        cur.execute(
            "select count(*) from debugloop.ledger_transfers(%s::jsonb)", (orjson.dumps(body).decode(),), prepare=True
        )

    return step


def debugloop_mint(peers: list[str]) -> Callable:
    def step(cur, rng) -> None:
        cur.execute(
            "select transfer_id from debugloop.ledger_transfer(%s, 'sys_issuance', %s, 1, 'earned', 'stf_contribution')",
            (uuid.uuid4(), rng.choice(peers)),
            prepare=True,
        )

    return step


def debugloop_hold_settle(peers: list[str]) -> Callable:
    def step(cur, rng) -> None:
        hold = uuid.uuid4()
        cur.execute("select status from debugloop.ledger_hold(%s, %s, 50)", (hold, rng.choice(peers)), prepare=True)
        cur.execute("select status from debugloop.ledger_settle(%s, 30)", (hold,), prepare=True)

    return step


def debugloop_check(url: str) -> None:
    with psycopg.connect(url) as conn:
        failed = conn.execute("select invariant, detail from debugloop.ledger_check() where not holds").fetchall()
    if failed:
        raise SystemExit(f"ledger_check failed: {failed}")


# -- pgledger -------------------------------------------------------------------------


def pgledger_load(url: str, folder: Path) -> None:
    """Its files in one transaction, as its README says."""
    with psycopg.connect(url) as conn:
        for name in PGLEDGER_FILES:
            conn.execute((folder / name).read_text(encoding="utf-8"))


def pgledger_setup(url: str, accounts: int) -> tuple[str, list[str]]:
    with psycopg.connect(url, autocommit=True) as conn:
        issuance = conn.execute("select id from pgledger_create_account('issuance', 'USD')").fetchone()[0]
        ids = [
            conn.execute(
                "select id from pgledger_create_account(%s, 'USD', allow_negative_balance => false)",
                (f"acct{accounts}_{n}",),
            ).fetchone()[0]
            for n in range(accounts)
        ]
        for account in ids:
            conn.execute("select id from pgledger_create_transfer(%s, %s, %s)", (issuance, account, FUNDS))
    return issuance, ids


def pgledger_transfer(ids: list[str]) -> Callable:
    def step(cur, rng) -> None:
        a, b = rng.sample(ids, 2)
        cur.execute("select id from pgledger_create_transfer(%s, %s, 1)", (a, b), prepare=True)

    return step


def pgledger_batch(ids: list[str], size: int) -> Callable:
    def step(cur, rng) -> None:
        pairs = [rng.sample(ids, 2) for _ in range(size)]
        cur.execute(
            "select count(*) from pgledger_create_transfers("
            "(select array_agg(row(f, t, 1)::transfer_request) from unnest(%s::text[], %s::text[]) u(f, t)))",
            ([p[0] for p in pairs], [p[1] for p in pairs]),
            prepare=True,
        )

    return step


def pgledger_mint(issuance: str, ids: list[str]) -> Callable:
    def step(cur, rng) -> None:
        cur.execute("select id from pgledger_create_transfer(%s, %s, 1)", (issuance, rng.choice(ids)), prepare=True)

    return step


# -- the run ----------------------------------------------------------------------------


def balance_latency(url: str, peers: list[str], probes: int) -> list[float]:
    samples = []
    with psycopg.connect(url, autocommit=True) as conn, conn.cursor() as cur:
        for n in range(probes):
            t0 = time.perf_counter()
            cur.execute("select * from debugloop.ledger_balance(%s)", (peers[n % len(peers)],), prepare=True)
            cur.fetchall()
            samples.append((time.perf_counter() - t0) * 1000)
    return samples[probes // 10 :]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10, help="length of each measurement (default 10)")
    parser.add_argument("--threads", type=int, default=8, help="connections at once (default 8)")
    parser.add_argument("--batch", type=int, default=1000, help="transfers per batched call (default 1000)")
    parser.add_argument("--pgledger", type=Path, default=PGLEDGER, help=f"pgledger's folder (default {PGLEDGER})")
    parser.add_argument("--fast", action="store_true", help="fsync and synchronous_commit off")
    parser.add_argument("--only", help="comma-separated: single,batched,minting,holds,balance")
    args = parser.parse_args()
    only = set(args.only.split(",")) if args.only else {"single", "batched", "minting", "holds", "balance"}
    have_pgledger = all((args.pgledger / name).is_file() for name in PGLEDGER_FILES)

    with throwaway_server(fast=args.fast, migrated=False) as status:
        with psycopg.connect(status.url("postgres"), autocommit=True) as admin:
            admin.execute("create database bench")
            admin.execute("create database pgledger")
        dl_url, pg_url = status.url("bench"), status.url("pgledger")
        migrate(dl_url)
        print(
            f"PostgreSQL {'fsync off' if args.fast else 'durable (fsync, synchronous_commit on)'}; "
            f"{args.threads} connections, {args.seconds:g} s per measurement"
        )
        if not have_pgledger:
            print(f"pgledger not found in {args.pgledger}: measuring debugloop alone")
        peers = {n: debugloop_setup(dl_url, n) for n in (50, 10)}
        ids = {}
        if have_pgledger:
            pgledger_load(pg_url, args.pgledger)
            ids = {n: pgledger_setup(pg_url, n) for n in (50, 10)}

        def alternate(
            runs: list[tuple[str, str, Callable]], per_call: int = 1, threads: int = args.threads
        ) -> list[Run]:
            """Each (name, url, step) in alternating slices of about 2 s, so that the machine's
            other load falls on all of them alike; each slice has its own warm-up."""
            slices = max(1, round(args.seconds / 2))
            totals = [Run(name, per_call=per_call) for name, _, _ in runs]
            for _ in range(slices):
                for total, (_, url, step) in zip(totals, runs, strict=True):
                    part = measure(total.name, url, threads, args.seconds / slices, step, per_call)
                    total.done += part.done
                    total.latencies_ms += part.latencies_ms
                    total.seconds += part.seconds
            return totals

        def both(
            label: str, dl_step: Callable, pg_step: Callable | None, per_call: int = 1, threads: int = args.threads
        ):
            """debugloop and pgledger on the same workload, alternating."""
            runs = [(f"debugloop {label}", dl_url, dl_step)]
            if pg_step is not None:
                runs.append((f"pgledger  {label}", pg_url, pg_step))
            totals = alternate(runs, per_call, threads)
            for run in totals:
                print(run.line(), flush=True)
            if len(totals) == 2:
                print(f"{'':<40} debugloop / pgledger = {totals[0].rate / totals[1].rate:.2f}x", flush=True)

        if "single" in only:
            for n in (50, 10):
                both(
                    f"single transfers, {n} accounts",
                    debugloop_transfer(peers[n]),
                    pgledger_transfer(ids[n][1]) if have_pgledger else None,
                )
        if "batched" in only:
            for threads in (1, args.threads):
                both(
                    f"batched, {args.batch} a call, {threads} conn",
                    debugloop_batch(peers[50], args.batch),
                    pgledger_batch(ids[50][1], args.batch) if have_pgledger else None,
                    per_call=args.batch,
                    threads=threads,
                )
        if "minting" in only:
            # the spread case and minting alternate too: their ratio is the measurement
            runs = [
                ("debugloop spread over 50 accounts", dl_url, debugloop_transfer(peers[50])),
                ("debugloop minting: one account to 50", dl_url, debugloop_mint(peers[50])),
            ]
            if have_pgledger:
                runs += [
                    ("pgledger  spread over 50 accounts", pg_url, pgledger_transfer(ids[50][1])),
                    ("pgledger  minting: one account to 50", pg_url, pgledger_mint(*ids[50])),
                ]
            totals = alternate(runs)
            for run in totals:
                print(run.line(), flush=True)
            for spread, mint in zip(totals[::2], totals[1::2], strict=True):
                ledger = spread.name.split()[0]
                print(f"{'':<40} {ledger} minting / spread = {mint.rate / spread.rate:.2f}x", flush=True)
        if "holds" in only:
            for threads in (args.threads, 2 * args.threads):
                run = measure(
                    f"debugloop hold + settle, {threads} conn",
                    dl_url,
                    threads,
                    args.seconds,
                    debugloop_hold_settle(peers[50]),
                )
                print(run.line("pairs/s"), flush=True)
        if "balance" in only:
            print(latency("debugloop ledger_balance, 1 conn", balance_latency(dl_url, peers[50], 5000)))
        debugloop_check(dl_url)
        print("ledger_check: every invariant holds")


if __name__ == "__main__":
    main()
