"""Import the logs that coding agents already write (Claude Code, SWE-agent,
OpenHands) as attempts.

Parsing is Python's job; every rule about what a unit becomes (its cost, error
signature, retry mapping, STFs) is SQL's, in ``debugloop.import_units``. A parser
turns a file into *units* (one API response, one step): the request it served,
model, usage exactly as the log gives it, status, error, the action it took, the
code it wrote. Units go to SQL in batches, with the file's read position, in one
transaction per batch: a crash loses nothing and repeats nothing.

The mapping of each format is documented in the README ("Importing agent logs").
"""

from __future__ import annotations

import hashlib
import json
import queue
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any

import orjson

from ._manager import Manager
from .adapt import jsonb_fast
from .errors import BusinessError, DatabaseError, DebugloopError, InvalidParameter
from .models import ImportCostDifference, ImportFix, ImportReportRow, ImportSession
from .queries import Q
from .units import with_units

SOURCES = ("claude-code", "swe-agent", "openhands")
NAMESPACE = uuid.UUID("5d1f7c62-3a0b-4c1e-9a57-2f4d3c8b9e10")  # correlation ids of sessions without a uuid of their own
BATCH_UNITS = 1000
HEAD_BYTES = 4096
MAX_TEXT = 4000  # longest request, error message or description kept from a log
RETRY_CONTEXT = 5  # successful actions between a failure and its retry named in the retry's approach


def _clip(text: str | None, limit: int = MAX_TEXT) -> str | None:
    if text is None:
        return None
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _first_line(text: str, limit: int = 160) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _utc(ts: str | None) -> str | None:
    """An ISO timestamp with a zone: logs that write none (OpenHands) mean UTC."""
    if not ts:
        return None
    if ts.endswith("Z") or re.search(r"[+-]\d\d:?\d\d$", ts):
        return ts
    return ts + "+00:00"


def _mtime_iso(path: Path) -> str:
    return datetime.fromtimestamp(path.stat().st_mtime, UTC).isoformat()


def _unit(
    key: str,
    session: str,
    agent: str,
    request: str,
    model: str | None,
    started_at: str | None,
    completed_at: str | None,
    status: str,
    **fields: Any,
) -> dict[str, Any]:
    """One unit as import_units takes it; the fields not given are null. ``at`` is
    where the unit is in its file (a line number, or the JSON path of its step or
    event), ``usage_at`` where its usage is, for the report of a unit SQL refuses."""
    unit = dict.fromkeys(("approach", "tools", "usage", "error_type", "error_message", "artifacts", "parent", "at"))
    unit.update(
        key=key,
        session=session,
        agent=agent,
        agent_type=agent,
        request=request,
        model=model,
        started_at=started_at,
        completed_at=completed_at,
        status=status,
        **fields,
    )
    return unit


@dataclass
class Skipped:
    """A line (or a whole file) that could not be imported, and why: the field at
    fault, when one is, and the reason."""

    path: str
    line: int
    reason: str
    field: str | None = None

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}: "
        return where + (f"{self.field}: {self.reason}" if self.field else self.reason)


@dataclass
class ImportResult:
    """What one import run did."""

    run_id: uuid.UUID
    files: int = 0
    lines: int = 0
    units: int = 0
    inserted: int = 0
    finished: int = 0
    duplicates: int = 0
    learned: int = 0  # attempts whose queued learning (STFs, golden states) this run did
    skipped: list[Skipped] = field(default_factory=list)


# -- bad values --------------------------------------------------------------------
#
# A log can hold a valid JSON line with a value that cannot be recorded: a count
# that is negative, fractional or beyond a bigint, a timestamp that is not a date,
# a NUL character (PostgreSQL text and jsonb cannot hold one), a number where an
# id is expected, an object where a list is. Such a line (or step, or event) is
# skipped and reported as ``file:line: field: reason``; the rest is imported. The
# checks below are only what the parsers need to stay sound and to blame the right
# line; the rules of what a unit may be are SQL's (import_units), which names the
# unit it refuses, so that the importer leaves that unit out and sends the rest
# again (ImportManager._send_batch).

BIGINT = 2**63


class BadValue(ValueError):
    """A value of a log that cannot be imported: ``field`` (its path in the line,
    step or event), why, and ``at``, the JSON path of the part of a whole-JSON log
    that holds it (for its line number)."""

    def __init__(self, field: str, reason: str, at: list | None = None) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason
        self.at = at


def _kind(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean", type(None): "null"}.get(
        type(value), "a number"
    )


def _nul(value: Any, path: str) -> str | None:
    """The path of the first string (or key) under ``value`` that holds a NUL."""
    if isinstance(value, str):
        return path if "\x00" in value else None
    if isinstance(value, dict):
        for k, v in value.items():
            sub = f"{path}.{k}" if path else str(k)
            if "\x00" in k:
                return sub
            if (found := _nul(v, sub)) is not None:
                return found
    elif isinstance(value, list):
        for n, v in enumerate(value):
            if (found := _nul(v, f"{path}[{n}]")) is not None:
                return found
    return None


def check_nul(value: Any, path: str = "") -> None:
    """BadValue when a string of ``value`` holds a NUL character."""
    found = _nul(value, path)
    if found is not None:
        raise BadValue(found or "value", "holds a NUL character (\\u0000), which PostgreSQL cannot store")


def _want(obj: dict, key: str, field: str, *types: type) -> Any:
    """``obj[key]``, which must be absent, null or of one of ``types``."""
    value = obj.get(key)
    if value is not None and (not isinstance(value, types) or isinstance(value, bool) and bool not in types):
        wanted = " or ".join(_kind(t()) for t in types)
        raise BadValue(field, f"must be {wanted}, got {_kind(value)} {_short(value)}")
    return value


def _short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 60 else text[:59] + "…"


def _want_time(obj: dict, key: str, field: str) -> None:
    """``obj[key]`` must be absent, null or an ISO 8601 date and time."""
    value = _want(obj, key, field, str)
    if value is None:
        return
    try:
        datetime.fromisoformat(value)
    except ValueError:
        raise BadValue(field, f"must be a date and time (ISO 8601), got {_short(value)}") from None


def _count_key(key: str) -> bool:
    return key.endswith(("_tokens", "TokenCount")) or key == "tokenCount"


def _want_counts(usage: Any, field: str) -> None:
    """A usage object's token counts (keys ending in ``_tokens`` or ``TokenCount``,
    at any depth) must be whole numbers, at least 0 and below 2^63. The rest of the
    rules of usage are SQL's (DL005)."""
    if isinstance(usage, list):
        for n, item in enumerate(usage):
            _want_counts(item, f"{field}[{n}]")
        return
    if not isinstance(usage, dict):
        raise BadValue(field, f"must be an object, got {_kind(usage)} {_short(usage)}")
    for key, value in usage.items():
        if isinstance(value, (dict, list)):
            _want_counts(value, f"{field}.{key}")
        elif _count_key(key):
            _want_count(value, f"{field}.{key}")


def _want_count(value: Any, field: str) -> None:
    """A token count: null, or a whole number at least 0 and below 2^63 (a bigint)."""
    if value is None:
        return
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    if not number or value < 0 or value >= BIGINT or (isinstance(value, float) and not value.is_integer()):
        raise BadValue(field, f"must be a whole number of tokens, at least 0 and below 2^63, got {_short(value)}")


