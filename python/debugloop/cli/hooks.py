"""``debugloop hooks install|uninstall|sessions`` and ``debugloop hook EVENT``:
debugloop in Claude Code's hooks (``debugloop.hooks`` is what they run).

``install`` merges debugloop's hooks into ``.claude/settings.json`` (``--project``,
the default) or ``~/.claude/settings.json`` (``--user``): every other setting and
hook stays as it is, installing twice changes nothing, the previous file is kept
as ``settings.json.bak``, and ``uninstall`` takes out exactly what ``install`` put in.
"""

from __future__ import annotations

import re
import shlex
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from .. import hookd
from .. import hooks as runtime
from ..errors import ConfigurationError
from .common import AS_CSV, AS_JSON, LIMIT, client, group
from .jsonfile import backup_path, read_object, write_object
from .render import Col, clip, emit, say, table_spec, usd

app = group("Claude Code hooks: install debugloop's hooks in .claude/settings.json, take them out, list the sessions.")

# (event, matcher, async, Claude Code's timeout in seconds). The context hooks are
# synchronous (Claude Code waits for what they add) and end within their own
# budget; the import hooks run in the background, and so never delay the agent.
HOOKS = (
    ("SessionStart", None, False, 10),
    ("UserPromptSubmit", None, False, 10),
    ("PostToolUseFailure", "*", False, 10),
    ("PostToolUse", "*", True, 120),
    ("Stop", None, True, 120),
    ("SessionEnd", None, False, 60),
)
_OURS = re.compile(r"debugloop(?:\.cli)?['\"]?\s+hook\s+(\w+)\s*$")

SCOPE_PROJECT = Annotated[bool, typer.Option("--project", help="This project's .claude/settings.json (the default).")]
SCOPE_USER = Annotated[bool, typer.Option("--user", help="Your ~/.claude/settings.json: every project.")]
DIRECTORY = Annotated[
    Path | None,
    typer.Option("--dir", help="With --project: the project's folder (default: the current one).", show_default=False),
]


def settings_path(project: bool, user: bool, directory: Path | None) -> Path:
    if project and user:
        raise ConfigurationError("--project or --user, not both")
    if user:
        return Path.home() / ".claude" / "settings.json"
    return (directory or Path.cwd()) / ".claude" / "settings.json"


def executable() -> list[str]:
    """How Claude Code starts this installation's command line: the ``debugloop``
    script next to the Python that runs it, else this Python with ``-m debugloop.cli``
    (absolute paths: Claude Code's PATH need not have the virtualenv)."""
    script = Path(sys.executable).with_name("debugloop")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "debugloop.cli"]


def command(event: str) -> str:
    """The command line of a hook."""
    return shlex.join([*executable(), "hook", event])


def is_ours(handler: Any) -> bool:
    """A handler that runs ``debugloop hook EVENT``, from any installation."""
    return (
        isinstance(handler, dict) and isinstance(handler.get("command"), str) and bool(_OURS.search(handler["command"]))
    )


def without_ours(settings: dict[str, Any]) -> dict[str, Any]:
    """``settings`` without debugloop's hook handlers; a matcher group, an event and
    the ``hooks`` key that only they filled go with them, nothing else changes."""
    hooks = settings.get("hooks")
    if not isinstance(hooks, dict):
        return settings
    kept_events: dict[str, Any] = {}
    for event, groups in hooks.items():
        if not isinstance(groups, list):
            kept_events[event] = groups
            continue
        kept_groups = []
        for matcher_group in groups:
            handlers = matcher_group.get("hooks") if isinstance(matcher_group, dict) else None
            if not isinstance(handlers, list) or not any(is_ours(h) for h in handlers):
                kept_groups.append(matcher_group)
                continue
            rest = [h for h in handlers if not is_ours(h)]
            if rest:
                kept_groups.append({**matcher_group, "hooks": rest})
        if kept_groups or not groups:
            kept_events[event] = kept_groups
    result = dict(settings)
    if kept_events or not hooks:
        result["hooks"] = kept_events
    else:
        del result["hooks"]
    return result


def with_ours(settings: dict[str, Any]) -> dict[str, Any]:
    """``settings`` with debugloop's hooks, each in a matcher group of its own after
    the groups already there (any older debugloop hooks replaced)."""
    result = without_ours(settings)
    if "hooks" in result and not isinstance(result["hooks"], dict):
        raise ConfigurationError("the settings' `hooks` is not a JSON object; fix it first, the file is left as it is")
    hooks = dict(result.get("hooks", {}))
    for event, matcher, background, timeout in HOOKS:
        handler: dict[str, Any] = {"type": "command", "command": command(event), "timeout": timeout}
        if background:
            handler["async"] = True
        matcher_group: dict[str, Any] = {"hooks": [handler]}
        if matcher is not None:
            matcher_group = {"matcher": matcher, **matcher_group}
        groups = hooks.get(event)
        hooks[event] = [*(groups if isinstance(groups, list) else []), matcher_group]
    result["hooks"] = hooks
    return result


def installed(settings: dict[str, Any]) -> list[str]:
    """The events for which ``settings`` runs a debugloop hook."""
    hooks = settings.get("hooks")
    if not isinstance(hooks, dict):
        return []
    return [
        event
        for event, groups in hooks.items()
        if isinstance(groups, list)
        and any(is_ours(h) for g in groups if isinstance(g, dict) for h in (g.get("hooks") or []))
    ]


