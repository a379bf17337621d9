"""The token ledger (``debugloop.ledger_*``): balances and history, transfers and
batches, grants and adjustments, holds. 1 token = $0.001. Every rule (double
entry, idempotency, refusals, holds, who may move what) is SQL
(functions/72_ledger.sql); amounts go to SQL as exact decimals, so that a
fractional one is refused there by name.

A transfer or hold that its payer cannot pay comes back with ``status ==
'refused'`` (``.refused``) and its reason in ``.refusal``: nothing moved, and
the id stays refused.

With a balance cache (``DEBUGLOOP_VALKEY_URL``; debugloop.cache), ``balance`` and
``balances`` read Valkey first and fill it from PostgreSQL on a miss; the
manager takes the cache as an object with ``get_many`` and ``put_many`` and
imports no cache module."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

import psycopg

from ._manager import Manager
from .adapt import jsonb, to_decimal
from .models import Balance, BalanceAt, HistoryEntry, Hold, Invariant, Transfer
from .queries import Q

Amount = int | Decimal | float


def _cached_balance(fields: dict[str, Any]) -> Balance:
    return Balance(
        peer_id=fields["peer_id"],
        balance=fields["balance"],
        held=fields["held"],
        available=fields["available"],
        lifetime_earned=fields["lifetime_earned"],
        lifetime_spent=fields["lifetime_spent"],
        version=fields["version"],
        last_transfer_id=fields.get("last_transaction_id"),
        last_transfer_at=fields.get("last_updated") if fields["version"] else None,
    )


class LedgerManager(Manager):
    """``debugloop.ledger_*``: the double-entry token ledger."""

    def __init__(self, db, cache: Any = None) -> None:
        super().__init__(db)
        self.cache = cache

    # -- reads ------------------------------------------------------------------------

    def balance(self, peer: str, conn: psycopg.Connection | None = None) -> Balance:
        """A peer's balance, held and available tokens, lifetime earned and spent, version.
        From the cache when one is configured and holds the peer (not inside the
        caller's transaction ``conn``, which reads PostgreSQL)."""
        if self.cache is None or conn is not None or peer.startswith("sys_"):
            return self._model(Balance, Q.ledger_balance, {"peer": peer}, conn)
        return self.balances([peer])[0]

    def balances(self, peers: list[str]) -> list[Balance]:
        """The balances of several peers, in order: the cache's in one round trip, the
        misses from PostgreSQL in one query (and then cached). UnknownPeer for a peer
        that does not exist."""
        cached = self.cache.get_many(peers) if self.cache is not None else [None] * len(peers)
        result = [_cached_balance(c) if c is not None else None for c in cached]
        missing = [p for p, b in zip(peers, result, strict=True) if b is None]
        if missing:
            fresh = {b.peer_id: b for b in self._models(Balance, Q.ledger_balances, {"peers": missing})}
            if self.cache is not None:
                self._fill([b for p, b in fresh.items() if not p.startswith("sys_")])
            result = [b if b is not None else fresh[p] for p, b in zip(peers, result, strict=True)]
        return result

    def _fill(self, balances: list[Balance]) -> None:
        """Cache what was read, by its version: never over a newer one (the cache's
        script refuses it); a cache that is down is skipped."""
        try:
            self.cache.put_many(b.model_dump() for b in balances)
        except Exception:  # noqa: BLE001 - the cache is never the truth; a failed fill costs nothing
            pass

    def history(
        self, peer: str, *, before: int | None = None, limit: int = 50, conn: psycopg.Connection | None = None
    ) -> list[HistoryEntry]:
        """A peer's entries, newest first; the next page is ``before=<the smallest version shown>``."""
        return self._models(HistoryEntry, Q.ledger_history, {"peer": peer, "before": before, "limit": limit}, conn)

    def balance_at(
        self,
        peer: str,
        *,
        at: datetime | None = None,
        version: int | None = None,
        conn: psycopg.Connection | None = None,
    ) -> BalanceAt:
        """A peer's balance as of a time or after a version of its account (give one)."""
        return self._model(BalanceAt, Q.ledger_balance_at, {"peer": peer, "at": at, "version": version}, conn)

    def balances_at(self, at: datetime, conn: psycopg.Connection | None = None) -> list[BalanceAt]:
        """Every peer's balance as of a time (a voting snapshot)."""
        return self._models(BalanceAt, Q.ledger_balances_at, {"at": at}, conn)

    def get(self, transfer_id: UUID | str, conn: psycopg.Connection | None = None) -> Transfer:
        """One transfer, posted or refused, by its id or a unique prefix of 8+ hex digits."""
        return self._model(Transfer, Q.ledger_get, {"transfer_id": str(transfer_id)}, conn)

    def check(self, conn: psycopg.Connection | None = None) -> list[Invariant]:
        """The ledger's invariants and whether each holds (reads every row)."""
        return self._models(Invariant, Q.ledger_check, None, conn)

    def balance_event(self, peer: str, conn: psycopg.Connection | None = None) -> dict[str, Any]:
        """The token.balances.v1 event of a peer's balance now."""
        return self._value(Q.ledger_balance_event, {"peer": peer}, conn)

    def transaction_events(
        self, peer: str, *, after: int | None = None, limit: int = 100, conn: psycopg.Connection | None = None
    ) -> list[dict[str, Any]]:
        """The token.transactions.v1 events of a peer's entries after a version, in version order."""
        rows = self._rows(Q.ledger_transaction_events, {"peer": peer, "after": after, "limit": limit}, conn)
        return [row["event"] for row in rows]

    # -- transfers --------------------------------------------------------------------

    def transfer(
        self,
        transfer_id: UUID,
        from_peer_id: str,
        to_peer_id: str,
        amount: Amount,
        *,
        transaction_type: str = "transferred",
        reason: str | None = None,
        memo: str | None = None,
        quality_score: Decimal | float | None = None,
        novelty_score: Decimal | float | None = None,
        contribution_hash: str | None = None,
        metadata: Any = None,
        conn: psycopg.Connection | None = None,
    ) -> Transfer:
        """Move ``amount`` tokens under a client-chosen id; a retry with the same id and
        content returns the first result (posted or refused)."""
        params = {
            "transfer_id": transfer_id,
            "from_peer_id": from_peer_id,
            "to_peer_id": to_peer_id,
            "amount": to_decimal(amount),
            "transaction_type": transaction_type,
            "reason": reason,
            "memo": memo,
            "quality_score": to_decimal(quality_score),
            "novelty_score": to_decimal(novelty_score),
            "contribution_hash": contribution_hash,
            "metadata": jsonb(metadata, "metadata"),
        }
        return self._model(Transfer, Q.ledger_transfer, params, conn)

    def transfers(
        self, transfers: Iterable[Mapping[str, Any]], conn: psycopg.Connection | None = None
    ) -> list[Transfer]:
        """A batch (dicts with the keys of :meth:`transfer`'s arguments), posted as one
        unit: all posted, all refused, or nothing (an error)."""
        items = [{k: str(v) if isinstance(v, UUID) else v for k, v in t.items()} for t in transfers]
        return self._models(Transfer, Q.ledger_transfers, {"transfers": jsonb(items, "transfers")}, conn)

    def grant(
        self,
        transfer_id: UUID,
        peer: str,
        amount: Amount,
        *,
        memo: str | None = None,
        reason: str = "admin_grant",
        conn: psycopg.Connection | None = None,
    ) -> Transfer:
        """Bonus tokens minted from issuance for a peer (admin)."""
        params = {
            "transfer_id": transfer_id,
            "peer": peer,
            "amount": to_decimal(amount),
            "memo": memo,
            "reason": reason,
        }
        return self._model(Transfer, Q.ledger_grant, params, conn)

    def adjust(
        self, transfer_id: UUID, peer: str, amount: Amount, memo: str, conn: psycopg.Connection | None = None
    ) -> Transfer:
        """Correct a peer's balance by a signed amount, with why (admin)."""
        params = {"transfer_id": transfer_id, "peer": peer, "amount": to_decimal(amount), "memo": memo}
        return self._model(Transfer, Q.ledger_adjust, params, conn)

    # -- holds --------------------------------------------------------------------------

    def hold(
        self,
        hold_id: UUID,
        peer: str,
        amount: Amount,
        *,
        expires_in: timedelta | float | None = None,
        reason: str = "llm_query",
        metadata: Any = None,
        conn: psycopg.Connection | None = None,
    ) -> Hold:
        """Set tokens of a peer aside until settled, released or expired (``expires_in``:
        a timedelta or seconds; default the setting ledger_hold_ttl_seconds)."""
        if expires_in is not None and not isinstance(expires_in, timedelta):
            expires_in = timedelta(seconds=expires_in)
        params = {
            "hold_id": hold_id,
            "peer": peer,
            "amount": to_decimal(amount),
            "expires_in": expires_in,
            "reason": reason,
            "metadata": jsonb(metadata, "metadata"),
        }
        return self._model(Hold, Q.ledger_hold, params, conn)

    def settle(
        self, hold_id: UUID, amount: Amount, *, metadata: Any = None, conn: psycopg.Connection | None = None
    ) -> Hold:
        """The call cost ``amount`` (at most the hold): spent, and the rest given back."""
        params = {"hold_id": hold_id, "amount": to_decimal(amount), "metadata": jsonb(metadata, "metadata")}
        return self._model(Hold, Q.ledger_settle, params, conn)

    def release(self, hold_id: UUID, conn: psycopg.Connection | None = None) -> Hold:
        """Give all of a hold's tokens back."""
        return self._model(Hold, Q.ledger_release, {"hold_id": hold_id}, conn)

    def expire_holds(self, *, limit: int = 1000, conn: psycopg.Connection | None = None) -> list[Hold]:
        """Release the holds past their expiry (admin; for a schedule)."""
        return self._models(Hold, Q.ledger_expire_holds, {"limit": limit}, conn)

    def get_hold(self, hold_id: UUID | str, conn: psycopg.Connection | None = None) -> Hold:
        """One hold by its id or a unique prefix of 8+ hex digits."""
        return self._model(Hold, Q.ledger_hold_get, {"hold_id": str(hold_id)}, conn)

    def holds(
        self,
        *,
        peer: str | None = None,
        status: str | None = None,
        limit: int = 50,
        conn: psycopg.Connection | None = None,
    ) -> list[Hold]:
        """Holds, newest first, of a peer and a status (each optional)."""
        return self._models(Hold, Q.ledger_hold_list, {"peer": peer, "status": status, "limit": limit}, conn)
