"""Error signatures, their mappings to fixes, and known failures."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from .base import Row


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
    group_signature: str | None = None
    group_words: str | None = None


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
    """A row of ``debugloop.error_known_failures(user_request, k)``."""

    __relation__ = "debugloop.error_known_failures(text, integer)"

    approach_description: str | None
    approach_hash: str
    failures: int
    last_failed_at: datetime | None
    match: str
    errors: Any


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
