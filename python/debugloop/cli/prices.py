"""``debugloop prices``: the model price catalog and exact cost."""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Annotated

import typer

from ..errors import ConfigurationError, InvalidParameter
from .common import AS_CSV, AS_JSON, client, group
from .render import Col, dumps, emit, emit_document, err, print_table, say, table_spec, usd

app = group("The model price catalog: list, show, set, import (LiteLLM format), reprice, cost.")


def _price(value: Decimal | None) -> str:
    return "-" if value is None else f"{value.normalize():f}"


PRICES = table_spec(
    "prices",
    Col("provider", lambda p: p.provider, "key", drop=2),
    Col("model", lambda p: p.model_name, "key"),
    Col("input", lambda p: _price(p.input_price_per_million), "num"),
    Col("output", lambda p: _price(p.output_price_per_million), "num"),
    Col("cache read", lambda p: _price(p.cache_read_price_per_million), "num", drop=4),
    Col("cache write", lambda p: _price(p.cache_write_price_per_million), "num", drop=5),
    Col("long ctx", lambda p: f">{p.long_context_threshold:,}" if p.long_context_threshold else "", "num", drop=6),
    Col("origin", lambda p: p.origin, "key", drop=3),
    Col("effective", lambda p: f"{p.effective_from:%Y-%m-%d}", "time", drop=1),
)
UNIT = "prices in USD per million tokens"


@app.command("list")
def list_prices(
    provider: Annotated[str | None, typer.Option(help="Only this provider (anthropic, openai, google, ...).")] = None,
    search: Annotated[str | None, typer.Option(help="Only models whose name contains this.")] = None,
    as_json: AS_JSON = False,
    as_csv: AS_CSV = False,
) -> None:
    """The price in force now for each model (USD per million tokens)."""
    with client() as dl:
        rows = dl.prices.list(provider=provider, search=search)
    emit(PRICES, rows, as_json=as_json, as_csv=as_csv, title="prices in force", empty="no price matches")
    if rows and not (as_json or as_csv):
        say(UNIT)


@app.command("show")
def show(
    model: str,
    provider: Annotated[str | None, typer.Option(help="The provider whose price to show (default: the rule).")] = None,
    as_json: AS_JSON = False,
) -> None:
    """Which price applies to a model name now (README: "Which price a model name gets"), and its versions."""
    with client() as dl:
        current = dl.prices.lookup(model, provider=provider)
        versions = dl.prices.versions(current.provider, current.model_name)

    def table() -> None:
        say(f"{model} is priced as {current.provider}/{current.model_name} ({current.origin}, {current.source})")
        if current.deprecated_at or current.successor_model:
            retired = f"deprecated from {current.deprecated_at:%Y-%m-%d}" if current.deprecated_at else "to be replaced"
            say(retired + (f"; its successor is {current.successor_model}" if current.successor_model else ""))
        tiers = ", ".join(sorted(current.service_tiers or {}))
        extras = [f"service tiers: {tiers}"] if tiers else []
        if current.off_peak:
            extras.append("off-peak prices in given UTC hours")
        if current.uplifts:
            extras.append(f"uplifts kept, not applied unless set: {', '.join(sorted(current.uplifts))}")
        if extras:
            say("; ".join(extras))
        print_table(PRICES, versions, "versions, newest first")
        say(UNIT)

    emit_document({"model": model, "price": current, "versions": versions}, as_json, table)


@app.command("set")
def set_price(
    provider: str,
    model: str,
    input: Annotated[Decimal, typer.Option("--input", help="USD per million input tokens.")],
    output: Annotated[Decimal, typer.Option("--output", help="USD per million output tokens.")],
    cache_read: Annotated[Decimal | None, typer.Option(help="USD per million cache-read tokens.")] = None,
    cache_write: Annotated[Decimal | None, typer.Option(help="USD per million 5-minute cache-write tokens.")] = None,
    cache_write_1h: Annotated[Decimal | None, typer.Option(help="USD per million 1-hour cache-write tokens.")] = None,
    reasoning: Annotated[
        Decimal | None, typer.Option(help="USD per million reasoning tokens, if not the output price.")
    ] = None,
    alias: Annotated[list[str] | None, typer.Option(help="Another name of the model (repeatable).")] = None,
    pattern: Annotated[str | None, typer.Option(help="A regular expression of model names this price covers.")] = None,
    effective_from: Annotated[
        datetime | None, typer.Option(help="When the price starts to apply (default now).")
    ] = None,
    as_json: AS_JSON = False,
) -> None:
    """Add a custom price version (needs the debugloop_admin role); it beats imported prices."""
    with client() as dl:
        p = dl.prices.set(
            provider,
            model,
            input,
            output,
            cache_read_price_per_million=cache_read,
            cache_write_price_per_million=cache_write,
            cache_write_1h_price_per_million=cache_write_1h,
            reasoning_price_per_million=reasoning,
            aliases=alias,
            name_pattern=pattern,
            effective_from=effective_from,
        )
    emit_document(p.model_dump(), as_json, lambda: print_table(PRICES, [p], "added"))


