"""The price catalog: LiteLLM-format import, versions, immutability, the seed, the CLI."""

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from debugloop.errors import InvalidParameter, PriceVersionImmutable, wrap_exceptions
from helpers import run_cli

# Shaped like LiteLLM's model_prices_and_context_window.json (per-token costs).
LITELLM = {
    "sample_spec": {"input_cost_per_token": 0.0, "litellm_provider": "one of ...", "mode": "chat"},
    "acme-large": {
        "litellm_provider": "acme",
        "mode": "chat",
        "max_input_tokens": 400000,
        "max_output_tokens": 32000,
        "input_cost_per_token": 2e-06,
        "output_cost_per_token": 8e-06,
        "cache_read_input_token_cost": 2e-07,
        "cache_creation_input_token_cost": 2.5e-06,
        "cache_creation_input_token_cost_above_1hr": 4e-06,
        "input_cost_per_token_above_200k_tokens": 4e-06,
        "output_cost_per_token_above_200k_tokens": 1.2e-05,
        "input_cost_per_token_batches": 1e-06,
        "output_cost_per_token_batches": 4e-06,
        "output_cost_per_reasoning_token": 1e-05,
        "supports_function_calling": True,
        "supports_vision": False,
    },
    "acme/acme-small": {
        "litellm_provider": "acme",
        "mode": "chat",
        "input_cost_per_token": 3.0000000000000004e-07,
        "output_cost_per_token": 1.2e-06,
    },
    "acme-embed": {"litellm_provider": "acme", "mode": "embedding", "input_cost_per_token": 1e-08},
    "acme-image": {"litellm_provider": "acme", "mode": "image_generation", "output_cost_per_image": 0.04},
}


def test_import_converts_litellm_entries_and_a_second_import_adds_nothing(dl):
    first = {(r.model_name, r.action) for r in dl.prices.import_litellm(LITELLM, "test file")}
    assert first == {
        ("acme-large", "added"),
        ("acme-small", "added"),
        ("acme-embed", "skipped"),
        ("acme-image", "skipped"),
    }
    second = {(r.model_name, r.action) for r in dl.prices.import_litellm(LITELLM, "test file")}
    assert ("acme-large", "unchanged") in second and ("acme-small", "unchanged") in second
    assert len(dl.prices.versions("acme", "acme-large")) == 1

    large = dl.prices.lookup("acme-large")
    assert (large.input_price_per_million, large.output_price_per_million) == (2, 8)
    assert (
        large.cache_read_price_per_million,
        large.cache_write_price_per_million,
        large.cache_write_1h_price_per_million,
    ) == (Decimal("0.2"), Decimal("2.5"), 4)
    assert (
        large.long_context_threshold,
        large.long_context_input_price_per_million,
        large.long_context_output_price_per_million,
    ) == (200_000, 4, 12)
    assert large.batch_discount == Decimal("0.5") and large.reasoning_price_per_million == 10
    assert large.context_window == 400_000 and large.capabilities == ["function_calling"]
    assert large.origin == "imported" and large.source == "test file"
    small = dl.prices.lookup("acme/acme-small")
    assert small.input_price_per_million == Decimal("0.3")  # float noise rounded away


def test_a_changed_price_is_a_new_version_and_old_attempts_keep_theirs(dl):
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    dl.prices.import_litellm(LITELLM, "release 1", effective_from=t0)
    old_attempt = dl.attempts.start("a", "task", "acme-large", started_at=t0 + timedelta(days=10))

    cheaper = json.loads(json.dumps(LITELLM))
    cheaper["acme-large"]["input_cost_per_token"] = 1e-06
    rows = {
        r.model_name: r.action
        for r in dl.prices.import_litellm(cheaper, "release 2", effective_from=t0 + timedelta(days=20))
    }
    assert rows["acme-large"] == "added" and rows["acme-small"] == "unchanged"
    assert [v.source for v in dl.prices.versions("acme", "acme-large")] == ["release 2", "release 1"]

    new_attempt = dl.attempts.start("a", "task", "acme-large", started_at=t0 + timedelta(days=30))
    usage = {"input_tokens": 100_000, "output_tokens": 0}  # below the 200k tier
    assert dl.attempts.finish(old_attempt, "success", usage=usage).cost_usd == Decimal("0.2")
    assert dl.attempts.finish(new_attempt, "success", usage=usage).cost_usd == Decimal("0.1")
    assert dl.prices.reprice(t0, include_priced=True) == []  # both already at the version of their start


