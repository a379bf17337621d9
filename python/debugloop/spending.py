"""Spending tokens on LLM calls (``debugloop.spending_*``): reserve before a call,
settle its exact cost after, release a call that was not made, repay a debt. Every
rule (the estimate, the exact conversion with a carried remainder, the overdraft
rule, refusals) is SQL (functions/76_spending.sql); costs go to SQL as exact
decimals. With ``enable_token_spending`` on, ``attempt_start`` and
``attempt_finish`` (and so ``dl.attempt()`` and the integrations) reserve and
settle by themselves; this manager is for calls made outside attempts.

A reservation the balance cannot pay raises InsufficientBalance (DL075), which
carries the balance, the tokens held, the tokens needed and a cheaper model whose
estimate fits (``cheaper_model``) when one succeeded at similar problems. Budgets
and rate limits (``dl.budgets``) refuse it with BudgetExceeded (DL084) or
RateLimited (DL085, ``retry_after``)."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from uuid import UUID, uuid4

import psycopg

from ._manager import Manager
from .adapt import to_decimal
from .models import Reservation, SpendAccount, SpendBalance, SpendEstimate, SpendReportRow
from .queries import Q

Usd = Decimal | float | int


class SpendingManager(Manager):
    """``debugloop.spending_*``: LLM calls paid in tokens (1 token = $0.001)."""

    def estimate(
        self,
        model: str | None,
        user_request: str | None = None,
        estimate_usd: Usd | None = None,
        conn: psycopg.Connection | None = None,
    ) -> SpendEstimate:
        """What a reservation for a call would hold: the caller's estimate, else the
        p90 cost of similar requests with the model, else the model's maximum output."""
        params = {"model": model, "user_request": user_request, "estimate_usd": to_decimal(estimate_usd)}
        return self._model(SpendEstimate, Q.spending_estimate, params, conn)

    def reserve(
        self,
        peer: str,
        model: str | None,
        *,
        user_request: str | None = None,
        estimate_usd: Usd | None = None,
        attempt_id: UUID | None = None,
        expires_in: timedelta | None = None,
        hold_id: UUID | None = None,
        conn: psycopg.Connection | None = None,
    ) -> Reservation:
        """Hold tokens of ``peer`` before an LLM call. ``hold_id`` (a new one by
        default) makes a retry safe: the same id returns the same reservation.
        InsufficientBalance (DL075) or SpendInDebt (DL076) refuse it before anything is written."""
        params = {
            "hold_id": hold_id or uuid4(),
            "peer": peer,
            "model": model,
            "user_request": user_request,
            "estimate_usd": to_decimal(estimate_usd),
            "attempt_id": attempt_id,
            "expires_in": expires_in,
        }
        return self._model(Reservation, Q.spending_reserve, params, conn)

    def settle(
        self,
        hold_id: UUID,
        cost_usd: Usd,
        llm_tokens: int | None = None,
        conn: psycopg.Connection | None = None,
    ) -> Reservation:
        """The call cost ``cost_usd``: charge it exactly (whole tokens, the fraction
        carried); beyond the hold from the balance, else as debt. Once only (DL079).
        ``llm_tokens`` (its input + output tokens) count against tokens-per-minute limits."""
        params = {"hold_id": hold_id, "cost_usd": to_decimal(cost_usd), "llm_tokens": llm_tokens}
        return self._model(Reservation, Q.spending_settle, params, conn)

    def release(self, hold_id: UUID, conn: psycopg.Connection | None = None) -> Reservation:
        """The call was not made: the hold comes back whole. Once only (DL079)."""
        return self._model(Reservation, Q.spending_release, {"hold_id": hold_id}, conn)

    def repay(self, peer: str, conn: psycopg.Connection | None = None) -> SpendAccount:
        """Collect what ``peer`` owes from its available balance now."""
        return self._model(SpendAccount, Q.spending_repay, {"peer": peer}, conn)

    def balance(self, peer: str, conn: psycopg.Connection | None = None) -> SpendBalance:
        """The ledger balance of ``peer`` with its carried remainder, debt and exact tokens charged."""
        return self._model(SpendBalance, Q.spending_balance, {"peer": peer}, conn)

    def reservation(self, id: UUID, conn: psycopg.Connection | None = None) -> Reservation:
        """A reservation by its hold id, or the one an attempt made (by attempt id); NotFound otherwise."""
        return self._model(Reservation, Q.spending_reservation, {"hold_id": id}, conn)

    def report(
        self,
        period: str = "day",
        *,
        peer: str | None = None,
        model: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        conn: psycopg.Connection | None = None,
    ) -> list[SpendReportRow]:
        """What calls cost per ``period`` (day, week or month, UTC), peer and model, from
        the reservations made in [since, until) (default: the last 30 days), newest first."""
        params = {"period": period, "peer": peer, "model": model, "since": since, "until": until}
        return self._models(SpendReportRow, Q.spending_report, params, conn)
