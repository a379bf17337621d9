"""Attempt recording and lookups, measured on a throwaway embedded PostgreSQL.

    .venv/bin/python bench/attempts.py [--attempts 3000] [--rows 1000000] [--fast]

1. start + finish of one attempt through the Python client, with every trigger
   (fingerprint, estimate, canonical usage, pricing): p50/p95/p99 latency of the
   pair, and attempts per second from 1 thread and from 4 threads.
   Goal: p95 <= 3 ms, >= 1,000 attempts/s on 2 cores.
2. With --rows attempts in the table (bulk-loaded in SQL, 1,000 requests with distinct fingerprints,
   10 attempts per correlation): lookups by correlation id (debugloop.attempt_chain),
   by request fingerprint (the latest 20 attempts at a request), and the estimate
   from the latest 100 attempts at a request (debugloop.attempt_estimate):
   p50/p95. Goal: p95 <= 1 ms.

By default the server runs with PostgreSQL's durable settings (fsync on); --fast
turns fsync and synchronous_commit off, as the test suite runs.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import threading
import time

import psycopg

import debugloop
from common import latency, throwaway_server
from debugloop.config import Settings

USAGE = {
    "usage": {"prompt_tokens": 12_000, "completion_tokens": 800, "prompt_tokens_details": {"cached_tokens": 8_000}}
}


def word(n: int) -> str:
    """A distinct word per number: requests must differ after normalisation, which
    maps every number to <n>."""
    letters = ""
    while True:
        n, r = divmod(n, 26)
        letters += "abcdefghijklmnopqrstuvwxyz"[r]
        if n == 0:
            return letters


def one_attempt(dl: debugloop.Client, i: int) -> float:
    t0 = time.perf_counter()
    attempt_id = dl.attempts.start(
        "bench-agent", f"Fix the failing test {word(i % 500)} in module {word(i % 37)}", "gpt-4o"
    )
    dl.attempts.finish(attempt_id, "success", usage=USAGE)
    return (time.perf_counter() - t0) * 1000


def record(url: str, n: int) -> None:
    settings = Settings(pool_size=4)
    with debugloop.connect(url, settings=settings) as dl:
        for i in range(200):  # warm up: pool, plans, caches
            one_attempt(dl, i)
        latencies = [one_attempt(dl, i) for i in range(n)]
        print(latency("start+finish, 1 thread", latencies))
        print(f"{'':<34} {1000 / statistics.mean(latencies):,.0f} attempts/s from 1 thread")

        done = [0] * 4

        def worker(k: int) -> None:
            for i in range(n // 4):
                one_attempt(dl, k * 100_000 + i)
                done[k] += 1

        threads = [threading.Thread(target=worker, args=(k,)) for k in range(4)]
        t0 = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - t0
        print(f"{'start+finish, 4 threads':<34} {sum(done) / elapsed:,.0f} attempts/s ({sum(done)} in {elapsed:.1f} s)")


# Bulk load with triggers off (session_replication_role = replica): the values
# below are what the triggers would write.
LOAD = """
insert into debugloop.debug_execution_attempts (
    correlation_id, agent_name, user_request, user_request_hash, model_used, started_at, completed_at,
    duration_ms, status, usage_raw, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens,
    cache_write_1h_tokens, reasoning_tokens, cost_usd, cost_status, price_catalog_id)
select md5('chain' || (g / 10))::uuid, 'bulk-agent', r.request, r.fingerprint, 'gpt-4o',
       now() - make_interval(secs => g), now() - make_interval(secs => g) + interval '3 s', 3000,
       case when g %% 4 = 0 then 'error' else 'success' end, null, 4000, 800, 8000, 0, 0, 0,
       0.0262, 'priced', %(catalog_id)s
  from generate_series(%(start)s, %(stop)s) g
  join (select k, 'Implement the ' || w || ' feature of the billing service' as request,
               debugloop.util_fingerprint('Implement the ' || w || ' feature of the billing service') as fingerprint
          from generate_series(0, 999) k,
               translate(md5(k::text), '0123456789', 'ghijklmnop') w) r on r.k = g %% 1000
"""


def lookups(url: str, rows: int, probes: int) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        have = conn.execute("select count(*) from debugloop.debug_execution_attempts").fetchone()[0]
        catalog_id = conn.execute("select (debugloop.price_lookup('gpt-4o')).catalog_id").fetchone()[0]
        batch, start = 100_000, have
        t0 = time.perf_counter()
        conn.execute("set session_replication_role = replica")
        while start < rows:
            stop = min(rows, start + batch) - 1
            conn.execute(LOAD, {"start": start, "stop": stop, "catalog_id": catalog_id})
            start = stop + 1
            print(f"\rloading attempts: {start:,}/{rows:,}", end="", file=sys.stderr, flush=True)
        print(file=sys.stderr)
        conn.execute("reset session_replication_role")
        conn.execute("vacuum analyze debugloop.debug_execution_attempts")
        total = conn.execute("select count(*) from debugloop.debug_execution_attempts").fetchone()[0]
        print(f"{total:,} attempts in the table (loaded in {time.perf_counter() - t0:.0f} s)")

        chains = [
            r[0]
            for r in conn.execute("select distinct correlation_id from debugloop.debug_execution_attempts limit 5000")
        ]
        requests = [
            r[0]
            for r in conn.execute(
                "select distinct on (user_request_hash) user_request from debugloop.debug_execution_attempts limit 5000"
            )
        ]
        prints = [
            r[0] for r in conn.execute("select distinct user_request_hash from debugloop.debug_execution_attempts")
        ]

        def timed(sql: str, keys: list) -> list[float]:
            samples = []
            with conn.cursor() as cur:
                for key in random.choices(keys, k=probes):
                    t = time.perf_counter()
                    cur.execute(sql, (key,), prepare=True)
                    cur.fetchall()
                    samples.append((time.perf_counter() - t) * 1000)
            return samples[probes // 10 :]  # drop the warm-up tenth

        print(
            latency("by correlation (attempt_chain)", timed("select * from debugloop.attempt_chain(%s::text)", chains))
        )
        print(
            latency(
                "by fingerprint (latest 20 rows)",
                timed(
                    "select attempt_id, status, cost_usd from debugloop.debug_execution_attempts"
                    " where user_request_hash = %s order by started_at desc limit 20",
                    prints,
                ),
            )
        )
        print(
            latency(
                "by fingerprint (cost estimate)",
                timed("select * from debugloop.attempt_estimate(%s, 'gpt-4o')", requests),
            )
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--attempts", type=int, default=3000, help="attempts recorded per measurement")
    parser.add_argument("--rows", type=int, default=1_000_000, help="attempts in the table for the lookups")
    parser.add_argument("--probes", type=int, default=3000, help="lookups per kind")
    parser.add_argument("--fast", action="store_true", help="fsync and synchronous_commit off")
    args = parser.parse_args()

    with throwaway_server(fast=args.fast) as status:
        url = status.url()
        print(f"PostgreSQL {'fsync off' if args.fast else 'durable (fsync on)'}; {args.attempts} attempts per run")
        record(url, args.attempts)
        lookups(url, args.rows, args.probes)


if __name__ == "__main__":
    main()
