"""Claude Code hooks: ``debugloop hook EVENT`` reads the hook's JSON from standard
input (as Claude Code's hooks reference documents it) and answers through the SQL
API, so that the memory learns while the agent works and the agent hears what is
known while it works:

* ``UserPromptSubmit``: the manifest for the prompt (``manifest_context``), printed
  as plain text, which Claude Code adds to the context; nothing when nothing is known.
* ``SessionStart``: records the session (who is who: agent ``claude-code``, the
  session id, the project, the model); on ``resume`` and ``compact`` the manifest
  for the session's latest prompt, as for a prompt.
* ``PostToolUseFailure``, and ``PostToolUse`` whose tool response is an error: the
  fixes for the error and the approaches that failed for the session's prompt
  (``manifest_for_error``), as ``hookSpecificOutput.additionalContext``.
* ``Stop``, ``SessionEnd`` (and ``PostToolUse``, at most every
  ``IMPORT_EVERY`` seconds): the transcript imported from where the last import
  stopped (``ImportManager.run``), as ``debugloop import claude-code`` does.

A hook never blocks or breaks the agent: every failure (no database, a timeout,
bad input, a bug) exits 0 with nothing on standard output and one line in
``$DEBUGLOOP_HOME/hooks.log``. Each event has a time budget: a connect timeout, a
statement timeout and a watchdog that ends the process. A hook connects only to
what is configured or running; it never starts the embedded server.

The context events, which Claude Code waits for, are answered by the hook helper
(``debugloop.hookd``) when one runs for this configuration: it keeps psycopg loaded
and its connections open, and the hook only talks to it over a Unix socket, before
this module is imported. When none runs, this module answers, and a helper is
started for the next call (``DEBUGLOOP_HOOKD=off``: never).

Only the standard library is imported at first; psycopg and the managers that an
event needs are imported when it needs them, and neither typer, rich nor pydantic
on the way to a prompt's context (``debugloop.cli.main`` dispatches ``hook``
before it imports the command line).
"""

from __future__ import annotations

import getpass
import hashlib
import json
import os
import re
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from . import hookd
from .hookd import CONTEXT_EVENTS, MAX_INPUT, read_input

AGENT = "claude-code"  # the agent name of Claude Code's attempts, as `debugloop import claude-code` records them
LOG_NAME = "hooks.log"
PROMPT_CHARS = 4000  # the manifest's budget in the context (Claude Code cuts hook output at 10,000)
ERROR_CHARS = 2000  # what is said after a failed tool call
IMPORT_EVERY = 20.0  # seconds: PostToolUse imports the transcript at most this often (Stop always does)
_FLAG_VARIABLE = re.compile(r"^(DEBUGLOOP_)?ENABLE_\w+$", re.IGNORECASE)
_TOOL_ERROR_TAG = re.compile(r"</?tool_use_error>")


@dataclass(frozen=True)
class Budget:
    """How long an event may take: to connect (libpq counts whole seconds, 2 at
    least), per statement, and in all (the watchdog)."""

    connect_s: int
    statement_ms: int
    total_s: float


CONTEXT_BUDGET = Budget(connect_s=2, statement_ms=1500, total_s=4.0)  # hookd.TIMEOUT_S lies within it
IMPORT_BUDGET = Budget(connect_s=5, statement_ms=30_000, total_s=90.0)
IMPORT_EVENTS = ("Stop", "SessionEnd", "PostToolUse")
EVENTS = CONTEXT_EVENTS + IMPORT_EVENTS


class HookInputError(ValueError):
    """The hook's standard input is not what Claude Code sends."""


def home() -> Path:
    """DEBUGLOOP_HOME, as the settings read it, without loading them."""
    return Path(hookd.home())


def log_failure(event: str, payload: dict[str, Any] | None, exc: BaseException) -> None:
    """One line in $DEBUGLOOP_HOME/hooks.log; a log that cannot be written is given up."""
    try:
        session = (payload or {}).get("session_id") or "-"
        reason = " ".join(f"{type(exc).__name__}: {exc}".split())[:500]
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S%z")
        path = home() / LOG_NAME
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as fh:
            fh.write(f"{stamp} {event or '-'} session={session} {reason}\n")
    except Exception:  # the log is the last resort; nothing may escape a hook
        pass


