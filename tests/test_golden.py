"""Golden states against a real PostgreSQL: manual nomination, automatic
nomination and approval by the thresholds in settings, withdrawal by a later
failure, the review workflow and its audit, reuse counts, similar-problem search."""

import uuid
from decimal import Decimal

import psycopg
import pytest

from debugloop.errors import AlreadyRecorded, InvalidParameter, NotEligible, NotFound, ReviewConflict
from helpers import CODE, FIX, PARAPHRASE, REQUEST

USAGE = {"prompt_tokens": 2_000, "completion_tokens": 300}


def solve(
    dl,
    *,
    request=REQUEST,
    quality=0.95,
    approach=FIX,
    model="gpt-4o-mini",
    usage=USAGE,
    parent=None,
    agent="fixer",
    artifacts=None,
    tools=None,
):
    """One successful attempt (a retry of ``parent`` when given); returns its id."""
    attempt_id = dl.attempts.start(
        agent, request, model, parent_attempt_id=parent, approach_description=approach, tools_used=tools
    )
    dl.attempts.finish(attempt_id, "success", usage=usage, quality_score=quality, artifacts=artifacts)
    return attempt_id


def fail(dl, *, request=REQUEST, approach="split each line on commas", parent=None, correlation_id=None):
    attempt_id = dl.attempts.start(
        "fixer",
        request,
        "gpt-4o",
        parent_attempt_id=parent,
        correlation_id=correlation_id,
        approach_description=approach,
    )
    dl.attempts.finish(attempt_id, "error", usage=USAGE, error_type="KeyError", error_message="'amount'")
    return attempt_id


def golden_rows(conn):
    return conn.execute(
        "select execution_attempt_id, nomination, approval_status, approved_by from debugloop.debug_golden_states"
        " order by nominated_at"
    ).fetchall()


def only_golden(dl, conn):
    """The one golden state of the database."""
    (golden_id,) = conn.execute("select golden_state_id from debugloop.debug_golden_states").fetchall()
    return dl.golden.get(golden_id[0])


def golden_of(dl, conn, attempt_id):
    """The golden state of one attempt."""
    (golden_id,) = conn.execute(
        "select golden_state_id from debugloop.debug_golden_states where execution_attempt_id = %s", (attempt_id,)
    ).fetchone()
    return dl.golden.get(golden_id)


# -- manual nomination -----------------------------------------------------------------


def test_nominate_takes_summary_stfs_tools_and_model_from_the_attempt(dl, conn):
    failed = fail(dl)
    attempt_id = solve(
        dl, parent=failed, quality=None, tools=["Read", "Edit"], artifacts={"files": {"billing/invoice.py": CODE}}
    )
    golden_id = dl.golden.nominate(attempt_id, nominated_by="alice", quality_score=0.85)
    golden = dl.golden.get(golden_id)
    stf_id = conn.execute(
        "select stf_id from debugloop.debug_transform_functions where stf_name = 'invoice_total'"
    ).fetchone()[0]
    assert (golden.solution_summary, golden.model_used, golden.tools_used, golden.stf_ids) == (
        FIX,
        "gpt-4o-mini",
        ["Read", "Edit"],
        [stf_id],
    )
    assert (golden.quality_score, golden.nomination, golden.nominated_by, golden.approval_status) == (
        Decimal("0.85"),
        "manual",
        "alice",
        "pending",
    )
    assert golden.problem_description == REQUEST and golden.execution_attempt_id == attempt_id
    assert golden.cost_usd == dl.attempts.get(attempt_id).cost_usd > 0
    # the thresholds' evidence is recorded for the reviewer, not enforced
    assert golden.nomination_evidence["quality"] is None and golden.nomination_evidence["later_failures"] == 0
    # one golden state per attempt: nominating again returns the same id
    assert dl.golden.nominate(attempt_id, nominated_by="bob", quality_score=0.5) == golden_id
    assert conn.execute("select count(*) from debugloop.debug_golden_states").fetchone()[0] == 1
    assert dl.golden.get(str(golden_id)[:8]).golden_state_id == golden_id


def test_only_a_successful_attempt_can_be_nominated(dl, conn):
    failed = fail(dl)
    with pytest.raises(NotEligible) as info:
        dl.golden.nominate(failed, quality_score=0.9)
    assert info.value.field == "attempt_id" and "error" in info.value.message
    running = dl.attempts.start("fixer", REQUEST, "gpt-4o")
    with pytest.raises(NotEligible):
        dl.golden.nominate(running, quality_score=0.9)
    with pytest.raises(NotFound):
        dl.golden.nominate(uuid.uuid4(), quality_score=0.9)
    unrated = solve(dl, quality=None)
    with pytest.raises(InvalidParameter) as info:
        dl.golden.nominate(unrated)
    assert info.value.field == "quality_score"
    with pytest.raises(InvalidParameter):
        dl.golden.nominate(unrated, quality_score=1.5)
    assert golden_rows(conn) == []