def check_claude_line(obj: dict[str, Any]) -> None:
    """BadValue for a value of a Claude Code line that cannot be imported: the ids,
    texts and times it gives, its message's shape and its usage's counts."""
    for key in ("sessionId", "cwd", "requestId", "uuid", "summary"):
        _want(obj, key, key, str)
    _want_time(obj, "timestamp", "timestamp")
    if obj.get("type") not in ("user", "assistant"):
        return
    message = obj.get("message")
    if not isinstance(message, dict):
        raise BadValue("message", f"must be an object, got {_kind(message)} {_short(message)}")
    _want(message, "id", "message.id", str)
    _want(message, "model", "message.model", str)
    if _want(message, "usage", "message.usage", dict) is not None:
        _want_counts(message["usage"], "message.usage")
    content = _want(message, "content", "message.content", str, list)
    for n, block in enumerate(content if isinstance(content, list) else []):
        if not isinstance(block, dict):
            continue
        where = f"message.content[{n}]"
        kind = block.get("type")
        if kind == "tool_use":
            _want(block, "id", f"{where}.id", str)
            _want(block, "name", f"{where}.name", str)
        elif kind == "tool_result":
            _want(block, "tool_use_id", f"{where}.tool_use_id", str)
            inner = block.get("content")
            for k, item in enumerate(inner if isinstance(inner, list) else []):
                if isinstance(item, dict) and item.get("type") == "text":
                    _want(item, "text", f"{where}.content[{k}].text", str)
        elif kind == "text":
            _want(block, "text", f"{where}.text", str)


# -- parsers ---------------------------------------------------------------------
#
# A parser is fed one file from where the last import stopped. ``feed(line_no,
# obj)`` takes one parsed JSON value and returns the units it completed;
# ``flush()`` returns the units still open at the end of the file (as running when
# their outcome is not written yet). ``state()`` is the parser's memory (the
# request in force, failures awaiting a retry, responses awaiting tool results),
# stored with the read position so that the next import resumes with it.


class _Retries:
    """The retry rule shared by the parsers: a failed action of some kind waits for
    a later action of the same kind in the same session; that later action is its
    retry (its parent), and when it succeeds the error maps to it. The successful
    actions in between are named in the retry's approach: they are usually the fix
    (read the file first, install the module, edit the line)."""

    def __init__(self, state: dict[str, Any]) -> None:
        self.open: dict[str, list[Any]] = state.setdefault("open_failures", {})

    def link(self, unit: dict[str, Any], kinds: list[str], failed_kinds: list[str], description: str | None) -> None:
        waiting = [self.open[k] for k in kinds if k in self.open]
        if waiting:
            parent = max(waiting, key=lambda w: w[1])
            unit["parent"] = parent[0]
            between = [d for d in parent[2] if d != description]
            if description and between and unit["status"] == "success":
                unit["approach"] = _clip(" → ".join(between + [description]), 1000)
        ok = unit["status"] == "success"
        for k in kinds:
            if ok:
                self.open.pop(k, None)
        for k in failed_kinds:
            self.open[k] = [unit["key"], self._seq(), []]
        if ok and description:
            for k, waiting_failure in self.open.items():
                if k not in kinds:
                    waiting_failure[2] = (waiting_failure[2] + [description])[-RETRY_CONTEXT:]

    def _seq(self) -> int:
        return max((w[1] for w in self.open.values()), default=0) + 1


_REJECTED = (
    "The user doesn't want to proceed",
    "The user doesn't want to take this action",
    "[Request interrupted by user",
)
_FILE_TOOLS = {"Read", "Edit", "MultiEdit", "Write", "NotebookEdit", "NotebookRead"}
_TAG = re.compile(r"</?tool_use_error>")


# -- code pointers ------------------------------------------------------------------
# Where the code an attempt wrote came from, as the log says it: the repository (or
# the working directory), the branch, the commit, under the artefacts' keys
# repository, branch and commit_sha; a snippet's first line under line_start. A part
# the log leaves out, or gives in a form SQL would refuse (_stf_pointer_problems), is
# left out: from a log, an unknown part is null, never an error.

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_SHA = re.compile(r"^[0-9A-Fa-f]{7,40}$")
_POINTER_LIMITS = {"repository": 1000, "branch": 255}


def _pointer_text(value: Any, limit: int) -> str | None:
    if not isinstance(value, str) or not value.strip() or len(value) > limit or _CONTROL.search(value):
        return None
    return value


def code_place(repository: Any = None, branch: Any = None, commit_sha: Any = None) -> dict[str, str]:
    """The artefact keys of where an attempt's code lives: the parts that are valid."""
    place = {k: _pointer_text(v, _POINTER_LIMITS[k]) for k, v in (("repository", repository), ("branch", branch))}
    if isinstance(commit_sha, str) and _SHA.match(commit_sha):
        place["commit_sha"] = commit_sha.lower()
    return {k: v for k, v in place.items() if v is not None}


def edit_lines(original: Any, edits: list[tuple[Any, Any]]) -> list[int | None]:
    """The line of the edited file at which each edit's new text starts, for Claude
    Code's Edit and MultiEdit: each (old, new) replaces the first occurrence of old
    in the text as the edits before it left it, as the tools do. None for an edit
    that is not found, or that a later edit rewrote. `original` is the file before
    the edits (the tool result's originalFile)."""
    if not isinstance(original, str):
        return [None] * len(edits)
    text = original
    spans: list[tuple[int, int] | None] = []  # where each edit's new text is in `text`
    for old, new in edits:
        at = text.find(old) if isinstance(old, str) and old and isinstance(new, str) else -1
        if at < 0:
            spans.append(None)
            continue
        end, delta = at + len(old), len(new) - len(old)
        spans = [
            None if s is None or (s[0] < end and s[0] + s[1] > at) else (s[0] + delta, s[1]) if s[0] >= end else s
            for s in spans
        ]
        text = text[:at] + new + text[end:]
        spans.append((at, len(new)))
    return [text.count("\n", 0, s[0]) + 1 if s is not None else None for s in spans]


def _result_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(b.get("text", "") for b in content if isinstance(b, dict) and b.get("type") == "text")
    return "" if content is None else json.dumps(content)


