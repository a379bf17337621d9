"""Pydantic models of the rows that the SQL API returns.

Each model names the relation whose columns it mirrors in ``__relation__``; a test
checks the fields' names and types against that relation in a real database.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any, ClassVar
from uuid import UUID

from pydantic import BaseModel, ConfigDict


class Row(BaseModel):
    model_config = ConfigDict(frozen=True)
    __relation__: ClassVar[str]


class Setting(Row):
    """A row of ``debugloop.v_settings``."""

    __relation__ = "debugloop.v_settings"

    key: str
    value: Any
    effective_value: Any
    value_type: str
    overridable: bool
    min_value: Decimal | None
    max_value: Decimal | None
    description: str
    updated_at: datetime
    updated_by: str


class ApiEntry(Row):
    """A row of ``debugloop.v_api``: one public function or view."""

    __relation__ = "debugloop.v_api"

    kind: str
    name: str
    arguments: str
    returns: str
    summary: str
    security_definer: bool


class Component(Row):
    """A row of ``debugloop.info()``."""

    __relation__ = "debugloop.info()"

    component: str
    version: str | None


class PriceVersion(Row):
    """A row of ``debugloop.model_price_catalog``: one immutable price version."""

    __relation__ = "debugloop.model_price_catalog"

    catalog_id: UUID
    provider: str
    model_name: str
    model_version: str | None
    aliases: list[str]
    name_pattern: str | None
    origin: str
    source: str
    mode: str
    currency: str
    input_price_per_million: Decimal
    output_price_per_million: Decimal
    cache_read_price_per_million: Decimal | None
    cache_write_price_per_million: Decimal | None
    cache_write_1h_price_per_million: Decimal | None
    reasoning_price_per_million: Decimal | None
    long_context_threshold: int | None
    long_context_input_price_per_million: Decimal | None
    long_context_output_price_per_million: Decimal | None
    long_context_cache_read_price_per_million: Decimal | None
    long_context_cache_write_price_per_million: Decimal | None
    long_context_cache_write_1h_price_per_million: Decimal | None
    batch_discount: Decimal | None
    context_window: int | None
    max_output_tokens: int | None
    capabilities: list[str]
    requests_per_minute: int | None
    tokens_per_minute: int | None
    is_active: bool
    deprecated_at: datetime | None
    effective_from: datetime
    created_at: datetime
    created_by: str


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


class ChainEntry(Row):
    """A row of ``debugloop.attempt_chain(correlation_id)``."""

    __relation__ = "debugloop.attempt_chain(uuid)"

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


class CostEstimate(Row):
    """``debugloop.cost_estimate_result``, what ``cost_estimate_for_request`` returns."""

    __relation__ = "debugloop.cost_estimate_for_request(text, text)"

    basis: str
    samples: int
    input_tokens_p50: int | None
    input_tokens_p90: int | None
    output_tokens_p50: int | None
    output_tokens_p90: int | None
    cost_p50_usd: Decimal | None
    cost_p90_usd: Decimal | None


class PriceImportRow(Row):
    """A row of ``debugloop.prices_import(...)``: what happened to one entry."""

    __relation__ = "debugloop.prices_import(jsonb, text, timestamptz, text[])"

    provider: str | None
    model_name: str
    action: str
    detail: str | None


class RepriceRow(Row):
    """A row of ``debugloop.prices_reprice(since, include_priced)``."""

    __relation__ = "debugloop.prices_reprice(timestamptz, boolean)"

    attempt_id: UUID
    model_used: str | None
    old_cost_usd: Decimal | None
    new_cost_usd: Decimal | None
    old_catalog_id: UUID | None
    new_catalog_id: UUID | None
    cost_status: str


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


class ErrorSignature(Row):
    """A row of ``debugloop.debug_error_signatures``."""

    __relation__ = "debugloop.debug_error_signatures"

    signature: str
    error_type: str | None
    normalized_message: str
    frames: list[str]
    category: str
    occurrences: int
    first_seen_at: datetime
    last_seen_at: datetime
    example_message: str | None
    example_stacktrace: str | None
    example_attempt_id: UUID | None


class ErrorDescription(Row):
    """What ``debugloop.error_describe(...)`` reads from an error."""

    __relation__ = "debugloop.error_describe(text, text, text)"

    signature: str
    kind: str | None
    normalized_message: str
    frames: list[str]
    category: str


class ErrorMapping(Row):
    """A row of ``debugloop.debug_error_success_mappings``."""

    __relation__ = "debugloop.debug_error_success_mappings"

    mapping_id: UUID
    signature: str
    error_type: str
    error_pattern: str
    pattern_embedding: Any
    error_context: Any
    approach_key: str
    successful_attempt_id: UUID
    successful_stf_ids: list[UUID] | None
    successful_approach: str | None
    failed_attempt_ids: list[UUID]
    confidence_score: Decimal
    wilson_lower_bound: Decimal
    success_count: int
    failure_count: int
    last_success_at: datetime | None
    last_failure_at: datetime | None
    created_at: datetime
    updated_at: datetime


class ErrorFix(Row):
    """A row of ``debugloop.error_fixes(...)``: one fix, ranked."""

    __relation__ = "debugloop.error_fixes(text, text, text, integer)"

    rank: int
    match: str
    similarity: float
    signature: str
    mapped_error_type: str
    error_pattern: str
    successful_approach: str | None
    successful_attempt_id: UUID
    model_used: str | None
    confidence_score: Decimal
    wilson_lower_bound: Decimal
    success_count: int
    failure_count: int
    last_success_at: datetime | None
    mapping_id: UUID


class KnownFailure(Row):
    """A row of ``debugloop.known_failures(user_request, k)``."""

    __relation__ = "debugloop.known_failures(text, integer)"

    approach_description: str | None
    approach_hash: str
    failures: int
    last_failed_at: datetime | None
    match: str
    errors: Any


class Stf(Row):
    """A row of ``debugloop.debug_transform_functions``."""

    __relation__ = "debugloop.debug_transform_functions"

    stf_id: UUID
    stf_name: str
    stf_description: str | None
    stf_hash: str
    source_execution_id: UUID | None
    source_correlation_id: UUID | None
    discovered_at: datetime
    contributor_agent_name: str | None
    stf_code: str
    stf_language: str
    normalized_code: str
    stf_parameters: Any
    docstring: str | None
    problem_category: str | None
    problem_signature: str | None
    quality_score: Decimal | None
    complexity_score: Decimal | None
    evidence_score: Decimal | None
    reuse_score: Decimal | None
    generality_score: Decimal | None
    documentation_score: Decimal | None
    size_score: Decimal | None
    usage_count: int
    success_count: int
    failure_count: int
    last_used_at: datetime | None
    approval_status: str
    approved_by: str | None
    approved_at: datetime | None
    embedding: Any
    embedding_neural: Any
    embedding_model: str | None
    search_text: str
    search_document: Any
    created_at: datetime
    updated_at: datetime


class StfSummary(Row):
    """A row of ``debugloop.v_stfs``."""

    __relation__ = "debugloop.v_stfs"

    stf_id: UUID
    stf_name: str
    stf_language: str
    problem_category: str | None
    approval_status: str
    quality_score: Decimal | None
    usage_count: int
    success_count: int
    failure_count: int
    provenance_count: int
    discovered_at: datetime
    last_used_at: datetime | None
    contributor_agent_name: str | None
    stf_description: str | None


class StfMatch(Row):
    """A row of ``debugloop.stf_match(...)``."""

    __relation__ = "debugloop.stf_match(text, integer, text, text, boolean, vector, text)"

    stf_id: UUID
    stf_name: str
    stf_language: str
    category: str | None
    approval_status: str
    similarity: float
    text_rank: float
    score: float
    confidence: Decimal
    quality_score: Decimal | None
    success_rate: Decimal | None
    success_count: int
    failure_count: int
    usage_count: int
    stf_description: str | None
    docstring: str | None
    stf_code: str


class StfProvenance(Row):
    """A row of ``debugloop.v_stf_provenance``: an attempt and contributor that produced an STF's code."""

    __relation__ = "debugloop.v_stf_provenance"

    stf_id: UUID
    attempt_id: UUID | None
    contributor: str | None
    registered_at: datetime
    status: str | None
    user_request: str | None


