"""The ``debugloop`` command: its groups, ``--version``, and how it ends.

Every error ends as one line on standard error, never a traceback: a usage error
(a wrong option or argument) with exit code 2, an error of debugloop's with 1, and
anything unforeseen (a bug) with 70, its traceback only when DEBUGLOOP_DEBUG is set.
"""

from __future__ import annotations

import os
import sys
import traceback
from typing import Annotated

import typer

from .. import __version__
from ..errors import DebugloopError
from . import (
    attempts,
    db,
    errors,
    golden,
    hooks,
    imports,
    ledger,
    mcp,
    peers,
    prices,
    relay,
    report,
    rewards,
    settings,
    spend,
    stf,
)
from .demo import demo
from .learn import learn
from .manifest import manifest
from .render import err

app = typer.Typer(
    help="debugloop: the memory and the wallet of a team of LLM coding agents, inside PostgreSQL.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def _version(value: bool) -> None:
    if value:
        print(f"debugloop {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """debugloop: the memory and the wallet of a team of LLM coding agents, inside PostgreSQL."""


GROUPS = {
    "db": db.app,
    "settings": settings.app,
    "attempts": attempts.app,
    "prices": prices.app,
    "errors": errors.app,
    "stf": stf.app,
    "golden": golden.app,
    "report": report.app,
    "import": imports.app,
    "hooks": hooks.app,
    "mcp": mcp.app,
    "peers": peers.app,
    "ledger": ledger.app,
    "relay": relay.relay_app,
    "cache": relay.cache_app,
    "balances": relay.balances_app,
    "rewards": rewards.app,
    "spend": spend.app,
}
for name, group in GROUPS.items():
    app.add_typer(group, name=name)
app.command("manifest")(manifest)
app.command("balance")(ledger.balance)
app.command("demo")(demo)
app.command("learn")(learn)
app.command("hook")(hooks.hook)

USAGE_EXIT = 2
INTERNAL_EXIT = 70  # EX_SOFTWARE


def main(argv: list[str] | None = None) -> None:
    try:
        code = app(args=argv, prog_name="debugloop", standalone_mode=False)
    except typer.TyperException as exc:  # typer's usage errors (it vendors click's)
        code = _usage(exc)
    except DebugloopError as exc:
        err.print(f"debugloop: error: {exc}", markup=False, highlight=False)
        code = 1
    except (KeyboardInterrupt, typer.Abort):
        err.print("debugloop: interrupted")
        code = 130
    except RecursionError:
        err.print(
            "debugloop: error: a value is nested too deeply to be read or shown (JSON deeper than Python's recursion limit)"
        )
        code = 1
    except Exception as exc:  # a bug: still one line, the traceback on request
        if os.environ.get("DEBUGLOOP_DEBUG"):
            traceback.print_exc()
        detail = " ".join(str(exc).split())[:500]
        err.print(f"debugloop: internal error: {type(exc).__name__}: {detail} (set DEBUGLOOP_DEBUG=1 for the traceback)",
                  markup=False, highlight=False)  # fmt: skip
        code = INTERNAL_EXIT
    sys.exit(code if isinstance(code, int) else 0)


def _usage(exc: typer.TyperException) -> int:
    """A group called bare prints its help; any other usage error is one line."""
    ctx = getattr(exc, "ctx", None)
    if type(exc).__name__ == "NoArgsIsHelpError" and ctx is not None:
        print(ctx.get_help())
        return 0
    code = getattr(exc, "exit_code", 1)
    where = f" (see `{ctx.command_path} --help`)" if ctx is not None and code == USAGE_EXIT else ""
    err.print(f"debugloop: error: {' '.join(exc.format_message().split())}{where}", markup=False, highlight=False)
    return code
