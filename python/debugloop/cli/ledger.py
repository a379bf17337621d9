"""``debugloop ledger`` and ``debugloop balance``: the token ledger (1 token = $0.001).

A transfer or hold that its payer cannot pay is refused: the command says so and
exits with 1; the refusal is recorded, so the same --id stays refused."""

from __future__ import annotations

import uuid
from decimal import Decimal, InvalidOperation
from typing import Annotated

import typer

from ..errors import ConfigurationError
from .common import AS_CSV, AS_JSON, LIMIT, client, group
from .render import Col, count, emit, emit_document, err, print_table, say, table_spec, usd, when

app = group("The token ledger: history, transfer, grant, adjust, hold, settle, release, holds, expire, show, check.")

PEER = Annotated[str, typer.Argument(help="A peer id.")]
AMOUNT = Annotated[str, typer.Argument(help="Whole tokens (1 token = $0.001).")]
ID = Annotated[
    uuid.UUID | None,
    typer.Option("--id", help="The transfer's id (default: a new one); a retry with the same id counts once."),
]
MEMO = Annotated[str | None, typer.Option(help="Why, kept on the transfer.")]


def _amount(text: str) -> Decimal:
    """The amount as given; the ledger refuses one that is not a positive whole number of tokens."""
    try:
        return Decimal(text)
    except InvalidOperation:
        raise ConfigurationError(f"AMOUNT: {text!r} is not a number of tokens") from None


def _tokens(n: int) -> str:
    return f"{count(n)} ({usd(Decimal(n) / 1000)})"


def _outcome(result, as_json: bool, text: str) -> None:
    """A posted or refused transfer or hold: the row as JSON or one line; a refusal exits with 1."""
    emit_document(result.model_dump(), as_json, lambda: say(text) if not result.refused else None)
    if result.refused:
        err.print(f"debugloop: refused: {result.refusal}", markup=False, highlight=False)
        raise typer.Exit(1)


def _posted(t) -> str:
    return f"{t.transaction_type} {t.transfer_id}: {count(t.amount)} tokens from {t.from_peer_id} to {t.to_peer_id}"


def balance(peer: PEER, as_json: AS_JSON = False) -> None:
    """A peer's tokens: balance (held ones included), held, available, lifetime earned and spent."""
    with client() as dl:
        b = dl.ledger.balance(peer)

    def text() -> None:
        say(f"{b.peer_id}: balance {_tokens(b.balance)}, held {count(b.held)}, available {_tokens(b.available)}")
        say(f"lifetime earned {count(b.lifetime_earned)}, spent {count(b.lifetime_spent)}; version {b.version}")
        if b.last_transfer_id:
            say(f"last transfer {b.last_transfer_id} at {when(b.last_transfer_at)}")

    emit_document(b.model_dump(), as_json, text)


HISTORY = table_spec(
    "ledger history",
    Col("version", lambda e: count(e.account_version), "num"),
    Col("when", lambda e: when(e.posted_at), "time", drop=3),
    Col("type", lambda e: e.transaction_type, "key"),
    Col("reason", lambda e: e.reason, "key", drop=2),
    Col("amount", lambda e: f"{e.amount:+,}", "num"),
    Col("available", lambda e: count(e.balance_after), "num"),
    Col("held", lambda e: count(e.held_after), "num", drop=4),
    Col("counterparty", lambda e: e.counterparty_peer_id or "-", "key", drop=1),
    Col("transfer", lambda e: e.transfer_id, "id", drop=5),
)


@app.command("history")
def history(
    peer: PEER,
    before: Annotated[int | None, typer.Option(min=1, help="Entries before this version (the next page).")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="How many at most.")] = 50,
    as_json: AS_JSON = False,
    as_csv: AS_CSV = False,
) -> None:
    """A peer's entries, newest first; the next page with --before the smallest version shown."""
    with client() as dl:
        rows = dl.ledger.history(peer, before=before, limit=limit)
    emit(
        HISTORY,
        rows,
        as_json=as_json,
        as_csv=as_csv,
        empty=f"{peer} has no entries" + (" before that" if before else ""),
    )
    if len(rows) == limit and not (as_json or as_csv):
        say(f"more: --before {rows[-1].account_version}")


