"""Recording LLM calls without writing code around them: each call of a wrapped
client, or each call LiteLLM makes with the callback installed, becomes an attempt
with its model, usage, exact cost (SQL prices it, as for every attempt) and error.

    import debugloop
    from debugloop.integrations.openai import wrap      # pip install 'debugloop[openai]'

    dl = debugloop.connect()
    client = wrap(openai.OpenAI(), dl, agent_name="fixer")
    with dl.task("Fix the failing invoice test"):        # one correlation id for its calls
        client.chat.completions.create(model="gpt-4o", messages=[...])

``debugloop.integrations.anthropic.wrap`` does the same for ``anthropic.Anthropic``
(and the async clients), ``debugloop.integrations.litellm.DebugloopCallback`` for
``litellm.callbacks``. The SDKs are optional extras: nothing here imports one until
its module is imported, and the core never imports this package.

Which task a call belongs to is a context variable: ``with dl.task(...)`` (or
``task(dl, ...)``) sets it for the block, in threads and asyncio tasks started
inside it as ``contextvars`` carry it; a call outside any task starts a task of its
own. Recording never breaks the call: a failure to record is logged
(``debugloop.integrations``) and the response is returned as the SDK gave it. The
one exception is spending: with ``enable_token_spending`` on, a wrapped client's
call that its peer's balance cannot pay raises InsufficientBalance before the call
is made, unless the wrapper was made with ``fallback=True`` and the refusal names a
cheaper model that succeeded at similar problems: the call then goes to that model
(and is recorded on it). The LiteLLM callback hears of a call after it was made,
so it charges what it can and refuses nothing.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol
from uuid import UUID

from ..adapt import ErrorText
from ..attempts import AttemptsManager, start_within_balance, status_of
from ..errors import InsufficientBalance, SpendInDebt


class Recording(Protocol):
    """What recording needs of a client (``debugloop.connect()``): its attempts
    manager. A protocol, so that this package does not import the client, which
    offers ``dl.task()`` from here."""

    attempts: AttemptsManager


log = logging.getLogger("debugloop.integrations")
REQUEST_CHARS = 2000


@dataclass
class Task:
    """What the calls inside ``with dl.task(...)`` share: the correlation id of their
    attempts, the request they work on and the agent that makes them."""

    user_request: str
    agent_name: str | None = None
    correlation_id: UUID = field(default_factory=uuid.uuid4)
    attempts: list[UUID] = field(default_factory=list)


current_task: ContextVar[Task | None] = ContextVar("debugloop_task", default=None)


@contextmanager
def task(user_request: str, *, agent_name: str | None = None, correlation_id: UUID | None = None) -> Iterator[Task]:
    """Make the LLM calls recorded in this block attempts at one task."""
    value = Task(user_request, agent_name, correlation_id or uuid.uuid4())
    token = current_task.set(value)
    try:
        yield value
    finally:
        current_task.reset(token)


def request_text(messages: Any, fallback: str) -> str:
    """The text an attempt records as its request: the last user message of a chat
    call (OpenAI's messages or input, Anthropic's messages), else ``fallback``."""
    if isinstance(messages, str):
        return messages[:REQUEST_CHARS] or fallback
    for message in reversed(messages if isinstance(messages, list) else []):
        role = message.get("role") if isinstance(message, dict) else getattr(message, "role", None)
        if role != "user":
            continue
        content = message.get("content") if isinstance(message, dict) else getattr(message, "content", None)
        if isinstance(content, list):
            content = " ".join(
                part.get("text", "") for part in content if isinstance(part, dict) and isinstance(part.get("text"), str)
            )
        if isinstance(content, str) and content.strip():
            return content.strip()[:REQUEST_CHARS]
    return fallback


class Recorder:
    """Records one LLM call as an attempt: started before the call (so that, with
    token spending on, its reservation is made or refused before the call; with
    ``fallback``, a refused call goes to the cheaper model the refusal names),
    finished with the response's usage (or the exception), priced by SQL."""

    def __init__(self, dl: Recording, agent_name: str, agent_type: str, fallback: bool = False) -> None:
        self.dl = dl
        self.agent_name = agent_name
        self.agent_type = agent_type
        self.fallback = fallback

    def begin(self, *, model: str | None, request: str, started_at: datetime) -> tuple[UUID | None, str | None]:
        """Start the attempt of a call about to be made: its id (None, and a log line,
        when it could not be recorded) and the model to call. A refused reservation
        (InsufficientBalance without a cheaper model or fallback, SpendInDebt) goes on
        to the caller: the call is not made."""
        t = current_task.get()

        def start(chosen: str | None) -> UUID:
            return self.dl.attempts.start(
                (t.agent_name if t and t.agent_name else self.agent_name),
                t.user_request if t else request,
                chosen,
                correlation_id=t.correlation_id if t else None,
                agent_type=self.agent_type,
                started_at=started_at,
            )

        try:
            attempt_id, model = start_within_balance(start, model, self.fallback)
        except (InsufficientBalance, SpendInDebt):
            raise
        except Exception:  # recording never breaks the caller's LLM call
            log.exception("debugloop could not record the %s call of model %s", self.agent_type, model)
            return None, model
        if t is not None:
            t.attempts.append(attempt_id)
        return attempt_id, model

    def end(
        self, attempt_id: UUID | None, *, response: Any = None, error: BaseException | None = None, usage: Any = None
    ):
        """Finish the attempt of a call with its response's usage and model, or its error."""
        if attempt_id is None:
            return
        try:
            answered = getattr(response, "model", None) or (
                response.get("model") if isinstance(response, dict) else None
            )
            if error is None:
                self.dl.attempts.finish(
                    attempt_id, "success", usage=usage if usage is not None else response, model=answered
                )
            else:
                text = ErrorText.of(error)
                self.dl.attempts.finish(
                    attempt_id,
                    status_of(error),
                    usage=usage,
                    error_type=text.error_type,
                    error_message=text.message,
                    error_stacktrace=text.stacktrace,
                )
        except Exception:  # recording never breaks the caller's LLM call
            log.exception("debugloop could not record the end of the %s call %s", self.agent_type, attempt_id)

    def record(
        self,
        *,
        model: str | None,
        request: str,
        started_at: datetime,
        response: Any = None,
        error: BaseException | None = None,
        usage: Any = None,
    ) -> UUID | None:
        """The attempt of a call already made (a callback that hears of it after the
        fact); None (and a log line) when it could not be recorded, a refused
        reservation included: the call cannot be undone."""
        try:
            attempt_id, _ = self.begin(model=model, request=request, started_at=started_at)
        except (InsufficientBalance, SpendInDebt):
            log.exception(
                "debugloop could not reserve for the %s call of model %s, made already", self.agent_type, model
            )
            return None
        self.end(attempt_id, response=response, error=error, usage=usage)
        return attempt_id