def read_payload(raw: bytes) -> dict[str, Any]:
    """The hook's input as Claude Code sends it: one JSON object."""
    if len(raw) > MAX_INPUT:
        raise HookInputError(f"the hook input is larger than {MAX_INPUT} bytes")
    try:
        payload = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise HookInputError(f"the hook input is not JSON: {exc}") from None
    if not isinstance(payload, dict):
        raise HookInputError(f"the hook input is a JSON {type(payload).__name__}, not an object")
    return payload


def _text(payload: dict[str, Any], key: str) -> str | None:
    value = payload.get(key)
    return value if isinstance(value, str) and value.strip() else None


class Session:
    """One connection to the configured database within an event's budget, and the
    managers an event uses on it."""

    def __init__(self, budget: Budget) -> None:
        from . import db

        settings = None
        if any(_FLAG_VARIABLE.match(name) for name in os.environ):  # flag overrides: the settings parse them
            from .config import load_settings

            settings = load_settings()
            target = db.configured(settings.database_url, settings.home)
        else:
            target = db.configured(os.environ.get(db.ENV_URL), home())
        options = db.session_options(settings, target.conninfo, f"-c statement_timeout={budget.statement_ms}")
        self.conn = db.open_connection(
            target.conninfo,
            target.source,
            connect_timeout=budget.connect_s,
            options=options,
            autocommit=True,
            application_name="debugloop-hook",
        )
        from .connection import SingleConnection

        self.connector = SingleConnection(self.conn)

    def close(self) -> None:
        self.conn.close()

    def agents(self):
        from .agents import AgentsManager

        return AgentsManager(self.connector)

    def manifests(self):
        from .manifest import ManifestManager

        return ManifestManager(self.connector)

    def imports(self):
        from .importers import ImportManager

        return ImportManager(self.connector)


def tool_error(payload: dict[str, Any]) -> tuple[str, str] | None:
    """(error type, message) of a failed tool call, named as the Claude Code
    importer names it (``<tool> tool error``, the text without its
    ``<tool_use_error>`` tags) so that its signature is the imported one; None
    when the call did not fail or the user interrupted it."""
    if payload.get("is_interrupt") is True:
        return None
    text = payload.get("error")  # PostToolUseFailure
    response = payload.get("tool_response")  # PostToolUse: an error result (an MCP tool's isError)
    if text is None and isinstance(response, dict) and (response.get("is_error") or response.get("isError")):
        text = response.get("error") or response.get("content") or response.get("stderr") or "the tool failed"
    if text is not None and not isinstance(text, str):
        text = json.dumps(text)
    if not text or not text.strip():
        return None
    tool = payload.get("tool_name") if isinstance(payload.get("tool_name"), str) else "tool"
    return f"{tool} tool error", _TOOL_ERROR_TAG.sub("", text).strip()


def _record(session: Session, event: str, payload: dict[str, Any]) -> None:
    key = _text(payload, "session_id")
    if key is None:
        return
    session.agents().record(
        AGENT,
        key,
        "hook",
        event,
        project=_text(payload, "cwd"),
        transcript_path=_text(payload, "transcript_path"),
        model=_text(payload, "model"),
        prompt=_text(payload, "prompt") if event == "UserPromptSubmit" else None,
        os_user=_os_user(),
    )


def _os_user() -> str | None:
    try:
        return getpass.getuser()
    except Exception:  # no user name is no reason to fail a hook
        return None


def _context(event: str, text: str) -> str:
    """Additional context as Claude Code documents it for the event."""
    return json.dumps({"hookSpecificOutput": {"hookEventName": event, "additionalContext": text}}, ensure_ascii=False)


def _prompt_context(session: Session, prompt: str | None) -> str | None:
    if not prompt:
        return None
    return session.manifests().context(prompt, agent_name=AGENT, max_chars=PROMPT_CHARS)


def _error_context(session: Session, event: str, payload: dict[str, Any]) -> str | None:
    error = tool_error(payload)
    if error is None:
        return None
    key = _text(payload, "session_id")
    prompt = session.agents().last_prompt(AGENT, key) if key else None
    text = session.manifests().for_error(error[1], error[0], user_request=prompt, max_chars=ERROR_CHARS)
    return _context(event, text) if text else None