@app.command("transfer")
def transfer(
    from_peer: Annotated[str, typer.Argument(help="The payer: a peer, or sys_issuance for earned and bonus.")],
    to_peer: Annotated[str, typer.Argument(help="The payee: a peer, or sys_compute for spent.")],
    amount: AMOUNT,
    transaction_type: Annotated[
        str, typer.Option("--type", help="transferred, spent, earned, bonus or adjustment.")
    ] = "transferred",
    reason: Annotated[str | None, typer.Option(help="Why, as the ledger names it (default: the type's).")] = None,
    memo: MEMO = None,
    transfer_id: ID = None,
    as_json: AS_JSON = False,
) -> None:
    """Move tokens from one account to another (an agent's role: out of its own peer only)."""
    with client() as dl:
        t = dl.ledger.transfer(
            transfer_id or uuid.uuid4(),
            from_peer,
            to_peer,
            _amount(amount),
            transaction_type=transaction_type,
            reason=reason,
            memo=memo,
        )
    _outcome(t, as_json, _posted(t))


@app.command("grant")
def grant(
    peer: PEER,
    amount: AMOUNT,
    memo: MEMO = None,
    reason: Annotated[str, typer.Option(help="admin_grant, or a contribution's reason.")] = "admin_grant",
    transfer_id: ID = None,
    as_json: AS_JSON = False,
) -> None:
    """Grant a peer bonus tokens minted from issuance (admin)."""
    with client() as dl:
        t = dl.ledger.grant(transfer_id or uuid.uuid4(), peer, _amount(amount), memo=memo, reason=reason)
    _outcome(t, as_json, _posted(t))


@app.command("adjust", context_settings={"ignore_unknown_options": True})
def adjust(
    peer: PEER,
    amount: Annotated[str, typer.Argument(help="Signed whole tokens: +25 credits, -25 debits.")],
    memo: Annotated[str, typer.Option(help="Why the balance is corrected (required).")],
    transfer_id: ID = None,
    as_json: AS_JSON = False,
) -> None:
    """Correct a peer's balance against issuance, with why (admin; the transfer is the audit)."""
    with client() as dl:
        t = dl.ledger.adjust(transfer_id or uuid.uuid4(), peer, _amount(amount), memo)
    _outcome(t, as_json, _posted(t))


def _hold_line(h) -> str:
    line = f"hold {h.hold_id} of {h.peer_id}: {count(h.amount)} tokens, {h.status}"
    if h.status == "active":
        line += f" until {when(h.expires_at)}"
    elif h.status == "settled":
        line += f" for {count(h.settled_amount)}"
    return line


@app.command("hold")
def hold(
    peer: PEER,
    amount: AMOUNT,
    ttl: Annotated[
        float | None, typer.Option(min=0.001, help="Seconds until it expires (default: ledger_hold_ttl_seconds).")
    ] = None,
    reason: Annotated[str, typer.Option(help="llm_query or context_retrieved.")] = "llm_query",
    hold_id: Annotated[uuid.UUID | None, typer.Option("--id", help="The hold's id (default: a new one).")] = None,
    as_json: AS_JSON = False,
) -> None:
    """Set tokens of a peer aside for a call, until it is settled, released or expires."""
    with client() as dl:
        h = dl.ledger.hold(hold_id or uuid.uuid4(), peer, _amount(amount), expires_in=ttl, reason=reason)
    _outcome(h, as_json, _hold_line(h))


HOLD_ID = Annotated[str, typer.Argument(help="A hold id, or its first 8+ hex digits as `ledger holds` prints them.")]


