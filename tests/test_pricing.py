"""Exact cost: worked examples from the providers' public price pages, usage in every
provider format, the long-context tier, batch discounts, and properties of the formula.

The expected values below are computed by hand from the list prices on each
provider's pricing page (USD per million tokens), not from the catalog; they check
the seeded prices and the formula together.
"""

from decimal import Decimal

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from psycopg.types.json import Jsonb

from debugloop.errors import InvalidParameter, InvalidUsage, UnknownModel, wrap_exceptions

M = Decimal(1_000_000)


def cost(conn, model, usage, at=None):
    # each call in a savepoint, so that an expected error leaves the connection usable
    with wrap_exceptions(), conn.transaction():
        if at is None:
            return conn.execute("select debugloop.price_cost(%s, %s)", (model, Jsonb(usage))).fetchone()[0]
        return conn.execute("select debugloop.price_cost(%s, %s, %s)", (model, Jsonb(usage), at)).fetchone()[0]


def normalize(conn, usage):
    with wrap_exceptions(), conn.transaction():
        return conn.execute("select debugloop.price_usage_normalize(%s)", (Jsonb(usage),)).fetchone()[0]


# -- worked examples -----------------------------------------------------------------


def test_anthropic_sonnet_4_5_with_5_minute_and_1_hour_cache_writes_and_reads(conn):
    # anthropic.com/pricing, Claude Sonnet 4.5: input $3, 5m cache write $3.75,
    # 1h cache write $6, cache hits $0.30, output $15 per MTok
    usage = {
        "input_tokens": 10_000,
        "output_tokens": 3_000,
        "cache_read_input_tokens": 50_000,
        "cache_creation_input_tokens": 3_000,
        "cache_creation": {"ephemeral_5m_input_tokens": 2_000, "ephemeral_1h_input_tokens": 1_000},
    }
    expected = (10_000 * 3 + 2_000 * Decimal("3.75") + 1_000 * 6 + 50_000 * Decimal("0.30") + 3_000 * 15) / M
    assert expected == Decimal("0.1035")
    assert cost(conn, "claude-sonnet-4-5", usage) == expected


def test_anthropic_sonnet_4_long_context_prices_the_whole_request_at_the_tier(conn):
    # Claude Sonnet 4 above 200K input tokens: input $6, cache read $0.60, output $22.50
    # per MTok; at or below 200K: $3, $0.30, $15. Cache reads count toward the 200K.
    above = {"input_tokens": 150_000, "cache_read_input_tokens": 60_000, "output_tokens": 2_000}
    below = {"input_tokens": 100_000, "cache_read_input_tokens": 50_000, "output_tokens": 2_000}
    assert (
        cost(conn, "claude-sonnet-4-20250514", above)
        == (150_000 * 6 + 60_000 * Decimal("0.60") + 2_000 * Decimal("22.50")) / M
    )
    assert cost(conn, "claude-sonnet-4-20250514", below) == (100_000 * 3 + 50_000 * Decimal("0.30") + 2_000 * 15) / M


def test_openai_gpt_4o_cached_tokens_are_inside_prompt_tokens(conn):
    # openai.com/api/pricing, gpt-4o: input $2.50, cached input $1.25, output $10 per MTok
    usage = {
        "prompt_tokens": 2_000,
        "completion_tokens": 300,
        "total_tokens": 2_300,
        "prompt_tokens_details": {"cached_tokens": 1_500},
    }
    expected = (500 * Decimal("2.50") + 1_500 * Decimal("1.25") + 300 * 10) / M
    assert cost(conn, "gpt-4o", usage) == expected == Decimal("0.006125")
    # the Responses API reports the same call as input/output tokens with details
    responses = {
        "input_tokens": 2_000,
        "output_tokens": 300,
        "input_tokens_details": {"cached_tokens": 1_500},
        "output_tokens_details": {"reasoning_tokens": 0},
    }
    assert cost(conn, "gpt-4o", responses) == expected