class StfExtraction(Row):
    """A row of ``debugloop.stf_extract(attempt_id)``: what happened to one unit."""

    __relation__ = "debugloop.stf_extract(uuid)"

    name: str | None
    language: str | None
    action: str
    stf_id: UUID | None
    detail: str | None


class SimilarProblem(Row):
    """A row of ``debugloop.attempt_similar_problems(problem, k)``."""

    __relation__ = "debugloop.attempt_similar_problems(text, integer)"

    user_request_hash: str
    user_request: str
    similarity: float
    attempts: int
    successes: int


class LikelyFix(Row):
    """A row of ``debugloop.error_likely_fixes(problem, k)``: an error met at similar problems and its best fix."""

    __relation__ = "debugloop.error_likely_fixes(text, integer)"

    signature: str
    error_type: str
    error_pattern: str
    category: str
    seen: int
    successful_approach: str | None
    model_used: str | None
    confidence_score: Decimal
    wilson_lower_bound: Decimal
    success_count: int
    failure_count: int
    mapping_id: UUID


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
    """A row of ``debugloop.debug_golden_reviews``: one decision, who, when, why."""

    __relation__ = "debugloop.debug_golden_reviews"

    review_id: int
    golden_state_id: UUID
    decision: str
    reviewed_by: str
    notes: str | None
    reviewed_at: datetime


class RefreshResult(Row):
    """A row of ``debugloop.analytics_refresh()``."""

    __relation__ = "debugloop.analytics_refresh()"

    view_name: str
    row_count: int
    duration_ms: Decimal


