"""What code pointers cost (issue 16, item 5): the manifest's sources of one STF, with
10,000 producers that carry a pointer and with one, and the check attempt_finish makes
of an attempt's artefacts, with 50 units that carry lines and with none.

    .venv/bin/python bench/pointers.py [--calls 1000]

On a throwaway embedded server, each statement timed from the client (a round trip
included: `select 1` is printed for scale).
"""

from __future__ import annotations

import argparse
import json
import time

import psycopg

from common import latency, throwaway_server

CODE = "def add_twice(a, b):\n    total = a + b\n    return total * 2\n"


def timed(conn: psycopg.Connection, sql: str, args: tuple, calls: int) -> list[float]:
    for _ in range(20):
        conn.execute(sql, args).fetchone()
    samples = []
    for _ in range(calls):
        t = time.perf_counter()
        conn.execute(sql, args).fetchone()
        samples.append((time.perf_counter() - t) * 1000)
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=1000)
    args = parser.parse_args()
    with throwaway_server() as status, psycopg.connect(status.url(), autocommit=True) as conn:
        many = conn.execute("select debugloop.stf_register('many', %s)", (CODE,)).fetchone()[0]
        conn.execute(
            """insert into debugloop.debug_stf_provenance
                      (stf_id, contributor, repository, commit_sha, file_path, line_start, line_end)
               select %s, 'c' || g, 'acme/shop', md5(g::text), 'src/m' || g || '.py', 1 + g %% 300, 10 + g %% 300
                 from generate_series(1, 10000) g""",
            (many,),
        )
        one = conn.execute(
            "select debugloop.stf_register('one', %s, file_path => 'a.py', line_start => 1)", (CODE + "# one\n",)
        ).fetchone()[0]
        conn.execute("analyze debugloop.debug_stf_provenance")
        units = [
            {"name": f"f{i}", "code": CODE, "path": "a.py", "line_start": 3 * i + 1, "line_end": 3 * i + 3}
            for i in range(50)
        ]
        with_lines = json.dumps({"repository": "acme/shop", "commit_sha": "3ea751c", "units": units})
        without = json.dumps({"files": {"a.py": CODE}})
        cases = [
            ("select 1 (a round trip)", "select 1", ()),
            ("sources, 10,001 producers", "select debugloop._manifest_stf_sources(%s)", (many,)),
            ("sources, 1 producer", "select debugloop._manifest_stf_sources(%s)", (one,)),
            ("artefact check, 50 units", "select debugloop._stf_check_artifact_pointers(%s)", (with_lines,)),
            ("artefact check, no pointer", "select debugloop._stf_check_artifact_pointers(%s)", (without,)),
        ]
        for name, sql, params in cases:
            print(latency(name, timed(conn, sql, params, args.calls)), flush=True)


if __name__ == "__main__":
    main()
