"""The price catalog, imports, repricing and estimates."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from .base import Row


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
    source_key: str | None
    successor_model: str | None
    service_tiers: Any
    off_peak: Any
    uplifts: Any
    context_tiers: Any


class CostEstimate(Row):
    """``debugloop.cost_estimate_result``, what ``attempt_estimate`` returns."""

    __relation__ = "debugloop.attempt_estimate(text, text)"

    basis: str
    samples: int
    input_tokens_p50: int | None
    input_tokens_p90: int | None
    output_tokens_p50: int | None
    output_tokens_p90: int | None
    cost_p50_usd: Decimal | None
    cost_p90_usd: Decimal | None


class PriceImportRow(Row):
    """A row of ``debugloop.price_import(...)``: what happened to one entry."""

    __relation__ = "debugloop.price_import(jsonb, text, timestamptz, text[])"

    provider: str | None
    model_name: str
    action: str
    detail: str | None


class RepriceRow(Row):
    """A row of ``debugloop.price_reprice(since, include_priced)``."""

    __relation__ = "debugloop.price_reprice(timestamptz, boolean)"

    attempt_id: UUID
    model_used: str | None
    old_cost_usd: Decimal | None
    new_cost_usd: Decimal | None
    old_catalog_id: UUID | None
    new_catalog_id: UUID | None
    cost_status: str
