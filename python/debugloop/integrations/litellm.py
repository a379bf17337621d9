"""A LiteLLM callback that records every call LiteLLM makes as an attempt
(``pip install 'debugloop[litellm]'``):

    litellm.callbacks = [DebugloopCallback(dl)]

Each success or failure, sync or async, becomes an attempt with the model as
LiteLLM routed it (``azure/gpt-4o``: the provider it ran at picks the price), the
response's usage and its cost, or the exception. The task is the one in force where
the call was made (``with dl.task(...)``), also when LiteLLM logs from another thread.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

from litellm.integrations.custom_logger import CustomLogger

from . import Recorder, Recording, current_task, request_text


def routed_model(kwargs: dict[str, Any]) -> str | None:
    """The model with the provider LiteLLM ran it at: ``azure/gpt-4o``, ``anthropic/claude-x``."""
    model = kwargs.get("model")
    provider = (kwargs.get("litellm_params") or {}).get("custom_llm_provider") or kwargs.get("custom_llm_provider")
    if model and provider and not str(model).startswith(f"{provider}/"):
        return f"{provider}/{model}"
    return model


def _utc(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value.astimezone(UTC)  # LiteLLM passes local naive times; astimezone reads them as local
    if isinstance(value, (int, float)):
        return datetime.fromtimestamp(value, UTC)
    return datetime.now(UTC)


class DebugloopCallback(CustomLogger):
    """Records each LiteLLM call in ``dl`` as an attempt of ``agent_name``."""

    def __init__(self, dl: Recording, agent_name: str = "litellm") -> None:
        super().__init__()
        self.recorder = Recorder(dl, agent_name, "litellm")
        self._tasks: dict[str, Any] = {}

    def log_pre_api_call(self, model, messages, kwargs) -> None:  # noqa: ANN001 (LiteLLM's signature)
        call_id = kwargs.get("litellm_call_id")
        task = current_task.get()
        if call_id and task is not None:
            self._tasks[call_id] = task

    def _record(self, kwargs: dict[str, Any], response: Any, start_time: Any, error: BaseException | None) -> None:
        task = self._tasks.pop(kwargs.get("litellm_call_id") or "", None) or current_task.get()
        token = current_task.set(task)
        try:
            self.recorder.record(
                model=routed_model(kwargs),
                request=request_text(
                    kwargs.get("messages") or kwargs.get("input"), f"LiteLLM call of {kwargs.get('model')}"
                ),
                started_at=_utc(start_time),
                response=response,
                error=error,
            )
        finally:
            current_task.reset(token)

    def log_success_event(self, kwargs, response_obj, start_time, end_time) -> None:  # noqa: ANN001
        self._record(kwargs, response_obj, start_time, None)

    def log_failure_event(self, kwargs, response_obj, start_time, end_time) -> None:  # noqa: ANN001
        self._record(kwargs, None, start_time, kwargs.get("exception") or RuntimeError("LiteLLM call failed"))

    async def async_log_success_event(self, kwargs, response_obj, start_time, end_time) -> None:  # noqa: ANN001
        await asyncio.to_thread(self._record, kwargs, response_obj, start_time, None)

    async def async_log_failure_event(self, kwargs, response_obj, start_time, end_time) -> None:  # noqa: ANN001
        error = kwargs.get("exception") or RuntimeError("LiteLLM call failed")
        await asyncio.to_thread(self._record, kwargs, None, start_time, error)
