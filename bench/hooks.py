"""The Claude Code prompt hook from process start: ``debugloop hook UserPromptSubmit``
as Claude Code runs it (the installed ``debugloop`` script, the hook's JSON on
standard input), at the scale of bench/manifest.py: 100k STFs, 1M attempts, 10k
golden states, loaded by its data builder. Goal: p95 <= 300 ms.

    .venv/bin/python bench/hooks.py [--stfs 100000] [--attempts 1000000] [--golden 10000]
                                    [--chains 2000] [--runs 200] [--small]

Measured, one process at a time, wall clock from spawning the process to its exit,
through the hook helper (``debugloop.hookd``; the first hook starts it) and without it:
the prompt hook for paraphrases of loaded requests (the manifest printed) and for
prompts unlike anything loaded (nothing printed); the tool-failure hook for errors
of the loaded corpus; and, to see where the time goes, a bare Python, a Python that
imports psycopg, the manifest_context call alone from a warm connection, and the
same manifest through the full command line (`debugloop manifest --markdown`).
About 12 minutes on 2 cores, 8 of them loading; --small (1/10 of the data) about 3.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path

import psycopg

import manifest as manifest_bench
from common import latency
from debugloop import hookd

GOAL_MS = 300.0
SCRIPT = Path(sys.executable).with_name("debugloop")


def spawn(argv: list[str], stdin: str, env: dict[str, str]) -> tuple[float, subprocess.CompletedProcess]:
    """Milliseconds from starting ``argv`` to its exit, and what it did."""
    t0 = time.perf_counter()
    done = subprocess.run(argv, input=stdin, env=env, capture_output=True, text=True, timeout=60)
    return (time.perf_counter() - t0) * 1000, done


def hook_input(event: str, session: str, **fields) -> str:
    return json.dumps(
        {
            "session_id": session,
            "transcript_path": f"/tmp/{session}.jsonl",
            "cwd": "/home/bench/project",
            "permission_mode": "default",
            "hook_event_name": event,
            **fields,
        }
    )


def measure(url: str, conn: psycopg.Connection, runs: int, attempts: int) -> None:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("DEBUGLOOP_", "ENABLE_"))}
    base |= {"DEBUGLOOP_DATABASE_URL": url, "DEBUGLOOP_HOME": "/tmp/debugloop-bench-hooks"}
    env = base | {hookd.ENV_SWITCH: "auto"}
    alone = base | {hookd.ENV_SWITCH: "off"}
    rng = random.Random(11)
    vocabulary = [w for (w,) in conn.execute("select word from bench_words")]
    loaded = [
        r
        for (r,) in conn.execute(
            "select request from bench_requests where r = any(%s) order by r",
            ([rng.randrange(attempts // 10) for _ in range(runs + 20)],),
        )
    ]
    rng.shuffle(loaded)
    probes = [manifest_bench.paraphrase(r, vocabulary, rng) for r in loaded]
    warm, probes = probes[:20], probes[20 : 20 + runs]
    unlike = [manifest_bench.gibberish(rng) for _ in range(max(30, runs // 3))]
    errors = conn.execute(
        """select e.error_type, e.message from bench_errors e
            where exists (select from debugloop.debug_error_success_mappings m where m.signature = e.signature)
            order by e.i limit %s""",
        (max(30, runs // 3),),
    ).fetchall()
    hook = [str(SCRIPT), "hook", "UserPromptSubmit"]
    helper = hookd.socket_path(env["DEBUGLOOP_HOME"], env)
    hookd.stop(helper)
    cold, _ = spawn(hook, hook_input("UserPromptSubmit", "cold", prompt=warm[0]), env)  # answers itself, starts it
    if not hookd.wait_ready(helper, 30):
        sys.exit("the hook helper did not start: see /tmp/debugloop-bench-hooks/hookd.log")
    print(f"first prompt hook, no helper yet (answers by itself and starts one): {cold:.0f} ms")
    for i, p in enumerate(warm):  # the server's caches, the OS's file cache, the helper's connections
        spawn(hook, hook_input("UserPromptSubmit", f"warm-{i}", prompt=p), env)

    def series(name: str, argv: list[str], inputs: list[str], env=env) -> list[subprocess.CompletedProcess]:
        samples, outputs = [], []
        for stdin in inputs:
            ms, done = spawn(argv, stdin, env)
            samples.append(ms)
            outputs.append(done)
        printed = sum(1 for d in outputs if d.stdout.strip())
        failed = sum(1 for d in outputs if d.returncode != 0)
        print(f"{latency(name, samples)}  printed {printed}/{len(outputs)}, exit != 0: {failed}")
        return samples

    print(f"== from process start, {SCRIPT} (one at a time), through the hook helper")
    ours = series(
        "prompt hook, paraphrase",
        hook,
        [hook_input("UserPromptSubmit", f"p-{i}", prompt=p) for i, p in enumerate(probes)],
    )
    series(
        "prompt hook, unlike anything",
        hook,
        [hook_input("UserPromptSubmit", f"u-{i}", prompt=p) for i, p in enumerate(unlike)],
    )
    series(
        "tool-failure hook, known errors",
        [str(SCRIPT), "hook", "PostToolUseFailure"],
        [
            hook_input("PostToolUseFailure", f"f-{i}", tool_name="Bash", tool_input={}, error=f"{t}: {m}")
            for i, (t, m) in enumerate(errors)
        ],
    )
    hookd.stop(helper)
    print(f"== without the hook helper ({hookd.ENV_SWITCH}=off: each hook imports psycopg and connects)")
    series(
        "prompt hook, paraphrase, alone",
        hook,
        [hook_input("UserPromptSubmit", f"a-{i}", prompt=p) for i, p in enumerate(probes[: max(30, runs // 2)])],
        env=alone,
    )
    print("-- where the time goes")
    series("python -c pass", [sys.executable, "-c", "pass"], [""] * 30)
    series("python -c 'import psycopg'", [sys.executable, "-c", "import psycopg"], [""] * 30)
    samples, _ = manifest_bench.timed(
        conn,
        "select debugloop.manifest_context(%s, 'claude-code', null, 5, 4000)",
        [(p,) for p in probes],
    )
    print(latency("manifest_context alone (SQL)", samples))
    cli = []
    for p in probes[:30]:
        ms, _ = spawn(
            [str(SCRIPT), "manifest", p, "--markdown", "--max-chars", "4000", "--agent", "claude-code"], "", alone
        )
        cli.append(ms)
    print(latency("debugloop manifest --markdown (CLI)", cli))
    p95 = sorted(ours)[min(len(ours) - 1, round(0.95 * (len(ours) - 1)))]
    verdict = "met" if p95 <= GOAL_MS else "not met"
    print(f"prompt hook p95 {p95:.0f} ms / {GOAL_MS:.0f} ms goal: {p95 / GOAL_MS:.2f}x ({verdict})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    manifest_bench.data_arguments(parser)
    parser.add_argument("--runs", type=int, default=200, help="prompt hooks timed")
    args = parser.parse_args()
    if args.small:
        args.runs = 100
    if not SCRIPT.is_file():
        sys.exit(f"no {SCRIPT}: run `make install` first")
    print(f"{os.cpu_count()} cores")
    with manifest_bench.loaded(args) as (url, conn):
        measure(url, conn, args.runs, args.attempts)


if __name__ == "__main__":
    main()