class Metric(Row):
    """A row of ``debugloop.metrics(since)``: a success metric, its target and whether it is met."""

    __relation__ = "debugloop.metrics(timestamptz)"

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


# -- the manifest (a jsonb document, not a row) ------------------------------------


class _Doc(BaseModel):
    model_config = ConfigDict(frozen=True, extra="allow")


class ManifestStf(_Doc):
    stf_id: UUID
    name: str
    language: str
    confidence: Decimal
    similarity: Decimal
    quality_score: Decimal | None = None
    approval_status: str
    usage_count: int
    success_count: int
    failure_count: int
    success_rate: Decimal | None = None
    description: str | None = None
    code: str


class ManifestGolden(_Doc):
    golden_state_id: UUID
    similarity: Decimal
    approval_status: str
    problem: str
    solution_summary: str
    model_used: str | None = None
    agent_name: str | None = None
    tools_used: Any = None
    stf_ids: list[UUID] = []
    quality_score: Decimal
    cost_usd: Decimal | None = None
    reuse_count: int
    reuse_success_count: int


class ManifestFailure(_Doc):
    approach: str | None
    failures: int
    match: str
    last_failed_at: datetime | None
    errors: list[dict[str, Any]]


class ManifestFix(_Doc):
    signature: str
    error_type: str
    error_pattern: str
    category: str
    seen: int
    fix: str | None = None
    model_used: str | None = None
    confidence: Decimal
    wilson_lower_bound: Decimal
    success_count: int
    failure_count: int
    mapping_id: UUID


class ManifestEstimate(_Doc):
    basis: str
    samples: int
    input_tokens_p50: int | None = None
    input_tokens_p90: int | None = None
    output_tokens_p50: int | None = None
    output_tokens_p90: int | None = None
    cost_p50_usd: Decimal | None = None
    cost_p90_usd: Decimal | None = None


class ManifestSolved(_Doc):
    tasks: int
    avg_cost_usd: Decimal | None = None


class ManifestModel(_Doc):
    model: str
    attempts: int
    successes: int
    success_rate: Decimal
    avg_cost_usd: Decimal | None = None
    cost_per_success_usd: Decimal | None = None


class ManifestCost(_Doc):
    model: str | None = None
    estimate: ManifestEstimate | None = None
    similar_solved: ManifestSolved | None = None
    models: list[ManifestModel] = []
    cheaper_models: list[ManifestModel] = []


class ManifestAgent(_Doc):
    agent_name: str
    attempts: int
    successes: int


class Manifest(_Doc):
    """``debugloop.manifest(...)``: what the next agent should know. A section the
    database left out (flag off, or nothing to say) is an empty list or None."""

    manifest_version: int
    generated_at: datetime
    problem: str
    fingerprint: str
    agent_name: str | None = None
    model: str | None = None
    k: int
    similar_problems: int
    stfs: list[ManifestStf] = []
    golden_states: list[ManifestGolden] = []
    known_failures: list[ManifestFailure] = []
    error_fixes: list[ManifestFix] = []
    cost: ManifestCost | None = None
    agent: ManifestAgent | None = None


class ImportReportRow(Row):
    """A row of ``debugloop.import_report(uuid)``: what an import run recorded for one model."""

    __relation__ = "debugloop.import_report(uuid)"

    model: str
    sessions: int
    attempts: int
    errors: int
    running: int
    mappings: int
    stfs: int
    input_tokens: int
    output_tokens: int
    cache_read_tokens: int
    cache_write_tokens: int
    cache_write_1h_tokens: int
    reasoning_tokens: int
    cost_usd: Decimal
    unpriced: int


class ImportSession(Row):
    """A row of ``debugloop.import_sessions(text, integer)``."""

    __relation__ = "debugloop.import_sessions(text, integer)"

    source: str
    session_key: str
    correlation_id: UUID
    title: str | None
    path: str | None
    model: str | None
    attempts: int
    errors: int
    mappings: int
    tokens: int
    cost_usd: Decimal
    reported_cost_usd: Decimal | None
    first_at: datetime | None
    last_at: datetime | None


class ImportCostDifference(Row):
    """A row of ``debugloop.import_cost_differences(text)``."""

    __relation__ = "debugloop.import_cost_differences(text)"

    source: str
    session_key: str
    correlation_id: UUID
    path: str | None
    model: str | None
    reported_cost_usd: Decimal
    cost_usd: Decimal | None
    difference_usd: Decimal | None
    unpriced: int


class ImportFix(Row):
    """A row of ``debugloop.import_fixes(text, integer)``."""

    __relation__ = "debugloop.import_fixes(text, integer)"

    source: str
    agent_name: str
    signature: str
    error_type: str | None
    error_pattern: str
    successful_approach: str | None
    success_count: int
    failure_count: int
    confidence_score: Decimal | None
    successful_attempt_id: UUID
