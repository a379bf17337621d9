"""The ``debugloop`` command line: one module per command group, one of shared
rendering (``render``), the review commands made once (``review``), the demo and
its data apart. ``debugloop.cli:main`` is the entry point; ``python -m
debugloop.cli`` runs it too; ``debugloop.cli.app.app`` is the Typer app.

``debugloop hook EVENT`` (what Claude Code's hooks run, within a time budget) is
dispatched before the command line is imported: it needs neither typer nor rich,
and, when the hook helper answers, not even psycopg."""

from __future__ import annotations

import sys

__all__ = ["main"]


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if len(args) == 2 and args[0] == "hook" and not args[1].startswith("-"):
        sys.exit(_hook(args[1]))
    from .app import main as app_main

    app_main(argv)


def _hook(event: str) -> int:
    """``debugloop hook EVENT``: the hook helper answers when it runs (``hookd.front``,
    which imports neither psycopg nor ``debugloop.hooks``), else the hook answers by
    itself (``hooks.run``); always 0."""
    from .. import hookd

    raw = hookd.read_input()
    try:
        out = hookd.front(event, raw)
    except hookd.NotServed:
        from ..hooks import run

        return run(event, raw, sys.stdout)
    except Exception as exc:  # a helper that timed out, a bad DEBUGLOOP_HOOKD: never the agent's problem
        from ..hooks import log_failure

        log_failure(event, None, exc)
        return 0
    if out:
        sys.stdout.write(out if out.endswith("\n") else out + "\n")
        sys.stdout.flush()
    return 0
