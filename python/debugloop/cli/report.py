"""``debugloop report``: cost, quality and the success metrics, for operators."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Annotated

import typer

from ..client import Client
from .common import AS_JSON, client, group
from .render import Col, TableSpec, count, dumps, err, print_table, rate, say, score, table_spec, usd

app = group("Reports for operators: costs, quality, metrics.")

DIMENSIONS = {"agent": "agent_name", "category": "problem_category", "model": "model_used"}


def _by(by: str) -> TableSpec:
    return table_spec(
        f"report costs by {by}",
        Col(by, lambda g: getattr(g, DIMENSIONS[by]) or "-", "key" if by == "model" else "text"),
        Col("attempts", lambda g: count(g.attempts), "num"),
        Col("success", lambda g: count(g.successes), "num", drop=3),
        Col("failed", lambda g: count(g.failures), "num", drop=4),
        Col("unpriced", lambda g: count(g.unpriced_attempts), "num", drop=5),
        Col("tokens in", lambda g: count(g.tokens_input), "num", drop=2),
        Col("tokens out", lambda g: count(g.tokens_output), "num", drop=1),
        Col("total", lambda g: usd(g.total_cost_usd), "num"),
        Col("average", lambda g: usd(g.avg_cost_usd), "num", drop=6),
    )


BY = {by: _by(by) for by in DIMENSIONS}
COSTLIEST = table_spec(
    "report costs costliest",
    Col("#", lambda c: c.cost_rank, "num", drop=3),
    Col("attempt", lambda c: c.attempt_id, "id"),
    Col("agent", lambda c: c.agent_name, drop=4),
    Col("model", lambda c: c.model_used or "-", "key", drop=1),
    Col("status", lambda c: c.status, "key", drop=2),
    Col("cost", lambda c: usd(c.cost_usd), "num"),
    Col("request", lambda c: c.user_request),
)
SOLVED = table_spec(
    "report costs solved",
    Col("task", lambda t: t.correlation_id, "id"),
    Col("attempts", lambda t: count(t.attempts), "num"),
    Col("failed first", lambda t: count(t.failed_attempts), "num", drop=2),
    Col("chain cost", lambda t: usd(t.chain_cost_usd) + ("" if t.fully_priced else " (partly unpriced)"), "num"),
    Col("final model", lambda t: t.final_model or "-", "key", drop=1),
)


def print_costs(dl: Client, by: str, top: int, as_json: bool = False) -> None:
    groups = dl.analytics.cost_breakdown(by)
    costliest = dl.analytics.costliest_attempts(top)
    solved = dl.analytics.cost_per_success(top)
    if as_json:
        print(dumps({"by": by, "groups": groups, "costliest_attempts": costliest, "cost_per_success": solved}))
        return
    if not groups:
        say("no attempts recorded yet")
        return
    print_table(BY[by], groups, f"cost by {by}")
    print_table(COSTLIEST, costliest, f"costliest {top} attempts")
    if solved:
        print_table(SOLVED, solved, "cost per successful outcome (whole retry chain)")


PERIOD = table_spec(
    "report costs by period",
    Col("period", lambda r: r.period_key, "key"),
    Col("models", lambda r: ", ".join(r.models) if r.model is None else r.model, "key", drop=1),
    Col("input", lambda r: count(r.input_tokens), "num", drop=4),
    Col("output", lambda r: count(r.output_tokens), "num", drop=5),
    Col("cache write", lambda r: count(r.cache_write_tokens), "num", drop=3),
    Col("cache read", lambda r: count(r.cache_read_tokens), "num", drop=2),
    Col("total tokens", lambda r: count(r.total_tokens), "num", drop=6),
    Col("cost", lambda r: usd(r.cost_usd) + (" (growing)" if r.running else ""), "num"),
)
SESSIONS = table_spec(
    "report costs by session",
    Col("session", lambda r: r.period_key, "id"),
    Col("models", lambda r: ", ".join(r.models) if r.model is None else r.model, "key", drop=1),
    Col("title", lambda r: r.title or "", drop=3),
    Col("input", lambda r: count(r.input_tokens), "num", drop=5),
    Col("output", lambda r: count(r.output_tokens), "num", drop=6),
    Col("cache write", lambda r: count(r.cache_write_tokens), "num", drop=4),
    Col("cache read", lambda r: count(r.cache_read_tokens), "num", drop=2),
    Col("last activity", lambda r: f"{r.last_at:%Y-%m-%d}", "time", drop=7),
    Col("cost", lambda r: usd(r.cost_usd) + (" (growing)" if r.running else ""), "num"),
)
TOKEN_KINDS = ("attempts", "running", "input_tokens", "output_tokens", "cache_write_tokens", "cache_read_tokens")
PERIOD_NOUNS = {"daily": "day", "weekly": "week", "monthly": "month", "session": "session"}


def print_costs_by_period(
    dl: Client,
    period: str,
    since: date | None,
    until: date | None,
    timezone: str,
    breakdown: bool,
    as_json: bool = False,
) -> None:
    rows = dl.analytics.costs_by_period(period, since=since, until=until, timezone=timezone, breakdown=breakdown)
    totals = {kind: sum(getattr(r, kind) for r in rows) for kind in (*TOKEN_KINDS, "total_tokens")}
    totals["cost_usd"] = sum((r.cost_usd for r in rows), Decimal(0))
    if as_json:
        print(dumps({"period": period, "timezone": timezone, "breakdown": breakdown, "rows": rows, "totals": totals}))
        return
    if not rows:
        say("no usage recorded in that time")
        return
    spec = SESSIONS if period == "session" else PERIOD
    print_table(spec, rows, f"cost by {PERIOD_NOUNS[period]}")
    grown = " (attempts still running: it may grow)" if totals["running"] else ""
    say(
        f"total {usd(totals['cost_usd'])}{grown}: {count(totals['input_tokens'])} input, "
        f"{count(totals['output_tokens'])} output, {count(totals['cache_write_tokens'])} cache write, "
        f"{count(totals['cache_read_tokens'])} cache read tokens"
    )


@app.command("costs")
def costs(
    by: Annotated[str, typer.Option(help="Group by agent, category or model.")] = "model",
    top: Annotated[int, typer.Option(min=1, help="How many of the costliest attempts and solved tasks.")] = 10,
    daily: Annotated[bool, typer.Option("--daily", help="Tokens and cost per day (as ccusage daily).")] = False,
    weekly: Annotated[bool, typer.Option("--weekly", help="Per ISO week, from Monday (as ccusage weekly).")] = False,
    monthly: Annotated[bool, typer.Option("--monthly", help="Per month (as ccusage monthly).")] = False,
    session: Annotated[bool, typer.Option("--session", help="Per session: task (as ccusage session).")] = False,
    since: Annotated[
        datetime | None, typer.Option(formats=["%Y-%m-%d", "%Y%m%d"], help="From this date (inclusive).")
    ] = None,
    until: Annotated[
        datetime | None, typer.Option(formats=["%Y-%m-%d", "%Y%m%d"], help="Until this date (inclusive).")
    ] = None,
    breakdown: Annotated[bool, typer.Option("--breakdown", help="One row per model in each period.")] = False,
    timezone: Annotated[str, typer.Option(help="The time zone of days, weeks and months (IANA).")] = "UTC",
    as_json: AS_JSON = False,
) -> None:
    """Cost by agent, category or model; the costliest attempts; the cost of each solved task.
    With --daily, --weekly, --monthly or --session: tokens by kind and cost per period, as ccusage reports."""
    periods = [name for name, on in zip(PERIOD_NOUNS, (daily, weekly, monthly, session), strict=True) if on]
    if len(periods) > 1:
        raise typer.BadParameter("give one of --daily, --weekly, --monthly, --session")
    with client() as dl:
        if periods:
            print_costs_by_period(
                dl,
                periods[0],
                since.date() if since else None,
                until.date() if until else None,
                timezone,
                breakdown,
                as_json,
            )
        else:
            print_costs(dl, by, top, as_json)


SUMMARY = table_spec(
    "report quality summary",
    Col("STFs", lambda q: count(q.stfs), "num"),
    Col("mean quality", lambda q: score(q.avg_stf_quality), "num", drop=3),
    Col("approved/pending/rejected", lambda q: f"{q.stfs_approved}/{q.stfs_pending}/{q.stfs_rejected}", "num", drop=4),
    Col("STF approval", lambda q: rate(q.stf_approval_rate), "num"),
    Col("golden", lambda q: count(q.golden_states), "num"),
    Col(
        "approved/pending/rejected",
        lambda q: f"{q.golden_approved}/{q.golden_pending}/{q.golden_rejected}",
        "num",
        drop=5,
    ),
    Col("golden approval", lambda q: rate(q.golden_approval_rate), "num"),
    Col("mappings", lambda q: count(q.mappings), "num", drop=2),
    Col("top-10 confidence", lambda q: score(q.top10_mapping_confidence), "num", drop=1),
)
BY_LANGUAGE = table_spec(
    "report quality by language",
    Col("language", lambda r: r.stf_language, "key"),
    Col("category", lambda r: r.problem_category or "-"),
    Col("STFs", lambda r: count(r.stfs), "num"),
    Col("quality", lambda r: score(r.avg_quality), "num"),
    Col("evidence", lambda r: score(r.avg_evidence), "num", drop=1),
    Col("reuse", lambda r: score(r.avg_reuse), "num", drop=2),
    Col("generality", lambda r: score(r.avg_generality), "num", drop=3),
    Col("docs", lambda r: score(r.avg_documentation), "num", drop=4),
    Col("size", lambda r: score(r.avg_size), "num", drop=5),
    Col("approval", lambda r: rate(r.approval_rate), "num"),
)
MOST_USED = table_spec(
    "report quality most used",
    Col("id", lambda u: u.stf_id, "id"),
    Col("name", lambda u: u.stf_name),
    Col("uses", lambda u: count(u.uses), "num"),
    Col("success rate", lambda u: rate(u.success_rate), "num"),
    Col("tasks", lambda u: count(u.tasks), "num", drop=2),
    Col("agents", lambda u: count(u.agents), "num", drop=3),
    Col("producers", lambda u: count(u.producers), "num", drop=4),
    Col("cost of using attempts", lambda u: usd(u.cost_of_using_attempts_usd), "num", drop=1),
)


def print_quality(dl: Client, top: int, as_json: bool = False) -> None:
    summary, by_language, most_used = dl.analytics.quality(), dl.analytics.stf_quality(), dl.analytics.stf_usage(top)
    if as_json:
        print(dumps({"summary": summary, "stf_quality": by_language, "most_used_stfs": most_used}))
        return
    print_table(SUMMARY, [summary], "quality")
    if by_language:
        print_table(BY_LANGUAGE, by_language, "STF quality by language and category")
    if most_used:
        print_table(MOST_USED, most_used, "most used STFs (as of the last `report quality --refresh`)")


@app.command("quality")
def quality(
    refresh: Annotated[
        bool, typer.Option("--refresh", help="Refresh the STF usage statistics first (needs debugloop_admin).")
    ] = False,
    top: Annotated[int, typer.Option(min=1, help="How many of the most used STFs.")] = 10,
    as_json: AS_JSON = False,
) -> None:
    """STF quality and approvals, golden-state approvals, the best error fixes, the most used STFs."""
    with client() as dl:
        if refresh:
            for r in dl.analytics.refresh():
                err.print(f"refreshed {r.view_name}: {r.row_count:,} rows in {r.duration_ms} ms")
        print_quality(dl, top, as_json)


METRICS = table_spec(
    "report metrics",
    Col("metric", lambda m: m.metric, "key"),
    Col("value", lambda m: "-" if m.value is None else f"{m.value.normalize():f}", "num"),
    Col("target", lambda m: f"{m.comparison} {m.target.normalize():f}", "num"),
    Col("met", lambda m: "-" if m.met is None else ("yes" if m.met else "no"), "key"),
    Col("unit", lambda m: m.unit, drop=1),
)


def print_metrics(dl: Client, days: float, as_json: bool = False) -> None:
    rows = dl.analytics.metrics(datetime.now(UTC) - timedelta(days=days))
    if as_json:
        print(dumps(rows))
    else:
        print_table(METRICS, rows, f"success metrics, last {days:g} day(s)")


@app.command("metrics")
def metrics(
    days: Annotated[
        float, typer.Option(min=0.001, max=36500, help="The window: the last this many days (up to 100 years).")
    ] = 7,
    as_json: AS_JSON = False,
) -> None:
    """The success metrics of the debug intelligence over a window, against their targets."""
    with client() as dl:
        print_metrics(dl, days, as_json)
