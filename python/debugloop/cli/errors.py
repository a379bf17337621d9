"""``debugloop errors``: error signatures and the fixes that worked."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ..errors import ConfigurationError
from .common import AS_CSV, AS_JSON, LIMIT, client, group
from .render import Col, clip, emit, emit_document, out, print_table, say, score, table_spec, when

app = group("Error signatures and the fixes that worked: top, show, fixes, known-failures.")

SIGNATURES = table_spec(
    "errors top",
    Col("signature", lambda s: s.signature[:12], "id"),
    Col("category", lambda s: s.category, "key", drop=2),
    Col("seen", lambda s: f"{s.occurrences:,}", "num"),
    Col("last seen", lambda s: when(s.last_seen_at), "time", drop=1),
    Col("type", lambda s: s.error_type or "-", drop=3),
    Col("normalised message", lambda s: clip(s.normalized_message, 160)),
)


@app.command("top")
def top(
    limit: LIMIT = 20,
    category: Annotated[str | None, typer.Option(help="Only this category (network, import, timeout, ...).")] = None,
    as_json: AS_JSON = False,
    as_csv: AS_CSV = False,
) -> None:
    """The most frequent error signatures."""
    with client() as dl:
        rows = dl.errors.top(limit, category)
    emit(SIGNATURES, rows, as_json=as_json, as_csv=as_csv, empty="no error recorded yet")


FIXES = table_spec(
    "errors fixes",
    Col("approach that worked", lambda f: f.successful_approach or "(no approach recorded)"),
    Col("confidence", lambda f: score(f.confidence_score), "num"),
    Col("wilson", lambda f: score(f.wilson_lower_bound), "num", drop=2),
    Col("fixed", lambda f: f"{f.success_count:,}", "num"),
    Col("failed", lambda f: f"{f.failure_count:,}", "num", drop=1),
    Col("match", lambda f: _match(f), "key"),
)


def _match(fix) -> str:
    """How a fix was found: for the exact signature (a mapping always is), or for a similar one."""
    match = getattr(fix, "match", "exact")
    return match if match == "exact" else f"similar ({fix.similarity:.2f})"


@app.command("show")
def show(
    signature: Annotated[
        str, typer.Argument(help="A signature, or its first 8+ hex digits as `errors top` prints them.")
    ],
    as_json: AS_JSON = False,
) -> None:
    """One signature: what it matches, an example, and the approaches that fixed it."""
    with client() as dl:
        s = dl.errors.get(signature)
        mappings = dl.errors.mappings(s.signature)

    def text() -> None:
        out.print(
            f"[bold]{s.signature}[/] ({s.category}, seen {s.occurrences}x, {when(s.first_seen_at)} .. {when(s.last_seen_at)})"
        )
        say(f"type: {s.error_type or '-'}")
        say(f"normalised: {s.normalized_message}")
        if s.frames:
            say("frames: " + " <- ".join(reversed(s.frames)))
        say(f"example: {s.example_message}")
        if mappings:
            print_table(FIXES, mappings, "fixes")
        else:
            say("no fix recorded for it yet")

    emit_document({"signature": s, "mappings": mappings}, as_json, text)


@app.command("fixes")
def fixes(
    message: Annotated[str, typer.Argument(help="The error message, e.g. \"KeyError: 'user_id'\".")],
    error_type: Annotated[str | None, typer.Option("--type", help="The exception type, if not in the message.")] = None,
    stacktrace: Annotated[Path | None, typer.Option(help="A file holding the stack trace.")] = None,
    k: Annotated[int, typer.Option(min=1, help="How many fixes.")] = 5,
    as_json: AS_JSON = False,
) -> None:
    """The ranked fixes known for an error: its exact signature first, then similar errors."""
    trace = None
    if stacktrace is not None:
        try:
            trace = stacktrace.read_text(encoding="utf-8", errors="replace")
        except OSError as exc:
            raise ConfigurationError(f"{stacktrace}: cannot read: {exc.strerror}") from None
    with client() as dl:
        info = dl.errors.describe(message, error_type=error_type, stacktrace=trace)
        found = dl.errors.fixes(message, error_type=error_type, stacktrace=trace, k=k)

    def text() -> None:
        say(f"signature {info.signature[:12]} ({info.category}): {info.kind or ''} {info.normalized_message}")
        if found:
            print_table(FIXES, found, "fixes, best first")
        else:
            say("no fix known for this error or a similar one")

    emit_document({"error": info, "fixes": found}, as_json, text)


FAILURES = table_spec(
    "errors known-failures",
    Col("approach", lambda f: f.approach_description or "-"),
    Col("failures", lambda f: f"{f.failures:,}", "num"),
    Col("last failed", lambda f: when(f.last_failed_at), "time", drop=1),
    Col("match", lambda f: f.match, "key", drop=2),
    Col("errors", lambda f: "; ".join(f"{e['error_type'] or '?'} x{e['count']}" for e in f.errors)),
)


@app.command("known-failures")
def known_failures(
    request: Annotated[str, typer.Argument(help="The request an agent is about to work on.")],
    k: Annotated[int, typer.Option(min=1, help="How many approaches.")] = 5,
    as_json: AS_JSON = False,
    as_csv: AS_CSV = False,
) -> None:
    """Approaches that failed for this request or similar ones and never succeeded."""
    with client() as dl:
        rows = dl.errors.known_failures(request, k)
    emit(
        FAILURES,
        rows,
        as_json=as_json,
        as_csv=as_csv,
        empty="no failed approach known for this request or a similar one",
    )
