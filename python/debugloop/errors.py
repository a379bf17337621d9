"""Every error debugloop raises, and the one place where SQLSTATEs become exceptions.

Business errors are raised in SQL with their own SQLSTATE in class ``DL``
(``RAISE ... USING ERRCODE = 'DL001', DETAIL, HINT, COLUMN``). ``REGISTRY`` maps
each SQLSTATE to its exception class; :func:`wrap_exceptions` is the only code
that performs that mapping. The README's error table is checked against
``REGISTRY`` by a test, so the two cannot drift.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import ClassVar

import psycopg


class DebugloopError(Exception):
    """Base class of every error debugloop raises on purpose."""


class ConfigurationError(DebugloopError):
    """A setting (an environment variable or an argument) is unusable."""


class DatabaseUnavailable(DebugloopError):
    """The database could not be reached."""


class SchemaNotMigrated(DebugloopError):
    """The database has no debugloop schema, or an older one than this package needs."""


class EmbeddedServerError(DebugloopError):
    """The embedded PostgreSQL server could not be started, stopped or found."""


class MigrationError(DebugloopError):
    """A migration or a file of functions/ or triggers/ failed to apply."""


class DatabaseError(DebugloopError):
    """An unexpected database error. The original psycopg error is its ``__cause__``."""

    def __init__(self, message: str, sqlstate: str | None = None) -> None:
        super().__init__(message)
        self.sqlstate = sqlstate


class BusinessError(DebugloopError):
    """A rule of debugloop was broken; raised in SQL with a SQLSTATE of class DL."""

    sqlstate: ClassVar[str]
    description: ClassVar[str]

    def __init__(
        self,
        message: str,
        *,
        detail: str | None = None,
        hint: str | None = None,
        field: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail
        self.hint = hint
        self.field = field

    def __str__(self) -> str:
        parts = [self.message]
        if self.detail:
            parts.append(self.detail)
        if self.hint:
            parts.append(f"hint: {self.hint}")
        return "; ".join(parts)


REGISTRY: dict[str, type[BusinessError]] = {}

_SQLSTATE = re.compile(r"^DL[0-9A-Z]{3}$")


class DetailedError(BusinessError):
    """A business error whose DETAIL is a JSON object: ``fields`` maps each attribute
    to its key there (None when the DETAIL has no such key, or is not JSON)."""

    fields: ClassVar[dict[str, str]] = {}

    def __init__(self, message: str, **kw) -> None:
        super().__init__(message, **kw)
        try:
            info = json.loads(self.detail or "{}")
        except ValueError:
            info = {}
        if not isinstance(info, dict):
            info = {}
        for attribute, key in self.fields.items():
            setattr(self, attribute, info.get(key))


def _register(sqlstate: str, description: str):
    """Class decorator: give a BusinessError its SQLSTATE and enter it in REGISTRY."""

    def decorate(cls: type[BusinessError]) -> type[BusinessError]:
        if not _SQLSTATE.match(sqlstate):
            raise ValueError(f"SQLSTATE {sqlstate!r} is not of class DL")
        if sqlstate in REGISTRY:
            raise ValueError(f"SQLSTATE {sqlstate} registered twice")
        cls.sqlstate = sqlstate
        cls.description = description
        REGISTRY[sqlstate] = cls
        return cls

    return decorate


@_register("DL001", "An argument breaks a rule; COLUMN names the argument, DETAIL the rule.")
class InvalidParameter(BusinessError, ValueError):
    pass


@_register("DL002", "A row the call refers to does not exist.")
class NotFound(BusinessError, LookupError):
    pass


@_register("DL003", "No setting has this key.")
class UnknownSetting(BusinessError, LookupError):
    pass


@_register("DL004", "A setting's value has the wrong type or is out of its range.")
class InvalidSettingValue(BusinessError, ValueError):
    pass


@_register(
    "DL005",
    "A usage object is malformed: a negative, fractional or too large (10^15 or more) count, a part larger than its"
    " whole.",
)
class InvalidUsage(BusinessError, ValueError):
    pass


@_register(
    "DL045",
    "A usage object fits no known format, or carries the fields of two (DETAIL names the fields that carry values);"
    " it is never priced as another format.",
)
class UnknownUsageFormat(InvalidUsage):
    pass


@_register("DL006", "No price version matches the model (at that time).")
class UnknownModel(BusinessError, LookupError):
    pass


@_register("DL007", "The attempt has already finished.")
class AttemptAlreadyFinished(BusinessError):
    pass


@_register("DL008", "A retry's parent attempt belongs to another correlation id.")
class ParentMismatch(BusinessError, ValueError):
    pass


@_register("DL009", "Price versions are immutable: an UPDATE or DELETE of the catalog was refused.")
class PriceVersionImmutable(BusinessError):
    pass


@_register(
    "DL010",
    "The review is not allowed from the current status of the STF or golden state (approve a pending one, reject a pending or approved one, reopen a decided one).",
)
class ReviewConflict(BusinessError):
    pass


@_register(
    "DL011", "This reuse was already recorded: an attempt records the use of an STF, or of a golden state, once."
)
class AlreadyRecorded(BusinessError):
    pass


@_register("DL012", "Only a successful attempt can be nominated as a golden state.")
class NotEligible(BusinessError, ValueError):
    pass


@_register(
    "DL020",
    "An import would change what another role's import created (a session, a unit, a read position); only that role or an admin may.",
)
class NotOwned(BusinessError):
    pass


@_register("DL040", "The agent session was recorded by another database role: a role records only its own sessions.")
class SessionConflict(BusinessError):
    pass


@_register("DL030", "An amount of tokens is not a positive whole number of at most 10^12 (zero, negative, fractional).")
class InvalidAmount(BusinessError, ValueError):
    pass


@_register(
    "DL031",
    "An id (a transfer, a hold, a peer, a role's binding) was recorded with other content; a retry sends the same content.",
)
class IdempotencyConflict(BusinessError):
    pass


@_register("DL032", "No peer has this id.")
class UnknownPeer(BusinessError, LookupError):
    pass


@_register("DL033", "The peer is frozen: it receives and sends no tokens until an admin unfreezes it.")
class PeerFrozen(BusinessError):
    pass


@_register("DL034", "A transfer from a peer to itself.")
class SelfTransfer(BusinessError, ValueError):
    pass


@_register("DL035", "The hold is not active: it was settled, released, expired or refused, or is past its expiry.")
class HoldNotActive(BusinessError):
    pass


@_register("DL036", "A settlement larger than its hold; settle the hold whole and transfer the rest.")
class SettleExceedsHold(BusinessError, ValueError):
    pass


@_register(
    "DL037",
    "The acting role may not move these tokens: it is bound to no peer or to another, or only an admin may (mint, grant, adjust).",
)
class NotPermitted(BusinessError, PermissionError):
    pass


@_register("DL038", "The ledger is append-only: an UPDATE, DELETE or TRUNCATE of transfers or entries was refused.")
class LedgerAppendOnly(BusinessError):
    pass


@_register(
    "DL075",
    "The peer's available balance cannot pay the reservation for an LLM call; refused before the call (DETAIL: balance, held, needed, a cheaper model).",
)
class InsufficientBalance(DetailedError):
    """Carries balance, held, available, needed and cheaper_model (or None), from the JSON DETAIL."""

    fields = {k: k for k in ("balance", "held", "available", "needed", "model", "cheaper_model",
                             "cheaper_estimate_usd")}  # fmt: skip


@_register(
    "DL076", "The peer owes tokens (a call cost more than its hold and its balance): it reserves nothing until repaid."
)
class SpendInDebt(BusinessError):
    pass


@_register("DL079", "No such reservation, or it was settled or released already: a reservation resolves once.")
class ReservationNotActive(BusinessError):
    pass


@_register(
    "DL050",
    "A code pointer's lines are bad: not a whole number of at least 1, line_end before line_start or without it,"
    " lines without a file.",
)
class InvalidLineRange(BusinessError, ValueError):
    pass


@_register("DL051", "A code pointer's commit is not a SHA of 7 to 40 hex digits.")
class InvalidCommitSha(BusinessError, ValueError):
    pass


@_register(
    "DL052",
    "A code pointer's repository, branch or file path is not a string, is empty, too long or holds control characters.",
)
class InvalidCodeLocation(BusinessError, ValueError):
    pass


@_register(
    "DL084",
    "A reservation would take a budget (a peer's or a team's, per day, week or month) past its hard limit; refused before anything is written.",
)
class BudgetExceeded(DetailedError):
    """Carries budget_id, peer_id or team_id, period, period_start, period_end, used
    (before this reservation), limit and needed (tokens), from the JSON DETAIL."""

    fields = {k: k for k in ("budget_id", "peer_id", "team_id", "period", "period_start", "period_end", "used",
                             "limit", "needed")}  # fmt: skip


@_register(
    "DL085",
    "A peer's requests or tokens per minute with a model reached its rate limit; DETAIL says which, and retry_after (seconds).",
)
class RateLimited(DetailedError):
    """Carries retry_after (seconds), limit_name (requests_per_minute or
    tokens_per_minute), value (the limit), used, peer_id, model and source (rule,
    catalog or setting), from the JSON DETAIL."""

    fields = {"retry_after": "retry_after", "limit_name": "limit", "value": "value", "used": "used",
              "peer_id": "peer_id", "model": "model", "source": "source"}  # fmt: skip


@_register(
    "DL086", "A budget, team or report is ill-formed: subject, period, limits, team id or members (COLUMN names it)."
)
class InvalidBudget(BusinessError, ValueError):
    pass


@_register("DL087", "A rate limit rule is ill-formed: a limit that is not positive, or an empty model name.")
class InvalidRateLimit(BusinessError, ValueError):
    pass


@_register("DL060", "An outbox call's limit is outside its range (a relay batch, a prune, a status listing).")
class InvalidOutboxLimit(BusinessError, ValueError):
    pass


@_register("DL065", "A reward kind is not one of stf, golden, pattern (reward_preview, reward_backfill).")
class InvalidRewardKind(BusinessError, ValueError):
    pass


@_register("DL066", "Token rewards are off (enable_token_rewards): a backfill would pay nothing.")
class RewardsDisabled(BusinessError):
    pass


@_register("DL070", "learn_pending's max_rows is outside 1..100,000.")
class InvalidLearnBatch(BusinessError, ValueError):
    pass


def _one_line(text: str) -> str:
    return " ".join(text.split())


def translate(exc: psycopg.Error) -> DebugloopError:
    """The debugloop exception for a psycopg error (its cause is set by the caller)."""
    sqlstate = exc.sqlstate
    cls = REGISTRY.get(sqlstate or "")
    if cls is not None:
        diag = exc.diag
        return cls(
            diag.message_primary or str(exc),
            detail=diag.message_detail,
            hint=diag.message_hint,
            field=diag.column_name,
        )
    if isinstance(exc, psycopg.OperationalError) and sqlstate is None:
        return DatabaseUnavailable(_one_line(str(exc)))
    return DatabaseError(_one_line(str(exc)), sqlstate)


def describe(exc: psycopg.Error) -> str:
    """One line that says what a psycopg error means, for messages that name a file or step."""
    return _one_line(str(translate(exc)))


@contextmanager
def wrap_exceptions() -> Iterator[None]:
    """Turn psycopg errors into debugloop exceptions, keeping the original as the cause."""
    try:
        yield
    except psycopg.Error as exc:
        raise translate(exc) from exc
