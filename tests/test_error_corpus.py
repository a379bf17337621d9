"""Signatures against four labelled corpora of error messages (tests/data/README.md).

Pairwise: two messages with the same signature should share a group (precision), two
messages of one group should share a signature (recall). The first corpus
(error_corpus_*.jsonl) was used while building the normaliser; the first two held-out
sets (error_holdout.jsonl, error_holdout2.jsonl) were labelled before the normaliser ran
on them, measured blind once, and then looked at while tuning, so they are development
sets now; error_holdout3.jsonl (tools in none of the others) is the blind measurement:
labelled and committed before its one run, never tuned on. Signatures group by message
(type + normalised key line); the stack trace, present for some members and absent for
others, does not take part.
"""

import itertools
from collections import Counter

import pytest
from psycopg.types.json import Jsonb

from helpers import load_corpus

CATEGORIES = {
    "syntax",
    "import",
    "type",
    "attribute",
    "key_index",
    "value",
    "assertion",
    "timeout",
    "network",
    "permission",
    "rate_limit",
    "context_length",
    "tool",
    "other",
}


def _described(pg_template, pg_server, pattern):
    import psycopg

    rows = load_corpus(pattern)
    with psycopg.connect(pg_server.url(pg_template)) as conn:
        described = conn.execute(
            """select d.signature, d.category
                 from rows from (jsonb_to_recordset(%s) as (error_type text, message text, stacktrace text))
                      with ordinality as r(error_type, message, stacktrace, i),
                      debugloop.error_describe(r.error_type, r.message, r.stacktrace) d
                order by r.i""",
            (Jsonb([{k: r[k] for k in ("error_type", "message", "stacktrace")} for r in rows]),),
        ).fetchall()
    for row, (signature, category) in zip(rows, described, strict=True):
        row["signature"], row["predicted_category"] = signature, category
    return rows


@pytest.fixture(scope="module")
def corpus(pg_template, pg_server):
    return _described(pg_template, pg_server, "error_corpus_*.jsonl")


@pytest.fixture(scope="module")
def holdout(pg_template, pg_server):
    return _described(pg_template, pg_server, "error_holdout.jsonl")


@pytest.fixture(scope="module")
def holdout2(pg_template, pg_server):
    return _described(pg_template, pg_server, "error_holdout2.jsonl")


@pytest.fixture(scope="module")
def holdout3(pg_template, pg_server):
    return _described(pg_template, pg_server, "error_holdout3.jsonl")


# Floors at the measured figures (precision, recall); see the measurement lines.
HOLDOUT2_FLOOR = (0.97, 0.65)  # blind: 0.932, 0.441
HOLDOUT3_FLOOR = (0.70, 0.35)  # its one blind run: precision 0.710 (88/124), recall 0.355 (88/248)
HOLDOUT3_GOAL_REASON = (
    "issue 16's goal (P >= 0.95, R >= 0.92) not reached: the blind run of held-out 3 gave precision 0.710, recall 0.355"
)


def _pairwise(rows):
    """Pairwise precision and recall of "same signature" against "same group"."""
    tp = fp = fn = 0
    for a, b in itertools.combinations(rows, 2):
        same_group, same_signature = a["group"] == b["group"], a["signature"] == b["signature"]
        tp += same_group and same_signature
        fp += same_signature and not same_group
        fn += same_group and not same_signature
    return tp / (tp + fp), tp / (tp + fn), tp, fp, fn


def test_the_corpus_is_large_labelled_and_sourced():
    rows = load_corpus("error_corpus_*.jsonl")
    assert len(rows) >= 200
    for row in rows:
        assert set(row) == {"group", "tool", "error_type", "message", "stacktrace", "category", "source"}, row
        assert row["message"].strip() and row["source"].startswith("https://") and row["category"] in CATEGORIES
    sizes = Counter(row["group"] for row in rows)
    assert len(sizes) >= 100 and sum(1 for n in sizes.values() if n >= 2) >= 0.8 * len(sizes)
    assert sum(1 for row in rows if row["stacktrace"]) >= 50


def test_same_signature_has_precision_95_and_recall_90(corpus, measurement):
    precision, recall, tp, fp, fn = _pairwise(corpus)
    measurement(
        f"error corpus: {len(corpus)} messages, {tp + fn} same-group pairs: "
        f"precision {precision:.3f}, recall {recall:.3f} (tp {tp}, fp {fp}, fn {fn})"
    )
    assert precision >= 0.95
    assert recall >= 0.90


