"""Error signatures per second, and error_fixes latency at 100k signatures.

    .venv/bin/python bench/errors.py [--messages 40000] [--signatures 100000] [--probes 2000]

1. debugloop.error_signature over --messages errors (the labelled corpus of
   tests/data, repeated with fresh variable parts; a third carry a stack trace),
   computed in one SELECT: once on one backend, once with a parallel scan over
   both cores. Goal: >= 5,000 signatures/s on 2 cores.
2. debugloop.error_fixes with --signatures signatures that each have a fix
   (bulk-loaded in SQL from combinations of real error phrases): p50/p95 for
   errors seen before (exact) and never seen (similar). Goal: p95 <= 5 ms.

Runs on a throwaway embedded PostgreSQL (fsync off: the load is not what is measured).
"""

from __future__ import annotations

import argparse
import random
import sys
import time

import psycopg

from common import corpus, latency, throwaway_server


def signatures_per_second(conn: psycopg.Connection, n: int) -> None:
    rows = corpus("error_corpus_*.jsonl")
    conn.execute("create table bench_errors (error_type text, message text, stacktrace text)")
    with conn.cursor().copy("copy bench_errors from stdin") as copy:
        for i in range(n):
            r = rows[i % len(rows)]
            # fresh variable parts, as real repeats of an error carry
            message = r["message"].replace("42", str(i % 997)).replace("/home/", f"/home/u{i % 50}/")
            copy.write_row((r["error_type"], message, r["stacktrace"] if i % 3 == 0 else None))
    conn.execute("analyze bench_errors")
    for label, workers in (("1 backend", 0), ("parallel, 2 cores", 2)):
        conn.execute(f"set max_parallel_workers_per_gather = {workers}")
        conn.execute("set parallel_setup_cost = 0")
        conn.execute("set parallel_tuple_cost = 0")
        conn.execute("set min_parallel_table_scan_size = 0")
        t0 = time.perf_counter()
        # the signature in the WHERE clause, so that parallel workers compute it (a
        # count(distinct ...) would compute every one in the leader)
        count = conn.execute(
            "select count(*) from bench_errors where debugloop.error_signature(error_type, message, stacktrace) is not null"
        ).fetchone()[0]
        elapsed = time.perf_counter() - t0
        print(f"error_signature, {label:<18} {n / elapsed:>9,.0f} signatures/s  ({count:,} in {elapsed:.2f} s)")
    for setting in (
        "max_parallel_workers_per_gather",
        "parallel_setup_cost",
        "parallel_tuple_cost",
        "min_parallel_table_scan_size",
    ):
        conn.execute(f"reset {setting}")


LOAD = """
insert into debugloop.debug_error_signatures (signature, error_type, normalized_message, category, occurrences)
select debugloop.util_sha256('bench' || g), 'BenchError', p.pattern, 'other', 1
  from generate_series(%(start)s::integer, %(stop)s::integer) g
  cross join lateral (
      select (array['connection to', 'cannot open', 'failed to parse', 'missing key', 'timeout while reading',
                    'permission denied for', 'no module named', 'unexpected token in', 'could not resolve',
                    'invalid value for'])[1 + g %% 10]
             || ' ' || (array['user', 'order', 'invoice', 'config', 'schema', 'cache', 'session', 'payment',
                              'report', 'token', 'upload', 'index'])[1 + (g / 10) %% 12]
             || ' ' || (array['service', 'table', 'file', 'column', 'module', 'queue', 'bucket', 'endpoint',
                              'field', 'record', 'stream', 'worker', 'job', 'lock'])[1 + (g / 120) %% 14]
             || ' ' || translate(md5(g::text), '0123456789', 'ghijklmnop') as pattern) p
"""
LOAD_MAPPINGS = """
insert into debugloop.debug_error_success_mappings (signature, error_type, error_pattern, pattern_embedding, approach_key,
                                                   successful_attempt_id, successful_approach, success_count, failure_count)
select debugloop.util_sha256('bench' || g), 'BenchError', s.normalized_message, debugloop.util_embed(s.normalized_message)::debugloop.halfvec,
       'approach' || g, %(attempt)s,
       'approach ' || g, 1 + g %% 7, g %% 3
  from generate_series(%(start)s::integer, %(stop)s::integer) g
  join debugloop.debug_error_signatures s on s.signature = debugloop.util_sha256('bench' || g)
"""


def fixes_latency(conn: psycopg.Connection, signatures: int, probes: int) -> None:
    attempt = conn.execute("select debugloop.attempt_start('bench', 'bench', 'gpt-4o')").fetchone()[0]
    conn.execute("set session_replication_role = replica")  # bulk load; the confidence trigger is measured elsewhere
    t0 = time.perf_counter()
    for start in range(0, signatures, 20_000):
        stop = min(signatures, start + 20_000) - 1
        conn.execute(LOAD, {"start": start, "stop": stop})
        conn.execute(LOAD_MAPPINGS, {"start": start, "stop": stop, "attempt": attempt})
        print(f"\rloading signatures: {stop + 1:,}/{signatures:,}", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    conn.execute("reset session_replication_role")
    conn.execute("vacuum analyze debugloop.debug_error_success_mappings")
    conn.execute("vacuum analyze debugloop.debug_error_signatures")
    print(f"{signatures:,} signatures with a fix (loaded in {time.perf_counter() - t0:.0f} s)")

    # errors seen before: their patterns, as BenchError messages; never seen: a changed word
    known = [
        r[0]
        for r in conn.execute(
            "select normalized_message from debugloop.debug_error_signatures where error_type = 'BenchError'"
            " order by random() limit %s",
            (probes,),
        )
    ]
    unseen = [m.rsplit(" ", 1)[0] + " while retrying" for m in known]
    for label, messages in (("seen before (exact)", known), ("never seen (similar)", unseen)):
        samples = []
        with conn.cursor() as cur:
            for message in messages:
                t = time.perf_counter()
                cur.execute("select * from debugloop.error_fixes(%s, 'BenchError')", (message,), prepare=True)
                rows = cur.fetchall()
                samples.append((time.perf_counter() - t) * 1000)
        print(latency(f"error_fixes, {label}", samples[len(samples) // 10 :]) + f"  (last call: {len(rows)} fixes)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=40_000)
    parser.add_argument("--signatures", type=int, default=100_000)
    parser.add_argument("--probes", type=int, default=2_000)
    args = parser.parse_args()
    random.seed(7)
    with throwaway_server() as status, psycopg.connect(status.url(), autocommit=True) as conn:
        signatures_per_second(conn, args.messages)
        fixes_latency(conn, args.signatures, args.probes)


if __name__ == "__main__":
    main()
