"""Record the calls of an Anthropic Python client (``pip install 'debugloop[anthropic]'``):
``messages.create``, sync or async, each an attempt with the message's model, usage
(cache reads, 5-minute and 1-hour writes, service tier) and cost, or the error."""

from __future__ import annotations

from typing import Any

from . import Recorder, Recording, patch


def wrap(client: Any, dl: Recording, *, agent_name: str = "anthropic", fallback: bool = False) -> Any:
    """``client`` (``anthropic.Anthropic`` or ``anthropic.AsyncAnthropic``), its calls
    recorded in ``dl``; the same object is returned. ``fallback``: a call its peer's
    balance cannot pay goes to the cheaper model the refusal names (debugloop.integrations)."""
    recorder = Recorder(dl, agent_name, "anthropic", fallback)
    patch(client.messages, "create", recorder, "messages", "Anthropic message")
    return client