def patch(resource: Any, name: str, recorder: Recorder, messages: str, label: str) -> None:
    """Replace ``resource.name`` (an SDK's ``create``, sync or async) by one that
    records each call it makes: the attempt starts before the call (Recorder.begin:
    with token spending on, a call the balance cannot pay raises InsufficientBalance
    and is not made, or goes to the cheaper model with the recorder's ``fallback``)
    and finishes after it. The request text is the last user message of the call's
    ``messages`` argument, else "``label`` with ``model``". A streamed call
    (``stream=True``) is passed through unrecorded: its usage comes with its last
    chunk, which the caller reads. Patching twice patches once."""
    original = getattr(resource, name)
    if getattr(original, "__debugloop__", False):
        return

    def begin(kwargs: dict[str, Any]) -> tuple[UUID | None, dict[str, Any]]:
        model = kwargs.get("model")
        request = request_text(kwargs.get(messages), f"{label} with {model}")
        attempt_id, chosen = recorder.begin(model=model, request=request, started_at=datetime.now(UTC))
        return attempt_id, (kwargs if chosen == model else {**kwargs, "model": chosen})

    def create(*args: Any, **kwargs: Any) -> Any:
        if kwargs.get("stream"):
            return original(*args, **kwargs)
        attempt_id, kwargs = begin(kwargs)
        try:
            result = original(*args, **kwargs)
        except BaseException as exc:
            recorder.end(attempt_id, error=exc)
            raise
        recorder.end(attempt_id, response=result)
        return result

    async def acreate(*args: Any, **kwargs: Any) -> Any:
        if kwargs.get("stream"):
            return await original(*args, **kwargs)
        attempt_id, kwargs = await asyncio.to_thread(begin, kwargs)
        try:
            response = await original(*args, **kwargs)
        except BaseException as exc:
            await asyncio.to_thread(recorder.end, attempt_id, error=exc)
            raise
        await asyncio.to_thread(recorder.end, attempt_id, response=response)
        return response

    wrapper = acreate if inspect.iscoroutinefunction(inspect.unwrap(original)) else create
    wrapper.__debugloop__ = True  # type: ignore[attr-defined]
    wrapper.__wrapped__ = original  # type: ignore[attr-defined]
    setattr(resource, name, wrapper)
