"""The token ledger: balances, transfers, entries, holds, invariants. Amounts are
whole tokens (int); 1 token = $0.001."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from .base import Row


class Balance(Row):
    """The row of ``debugloop.ledger_balance(peer)``: balance = available + held."""

    __relation__ = "debugloop.ledger_balance(text)"

    peer_id: str
    balance: int
    held: int
    available: int
    lifetime_earned: int
    lifetime_spent: int
    version: int
    last_transfer_id: UUID | None
    last_transfer_at: datetime | None


class BalanceAt(Row):
    """A row of ``debugloop.ledger_balance_at(peer, at, version)`` (and of ``ledger_balances_at``)."""

    __relation__ = "debugloop.ledger_balance_at(text, timestamptz, bigint)"

    peer_id: str
    account_version: int
    balance: int
    held: int
    available: int
    posted_at: datetime | None


class Transfer(Row):
    """A row of ``debugloop.ledger_transfers``: posted, or refused for lack of funds."""

    __relation__ = "debugloop.ledger_transfers"

    transfer_id: UUID
    status: str
    transaction_type: str
    reason: str
    from_peer_id: str
    to_peer_id: str
    amount: int
    from_account_id: int | None
    to_account_id: int | None
    from_version: int | None
    to_version: int | None
    hold_id: UUID | None
    memo: str | None
    quality_score: Decimal | None
    novelty_score: Decimal | None
    contribution_hash: str | None
    metadata: Any
    refusal: str | None
    created_by: str
    posted_at: datetime

    @property
    def refused(self) -> bool:
        """True when the payer could not pay: nothing moved, and the id stays refused."""
        return self.status == "refused"


class HistoryEntry(Row):
    """A row of ``debugloop.ledger_history(peer, before, limit)``: one entry with its transfer."""

    __relation__ = "debugloop.ledger_history(text, bigint, integer)"

    peer_id: str
    account_version: int
    transfer_id: UUID
    transaction_type: str
    reason: str
    amount: int
    balance_before: int
    balance_after: int
    held_after: int
    counterparty_peer_id: str | None
    hold_id: UUID | None
    memo: str | None
    metadata: Any
    created_by: str
    posted_at: datetime


class Hold(Row):
    """A row of ``debugloop.ledger_holds``."""

    __relation__ = "debugloop.ledger_holds"

    hold_id: UUID
    peer_id: str
    account_id: int
    amount: int
    reason: str
    status: str
    expires_in: timedelta
    expires_at: datetime
    settled_amount: int | None
    metadata: Any
    refusal: str | None
    created_by: str
    created_at: datetime
    resolved_by: str | None
    resolved_at: datetime | None
    settle_transfer_id: UUID | None
    release_transfer_id: UUID | None

    @property
    def refused(self) -> bool:
        """True when the peer could not pay the hold: nothing is set aside."""
        return self.status == "refused"


class Invariant(Row):
    """A row of ``debugloop.ledger_check()``: one invariant and whether it holds."""

    __relation__ = "debugloop.ledger_check()"

    invariant: str
    holds: bool
    detail: str | None
