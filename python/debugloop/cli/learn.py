"""``debugloop learn``: the learning an import queued (STF extraction), done now."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from .common import AS_JSON, client
from .render import emit_document, err, say

MAX_ROWS = Annotated[
    int, typer.Option("--max-rows", min=1, max=100_000, help="Attempts learned per transaction (learn_pending).")
]


def learn(max_rows: MAX_ROWS = 500, as_json: AS_JSON = False) -> None:
    """Learn from the attempts an import queued (STFs from their code), batch by
    batch, until none is left; rows another worker holds are left to it."""
    with client() as dl:
        progress = Progress(
            TextColumn("learning (STFs)"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=err,
            transient=True,
        )
        with progress:
            task = progress.add_task("learn", total=dl.learning.queued())
            learned = dl.learning.drain_all(
                max_rows, progress=lambda done, total: progress.update(task, completed=done, total=total)
            )
        left = dl.learning.queued()
    emit_document(
        {"learned": learned, "queued": left},
        as_json,
        lambda: say(f"learned {learned:,} attempt(s); {left:,} still queued"),
    )
