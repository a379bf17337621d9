"""Imported agent logs: runs, sessions, cost differences, fixes."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from uuid import UUID

from .base import Row


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