def test_openai_o3_reasoning_tokens_are_inside_completion_tokens_and_billed_as_output(conn):
    # o3: input $2, cached input $0.50, output $8 per MTok; reasoning is billed as output
    usage = {
        "prompt_tokens": 1_000,
        "completion_tokens": 5_000,
        "completion_tokens_details": {"reasoning_tokens": 4_000},
    }
    assert normalize(conn, usage) | {} == {
        "input_tokens": 1_000,
        "output_tokens": 1_000,
        "reasoning_tokens": 4_000,
        "cache_read_tokens": 0,
        "cache_write_tokens": 0,
        "cache_write_1h_tokens": 0,
        "batch": False,
    }
    assert cost(conn, "o3", usage) == (1_000 * 2 + 5_000 * 8) / M == Decimal("0.042")


def test_gemini_2_5_pro_above_200k_with_cached_content_and_thoughts(conn):
    # ai.google.dev/gemini-api/docs/pricing, Gemini 2.5 Pro, prompts > 200k tokens:
    # input $2.50, context caching $0.25, output (thinking included) $15 per MTok
    response = {
        "candidates": [],
        "usageMetadata": {
            "promptTokenCount": 300_000,
            "cachedContentTokenCount": 100_000,
            "candidatesTokenCount": 1_000,
            "thoughtsTokenCount": 2_000,
            "totalTokenCount": 303_000,
        },
    }
    expected = (200_000 * Decimal("2.50") + 100_000 * Decimal("0.25") + 3_000 * 15) / M
    assert cost(conn, "gemini/gemini-2.5-pro", response) == expected == Decimal("0.57")


def test_openai_batch_api_halves_the_price(conn):
    usage = {"input_tokens": 1_000_000, "output_tokens": 1_000_000, "cache_read_tokens": 0, "batch": True}
    assert cost(conn, "gpt-4o", usage) == (Decimal("2.50") + 10) / 2


def test_zai_glm_4_6(conn):
    # z.ai pricing, GLM-4.6: input $0.60, cached input $0.11, output $2.20 per MTok
    usage = {
        "prompt_tokens": 1_000_000,
        "completion_tokens": 1_000_000,
        "prompt_tokens_details": {"cached_tokens": 400_000},
    }
    assert (
        cost(conn, "zai/glm-4.6", usage)
        == (600_000 * Decimal("0.60") + 400_000 * Decimal("0.11") + 1_000_000 * Decimal("2.20")) / M
    )


def test_litellm_reported_anthropic_usage_counts_cache_writes_inside_prompt_tokens(conn):
    # as OpenHands logs it: prompt_tokens 3475 = 4 uncached + 3471 written to the cache
    usage = {
        "completion_tokens": 95,
        "prompt_tokens": 3475,
        "total_tokens": 3570,
        "prompt_tokens_details": {"cached_tokens": 0},
        "cache_creation_input_tokens": 3471,
        "cache_read_input_tokens": 0,
    }
    canonical = normalize(conn, usage)
    assert (canonical["input_tokens"], canonical["cache_write_tokens"], canonical["output_tokens"]) == (4, 3471, 95)
    assert cost(conn, "claude-3-5-sonnet-20241022", usage) == (4 * 3 + 3471 * Decimal("3.75") + 95 * 15) / M


def test_each_request_of_an_attempt_is_tiered_on_its_own(conn):
    one = {"input_tokens": 150_000, "output_tokens": 0}
    # two calls of 150k each: neither exceeds 200k, so both are at the base price
    assert cost(conn, "claude-sonnet-4-20250514", [one, one]) == 2 * cost(conn, "claude-sonnet-4-20250514", one)
    assert cost(conn, "claude-sonnet-4-20250514", [one, one]) == 300_000 * 3 / M


# -- model names ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "claude-sonnet-4-5",
        "anthropic/claude-sonnet-4-5",
        "openrouter/anthropic/claude-sonnet-4.5",
        "Claude-Sonnet-4-5",
        "  claude-sonnet-4-5 ",
    ],
)
def test_a_model_name_matches_with_prefix_case_and_dots(conn, name):
    row = conn.execute("select provider, model_name from debugloop.price_lookup(%s)", (name,)).fetchone()
    assert row == ("anthropic", "claude-sonnet-4-5")


