"""Signatures and error groups against five labelled corpora of error messages
(tests/data/README.md).

Pairwise: two messages with the same signature (or error group) should share a label
(precision), two messages of one label should share a signature (recall). The first
corpus (error_corpus_*.jsonl) was used while building the normaliser; the first three
held-out sets (error_holdout.jsonl, error_holdout2.jsonl, error_holdout3.jsonl) were
labelled before the normaliser ran on them, measured blind once, and then looked at
while tuning, so they are development sets now; error_holdout4.jsonl (tools in none of
the others) is the blind measurement: labelled and committed before its one run, never
tuned on. Signatures group by message (type + normalised key line); the stack trace,
present for some members and absent for others, does not take part. The error group
(debug_error_signatures.group_signature) is what recording the messages one after the
other in the corpus's order gives: a new signature joins the group of a known one when
one message is the other cut, or the other inside its wrappers (_error_group_of).
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


def _grouped(url, pattern):
    """The corpus's rows recorded one after the other (_error_record), each with its
    signature and its error group; the records are rolled back."""
    import psycopg

    rows = load_corpus(pattern)
    with psycopg.connect(url) as conn:
        signatures = conn.execute(
            """select debugloop._error_record(r.error_type, r.message, r.stacktrace, null,
                                              timestamptz '2026-01-01' + r.i * interval '1 second')
                 from rows from (jsonb_to_recordset(%s) as (error_type text, message text, stacktrace text))
                      with ordinality as r(error_type, message, stacktrace, i)
                order by r.i""",
            (Jsonb([{k: r[k] for k in ("error_type", "message", "stacktrace")} for r in rows]),),
        ).fetchall()
        groups = dict(conn.execute("select signature, group_signature from debugloop.debug_error_signatures"))
        conn.rollback()
    for row, (signature,) in zip(rows, signatures, strict=True):
        row["signature"], row["error_group"] = signature, groups[signature]
    return rows


# Floors at the measured figures (precision, recall); see the measurement lines.
HOLDOUT2_FLOOR = (0.97, 0.68)  # blind: 0.932, 0.441
HOLDOUT3_FLOOR = (0.84, 0.54)  # blind: 0.710 (88/124), 0.355 (88/248)
# (pattern, name, signature floor, error group floor) of the four development sets
DEV_GROUP_FLOORS = [
    ("error_corpus_*.jsonl", "error corpus (dev)", (0.97, 0.96), (0.97, 0.97)),
    ("error_holdout.jsonl", "held-out 1 (dev)", (0.99, 0.91), (0.99, 0.95)),
    ("error_holdout2.jsonl", "held-out 2 (dev)", (0.97, 0.69), (0.97, 0.71)),
    ("error_holdout3.jsonl", "held-out 3 (dev)", (0.84, 0.54), (0.85, 0.59)),
]
# its one blind run: signatures 0.902 (111/123), 0.378 (111/294); error groups 0.884 (137/155), 0.466 (137/294)
HOLDOUT4_FLOOR = {"signature": (0.90, 0.37), "error_group": (0.88, 0.46)}
HOLDOUT4_GOAL_REASON = (
    "issue 16's goal (P >= 0.95, R >= 0.92) not reached: the blind run of held-out 4 gave error groups "
    "precision 0.884, recall 0.466 (signatures 0.902, 0.378)"
)


def _pairwise(rows, key="signature"):
    """Pairwise precision and recall of "same signature" (or error group) against "same group"."""
    tp = fp = fn = 0
    for a, b in itertools.combinations(rows, 2):
        same_group, same_signature = a["group"] == b["group"], a[key] == b[key]
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


def _measure(rows, name, measurement, key="signature"):
    precision, recall, tp, fp, fn = _pairwise(rows, key)
    measurement(
        f"{name}, {key.replace('_', ' ')}s: {len(rows)} messages in {len({r['group'] for r in rows})} groups, "
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
        (
            "error_holdout4.jsonl",
            150,
            40,
            {"flutter", "zig", "julia", "r", "powershell", "nix", "sqlite", "vault", "slurm", "asan", "prisma"},
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


@pytest.mark.parametrize(
    ("blind", "earlier"),
    [
        ("error_holdout3.jsonl", ("error_corpus_*.jsonl", "error_holdout.jsonl", "error_holdout2.jsonl")),
        (
            "error_holdout4.jsonl",
            ("error_corpus_*.jsonl", "error_holdout.jsonl", "error_holdout2.jsonl", "error_holdout3.jsonl"),
        ),
    ],
)
def test_the_blind_corpus_shares_no_tool_with_the_others(blind, earlier):
    tools = {row["tool"] for p in earlier for row in load_corpus(p)}
    assert not tools & {row["tool"] for row in load_corpus(blind)}


def test_first_held_out_set_keeps_precision_and_recall(holdout, measurement):
    precision, recall = _measure(holdout, "held-out 1 (dev)", measurement)
    assert precision >= 0.95
    assert recall >= 0.90  # measured 0.901 (0.623 at its blind measurement)


def test_second_held_out_set_keeps_precision_and_recall(holdout2, measurement):
    precision, recall = _measure(holdout2, "held-out 2 (dev)", measurement)
    assert precision >= HOLDOUT2_FLOOR[0]
    assert recall >= HOLDOUT2_FLOOR[1]


def test_third_held_out_set_keeps_precision_and_recall(holdout3, measurement):
    precision, recall = _measure(holdout3, "held-out 3 (dev)", measurement)
    assert precision >= HOLDOUT3_FLOOR[0]
    assert recall >= HOLDOUT3_FLOOR[1]


@pytest.mark.parametrize(("pattern", "name", "signature_floor", "group_floor"), DEV_GROUP_FLOORS)
def test_error_groups_join_more_than_signatures_and_lose_no_precision(
    module_db, measurement, pattern, name, signature_floor, group_floor
):
    rows = _grouped(module_db.url, pattern)
    signature = _pairwise(rows)
    group = _measure(rows, name, measurement, key="error_group")
    assert signature[0] >= signature_floor[0] and signature[1] >= signature_floor[1]
    assert group[0] >= group_floor[0] and group[1] >= group_floor[1]
    assert group[1] >= signature[1]


@pytest.fixture(scope="module")
def holdout4(module_db):
    return _grouped(module_db.url, "error_holdout4.jsonl")


def test_blind_held_out_set(holdout4, measurement):
    for key, (precision_floor, recall_floor) in HOLDOUT4_FLOOR.items():
        precision, recall = _measure(holdout4, "held-out 4 (blind)", measurement, key=key)
        assert precision >= precision_floor
        assert recall >= recall_floor


@pytest.mark.xfail(reason=HOLDOUT4_GOAL_REASON)
def test_blind_held_out_set_reaches_the_goal(holdout4):
    precision, recall, *_ = _pairwise(holdout4, "error_group")
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
