"""Which database to talk to, and opening connections to it with clear errors."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from .errors import ConfigurationError, DatabaseUnavailable, EmbeddedServerError, wrap_exceptions
from .queries import Q

if TYPE_CHECKING:  # the settings (pydantic) are not loaded by a process that only locates the database
    from .config import Settings

ENV_URL = "DEBUGLOOP_DATABASE_URL"


@dataclass(frozen=True)
class Target:
    """A database to connect to, and where its address came from (for error messages)."""

    conninfo: str
    source: str  # "DEBUGLOOP_DATABASE_URL", "argument" or "embedded"

    def redacted(self) -> str:
        return redact(self.conninfo)


def redact(conninfo: str) -> str:
    """The address without its password, for messages."""
    try:
        params = conninfo_to_dict(conninfo)
    except psycopg.ProgrammingError:
        return "<unparsable>"
    user = f"{params['user']}@" if params.get("user") else ""
    host = params.get("host") or params.get("hostaddr") or "localhost"
    port = f":{params['port']}" if params.get("port") else ""
    return f"postgresql://{user}{host}{port}/{params.get('dbname', '')}"


def validate_conninfo(conninfo: str, source: str) -> None:
    try:
        conninfo_to_dict(conninfo)
    except psycopg.ProgrammingError as exc:
        reason = " ".join(str(exc).split())
        raise ConfigurationError(f"{source}: not a PostgreSQL connection string ({reason})") from None


def resolve(settings: Settings, url: str | None = None, *, start: bool = False) -> Target:
    """The database to use: ``url``, else DEBUGLOOP_DATABASE_URL, else the embedded server.

    With ``start``, the embedded server is started when it is not running.
    """
    if url is not None:
        validate_conninfo(url, "database url")
        return Target(url, "argument")
    return configured(settings.database_url, settings.home, start=start)


def configured(database_url: str | None, home: Path, *, start: bool = False) -> Target:
    """The configured database: ``database_url`` (DEBUGLOOP_DATABASE_URL) when set,
    else the embedded server under ``home``, started with ``start``, else an
    EmbeddedServerError when it is not running."""
    if database_url is not None:
        validate_conninfo(database_url, ENV_URL)
        return Target(database_url, ENV_URL)
    from .embedded import EmbeddedServer  # here: a hook with a database URL does not load psutil

    server = EmbeddedServer(home)
    if start:
        status, _ = server.up()
    else:
        status = server.status()
        if not status.running:
            raise EmbeddedServerError(f"the embedded database is not running: run `debugloop db up`, or set {ENV_URL}")
    return Target(status.url(), "embedded")


def session_options(settings: Settings | None, conninfo: str, extra: str = "") -> str:
    """The libpq ``options`` for a session: the caller's own, the flag overrides of
    ``settings`` (none without settings) and ``extra`` (such as a statement timeout)."""
    options = conninfo_to_dict(conninfo).get("options", "") or ""
    for name, value in (settings.flag_overrides() if settings is not None else {}).items():
        options += f" -c debugloop.{name}={'on' if value else 'off'}"
    return f"{options} {extra}".strip()


def open_connection(conninfo: str, source: str, **kwargs) -> psycopg.Connection:
    """Open one connection; failure to connect is a one-line DatabaseUnavailable
    naming where the address came from (``source``)."""
    try:
        return psycopg.connect(conninfo, **kwargs)
    except psycopg.OperationalError as exc:
        lines = str(exc).strip().splitlines() or ["no reason given"]
        raise DatabaseUnavailable(f"{source}: cannot connect to {redact(conninfo)}: {lines[0]}") from exc


def connect(target: Target, settings: Settings, **kwargs) -> psycopg.Connection:
    """A session for a client: its connect timeout and its flag overrides applied."""
    return open_connection(
        target.conninfo,
        target.source,
        connect_timeout=settings.connect_timeout,
        options=session_options(settings, target.conninfo),
        **kwargs,
    )


def recreate_database(target: Target, name: str, settings: Settings) -> Target:
    """A new, empty database ``name`` on ``target``'s server (dropped first if it
    exists), for the demo; the target's own database is never the one dropped."""
    params = conninfo_to_dict(target.conninfo)
    if params.get("dbname", "") == name:
        raise ConfigurationError(f"the demo database must not be the one in use ({name}): choose another name")
    with connect(target, settings, autocommit=True) as conn, wrap_exceptions():
        conn.execute(sql.SQL(Q.drop_database).format(name=sql.Identifier(name)))
        conn.execute(sql.SQL(Q.create_database).format(name=sql.Identifier(name)))
    return Target(make_conninfo(target.conninfo, dbname=name), target.source)