class _ImportLock:
    """One import of a transcript at a time on this machine (hooks of parallel tool
    calls run at once): a file lock under $DEBUGLOOP_HOME/hooks; its mtime is when
    the transcript was last imported by a hook."""

    def __init__(self, transcript: Path) -> None:
        digest = hashlib.sha256(str(transcript).encode()).hexdigest()[:24]
        self.path = home() / "hooks" / f"import-{digest}.lock"

    def recent(self, seconds: float) -> bool:
        try:
            return time.time() - self.path.stat().st_mtime < seconds
        except FileNotFoundError:
            return False

    def acquire(self, wait: bool):
        import fcntl

        self.path.parent.mkdir(parents=True, exist_ok=True)
        fh = self.path.open("a")
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            fh.close()
            return None
        return fh


def _import(session: Session, event: str, payload: dict[str, Any]) -> None:
    """The transcript from where the last import stopped. PostToolUse skips it when
    a hook imported it less than IMPORT_EVERY seconds ago, or is importing it now."""
    transcript = _text(payload, "transcript_path")
    if transcript is None:
        return
    path = Path(transcript).expanduser()
    if not path.is_file():
        return  # nothing written yet (a session that has just started)
    lock = _ImportLock(path)
    cheap = event == "PostToolUse"
    if cheap and lock.recent(IMPORT_EVERY):
        return
    held = lock.acquire(wait=not cheap)
    if held is None:
        return
    try:
        session.imports().run(AGENT, [path])
        os.utime(lock.path)
    finally:
        held.close()


def handle(event: str, payload: dict[str, Any], session: Session) -> str | None:
    """What the event prints (None: nothing), after what it records."""
    _record(session, event, payload)
    if event == "UserPromptSubmit":
        return _prompt_context(session, _text(payload, "prompt"))
    if event == "SessionStart":
        if payload.get("source") in ("resume", "compact") and _text(payload, "session_id"):
            return _prompt_context(session, session.agents().last_prompt(AGENT, payload["session_id"]))
        return None
    if event == "PostToolUseFailure":
        return _error_context(session, event, payload)
    if event == "PostToolUse":
        out = _error_context(session, event, payload)
        _import(session, event, payload)
        return out
    _import(session, event, payload)  # Stop, SessionEnd
    return None


def run(event: str, raw: bytes, stdout: TextIO) -> int:
    """Handle one hook event, its input ``raw``, in this process; always 0. Output is
    written only when all went well."""
    budget = IMPORT_BUDGET if event in IMPORT_EVENTS else CONTEXT_BUDGET
    payload: dict[str, Any] | None = None
    finished = threading.Lock()  # held by whichever ends the event: the watchdog, or the event itself

    def expire() -> None:  # the watchdog: a hook that overruns its budget ends, silently
        if finished.acquire(blocking=False):
            log_failure(event, payload, TimeoutError(f"the {event} hook ran out of its {budget.total_s:g} s budget"))
            os._exit(0)

    watchdog = threading.Timer(budget.total_s, expire)
    watchdog.daemon = True
    watchdog.start()
    try:
        if event not in EVENTS:
            raise HookInputError(f"unknown hook event {event!r}: expected one of {', '.join(EVENTS)}")
        payload = read_payload(raw)
        session = Session(budget)
        try:
            out = handle(event, payload, session)
        finally:
            session.close()
    except BaseException as exc:  # a hook never breaks the agent
        if finished.acquire(blocking=False):
            watchdog.cancel()
            log_failure(event, payload, exc)
        return 0
    if not finished.acquire(blocking=False):
        return 0  # the watchdog is ending the process
    watchdog.cancel()
    if out:
        stdout.write(out if out.endswith("\n") else out + "\n")
        stdout.flush()
    return 0


def main(argv: list[str]) -> None:
    """``debugloop hook EVENT``: the entry point that the hooks in settings.json run
    (``debugloop.cli.main`` asks the hook helper first)."""
    sys.exit(run(argv[0] if argv else "", read_input(), sys.stdout))
