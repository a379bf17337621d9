"""Budgets and rate limits of spending (``debugloop.budget_*``): a peer's or a
team's token budget per day, week or month, with a soft limit (an alert row and a
``spend.budget.exceeded.v1`` event, once per period) and a hard limit (a
reservation that would cross it raises BudgetExceeded, DL084); requests and tokens
per minute per peer and model (RateLimited, DL085, with ``retry_after``). The
rules are SQL (functions/77_budgets.sql): spending_reserve checks them after its
estimate and before its hold. Setting budgets, teams and rate limits is for admins."""

from __future__ import annotations

from uuid import UUID

import psycopg

from ._manager import Manager
from .models import Budget, BudgetAlert, BudgetStatus, BudgetUsage, RateLimitRule, RateStatus, Team
from .queries import Q


class BudgetsManager(Manager):
    """``debugloop.budget_*`` and the ``v_spend_budgets`` / ``v_spend_alerts`` views."""

    def set(
        self,
        *,
        peer: str | None = None,
        team: str | None = None,
        period: str = "month",
        soft_limit: int | None = None,
        hard_limit: int | None = None,
        conn: psycopg.Connection | None = None,
    ) -> Budget:
        """Set the budget of ``peer`` or ``team`` (one of them) for a day, week or month
        (UTC), in tokens; replaces the limits of its active budget for that period (admin)."""
        params = {"peer": peer, "team": team, "period": period, "soft_limit": soft_limit, "hard_limit": hard_limit}
        return self._model(Budget, Q.budget_set, params, conn)

    def retire(self, budget_id: UUID, conn: psycopg.Connection | None = None) -> Budget:
        """End a budget (admin); NotFound for an unknown one."""
        return self._model(Budget, Q.budget_retire, {"budget_id": budget_id}, conn)

    def team_set(
        self, team: str, members: list[str], description: str | None = None, conn: psycopg.Connection | None = None
    ) -> Team:
        """Make a team (or change it) with exactly these peers (admin)."""
        params = {"team": team, "members": list(members), "description": description}
        return self._model(Team, Q.budget_team_set, params, conn)

    def team_retire(self, team: str, conn: psycopg.Connection | None = None) -> Team:
        """Retire a team and its budgets (admin)."""
        return self._model(Team, Q.budget_team_retire, {"team": team}, conn)

    def status(self, peer: str, conn: psycopg.Connection | None = None) -> list[BudgetStatus]:
        """The budgets ``peer``'s reservations count against (its own, its teams') now."""
        return self._models(BudgetStatus, Q.budget_status, {"peer": peer}, conn)

    def list(
        self,
        *,
        peer: str | None = None,
        team: str | None = None,
        include_retired: bool = False,
        conn: psycopg.Connection | None = None,
    ) -> list[BudgetUsage]:
        """Budgets (a peer's or a team's own, or all) with their current period's usage."""
        params = {"peer": peer, "team": team, "include_retired": include_retired}
        return self._models(BudgetUsage, Q.budget_list, params, conn)

    def alerts(
        self, *, peer: str | None = None, limit: int = 100, conn: psycopg.Connection | None = None
    ) -> list[BudgetAlert]:
        """Soft limits crossed, newest first (by the peer that crossed it, or of its budget)."""
        return self._models(BudgetAlert, Q.budget_alerts, {"peer": peer, "limit": limit}, conn)

    def rate_limit_set(
        self,
        peer: str | None,
        model: str | None,
        *,
        requests_per_minute: int | None = None,
        tokens_per_minute: int | None = None,
        conn: psycopg.Connection | None = None,
    ) -> RateLimitRule:
        """The rate limit rule of ``peer`` (None: every peer) with ``model`` (None: every
        model); None limits are none (admin)."""
        params = {
            "peer": peer,
            "model": model,
            "requests_per_minute": requests_per_minute,
            "tokens_per_minute": tokens_per_minute,
        }
        return self._model(RateLimitRule, Q.budget_rate_limit_set, params, conn)

    def rate_limit_remove(self, peer: str | None, model: str | None, conn: psycopg.Connection | None = None) -> bool:
        """Remove the rule of that pair (admin); whether there was one."""
        return bool(self._value(Q.budget_rate_limit_remove, {"peer": peer, "model": model}, conn))

    def rate_status(self, peer: str, model: str | None, conn: psycopg.Connection | None = None) -> RateStatus:
        """The rate limits of ``peer`` with ``model`` and what the current minute used."""
        return self._model(RateStatus, Q.budget_rate_status, {"peer": peer, "model": model}, conn)