class ClaudeCodeParser:
    """Claude Code session transcripts (``~/.claude/projects/<project>/<session>.jsonl``).

    One attempt per API response (``message.id``): its lines (one per content
    block) are merged, keeping the usage with the largest ``output_tokens``; its
    tool calls' results decide its status."""

    source = "claude-code"

    def __init__(self, path: Path, state: dict[str, Any] | None) -> None:
        self.path = path
        self.s = state or {
            "request": None,
            "title": None,
            "session": None,
            "cwd": None,
            "pending": {},
            "tools": {},
            "current": None,
            "open_failures": {},
        }
        self.retries = _Retries(self.s)
        self.sessions: dict[str, dict[str, Any]] = {}

    def state(self) -> dict[str, Any]:
        return self.s

    def _session(self, obj: dict[str, Any]) -> str:
        key = obj.get("sessionId") or self.s["session"] or self.path.stem
        if key != self.s["session"] or key not in self.sessions:
            self.s["session"] = key
            try:
                correlation = uuid.UUID(key)
            except ValueError:
                correlation = uuid.uuid5(NAMESPACE, f"{self.source}:{key}")
            self.sessions[key] = {
                "key": key,
                "correlation_id": str(correlation),
                "path": str(self.path),
                "title": self.s["title"],
            }
        return key

    def feed(self, line_no: int, obj: Any) -> list[dict[str, Any]]:
        if not isinstance(obj, dict):
            raise ValueError("not a JSON object")
        kind = obj.get("type")
        if kind == "summary":
            self.s["title"] = _clip(obj.get("summary"), 200)
            return []
        if kind not in ("user", "assistant"):
            return []  # system lines and others carry no unit of work
        message = obj.get("message")
        if not isinstance(message, dict):
            raise ValueError(f"a {kind} line without a message object")
        self.s["cwd"] = obj.get("cwd") or self.s["cwd"]
        if "gitBranch" in obj:
            self.s["branch"] = obj["gitBranch"]
        session = self._session(obj)
        done: list[dict[str, Any]] = []
        if kind == "assistant":
            mid = message.get("id") or obj.get("requestId") or obj.get("uuid")
            if not mid or message.get("model") == "<synthetic>":
                return []  # written by Claude Code itself, not an API response
            current = self.s["current"]
            if current is not None and current != mid:
                done += self._blocks_done(current)
            self.s["current"] = mid
            self._assistant(mid, session, obj, message, line_no)
        else:
            current = self.s["current"]
            if current is not None:
                self.s["current"] = None
                done += self._blocks_done(current)
            done += self._user(obj, message)
        return done

    def _assistant(self, mid: str, session: str, obj: dict, message: dict, line_no: int) -> None:
        unit = self.s["pending"].get(mid)
        if unit is None:
            unit = self.s["pending"][mid] = {
                "key": mid,
                "session": session,
                "request": self.s["request"],
                "model": message.get("model"),
                "started_at": obj.get("timestamp"),
                "completed_at": obj.get("timestamp"),
                "usage": None,
                "calls": [],
                "results": {},
                "blocks_done": False,
                "line": line_no,
                "cwd": self.s["cwd"],
                "branch": self.s.get("branch"),
            }
        unit["completed_at"] = max(filter(None, (unit["completed_at"], obj.get("timestamp"))), default=None)
        usage = message.get("usage")
        if isinstance(usage, dict):
            best = unit["usage"]
            if best is None or (usage.get("output_tokens") or 0) > (best.get("output_tokens") or 0):
                unit["usage"] = usage
                unit["usage_line"] = line_no
        for block in message.get("content") or []:
            if isinstance(block, dict) and block.get("type") == "tool_use":
                name = str(block.get("name") or "tool")
                tool_input = block.get("input") if isinstance(block.get("input"), dict) else {}
                unit["calls"].append({"id": block.get("id"), "name": name, "input": tool_input})
                self.s["tools"][block.get("id")] = mid

    def _user(self, obj: dict, message: dict) -> list[dict[str, Any]]:
        content = message.get("content")
        done: list[dict[str, Any]] = []
        if isinstance(content, str):
            self._prompt(obj, content)
            return done
        texts = []
        blocks = content if isinstance(content, list) else []
        # the line's toolUseResult is its one tool result's (the file before an edit)
        single = sum(1 for b in blocks if isinstance(b, dict) and b.get("type") == "tool_result") == 1
        for block in blocks:
            if not isinstance(block, dict):
                continue
            if block.get("type") == "tool_result":
                mid = self.s["tools"].pop(block.get("tool_use_id"), None)
                unit = self.s["pending"].get(mid) if mid else None
                if unit is None:
                    continue
                result = {"error": bool(block.get("is_error")), "text": _result_text(block.get("content"))}
                call = next((c for c in unit["calls"] if c["id"] == block.get("tool_use_id")), None)
                lines = _claude_edit_lines(call, obj.get("toolUseResult")) if call and single else None
                if lines and any(lines):
                    result["lines"] = lines
                unit["results"][block.get("tool_use_id")] = result
                unit["completed_at"] = max(filter(None, (unit["completed_at"], obj.get("timestamp"))), default=None)
                done += self._complete(mid)
            elif block.get("type") == "text":
                texts.append(block.get("text") or "")
        if texts:
            self._prompt(obj, "\n".join(texts))
        return done

    def _prompt(self, obj: dict, text: str) -> None:
        text = text.strip()
        if obj.get("isMeta") or not text or text.startswith(("<command-", "<local-command-", "[Request interrupted")):
            return
        self.s["request"] = _clip(text)
        self.s.setdefault("first_request", _first_line(text, 200))

    def _blocks_done(self, mid: str) -> list[dict[str, Any]]:
        unit = self.s["pending"].get(mid)
        if unit is None:
            return []
        unit["blocks_done"] = True
        return self._complete(mid)

    def _complete(self, mid: str, force: bool = False) -> list[dict[str, Any]]:
        """The unit of a response when it is complete (or ``force``d at the end of
        the file). One still waiting for a tool result is recorded as running and
        kept, so that the result, when it is written, finishes it."""
        unit = self.s["pending"][mid]
        waiting = [c for c in unit["calls"] if c["id"] not in unit["results"]]
        if not force and (not unit["blocks_done"] or waiting):
            return []
        if waiting:
            unit["blocks_done"] = True
        else:
            del self.s["pending"][mid]
        return [self._unit(unit, running=bool(waiting))]

    def flush(self) -> list[dict[str, Any]]:
        """Every response still open: complete as far as the file goes."""
        self.s["current"] = None
        return [u for mid in list(self.s["pending"]) for u in self._complete(mid, force=True)]

    def _rel(self, path: str) -> str:
        cwd = self.s["cwd"]
        if cwd and path.startswith(cwd.rstrip("/") + "/"):
            return path[len(cwd.rstrip("/")) + 1 :]
        return path

    def _describe(self, call: dict[str, Any]) -> tuple[str, str]:
        """The kind of a tool call (what a retry must repeat) and a short description."""
        name, inp = call["name"], call["input"]
        path = inp.get("file_path") or inp.get("notebook_path")
        if name in _FILE_TOOLS and isinstance(path, str):
            return f"{name}:{path}", f"{name} {self._rel(path)}"
        if name == "Bash":
            return name, f"Bash: {_first_line(str(inp.get('command', '')))}"
        arg = next(
            (
                inp[k]
                for k in ("pattern", "query", "url", "path", "description", "prompt")
                if isinstance(inp.get(k), str)
            ),
            "",
        )
        return name, f"{name} {_first_line(arg, 80)}".strip()

    def _artifacts(self, p: dict[str, Any]) -> dict[str, Any] | None:
        """The code a response wrote: Write's files (lines 1 to the end), Edit's and
        MultiEdit's new text at the line the tool result puts it, NotebookEdit's cells;
        with the working directory and git branch the log names."""
        files: dict[str, str] = {}
        snippets: list[dict[str, Any]] = []
        for call in p["calls"]:
            inp = call["input"]
            path = inp.get("file_path") or inp.get("notebook_path")
            rel = self._rel(path) if isinstance(path, str) else None
            lines = (p["results"].get(call["id"]) or {}).get("lines") or []
            if call["name"] == "Write" and isinstance(inp.get("content"), str) and rel:
                files[rel] = inp["content"]
            elif call["name"] == "Edit" and isinstance(inp.get("new_string"), str):
                snippet = {"code": inp["new_string"], "path": rel, "name": PurePosixPath(rel or "edit").name}
                if lines and lines[0] and rel:
                    snippet["line_start"] = lines[0]
                snippets.append(snippet)
            elif call["name"] == "MultiEdit" and isinstance(inp.get("edits"), list):
                for i, e in enumerate(inp["edits"]):
                    if isinstance(e, dict) and isinstance(e.get("new_string"), str):
                        snippet = {"code": e["new_string"], "path": rel, "name": PurePosixPath(rel or "edit").name}
                        if i < len(lines) and lines[i] and rel:
                            snippet["line_start"] = lines[i]
                        snippets.append(snippet)
            elif call["name"] == "NotebookEdit" and isinstance(inp.get("new_source"), str):
                language = "markdown" if inp.get("cell_type") == "markdown" else "python"
                snippets.append(
                    {"code": inp["new_source"], "language": language, "name": PurePosixPath(rel or "cell").name}
                )
        artifacts: dict[str, Any] = {}
        if files:
            artifacts["files"] = files
        if snippets:
            artifacts["snippets"] = snippets
        if not artifacts:
            return None
        return with_units({**code_place(p.get("cwd") or self.s["cwd"], p.get("branch")), **artifacts})

    def _unit(self, p: dict[str, Any], running: bool) -> dict[str, Any]:
        described = [self._describe(c) for c in p["calls"]]
        kinds = list(dict.fromkeys(k for k, _ in described))
        description = _clip("; ".join(d for _, d in described), 1000) if described else None
        errors = [(c, r) for c in p["calls"] if (r := p["results"].get(c["id"])) and r["error"]]
        rejected = [r for _, r in errors if r["text"].startswith(_REJECTED)]
        failed = [(c, r) for c, r in errors if not r["text"].startswith(_REJECTED)]
        if running:
            status = "running"
        elif failed:
            status = "error"
        elif rejected:
            status = "cancelled"
        else:
            status = "success"
        unit = _unit(
            p["key"],
            p["session"],
            self.source,
            p["request"] or self.s["title"] or f"Claude Code session {p['session']}",
            p["model"],
            p["started_at"],
            p["completed_at"],
            status,
            approach=description,
            tools=[c["name"] for c in p["calls"]] or None,
            usage=p["usage"],
            at=p["line"],
            usage_at=p.get("usage_line", p["line"]),
        )
        if failed:
            call, result = failed[0]
            unit["error_type"] = f"{call['name']} tool error"
            unit["error_message"] = _clip(_TAG.sub("", result["text"])) or f"{call['name']} failed"
        elif rejected:
            unit["error_message"] = _clip(rejected[0]["text"])
        if status == "success":
            unit["artifacts"] = self._artifacts(p)
        failed_calls = [id(c) for c, _ in failed]
        failed_kinds = [kind for c, (kind, _) in zip(p["calls"], described, strict=True) if id(c) in failed_calls]
        if status != "running":
            self.retries.link(unit, kinds, failed_kinds, description)
        return unit


