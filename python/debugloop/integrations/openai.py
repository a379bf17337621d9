"""Record the calls of an OpenAI Python client (``pip install 'debugloop[openai]'``):
``chat.completions.create`` and ``responses.create``, sync or async, each an attempt
with the response's model, usage (service tier included) and cost, or the error."""

from __future__ import annotations

from typing import Any

from . import Recorder, Recording, patch


def wrap(client: Any, dl: Recording, *, agent_name: str = "openai", fallback: bool = False) -> Any:
    """``client`` (``openai.OpenAI`` or ``openai.AsyncOpenAI``), its calls recorded
    in ``dl``; the same object is returned, for ``client = wrap(OpenAI(), dl)``.
    ``fallback``: a call its peer's balance cannot pay goes to the cheaper model
    the refusal names (debugloop.integrations)."""
    recorder = Recorder(dl, agent_name, "openai", fallback)
    patch(client.chat.completions, "create", recorder, "messages", "OpenAI chat completion")
    if hasattr(client, "responses"):
        patch(client.responses, "create", recorder, "input", "OpenAI response")
    return client
