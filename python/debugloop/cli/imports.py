"""``debugloop import``: the logs agents already write, as attempts."""

from __future__ import annotations

import dataclasses
import time
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

from ..client import Client
from ..importers import ImportResult
from .common import AS_CSV, AS_JSON, client, group
from .render import Col, clip, dumps, emit, err, print_table, say, table_spec, usd

app = group(
    "Import the logs agents already write (Claude Code, SWE-agent, OpenHands) as attempts; list imported sessions."
)

SKIPPED_EXIT = 4
IMPORT_PATHS = Annotated[
    list[Path], typer.Argument(help="Log files, or folders searched recursively.", show_default=False)
]
FOLLOW = Annotated[
    bool,
    typer.Option("--follow", help="Keep watching: import new files and new lines as they are written (Ctrl-C stops)."),
]
INTERVAL = Annotated[float, typer.Option(min=0.1, help="With --follow: seconds between two looks at the files.")]
SETTLE = Annotated[
    float,
    typer.Option(
        min=0,
        help="With --follow: a response still open at the end of a file is recorded once the file has not changed for this many seconds.",
    ),
]


def _import(
    source: str,
    paths: list[Path],
    *,
    follow: bool,
    as_json: bool = False,
    interval: float = 2.0,
    settle: float = 10.0,
    model: str | None = None,
) -> None:
    """Import, print the summary; with ``follow``, again every ``interval`` seconds
    until Ctrl-C. Exit code 4 when a line or file was skipped."""
    skipped = 0
    with client() as dl:
        if not follow:
            progress = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                TextColumn("{task.fields[amount]}"),
                TimeRemainingColumn(),
                console=err,
                transient=True,
            )
            with progress:
                task = progress.add_task(f"importing {source} logs", total=None, amount="")
                # the second phase: STFs learned from the attempts, on a second connection (import_defer_learning)
                learning = progress.add_task("learning (STFs)", total=None, amount="", visible=False)
                result = dl.imports.run(
                    source,
                    paths,
                    default_model=model,
                    progress=lambda done, total: progress.update(
                        task, completed=done, total=total, amount=f"{done / 2**20:,.1f}/{total / 2**20:,.1f} MiB"
                    ),
                    learning=lambda done, total: progress.update(
                        learning, completed=done, total=total, amount=f"{done:,}/{total:,} attempts", visible=True
                    ),
                )
            print_import(dl, source, result, as_json)
            skipped = len(result.skipped)
        else:
            say(f"following {', '.join(map(str, paths))} every {interval:g} s (Ctrl-C stops)")
            reported: set[str] = set()  # a file refused on every look (another role's session) is told once
            try:
                while True:
                    result = dl.imports.run(source, paths, default_model=model, settle=settle)
                    new = [s for s in map(str, result.skipped) if s not in reported]
                    reported.update(new)
                    skipped += len(new)
                    if result.inserted or result.finished or new:
                        say(
                            f"{datetime.now():%H:%M:%S} +{result.inserted} attempt(s), {result.finished} finished, "
                            f"{len(new)} line(s) skipped"
                        )
                        for s in new:
                            err.print(f"skipped {s}", markup=False, highlight=False)
                    time.sleep(interval)
            except KeyboardInterrupt:
                say("stopped following")
    if skipped:
        raise typer.Exit(SKIPPED_EXIT)


BY_MODEL = table_spec(
    "import by model",
    Col("model", lambda r: r.model, "key"),
    Col("attempts", lambda r: f"{r.attempts:,}", "num"),
    Col("input", lambda r: f"{r.input_tokens:,}", "num", drop=1),
    Col("output", lambda r: f"{r.output_tokens:,}", "num", drop=2),
    Col("cache read", lambda r: f"{r.cache_read_tokens:,}", "num", drop=3),
    Col("write 5m", lambda r: f"{r.cache_write_tokens:,}", "num", drop=4),
    Col("write 1h", lambda r: f"{r.cache_write_1h_tokens:,}", "num", drop=5),
    Col("reasoning", lambda r: f"{r.reasoning_tokens:,}", "num", drop=6),
    Col("cost", lambda r: usd(r.cost_usd) + (f" ({r.unpriced} unpriced)" if r.unpriced else ""), "num"),
)
DIFFERENCES = table_spec(
    "import cost differences",
    Col("session", lambda d: d.session_key),
    Col("model", lambda d: d.model or "(not in the log)", "key", drop=1),
    Col("reported", lambda d: f"${d.reported_cost_usd:.6f}", "num"),
    Col("debugloop", lambda d: "unpriced: pass --model" if d.cost_usd is None else usd(d.cost_usd), "num"),
    Col("difference", lambda d: "-" if d.difference_usd is None else f"{d.difference_usd:+.6f}", "num"),
)