@app.command("import")
def import_prices(
    file: Annotated[Path, typer.Argument(help="A LiteLLM model_prices_and_context_window.json file.")],
    source: Annotated[str | None, typer.Option(help="Where the prices come from (default: the file name).")] = None,
    provider: Annotated[list[str] | None, typer.Option(help="Import only this provider (repeatable).")] = None,
    effective_from: Annotated[datetime | None, typer.Option(help="When the new prices apply (default now).")] = None,
    as_json: AS_JSON = False,
) -> None:
    """Import prices in LiteLLM's format; only changed prices become new versions (needs debugloop_admin)."""
    try:
        doc = json.loads(file.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigurationError(f"{file}: cannot read: {exc.strerror}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidParameter(f"{file}: not JSON: {exc}", field="file") from None
    if not isinstance(doc, dict):
        raise InvalidParameter(f"{file}: expected a JSON object keyed by model name (LiteLLM format)", field="file")
    with client() as dl, err.status(f"importing {len(doc):,} entries from {file.name} ..."):
        rows = dl.prices.import_litellm(doc, source or file.name, effective_from=effective_from, providers=provider)
    if as_json:
        print(dumps(rows))
        return
    counts = Counter(r.action for r in rows)
    say(f"{counts['added']} added, {counts['unchanged']} unchanged, {counts['skipped']} skipped")
    for r in rows:
        if r.action == "added":
            say(f"  added {r.provider}/{r.model_name} ({r.detail})")


REPRICED = table_spec(
    "prices reprice",
    Col("attempt", lambda r: r.attempt_id, "id"),
    Col("model", lambda r: r.model_used, "key"),
    Col("old", lambda r: usd(r.old_cost_usd), "num"),
    Col("new", lambda r: usd(r.new_cost_usd), "num"),
    Col("status", lambda r: r.cost_status, "key"),
)


@app.command("reprice")
def reprice(
    since: Annotated[datetime, typer.Option(help="Attempts started at or after this time.")],
    all_: Annotated[bool, typer.Option("--all", help="Also price again attempts that already have a price.")] = False,
    as_json: AS_JSON = False,
    as_csv: AS_CSV = False,
) -> None:
    """Price attempts again at the versions in force at their start (needs debugloop_admin)."""
    with client() as dl:
        rows = dl.prices.reprice(since, include_priced=all_)
    emit(
        REPRICED,
        rows,
        as_json=as_json,
        as_csv=as_csv,
        title=f"{len(rows)} attempt(s) changed",
        empty="no attempt's cost changed",
    )


@app.command("cost")
def cost(
    model: str,
    usage: Annotated[str, typer.Argument(help="A usage object as JSON (OpenAI, Anthropic, Gemini or canonical).")],
    provider: Annotated[str | None, typer.Option(help="The provider whose price applies (default: the rule).")] = None,
    at: Annotated[
        datetime | None, typer.Option(help="When the request ran (default now): prices and off-peak hours.")
    ] = None,
    as_json: AS_JSON = False,
) -> None:
    """The exact cost in USD of one usage object for a model at today's prices (or at --at)."""
    try:
        value = json.loads(usage)
    except json.JSONDecodeError as exc:
        raise InvalidParameter(f"usage is not JSON: {exc}", field="usage") from None
    with client() as dl:
        amount = dl.prices.cost(model, value, at, provider=provider)
    if as_json:
        print(dumps({"model": model, "cost_usd": amount}))
    else:
        print(f"{amount:f}")
