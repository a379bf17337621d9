"""The price catalog and exact cost (``debugloop.price_*``, ``prices_*``, ``cost_*``)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import psycopg

from ._manager import Manager
from .adapt import jsonb, jsonb_fast
from .errors import UnknownModel
from .models import CostEstimate, PriceImportRow, PriceVersion, RepriceRow
from .queries import Q

PRICE_FIELDS = (
    "cache_read_price_per_million",
    "cache_write_price_per_million",
    "cache_write_1h_price_per_million",
    "reasoning_price_per_million",
    "long_context_threshold",
    "long_context_input_price_per_million",
    "long_context_output_price_per_million",
    "batch_discount",
    "aliases",
    "name_pattern",
    "effective_from",
    "source",
    "context_window",
    "max_output_tokens",
)


class PricesManager(Manager):
    def cost(
        self,
        model: str,
        usage: Any,
        at: datetime | None = None,
        conn: psycopg.Connection | None = None,
        *,
        provider: str | None = None,
    ) -> Decimal:
        """Exact USD cost of ``usage`` (any supported format) for ``model`` (at ``provider``,
        when given) at the prices in force at ``at``, its requests made at ``at``."""
        params = {"model": model, "usage": jsonb(usage, "usage"), "at": at, "provider": provider}
        return self._value(Q.price_cost, params, conn)

    def lookup(
        self,
        model: str,
        at: datetime | None = None,
        conn: psycopg.Connection | None = None,
        *,
        provider: str | None = None,
    ) -> PriceVersion:
        """The price version that applies to ``model`` at ``at``; UnknownModel when none does."""
        rows = self._models(PriceVersion, Q.price_lookup, {"model": model, "at": at, "provider": provider}, conn)
        if not rows:
            raise UnknownModel(f"no price for model {model!r}", field="model")
        return rows[0]

    def versions(self, provider: str, model_name: str, conn: psycopg.Connection | None = None) -> list[PriceVersion]:
        """Every version of one model, newest first."""
        return self._models(PriceVersion, Q.price_versions, {"provider": provider, "model_name": model_name}, conn)

    def list(
        self, provider: str | None = None, search: str | None = None, conn: psycopg.Connection | None = None
    ) -> list[PriceVersion]:
        """The price in force now for each model (``debugloop.v_prices``)."""
        return self._models(PriceVersion, Q.price_list, {"provider": provider, "search": search}, conn)

    def set(
        self,
        provider: str,
        model_name: str,
        input_price_per_million: Decimal | str,
        output_price_per_million: Decimal | str,
        *,
        conn: psycopg.Connection | None = None,
        **optional: Any,
    ) -> PriceVersion:
        """Add a custom price version (needs debugloop_admin). ``optional`` takes the
        other arguments of ``debugloop.price_set`` (cache prices, tier, aliases, ...)."""
        unknown = set(optional) - set(PRICE_FIELDS)
        if unknown:
            raise TypeError(f"unknown price field(s): {', '.join(sorted(unknown))}")
        params = {field: optional.get(field) for field in PRICE_FIELDS}
        params.update(
            provider=provider,
            model_name=model_name,
            input_price_per_million=input_price_per_million,
            output_price_per_million=output_price_per_million,
        )
        params["aliases"] = params["aliases"] or []
        params["source"] = params["source"] or "custom"
        return self._model(PriceVersion, Q.price_set, params, conn)

    def import_litellm(
        self,
        doc: dict,
        source: str,
        *,
        effective_from: datetime | None = None,
        providers: list[str] | None = None,
        conn: psycopg.Connection | None = None,
    ) -> list[PriceImportRow]:
        """Import a document in LiteLLM's model_prices_and_context_window.json format
        (needs debugloop_admin); a new version only where a price changed."""
        params = {"doc": jsonb_fast(doc), "source": source, "effective_from": effective_from, "providers": providers}
        return self._models(PriceImportRow, Q.price_import, params, conn)

    def reprice(
        self, since: datetime, include_priced: bool = False, conn: psycopg.Connection | None = None
    ) -> list[RepriceRow]:
        """Price unpriced attempts started since ``since`` again (needs debugloop_admin)."""
        return self._models(RepriceRow, Q.price_reprice, {"since": since, "include_priced": include_priced}, conn)

    def estimate(
        self, model: str, input_tokens: int, output_tokens: int, conn: psycopg.Connection | None = None
    ) -> Decimal:
        """USD cost of a request of this size at today's prices."""
        params = {"model": model, "input_tokens": input_tokens, "output_tokens": output_tokens}
        return self._value(Q.price_estimate, params, conn)

    def estimate_for_request(
        self, user_request: str, model: str, conn: psycopg.Connection | None = None
    ) -> CostEstimate:
        """p50/p90 tokens and cost of a request, from similar past attempts."""
        return self._model(CostEstimate, Q.attempt_estimate, {"user_request": user_request, "model": model}, conn)
