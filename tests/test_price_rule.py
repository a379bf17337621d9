"""Which price a model name gets, and LiteLLM's current price format (issue 15):
a bare name keeps its own provider whatever resellers an import adds; aliases,
off-peak windows, service tiers, tiers above a prompt threshold with their
variants, uplifts kept but not applied, deprecation and successor."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from debugloop.errors import UnknownModel
from helpers import run_cli

M = 1e-6  # LiteLLM writes prices per token


def entry(provider: str, input_: float, output: float, **more) -> dict:
    return {"litellm_provider": provider, "mode": "chat", "input_cost_per_token": input_ * M,
            "output_cost_per_token": output * M, **more}  # fmt: skip


# Shaped like litellm 1.110.2's file: the plain names beside resellers' and clouds' rows.
RESELLERS = {
    "claude-haiku-4-5": entry("anthropic", 1, 5, cache_read_input_token_cost=0.1 * M),
    "aihubmix/claude-haiku-4-5": entry("aihubmix", 0.8, 4),
    "kyma/claude-haiku-4-5": entry("kyma", 1.1, 5.5),
    "gpt-4o": entry("openai", 2.5, 10),
    "azure/gpt-4o": entry("azure", 2.75, 11),
    "azure/eu/gpt-4o": entry("azure", 3, 12),
    "gemini/gemini-2.0-flash": entry("gemini", 0.1, 0.4),
    "vertex_ai/gemini-2.0-flash": entry("vertex_ai-language-models", 0.15, 0.6),
    "o3": entry("openai", 2, 8),
    "github_copilot/o3": entry("github_copilot", 0, 0),
    "perplexity/anthropic/claude-haiku-4-5": entry("perplexity", 1.2, 6),
}
# the next release: more resellers, newer rows of every name
NEWER = {
    **RESELLERS,
    "zz-gateway/claude-haiku-4-5": entry("zz-gateway", 0.5, 2),
    "zz-gateway/gpt-4o": entry("zz-gateway", 1, 4),
    "bedrock/claude-haiku-4-5": entry("bedrock_converse", 1, 5),
}
PLAIN = {"input_tokens": 1_000_000, "output_tokens": 0}


def cost(dl, model, usage=PLAIN, at=None, provider=None) -> Decimal:
    return dl.prices.cost(model, usage, at, provider=provider)


def test_a_bare_name_keeps_its_own_provider_through_imports_of_resellers(dl):
    dl.prices.import_litellm(RESELLERS, "release 1", effective_from=datetime(2026, 1, 1, tzinfo=UTC))
    dl.prices.import_litellm(RESELLERS, "release 1 again", effective_from=datetime(2026, 2, 1, tzinfo=UTC))
    dl.prices.import_litellm(NEWER, "release 2", effective_from=datetime(2026, 3, 1, tzinfo=UTC))
    for name, provider in [
        ("claude-haiku-4-5", "anthropic"),
        ("gpt-4o", "openai"),
        ("o3", "openai"),
        ("gemini-2.0-flash", "google"),
        ("Claude-Haiku-4.5", "anthropic"),
    ]:
        assert dl.prices.lookup(name).provider == provider, name
    assert cost(dl, "gpt-4o") == Decimal("2.5") and cost(dl, "claude-haiku-4-5") == 1
    # the name, or the argument, says which provider
    assert cost(dl, "azure/gpt-4o") == Decimal("2.75") and cost(dl, "azure/eu/gpt-4o") == 3
    assert cost(dl, "vertex_ai/gemini-2.0-flash") == Decimal("0.15") and cost(dl, "gemini/gemini-2.0-flash") == Decimal(
        "0.1"
    )
    assert cost(dl, "aihubmix/claude-haiku-4-5") == Decimal("0.8")
    assert (
        cost(dl, "bedrock/claude-haiku-4-5") == 1 and dl.prices.lookup("bedrock/claude-haiku-4-5").provider == "bedrock"
    )
    assert cost(dl, "anthropic/claude-haiku-4-5") == 1  # a provider's name is no reseller's model name
    assert cost(dl, "perplexity/anthropic/claude-haiku-4-5") == Decimal("1.2")
    assert cost(dl, "gpt-4o", provider="zz-gateway") == 1
    with pytest.raises(UnknownModel):
        cost(dl, "gpt-4o", provider="nobody")
    with pytest.raises(UnknownModel):
        cost(dl, "meta_llama/claude-haiku-4-5x")  # a prefix of no provider never matches a reseller loosely


def test_an_alias_is_priced_as_the_entry_it_names(dl):
    doc = {
        "claude-haiku-4-5-20251001": entry("anthropic", 1, 5),
        "claude-haiku-latest": {"alias_of": "claude-haiku-4-5-20251001"},
        "bedrock/claude-fable-latest": {"alias_of": "global.anthropic.claude-fable-5-1"},
        "global.anthropic.claude-fable-5-1": entry("bedrock_converse", 4, 20),
        "claude-ghost-latest": {"alias_of": "claude-ghost-9"},
    }
    rows = {r.model_name: (r.action, r.detail) for r in dl.prices.import_litellm(doc, "aliases")}
    assert rows["claude-haiku-latest"] == ("alias", "claude-haiku-4-5-20251001")
    assert rows["claude-ghost-latest"][0] == "skipped"
    assert cost(dl, "claude-haiku-latest") == 1
    assert cost(dl, "bedrock/claude-fable-latest") == 4
    assert dl.prices.lookup("claude-haiku-latest").model_name == "claude-haiku-4-5-20251001"
    assert {r.action for r in dl.prices.import_litellm(doc, "aliases again")} == {"unchanged", "alias", "skipped"}


# DeepSeek's windows in litellm 1.110.2: weekdays 00:00-01:00, 04:00-06:00 and 10:00-24:00 UTC; all weekend
DEEPSEEK = {
    "deepseek-flash": entry(
        "deepseek",
        0.3,
        1.2,
        cache_read_input_token_cost=0.006 * M,
        off_peak_pricing={
            "input_cost_per_token": 0.15 * M,
            "output_cost_per_token": 0.6 * M,
            "cache_read_input_token_cost": 0.003 * M,
            "windows": [
                {"hours_utc": ["00:00-01:00", "04:00-06:00", "10:00-00:00"], "weekdays": [1, 2, 3, 4, 5]},
                {"hours_utc": "00:00-00:00", "weekdays": ["sat", "sunday"]},
            ],
        },
    )
}
WEDNESDAY = datetime(2026, 6, 3, tzinfo=UTC)


@pytest.mark.parametrize(
    ("hour", "minute", "second", "price"),
    [
        (3, 59, 59, "0.3"),  # peak
        (4, 0, 0, "0.15"),  # the window opens, start inclusive
        (5, 59, 59, "0.15"),
        (6, 0, 0, "0.3"),  # and closes, end exclusive
        (9, 59, 59, "0.3"),
        (10, 0, 0, "0.15"),
        (23, 59, 59, "0.15"),  # 10:00-00:00 wraps to midnight
        (0, 30, 0, "0.15"),
        (1, 0, 0, "0.3"),
    ],
)
def test_an_off_peak_window_on_both_sides_of_its_boundaries(dl, hour, minute, second, price):
    dl.prices.import_litellm(DEEPSEEK, "off-peak", effective_from=datetime(2026, 1, 1, tzinfo=UTC))
    at = WEDNESDAY.replace(hour=hour, minute=minute, second=second)
    assert cost(dl, "deepseek-flash", at=at) == Decimal(price)


def test_off_peak_all_weekend_and_an_attempt_priced_by_its_start(dl):
    dl.prices.import_litellm(DEEPSEEK, "off-peak", effective_from=datetime(2026, 1, 1, tzinfo=UTC))
    saturday = datetime(2026, 6, 6, 8, 0, tzinfo=UTC)
    assert cost(dl, "deepseek-flash", at=saturday) == Decimal("0.15")
    assert cost(dl, "deepseek-flash", at=saturday.replace(day=5)) == Decimal("0.3")  # a Friday 08:00
    usage = {"prompt_tokens": 1_000_000, "completion_tokens": 1_000_000}
    peak = dl.attempts.start("a", "task", "deepseek-flash", started_at=WEDNESDAY.replace(hour=8))
    off = dl.attempts.start("a", "task", "deepseek-flash", started_at=WEDNESDAY.replace(hour=11))
    finished = WEDNESDAY.replace(hour=12)  # the same finish time: the start decides
    assert dl.attempts.finish(peak, "success", usage=usage, completed_at=finished).cost_usd == Decimal("1.5")
    assert dl.attempts.finish(off, "success", usage=usage, completed_at=finished).cost_usd == Decimal("0.75")


# Gemini 3.1 Pro in litellm 1.110.2: the above-200k tier with its _priority, _flex, _batches variants beside it
GEMINI_31 = {
    "gemini/gemini-3.1-pro-preview": entry(
        "gemini",
        2,
        12,
        cache_read_input_token_cost=0.2 * M,
        input_cost_per_token_above_200k_tokens=4 * M,
        output_cost_per_token_above_200k_tokens=18 * M,
        cache_read_input_token_cost_above_200k_tokens=0.4 * M,
        input_cost_per_token_above_200k_tokens_priority=7.2 * M,
        output_cost_per_token_above_200k_tokens_priority=32.4 * M,
        input_cost_per_token_above_200k_tokens_batches=2 * M,
        output_cost_per_token_above_200k_tokens_batches=9 * M,
        input_cost_per_token_above_200k_tokens_flex=2 * M,
        input_cost_per_token_priority=3.6 * M,
        output_cost_per_token_priority=21.6 * M,
        input_cost_per_token_batches=1 * M,
        output_cost_per_token_batches=6 * M,
        input_cost_per_token_flex=1 * M,
        output_cost_per_token_flex=6 * M,
    )
}


def test_the_tier_above_200k_with_its_service_tier_variants(dl):
    dl.prices.import_litellm(GEMINI_31, "gemini", effective_from=datetime(2026, 1, 1, tzinfo=UTC))
    long = {"promptTokenCount": 250_000, "candidatesTokenCount": 1_000}
    short = {"promptTokenCount": 1_000, "candidatesTokenCount": 1_000}
    # Google's page: $4 / $18 per million above 200k prompt tokens, $2 / $12 below
    assert cost(dl, "gemini-3.1-pro-preview", long) == Decimal("1.018")
    assert cost(dl, "gemini-3.1-pro-preview", short) == Decimal("0.014")
    assert cost(dl, "gemini-3.1-pro-preview", {**long, "service_tier": "priority"}) == Decimal("1.8324")
    assert cost(dl, "gemini-3.1-pro-preview", {**short, "service_tier": "priority"}) == Decimal("0.0252")
    assert cost(dl, "gemini-3.1-pro-preview", {**long, "service_tier": "batch"}) == Decimal("0.509")
    assert cost(dl, "gemini-3.1-pro-preview", {**short, "service_tier": "flex"}) == Decimal("0.007")
    # flex above 200k: its input price is given, its output price is the standard tier's
    assert cost(dl, "gemini-3.1-pro-preview", {**long, "service_tier": "flex"}) == Decimal("0.518")


def test_a_priority_response_of_openai_is_priced_at_priority(dl):
    doc = {"gpt-5": entry("openai", 1.25, 10, input_cost_per_token_priority=2.5 * M, output_cost_per_token_priority=20 * M,
                           input_cost_per_token_flex=0.625 * M, output_cost_per_token_flex=5 * M)}  # fmt: skip
    dl.prices.import_litellm(doc, "tiers", effective_from=datetime(2026, 1, 1, tzinfo=UTC))
    usage = {"prompt_tokens": 1_000_000, "completion_tokens": 100_000}
    response = {"id": "c1", "object": "chat.completion", "model": "gpt-5", "service_tier": "priority", "usage": usage}
    assert cost(dl, "gpt-5", usage) == Decimal("2.25")
    assert cost(dl, "gpt-5", response) == Decimal("4.5")
    assert cost(dl, "gpt-5", {**response, "service_tier": "flex"}) == Decimal("1.125")
    assert cost(dl, "gpt-5", {**response, "service_tier": "default"}) == Decimal("2.25")


def test_uplifts_are_kept_but_applied_only_where_the_setting_names_them(dl, conn):
    doc = {
        "gpt-6-sol": entry(
            "openai", 10, 40, fedramp_uplift_multiplier=1.1, regional_processing_uplift_multiplier_eu=1.1
        )
    }
    dl.prices.import_litellm(doc, "uplifts", effective_from=datetime(2026, 1, 1, tzinfo=UTC))
    assert dl.prices.lookup("gpt-6-sol").uplifts == {"fedramp": 1.1, "regional_eu": 1.1}
    assert cost(dl, "gpt-6-sol") == 10
    conn.execute("select debugloop.settings_set('price_uplifts', 'fedramp')")
    conn.commit()
    assert cost(dl, "gpt-6-sol") == 11
    conn.execute("select debugloop.settings_set('price_uplifts', 'fedramp, regional_eu')")
    conn.commit()
    assert cost(dl, "gpt-6-sol") == Decimal("12.1")


def test_prices_show_names_the_deprecation_and_the_successor(dl, db):
    doc = {"gpt-5": entry("openai", 1.25, 10, deprecation_date="2026-12-11", successor_model="gpt-5.6-sol")}
    dl.prices.import_litellm(doc, "successors", effective_from=datetime(2026, 1, 1, tzinfo=UTC))
    env = {"DEBUGLOOP_DATABASE_URL": db.url}
    shown = run_cli("prices", "show", "gpt-5", env=env)
    assert shown.returncode == 0, shown.stderr
    assert "deprecated from 2026-12-11; its successor is gpt-5.6-sol" in shown.stdout
    as_json = json.loads(run_cli("prices", "show", "gpt-5", "--json", env=env).stdout)
    assert as_json["price"]["successor_model"] == "gpt-5.6-sol"
    assert as_json["price"]["deprecated_at"].startswith("2026-12-11")


def test_the_manifest_never_advises_a_retired_model_and_names_the_successor(dl):
    doc = {
        "acme-big": entry("acme", 10, 10),
        "acme-small-old": entry("acme", 1, 1, deprecation_date="2020-01-01", successor_model="acme-small"),
        "acme-small": entry("acme", 2, 2),
    }
    dl.prices.import_litellm(doc, "acme", effective_from=datetime(2000, 1, 1, tzinfo=UTC))
    task = "Parse the invoice CSV file and compute the total with tax"
    for model in ("acme-big", "acme-small-old", "acme-small"):
        for _ in range(3):
            a = dl.attempts.start("agent", task, model)
            dl.attempts.finish(a, "success", usage={"input_tokens": 1000, "output_tokens": 100})
    cheaper = [m.model for m in dl.manifest(task, model="acme-big").cost.cheaper_models]
    assert cheaper == ["acme-small"]  # acme-small-old is cheaper still, but retired
    old = dl.manifest(task, model="acme-small-old").cost.deprecation
    assert old.successor_model == "acme-small" and old.deprecated_at.year == 2020
    assert "is retired since 2020-01-01; its successor is acme-small" in dl.manifest_markdown(
        task, model="acme-small-old"
    )
