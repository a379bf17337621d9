"""``debugloop mcp``: the MCP server on stdio (``debugloop.mcp_server``), and
``debugloop mcp install``, which enters it in the project's ``.mcp.json`` (merged,
idempotent, the previous file kept as ``.mcp.json.bak``) or prints the
``claude mcp add`` line that does it for every project."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Annotated, Any

import typer

from ..errors import ConfigurationError
from .hooks import DIRECTORY, executable
from .jsonfile import backup_path, read_object, write_object
from .render import say

SERVER_NAME = "debugloop"

app = typer.Typer(
    help="The MCP server (stdio): the manifest, error fixes, known failures, STFs, golden states and cost "
    "estimates as tools. `debugloop mcp install` enters it in the project's .mcp.json.",
    invoke_without_command=True,
)

WRITE = Annotated[
    bool,
    typer.Option(
        "--write", help="Also the write side: attempt_start and attempt_finish, for agents that record themselves."
    ),
]
AGENT = Annotated[
    str | None,
    typer.Option(help="The agent name to record calls and attempts under (default: the MCP client's own name)."),
]


@app.callback()
def mcp(ctx: typer.Context, write: WRITE = False, agent: AGENT = None) -> None:
    """Run the MCP server on standard input and output (needs `pip install 'debugloop[mcp]'`)."""
    if ctx.invoked_subcommand is not None:
        return
    try:
        from ..mcp_server import serve
    except ModuleNotFoundError as exc:
        if exc.name is None or not exc.name.startswith("mcp"):
            raise
        raise ConfigurationError("the MCP server needs the MCP SDK: pip install 'debugloop[mcp]'") from None
    serve(write=write, agent_name=agent)


def server_entry(write: bool, agent: str | None) -> dict[str, Any]:
    """The .mcp.json entry of debugloop's server."""
    command, *args = executable()
    args += ["mcp", *(["--write"] if write else []), *(["--agent", agent] if agent else [])]
    return {"type": "stdio", "command": command, "args": args}


@app.command("install")
def install(
    directory: DIRECTORY = None,
    write: WRITE = False,
    agent: AGENT = None,
    print_only: Annotated[
        bool,
        typer.Option("--print", help="Print the `claude mcp add` line (every project of yours) instead of writing."),
    ] = False,
) -> None:
    """Enter debugloop's MCP server in the project's .mcp.json, or print the `claude mcp add` line."""
    entry = server_entry(write, agent)
    if print_only:
        line = ["claude", "mcp", "add", "--transport", "stdio", "--scope", "user", SERVER_NAME, "--"]
        print(shlex.join([*line, entry["command"], *entry["args"]]))
        return
    path = (directory or Path.cwd()) / ".mcp.json"
    document = read_object(path)
    servers = document.get("mcpServers", {})
    if not isinstance(servers, dict):
        raise ConfigurationError(f"{path}: `mcpServers` is not a JSON object; it is left as it is")
    if write_object(path, {**document, "mcpServers": {**servers, SERVER_NAME: entry}}):
        kept = f"; the previous file is {backup_path(path)}" if document else ""
        say(f"entered the MCP server {SERVER_NAME!r} in {path}{kept}; Claude Code asks once before it starts it")
    else:
        say(f"the MCP server {SERVER_NAME!r} is already in {path}: nothing changed")
