"""``debugloop rewards``: what contributions earned (list), what one earns and why
(preview), and the admin backfill of imported history. The formulas are SQL."""

from __future__ import annotations

from typing import Annotated

import typer

from .common import AS_CSV, AS_JSON, LIMIT, client, group
from .render import Col, count, emit, emit_document, say, table_spec, when

app = group("Token rewards of STFs, golden states and fixes: list, preview, backfill.")

KIND = Annotated[str, typer.Argument(help="stf, golden or pattern (a fix).")]

REWARDS = table_spec(
    "rewards list",
    Col("when", lambda r: when(r.paid_at), "time", drop=3),
    Col("kind", lambda r: r.kind, "key"),
    Col("peer", lambda r: r.peer_id, "key"),
    Col("tokens", lambda r: count(r.amount), "num"),
    Col("status", lambda r: r.status or "-", "key", drop=2),
    Col("object", lambda r: str(r.object_id)[:8], "id", drop=1),
    Col("source", lambda r: r.source, "key", drop=4),
)


@app.command("list")
def list_rewards(
    peer: Annotated[str | None, typer.Option(help="One peer's rewards.")] = None,
    kind: Annotated[str | None, typer.Option(help="stf, royalty, golden, golden_reuse, pattern or reversal.")] = None,
    limit: LIMIT = 50,
    as_json: AS_JSON = False,
    as_csv: AS_CSV = False,
) -> None:
    """The rewards paid and reversed, newest first."""
    with client() as dl:
        rows = dl.rewards.list(peer=peer, kind=kind, limit=limit)
    emit(REWARDS, rows, as_json=as_json, as_csv=as_csv, empty="no reward paid")


@app.command("preview")
def preview(
    kind: KIND,
    object_id: Annotated[str, typer.Argument(help="The STF's, golden state's or fix's (mapping's) id.")],
    as_json: AS_JSON = False,
) -> None:
    """Each factor of a reward, paid or not, and why it is not payable now."""
    with client() as dl:
        q = dl.rewards.preview(kind, object_id)

    def text() -> None:
        say(f"{q.kind} {q.object_id} for {q.peer_id or '(no peer)'}: {q.status}, paid {count(q.paid)}")
        say(
            f"quality {q.quality}, novelty {q.novelty}, complexity {q.complexity}: base {q.base}"
            f" x quality {q.quality_multiplier} x novelty {q.novelty_multiplier}"
            f" x complexity {q.complexity_multiplier} x type {q.type_multiplier}, cap {q.cap}"
        )
        say(f"payable now: {count(q.amount)}" + (f" ({q.why_not})" if q.why_not else ""))
        if q.reversed:
            say(f"reversed: {count(q.reversed)}")
        if q.reuse_paid:
            say(f"royalties / reuse bonuses so far: {count(q.reuse_paid)}")

    emit_document(q.model_dump(), as_json, text)


BACKFILL = table_spec(
    "rewards backfill",
    Col("kind", lambda r: r.reward_kind, "key"),
    Col("rewards", lambda r: count(r.rewards), "num"),
    Col("tokens", lambda r: count(r.tokens), "num"),
)


@app.command("backfill")
def backfill(
    kind: Annotated[str | None, typer.Option(help="stf, golden or pattern only.")] = None,
    limit: Annotated[int, typer.Option(min=1, help="At most this many objects of each kind.")] = 100_000,
    as_json: AS_JSON = False,
    as_csv: AS_CSV = False,
) -> None:
    """Pay what imported or earlier history earned and was not paid (admin); running it again pays nothing."""
    with client() as dl:
        rows = dl.rewards.backfill(kind=kind, limit=limit)
    emit(BACKFILL, rows, as_json=as_json, as_csv=as_csv, empty="nothing to pay")
