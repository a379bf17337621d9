"""``debugloop attempts``: recorded agent attempts."""

from __future__ import annotations

from typing import Annotated

import typer

from ..errors import NotFound
from .common import AS_CSV, AS_JSON, LIMIT, client, group
from .render import Col, dumps, emit, emit_document, print_table, table_spec, usd, when

app = group("Recorded agent attempts: list, show one, show a task's retry chain.")


def cost_text(cost_usd, cost_status: str | None) -> str:
    """The cost when priced, else why not (unpriced, untracked), or - while running."""
    return usd(cost_usd) if cost_status == "priced" else (cost_status or "-")


ATTEMPTS = table_spec(
    "attempts list",
    Col("started", lambda a: when(a.started_at), "time", drop=2),
    Col("attempt", lambda a: a.attempt_id, "id"),
    Col("agent", lambda a: a.agent_name),
    Col("model", lambda a: a.model_used, "key", drop=1),
    Col("status", lambda a: a.status, "key"),
    Col(
        "tokens in/out",
        lambda a: None if a.tokens_input is None else f"{a.tokens_input:,}/{a.tokens_output:,}",
        "num",
        drop=3,
    ),
    Col("cost", lambda a: cost_text(a.cost_usd, a.cost_status), "num"),
)


@app.command("list")
def list_attempts(
    status: Annotated[str | None, typer.Option(help="success, error, timeout, cancelled or running.")] = None,
    agent: Annotated[str | None, typer.Option(help="Only this agent.")] = None,
    model: Annotated[str | None, typer.Option(help="Only this model.")] = None,
    correlation: Annotated[
        str | None, typer.Option(help="Only this task (a correlation id or its first 8+ hex digits).")
    ] = None,
    limit: LIMIT = 20,
    as_json: AS_JSON = False,
    as_csv: AS_CSV = False,
) -> None:
    """The newest attempts first, with status, tokens and cost."""
    with client() as dl:
        rows = dl.attempts.list(status=status, agent_name=agent, model=model, correlation_id=correlation, limit=limit)
    emit(ATTEMPTS, rows, as_json=as_json, as_csv=as_csv, empty="no attempts match")


FIELDS = table_spec("attempts show", Col("field", lambda f: f[0], "key"), Col("value", lambda f: f[1]))


@app.command("show")
def show(
    attempt_id: Annotated[
        str, typer.Argument(help="An attempt id, or its first 8+ hex digits as `attempts list` prints them.")
    ],
    as_json: AS_JSON = False,
) -> None:
    """Every field of one attempt."""
    with client() as dl:
        attempt = dl.attempts.get(attempt_id)
    fields = [
        (k, "-" if v is None else (dumps(v, indent=None) if isinstance(v, (dict, list)) else str(v)))
        for k, v in attempt.model_dump().items()
    ]
    emit_document(attempt.model_dump(), as_json, lambda: print_table(FIELDS, fields))


CHAIN = table_spec(
    "attempts chain",
    Col("depth", lambda r: r.depth, "num", drop=2),
    Col("attempt", lambda r: r.attempt_id, "id"),
    Col("agent", lambda r: r.agent_name, drop=3),
    Col("model", lambda r: r.model_used, "key", drop=1),
    Col("status", lambda r: r.status, "key"),
    Col("error", lambda r: r.error_type or "", "key", drop=4),
    Col("cost", lambda r: cost_text(r.cost_usd, r.cost_status), "num"),
    Col("cumulative", lambda r: usd(r.cumulative_cost_usd), "num"),
)


@app.command("chain")
def chain(
    correlation_id: Annotated[str, typer.Argument(help="A task's correlation id, or its first 8+ hex digits.")],
    as_json: AS_JSON = False,
    as_csv: AS_CSV = False,
) -> None:
    """The attempts of one task in order, with retry depth and cumulative cost."""
    with client() as dl:
        rows = dl.attempts.chain(correlation_id)
    if not rows:
        raise NotFound(f"no attempts with correlation id {correlation_id}")
    emit(CHAIN, rows, as_json=as_json, as_csv=as_csv, empty="")
