"""The hook helper's client side: Claude Code's context hooks (``UserPromptSubmit``,
``SessionStart``, ``PostToolUseFailure``), which Claude Code waits for, ask a local
process that keeps psycopg loaded and its connections open (``debugloop hooks
serve``, ``debugloop.hookd_server``) over a Unix socket, instead of importing
psycopg and connecting each time.

* ``front`` is what ``debugloop hook EVENT`` runs first: it asks the helper of this
  configuration; when none runs it starts one in the background and says the event
  was not served, and the hook answers by itself (``debugloop.hooks``), as without
  a helper. ``DEBUGLOOP_HOOKD=off`` turns both off.
* One helper serves one configuration: its socket's name is a hash of what decides
  the answer (DEBUGLOOP_HOME, every ``DEBUGLOOP_*``, ``ENABLE_*`` and libpq ``PG*``
  variable, the installation); a hook with another environment finds no helper.
* The socket lives in a folder of this user's only; the helper checks the caller's uid.

This module is on the way to every context hook: it imports only what a Python
start has loaded anyway and ``socket``, and paths are strings.
"""

from __future__ import annotations

import os
import socket
import sys

ENV_SWITCH = "DEBUGLOOP_HOOKD"
SWITCH_VALUES = ("auto", "off")
CONTEXT_EVENTS = ("UserPromptSubmit", "SessionStart", "PostToolUseFailure")  # Claude Code waits for these
MAX_INPUT = 16 * 1024 * 1024  # bytes of hook JSON read at most
TIMEOUT_S = 3.5  # the context hooks' budget (4 s), less the start: a helper slower than this is a failure
IDLE_S = 3600.0  # a helper with no call for this long exits
MAX_REPLY = 1024 * 1024
LOG_NAME = "hookd.log"
_KEYED_PREFIXES = ("DEBUGLOOP_", "ENABLE_", "PG")


class HelperUnavailable(OSError):
    """No helper listens for this configuration."""


class NotServed(Exception):
    """``front`` did not answer the event: the hook answers it by itself."""


def switch(environ=os.environ) -> str:
    """``auto`` (use the helper, start it when missing) or ``off``; any other value
    is a one-line error naming the variable."""
    value = (environ.get(ENV_SWITCH) or "auto").strip().lower()
    if value not in SWITCH_VALUES:
        raise ValueError(f"{ENV_SWITCH}={environ.get(ENV_SWITCH)!r}: expected one of {', '.join(SWITCH_VALUES)}")
    return value


def home(environ=os.environ) -> str:
    """DEBUGLOOP_HOME, as the settings read it, without loading them."""
    value = environ.get("DEBUGLOOP_HOME")
    if value:
        return value
    from .paths import default_home

    return str(default_home())


def key(home_dir: str, environ=os.environ) -> str:
    """What decides a hook's answer, hashed: the helper of another configuration
    (another database, other flags, another installation) is never asked."""
    import hashlib

    from . import __version__

    parts = [os.path.abspath(home_dir), sys.prefix, __file__, __version__]
    parts += sorted(f"{k}={v}" for k, v in environ.items() if k.startswith(_KEYED_PREFIXES) and k != ENV_SWITCH)
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:20]


def runtime_dir() -> str:
    """A folder of this user's only (0700) for the sockets: $XDG_RUNTIME_DIR/debugloop,
    else /tmp/debugloop-UID (socket paths are limited to ~100 bytes, so not under
    DEBUGLOOP_HOME). One that another user owns, or that others may enter, is refused."""
    base = os.environ.get("XDG_RUNTIME_DIR")
    path = os.path.join(base, "debugloop") if base else f"/tmp/debugloop-{os.getuid()}"
    os.makedirs(path, mode=0o700, exist_ok=True)
    info = os.lstat(path)
    if info.st_uid != os.getuid() or (info.st_mode & 0o077) or os.path.islink(path):
        raise PermissionError(f"{path} is not a folder of this user's only (0700): the hook helper is not used")
    return path