def print_import(dl: Client, source: str, result: ImportResult, as_json: bool = False) -> None:
    rows = dl.imports.report(result.run_id)
    differences = [d for d in dl.imports.cost_differences(source) if d.difference_usd != 0]
    if as_json:
        print(
            dumps(
                {
                    **dataclasses.asdict(result),
                    "skipped": [str(s) for s in result.skipped],
                    "source": source,
                    "by_model": rows,
                    "cost_differences": differences,
                }
            )
        )
        return
    say(
        f"{source}: {result.files} file(s), {result.lines:,} line(s) read; {result.inserted} attempt(s) added, "
        f"{result.finished} finished (imported before as running), {result.duplicates} already imported"
    )
    if rows:
        total = lambda k: sum(getattr(r, k) for r in rows)  # noqa: E731
        say(
            f"sessions {total('sessions')}, attempts {total('attempts')}, errors {total('errors')}, "
            f"still running {total('running')}, error→success mappings {total('mappings')}, STFs {total('stfs')}"
        )
        print_table(BY_MODEL, rows, "tokens and cost by model (attempts added or finished by this import)")
    if differences:
        print_table(DIFFERENCES, differences, "sessions whose own reported cost differs from debugloop's")
    for s in result.skipped[:20]:
        err.print(f"skipped {s}", markup=False, highlight=False)
    if len(result.skipped) > 20:
        err.print(f"… and {len(result.skipped) - 20} more skipped")


@app.command("claude-code")
def claude_code(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(
            help="Session files (*.jsonl), project folders, or the whole projects tree.",
            show_default="~/.claude/projects",
        ),
    ] = None,
    follow: FOLLOW = False,
    interval: INTERVAL = 2.0,
    settle: SETTLE = 10.0,
    as_json: AS_JSON = False,
) -> None:
    """Claude Code transcripts: one attempt per API response, with its exact cost. Exit code 4 when a line was skipped."""
    _import(
        "claude-code",
        paths or [Path("~/.claude/projects").expanduser()],
        follow=follow,
        as_json=as_json,
        interval=interval,
        settle=settle,
    )


@app.command("swe-agent")
def swe_agent(
    paths: IMPORT_PATHS,
    model: Annotated[
        str | None, typer.Option(help="The model of trajectories that do not name theirs (older SWE-agent).")
    ] = None,
    follow: FOLLOW = False,
    interval: INTERVAL = 2.0,
    as_json: AS_JSON = False,
) -> None:
    """SWE-agent trajectories (*.traj): one attempt per step and one for the run, whose instance_cost is compared with ours."""
    _import("swe-agent", paths, follow=follow, as_json=as_json, interval=interval, model=model)


@app.command("openhands")
def openhands(paths: IMPORT_PATHS, follow: FOLLOW = False, interval: INTERVAL = 2.0, as_json: AS_JSON = False) -> None:
    """OpenHands trajectories (*.json event lists): one attempt per LLM response."""
    _import("openhands", paths, follow=follow, as_json=as_json, interval=interval)


SESSIONS = table_spec(
    "import sessions",
    Col("source", lambda s: s.source, "key", drop=2),
    Col("session", lambda s: clip(s.title or s.session_key, 120)),
    Col("attempts", lambda s: f"{s.attempts:,}", "num"),
    Col("errors", lambda s: f"{s.errors:,}", "num", drop=3),
    Col("fixes found", lambda s: f"{s.mappings:,}", "num", drop=4),
    Col("tokens", lambda s: f"{s.tokens:,}", "num", drop=1),
    Col("cost", lambda s: usd(s.cost_usd), "num"),
)


@app.command("sessions")
def sessions(
    source: Annotated[str | None, typer.Option(help="Only claude-code, swe-agent or openhands.")] = None,
    top: Annotated[int, typer.Option(min=1, help="How many sessions.")] = 10,
    as_json: AS_JSON = False,
    as_csv: AS_CSV = False,
) -> None:
    """Imported sessions, costliest first."""
    with client() as dl:
        rows = dl.imports.sessions(source, top)
    emit(
        SESSIONS,
        rows,
        as_json=as_json,
        as_csv=as_csv,
        title=f"costliest {top} imported sessions",
        empty="no imported session" + (f" from {source}" if source else ""),
    )
