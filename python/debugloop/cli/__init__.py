"""The ``debugloop`` command line: one module per command group, one of shared
rendering (``render``), the review commands made once (``review``), the demo and
its data apart. ``debugloop.cli:main`` is the entry point; ``python -m
debugloop.cli`` runs it too; ``debugloop.cli.app.app`` is the Typer app.

``debugloop hook EVENT`` (what Claude Code's hooks run, within a time budget) is
dispatched before the command line is imported: it needs neither typer nor rich."""

from __future__ import annotations

import sys

__all__ = ["main"]


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if len(args) == 2 and args[0] == "hook" and not args[1].startswith("-"):
        from ..hooks import main as hook_main

        hook_main(args[1:])  # exits
    from .app import main as app_main

    app_main(argv)
