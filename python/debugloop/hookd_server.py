"""The hook helper itself (``debugloop hooks serve``): answers Claude Code's context
hooks over the Unix socket of its configuration, as ``hooks.handle`` answers them
in-process, on connections it keeps open (see ``debugloop.hookd``)."""

from __future__ import annotations

import contextlib
import fcntl
import os
import signal
import socket
import socketserver
import struct
import threading
import time
from pathlib import Path
from typing import Any

from .hookd import IDLE_S, MAX_INPUT, lock_path, read_all, running_pid, socket_path
from .hooks import CONTEXT_BUDGET, CONTEXT_EVENTS, HookInputError, Session, handle, log_failure, read_payload


class _Sessions:
    """Open hook sessions (a connection each) kept between calls, one per call in hand."""

    def __init__(self) -> None:
        self._idle: list[Any] = []
        self._lock = threading.Lock()

    def take(self):
        with self._lock:
            if self._idle:
                return self._idle.pop(), True
        return Session(CONTEXT_BUDGET), False

    def give_back(self, session) -> None:
        if session.conn.broken or session.conn.closed:
            return
        with self._lock:
            self._idle.append(session)

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for session in idle:
            session.close()


def answer(sessions: _Sessions, event: str, payload: dict[str, Any]) -> str | None:
    """``hooks.handle`` on a kept session. A kept connection that the server closed
    meanwhile (a restart) fails at its first statement, before anything is written,
    and is then broken: that call is retried once on a new connection."""
    session, kept = sessions.take()
    try:
        try:
            out = handle(event, payload, session)
        except Exception:
            if not (kept and session.conn.broken):  # a timeout, a bad input, a fresh connection that failed
                raise
            session.close()
            sessions.close()  # the other kept ones are as stale
            session, _ = sessions.take()
            out = handle(event, payload, session)
    except BaseException:
        session.close()
        raise
    sessions.give_back(session)
    return out


def _remove(path: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)


def serve(home: Path, idle_s: float = IDLE_S) -> int:
    """Run the helper of this configuration until SIGTERM, SIGINT or ``idle_s`` without
    a call; 0, or 1 when another helper already serves it (it says so)."""
    path = socket_path(home)
    lock = open(lock_path(path), "a+")  # noqa: SIM115 - held for the helper's life
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        print(f"hookd: another helper (pid {running_pid(path)}) already serves {path}; nothing to do", flush=True)
        return 1
    lock.truncate(0)
    lock.write(str(os.getpid()))
    lock.flush()
    _remove(path)  # a crashed helper's socket: the lock says nobody serves it
    sessions = _Sessions()
    last_call = [time.monotonic()]

    class Handler(socketserver.BaseRequestHandler):
        def handle(self) -> None:
            last_call[0] = time.monotonic()
            payload = None
            event = "-"
            try:
                uid = struct.unpack("3i", self.request.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, 12))[1]
                if uid != os.getuid():
                    raise PermissionError(f"a call from uid {uid}, not this user's")
                self.request.settimeout(10)
                message = read_all(self.request, MAX_INPUT + 64)
                if not message:
                    return  # a probe (wait_ready), not a call
                name, _, raw = message.partition(b"\n")
                event = name.decode("utf-8", "replace")
                if event not in CONTEXT_EVENTS:
                    raise HookInputError(f"the helper answers {', '.join(CONTEXT_EVENTS)}, not {event!r}")
                payload = read_payload(raw)
                reply = answer(sessions, event, payload) or ""
            except Exception as exc:  # logged as the hook logs it; the hook prints nothing
                log_failure(event, payload, exc)
                reply = ""
            try:
                self.request.sendall(reply.encode())
            except OSError:
                pass  # the hook gave up waiting (its timeout): nobody to answer

    class Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
        daemon_threads = False
        block_on_close = True  # server_close() waits for the calls in hand

    server = Server(path, Handler)
    os.chmod(path, 0o600)
    stopping = threading.Event()

    def stop(*_: Any) -> None:
        if not stopping.is_set():
            stopping.set()
            threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)

    def watch_idle() -> None:
        while not stopping.wait(min(30.0, idle_s / 4)):
            if time.monotonic() - last_call[0] > idle_s:
                print(f"hookd: no call for {idle_s:g} s, exiting", flush=True)
                stop()

    threading.Thread(target=watch_idle, daemon=True).start()
    print(
        f"hookd: pid {os.getpid()} waiting for Claude Code's context hooks on {path} "
        f"(exits after {idle_s:g} s without a call, or on SIGTERM)",
        flush=True,
    )
    try:
        server.serve_forever(poll_interval=0.5)
    finally:
        server.server_close()
        sessions.close()
        _remove(path)
        lock.truncate(0)
        lock.close()
    print("hookd: stopped", flush=True)
    return 0