@app.command("settle")
def settle(hold_id: HOLD_ID, amount: AMOUNT, as_json: AS_JSON = False) -> None:
    """The call cost AMOUNT tokens (at most the hold): spent, and the rest given back."""
    with client() as dl:
        h = dl.ledger.settle(dl.ledger.get_hold(hold_id).hold_id, _amount(amount))
    emit_document(h.model_dump(), as_json, lambda: say(_hold_line(h)))


@app.command("release")
def release(hold_id: HOLD_ID, as_json: AS_JSON = False) -> None:
    """Give all of a hold's tokens back."""
    with client() as dl:
        h = dl.ledger.release(dl.ledger.get_hold(hold_id).hold_id)
    emit_document(h.model_dump(), as_json, lambda: say(_hold_line(h)))


HOLDS = table_spec(
    "ledger holds",
    Col("hold", lambda h: h.hold_id, "id"),
    Col("peer", lambda h: h.peer_id, "key"),
    Col("amount", lambda h: count(h.amount), "num"),
    Col("status", lambda h: h.status, "key"),
    Col("settled", lambda h: count(h.settled_amount), "num", drop=2),
    Col("expires", lambda h: when(h.expires_at), "time", drop=1),
    Col("reason", lambda h: h.reason, "key", drop=3),
)


@app.command("holds")
def holds(
    peer: Annotated[str | None, typer.Option(help="Only this peer's.")] = None,
    status: Annotated[str | None, typer.Option(help="active, settled, released, expired or refused.")] = None,
    limit: LIMIT = 50,
    as_json: AS_JSON = False,
    as_csv: AS_CSV = False,
) -> None:
    """Holds, newest first."""
    with client() as dl:
        rows = dl.ledger.holds(peer=peer, status=status, limit=limit)
    emit(HOLDS, rows, as_json=as_json, as_csv=as_csv, empty="no hold matches")


@app.command("expire")
def expire(
    limit: Annotated[int, typer.Option(min=1, help="About how many holds at most.")] = 1000,
    as_json: AS_JSON = False,
    as_csv: AS_CSV = False,
) -> None:
    """Release the holds past their expiry (admin; run it from cron, as the peers' next transfers would)."""
    with client() as dl:
        rows = dl.ledger.expire_holds(limit=limit)
    emit(HOLDS, rows, as_json=as_json, as_csv=as_csv, empty="no hold had expired")


@app.command("show")
def show(
    transfer_id: Annotated[str, typer.Argument(help="A transfer id, or its first 8+ hex digits.")],
    as_json: AS_JSON = False,
) -> None:
    """One transfer, posted or refused."""
    with client() as dl:
        t = dl.ledger.get(transfer_id)

    def text() -> None:
        say(_posted(t) + f" ({t.status}, {t.reason}, by {t.created_by} at {when(t.posted_at)})")
        if t.refused:
            say(f"refused: {t.refusal}")
        for label, value in (("memo", t.memo), ("hold", t.hold_id), ("metadata", t.metadata)):
            if value:
                say(f"{label}: {value}")

    emit_document(t.model_dump(), as_json, text)


CHECKS = table_spec(
    "ledger check",
    Col("invariant", lambda i: i.invariant),
    Col("holds", lambda i: "yes" if i.holds else "NO", "key"),
    Col("detail", lambda i: i.detail or "", drop=1),
)


@app.command("check")
def check(as_json: AS_JSON = False, as_csv: AS_CSV = False) -> None:
    """The ledger's invariants (sums, entries, versions, holds); exits with 1 when one breaks."""
    with client() as dl:
        rows = dl.ledger.check()
    if as_json or as_csv:
        emit(CHECKS, rows, as_json=as_json, as_csv=as_csv, empty="")
    else:
        print_table(CHECKS, rows, "ledger invariants")
    if not all(i.holds for i in rows):
        raise typer.Exit(1)
