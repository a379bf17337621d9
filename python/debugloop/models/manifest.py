"""The manifest: a jsonb document, not a row; its parts are documents too."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from .base import Document


class ManifestSource(Document):
    """Where an STF's code came from: one of its producers' code pointers."""

    repository: str | None = None
    branch: str | None = None
    commit_sha: str | None = None
    file_path: str | None = None
    line_start: int | None = None
    line_end: int | None = None


class ManifestStf(Document):
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
    sources: list[ManifestSource] = []


class ManifestGolden(Document):
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


class ManifestFailure(Document):
    approach: str | None
    failures: int
    match: str
    last_failed_at: datetime | None
    errors: list[dict[str, Any]]


class ManifestFix(Document):
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


class ManifestEstimate(Document):
    basis: str
    samples: int
    input_tokens_p50: int | None = None
    input_tokens_p90: int | None = None
    output_tokens_p50: int | None = None
    output_tokens_p90: int | None = None
    cost_p50_usd: Decimal | None = None
    cost_p90_usd: Decimal | None = None


class ManifestSolved(Document):
    tasks: int
    avg_cost_usd: Decimal | None = None


class ManifestModel(Document):
    model: str
    attempts: int
    successes: int
    success_rate: Decimal
    avg_cost_usd: Decimal | None = None
    cost_per_success_usd: Decimal | None = None
    deprecated_at: datetime | None = None
    successor_model: str | None = None


class ManifestDeprecation(Document):
    deprecated_at: datetime | None = None
    successor_model: str | None = None


class ManifestSpend(Document):
    """What spending adds to the cost block: the tokens of a similar request (p50, p90)
    and, for the caller's peer, its available balance, debt and the tokens left under
    its tightest hard budget."""

    tokens_p50: int | None = None
    tokens_p90: int | None = None
    peer_id: str | None = None
    available_tokens: int | None = None
    debt_tokens: int | None = None
    budget_remaining_tokens: int | None = None


class ManifestCost(Document):
    model: str | None = None
    estimate: ManifestEstimate | None = None
    similar_solved: ManifestSolved | None = None
    models: list[ManifestModel] = []
    cheaper_models: list[ManifestModel] = []
    deprecation: ManifestDeprecation | None = None
    spend: ManifestSpend | None = None


class ManifestAgent(Document):
    agent_name: str
    attempts: int
    successes: int


class Manifest(Document):
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