@app.command("install")
def install(project: SCOPE_PROJECT = False, user: SCOPE_USER = False, directory: DIRECTORY = None) -> None:
    """Add debugloop's hooks to Claude Code's settings (merged, idempotent, a backup kept).

    UserPromptSubmit and SessionStart add the manifest for the prompt to Claude's
    context, PostToolUseFailure the fixes for the error; Stop, SessionEnd and
    PostToolUse import the session's transcript as it grows."""
    path = settings_path(project, user, directory)
    before = read_object(path)
    if write_object(path, with_ours(before)):
        kept = f"; the previous file is {backup_path(path)}" if before else ""
        say(f"added debugloop's hooks ({', '.join(e for e, *_ in HOOKS)}) to {path}{kept}")
    else:
        say(f"debugloop's hooks are already in {path}: nothing changed")
    say(f"they run {command('EVENT')}; failures go to {runtime.home() / runtime.LOG_NAME}, never to Claude")


@app.command("uninstall")
def uninstall(project: SCOPE_PROJECT = False, user: SCOPE_USER = False, directory: DIRECTORY = None) -> None:
    """Take debugloop's hooks out of Claude Code's settings again, and nothing else."""
    path = settings_path(project, user, directory)
    if not path.exists():
        say(f"{path} does not exist: nothing to take out")
        return
    if write_object(path, without_ours(read_object(path))):
        say(f"took debugloop's hooks out of {path}; the previous file is {backup_path(path)}")
    else:
        say(f"{path} has no debugloop hook: nothing changed")


@app.command("status")
def status(project: SCOPE_PROJECT = False, user: SCOPE_USER = False, directory: DIRECTORY = None) -> None:
    """Which events run debugloop's hooks in the settings file, and whether the hook
    helper of this configuration runs."""
    path = settings_path(project, user, directory)
    events = installed(read_object(path))
    say(f"{path}: " + (f"debugloop hooks on {', '.join(events)}" if events else "no debugloop hook"))
    try:
        mode = hookd.switch()
    except ValueError as exc:
        raise ConfigurationError(str(exc)) from None
    if mode == "off":
        say(f"the hook helper is off ({hookd.ENV_SWITCH}=off): every hook connects by itself")
        return
    socket = hookd.socket_path(runtime.home())
    pid = hookd.running_pid(socket)
    say(
        f"the hook helper runs (pid {pid}) on {socket}"
        if pid
        else "no hook helper runs for this configuration: the next context hook starts one"
    )


@app.command("stop")
def stop() -> None:
    """Stop the hook helper of this configuration (SIGTERM; it answers the calls in hand first)."""
    pid = hookd.stop(hookd.socket_path(runtime.home()))
    say(f"stopped the hook helper (pid {pid})" if pid else "no hook helper runs for this configuration")


@app.command("serve")
def serve(
    idle: Annotated[
        float, typer.Option(min=1, help="Exit after this many seconds without a call.", show_default=True)
    ] = hookd.IDLE_S,
) -> None:
    """Run the hook helper in the foreground: it keeps a connection open and answers the
    context hooks (UserPromptSubmit, SessionStart, PostToolUseFailure) over a Unix socket.

    The hooks start it by themselves when it is missing; DEBUGLOOP_HOOKD=off turns it off.
    One helper serves one configuration (database, flags, home); SIGTERM stops it."""
    from ..hookd_server import serve as run_helper

    raise typer.Exit(run_helper(runtime.home(), idle))


SESSIONS = table_spec(
    "agent sessions",
    Col("agent", lambda s: s.agent_name, "key", drop=3),
    Col("session", lambda s: s.session_key, "id"),
    Col("via", lambda s: s.via, "key", drop=4),
    Col("project", lambda s: clip(s.project or "-", 80)),
    Col("user / role", lambda s: f"{s.os_user or '-'} / {s.db_role}", drop=2),
    Col("calls", lambda s: f"{s.events:,}", "num", drop=5),
    Col("attempts", lambda s: f"{s.attempts:,}", "num"),
    Col("cost", lambda s: usd(s.cost_usd) if s.cost_usd is not None else "-", "num", drop=1),
    Col("last seen", lambda s: s.last_seen_at.strftime("%Y-%m-%d %H:%M"), "time", drop=6),
)


@app.command("sessions")
def sessions(
    agent: Annotated[str | None, typer.Option(help="Only this agent (Claude Code's hooks: claude-code).")] = None,
    project: Annotated[str | None, typer.Option(help="Only this project (its folder).")] = None,
    limit: LIMIT = 20,
    as_json: AS_JSON = False,
    as_csv: AS_CSV = False,
) -> None:
    """Who is who: the sessions that hooks and MCP calls served, latest first."""
    with client() as dl:
        rows = dl.agents.sessions(agent, project, limit)
    emit(SESSIONS, rows, as_json=as_json, as_csv=as_csv, title="agent sessions", empty="no agent session recorded yet")


def hook(
    event: Annotated[str, typer.Argument(help=f"The hook event: {', '.join(runtime.EVENTS)}.", show_default=False)],
) -> None:
    """Run one Claude Code hook: its JSON on standard input, what Claude should know on
    standard output. Always exits 0; failures go to $DEBUGLOOP_HOME/hooks.log."""
    runtime.main([event])
