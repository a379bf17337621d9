"""Usage as the SDKs return it (issue 15): the SDKs' own pydantic objects built
offline from JSON, their model_dump() with and without exclude_none, and whole
responses; each priced as the provider's price page says. The detector decides by
the fields that carry values, never by a key whose value is null; a usage that fits
no format is its own error (DL045), never priced as another."""

from __future__ import annotations

from decimal import Decimal

import pytest

from debugloop.errors import InvalidUsage, UnknownUsageFormat

anthropic_types = pytest.importorskip("anthropic.types", reason="the anthropic SDK (dev extra) is not installed")
openai_chat = pytest.importorskip("openai.types.chat", reason="the openai SDK (dev extra) is not installed")
openai_responses = pytest.importorskip("openai.types.responses")

# claude-haiku-4-5 on Anthropic's price page: $1 input, $5 output, $0.10 cache reads,
# $1.25 5-minute and $2 1-hour cache writes, per million tokens
HAIKU_USAGE = {
    "input_tokens": 12,
    "output_tokens": 500,
    "cache_read_input_tokens": 20_000,
    "cache_creation_input_tokens": 3_000,
    "cache_creation": {"ephemeral_5m_input_tokens": 1_000, "ephemeral_1h_input_tokens": 2_000},
    "service_tier": "standard",
}
HAIKU_COST = Decimal(12 * 1 + 500 * 5 + 20_000 * 0.1 + 1_000 * 1.25 + 2_000 * 2) / 1_000_000  # 0.009762
HAIKU_5M_ONLY = Decimal(12 * 1 + 500 * 5 + 20_000 * 0.1 + 3_000 * 1.25) / 1_000_000


def message(usage: dict):
    return anthropic_types.Message.model_validate(
        {
            "id": "msg_01",
            "type": "message",
            "role": "assistant",
            "model": "claude-haiku-4-5",
            "stop_reason": "end_turn",
            "stop_sequence": None,
            "content": [{"type": "text", "text": "done"}],
            "usage": usage,
        }  # fmt: skip
    )


def test_an_anthropic_message_in_every_shape_costs_what_the_price_page_says(dl):
    m = message(HAIKU_USAGE)
    dumped = m.usage.model_dump()
    assert "output_tokens_details" in dumped and dumped["output_tokens_details"] is None  # what misled the detector
    for shape in (m, m.usage, dumped, m.model_dump(), m.model_dump(exclude_none=True), m.usage.model_dump(mode="json")):
        assert dl.prices.cost("claude-haiku-4-5", shape) == HAIKU_COST
    canonical = dl.attempts.normalize_usage(m)
    assert (canonical["cache_read_tokens"], canonical["cache_write_tokens"], canonical["cache_write_1h_tokens"]) == (
        20_000,
        1_000,
        2_000,
    )


def test_an_anthropic_message_without_the_1_hour_split(dl):
    usage = {**HAIKU_USAGE, "cache_creation": None}
    m = message(usage)
    assert dl.prices.cost("claude-haiku-4-5", m.usage.model_dump()) == HAIKU_5M_ONLY
    assert dl.prices.cost("claude-haiku-4-5", m) == HAIKU_5M_ONLY


def test_the_issues_sonnet_call_costs_what_it_cost(dl):
    """The call of the issue: $0.0135 was recorded for a call that costs $0.033."""
    usage = {"input_tokens": 3, "output_tokens": 900, "cache_read_input_tokens": 20_000, "cache_creation_input_tokens": 3_600,
             "cache_creation": {"ephemeral_5m_input_tokens": 3_600, "ephemeral_1h_input_tokens": 0}}  # fmt: skip
    m = message(usage)
    # claude-sonnet-4-5: $3 input, $15 output, $0.30 cache reads, $3.75 5-minute writes
    expected = Decimal(3 * 3 + 900 * 15 + 20_000 * 0.3 + 3_600 * 3.75) / 1_000_000
    assert dl.prices.cost("claude-sonnet-4-5", m.usage.model_dump()) == expected == Decimal("0.033009")