def _claude_edit_lines(call: dict[str, Any], result: Any) -> list[int | None] | None:
    """The line at which each new text of an Edit or MultiEdit call starts in the
    edited file, from its tool result (``toolUseResult``): by the file before the
    edit (originalFile), else, for one Edit, by the new side of its structuredPatch."""
    inp = call["input"]
    if call["name"] == "Edit":
        edits = [(inp.get("old_string"), inp.get("new_string"))]
    elif call["name"] == "MultiEdit" and isinstance(inp.get("edits"), list):
        edits = [
            (e.get("old_string"), e.get("new_string")) if isinstance(e, dict) else (None, None) for e in inp["edits"]
        ]
    else:
        return None
    if not isinstance(result, dict):
        return None
    lines = edit_lines(result.get("originalFile"), edits)
    if lines[0] is None and len(edits) == 1:
        lines = [_patch_line(result.get("structuredPatch"), edits[0][1])]
    return lines


def _patch_line(patch: Any, new: Any) -> int | None:
    """The new file's line at which `new` starts, in the hunks of a structured patch."""
    if not isinstance(new, str) or not new.strip() or not isinstance(patch, list):
        return None
    want = new.splitlines()
    for hunk in patch:
        start = hunk.get("newStart") if isinstance(hunk, dict) else None
        if not isinstance(start, int) or isinstance(start, bool) or start < 1:
            continue
        side = [x[1:] for x in hunk.get("lines") or [] if isinstance(x, str) and not x.startswith("-")]
        for i in range(len(side) - len(want) + 1):
            if side[i : i + len(want)] == want:
                return start + i
    return None


_SWE_SYNTAX = re.compile(r"^Your proposed edit has introduced new syntax error", re.M)
_SWE_EXCEPTION = re.compile(r"^((?:[A-Za-z_]\w*\.)*[A-Za-z_]\w*(?:Error|Exception)): (.*)$", re.M)
_SWE_SHELL = re.compile(r"^.*(?:command not found|No such file or directory).*$", re.M)


def swe_agent_error(action: str, observation: str) -> tuple[str, str] | None:
    """The error an SWE-agent step met, read from its observation (SWE-agent records
    no status per step): a rejected edit (the linter's errors), a Python exception
    (its last line), or a shell error. None for a step that went through."""
    if action.strip().startswith("submit"):
        return None
    if _SWE_SYNTAX.search(observation):
        found = re.findall(r"^- (E\d+ .+)$", observation, re.M)
        return "edit rejected", _clip("Your proposed edit has introduced new syntax error(s): " + "; ".join(found))
    exceptions = _SWE_EXCEPTION.findall(observation)
    if exceptions and ("Traceback (most recent call last)" in observation or len(observation) < 2000):
        name, message = exceptions[-1]
        return name, _clip(f"{name}: {message}")
    shell = _SWE_SHELL.search(observation)
    if shell:
        return "shell error", _clip(shell.group(0))
    return None


def _swe_issue(history: list[Any]) -> str | None:
    """The issue text of an SWE-agent run: its first user message that is not a
    demonstration. BadValue when it cannot be read."""
    for n, message in enumerate(history):
        if isinstance(message, dict) and message.get("role") == "user" and not message.get("is_demo"):
            with _located(["history", n]):
                return _swe_issue_text(n, message)
    return None


def _swe_issue_text(n: int, message: dict[str, Any]) -> str | None:
    content = message.get("content")
    for k, block in enumerate(content if isinstance(content, list) else []):
        if isinstance(block, dict) and block.get("type") == "text":
            _want(block, "text", f"history[{n}].content[{k}].text", str)
    text = _result_text(content)
    check_nul(text, f"history[{n}].content")
    found = re.search(r"ISSUE:\n(.*?)(?:\n\nINSTRUCTIONS:|\Z)", text, re.S)
    return _clip(found.group(1) if found else text)


def _swe_replay(replay: Any) -> dict[str, Any]:
    """An SWE-agent run's replay config (a JSON string or object), or {}."""
    if isinstance(replay, str):
        try:
            replay = json.loads(replay)
        except ValueError:
            return {}
    return replay if isinstance(replay, dict) else {}


# an SWE-bench instance id, as SWE-agent names a trajectory by it: owner__repo-number
_SWE_INSTANCE = re.compile(r"^([A-Za-z0-9][\w.-]*)__([\w.-]+?)-i?\d+$")


def _swe_place(replay: Any, stem: str) -> dict[str, str]:
    """Where an SWE-agent run's code lives: the repository of its replay config
    (``env.repo``: github_url, else repo_name or path) and its base commit when it is
    a SHA; without a replay config, the repository its file's SWE-bench instance id
    names (``owner__repo-1458``: owner/repo)."""
    env = _swe_replay(replay).get("env")
    repo = env.get("repo") if isinstance(env, dict) else None
    repo = repo if isinstance(repo, dict) else {}
    url = next((repo[k] for k in ("github_url", "repo_name", "path") if isinstance(repo.get(k), str) and repo[k]), None)
    if url is None and (instance := _SWE_INSTANCE.match(stem)):
        url = f"{instance[1]}/{instance[2]}"
    return code_place(url.rstrip("/") if url else None, None, repo.get("base_commit"))


def _swe_model(replay: Any) -> str | None:
    """The model an SWE-agent run names in its replay config (a JSON string or object)."""
    replay = _swe_replay(replay)
    agent = replay.get("agent")
    config = agent.get("model") if isinstance(agent, dict) else None
    return _want(config, "name", "replay_config.agent.model.name", str) if isinstance(config, dict) else None


@contextmanager
def _located(at: list) -> Iterator[None]:
    """A BadValue raised inside is located at ``at`` (unless it knows better)."""
    try:
        yield
    except BadValue as exc:
        exc.at = exc.at or at
        raise


