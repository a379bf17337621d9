"""debugloop's prices against LiteLLM's own cost_per_token, the oracle (goal: >= 99% agree).

Installs nothing into the project: it needs a Python that has ``litellm`` (a side
venv, bench/README.md), which it runs as a child process. That Python prices every
chat model of its litellm's bundled price file (model_prices_and_context_window_backup.json)
for a plain request and one above 200k prompt tokens, at a fixed request time
(``pinned_billing_time``). Then the same file goes through ``debugloop prices
import`` into a throwaway embedded server, debugloop prices the same cases at the
same time (``debugloop.price_cost``), and the two are compared to 1e-8 USD. Prints
the share that agree and every difference, with the catalog row debugloop used.

    python bench/price_oracle.py --litellm-python /tmp/litellm-venv/bin/python [--at 2026-06-03T12:00:00Z]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from collections import Counter
from decimal import Decimal
from pathlib import Path

import psycopg
from psycopg.types.json import Jsonb

from common import throwaway_server

CASES = {
    "plain": {"prompt_tokens": 1_000, "completion_tokens": 500},
    "above 200k": {"prompt_tokens": 250_000, "completion_tokens": 1_000},
}
TOLERANCE = Decimal("1e-8")

# Run by the litellm Python: LiteLLM's own cost of each case, as exact decimal strings.
ORACLE = r"""
import json, os, sys
os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"  # the bundled file, never the network
from datetime import datetime
from importlib.metadata import version
import litellm
from litellm._internal_context import pinned_billing_time

args = json.loads(sys.argv[1])
path = os.path.join(os.path.dirname(litellm.__file__), "model_prices_and_context_window_backup.json")
with open(path) as fh:
    doc = json.load(fh)
at = datetime.fromisoformat(args["at"].replace("Z", "+00:00"))
cases = []
for key, entry in doc.items():
    if key == "sample_spec" or not isinstance(entry, dict) or entry.get("mode") != "chat":
        continue
    if not any(k in entry for k in ("input_cost_per_token", "output_cost_per_token", "tiered_pricing")):
        cases.append({"key": key, "case": None, "error": "no per-token price"})
        continue
    for name, usage in args["cases"].items():
        try:
            with pinned_billing_time(at):
                prompt, completion = litellm.cost_per_token(
                    model=key, prompt_tokens=usage["prompt_tokens"], completion_tokens=usage["completion_tokens"])
            cases.append({"key": key, "case": name, "prompt": repr(prompt), "completion": repr(completion)})
        except Exception as exc:
            cases.append({"key": key, "case": name, "error": f"{type(exc).__name__}: {str(exc)[:200]}"})
print(json.dumps({"version": version("litellm"), "file": path, "cases": cases}))
"""


def litellm_costs(python: str, at: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    done = subprocess.run(
        [python, "-c", ORACLE, json.dumps({"at": at, "cases": CASES})],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    if done.returncode != 0:
        sys.exit(f"{python} could not run litellm:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.splitlines()[-1])


def import_file(url: str, path: str, source: str) -> str:
    """``debugloop prices import`` of the file, as a user runs it; its summary line."""
    cli = Path(sys.executable).with_name("debugloop")
    done = subprocess.run(
        [str(cli), "prices", "import", path, "--source", source, "--effective-from", "2026-01-01T00:00:00Z"],
        capture_output=True,
        text=True,
        env={**os.environ, "DEBUGLOOP_DATABASE_URL": url},
        check=False,
    )
    if done.returncode != 0:
        sys.exit(f"debugloop prices import failed:\n{done.stderr[-2000:]}")
    return done.stdout.splitlines()[0]


def debugloop_costs(url: str, cases: list[dict], at: str) -> dict[tuple[str, str], tuple[str, str]]:
    """(key, case) -> (cost or error, provider/model_name of the row used)."""
    out = {}
    with psycopg.connect(url, autocommit=True) as conn:
        for c in cases:
            usage = CASES[c["case"]]
            try:
                row = conn.execute(
                    """select debugloop.price_cost(%(key)s, %(usage)s, %(at)s),
                              (select p.provider || '/' || p.model_name from debugloop.price_lookup(%(key)s, %(at)s) p)""",
                    {"key": c["key"], "usage": Jsonb(usage), "at": at},
                ).fetchone()
                out[c["key"], c["case"]] = (str(row[0]), row[1])
            except psycopg.Error as exc:
                out[c["key"], c["case"]] = (f"error: {exc.diag.message_primary}", None)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--litellm-python",
        default=os.environ.get("DEBUGLOOP_LITELLM_PYTHON"),
        help="a Python with litellm installed (or $DEBUGLOOP_LITELLM_PYTHON)",
    )
    ap.add_argument("--at", default="2026-06-03T12:00:00Z", help="the request time, UTC (both ways)")
    ap.add_argument("--limit", type=int, default=0, help="list at most this many differences (0: all)")
    args = ap.parse_args()
    if not args.litellm_python:
        sys.exit("give --litellm-python (a Python with litellm; see bench/README.md)")

    oracle = litellm_costs(args.litellm_python, args.at)
    print(f"litellm {oracle['version']}: {oracle['file']}")
    priced = [c for c in oracle["cases"] if "error" not in c]
    unpriced = {c["key"] for c in oracle["cases"] if c.get("error") == "no per-token price"}
    refused = [c for c in oracle["cases"] if "error" in c and c["key"] not in unpriced]
    print(
        f"{len({c['key'] for c in oracle['cases']}):,} chat models; {len(unpriced):,} have no per-token price "
        f"(per second, per image, commitments, or none: LiteLLM bills them 0 per token, debugloop leaves them "
        f"unpriced; not compared); {len(priced):,} cases compared, {len(refused):,} more LiteLLM refuses; "
        f"request time {args.at}"
    )
    with throwaway_server() as status, tempfile.TemporaryDirectory():
        url = status.url()
        print(import_file(url, oracle["file"], f"LiteLLM {Path(oracle['file']).name}, litellm {oracle['version']}"))
        ours = debugloop_costs(url, priced, args.at)

    agree, differ = 0, []
    for c in priced:
        theirs = Decimal(c["prompt"]) + Decimal(c["completion"])
        mine, row = ours[c["key"], c["case"]]
        if not mine.startswith("error") and abs(Decimal(mine) - theirs) <= TOLERANCE:
            agree += 1
        else:
            differ.append((c["key"], c["case"], theirs, mine, row))
    share = agree / len(priced) if priced else 0.0
    print(f"agree to 1e-8 USD: {agree:,} of {len(priced):,} ({share:.2%}); differ: {len(differ):,}")
    kinds = Counter("debugloop refuses" if d[3].startswith("error") else "other price" for d in differ)
    print("  " + ", ".join(f"{n} {k}" for k, n in sorted(kinds.items())))
    for key, case, theirs, mine, row in differ[: args.limit or None]:
        print(f"  {key} [{case}]: litellm {theirs:.10f}  debugloop {mine}  (priced as {row})")


if __name__ == "__main__":
    main()