def test_custom_price_beats_imported_alias_and_pattern_match_and_time_applies(conn):
    base = {"input_tokens": 1_000_000, "output_tokens": 0}
    assert cost(conn, "gpt-4o", base) == Decimal("2.5")
    conn.execute(
        """select debugloop.price_set('openai', 'gpt-4o', 2, 8, effective_from => '2030-01-01',
                                      aliases => array['House-GPT'])"""
    )
    conn.execute("select debugloop.price_set('acme', 'acme-any', 7, 7, name_pattern => '^acme-coder-v[0-9]+$')")
    assert cost(conn, "gpt-4o", base) == Decimal("2.5")  # the custom version is not in force yet
    assert cost(conn, "gpt-4o", base, "2030-06-01") == 2  # now it is, and beats the imported one
    assert cost(conn, "house-gpt", base, "2030-06-01") == 2
    assert cost(conn, "acme-coder-v12", base) == 7
    with pytest.raises(UnknownModel) as info:
        cost(conn, "acme-coder-vX", base)
    assert info.value.sqlstate == "DL006" and info.value.field == "model"


def test_an_unknown_model_is_its_own_error(conn):
    with pytest.raises(UnknownModel, match="no price for model 'gpt-17-ultra'"):
        cost(conn, "gpt-17-ultra", {"input_tokens": 1})


# -- bad usage ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("usage", "message"),
    [
        (
            {"prompt_tokens": 100, "completion_tokens": 5, "prompt_tokens_details": {"cached_tokens": 101}},
            "exceed prompt_tokens",
        ),
        (
            {"prompt_tokens": 100, "completion_tokens": 5, "completion_tokens_details": {"reasoning_tokens": 6}},
            "exceed completion_tokens",
        ),
        ({"prompt_tokens": -1, "completion_tokens": 5}, "non-negative whole number"),
        ({"input_tokens": 1.5, "output_tokens": 5}, "non-negative whole number"),
        ({"input_tokens": "12", "output_tokens": 5}, "non-negative whole number"),
        ({"promptTokenCount": 10, "cachedContentTokenCount": 11}, "exceeds promptTokenCount"),
        ({"input_tokens": 1, "cache_read_tokens": 0, "batch": "yes"}, "batch must be true or false"),
        ([{"input_tokens": 1}, 7], "must be a JSON object"),
        ("12", "must be a JSON object"),
    ],
)
def test_usage_that_adds_up_to_nothing_sensible_is_rejected(conn, usage, message):
    with pytest.raises(InvalidUsage, match=message) as info:
        normalize(conn, usage)
    assert info.value.sqlstate == "DL005" and info.value.field == "usage"


def test_estimate_rejects_negative_tokens_and_prices_an_uncached_request(conn):
    assert conn.execute("select debugloop.price_estimate('gpt-4o', 1000000, 100000)").fetchone()[0] == Decimal("3.5")
    with pytest.raises(InvalidParameter) as info, wrap_exceptions():
        conn.execute("select debugloop.price_estimate('gpt-4o', -1, 10)")
    assert info.value.field == "input_tokens"


# -- properties -------------------------------------------------------------------------

counts = st.integers(min_value=0, max_value=400_000)
canonical = st.fixed_dictionaries(
    {
        "input_tokens": counts,
        "output_tokens": counts,
        "cache_read_tokens": counts,
        "cache_write_tokens": counts,
        "cache_write_1h_tokens": counts,
        "reasoning_tokens": counts,
        "batch": st.booleans(),
    }
)
FIELDS = [
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "cache_write_1h_tokens",
    "reasoning_tokens",
]
SAMPLE_MODELS = [
    "claude-sonnet-4-20250514",
    "claude-sonnet-4-5",
    "gpt-4o",
    "o3",
    "gemini/gemini-2.5-pro",
    "zai/glm-4.6",
]
pg_settings = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@pg_settings
@given(
    model=st.sampled_from(SAMPLE_MODELS),
    usage=canonical,
    field=st.sampled_from(FIELDS),
    more=st.integers(min_value=1, max_value=300_000),
)
def test_cost_never_decreases_when_tokens_increase(conn, model, usage, field, more):
    bigger = usage | {field: usage[field] + more}
    assert cost(conn, model, bigger) >= cost(conn, model, usage)


