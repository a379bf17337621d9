"""Golden states (proven solutions), their matches and reviews."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from .base import Row


class GoldenState(Row):
    """A row of ``debugloop.debug_golden_states``."""

    __relation__ = "debugloop.debug_golden_states"

    golden_state_id: UUID
    execution_attempt_id: UUID
    correlation_id: UUID
    agent_name: str | None
    problem_description: str
    problem_category: str | None
    problem_hash: str
    embedding: Any
    solution_summary: str
    stf_ids: list[UUID]
    tools_used: Any
    model_used: str | None
    cost_usd: Decimal | None
    quality_score: Decimal
    complexity_score: Decimal | None
    reusability_score: Decimal | None
    nomination: str
    nomination_evidence: Any
    nominated_by: str | None
    nominated_at: datetime
    approval_status: str
    approved_by: str | None
    approved_at: datetime | None
    approval_notes: str | None
    reuse_count: int
    reuse_success_count: int
    reuse_failure_count: int
    last_reused_at: datetime | None
    created_at: datetime
    updated_at: datetime
    approach_hash: str | None


class GoldenSummary(Row):
    """A row of ``debugloop.v_golden_states``: the browser's list."""

    __relation__ = "debugloop.v_golden_states"

    golden_state_id: UUID
    approval_status: str
    nomination: str
    quality_score: Decimal
    problem_category: str | None
    model_used: str | None
    agent_name: str | None
    cost_usd: Decimal | None
    reuse_count: int
    reuse_success_count: int
    stfs: int | None
    problem_description: str
    solution_summary: str
    nominated_by: str | None
    nominated_at: datetime
    approved_by: str | None
    approved_at: datetime | None
    execution_attempt_id: UUID


class GoldenMatch(Row):
    """A row of ``debugloop.golden_match(problem, k, approved_only)``."""

    __relation__ = "debugloop.golden_match(text, integer, boolean)"

    golden_state_id: UUID
    similarity: float
    score: float
    approval_status: str
    problem_description: str
    problem_category: str | None
    solution_summary: str
    model_used: str | None
    agent_name: str | None
    tools_used: Any
    stf_ids: list[UUID]
    quality_score: Decimal
    cost_usd: Decimal | None
    reuse_count: int
    reuse_success_count: int
    execution_attempt_id: UUID


class GoldenReview(Row):
    """A row of ``debugloop.debug_golden_reviews``: one decision, who (the database
    role, or debugloop when ``automatic``), for whom (unverified), when, why."""

    __relation__ = "debugloop.debug_golden_reviews"

    review_id: int
    golden_state_id: UUID
    decision: str
    reviewed_by: str
    notes: str | None
    reviewed_at: datetime
    on_behalf_of: str | None
    automatic: bool
