"""Agent attempts: start, finish, look up, chains; and the ``dl.attempt()`` recorder."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import psycopg

from ._manager import Manager
from .adapt import ErrorText, jsonable, jsonb, to_decimal
from .errors import InsufficientBalance
from .models import Attempt, ChainEntry, SimilarProblem
from .queries import Q
from .units import with_units


class AttemptsManager(Manager):
    """``debugloop.attempt_*``: record what agents try, and what it cost."""

    def start(
        self,
        agent_name: str,
        user_request: str,
        model: str | None,
        *,
        correlation_id: UUID | None = None,
        parent_attempt_id: UUID | None = None,
        agent_type: str | None = None,
        problem_category: str | None = None,
        approach_description: str | None = None,
        execution_id: UUID | None = None,
        tools_used: Any = None,
        stf_ids: list[UUID] | None = None,
        started_at: datetime | None = None,
        estimate_usd: float | Decimal | None = None,
        conn: psycopg.Connection | None = None,
    ) -> UUID:
        """Record the start of an attempt; returns its id.

        With ``enable_token_spending`` on, the attempt's peer reserves its cost first
        (``estimate_usd``, else the p90 of similar requests, else the model's maximum
        output): InsufficientBalance (with ``cheaper_model``) or SpendInDebt refuse
        it before anything is recorded; ``finish`` settles the exact cost."""
        params = {
            "agent_name": agent_name,
            "user_request": user_request,
            "model": model,
            "correlation_id": correlation_id,
            "parent_attempt_id": parent_attempt_id,
            "agent_type": agent_type,
            "problem_category": problem_category,
            "approach_description": approach_description,
            "execution_id": execution_id,
            "tools_used": jsonb(tools_used, "tools_used"),
            "stf_ids": stf_ids,
            "started_at": started_at,
            "estimate_usd": to_decimal(estimate_usd),
        }
        return self._value(Q.attempt_start, params, conn)

    def finish(
        self,
        attempt_id: UUID,
        status: str,
        *,
        usage: Any = None,
        error_type: str | None = None,
        error_message: str | None = None,
        error_stacktrace: str | None = None,
        quality_score: float | Decimal | None = None,
        artifacts: Any = None,
        model: str | None = None,
        completed_at: datetime | None = None,
        confidence_score: float | Decimal | None = None,
        tools_used: Any = None,
        conn: psycopg.Connection | None = None,
    ) -> Attempt:
        """Record how an attempt ended; returns the finished row with its cost.

        ``usage``: a provider response or usage object, or a list of them (one per
        LLM call); SQL turns each into canonical form and prices each request.
        """
        if status == "success":
            artifacts = with_units(jsonable(artifacts, "artifacts"))  # split Python with ast; SQL registers
        params = {
            "attempt_id": attempt_id,
            "status": status,
            "usage": jsonb(usage, "usage"),
            "error_type": error_type,
            "error_message": error_message,
            "error_stacktrace": error_stacktrace,
            "quality_score": to_decimal(quality_score),
            "artifacts": jsonb(artifacts, "artifacts"),
            "model": model,
            "completed_at": completed_at,
            "confidence_score": to_decimal(confidence_score),
            "tools_used": jsonb(tools_used, "tools_used"),
        }
        return self._model(Attempt, Q.attempt_finish, params, conn)

    def record_usage(self, attempt_id: UUID, usage: Any, conn: psycopg.Connection | None = None) -> Attempt:
        """Add the usage of LLM calls to a running attempt, which holds their cost at
        once (cost_status ``priced_so_far``); ``finish`` adds only what it is given."""
        return self._model(
            Attempt, Q.attempt_record_usage, {"attempt_id": attempt_id, "usage": jsonb(usage, "usage")}, conn
        )

    def get(self, attempt_id: UUID, conn: psycopg.Connection | None = None) -> Attempt:
        return self._model(Attempt, Q.attempt_get, {"attempt_id": attempt_id}, conn)

    def list(
        self,
        *,
        status: str | None = None,
        agent_name: str | None = None,
        model: str | None = None,
        correlation_id: UUID | None = None,
        limit: int = 50,
        conn: psycopg.Connection | None = None,
    ) -> list[Attempt]:
        """The newest attempts first, optionally filtered."""
        params = {
            "status": status,
            "agent_name": agent_name,
            "model": model,
            "correlation_id": correlation_id,
            "limit": limit,
        }
        return self._models(Attempt, Q.attempt_list, params, conn)

    def normalize_usage(self, usage: Any, conn: psycopg.Connection | None = None) -> dict:
        """``usage`` in canonical form (``debugloop.price_usage_normalize``); InvalidUsage when malformed."""
        return self._value(Q.price_usage_normalize, {"usage": jsonb(usage, "usage")}, conn)

    def chain(self, correlation_id: UUID, conn: psycopg.Connection | None = None) -> list[ChainEntry]:
        """The attempts of one task in order, with retry depth and cumulative cost."""
        return self._models(ChainEntry, Q.attempt_chain, {"correlation_id": correlation_id}, conn)

    def similar_problems(
        self, problem: str, k: int = 10, conn: psycopg.Connection | None = None
    ) -> list[SimilarProblem]:
        """Requests like this one (the same first, then by similarity), with their attempts and successes."""
        return self._models(SimilarProblem, Q.attempt_similar_problems, {"problem": problem, "k": k}, conn)


def start_within_balance(
    start: Callable[[str | None], UUID], model: str | None, fallback: bool
) -> tuple[UUID, str | None]:
    """``start(model)``, and when the balance cannot pay its reservation
    (InsufficientBalance) and ``fallback`` is on, ``start`` again with the cheaper
    model the refusal names (one whose estimate fits and that succeeded at similar
    problems); returns the attempt id and the model to call. Without a cheaper model,
    or without ``fallback``, the refusal goes on: nothing was recorded."""
    try:
        return start(model), model
    except InsufficientBalance as refused:
        if not fallback or not refused.cheaper_model:
            raise
        return start(refused.cheaper_model), refused.cheaper_model


def status_of(exc: BaseException) -> str:
    """The attempt status that an exception ends an attempt with."""
    if isinstance(exc, (TimeoutError, asyncio.TimeoutError)):
        return "timeout"
    if isinstance(exc, (KeyboardInterrupt, asyncio.CancelledError, GeneratorExit)):
        return "cancelled"
    return "error"


class AttemptRecorder:
    """The context manager behind ``Client.attempt()``; see there.

    Set ``quality_score``, ``artifacts``, ``model`` or ``confidence_score`` on it
    before the block ends to record them; ``result`` holds the finished row. With
    ``fallback``, ``model`` is the model to call: the cheaper one when the balance
    could not pay the requested one (``requested_model``).
    """

    def __init__(
        self,
        attempts: AttemptsManager,
        agent_name: str,
        user_request: str,
        model: str | None,
        start: dict[str, Any],
        fallback: bool = False,
    ) -> None:
        self._attempts = attempts
        self._start = {"agent_name": agent_name, "user_request": user_request, **start}
        self._fallback = fallback
        self.attempt_id: UUID | None = None
        self.model = model
        self.requested_model = model
        self.quality_score: float | Decimal | None = None
        self.confidence_score: float | Decimal | None = None
        self.artifacts: Any = None
        self.result: Attempt | None = None

    def record_usage(self, usage: Any) -> None:
        """Add the usage of one LLM call: a provider response, its usage object, or a list of them.

        It is recorded at once (``debugloop.attempt_record_usage``): the running
        attempt holds its tokens and cost in every report, and InvalidUsage points at
        the call that sent it while the attempt can still finish."""
        self._attempts.record_usage(self.attempt_id, usage)

    def __enter__(self) -> AttemptRecorder:
        self.attempt_id, self.model = start_within_balance(
            lambda model: self._attempts.start(model=model, **self._start), self.model, self._fallback
        )
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        common = {
            "quality_score": self.quality_score,
            "artifacts": self.artifacts,
            "model": self.model,
            "confidence_score": self.confidence_score,
        }
        if exc is None:
            self.result = self._attempts.finish(self.attempt_id, "success", **common)
        else:
            error = ErrorText.of(exc)
            self.result = self._attempts.finish(
                self.attempt_id,
                status_of(exc),
                error_type=error.error_type,
                error_message=error.message,
                error_stacktrace=error.stacktrace,
                **common,
            )
        return False  # the exception, if any, goes on
