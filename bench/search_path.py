"""What pinning search_path on every function costs, measured on a throwaway embedded PostgreSQL.

    .venv/bin/python bench/search_path.py [--tasks 200] [--calls 200] [--rounds 3]

The reload pins `search_path = debugloop, pg_catalog, pg_temp` on every function of
the schema but the internal SQL ones (README, "Security and trust"): a function with a
SET clause saves and restores the setting on each call, and a SQL function with one
is not inlined. With --tasks tasks recorded (a failure, then a retry that succeeds
with code, at a few wordings of a few problems), each API call below runs --calls
times, its p50 printed, with the pins and with them reset on the same database
(alternating, --rounds times each: the machine is noisy), and one call per row of a
10,000-row query (error_wilson), the worst case.
"""

from __future__ import annotations

import argparse
import statistics
import time

import psycopg

import debugloop
from common import throwaway_server

PROBLEMS = ("fix the invoice total rounding", "parse the csv export", "retry the flaky upload", "slugify titles")
CODE = '''def total(rows, tax):
    """Sum the rows and add tax."""
    amount = sum(r["amount"] for r in rows if r.get("amount"))
    return round(amount * (1 + tax), 2)
'''
CALLS = {
    "manifest": "select debugloop.manifest('fix the rounding of the invoice total', 'bench', 'gpt-4o')",
    "manifest_markdown": "select debugloop.manifest_markdown('fix the rounding of the invoice total', 'bench', 'gpt-4o')",
    "stf_match": "select count(*) from debugloop.stf_match('round an invoice total with tax', 10)",
    "golden_match": "select count(*) from debugloop.golden_match('invoice total rounding', 5)",
    "error_fixes": "select count(*) from debugloop.error_fixes('KeyError: amount', 'KeyError', null, 5)",
    "util_fingerprint": "select debugloop.util_fingerprint('Fix the failing test in module billing')",
    "error_wilson, 10,000 rows": "select sum(debugloop.error_wilson(g, g % 7)) from generate_series(1, 10000) g",
}
UNPIN = """
do $$
declare
    f regprocedure;
begin
    for f in select p.oid from pg_proc p
              where p.pronamespace = 'debugloop'::regnamespace and not p.prosecdef and p.proconfig is not null
                and not exists (select from pg_depend d where d.objid = p.oid and d.deptype = 'e') loop
        execute format('alter function %s reset search_path', f);
    end loop;
end
$$
"""


def record(url: str, tasks: int) -> None:
    with debugloop.connect(url) as dl:
        for i in range(tasks):
            request = f"{PROBLEMS[i % len(PROBLEMS)]} (case {'abcdefgh'[i % 8]})"
            failed = dl.attempts.start("bench", request, "gpt-4o", approach_description="by hand")
            usage = {"prompt_tokens": 1_000, "completion_tokens": 100}
            dl.attempts.finish(failed, "error", usage=usage, error_type="KeyError", error_message="'amount'")
            fixed = dl.attempts.start(
                "bench", request, "gpt-4o-mini", parent_attempt_id=failed, approach_description="a dict"
            )
            dl.attempts.finish(fixed, "success", usage=usage, quality_score=0.9, artifacts={"files": {"x.py": CODE}})


def measure(conn: psycopg.Connection, calls: int) -> dict[str, float]:
    p50 = {}
    for name, sql in CALLS.items():
        for _ in range(3):
            conn.execute(sql).fetchall()
        samples = []
        for _ in range(calls):
            t = time.perf_counter()
            conn.execute(sql).fetchall()
            samples.append((time.perf_counter() - t) * 1000)
        p50[name] = statistics.median(samples)
    return p50


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=200, help="tasks recorded first")
    parser.add_argument("--calls", type=int, default=200, help="calls of each function per measurement")
    parser.add_argument("--rounds", type=int, default=3, help="measurements of each kind, alternating")
    args = parser.parse_args()
    with throwaway_server() as status:
        url = status.url()
        record(url, args.tasks)
        results: dict[str, list[dict[str, float]]] = {"pinned": [], "unpinned": []}
        with psycopg.connect(url, autocommit=True) as conn:
            for _ in range(args.rounds):
                results["pinned"].append(measure(conn, args.calls))
                conn.execute(UNPIN)
                results["unpinned"].append(measure(conn, args.calls))
                conn.execute("select debugloop._meta_secure()")
        print(f"{args.tasks} tasks; p50 of {args.calls} calls, the median of {args.rounds} rounds")
        for name in CALLS:
            pinned, unpinned = (statistics.median(r[name] for r in results[k]) for k in ("pinned", "unpinned"))
            print(f"{name:<28} pinned {pinned:8.3f} ms  unpinned {unpinned:8.3f} ms  ratio {pinned / unpinned:5.2f}")


if __name__ == "__main__":
    main()