def parse_swe_agent(
    path: Path, document: Any, default_model: str | None
) -> tuple[dict[str, Any], list[dict[str, Any]], list[BadValue]]:
    """An SWE-agent trajectory (``.traj``): one attempt per step, without usage
    (SWE-agent records none per step), and one attempt for the whole run with
    ``info.model_stats`` as its usage, the submitted diff as its artefacts and its
    ``instance_cost`` kept beside ours. Returns the session, the units and the bad
    values left out (a bad step is left out; a bad value of what every unit shares,
    the issue or the model, raises BadValue)."""
    if not isinstance(document, dict) or not isinstance(document.get("trajectory"), list):
        raise ValueError("not an SWE-agent trajectory: no trajectory list")
    bad: list[BadValue] = []
    info = document.get("info") if isinstance(document.get("info"), dict) else {}
    stats = info.get("model_stats") if isinstance(info.get("model_stats"), dict) else {}
    with _located(["replay_config"]):
        model = _swe_model(document.get("replay_config")) or default_model
    history = document.get("history") if isinstance(document.get("history"), list) else []
    request = _swe_issue(history) or f"SWE-agent run {path.stem}"
    identity = hashlib.sha256(f"{path.stem}\0{request}".encode()).hexdigest()[:16]
    session_key = f"{path.stem}:{identity}"
    when = _mtime_iso(path)
    cost = stats.get("instance_cost")
    if cost is not None and (not isinstance(cost, (int, float)) or isinstance(cost, bool) or cost < 0):
        bad.append(BadValue("info.model_stats.instance_cost", f"must be a number >= 0, got {_short(cost)}", ["info"]))
        cost = None
    session = {
        "key": session_key,
        "correlation_id": str(uuid.uuid5(NAMESPACE, f"swe-agent:{session_key}")),
        "path": str(path),
        "title": _first_line(request, 200),
        "model": model,
        "reported_cost_usd": str(cost) if cost is not None else None,
        "reported_usage": stats or None,
    }
    units: list[dict[str, Any]] = []
    retries = _Retries({})
    for i, step in enumerate(document["trajectory"]):
        at = ["trajectory", i]
        try:
            if not isinstance(step, dict):
                raise BadValue(f"trajectory[{i}]", f"must be an object, got {_kind(step)} {_short(step)}")
            check_nul(step, f"trajectory[{i}]")
        except BadValue as exc:
            exc.at = at
            bad.append(exc)
            continue
        action = str(step.get("action") or "").strip()
        observation = str(step.get("observation") or "")
        error = swe_agent_error(action, observation)
        description = _first_line(action, 200) or "(empty action)"
        kind = action.split()[0] if action else "(empty)"
        unit = _unit(
            f"{session_key}:{i}",
            session_key,
            "swe-agent",
            request,
            model,
            when,
            when,
            "error" if error else "success",
            approach=description,
            tools=[kind] if action else None,
            error_type=error[0] if error else None,
            error_message=error[1] if error else None,
            at=at,
        )
        retries.link(unit, [kind], [kind] if error else [], description)
        units.append(unit)
    try:
        with _located(["info"]):
            place = _swe_place(document.get("replay_config"), path.stem)
            _swe_run(info, stats, units, session_key, request, model, when, len(document["trajectory"]), place)
    except BadValue as exc:  # the run's attempt is left out; its steps are in
        bad.append(exc)
    return session, units, bad


def _swe_run(
    info: dict,
    stats: dict,
    units: list,
    session_key: str,
    request: str,
    model: str | None,
    when: str,
    steps: int,
    place: dict[str, str],
) -> None:
    """The attempt of a whole SWE-agent run, appended to ``units``: its exit status,
    the tokens of ``info.model_stats`` and the submitted diff, with where the code
    lives (``place``, _swe_place); BadValue for a bad count."""
    check_nul(info, "info")
    exit_status = str(info.get("exit_status") or "")
    submission = info.get("submission") if isinstance(info.get("submission"), str) else None
    if exit_status.startswith("submitted") and submission:
        status, error_type, message = "success", None, None
    elif exit_status in ("exit_cost", "exit_context"):
        status, error_type, message = "timeout", "exit status", f"SWE-agent stopped: {exit_status}"
    else:
        status, error_type, message = "error", "exit status", f"SWE-agent stopped: {exit_status or 'no exit status'}"
    usage = None
    if stats:
        for key in ("tokens_sent", "tokens_received"):
            _want_count(stats.get(key), f"info.model_stats.{key}")
        usage = {
            "prompt_tokens": int(stats.get("tokens_sent") or 0),
            "completion_tokens": int(stats.get("tokens_received") or 0),
        }
    units.append(
        _unit(
            f"{session_key}:run",
            session_key,
            "swe-agent",
            request,
            model,
            when,
            when,
            status,
            approach=f"SWE-agent run of {steps} steps",
            usage=usage,
            error_type=error_type,
            error_message=message,
            artifacts=with_units({**place, "diff": submission}) if status == "success" else None,
            at=["info"],
        )
    )


def _openhands_error(observation: dict[str, Any]) -> tuple[str, str, str] | None:
    """(status, error type, message) of a failed OpenHands observation, else None."""
    kind = observation.get("observation")
    content = str(observation.get("content") or observation.get("message") or "")
    extras = observation.get("extras") if isinstance(observation.get("extras"), dict) else {}
    metadata = extras.get("metadata") if isinstance(extras.get("metadata"), dict) else {}
    if kind == "error":
        return "error", "error observation", _clip(content) or "error"
    if kind == "run":
        code = metadata.get("exit_code")
        if code == -1:
            return "timeout", "command timeout", _clip(observation.get("message") or content) or "no exit code"
        if (isinstance(code, int) and code != 0) or observation.get("success") is False:
            tail = content.strip().splitlines()[-1:] or [""]
            return "error", f"exit code {code}", _clip(f"exit code {code}: {tail[0]}")
    if content.startswith("ERROR:"):
        return "error", f"{kind} error", _clip(content)
    return None


def check_openhands_event(event: Any, n: int) -> None:
    """BadValue for an OpenHands event that cannot be imported: not an object, a NUL
    in it, ids and times of the wrong kind, a model response whose id, model or
    usage is bad."""
    where = f"[{n}]"
    if not isinstance(event, dict):
        raise BadValue(where, f"must be an object, got {_kind(event)} {_short(event)}")
    check_nul(event, where)
    for key in ("id", "cause"):
        _want(event, key, f"{where}.{key}", int, str)
    _want_time(event, "timestamp", f"{where}.timestamp")
    args = _want(event, "args", f"{where}.args", dict) or {}
    _want(args, "path", f"{where}.args.path", str)
    meta = _want(event, "tool_call_metadata", f"{where}.tool_call_metadata", dict) or {}
    response = _want(meta, "model_response", f"{where}.tool_call_metadata.model_response", dict) or {}
    where = f"{where}.tool_call_metadata.model_response"
    _want(response, "id", f"{where}.id", str)
    _want(response, "model", f"{where}.model", str)
    if _want(response, "usage", f"{where}.usage", dict) is not None:
        _want_counts(response["usage"], f"{where}.usage")


def _openhands_workdir(events: list[dict[str, Any]]) -> str | None:
    """The working directory of an OpenHands session: the first that a command's
    observation names (``extras.metadata.working_dir``), else None."""
    for event in events:
        extras = event.get("extras") if "observation" in event else None
        metadata = extras.get("metadata") if isinstance(extras, dict) else None
        workdir = metadata.get("working_dir") if isinstance(metadata, dict) else None
        if isinstance(workdir, str) and workdir:
            return workdir
    return None