def test_openai_chat_completions_and_responses(dl):
    completion = openai_chat.ChatCompletion.model_validate(
        {
            "id": "c1",
            "object": "chat.completion",
            "created": 1,
            "model": "gpt-4o-2024-08-06",
            "service_tier": "default",
            "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": "x"}}],
            "usage": {
                "prompt_tokens": 2_000,
                "completion_tokens": 300,
                "total_tokens": 2_300,
                "prompt_tokens_details": {"cached_tokens": 1_024, "audio_tokens": 0},
                "completion_tokens_details": {"reasoning_tokens": 0},
            },
        }  # fmt: skip
    )
    # gpt-4o: $2.50 input, $1.25 cached, $10 output
    gpt_4o = Decimal(976 * 2.5 + 1_024 * 1.25 + 300 * 10) / 1_000_000
    for shape in (completion, completion.usage, completion.model_dump(), completion.model_dump(exclude_none=True)):
        assert dl.prices.cost("gpt-4o", shape) == gpt_4o
    response = openai_responses.Response.model_validate(
        {
            "id": "r1",
            "object": "response",
            "created_at": 1,
            "model": "o3",
            "output": [],
            "parallel_tool_calls": True,
            "tool_choice": "auto",
            "tools": [],
            "status": "completed",
            "usage": {
                "input_tokens": 5_000,
                "input_tokens_details": {"cached_tokens": 4_000, "cache_write_tokens": 0},
                "output_tokens": 800,
                "output_tokens_details": {"reasoning_tokens": 600},
                "total_tokens": 5_800,
            },
        }  # fmt: skip
    )
    # o3: $2 input, $0.50 cached, $8 output (reasoning billed as output)
    o3 = Decimal(1_000 * 2 + 4_000 * 0.5 + 800 * 8) / 1_000_000
    for shape in (response, response.usage, response.model_dump(), response.usage.model_dump()):
        assert dl.prices.cost("o3", shape) == o3


def test_responses_cache_writes_count_as_cache_writes(dl):
    usage = {"input_tokens": 5_000, "input_tokens_details": {"cached_tokens": 1_000, "cache_write_tokens": 3_000},
             "output_tokens": 10, "output_tokens_details": {"reasoning_tokens": 0}}  # fmt: skip
    canonical = dl.attempts.normalize_usage(usage)
    assert (canonical["input_tokens"], canonical["cache_read_tokens"], canonical["cache_write_tokens"]) == (
        1_000,
        1_000,
        3_000,
    )


def test_google_usage_metadata_dumped_with_nulls(dl):
    # google-genai's GenerateContentResponseUsageMetadata.model_dump(): every field, most null
    metadata = {"cache_tokens_details": None, "cached_content_token_count": None, "candidates_token_count": 200,
                "candidates_tokens_details": None, "prompt_token_count": 1_000, "prompt_tokens_details": None,
                "thoughts_token_count": 50, "tool_use_prompt_token_count": None, "total_token_count": 1_250,
                "traffic_type": None}  # fmt: skip
    # gemini-2.5-flash: $0.30 input, $2.50 output (thinking billed as output)
    expected = Decimal(1_000 * 0.3 + 250 * 2.5) / 1_000_000
    assert (
        dl.prices.cost("gemini-2.5-flash", {"usage_metadata": metadata, "model_version": "gemini-2.5-flash"})
        == expected
    )
    assert dl.prices.cost("gemini-2.5-flash", metadata) == expected


def test_a_litellm_model_response_dump(dl):
    # litellm.ModelResponse(...).model_dump() of an Anthropic call: prompt_tokens hold the cache
    response = {"id": "chatcmpl-1", "object": "chat.completion", "model": "claude-haiku-4-5", "choices": [],
                "usage": {"prompt_tokens": 23_012, "completion_tokens": 500, "total_tokens": 23_512,
                          "completion_tokens_details": None,
                          "prompt_tokens_details": {"audio_tokens": None, "cached_tokens": 20_000, "text_tokens": None,
                                                    "image_tokens": None, "cache_write_tokens": 3_000},
                          "cache_creation_input_tokens": 3_000, "cache_read_input_tokens": 20_000}}  # fmt: skip
    assert dl.prices.cost("claude-haiku-4-5", response) == HAIKU_5M_ONLY


@pytest.mark.parametrize(
    ("usage", "named"),
    [
        ({"tokens": 10}, "tokens"),
        ({"usage": None, "id": "x"}, "id"),
        (
            {
                "input_tokens": 1,
                "output_tokens": 2,
                "cache_read_input_tokens": 5,
                "output_tokens_details": {"reasoning_tokens": 1},
            },
            "cache_read_input_tokens, input_tokens",
        ),  # fmt: skip
    ],
)
def test_a_usage_that_fits_no_format_is_its_own_error_naming_what_it_found(dl, usage, named):
    with pytest.raises(UnknownUsageFormat) as info:
        dl.prices.cost("gpt-4o", usage)
    assert info.value.sqlstate == "DL045" and info.value.field == "usage"
    assert named in info.value.detail
    assert isinstance(info.value, InvalidUsage)  # whoever caught a bad usage still catches it