def test_every_seeded_tier_costs_at_least_its_base_price(conn):
    """What makes the property above hold for every model, not only the sampled ones."""
    cheaper = conn.execute(
        """select provider, model_name from debugloop.model_price_catalog
            where long_context_input_price_per_million < input_price_per_million
               or long_context_output_price_per_million < output_price_per_million"""
    ).fetchall()
    assert cheaper == []


def _expected(price: dict, usage: dict) -> Decimal:
    """The tier rule, independently: above the threshold every token is at the tier."""
    prompt = (
        usage["input_tokens"]
        + usage["cache_read_tokens"]
        + usage["cache_write_tokens"]
        + usage["cache_write_1h_tokens"]
    )
    long = prompt > price["long_context_threshold"]
    pick = (
        (lambda kind: price[f"long_context_{kind}_price_per_million"] or price[f"{kind}_price_per_million"])
        if long
        else (lambda kind: price[f"{kind}_price_per_million"])
    )
    total = (
        usage["input_tokens"] * pick("input")
        + usage["output_tokens"] * pick("output")
        + usage["reasoning_tokens"] * pick("output")
        + usage["cache_read_tokens"] * pick("cache_read")
        + usage["cache_write_tokens"] * pick("cache_write")
        + usage["cache_write_1h_tokens"] * pick("cache_write")
    )
    return total / M


@pg_settings
@given(usage=canonical.map(lambda u: u | {"batch": False, "cache_write_1h_tokens": 0}))
def test_long_context_tier_applies_to_the_whole_request(conn, usage):
    from psycopg.rows import dict_row

    with conn.cursor(row_factory=dict_row) as cur:
        price = cur.execute("select * from debugloop.price_lookup('claude-sonnet-4-20250514')").fetchone()
    assert price["long_context_threshold"] == 200_000 and price["reasoning_price_per_million"] is None
    assert cost(conn, "claude-sonnet-4-20250514", usage) == _expected(price, usage)


@pg_settings
@given(
    prompt=st.integers(0, 10**7),
    cached=st.integers(0, 10**7),
    completion=st.integers(0, 10**7),
    reasoning=st.integers(0, 10**7),
)
def test_openai_usage_is_split_without_counting_a_token_twice(conn, prompt, cached, completion, reasoning):
    usage = {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "prompt_tokens_details": {"cached_tokens": cached},
        "completion_tokens_details": {"reasoning_tokens": reasoning},
    }
    if cached > prompt or reasoning > completion:
        with pytest.raises(InvalidUsage):
            normalize(conn, usage)
        return
    c = normalize(conn, usage)
    assert c["input_tokens"] + c["cache_read_tokens"] + c["cache_write_tokens"] + c["cache_write_1h_tokens"] == prompt
    assert c["output_tokens"] + c["reasoning_tokens"] == completion
    assert min(c[f] for f in FIELDS) >= 0


def test_usage_of_several_calls_sums_per_kind(conn):
    calls = [
        {"usage": {"prompt_tokens": 10, "completion_tokens": 5}},
        {"input_tokens": 7, "output_tokens": 3, "cache_read_input_tokens": 100},
        {"usageMetadata": {"promptTokenCount": 20, "candidatesTokenCount": 2, "thoughtsTokenCount": 1}},
    ]
    c = normalize(conn, calls)
    assert (c["input_tokens"], c["output_tokens"], c["cache_read_tokens"], c["reasoning_tokens"]) == (37, 10, 100, 1)


def test_price_cost_is_exact_decimal_not_float(conn):
    value = cost(conn, "gpt-4o", {"prompt_tokens": 1, "completion_tokens": 1})
    assert isinstance(value, Decimal) and value == Decimal("0.0000125")
    with pytest.raises(psycopg.errors.CheckViolation):
        conn.execute(
            "insert into debugloop.model_price_catalog (provider, model_name, source, input_price_per_million,"
            " output_price_per_million, effective_from) values ('x', 'y', 's', 1, 1, '-infinity')"
        )
