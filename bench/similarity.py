"""How similar "similar problems" are: the cosine similarity of util_embed_semantic
(--hashed: of the hashed util_embed) for
paraphrases against unrelated requests, to set the floors that count a problem as
similar (problem_min_similarity) and as evidence for a golden state
(golden_evidence_min_similarity) between the two distributions (issue 16).

    .venv/bin/python bench/similarity.py [--unrelated 3000]

Paraphrase pairs: each request of tests/data/stf_corpus_*.jsonl (written for the
corpus, in other words than the code) against its Python function's docstring,
which says the same thing its own way. Unrelated pairs: a request against the
docstring of a random other function of another category. Prints percentiles of
both, the share of unrelated pairs above each candidate floor (false evidence) and
the share of paraphrases above it (evidence kept).
"""

from __future__ import annotations

import argparse
import ast
import random

import psycopg
from psycopg.types.json import Jsonb

from common import corpus, percentile, throwaway_server

REQUEST = "Parse the invoice CSV file and compute the total amount including tax"  # tests/helpers.py
PARAPHRASE = "Read an invoice csv and calculate the total with tax"

# "similar problems" compare util_embed_semantic (issue 16); --hashed: the former util_embed
SIMILARITY = """
select 1 - (debugloop.util_embed_semantic(r.a) operator(debugloop.<=>) debugloop.util_embed_semantic(r.b))
  from rows from (jsonb_to_recordset(%s) as (a text, b text)) with ordinality as r(a, b, i)
 order by r.i
"""
HASHED = """
select 1 - (debugloop.util_embed(r.a)::debugloop.halfvec operator(debugloop.<=>) debugloop.util_embed(r.b)::debugloop.halfvec)
  from rows from (jsonb_to_recordset(%s) as (a text, b text)) with ordinality as r(a, b, i)
 order by r.i
"""


def docstring(code: str) -> str | None:
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return None
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            text = ast.get_docstring(node)
            return text.strip().split("\n\n")[0] if text else None
    return None


def pairs(unrelated: int, seed: int = 16) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    rows = [r for r in corpus("stf_corpus_*.jsonl") if r["language"] == "python"]
    rows = [dict(r, doc=docstring(r["code"])) for r in rows]
    rows = [r for r in rows if r["doc"] and len(r["doc"].split()) >= 4]
    rng = random.Random(seed)
    paraphrases = [(r["problem"], r["doc"]) for r in rows]
    others = []
    while len(others) < unrelated:
        a, b = rng.sample(rows, 2)
        if a["category"] != b["category"]:
            others.append((a["problem"], b["doc"]))
    return paraphrases, others


def similarities(conn: psycopg.Connection, texts: list[tuple[str, str]], query: str = SIMILARITY) -> list[float]:
    rows = conn.execute(query, (Jsonb([{"a": a, "b": b} for a, b in texts]),)).fetchall()
    return [float(r[0]) for r in rows]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--unrelated", type=int, default=3000)
    parser.add_argument("--hashed", action="store_true", help="measure the hashed util_embed instead")
    args = parser.parse_args()
    query = HASHED if args.hashed else SIMILARITY
    paraphrases, others = pairs(args.unrelated)
    with throwaway_server() as status, psycopg.connect(status.url(), autocommit=True) as conn:
        para, unrel = similarities(conn, paraphrases, query), similarities(conn, others, query)
        (example,) = similarities(conn, [(REQUEST, PARAPHRASE)], query)
    print(f"the tests' request and its paraphrase: {example:.3f}")
    for name, values in (("paraphrase", para), ("unrelated", unrel)):
        qs = ", ".join(f"p{q * 100:g} {percentile(values, q):.3f}" for q in (0.05, 0.25, 0.5, 0.75, 0.95, 0.99, 0.999))
        print(f"{name:10s} n={len(values):5d}: {qs}, max {max(values):.3f}")
    for floor in (0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75):
        kept = sum(v >= floor for v in para) / len(para)
        false = sum(v >= floor for v in unrel) / len(unrel)
        print(f"floor {floor:.2f}: paraphrases above {kept:.3f}, unrelated above {false:.4f}")


if __name__ == "__main__":
    main()
