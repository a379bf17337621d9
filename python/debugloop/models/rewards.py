"""The reward engine: a reward's factors (``reward_preview``), the rewards paid
(``reward_list``), what a backfill paid. Amounts are whole tokens (int)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from .base import Row


class RewardQuote(Row):
    """``debugloop.reward_preview(kind, id)``: each factor of a reward, paid or not."""

    __relation__ = "debugloop.reward_preview(text, uuid)"

    kind: str
    object_id: UUID
    peer_id: str | None
    eligible: bool
    why_not: str | None
    quality: Decimal | None
    novelty: Decimal | None
    complexity: Decimal | None
    base: int | None
    quality_multiplier: Decimal | None
    novelty_multiplier: Decimal | None
    complexity_multiplier: Decimal | None
    type_multiplier: Decimal | None
    cap: int | None
    amount: int
    reward_id: UUID
    status: str
    paid: int
    reversed: int
    reuse_paid: int | None
    contribution_hash: str | None
    metadata: Any


class Reward(Row):
    """A row of ``debugloop.v_rewards``: a reward paid or reversed."""

    __relation__ = "debugloop.v_rewards"

    reward_id: UUID
    kind: str
    object_id: UUID
    reuse_key: str | None
    peer_id: str
    amount: int
    status: str | None
    quality: Decimal | None
    novelty: Decimal | None
    complexity: Decimal | None
    factors: Any
    source: str
    paid_by: str
    paid_at: datetime


class BackfillRow(Row):
    """A row of ``debugloop.reward_backfill(kind, limit)``: per kind, what it paid."""

    __relation__ = "debugloop.reward_backfill(text, integer)"

    reward_kind: str
    rewards: int
    tokens: int
