"""Cost, quality and usage analytics, and the success metrics."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from uuid import UUID

from .base import Row


class CostBreakdown(Row):
    """A row of ``debugloop.v_cost_breakdown``."""

    __relation__ = "debugloop.v_cost_breakdown"

    dimension: str
    agent_type: str | None
    agent_name: str | None
    problem_category: str | None
    model_used: str | None
    attempts: int
    successes: int
    failures: int
    priced_attempts: int
    unpriced_attempts: int
    total_cost_usd: Decimal
    avg_cost_usd: Decimal | None
    tokens_input: int
    tokens_output: int
    cache_read_tokens: int


class CostlyAttempt(Row):
    """A row of ``debugloop.v_costliest_attempts``."""

    __relation__ = "debugloop.v_costliest_attempts"

    cost_rank: int
    attempt_id: UUID
    correlation_id: UUID
    agent_name: str
    model_used: str | None
    status: str
    started_at: datetime
    tokens_input: int | None
    tokens_output: int | None
    cost_usd: Decimal
    user_request: str


class SuccessCost(Row):
    """A row of ``debugloop.v_cost_per_success``: the cost of one solved task."""

    __relation__ = "debugloop.v_cost_per_success"

    correlation_id: UUID
    attempts: int
    failed_attempts: int
    chain_cost_usd: Decimal
    fully_priced: bool
    started_at: datetime
    solved_at: datetime | None
    final_model: str | None
    final_agent: str | None


class RefreshResult(Row):
    """A row of ``debugloop.analytics_refresh()``."""

    __relation__ = "debugloop.analytics_refresh()"

    view_name: str
    row_count: int
    duration_ms: Decimal


class Metric(Row):
    """A row of ``debugloop.analytics_metrics(since)``: a success metric, its target and whether it is met."""

    __relation__ = "debugloop.analytics_metrics(timestamptz)"

    metric: str
    value: Decimal | None
    target: Decimal
    comparison: str
    met: bool | None
    unit: str


class QualitySummary(Row):
    """The row of ``debugloop.v_quality_summary``."""

    __relation__ = "debugloop.v_quality_summary"

    stfs: int
    avg_stf_quality: Decimal | None
    stfs_approved: int
    stfs_pending: int
    stfs_rejected: int
    stf_approval_rate: Decimal | None
    golden_states: int
    golden_approved: int
    golden_pending: int
    golden_rejected: int
    golden_approval_rate: Decimal | None
    mappings: int
    top10_mapping_confidence: Decimal | None


class StfQuality(Row):
    """A row of ``debugloop.v_stf_quality``: STF quality per language and category."""

    __relation__ = "debugloop.v_stf_quality"

    stf_language: str
    problem_category: str | None
    stfs: int
    avg_quality: Decimal | None
    avg_evidence: Decimal | None
    avg_reuse: Decimal | None
    avg_generality: Decimal | None
    avg_documentation: Decimal | None
    avg_size: Decimal | None
    approved: int
    rejected: int
    approval_rate: Decimal | None


class StfUsage(Row):
    """A row of ``debugloop.mv_stf_usage_stats`` (as of the last ``analytics_refresh()``)."""

    __relation__ = "debugloop.mv_stf_usage_stats"

    stf_id: UUID
    stf_name: str
    stf_language: str
    problem_category: str | None
    approval_status: str
    quality_score: Decimal | None
    discovered_at: datetime
    uses: int
    successful_uses: int
    failed_uses: int
    success_rate: Decimal | None
    tasks: int
    agents: int
    last_used_at: datetime | None
    cost_of_using_attempts_usd: Decimal
    avg_cost_of_using_attempt_usd: Decimal | None
    producers: int


class PeriodCost(Row):
    """A row of ``debugloop.analytics_costs_by_period(...)``: one day, week, month or
    session (and model, with ``breakdown``)."""

    __relation__ = "debugloop.analytics_costs_by_period(text, date, date, text, boolean)"

    period_key: str
    period_start: datetime
    title: str | None
    model: str | None
    models: list[str]
    attempts: int
    running: int
    unpriced: int
    input_tokens: int
    output_tokens: int
    cache_write_tokens: int
    cache_read_tokens: int
    total_tokens: int
    cost_usd: Decimal
    first_at: datetime
    last_at: datetime
