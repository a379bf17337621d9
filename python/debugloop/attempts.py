"""Agent attempts: start, finish, look up, chains; and the ``dl.attempt()`` recorder."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import psycopg
from psycopg.types.json import Jsonb

from ._manager import Manager
from .errors import InvalidParameter
from .errors_manager import ErrorText
from .models import Attempt, ChainEntry, SimilarProblem
from .queries import Q
from .stf import with_units


def jsonable(value: Any, field: str) -> Any:
    """A provider response or usage object as plain JSON data (dicts, lists, numbers).

    Accepts dicts and lists, pydantic models (the OpenAI, Anthropic and Google SDKs'
    responses), objects with ``to_dict()``, dataclasses and plain objects.
    """
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, Decimal):  # JSON has no decimal: whole numbers stay numbers, the rest exact text
        return int(value) if value == value.to_integral_value() else str(value)
    if isinstance(value, dict):
        return {str(k): jsonable(v, field) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v, field) for v in value]
    if hasattr(value, "model_dump"):
        return jsonable(value.model_dump(mode="json"), field)
    if hasattr(value, "to_dict"):
        return jsonable(value.to_dict(), field)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return jsonable(dataclasses.asdict(value), field)
    if hasattr(value, "__dict__"):
        return jsonable({k: v for k, v in vars(value).items() if not k.startswith("_")}, field)
    raise InvalidParameter(f"{field} cannot be sent as JSON: {type(value).__name__}", field=field)


def _json(value: Any, field: str) -> Jsonb | None:
    return None if value is None else Jsonb(jsonable(value, field))


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
        conn: psycopg.Connection | None = None,
    ) -> UUID:
        """Record the start of an attempt; returns its id."""
        params = {
            "agent_name": agent_name, "user_request": user_request, "model": model,
            "correlation_id": correlation_id, "parent_attempt_id": parent_attempt_id,
            "agent_type": agent_type, "problem_category": problem_category,
            "approach_description": approach_description, "execution_id": execution_id,
            "tools_used": _json(tools_used, "tools_used"), "stf_ids": stf_ids, "started_at": started_at,
        }  # fmt: skip
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
            "attempt_id": attempt_id, "status": status, "usage": _json(usage, "usage"),
            "error_type": error_type, "error_message": error_message, "error_stacktrace": error_stacktrace,
            "quality_score": to_decimal(quality_score), "artifacts": _json(artifacts, "artifacts"), "model": model,
            "completed_at": completed_at, "confidence_score": to_decimal(confidence_score),
            "tools_used": _json(tools_used, "tools_used"),
        }  # fmt: skip
        return self._model(Attempt, Q.attempt_finish, params, conn)

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
        params = {"status": status, "agent_name": agent_name, "model": model,
                  "correlation_id": correlation_id, "limit": limit}  # fmt: skip
        return self._models(Attempt, Q.attempt_list, params, conn)

    def normalize_usage(self, usage: Any, conn: psycopg.Connection | None = None) -> dict:
        """``usage`` in canonical form (``debugloop.usage_normalize``); InvalidUsage when malformed."""
        return self._value(Q.usage_normalize, {"usage": _json(usage, "usage")}, conn)

    def chain(self, correlation_id: UUID, conn: psycopg.Connection | None = None) -> list[ChainEntry]:
        """The attempts of one task in order, with retry depth and cumulative cost."""
        return self._models(ChainEntry, Q.attempt_chain, {"correlation_id": correlation_id}, conn)

    def similar_problems(self, problem: str, k: int = 10, conn: psycopg.Connection | None = None) -> list[SimilarProblem]:
        """Requests like this one (the same first, then by similarity), with their attempts and successes."""
        return self._models(SimilarProblem, Q.similar_problems, {"problem": problem, "k": k}, conn)


def to_decimal(value: float | Decimal | None) -> Decimal | None:
    # through str, so that 0.9 stays 0.9 and not 0.90000000000000002220...
    return None if value is None else Decimal(str(value))


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
    before the block ends to record them; ``result`` holds the finished row.
    """

    def __init__(self, attempts: AttemptsManager, agent_name: str, user_request: str, model: str | None,
                 start: dict[str, Any]) -> None:  # fmt: skip
        self._attempts = attempts
        self._start = {"agent_name": agent_name, "user_request": user_request, "model": model, **start}
        self._usage: list[Any] = []
        self.attempt_id: UUID | None = None
        self.model = model
        self.quality_score: float | Decimal | None = None
        self.confidence_score: float | Decimal | None = None
        self.artifacts: Any = None
        self.result: Attempt | None = None

    def record_usage(self, usage: Any) -> None:
        """Add the usage of one LLM call: a provider response, its usage object, or a list of them.

        It is checked at once, so that InvalidUsage points at the call that sent it
        and the attempt can still finish."""
        value = jsonable(usage, "usage")
        self._attempts.normalize_usage(value)
        self._usage.extend(value if isinstance(value, list) else [value])

    def __enter__(self) -> AttemptRecorder:
        self.attempt_id = self._attempts.start(**self._start)
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        common = {
            "usage": self._usage or None, "quality_score": self.quality_score, "artifacts": self.artifacts,
            "model": self.model, "confidence_score": self.confidence_score,
        }  # fmt: skip
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
