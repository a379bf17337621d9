"""The reward engine (``debugloop.reward_*``): what a contribution earns and why,
the rewards paid, the admin backfill of imported history. Every rule (the
formulas, who earns, exactly once, reversal) is SQL (functions/76_rewards.sql);
rewards are paid by triggers when another peer approves, reuses or confirms."""

from __future__ import annotations

from uuid import UUID

import psycopg

from ._manager import Manager
from .models import BackfillRow, Reward, RewardQuote
from .queries import Q


class RewardsManager(Manager):
    """``debugloop.reward_*``: contributors earn tokens, exactly once."""

    def preview(self, kind: str, object_id: UUID | str, conn: psycopg.Connection | None = None) -> RewardQuote:
        """Each factor of the reward of an STF, golden state or fix (kind ``stf``,
        ``golden``, ``pattern``), what a payment would post now and why not, what was paid."""
        return self._model(RewardQuote, Q.reward_preview, {"kind": kind, "id": str(object_id)}, conn)

    def list(
        self,
        *,
        peer: str | None = None,
        kind: str | None = None,
        limit: int = 50,
        conn: psycopg.Connection | None = None,
    ) -> list[Reward]:
        """The rewards paid and reversed, newest first, of one peer or all, one kind or all."""
        return self._models(Reward, Q.reward_list, {"peer": peer, "kind": kind, "limit": limit}, conn)

    def backfill(
        self, *, kind: str | None = None, limit: int = 100_000, conn: psycopg.Connection | None = None
    ) -> list[BackfillRow]:
        """Pay what imported or earlier history earned and was not paid (admin; idempotent)."""
        return self._models(BackfillRow, Q.reward_backfill, {"kind": kind, "limit": limit}, conn)