def test_price_versions_are_immutable(conn):
    with pytest.raises(PriceVersionImmutable) as info, wrap_exceptions():
        conn.execute("update debugloop.model_price_catalog set input_price_per_million = 0 where model_name = 'gpt-4o'")
    assert info.value.sqlstate == "DL009"
    conn.rollback()
    with pytest.raises(PriceVersionImmutable), wrap_exceptions():
        conn.execute("delete from debugloop.model_price_catalog where model_name = 'gpt-4o'")


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"input_price_per_million": Decimal(-1)}, "input_price_per_million"),
        ({"cache_read_price_per_million": Decimal("-0.1")}, "cache_read_price_per_million"),
        ({"name_pattern": "claude-(("}, "name_pattern"),
        ({"batch_discount": Decimal(1)}, "batch_discount"),
        ({"long_context_threshold": 0}, "long_context_threshold"),
        ({"provider": "Not A Provider"}, "provider"),
    ],
)
def test_bad_prices_are_invalid_parameters_and_add_no_version(dl, conn, kwargs, field):
    before = conn.execute("select count(*) from debugloop.model_price_catalog").fetchone()[0]
    args = {
        "provider": "acme",
        "model_name": "m",
        "input_price_per_million": Decimal(1),
        "output_price_per_million": Decimal(1),
    }
    args |= kwargs
    with pytest.raises(InvalidParameter) as info:
        dl.prices.set(**args)
    assert info.value.field == field
    assert conn.execute("select count(*) from debugloop.model_price_catalog").fetchone()[0] == before


def test_import_rejects_a_document_that_is_not_an_object(dl):
    with pytest.raises(InvalidParameter) as info:
        dl.prices.import_litellm(["not", "an", "object"], "x")  # type: ignore[arg-type]
    assert info.value.field == "doc"


def test_the_seed_prices_the_models_of_the_bundled_logs_and_names_its_source(conn):
    for model in ("claude-sonnet-4-20250514", "claude-3-5-sonnet-20241022", "gpt-4o-2024-08-06"):
        assert conn.execute("select (debugloop.price_lookup(%s)).catalog_id", (model,)).fetchone()[0], model
    providers = {p for (p,) in conn.execute("select distinct provider from debugloop.model_price_catalog")}
    assert {"anthropic", "openai", "google", "zai", "together"} <= providers
    assert (
        conn.execute("select count(*) from debugloop.model_price_catalog where source not like 'LiteLLM %'").fetchone()[
            0
        ]
        == 0
    )


def test_cli_prices_import_twice_show_and_cost(db, tmp_path):
    env = {"DEBUGLOOP_DATABASE_URL": db.url}
    file = tmp_path / "model_prices_and_context_window.json"
    file.write_text(json.dumps(LITELLM))
    first = run_cli("prices", "import", str(file), env=env)
    assert first.returncode == 0, first.stderr
    assert "2 added, 0 unchanged, 2 skipped" in first.stdout
    second = run_cli("prices", "import", str(file), env=env)
    assert "0 added, 2 unchanged, 2 skipped" in second.stdout
    show = run_cli("prices", "show", "openrouter/acme/acme-large", env=env)
    assert show.returncode == 0 and "priced as acme/acme-large" in show.stdout
    cost = run_cli("prices", "cost", "acme-large", '{"input_tokens": 100000, "output_tokens": 100000}', env=env)
    assert cost.stdout.strip() == "1"
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    broken = run_cli("prices", "import", str(bad), env=env)
    assert broken.returncode == 1 and "not JSON" in broken.stderr and "Traceback" not in broken.stderr


def test_cli_attempts_and_cost_report(dl, db):
    first = dl.attempts.start("fixer", "make it green", "gpt-4o")
    dl.attempts.finish(
        first, "error", usage={"input_tokens": 1_000_000, "output_tokens": 0}, error_type="AssertionError"
    )
    second = dl.attempts.start("fixer", "make it green", "gpt-4o", parent_attempt_id=first)
    dl.attempts.finish(second, "success", usage={"input_tokens": 1_000_000, "output_tokens": 0})
    env = {"DEBUGLOOP_DATABASE_URL": db.url, "COLUMNS": "200"}
    listed = run_cli("attempts", "list", "--status", "error", env=env)
    assert str(first) in listed.stdout and str(second) not in listed.stdout
    chain = run_cli("attempts", "chain", str(dl.attempts.get(first).correlation_id), env=env)
    assert chain.returncode == 0 and "$5" in chain.stdout and "AssertionError" in chain.stdout
    shown = run_cli("attempts", "show", str(second), env=env)
    assert "cost_usd" in shown.stdout and "2.5" in shown.stdout
    report = run_cli("report", "costs", "--by", "agent", env=env)
    assert report.returncode == 0 and "fixer" in report.stdout and "$5" in report.stdout
    bad = run_cli("attempts", "show", "not-a-uuid", env=env)
    assert bad.returncode == 1 and "attempt_id must be a UUID" in bad.stderr
