"""Lines per second of the Claude Code importer (goal: >= 20,000 lines/s on 2 cores).

The bundled Claude Code sessions (examples/agent-logs/claude-code) are copied N
times with fresh ids (sessions, messages, tool calls) and their prompts numbered,
so every copy is new to the database: N x 235 lines of real transcripts. Then
``debugloop import claude-code`` runs over them (through ImportManager, batched
through debugloop.import_units) on a throwaway embedded server, and again to show
that a second import of the same files adds nothing. Prints lines/s for the
parse alone and for the whole import, and the attempts, errors, mappings and STFs
recorded.

Then the totals per session and per day beside those of ccusage 20.0.24 over the
same files (``ccusage session|daily --json --offline --timezone UTC``), to 1e-6
USD: ``--ccusage PATH`` names its binary, else the bench installs it with npm into
a cache folder of its own (~/.cache/debugloop-bench), else it says how and skips.

    python bench/importer.py [--copies 400] [--ccusage PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from decimal import Decimal
from pathlib import Path

import orjson

import debugloop
from common import throwaway_server
from debugloop.importers import ClaudeCodeParser

SOURCE = Path(__file__).resolve().parent.parent / "examples" / "agent-logs" / "claude-code"
IDS = re.compile(rb"(msg_|req_|toolu_)([A-Za-z0-9]+)|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def make_corpus(target: Path, copies: int) -> tuple[int, list[Path]]:
    """``copies`` copies of each bundled session with fresh ids and numbered
    prompts; returns the number of lines and the files."""
    originals = sorted(SOURCE.glob("*.jsonl"))
    lines, files = 0, []
    for c in range(copies):
        tag = f"{c:06d}"

        def fresh(m: re.Match, tag: str = tag) -> bytes:
            if m.group(1):
                return m.group(1) + m.group(2) + tag.encode()
            return str(uuid.uuid5(uuid.NAMESPACE_OID, m.group(0).decode() + tag)).encode()

        for original in originals:
            out = []
            for raw in original.read_bytes().splitlines():
                obj = orjson.loads(IDS.sub(fresh, raw))
                message = obj.get("message")
                if obj.get("type") == "user" and isinstance(message, dict) and isinstance(message.get("content"), str):
                    message["content"] = f"[project {c}] {message['content']}"
                out.append(orjson.dumps(obj))
            path = target / f"project-{c % 50}" / f"{uuid.uuid5(uuid.NAMESPACE_OID, original.stem + tag)}.jsonl"
            path.parent.mkdir(exist_ok=True)
            path.write_bytes(b"\n".join(out) + b"\n")
            lines += len(out)
            files.append(path)
    return lines, files


def parse_only(files: list[Path]) -> int:
    units = 0
    for path in files:
        parser = ClaudeCodeParser(path, None)
        for n, raw in enumerate(path.read_bytes().splitlines(), 1):
            units += len(parser.feed(n, orjson.loads(raw)))
        units += len(parser.flush())
    return units


CCUSAGE = "ccusage@20.0.24"  # 20.0.26 lacks its Linux binary
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "debugloop-bench"


def ccusage_binary(given: str | None) -> str | None:
    """The ccusage to compare with: the one given, else one installed by npm into the cache folder."""
    if given:
        return given
    binary = CACHE / "node_modules" / ".bin" / "ccusage"
    if not binary.exists() and shutil.which("npm"):
        CACHE.mkdir(parents=True, exist_ok=True)
        subprocess.run(["npm", "install", "--prefix", str(CACHE), CCUSAGE], capture_output=True, check=False)
    return str(binary) if binary.exists() else None


def compare_with_ccusage(dl: debugloop.Client, config_dir: Path, binary: str) -> None:
    """Sessions and days: ccusage's totals beside debugloop's (report costs --session / --daily)."""
    for period, key in (("session", "session"), ("daily", "daily")):
        t = time.perf_counter()
        done = subprocess.run(
            [binary, period, "--json", "--offline", "--timezone", "UTC"],
            capture_output=True,
            text=True,
            env={**os.environ, "CLAUDE_CONFIG_DIR": str(config_dir)},
            check=False,
        )
        if done.returncode != 0:
            print(f"ccusage {period} failed: {done.stderr.strip()[:300]}")
            return
        print(f"ccusage {period:<7}: {time.perf_counter() - t:.2f} s wall clock")
        theirs = {r["period"]: Decimal(repr(r["totalCost"])) for r in json.loads(done.stdout)[key]}
        ours = {r.period_key: r.cost_usd for r in dl.analytics.costs_by_period(period)}
        equal = sum(1 for k, v in theirs.items() if k in ours and abs(ours[k] - v) <= Decimal("1e-6"))
        print(
            f"ccusage {period:<7}: {equal:,} of {len(theirs):,} equal to 1e-6 USD (debugloop has {len(ours):,}); "
            f"total ccusage ${sum(theirs.values()):.6f}, debugloop ${sum(ours.values()):.6f}"
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--copies", type=int, default=400, help="copies of the bundled sessions (235 lines each)")
    ap.add_argument("--ccusage", help="the ccusage binary to compare with (default: npm-installed into a cache)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as root, throwaway_server() as status:
        tmp = Path(root) / "projects"  # as ccusage expects a Claude config folder: projects/<project>/<session>.jsonl
        tmp.mkdir()
        lines, files = make_corpus(tmp, args.copies)
        mib = sum(f.stat().st_size for f in files) / 2**20
        print(f"corpus: {len(files):,} session files, {lines:,} lines, {mib:.1f} MiB", flush=True)
        t = time.perf_counter()
        units = parse_only(files)
        parse_s = time.perf_counter() - t
        print(
            f"parse only (Python):       {lines / parse_s:>9,.0f} lines/s  ({units:,} units in {parse_s:.2f} s)",
            flush=True,
        )
        with debugloop.connect(status.url()) as dl:
            t = time.perf_counter()
            result = dl.imports.run("claude-code", [Path(tmp)])
            import_s = time.perf_counter() - t
            print(
                f"import (parse + SQL):      {lines / import_s:>9,.0f} lines/s  ({result.inserted:,} attempts in {import_s:.2f} s, "
                f"{result.inserted / import_s:,.0f} attempts/s, {mib / import_s:.1f} MiB/s; "
                f"peak RSS of this process {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MiB)",
                flush=True,
            )
            report = dl.imports.report(result.run_id)
            print(
                "recorded: "
                + ", ".join(
                    f"{sum(getattr(r, k) for r in report):,} {k}"
                    for k in ("attempts", "errors", "running", "mappings", "stfs")
                )
            )
            t = time.perf_counter()
            again = dl.imports.run("claude-code", [Path(tmp)])
            print(f"second import, unchanged files: {again.inserted} attempts added in {time.perf_counter() - t:.2f} s")
            if result.skipped or again.inserted:
                sys.exit("unexpected: lines skipped or a second import added rows")
            binary = ccusage_binary(args.ccusage)
            if binary is None:
                print(f"ccusage: not compared (npm install {CCUSAGE}, then --ccusage PATH)")
            else:
                compare_with_ccusage(dl, Path(root), binary)


if __name__ == "__main__":
    main()