# -- automatic nomination and approval -------------------------------------------------


def test_a_good_success_is_nominated_and_approved_once_others_succeed_the_same_way(dl, conn, as_role):
    first = solve(dl, parent=fail(dl))
    assert golden_rows(conn) == [(first, "automatic", "pending", None)]
    evidence = only_golden(dl, conn).nomination_evidence
    assert evidence["nominate"] is True and evidence["approve"] is False
    assert any("approval by hand" in reason for reason in evidence["reasons"])
    # the same request solved the same way in another chain, by another peer (a role of its
    # own): evidence for the first, no second golden state
    solve(as_role("peer_b", "debugloop_agent"))
    assert [r[2] for r in golden_rows(conn)] == ["pending"]
    solve(as_role("peer_c", "debugloop_agent"))  # the second passes golden_auto_approve_min_successes (2)
    assert golden_rows(conn) == [(first, "automatic", "approved", "debugloop")]
    attempt = dl.attempts.get(first)
    assert attempt.is_golden_state and attempt.golden_state_approved_by == "debugloop"
    review = conn.execute("select reviewed_by, decision, notes from debugloop.debug_golden_reviews").fetchall()
    assert review == [
        (
            "debugloop",
            "approved",
            "automatic: quality 0.95, 2 independent successes at similar problems (evidence 2.000)",
        )
    ]


UNRELATED = "Resize the uploaded profile photos and store their thumbnails in the bucket"


def first_success_after_peers(dl, conn, as_role, request, approach):
    """Four other peers solve ``request``; then a new task (REQUEST) succeeds for the first
    time. Returns its golden state's approval status and evidence."""
    for peer in ("peer_b", "peer_c", "peer_d", "peer_e"):
        solve(as_role(peer, "debugloop_agent"), request=request, approach=approach)
    first = solve(dl)
    golden = golden_of(dl, conn, first)
    return golden.approval_status, golden.nomination_evidence


def test_successes_at_an_unrelated_request_do_not_approve_a_new_tasks_first_success(dl, conn, as_role):
    """Issue 16: unrelated requests of the same shape score below golden_evidence_min_similarity
    (0.65 for util_embed_semantic, migration 0062); they are no evidence, however many peers."""
    status, evidence = first_success_after_peers(dl, conn, as_role, UNRELATED, "count lines with a regex")
    assert status == "pending" and evidence["approve"] is False and evidence["independent_successes"] == 0
    assert (evidence["best_similarity"] or 0) < evidence["evidence_min_similarity"] == 0.65


def test_successes_at_a_paraphrase_approve_a_new_tasks_first_success_weighted_by_similarity(dl, conn, as_role):
    status, evidence = first_success_after_peers(dl, conn, as_role, PARAPHRASE, "sum the rows with csv")
    assert status == "approved"
    # four peers at the paraphrase's similarity (0.82 < 1 each): weighted, more than 2 peers are needed
    assert evidence["independent_successes"] == 4 and evidence["evidence_sessions"] == 4
    assert 2 <= evidence["evidence_weight"] < 4 and evidence["best_similarity"] >= 0.65


def test_attempts_below_the_quality_threshold_or_without_one_are_not_nominated(dl, conn):
    solve(dl, quality=0.79)
    solve(dl, quality=None, approach="another way")
    assert golden_rows(conn) == []
    dl.settings.set("golden_min_quality", "0.7")
    solve(dl, quality=0.79, approach="a third way")
    assert len(golden_rows(conn)) == 1


def test_a_success_costing_far_more_than_similar_ones_is_not_nominated(dl, conn):
    for i in range(3):  # three priced successes at the same request, below the quality bar
        solve(dl, quality=0.5, approach=f"cheap way {i}")
    dear = solve(dl, approach="the dear way", usage={"prompt_tokens": 20_000, "completion_tokens": 3_000})
    assert golden_rows(conn) == []
    # the reason is the cost test: with a higher ratio the same attempt passes
    dl.settings.set("golden_max_cost_ratio", "50")
    assert dl.golden.nominate(dear)  # a manual nomination records the evidence it weighed
    evidence = only_golden(dl, conn).nomination_evidence
    assert evidence["cost_samples"] == 3 and Decimal(str(evidence["cost_ratio"])) == Decimal("10.00")
    solve(dl, approach="another dear way", usage={"prompt_tokens": 20_000, "completion_tokens": 3_000})
    assert len(golden_rows(conn)) == 2


def test_a_later_failure_in_the_chain_withdraws_a_pending_automatic_nomination(dl, conn):
    success = solve(dl)
    fail(dl, parent=success, approach="the tests found a bug")
    (golden_id, status, by) = conn.execute(
        "select golden_state_id, approval_status, approved_by from debugloop.debug_golden_states"
    ).fetchone()
    assert (status, by) == ("rejected", "debugloop")
    note = conn.execute(
        "select notes from debugloop.debug_golden_reviews where golden_state_id = %s", (golden_id,)
    ).fetchone()[0]
    assert "later in its chain failed" in note


