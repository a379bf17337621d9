"""Cost analytics over the ``debugloop.v_cost_*`` views."""

from __future__ import annotations

import psycopg

from ._manager import Manager
from .errors import InvalidParameter
from .models import CostBreakdown, CostlyAttempt, SuccessCost
from .queries import Q

DIMENSIONS = ("agent", "category", "model")


class AnalyticsManager(Manager):
    def cost_breakdown(self, by: str = "model", conn: psycopg.Connection | None = None) -> list[CostBreakdown]:
        """Attempts, outcomes, tokens and cost by agent, category or model, costliest first."""
        if by not in DIMENSIONS:
            raise InvalidParameter(f"by must be one of {', '.join(DIMENSIONS)}, got {by!r}", field="by")
        return self._models(CostBreakdown, Q.cost_breakdown, {"dimension": by}, conn)

    def costliest_attempts(self, limit: int = 10, conn: psycopg.Connection | None = None) -> list[CostlyAttempt]:
        return self._models(CostlyAttempt, Q.costliest_attempts, {"limit": limit}, conn)

    def cost_per_success(self, limit: int = 10, conn: psycopg.Connection | None = None) -> list[SuccessCost]:
        """The most recently solved tasks with the cost of their whole retry chain."""
        return self._models(SuccessCost, Q.cost_per_success, {"limit": limit}, conn)
