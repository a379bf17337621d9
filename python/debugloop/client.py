"""The Python entry point: ``debugloop.connect()`` returns a :class:`Client`.

A client holds a small connection pool and one manager per domain. Every manager
method takes an optional ``conn``: pass your own connection to make the call part
of your transaction (you commit); leave it out and the call runs in a transaction
of its own on a pooled connection.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import psycopg
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

from . import db
from .config import Settings, load_settings
from .errors import SchemaNotMigrated, wrap_exceptions
from .migrate import expected_version, migrate
from .models import ApiEntry, Component, Row, Setting
from .queries import Q

R = TypeVar("R", bound=Row)


class Manager:
    """Base of the per-domain managers: runs named queries, maps rows and errors."""

    def __init__(self, client: Client) -> None:
        self._client = client

    def _rows(self, query: str, params: dict[str, Any] | None = None, conn: psycopg.Connection | None = None):
        with wrap_exceptions(), self._client.connection(conn) as c, c.cursor(row_factory=dict_row) as cur:
            cur.execute(query, params)
            return cur.fetchall() if cur.description else []

    def _models(self, model: type[R], query: str, params=None, conn=None) -> list[R]:
        return [model.model_validate(row) for row in self._rows(query, params, conn)]


class SettingsManager(Manager):
    """Feature flags and thresholds (``debugloop.settings``)."""

    def list(self, conn: psycopg.Connection | None = None) -> list[Setting]:
        return self._models(Setting, Q.settings, {"key": None}, conn)

    def get(self, key: str, conn: psycopg.Connection | None = None) -> Any:
        """The value in force for this client's sessions."""
        return self._rows(Q.settings_get, {"key": key}, conn)[0]["value"]

    def set(self, key: str, value: Any, conn: psycopg.Connection | None = None) -> Setting:
        """Change a setting for everyone (needs debugloop_admin). ``value`` is parsed by the setting's type."""
        text = ("true" if value else "false") if isinstance(value, bool) else str(value)
        with self._client.connection(conn) as c:
            self._rows(Q.settings_set, {"key": key, "value": text}, c)
            return self._models(Setting, Q.settings, {"key": key}, c)[0]


class Client:
    """A connection to one debugloop database."""

    def __init__(self, target: db.Target, settings: Settings) -> None:
        self.target = target
        self.config = settings
        # Fail fast, with the reason, before a pool would retry in the background.
        with db.connect(target, settings) as probe:
            self._check_schema(probe)
        self._pool = ConnectionPool(
            target.conninfo,
            kwargs={
                "connect_timeout": settings.connect_timeout,
                "options": db.session_options(settings, target.conninfo),
            },
            min_size=1,
            max_size=settings.pool_size,
            open=True,
            name="debugloop",
        )
        self._meta = Manager(self)
        self.settings = SettingsManager(self)

    @staticmethod
    def _check_schema(conn: psycopg.Connection) -> None:
        with wrap_exceptions():
            if not conn.execute(Q.schema_exists).fetchone()[0]:
                raise SchemaNotMigrated("the database has no debugloop schema: run `debugloop db migrate`")
            have, need = conn.execute(Q.version).fetchone()[0], expected_version()
        if have < need:
            raise SchemaNotMigrated(
                f"the debugloop schema is at version {have}, this package needs {need}: run `debugloop db migrate`"
            )

    @contextmanager
    def connection(self, conn: psycopg.Connection | None = None) -> Iterator[psycopg.Connection]:
        """``conn`` itself when given (the caller owns the transaction), else a pooled
        connection whose transaction commits when the block succeeds."""
        if conn is not None:
            yield conn
            return
        with wrap_exceptions(), self._pool.connection() as pooled:
            yield pooled

    def version(self, conn: psycopg.Connection | None = None) -> int:
        """The schema version (``debugloop.version()``)."""
        return self._meta._rows(Q.version, None, conn)[0]["version"]

    def info(self, conn: psycopg.Connection | None = None) -> list[Component]:
        """What is installed (``debugloop.info()``)."""
        return self._meta._models(Component, Q.info, None, conn)

    def api(self, conn: psycopg.Connection | None = None) -> list[ApiEntry]:
        """The public SQL API (``debugloop.v_api``)."""
        return self._meta._models(ApiEntry, Q.api, None, conn)

    def close(self) -> None:
        self._pool.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def connect(url: str | None = None, *, migrate_schema: bool = False, settings: Settings | None = None) -> Client:
    """Connect to debugloop.

    ``url``: any libpq connection string; default ``DEBUGLOOP_DATABASE_URL``, else the
    embedded server (started if it is not running). ``migrate_schema``: apply pending
    migrations first; otherwise an unmigrated database raises SchemaNotMigrated.
    """
    settings = settings or load_settings()
    target = db.resolve(settings, url, start=True)
    if migrate_schema:
        migrate(target.conninfo, source=target.source)
    return Client(target, settings)