def parse_openhands(path: Path, document: Any) -> tuple[dict[str, Any], list[dict[str, Any]], list[BadValue]]:
    """An OpenHands trajectory (a JSON list of events): one attempt per LLM response
    (``tool_call_metadata.model_response.id``, whose usage the action and its
    observation both repeat), with the actions it took and their observations.
    Returns the session, the units and the bad events left out."""
    if not isinstance(document, list):
        raise ValueError("not an OpenHands trajectory: not a list of events")
    bad: list[BadValue] = []
    events: list[dict[str, Any]] = []
    where: dict[int, int] = {}  # id(event) -> its index in the document
    for n, event in enumerate(document):
        try:
            check_openhands_event(event, n)
        except BadValue as exc:
            exc.at = [n]
            bad.append(exc)
            continue
        events.append(event)
        where[id(event)] = n
    first = next(
        (e for e in events if e.get("source") == "user" and e.get("action") == "message"), events[0] if events else {}
    )
    identity = hashlib.sha256(f"{path.stem}\0{first.get('timestamp')}\0{first.get('message')}".encode()).hexdigest()[
        :16
    ]
    session_key = f"{path.stem}:{identity}"
    session = {
        "key": session_key,
        "correlation_id": str(uuid.uuid5(NAMESPACE, f"openhands:{session_key}")),
        "path": str(path),
        "title": _first_line(str(first.get("message") or path.stem), 200),
        "model": None,
    }
    observations = {e.get("cause"): e for e in events if "observation" in e and e.get("cause") is not None}
    place = code_place(_openhands_workdir(events))
    responses: dict[str, dict[str, Any]] = {}
    request = None
    for event in events:
        if event.get("source") == "user" and event.get("action") == "message":
            request = _clip(str((event.get("args") or {}).get("content") or event.get("message") or "")) or request
            continue
        if "action" not in event:
            continue
        response = (event.get("tool_call_metadata") or {}).get("model_response") or {}
        rid = response.get("id")
        if not rid:
            continue  # no LLM response recorded for it (user input, state changes)
        unit = responses.get(rid)
        if unit is None:
            unit = responses[rid] = {
                "key": rid,
                "session": session_key,
                "request": request,
                "model": response.get("model"),
                "usage": response.get("usage"),
                "started_at": _utc(event.get("timestamp")),
                "completed_at": _utc(event.get("timestamp")),
                "actions": [],
                "at": [where[id(event)]],
            }
        observation = observations.get(event.get("id"))
        unit["actions"].append((event, observation))
        if observation is not None and observation.get("timestamp"):
            unit["completed_at"] = max(unit["completed_at"] or "", _utc(observation["timestamp"]))
    units: list[dict[str, Any]] = []
    retries = _Retries({})
    for r in responses.values():
        descriptions, kinds, failed_kinds, error, files = [], [], [], None, {}
        for action, observation in r["actions"]:
            name = str(action.get("action"))
            args = action.get("args") or {}
            target = args.get("path") or args.get("command") or ""
            kind = f"{name}:{args['path']}" if args.get("path") else name
            kinds.append(kind)
            descriptions.append(f"{name} {_first_line(str(target), 120)}".strip())
            failure = _openhands_error(observation) if observation else None
            if failure and error is None:
                error = failure
            if failure:
                failed_kinds.append(kind)
            extras = observation.get("extras") if observation and isinstance(observation.get("extras"), dict) else {}
            # the file as written: the observation's new content, else what the action sent
            content = extras.get("new_content")
            if not isinstance(content, str):
                content = args.get("file_text") or (args.get("content") if name == "write" else None)
            if name in ("edit", "write") and args.get("path") and isinstance(content, str) and content and not failure:
                files[args["path"]] = content
        description = _clip("; ".join(descriptions), 1000)
        status = error[0] if error else "success"
        unit = _unit(
            r["key"],
            session_key,
            "openhands",
            r["request"] or session["title"] or f"OpenHands session {path.stem}",
            r["model"],
            r["started_at"],
            r["completed_at"],
            status,
            approach=description,
            tools=[a.get("action") for a, _ in r["actions"]],
            usage=r["usage"],
            error_type=error[1] if error else None,
            error_message=error[2] if error else None,
            artifacts=with_units({**place, "files": files}) if files and status == "success" else None,
            at=r["at"],
        )
        session["model"] = session["model"] or r["model"]
        retries.link(unit, kinds, failed_kinds, description)
        units.append(unit)
    return session, units, bad


# -- what SQL refuses --------------------------------------------------------------

_UNIT_INDEX = re.compile(r"^units\[(\d+)\](?: \((?:[^()]|\([^()]*\))*\))?:? ?")
_SPACE = re.compile(r"\s*")
_INPUT_CLASSES = ("22", "23", "54")  # data exceptions, integrity constraints, program limits (a value too big)

# the fields of import_units as the logs of each format name them
_LOG_FIELDS = {
    "claude-code": {
        "usage": "message.usage",
        "started_at": "timestamp",
        "completed_at": "timestamp",
        "model": "message.model",
        "key": "message.id",
        "session": "sessionId",
    },
    "swe-agent": {"usage": "info.model_stats"},
    "openhands": {
        "usage": "tool_call_metadata.model_response.usage",
        "started_at": "timestamp",
        "completed_at": "timestamp",
        "model": "tool_call_metadata.model_response.model",
        "key": "tool_call_metadata.model_response.id",
    },
}


@dataclass(frozen=True)
class _Refusal:
    """An error of import_units that refuses its input: the unit it names (0-based
    in the batch, None when it names none), the field and the reason."""

    unit: int | None
    field: str | None
    reason: str


def _refusal(exc: DebugloopError) -> _Refusal | None:
    """What an error says about the input it refused: a business error (class DL),
    or a data exception, constraint or size limit met while recording it; None for
    any other error (the server, a bug), which is not the input's fault."""
    if isinstance(exc, BusinessError):
        field, message, detail = exc.field, exc.message, exc.detail
    elif isinstance(exc, DatabaseError) and (exc.sqlstate or "")[:2] in _INPUT_CLASSES:
        diag = getattr(exc.__cause__, "diag", None)
        field = diag.column_name if diag else None
        message = (diag.message_primary if diag else None) or str(exc)
        detail = diag.message_detail if diag else None
    else:
        return None
    found = _UNIT_INDEX.match(message)
    unit = int(found.group(1)) - 1 if found else None
    reason = message[found.end() :] if found else message
    if detail:
        reason += f" ({detail})"
    if field and field.startswith("units."):
        field = field[len("units.") :]
    elif field == "units":
        field = None
    return _Refusal(unit, field, reason)


class _JsonLines:
    """The line number of a part of a whole-JSON log, by its JSON path (keys and
    indexes): found by decoding the document again, only when one is asked for."""

    def __init__(self, raw: bytes) -> None:
        self.raw = raw
        self.text: str | None = None

    def __call__(self, at: list | None) -> int:
        if self.text is None:
            self.text = self.raw.decode("utf-8", "replace")
        text, decoder, pos, space = self.text, json.JSONDecoder(), 0, _SPACE
        try:
            for step in at or []:
                pos = space.match(text, pos).end()
                if isinstance(step, int):
                    pos += 1  # [
                    for _ in range(step):
                        pos = decoder.raw_decode(text, space.match(text, pos).end())[1]
                        pos = space.match(text, pos).end() + 1  # ,
                else:
                    pos += 1  # {
                    while True:
                        key, pos = decoder.raw_decode(text, space.match(text, pos).end())
                        pos = space.match(text, pos).end() + 1  # :
                        if key == step:
                            break
                        pos = decoder.raw_decode(text, space.match(text, pos).end())[1]
                        pos = space.match(text, pos).end() + 1  # ,
                pos = space.match(text, pos).end()
        except (ValueError, IndexError):
            return 1
        return text.count("\n", 0, pos) + 1


# -- files -------------------------------------------------------------------------


def find_files(source: str, paths: Iterable[Path]) -> list[Path]:
    """The log files under ``paths`` (files, or folders searched recursively) for a
    format: ``*.jsonl`` for Claude Code, ``*.traj`` for SWE-agent, ``*.json`` for
    OpenHands. A path that does not exist is InvalidParameter."""
    pattern = {"claude-code": "*.jsonl", "swe-agent": "*.traj", "openhands": "*.json"}[source]
    found: list[Path] = []
    for path in paths:
        path = Path(path).expanduser()
        if path.is_dir():
            found += sorted(p for p in path.rglob(pattern) if p.is_file())
        elif path.is_file():
            found.append(path)
        else:
            raise InvalidParameter(f"{path}: no such file or folder", field="path")
    return list(dict.fromkeys(found))


