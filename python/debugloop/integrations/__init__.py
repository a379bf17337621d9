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
(``debugloop.integrations``) and the response is returned as the SDK gave it.
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
from ..attempts import AttemptsManager, status_of


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
    """Records one LLM call as an attempt: started when the call started, finished
    with the response's usage (or the exception), priced by SQL."""

    def __init__(self, dl: Recording, agent_name: str, agent_type: str) -> None:
        self.dl = dl
        self.agent_name = agent_name
        self.agent_type = agent_type

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
        """The attempt of one call; None (and a log line) when it could not be recorded."""
        t = current_task.get()
        try:
            attempt_id = self.dl.attempts.start(
                (t.agent_name if t and t.agent_name else self.agent_name),
                t.user_request if t else request,
                model,
                correlation_id=t.correlation_id if t else None,
                agent_type=self.agent_type,
                started_at=started_at,
            )
            if t is not None:
                t.attempts.append(attempt_id)
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
            return attempt_id
        except Exception:  # recording never breaks the caller's LLM call
            log.exception("debugloop could not record the %s call of model %s", self.agent_type, model)
            return None


def patch(resource: Any, name: str, recorder: Recorder, messages: str, label: str) -> None:
    """Replace ``resource.name`` (an SDK's ``create``, sync or async: an awaitable
    result is recorded when it is awaited) by one that records each call it makes.
    The request text is the last user message of the call's ``messages`` argument,
    else "``label`` with ``model``". A streamed call (``stream=True``) is passed
    through unrecorded: its usage comes with its last chunk, which the caller
    reads. Patching twice patches once."""
    original = getattr(resource, name)
    if getattr(original, "__debugloop__", False):
        return

    def record(kwargs: dict[str, Any], started: datetime, response: Any = None, error: BaseException | None = None):
        model = kwargs.get("model")
        request = request_text(kwargs.get(messages), f"{label} with {model}")
        recorder.record(model=model, request=request, started_at=started, response=response, error=error)

    def create(*args: Any, **kwargs: Any) -> Any:
        started = datetime.now(UTC)
        try:
            result = original(*args, **kwargs)
        except BaseException as exc:
            record(kwargs, started, error=exc)
            raise
        if inspect.isawaitable(result):  # an async client: record when the call is awaited
            return _awaited(result, kwargs, started)
        if not kwargs.get("stream"):
            record(kwargs, started, result)
        return result

    async def _awaited(result: Any, kwargs: dict[str, Any], started: datetime) -> Any:
        try:
            response = await result
        except BaseException as exc:
            await asyncio.to_thread(record, kwargs, started, error=exc)
            raise
        if not kwargs.get("stream"):
            await asyncio.to_thread(record, kwargs, started, response)
        return response

    create.__debugloop__ = True  # type: ignore[attr-defined]
    create.__wrapped__ = original  # type: ignore[attr-defined]
    setattr(resource, name, create)
