"""Budgets and rate limits of spending: a peer's or a team's token budget per day,
week or month (soft and hard limits), its current period's usage, the alerts of
crossed soft limits, rate limit rules and status, and the spending report."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from uuid import UUID

from .base import Row


class Budget(Row):
    """A row of ``debugloop.spend_budgets``: the limits of a peer's or a team's budget."""

    __relation__ = "debugloop.spend_budgets"

    budget_id: UUID
    peer_id: str | None
    team_id: str | None
    period: str
    soft_limit: int | None
    hard_limit: int | None
    created_by: str
    created_at: datetime
    updated_at: datetime
    retired_at: datetime | None


class BudgetUsage(Row):
    """A row of ``debugloop.v_spend_budgets``: a budget with its current period's
    usage and state (ok, soft, hard, retired)."""

    __relation__ = "debugloop.v_spend_budgets"

    budget_id: UUID
    peer_id: str | None
    team_id: str | None
    period: str
    period_start: datetime
    period_end: datetime
    used: int
    reservations: int
    soft_limit: int | None
    hard_limit: int | None
    state: str
    created_by: str
    created_at: datetime
    updated_at: datetime
    retired_at: datetime | None


class BudgetStatus(Row):
    """A row of ``debugloop.budget_status(peer)``: a budget the peer's reservations
    count against, in its current period."""

    __relation__ = "debugloop.budget_status(text)"

    budget_id: UUID
    peer_id: str | None
    team_id: str | None
    period: str
    period_start: datetime
    period_end: datetime
    used: int
    soft_limit: int | None
    hard_limit: int | None
    remaining: int | None
    state: str


class BudgetAlert(Row):
    """A row of ``debugloop.v_spend_alerts``: a soft limit crossed (once per budget and period)."""

    __relation__ = "debugloop.v_spend_alerts"

    alert_id: int
    created_at: datetime
    budget_id: UUID
    budget_peer_id: str | None
    team_id: str | None
    period: str
    period_start: datetime
    peer_id: str
    used: int
    soft_limit: int
    hard_limit: int | None


class Team(Row):
    """A row of ``debugloop.spend_teams``."""

    __relation__ = "debugloop.spend_teams"

    team_id: str
    description: str | None
    created_by: str
    created_at: datetime
    updated_at: datetime
    retired_at: datetime | None


class RateLimitRule(Row):
    """A row of ``debugloop.spend_rate_limits``: an admin's requests and tokens per
    minute for a peer (None: every peer) and a model (None: every model)."""

    __relation__ = "debugloop.spend_rate_limits"

    rule_id: int
    peer_id: str | None
    model: str | None
    requests_per_minute: int | None
    tokens_per_minute: int | None
    set_by: str
    updated_at: datetime


class RateStatus(Row):
    """The row of ``debugloop.budget_rate_status(peer, model)``: the limits in force
    (source rule, catalog, setting or none) and what the current minute used."""

    __relation__ = "debugloop.budget_rate_status(text, text)"

    peer_id: str
    model_name: str | None
    source: str
    requests_per_minute: int | None
    tokens_per_minute: int | None
    minute: datetime
    requests: int
    tokens: int


class SpendReportRow(Row):
    """A row of ``debugloop.spending_report(...)``: what calls cost in a period, per
    peer and model (tokens posted, exact tokens, USD), and what is still held."""

    __relation__ = "debugloop.spending_report(text, text, text, timestamptz, timestamptz)"

    period_start: datetime
    peer_id: str
    model: str
    calls: int
    posted_tokens: int
    exact_tokens: Decimal
    cost_usd: Decimal
    active_calls: int
    held_tokens: int