def _head_md5(path: Path) -> str:
    with path.open("rb") as fh:
        return hashlib.md5(fh.read(HEAD_BYTES)).hexdigest()


@dataclass
class _Batch:
    """Units of one log file parsed and ready to record: the lines skipped and read
    on the way, the sessions first seen, and the read position after them."""

    path: Path
    skipped: list[Skipped]
    lines: int
    sessions: list[dict[str, Any]]
    units: list[dict[str, Any]]
    file: dict[str, Any]
    consumed: int


class _Pipeline:
    """The batches of many files, produced by a thread of their own (``produce(path)``
    yields a file's batches) at most QUEUE_BATCHES ahead of the caller, who takes
    them file by file, in order (``of(path)``). The parsing runs while the caller
    waits on the database; an error while a file is produced is raised to the
    caller in that file's place, and the next file goes on."""

    QUEUE_BATCHES = 4

    def __init__(self, produce: Callable[[Path], Iterator[Any]], files: list[Path]) -> None:
        self._queue: queue.Queue = queue.Queue(self.QUEUE_BATCHES)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(produce, files), name="debugloop-import", daemon=True)
        self._thread.start()

    def _put(self, item: tuple) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _run(self, produce: Callable[[Path], Iterator[Any]], files: list[Path]) -> None:
        for path in files:
            try:
                for item in produce(path):
                    if not self._put((path, "item", item)) or self._skip == path:
                        break
            except BaseException as exc:  # raised to the caller with the file
                if not self._put((path, "error", exc)):
                    return
            if not self._put((path, "end", None)):
                return

    _skip: Path | None = None

    def of(self, path: Path) -> Iterator[Any]:
        """The batches of ``path`` (the next file in order); if the caller stops
        early (an error while recording), the rest of the file is dropped."""
        finished = False
        try:
            while True:
                got, kind, item = self._queue.get()
                if got != path:
                    raise RuntimeError(f"the import's batches are out of order: {got} before {path}")
                if kind == "end":
                    finished = True
                    return
                if kind == "error":
                    self._drain_to_end(path)
                    finished = True
                    raise item
                yield item
        finally:
            if not finished:
                self._skip = path
                self._drain_to_end(path)

    def _drain_to_end(self, path: Path) -> None:
        while self._thread.is_alive() or not self._queue.empty():
            try:
                got, kind, _ = self._queue.get(timeout=0.1)
            except queue.Empty:
                continue
            if kind == "end" and got == path:
                return

    def close(self) -> None:
        self._stop.set()
        self._thread.join()


