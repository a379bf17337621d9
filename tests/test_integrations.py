"""Drop-in recording (issue 15): wrapped OpenAI and Anthropic clients and the LiteLLM
callback record each call as an attempt with model, usage, cost, error and the task's
correlation id. Offline: the SDKs' real clients talk to an httpx MockTransport that
answers with their own response JSON; LiteLLM answers with its mock_response."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from decimal import Decimal

import pytest

from helpers import REPO

openai = pytest.importorskip("openai", reason="the openai SDK (dev extra) is not installed")
anthropic = pytest.importorskip("anthropic", reason="the anthropic SDK (dev extra) is not installed")
try:  # the SDKs' HTTP client: httpx2 in openai 3 and anthropic 2, httpx before
    import httpx2 as httpx
except ImportError:
    httpx = pytest.importorskip("httpx")

from debugloop.errors import InsufficientBalance  # noqa: E402
from debugloop.integrations import anthropic as dl_anthropic  # noqa: E402
from debugloop.integrations import openai as dl_openai  # noqa: E402

CHAT = {
    "id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "gpt-4o-2024-08-06",
    "service_tier": "default",
    "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": "use DictReader"}}],
    "usage": {"prompt_tokens": 2_000, "completion_tokens": 300, "total_tokens": 2_300,
              "prompt_tokens_details": {"cached_tokens": 1_024}, "completion_tokens_details": {"reasoning_tokens": 0}},
}  # fmt: skip
RESPONSE = {
    "id": "resp_1", "object": "response", "created_at": 1, "model": "o3-2025-04-16", "output": [],
    "parallel_tool_calls": True, "tool_choice": "auto", "tools": [], "status": "completed",
    "usage": {"input_tokens": 5_000, "input_tokens_details": {"cached_tokens": 4_000, "cache_write_tokens": 0},
              "output_tokens": 800, "output_tokens_details": {"reasoning_tokens": 600}, "total_tokens": 5_800},
}  # fmt: skip
MESSAGE = {
    "id": "msg_1", "type": "message", "role": "assistant", "model": "claude-haiku-4-5", "stop_reason": "end_turn",
    "stop_sequence": None, "content": [{"type": "text", "text": "done"}],
    "usage": {"input_tokens": 12, "output_tokens": 500, "cache_read_input_tokens": 20_000,
              "cache_creation_input_tokens": 3_000, "service_tier": "standard",
              "cache_creation": {"ephemeral_5m_input_tokens": 1_000, "ephemeral_1h_input_tokens": 2_000}},
}  # fmt: skip
GPT_4O = Decimal(976 * 2.5 + 1_024 * 1.25 + 300 * 10) / 1_000_000  # OpenAI's price page
O3 = Decimal(1_000 * 2 + 4_000 * 0.5 + 800 * 8) / 1_000_000
HAIKU = Decimal(12 * 1 + 500 * 5 + 20_000 * 0.1 + 1_000 * 1.25 + 2_000 * 2) / 1_000_000
TASK = "Parse the invoice CSV and compute the total with tax"


def answering(routes: dict[str, tuple[int, dict]]):
    """An httpx transport that answers each path with (status, JSON), offline."""

    def handle(request: httpx.Request) -> httpx.Response:
        status, body = routes[request.url.path]
        return httpx.Response(status, json=body)

    return handle


def openai_client(asynchronous: bool = False, **routes):
    transport = httpx.MockTransport(
        answering(routes or {"/v1/chat/completions": (200, CHAT), "/v1/responses": (200, RESPONSE)})
    )
    if asynchronous:
        return openai.AsyncOpenAI(api_key="sk-test", base_url="http://llm.test/v1", max_retries=0,
                                  http_client=httpx.AsyncClient(transport=transport))  # fmt: skip
    return openai.OpenAI(api_key="sk-test", base_url="http://llm.test/v1", max_retries=0,
                         http_client=httpx.Client(transport=transport))  # fmt: skip


def test_a_wrapped_openai_client_records_each_call_with_its_cost_and_task(dl):
    client = dl_openai.wrap(openai_client(), dl, agent_name="fixer")
    assert dl_openai.wrap(client, dl) is client  # wrapping twice records once
    with dl.task(TASK) as task:
        reply = client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "total?"}])
        client.responses.create(model="o3", input="and with tax?")
    assert reply.choices[0].message.content == "use DictReader"  # the SDK's own object, untouched
    chain = dl.attempts.chain(task.correlation_id)
    assert [(c.model_used, c.status, c.cost_usd) for c in chain] == [
        ("gpt-4o-2024-08-06", "success", GPT_4O),
        ("o3-2025-04-16", "success", O3),
    ]
    first = dl.attempts.get(chain[0].attempt_id)
    assert (first.agent_name, first.user_request, first.cache_read_tokens) == ("fixer", TASK, 1_024)


def test_a_failed_openai_call_is_an_error_attempt_and_the_error_goes_on(dl):
    failing = {
        "/v1/chat/completions": (400, {"error": {"message": "context too long", "type": "invalid_request_error"}})
    }
    client = dl_openai.wrap(openai_client(**failing), dl)
    with dl.task(TASK) as task, pytest.raises(openai.BadRequestError):
        client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "x"}])
    (attempt,) = dl.attempts.chain(task.correlation_id)
    assert (attempt.status, attempt.error_type, attempt.cost_status) == ("error", "openai.BadRequestError", "no_usage")


def test_an_async_openai_client_and_a_call_outside_any_task(dl):
    client = dl_openai.wrap(openai_client(asynchronous=True), dl)

    async def call():
        return await client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "sum it"}])

    reply = asyncio.run(call())
    assert reply.usage.prompt_tokens == 2_000
    (attempt,) = dl.attempts.list(agent_name="openai")
    assert (attempt.user_request, attempt.cost_usd) == ("sum it", GPT_4O)  # its own task, named by its prompt


def test_a_wrapped_anthropic_client_records_cache_writes_of_both_lifetimes(dl):
    transport = httpx.MockTransport(answering({"/v1/messages": (200, MESSAGE)}))
    client = anthropic.Anthropic(api_key="sk-ant-test", base_url="http://llm.test", max_retries=0,
                                 http_client=httpx.Client(transport=transport))  # fmt: skip
    dl_anthropic.wrap(client, dl, agent_name="reviewer")
    with dl.task(TASK) as task:
        client.messages.create(model="claude-haiku-4-5", max_tokens=1000, messages=[{"role": "user", "content": "hi"}])
    (attempt,) = dl.attempts.chain(task.correlation_id)
    row = dl.attempts.get(attempt.attempt_id)
    assert (row.cost_usd, row.cache_write_tokens, row.cache_write_1h_tokens, row.agent_name) == (
        HAIKU,
        1_000,
        2_000,
        "reviewer",
    )


def test_recording_never_breaks_the_call(dl, caplog):
    client = dl_openai.wrap(openai_client(), dl)
    dl.close()  # the database is gone: the call still answers, the failure is logged
    reply = client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "x"}])
    assert reply.id == "chatcmpl-1"
    assert "could not record" in caplog.text


def test_the_core_never_imports_the_sdks():
    code = "import sys, debugloop, debugloop.cli.app, debugloop.integrations; print(sorted({'openai', 'anthropic', 'litellm'} & set(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True)
    assert done.stdout.strip() == "[]"


def test_the_litellm_callback_records_a_call_priced_as_litellm_prices_it(dl):
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # its bundled prices, never the network
    litellm = pytest.importorskip("litellm", reason="litellm is not installed (bench/README.md: a side venv)")
    from debugloop.integrations.litellm import DebugloopCallback

    callback = DebugloopCallback(dl, agent_name="router")
    litellm.callbacks = [callback]
    try:
        with dl.task(TASK) as task:
            response = litellm.completion(
                model="gpt-4o",
                messages=[{"role": "user", "content": "total with tax?"}],
                mock_response="use DictReader",
            )
        deadline = time.monotonic() + 10  # LiteLLM logs success from a thread of its own
        while time.monotonic() < deadline and [a.status for a in dl.attempts.chain(task.correlation_id)] != ["success"]:
            time.sleep(0.05)
    finally:
        litellm.callbacks = []
    (attempt,) = dl.attempts.chain(task.correlation_id)
    assert attempt.status == "success" and attempt.model_used.endswith("gpt-4o")
    theirs = Decimal(repr(litellm.completion_cost(completion_response=response)))
    assert abs(attempt.cost_usd - theirs) <= Decimal("1e-8")
    assert json.loads(json.dumps(dl.attempts.get(attempt.attempt_id).usage_raw))  # stored as the response's JSON


def test_a_wrapped_client_falls_back_to_the_cheaper_model_the_balance_can_pay(dl):
    """Token spending on: a call its peer cannot pay is refused before it is sent, or,
    with fallback, sent to the cheaper model the refusal names and recorded on it."""
    sent: list[str] = []

    def handle(request: httpx.Request) -> httpx.Response:
        model = json.loads(request.content)["model"]
        sent.append(model)
        return httpx.Response(200, json={**CHAT, "model": model})

    dl.peers.create("peer_wrapped", kind="agent", display_name="wrapped", agent_names=["fixer"])
    big = {"prompt_tokens": 100_000, "completion_tokens": 20_000, "total_tokens": 120_000}
    for model in ("gpt-4o", "gpt-4o-mini") * 3:  # history: both succeeded at TASK
        a = dl.attempts.start("historian", TASK, model)
        dl.attempts.finish(a, "success", usage=big)
    dl.settings.set("enable_token_spending", "true")
    r = dl.spending.reserve("peer_wrapped", "gpt-4o-mini", estimate_usd=Decimal("0.95"))
    dl.spending.settle(r.hold_id, Decimal("0.95"))  # 50 tokens left: gpt-4o's p90 (450) does not fit
    transport = httpx.MockTransport(handle)
    client = openai.OpenAI(api_key="sk-test", base_url="http://llm.test/v1", max_retries=0,
                           http_client=httpx.Client(transport=transport))  # fmt: skip
    strict = dl_openai.wrap(client, dl, agent_name="fixer")
    with dl.task(TASK, agent_name="fixer"), pytest.raises(InsufficientBalance) as refused:
        strict.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "total?"}])
    assert sent == [] and refused.value.cheaper_model == "gpt-4o-mini"  # refused before the call
    client = openai.OpenAI(api_key="sk-test", base_url="http://llm.test/v1", max_retries=0,
                           http_client=httpx.Client(transport=transport))  # fmt: skip
    lenient = dl_openai.wrap(client, dl, agent_name="fixer", fallback=True)
    with dl.task(TASK, agent_name="fixer") as task:
        reply = lenient.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "total?"}])
    assert sent == ["gpt-4o-mini"] and reply.model == "gpt-4o-mini"
    (attempt,) = dl.attempts.chain(task.correlation_id)
    assert (attempt.model_used, attempt.status) == ("gpt-4o-mini", "success")
    reservation = dl.spending.reservation(attempt.attempt_id)
    assert (reservation.model, reservation.status) == ("gpt-4o-mini", "settled")
    assert reservation.cost_usd == attempt.cost_usd and dl.spending.balance("peer_wrapped").held == 0
