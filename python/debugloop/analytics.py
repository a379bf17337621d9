"""Analytics for operators and DBAs: cost (``debugloop.v_cost_*``), quality
(``v_quality_summary``, ``v_stf_quality``), STF usage (``mv_stf_usage_stats``) and
the success metrics (``debugloop.analytics_metrics``)."""

from __future__ import annotations

from datetime import date, datetime

import psycopg

from ._manager import Manager
from .errors import InvalidParameter
from .models import (
    CostBreakdown,
    CostlyAttempt,
    Metric,
    PeriodCost,
    QualitySummary,
    RefreshResult,
    StfQuality,
    StfUsage,
    SuccessCost,
)
from .queries import Q

DIMENSIONS = ("agent", "category", "model")


class AnalyticsManager(Manager):
    def cost_breakdown(self, by: str = "model", conn: psycopg.Connection | None = None) -> list[CostBreakdown]:
        """Attempts, outcomes, tokens and cost by agent, category or model, costliest first."""
        if by not in DIMENSIONS:
            raise InvalidParameter(f"by must be one of {', '.join(DIMENSIONS)}, got {by!r}", field="by")
        return self._models(CostBreakdown, Q.cost_breakdown, {"dimension": by}, conn)

    def costs_by_period(
        self,
        period: str,
        *,
        since: date | None = None,
        until: date | None = None,
        timezone: str = "UTC",
        breakdown: bool = False,
        conn: psycopg.Connection | None = None,
    ) -> list[PeriodCost]:
        """Tokens by kind and cost by day, ISO week, month or session, as ccusage reports
        (``debugloop.analytics_costs_by_period``); one row per model with ``breakdown``."""
        params = {"period": period, "since": since, "until": until, "timezone": timezone, "breakdown": breakdown}
        return self._models(PeriodCost, Q.analytics_costs_by_period, params, conn)

    def costliest_attempts(self, limit: int = 10, conn: psycopg.Connection | None = None) -> list[CostlyAttempt]:
        return self._models(CostlyAttempt, Q.costliest_attempts, {"limit": limit}, conn)

    def cost_per_success(self, limit: int = 10, conn: psycopg.Connection | None = None) -> list[SuccessCost]:
        """The most recently solved tasks with the cost of their whole retry chain."""
        return self._models(SuccessCost, Q.cost_per_success, {"limit": limit}, conn)

    def refresh(self, conn: psycopg.Connection | None = None) -> list[RefreshResult]:
        """Refresh the materialized views concurrently (needs debugloop_admin)."""
        return self._models(RefreshResult, Q.analytics_refresh, None, conn)

    def metrics(self, since: datetime, conn: psycopg.Connection | None = None) -> list[Metric]:
        """The success metrics since a time, each with its target and whether it is met."""
        return self._models(Metric, Q.analytics_metrics, {"since": since}, conn)

    def quality(self, conn: psycopg.Connection | None = None) -> QualitySummary:
        """STF quality and approvals, golden-state approvals, top mapping confidence."""
        return self._model(QualitySummary, Q.quality_summary, None, conn)

    def stf_quality(self, conn: psycopg.Connection | None = None) -> list[StfQuality]:
        """STF quality dimensions and approval rate per language and category."""
        return self._models(StfQuality, Q.stf_quality, None, conn)

    def stf_usage(self, limit: int = 20, conn: psycopg.Connection | None = None) -> list[StfUsage]:
        """The most used STFs, as of the last refresh."""
        return self._models(StfUsage, Q.analytics_stf_usage, {"limit": limit}, conn)