class _Learner:
    """The learning the import queues (``learn_pending``: STFs, golden states), done
    by a thread of its own on a connection of its own while the import inserts
    (the database's second core), then to the end of the queue once the import
    finished (:meth:`finish`). ``progress(learned, learned + queued)`` after each
    batch that learned something."""

    BATCH_ROWS = 500

    def __init__(self, manager: Manager, progress: Callable[[int, int], None] | None) -> None:
        self._manager = manager
        self._progress = progress
        self._done = threading.Event()
        self._error: BaseException | None = None
        self.learned = 0
        self._thread = threading.Thread(target=self._run, name="debugloop-learn", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            while True:
                last = self._done.is_set()  # read before the batch: rows committed after it are still to come
                n = self._manager._value(Q.learn_pending, {"max_rows": self.BATCH_ROWS})
                self.learned += n
                if n and self._progress:
                    self._progress(self.learned, self.learned + self._manager._value(Q.learn_queued))
                if n == 0:
                    if last:
                        return
                    self._done.wait(0.05)
        except BaseException as exc:  # raised to the caller by finish()
            self._error = exc

    def finish(self) -> int:
        """Wait until the queue is drained (rows another worker holds excepted);
        how many attempts this learner learned."""
        self._done.set()
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self.learned


class ImportManager(Manager):
    """``debugloop.import_*``: agent logs as attempts."""

    def run(
        self,
        source: str,
        paths: Iterable[Path],
        *,
        default_model: str | None = None,
        settle: float = 0.0,
        progress: Callable[[int, int], None] | None = None,
        run_id: uuid.UUID | None = None,
        learn: bool = True,
        learning: Callable[[int, int], None] | None = None,
    ) -> ImportResult:
        """Import the logs of ``source`` under ``paths`` (files or folders); each file
        from where its last import stopped. Responses still open at the end of a file
        are recorded when the file has not changed for ``settle`` seconds (0: always,
        as a one-shot import does; ``--follow`` waits). ``progress(bytes_done,
        bytes_total)`` is called as batches are recorded. Claude Code logs are parsed
        by a second thread while the database records the previous batch (the two
        cores work at once); what is recorded, and in which order, is the same.
        What the attempts teach (STFs, golden states), queued by import_units when
        import_defer_learning is on, is learned on a second connection while the
        import goes on, and to the end before this returns (``learning(learned,
        total)`` tells how far); ``learn=False`` leaves it queued for
        ``debugloop learn`` or the relay."""
        if source not in SOURCES:
            raise InvalidParameter(f"source must be one of {', '.join(SOURCES)}, got {source!r}", field="source")
        files = find_files(source, paths)
        result = ImportResult(run_id=run_id or uuid.uuid4())
        sizes = {f: f.stat().st_size for f in files}
        total, done = sum(sizes.values()), 0
        learner = _Learner(self, learning) if learn and files else None
        batches = _Pipeline(lambda path: self._jsonl_batches(path, settle), files) if source == "claude-code" else None
        try:
            for path in files:
                try:
                    if batches is not None:
                        for batch in batches.of(path):
                            self._record(batch, result)
                            if progress and batch is not None:
                                progress(done + batch.consumed, total)
                    else:
                        self._document(source, path, result, default_model)
                except OSError as exc:
                    result.skipped.append(Skipped(str(path), 1, f"cannot read the file: {exc.strerror or exc}"))
                except DebugloopError as exc:  # the file's session or read position refused: the next file goes on
                    refusal = _refusal(exc)
                    if refusal is None:
                        raise
                    result.skipped.append(Skipped(str(path), 1, refusal.reason, field=refusal.field))
                done += sizes[path]
                if progress:
                    progress(done, total)
        finally:
            if batches is not None:
                batches.close()
            if learner is not None:
                result.learned = learner.finish()
        return result

    def _position(self, source: str, path: Path):
        rows = self._rows(Q.import_file_position, {"source": source, "path": str(path)})
        return rows[0] if rows else None

    def _send(
        self, source: str, result: ImportResult, sessions: list[dict], units: list[dict], file: dict | None
    ) -> None:
        row = self._rows(
            Q.import_units,
            {
                "source": source,
                "run_id": result.run_id,
                "sessions": jsonb_fast(sessions),
                "units": jsonb_fast(units),
                "file": jsonb_fast(file) if file else None,
            },
        )[0]
        result.units += len(units)
        result.inserted += row["inserted"]
        result.finished += row["finished"]
        result.duplicates += row["duplicates"]

    def _send_batch(
        self,
        source: str,
        result: ImportResult,
        sessions: list[dict],
        units: list[dict],
        file: dict | None,
        report: Callable[[dict, _Refusal], None],
    ) -> None:
        """Send a batch. A unit SQL refuses (import_units names it) is reported and
        left out, and the rest sent again; an error that names no unit (the batch
        refused as a whole) halves the batch until the unit at fault is alone. So one
        bad unit costs one unit, and the common case one call. An error of the
        sessions or of the read position, or one that is not about the input (the
        server went away), is raised."""
        units = list(units)
        while True:
            try:
                self._send(source, result, sessions, units, file)
                return
            except DebugloopError as exc:
                refusal = _refusal(exc)
                if refusal is None or not units or (refusal.field or "").startswith(("sessions", "file")):
                    raise
            if refusal.unit is not None and refusal.unit < len(units) and refusal.field == "session":
                # the session is refused (another role's): so is every unit of it in the batch, reported once
                session = units[refusal.unit]["session"]
                left = [u for u in units if u["session"] != session]
                more = len(units) - len(left) - 1
                report(
                    units[refusal.unit],
                    _Refusal(
                        refusal.unit,
                        refusal.field,
                        refusal.reason + (f" ({more} more of its units left out)" if more else ""),
                    ),
                )
                units = left
            elif refusal.unit is not None and refusal.unit < len(units):
                report(units.pop(refusal.unit), refusal)
            elif len(units) == 1:
                report(units.pop(), refusal)
            else:
                self._send(source, result, sessions, [], None)  # raises when the sessions are at fault, not a unit
                half = len(units) // 2
                self._send_batch(source, result, sessions, units[:half], None, report)
                units = units[half:]

    def _jsonl_batches(self, path: Path, settle: float) -> Iterator[_Batch | None]:
        """A JSON-lines log from where the last import stopped, parsed into batches
        (None first, once the file counts as read); each batch commits its units
        with the read position and the parser's state (_record). The sessions and
        the state are copied as they are at the batch's end, so the parser may go
        on while the batch is recorded."""
        source = ClaudeCodeParser.source
        head = _head_md5(path)
        position = self._position(source, path)
        offset, line_no, state = 0, 0, None
        if position is not None and position["head_md5"] == head and position["byte_offset"] <= path.stat().st_size:
            offset, line_no, state = position["byte_offset"], position["line_number"], position["state"]
        parser = ClaudeCodeParser(path, state)
        yield None
        sent_sessions: set[str] = set()
        units: list[dict[str, Any]] = []
        skipped: list[Skipped] = []
        lines = 0

        def batch(end: int, line_number: int) -> _Batch:
            nonlocal units, skipped, lines
            sessions = [s for k, s in parser.sessions.items() if k not in sent_sessions]
            for s in sessions:
                s["title"] = parser.s["title"] or parser.s.get("first_request")
            file = {
                "path": str(path),
                "byte_offset": end,
                "line_number": line_number,
                "head_md5": head,
                "state": orjson.loads(orjson.dumps(parser.state())),
            }
            sent_sessions.update(s["key"] for s in sessions)
            done = _Batch(path, skipped, lines, [dict(s) for s in sessions], units, file, end)
            units, skipped, lines = [], [], 0
            return done

        with path.open("rb") as fh:
            fh.seek(offset)
            data = fh.read()
        pos = 0
        consumed = offset
        while pos < len(data):
            end = data.find(b"\n", pos)
            complete = end != -1
            raw = data[pos : end if complete else len(data)]
            next_pos = end + 1 if complete else len(data)
            line_no += 1
            if raw.strip():
                try:
                    obj = orjson.loads(raw)
                    if b"\\u0000" in raw:
                        check_nul(obj)
                    if isinstance(obj, dict):
                        check_claude_line(obj)
                    units += parser.feed(line_no, obj)
                except BadValue as exc:  # a valid line with a value that cannot be recorded
                    skipped.append(Skipped(str(path), line_no, exc.reason, field=exc.field))
                except (orjson.JSONDecodeError, ValueError) as exc:
                    if not complete:  # the last line is cut short: read it again next time
                        skipped.append(Skipped(str(path), line_no, f"truncated line ({len(raw)} bytes): {exc}"))
                        line_no -= 1
                        break
                    skipped.append(Skipped(str(path), line_no, f"malformed line: {exc}"))
                except (TypeError, KeyError, AttributeError, IndexError) as exc:  # a shape no check foresaw
                    skipped.append(Skipped(str(path), line_no, f"unexpected value: {type(exc).__name__}: {exc}"))
            elif not complete:
                line_no -= 1
                break
            pos = next_pos
            consumed = offset + pos
            lines += 1
            if len(units) >= BATCH_UNITS:
                yield batch(consumed, line_no)
        if settle <= 0 or time.time() - path.stat().st_mtime >= settle:
            units += parser.flush()
        yield batch(consumed, line_no)

    def _record(self, batch: _Batch | None, result: ImportResult) -> None:
        """Record one batch of _jsonl_batches (None: count the file)."""
        if batch is None:
            result.files += 1
            return
        source = ClaudeCodeParser.source
        path = batch.path
        result.skipped += batch.skipped
        result.lines += batch.lines

        def refused(unit: dict, refusal: _Refusal) -> None:
            line = unit.get("usage_at") if refusal.field == "usage" else unit.get("at")
            field = _LOG_FIELDS[source].get(refusal.field or "", refusal.field)
            result.skipped.append(Skipped(str(path), line or batch.file["line_number"], refusal.reason, field=field))

        self._send_batch(source, result, batch.sessions, batch.units, batch.file, refused)

    def _document(self, source: str, path: Path, result: ImportResult, default_model: str | None) -> None:
        """A whole-JSON log (SWE-agent, OpenHands): read again only when it changed;
        its units' keys make a second read add nothing."""
        result.files += 1
        size = path.stat().st_size
        head = _head_md5(path)
        position = self._position(source, path)
        if position is not None and position["head_md5"] == head and position["byte_offset"] == size:
            return
        raw = path.read_bytes()
        try:
            document = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            line = raw[: exc.pos].count(b"\n") + 1 if isinstance(exc.pos, int) else 1
            result.skipped.append(Skipped(str(path), line, f"malformed JSON: {exc}"))
            return
        file = {
            "path": str(path),
            "byte_offset": size,
            "line_number": raw.count(b"\n"),
            "head_md5": head,
            "state": None,
        }
        line_of = _JsonLines(raw)
        try:
            if source == "swe-agent":
                session, units, bad = parse_swe_agent(path, document, default_model)
            else:
                session, units, bad = parse_openhands(path, document)
        except BadValue as exc:  # in what every unit shares (the issue, the model): the file is left out
            result.skipped.append(Skipped(str(path), line_of(exc.at), exc.reason, field=exc.field))
            self._send(source, result, [], [], file)  # read: reported once, read again when it changes
            return
        except ValueError as exc:
            result.skipped.append(Skipped(str(path), 1, str(exc)))
            self._send(source, result, [], [], file)
            return
        result.lines += raw.count(b"\n") + 1
        result.skipped += [Skipped(str(path), line_of(exc.at), exc.reason, field=exc.field) for exc in bad]

        def refused(unit: dict, refusal: _Refusal) -> None:
            field = _LOG_FIELDS[source].get(refusal.field or "", refusal.field)
            result.skipped.append(Skipped(str(path), line_of(unit.get("at")), refusal.reason, field=field))

        self._send_batch(source, result, [session], units, file, refused)

    def report(self, run_id: uuid.UUID, conn=None) -> list[ImportReportRow]:
        """What one run recorded, per model (``import_report``)."""
        return self._models(ImportReportRow, Q.import_report, {"run_id": run_id}, conn)

    def sessions(self, source: str | None = None, limit: int = 10, conn=None) -> list[ImportSession]:
        """Imported sessions, costliest first (``import_sessions``)."""
        return self._models(ImportSession, Q.import_sessions, {"source": source, "limit": limit}, conn)

    def cost_differences(self, source: str | None = None, conn=None) -> list[ImportCostDifference]:
        """Sessions whose log reports its own cost, beside ours (``import_cost_differences``)."""
        return self._models(ImportCostDifference, Q.import_cost_differences, {"source": source}, conn)

    def fixes(self, source: str | None = None, limit: int = 20, conn=None) -> list[ImportFix]:
        """Errors met in imported logs and the retry that fixed each (``import_fixes``)."""
        return self._models(ImportFix, Q.import_fixes, {"source": source, "limit": limit}, conn)