def socket_path(home_dir: str | os.PathLike, environ=os.environ) -> str:
    """The socket of the helper that serves the configuration of ``environ``."""
    return os.path.join(runtime_dir(), f"{key(os.fspath(home_dir), environ)}.sock")


def lock_path(socket_file: str) -> str:
    """The file its helper holds a lock on (and writes its pid in) while it runs."""
    return socket_file[: -len(".sock")] + ".lock"


def read_all(sock: socket.socket, limit: int) -> bytes:
    """Everything the other side sends until it shuts down its side, at most ``limit`` bytes."""
    chunks, size = [], 0
    while chunk := sock.recv(65536):
        chunks.append(chunk)
        size += len(chunk)
        if size > limit:
            raise ValueError(f"the message is larger than {limit} bytes")
    return b"".join(chunks)


def ask(path: str, event: str, raw: bytes, timeout_s: float = TIMEOUT_S) -> str | None:
    """What the helper at ``path`` answers for the event's input ``raw`` (the hook's
    JSON as Claude Code sent it): the text to print, or None. HelperUnavailable when
    none listens there; any other failure (a timeout) raises and is the hook's failure.

    The protocol: the event's name, a newline and the input, then end of sending;
    the reply is the UTF-8 text to print (nothing: print nothing)."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.settimeout(timeout_s)
        try:
            sock.connect(path)
        except (FileNotFoundError, ConnectionRefusedError) as exc:
            raise HelperUnavailable(str(exc)) from None
        sock.sendall(event.encode() + b"\n" + raw)
        sock.shutdown(socket.SHUT_WR)
        reply = read_all(sock, MAX_REPLY)
    finally:
        sock.close()
    return reply.decode() or None


def front(event: str, raw: bytes) -> str | None:
    """What ``debugloop hook EVENT`` prints, when the helper answered (None: nothing).
    NotServed when it is off, the event is not a context event, the input is too
    large, or no helper runs (then one is started for the next hook)."""
    if event not in CONTEXT_EVENTS or len(raw) > MAX_INPUT or switch() == "off":
        raise NotServed
    where = home()
    path = socket_path(where)
    try:
        return ask(path, event, raw)
    except HelperUnavailable:
        ensure_started(path, where)
        raise NotServed from None


def read_input(stdin=None) -> bytes:
    """The hook's standard input, up to one byte more than MAX_INPUT."""
    stream = stdin or sys.stdin
    return stream.buffer.read(MAX_INPUT + 1) if hasattr(stream, "buffer") else stream.read(MAX_INPUT + 1).encode()


def running_pid(path: str) -> int | None:
    """The pid of the helper that holds the lock of ``path``'s configuration, or None."""
    import fcntl

    try:
        fh = open(lock_path(path))  # noqa: SIM115 - closed below, with its lock
    except FileNotFoundError:
        return None
    with fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            text = fh.read().strip()
            return int(text) if text.isdigit() else None
        return None


def ensure_started(path: str, home_dir: str) -> bool:
    """Start a helper for this configuration in the background unless one runs;
    True when one was started. Its lines go to $DEBUGLOOP_HOME/hookd.log."""
    if running_pid(path) is not None:
        return False
    import subprocess

    os.makedirs(home_dir, exist_ok=True)
    with open(os.path.join(home_dir, LOG_NAME), "a") as log:
        subprocess.Popen(
            [sys.executable, "-m", "debugloop.cli", "hooks", "serve"],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            start_new_session=True,  # not in the hook's process group: it outlives the hook
            close_fds=True,
        )
    return True


def wait_ready(path: str, timeout_s: float = 10.0) -> bool:
    """Wait until a helper listens at ``path``; False when none did within ``timeout_s``."""
    import time

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.connect(path)
            return True
        except OSError:
            time.sleep(0.05)
        finally:
            sock.close()
    return False


def stop(path: str, timeout_s: float = 10.0) -> int | None:
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