def _measure(rows, name, measurement):
    precision, recall, tp, fp, fn = _pairwise(rows)
    measurement(
        f"{name}: {len(rows)} messages in {len({r['group'] for r in rows})} groups, "
        f"{tp + fn} same-group pairs: precision {precision:.3f}, recall {recall:.3f} (tp {tp}, fp {fp}, fn {fn})"
    )
    return precision, recall


@pytest.mark.parametrize(
    ("pattern", "minimum", "groups", "tools"),
    [
        (
            "error_holdout.jsonl",
            150,
            40,
            {"kernel", "nginx", "postgres", "docker", "kubernetes", "pytorch", "java", "go", "rust", "ci"},
        ),
        ("error_holdout2.jsonl", 150, 40, {"go", "ci", "postgres", "java", "kubernetes", "kernel", "elixir"}),
        (
            "error_holdout3.jsonl",
            160,
            45,
            {"terraform", "aws", "mongodb", "kafka", "envoy", "rocm", "jenkins", "haskell", "jest"},
        ),
    ],
)
def test_the_held_out_corpora_are_large_labelled_and_of_other_sources(pattern, minimum, groups, tools):
    rows = load_corpus(pattern)
    assert len(rows) >= minimum
    for row in rows:
        assert set(row) == {"group", "tool", "error_type", "message", "stacktrace", "category", "source"}, row
        assert row["message"].strip() and row["source"].startswith("https://") and row["category"] in CATEGORIES
    assert len({row["group"] for row in rows}) >= groups
    others = {
        row["message"] for other in ("error_corpus_*.jsonl", "error_holdout*.jsonl") for row in load_corpus(other)
    }
    others -= {row["message"] for row in rows}
    assert not others & {row["message"] for row in rows}
    assert tools <= {row["tool"] for row in rows}


def test_the_blind_corpus_shares_no_tool_with_the_others():
    earlier = {
        row["tool"]
        for p in ("error_corpus_*.jsonl", "error_holdout.jsonl", "error_holdout2.jsonl")
        for row in load_corpus(p)
    }
    assert not earlier & {row["tool"] for row in load_corpus("error_holdout3.jsonl")}


def test_first_held_out_set_keeps_precision_and_recall(holdout, measurement):
    precision, recall = _measure(holdout, "held-out 1 (dev)", measurement)
    assert precision >= 0.95
    assert recall >= 0.90  # measured 0.901 (0.623 at its blind measurement)


def test_second_held_out_set_keeps_precision_and_recall(holdout2, measurement):
    precision, recall = _measure(holdout2, "held-out 2 (dev)", measurement)
    assert precision >= HOLDOUT2_FLOOR[0]
    assert recall >= HOLDOUT2_FLOOR[1]


def test_blind_held_out_set(holdout3, measurement):
    precision, recall = _measure(holdout3, "held-out 3 (blind)", measurement)
    assert precision >= HOLDOUT3_FLOOR[0]
    assert recall >= HOLDOUT3_FLOOR[1]


@pytest.mark.xfail(reason=HOLDOUT3_GOAL_REASON)
def test_blind_held_out_set_reaches_the_goal(holdout3):
    precision, recall, *_ = _pairwise(holdout3)
    assert precision >= 0.95 and recall >= 0.92


def test_categories_agree_with_the_labels(corpus, measurement):
    agree = sum(row["predicted_category"] == row["category"] for row in corpus) / len(corpus)
    measurement(f"error corpus: category agreement {agree:.3f}")
    assert agree >= 0.80


def test_stack_traces_of_the_corpus_yield_frames_and_a_type(conn):
    traced = [row for row in load_corpus("error_corpus_*.jsonl") if row["stacktrace"]]
    rows = conn.execute(
        """select cardinality(debugloop._error_frames(r.stacktrace)), (debugloop._error_parts(null, '', r.stacktrace)).kind
             from jsonb_to_recordset(%s) as r(stacktrace text)""",
        (Jsonb([{"stacktrace": row["stacktrace"]} for row in traced]),),
    ).fetchall()
    with_frames = sum(1 for frames, _ in rows if frames > 0)
    assert with_frames >= 0.9 * len(traced)
