"""STFs (reusable functions): the registry, matches, provenance, extraction."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from .base import Row


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
    embedding_semantic: Any
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

    __relation__ = "debugloop.stf_match(text, integer, text, text, boolean, debugloop.vector, text)"

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
    """A row of ``debugloop.v_stf_provenance``: an attempt and contributor that produced an STF's
    code, and where that code came from (null where the source did not say)."""

    __relation__ = "debugloop.v_stf_provenance"

    stf_id: UUID
    attempt_id: UUID | None
    contributor: str | None
    registered_at: datetime
    status: str | None
    user_request: str | None
    repository: str | None
    branch: str | None
    commit_sha: str | None
    file_path: str | None
    line_start: int | None
    line_end: int | None


class StfExtraction(Row):
    """A row of ``debugloop.stf_extract(attempt_id)``: what happened to one unit."""

    __relation__ = "debugloop.stf_extract(uuid)"

    name: str | None
    language: str | None
    action: str
    stf_id: UUID | None
    detail: str | None