def test_the_flag_off_nominates_nothing(dl, conn):
    with dl.connection() as c:
        c.execute("set local debugloop.enable_golden_states = off")
        attempt_id = dl.attempts.start("fixer", REQUEST, "gpt-4o-mini", conn=c)
        dl.attempts.finish(attempt_id, "success", usage=USAGE, quality_score=0.99, conn=c)
    assert golden_rows(conn) == []


# -- review ----------------------------------------------------------------------------


def test_review_workflow_its_audit_and_the_attempt_flag(dl, conn, as_role):
    attempt_id = solve(dl, quality=None)
    golden_id = dl.golden.nominate(attempt_id, quality_score=0.9)
    dba = as_role("dba", "debugloop_admin")  # who reviews is the role
    approved = dba.golden.review(golden_id, "approve", "dba", "works for every invoice format")
    assert (approved.approval_status, approved.approved_by, approved.approval_notes) == (
        "approved",
        "dba",
        "works for every invoice format",
    )
    assert dl.attempts.get(attempt_id).is_golden_state
    with pytest.raises(ReviewConflict):
        dba.golden.review(golden_id, "approve", "dba")
    assert dba.golden.review(golden_id, "reject", "dba", "rounds half down").approval_status == "rejected"
    assert not dl.attempts.get(attempt_id).is_golden_state
    with pytest.raises(ReviewConflict) as info:
        dba.golden.review(golden_id, "approve", "dba")
    assert "golden_reopen" in info.value.hint and info.value.field == "golden_state_id"
    assert dba.golden.review(golden_id, "reopen", "dba").approval_status == "pending"
    assert dba.golden.review(golden_id, "approve", "dba").approval_status == "approved"
    audit = [(r.decision, r.reviewed_by, r.notes) for r in dba.golden.reviews(golden_id)]
    assert audit == [
        ("approved", "dba", "works for every invoice format"),
        ("rejected", "dba", "rounds half down"),
        ("pending", "dba", None),
        ("approved", "dba", None),
    ]
    with pytest.raises(InvalidParameter):
        dba.golden.review(golden_id, "maybe", "dba")
    with pytest.raises(InvalidParameter) as info:
        dba.golden.review(golden_id, "reject", " ")
    assert info.value.field == "reviewed_by"
    with pytest.raises(NotFound):
        dba.golden.review(uuid.uuid4(), "approve", "dba")


def test_review_needs_the_admin_role_and_nomination_the_agent_role(dl, db):
    golden_id = dl.golden.nominate(solve(dl, quality=None), quality_score=0.9)
    with psycopg.connect(db.url, autocommit=True) as c:
        c.execute("set role debugloop_agent")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            c.execute("select debugloop.golden_approve(%s, 'me')", (golden_id,))
        c.execute("set role debugloop_reader")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            c.execute("select debugloop.golden_nominate(%s)", (uuid.uuid4(),))


# -- reuse and search -----------------------------------------------------------------


def test_reuse_is_counted_once_per_attempt(dl):
    golden_id = dl.golden.nominate(solve(dl, quality=None), quality_score=0.9)
    first, second = solve(dl, approach="reused it"), fail(dl, approach="reused it badly")
    dl.golden.record_reuse(golden_id, first, True)
    golden = dl.golden.record_reuse(golden_id, second, False)
    assert (golden.reuse_count, golden.reuse_success_count, golden.reuse_failure_count) == (2, 1, 1)
    assert golden.last_reused_at is not None
    with pytest.raises(AlreadyRecorded):
        dl.golden.record_reuse(golden_id, first, True)
    with pytest.raises(NotFound) as info:
        dl.golden.record_reuse(golden_id, uuid.uuid4(), True)
    assert info.value.field == "attempt_id"
    with pytest.raises(NotFound):
        dl.golden.record_reuse(uuid.uuid4(), first, True)
    assert dl.golden.get(golden_id).reuse_count == 2


def test_match_finds_golden_states_of_similar_problems_only(dl):
    golden_id = dl.golden.nominate(solve(dl, quality=None), quality_score=0.9)
    other = dl.golden.nominate(
        solve(dl, request="Add a dark mode toggle to the settings page", quality=None, approach="css variables"),
        quality_score=0.9,
    )
    found = dl.golden.match(PARAPHRASE)
    assert [g.golden_state_id for g in found] == [golden_id]
    assert found[0].similarity > 0.3 and found[0].solution_summary == FIX
    assert [g.golden_state_id for g in dl.golden.match("Let users switch the settings page to dark mode")] == [other]
    assert dl.golden.match("Translate the manual into French") == []
    assert dl.golden.match(PARAPHRASE, approved_only=True) == []
    dl.golden.review(golden_id, "reject", "dba")
    assert dl.golden.match(PARAPHRASE) == []
    with pytest.raises(InvalidParameter) as info:
        dl.golden.match(" ")
    assert info.value.field == "problem"
