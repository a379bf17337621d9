"""The hook helper: a local process that keeps psycopg loaded and connections open,
so that Claude Code's context hooks (``UserPromptSubmit``, ``SessionStart``,
``PostToolUseFailure``), which Claude Code waits for, cost a Python start and one
round trip on a Unix socket instead of importing psycopg and connecting each time.

* ``debugloop hooks serve`` runs it in the foreground; a context hook that finds no
  helper answers by itself (as without one) and starts one in the background, so
  the next hook is fast. ``DEBUGLOOP_HOOKD=off`` turns both off.
* One helper serves one configuration: its socket's name is a hash of what decides
  the answer (DEBUGLOOP_HOME, every ``DEBUGLOOP_*``, ``ENABLE_*`` and libpq ``PG*``
  variable, the installation); a hook with another environment finds no helper.
* It answers exactly as the hook would in-process (``hooks.handle``), logs failures
  to the same hooks.log, accepts only its own user (the socket's folder is 0700 and
  the peer's uid is checked), and exits after ``--idle`` seconds without a call, or
  on SIGTERM once the calls in hand are answered.

This module is the hooks' half (asking, starting, stopping a helper) and imports
only the standard library; the helper itself is ``debugloop.hookd_server``.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import sys
from pathlib import Path
from typing import Any

ENV_SWITCH = "DEBUGLOOP_HOOKD"
SWITCH_VALUES = ("auto", "off")
IDLE_S = 3600.0  # a helper with no call for this long exits
MAX_REPLY = 1024 * 1024
_KEYED_PREFIXES = ("DEBUGLOOP_", "ENABLE_", "PG")


class HelperUnavailable(OSError):
    """No helper is listening for this configuration (the hook answers by itself)."""


def switch(environ: dict[str, str] | os._Environ = os.environ) -> str:
    """``auto`` (use the helper, start it when missing) or ``off``; any other value
    is a one-line error naming the variable."""
    value = (environ.get(ENV_SWITCH) or "auto").strip().lower()
    if value not in SWITCH_VALUES:
        raise ValueError(f"{ENV_SWITCH}={environ.get(ENV_SWITCH)!r}: expected one of {', '.join(SWITCH_VALUES)}")
    return value


def key(home: Path, environ: dict[str, str] | os._Environ = os.environ) -> str:
    """What decides a hook's answer, hashed: the helper of another configuration
    (another database, other flags, another installation) is never asked."""
    from . import __version__

    parts = [str(home), sys.prefix, __file__, __version__]
    parts += sorted(f"{k}={v}" for k, v in environ.items() if k.startswith(_KEYED_PREFIXES) and k != ENV_SWITCH)
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:20]


def runtime_dir() -> Path:
    """A folder of this user's only (0700) for the sockets: $XDG_RUNTIME_DIR/debugloop,
    else /tmp/debugloop-UID (socket paths are limited to ~100 bytes, so not under
    DEBUGLOOP_HOME). A folder that another user owns, or that others may enter, is refused."""
    base = os.environ.get("XDG_RUNTIME_DIR")
    path = Path(base) / "debugloop" if base else Path("/tmp") / f"debugloop-{os.getuid()}"
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    info = path.lstat()
    if info.st_uid != os.getuid() or (info.st_mode & 0o077) or path.is_symlink():
        raise PermissionError(f"{path} is not a folder of this user's only (0700): the hook helper is not used")
    return path


def socket_path(home: Path, environ: dict[str, str] | os._Environ = os.environ) -> Path:
    return runtime_dir() / f"{key(home, environ)}.sock"


def send(sock: socket.socket, message: dict[str, Any]) -> None:
    sock.sendall(json.dumps(message, ensure_ascii=False).encode())
    sock.shutdown(socket.SHUT_WR)


def receive(sock: socket.socket, limit: int) -> dict[str, Any]:
    chunks, size = [], 0
    while chunk := sock.recv(65536):
        chunks.append(chunk)
        size += len(chunk)
        if size > limit:
            raise ValueError(f"the message is larger than {limit} bytes")
    if not chunks:
        raise EOFError("nothing was sent")
    message = json.loads(b"".join(chunks))
    if not isinstance(message, dict):
        raise ValueError("the message is not a JSON object")
    return message


def ask(path: Path, event: str, payload: dict[str, Any], timeout_s: float) -> str | None:
    """What the helper at ``path`` answers for the event: the text to print, or None.
    HelperUnavailable when none listens there; any other failure (a timeout, an error
    the helper reports) raises and is the hook's failure, not a reason to ask twice."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.settimeout(timeout_s)
        try:
            sock.connect(str(path))
        except (FileNotFoundError, ConnectionRefusedError) as exc:
            raise HelperUnavailable(str(exc)) from None
        send(sock, {"event": event, "payload": payload})
        reply = receive(sock, MAX_REPLY)
    finally:
        sock.close()
    if reply.get("error"):
        raise RuntimeError(f"the hook helper: {reply['error']}")
    out = reply.get("out")
    return out if isinstance(out, str) else None


def lock_path(path: Path) -> Path:
    return path.with_suffix(".lock")


def running_pid(path: Path) -> int | None:
    """The pid of the helper that holds the lock of ``path``'s configuration, or None."""
    import fcntl

    lock = lock_path(path)
    try:
        fh = lock.open("r")
    except FileNotFoundError:
        return None
    with fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            text = fh.read().strip()
            return int(text) if text.isdigit() else None
        return None


def ensure_started(path: Path, home: Path) -> bool:
    """Start a helper for this configuration in the background unless one runs;
    True when one was started. Its output goes to $DEBUGLOOP_HOME/hookd.log."""
    if running_pid(path) is not None:
        return False
    import subprocess

    home.mkdir(parents=True, exist_ok=True)
    with (home / "hookd.log").open("a") as log:
        subprocess.Popen(
            [sys.executable, "-m", "debugloop.cli", "hooks", "serve"],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            start_new_session=True,
            close_fds=True,
        )
    return True


def wait_ready(path: Path, timeout_s: float = 10.0) -> bool:
    """Wait until a helper listens at ``path``; False when none did within ``timeout_s``."""
    import time

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.connect(str(path))
            return True
        except OSError:
            time.sleep(0.05)
        finally:
            sock.close()
    return False


def stop(path: Path, timeout_s: float = 10.0) -> int | None:
    """SIGTERM to the helper of ``path``'s configuration, and wait until it is gone;
    its pid, or None when none ran. TimeoutError when it did not stop in time."""
    import signal
    import time

    pid = running_pid(path)
    if pid is None:
        return None
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return pid
    deadline = time.monotonic() + timeout_s
    while running_pid(path) is not None:
        if time.monotonic() > deadline:
            raise TimeoutError(f"the hook helper (pid {pid}) did not stop within {timeout_s:g} s")
        time.sleep(0.05)
    return pid
