"""Why each test clones a template instead of migrating: time both on the embedded server.

    .venv/bin/python bench/clone_vs_migrate.py [--rounds N]

Prints p50/p90/max in milliseconds for (a) CREATE DATABASE ... TEMPLATE of the
migrated template, as the `db` fixture does, and (b) CREATE DATABASE + a full
migrate, and the ratio of the medians. Runs on a throwaway server (fsync off, as
the tests run).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

import psycopg

from common import percentile, throwaway_server
from debugloop.migrate import migrate


def percentiles(samples: list[float]) -> str:
    return (
        f"p50 {statistics.median(samples):7.1f} ms   p90 {percentile(samples, 0.9):7.1f} ms   "
        f"max {max(samples):7.1f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30, help="databases made per method (default 30)")
    args = parser.parse_args()

    with throwaway_server(migrated=False) as status:
        with psycopg.connect(status.url("postgres"), autocommit=True) as admin:
            admin.execute("create database bench_tmpl")
            migrate(status.url("bench_tmpl"))
            admin.execute("alter database bench_tmpl is_template true")

            clone, fresh = [], []
            for i in range(args.rounds):
                t0 = time.perf_counter()
                admin.execute(f"create database clone_{i} template bench_tmpl")
                clone.append((time.perf_counter() - t0) * 1000)

                t0 = time.perf_counter()
                admin.execute(f"create database fresh_{i}")
                migrate(status.url(f"fresh_{i}"))
                fresh.append((time.perf_counter() - t0) * 1000)
                print(f"\rround {i + 1}/{args.rounds}", end="", file=sys.stderr, flush=True)
            print(file=sys.stderr)

    print(f"clone from template : {percentiles(clone)}")
    print(f"create + migrate    : {percentiles(fresh)}")
    print(f"ratio of medians    : migrate / clone = {statistics.median(fresh) / statistics.median(clone):.1f}x")


if __name__ == "__main__":
    main()
