"""Attempts, retry chains and similar problems."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from .base import Row


class Attempt(Row):
    """A row of ``debugloop.debug_execution_attempts``."""

    __relation__ = "debugloop.debug_execution_attempts"

    attempt_id: UUID
    correlation_id: UUID
    execution_id: UUID | None
    parent_attempt_id: UUID | None
    agent_name: str
    agent_type: str | None
    user_request: str
    user_request_hash: str
    problem_category: str | None
    approach_description: str | None
    approach_hash: str | None
    stf_ids: list[UUID] | None
    model_used: str | None
    tools_used: Any
    started_at: datetime
    completed_at: datetime | None
    duration_ms: int | None
    status: str
    error_type: str | None
    error_message: str | None
    error_stacktrace: str | None
    artifacts: Any
    quality_score: Decimal | None
    confidence_score: Decimal | None
    usage_raw: Any
    input_tokens: int | None
    output_tokens: int | None
    cache_read_tokens: int | None
    cache_write_tokens: int | None
    cache_write_1h_tokens: int | None
    reasoning_tokens: int | None
    batch: bool
    tokens_input: int | None
    tokens_output: int | None
    estimated_cost_usd: Decimal | None
    cost_usd: Decimal | None
    cost_status: str | None
    price_catalog_id: UUID | None
    priced_at: datetime | None
    is_golden_state: bool
    golden_state_approved_by: str | None
    golden_state_approved_at: datetime | None
    created_at: datetime
    updated_at: datetime
    error_signature: str | None
    recorded_by: str | None  # the database role that recorded it (null before migration 0010)


class ChainEntry(Row):
    """A row of ``debugloop.attempt_chain(correlation_id)``."""

    __relation__ = "debugloop.attempt_chain(text)"

    attempt_id: UUID
    parent_attempt_id: UUID | None
    depth: int
    agent_name: str
    model_used: str | None
    status: str
    started_at: datetime
    completed_at: datetime | None
    duration_ms: int | None
    error_type: str | None
    cost_usd: Decimal | None
    cost_status: str | None
    cumulative_cost_usd: Decimal


class SimilarProblem(Row):
    """A row of ``debugloop.attempt_similar_problems(problem, k)``."""

    __relation__ = "debugloop.attempt_similar_problems(text, integer)"

    user_request_hash: str
    user_request: str
    similarity: float
    attempts: int
    successes: int
