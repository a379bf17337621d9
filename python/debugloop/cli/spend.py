"""``debugloop spend``: what LLM calls cost in tokens, by peer, model and period
(the report, by default), the soft limits crossed (alerts), the budgets with their
current period's usage (budgets), and the admin's budget, team and rate limit
settings. The rules and the numbers are SQL (functions/77_budgets.sql)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Annotated

import typer

from .common import AS_CSV, AS_JSON, LIMIT, client
from .render import Col, count, emit, emit_document, say, table_spec, usd, when

app = typer.Typer(
    help="Spending of tokens on LLM calls: the report by peer, model and period (default), alerts, budgets.",
    invoke_without_command=True,
)


class Period(StrEnum):
    day = "day"
    week = "week"
    month = "month"


PEER = Annotated[str | None, typer.Option(help="One peer only.")]


def subject(team_id: str | None, peer_id: str | None) -> str | None:
    """Whose budget: ``team <id>`` for a team's, else the peer's id."""
    return f"team {team_id}" if team_id else peer_id


REPORT = table_spec(
    "spend",
    Col("period", lambda r: f"{r.period_start:%Y-%m-%d}", "time"),
    Col("peer", lambda r: r.peer_id, "key"),
    Col("model", lambda r: r.model or "-", "key", drop=2),
    Col("calls", lambda r: count(r.calls), "num"),
    Col("tokens", lambda r: count(r.posted_tokens), "num"),
    Col("usd", lambda r: usd(r.cost_usd), "num", drop=3),
    Col("held", lambda r: count(r.held_tokens), "num", drop=1),
)


@app.callback()
def report(
    ctx: typer.Context,
    period: Annotated[Period, typer.Option(help="Group by day, week (from Monday) or month, in UTC.")] = Period.day,
    peer: PEER = None,
    model: Annotated[str | None, typer.Option(help="One model only.")] = None,
    days: Annotated[int, typer.Option(min=1, max=3660, help="The reservations of the last this many days.")] = 30,
    as_json: AS_JSON = False,
    as_csv: AS_CSV = False,
) -> None:
    """What LLM calls cost, per period, peer and model: calls, whole tokens posted, USD,
    and the tokens still held for calls in flight. Subcommands: alerts, budgets."""
    if ctx.invoked_subcommand is not None:
        return
    since = datetime.now(UTC) - timedelta(days=days)
    with client() as dl:
        rows = dl.spending.report(period.value, peer=peer, model=model, since=since)
    emit(REPORT, rows, as_json=as_json, as_csv=as_csv, empty="no spending in that time")


ALERTS = table_spec(
    "spend alerts",
    Col("when", lambda a: when(a.created_at), "time", drop=2),
    Col("budget of", lambda a: subject(a.team_id, a.budget_peer_id), "key"),
    Col("period", lambda a: f"{a.period} {a.period_start:%Y-%m-%d}", "key", drop=3),
    Col("crossed by", lambda a: a.peer_id, "key", drop=1),
    Col("used", lambda a: count(a.used), "num"),
    Col("soft", lambda a: count(a.soft_limit), "num"),
    Col("hard", lambda a: count(a.hard_limit), "num", drop=4),
)


@app.command("alerts")
def alerts(peer: PEER = None, limit: LIMIT = 50, as_json: AS_JSON = False, as_csv: AS_CSV = False) -> None:
    """Budgets whose soft limit was crossed (once per budget and period), newest first."""
    with client() as dl:
        rows = dl.budgets.alerts(peer=peer, limit=limit)
    emit(ALERTS, rows, as_json=as_json, as_csv=as_csv, empty="no budget alert")


BUDGETS = table_spec(
    "spend budgets",
    Col("budget of", lambda b: subject(b.team_id, b.peer_id), "key"),
    Col("period", lambda b: b.period, "key"),
    Col("used", lambda b: count(b.used), "num"),
    Col("soft", lambda b: count(b.soft_limit), "num"),
    Col("hard", lambda b: count(b.hard_limit), "num"),
    Col("state", lambda b: b.state, "key"),
    Col("since", lambda b: f"{b.period_start:%Y-%m-%d}", "time", drop=1),
    Col("id", lambda b: b.budget_id, "id", drop=2),
)


@app.command("budgets")
def budgets(
    peer: Annotated[
        str | None, typer.Option(help="The budgets a peer's calls count against (its own, its teams').")
    ] = None,
    team: Annotated[str | None, typer.Option(help="One team's budgets.")] = None,
    retired: Annotated[bool, typer.Option("--retired", help="Retired budgets too.")] = False,
    as_json: AS_JSON = False,
    as_csv: AS_CSV = False,
) -> None:
    """Token budgets with their current period's usage and state (ok, soft, hard, retired)."""
    with client() as dl:
        rows = dl.budgets.status(peer) if peer and not team else dl.budgets.list(team=team, include_retired=retired)
    emit(BUDGETS, rows, as_json=as_json, as_csv=as_csv, empty="no budget")


