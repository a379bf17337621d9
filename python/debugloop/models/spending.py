"""Spending tokens on LLM calls: estimates, reservations (holds before a call,
settled after it), each peer's carried remainder and debt. Tokens are whole (int)
where the ledger posts them, exact decimals where a call's cost is converted
(1 token = $0.001)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from uuid import UUID

from .base import Row


class SpendEstimate(Row):
    """The row of ``debugloop.spending_estimate(model, user_request, estimate_usd)``:
    what a reservation would hold, and why (basis ``caller``, ``p90`` or ``max_output``)."""

    __relation__ = "debugloop.spending_estimate(text, text, numeric)"

    basis: str
    cost_usd: Decimal
    tokens: int


class Reservation(Row):
    """A row of ``debugloop.spend_reservations``: the hold of one LLM call (``active``)
    and, once ``settled``, the exact tokens of its cost, the whole tokens posted for it,
    the part paid beyond the hold and the part owed (debt)."""

    __relation__ = "debugloop.spend_reservations"

    hold_id: UUID
    peer_id: str
    model: str | None
    attempt_id: UUID | None
    basis: str
    estimate_usd: Decimal
    hold_tokens: int
    status: str
    cost_usd: Decimal | None
    exact_tokens: Decimal | None
    posted_tokens: int | None
    excess_tokens: int | None
    debt_tokens: int | None
    remainder_after: Decimal | None
    created_by: str
    created_at: datetime
    resolved_at: datetime | None
    budget_ids: list[UUID] | None = None  # the budgets it counted against


class SpendAccount(Row):
    """A row of ``debugloop.spend_accounts``: a peer's carried fraction of a token, its
    debt, and the exact tokens its calls cost."""

    __relation__ = "debugloop.spend_accounts"

    peer_id: str
    remainder: Decimal
    debt: int
    charged: Decimal
    updated_at: datetime


class SpendBalance(Row):
    """The row of ``debugloop.spending_balance(peer)``: the ledger balance with the
    carried remainder, the debt, and charged = posted + remainder, exactly."""

    __relation__ = "debugloop.spending_balance(text)"

    peer_id: str
    balance: int
    held: int
    available: int
    remainder: Decimal
    debt: int
    charged: Decimal
    posted: int