@app.command("budget-set")
def budget_set(
    peer: PEER = None,
    team: Annotated[str | None, typer.Option(help="A team's budget instead of a peer's.")] = None,
    period: Annotated[Period, typer.Option(help="day, week or month (UTC).")] = Period.month,
    soft: Annotated[int | None, typer.Option(help="Soft limit in tokens: an alert when crossed.")] = None,
    hard: Annotated[int | None, typer.Option(help="Hard limit in tokens: reservations beyond it are refused.")] = None,
    as_json: AS_JSON = False,
) -> None:
    """Set a peer's or a team's budget for a period (admin); replaces its limits."""
    with client() as dl:
        b = dl.budgets.set(peer=peer, team=team, period=period.value, soft_limit=soft, hard_limit=hard)
    if as_json:
        emit(BUDGETS, [b], as_json=True, empty="")
    else:
        say(f"budget {b.budget_id}: {subject(b.team_id, b.peer_id)} per {b.period},"
            f" soft {count(b.soft_limit)}, hard {count(b.hard_limit)}")  # fmt: skip


@app.command("budget-retire")
def budget_retire(budget_id: Annotated[str, typer.Argument(help="The budget's id.")]) -> None:
    """End a budget (admin)."""
    with client() as dl:
        b = dl.budgets.retire(budget_id)
    say(f"budget {b.budget_id} retired at {when(b.retired_at)}")


@app.command("team-set")
def team_set(
    team: Annotated[str, typer.Argument(help="The team's id (^[a-z][a-z0-9_-]{2,62}$).")],
    members: Annotated[list[str], typer.Argument(help="Its peers: exactly these.")],
    description: Annotated[str | None, typer.Option(help="What the team is.")] = None,
) -> None:
    """Make a team of peers, or change its members (admin)."""
    with client() as dl:
        t = dl.budgets.team_set(team, members, description)
    say(f"team {t.team_id}: {len(members)} peers")


@app.command("rate-limit")
def rate_limit(
    peer: Annotated[str | None, typer.Option(help="A peer (default: every peer).")] = None,
    model: Annotated[str | None, typer.Option(help="A model (default: every model).")] = None,
    rpm: Annotated[int | None, typer.Option(help="Requests per minute (default: no limit).")] = None,
    tpm: Annotated[int | None, typer.Option(help="LLM tokens per minute (default: no limit).")] = None,
    remove: Annotated[bool, typer.Option("--remove", help="Remove the rule of that peer and model.")] = False,
) -> None:
    """Set (admin) the requests and tokens per minute a peer may use with a model,
    before the catalog's limits and the settings; or --remove the rule."""
    with client() as dl:
        if remove:
            say("removed" if dl.budgets.rate_limit_remove(peer, model) else "no such rule")
            return
        r = dl.budgets.rate_limit_set(peer, model, requests_per_minute=rpm, tokens_per_minute=tpm)
    say(f"{r.peer_id or 'every peer'} with {r.model or 'every model'}: {count(r.requests_per_minute)} requests,"
        f" {count(r.tokens_per_minute)} tokens per minute")  # fmt: skip


@app.command("limits")
def limits(
    peer: Annotated[str, typer.Argument(help="The peer.")],
    model: Annotated[str | None, typer.Argument(help="The model (default: a call without one).")] = None,
    as_json: AS_JSON = False,
) -> None:
    """The rate limits of a peer with a model (from a rule, the catalog or the settings)
    and what the current minute used."""
    with client() as dl:
        r = dl.budgets.rate_status(peer, model)

    def text() -> None:
        say(f"{r.peer_id} with {r.model_name or 'no model'}: {count(r.requests_per_minute)} requests and"
            f" {count(r.tokens_per_minute)} tokens per minute ({r.source})")  # fmt: skip
        say(f"this minute ({r.minute:%H:%M} UTC): {count(r.requests)} requests, {count(r.tokens)} tokens")

    emit_document(r.model_dump(), as_json, text)
