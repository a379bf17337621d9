"""Migrations: yoyo applies db/migrations/, then its post-apply step reloads the code.

* One migrator at a time per database: a session advisory lock is held for the
  whole run, so two processes migrating at once serialise and the second finds
  nothing left to do.
* Each transactional migration and its yoyo bookkeeping row commit together (yoyo
  itself commits them separately), so a crash never leaves a migration applied
  but unrecorded.
* A migration, and the reload below, run with ``search_path = debugloop,
  pg_catalog, pg_temp``: nothing they create or run binds to an operator or
  function that someone else put in public (yoyo's own tables stay there).
* The post-apply step (db/migrations/post-apply.py, run after every migrate)
  executes every file of functions/ then triggers/, in name order, in one
  transaction. It records the schema version and a checksum of those files in
  ``debugloop.schema_state`` and does nothing when both are unchanged, so a second
  migrate changes nothing at all. It refuses a function of the schema that no file
  defined (a removed function, an old signature): db/migrations drops those.
  Then it hands the SECURITY DEFINER functions to ``debugloop_owner`` and pins
  the search path of the others (``debugloop._meta_secure``).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from psycopg.conninfo import conninfo_to_dict
from yoyo import read_migrations
from yoyo.backends.core.postgresql import PostgresqlPsycopgBackend
from yoyo.connections import DatabaseURI
from yoyo.migrations import default_migration_table

from . import paths
from .db import open_connection
from .errors import MigrationError, describe
from .queries import Q

_NUMBER = re.compile(r"^(\d+)")


def migration_number(migration_id: str) -> int:
    match = _NUMBER.match(migration_id)
    if match is None:
        raise MigrationError(f"migration {migration_id!r} does not start with its number")
    return int(match.group(1))


def expected_version() -> int:
    """The schema version this package's migrations lead to."""
    ids = [
        p.stem
        for p in paths.migrations_dir().iterdir()
        if p.suffix in (".sql", ".py") and not p.name.startswith("post-apply") and not p.name.endswith(".rollback.sql")
    ]
    return max(migration_number(i) for i in ids)


def code_checksum(files: list[Path] | None = None) -> str:
    """SHA-256 over the names and contents of the files of functions/ and triggers/."""
    root = paths.sql_root()
    digest = hashlib.sha256()
    for path in files if files is not None else paths.code_files():
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def _yoyo_uri(conninfo: str) -> DatabaseURI:
    """A libpq connection string (URL or key=value) as yoyo's parsed URI."""
    params = conninfo_to_dict(conninfo)
    port = params.pop("port", None)
    return DatabaseURI(
        scheme="postgresql+psycopg",
        username=params.pop("user", None),
        password=params.pop("password", None),
        hostname=params.pop("host", None),
        port=int(port) if port else None,
        database=params.pop("dbname", None),
        args=params,
    )


class _Backend(PostgresqlPsycopgBackend):
    """yoyo's psycopg 3 backend, applying a transactional migration together with
    its bookkeeping row (yoyo commits them separately)."""

    def close(self) -> None:
        self.connection.close()

    def apply_one(self, migration, force=False, mark=True):
        if not migration.use_transactions or not self.has_transactional_ddl:
            return super().apply_one(migration, force=force, mark=mark)
        self.ensure_internal_schema_updated()
        numbered = _NUMBER.match(migration.id) is not None
        with self.transaction():
            if numbered:  # a migration's own statements resolve nothing in public (yoyo's tables are there)
                self.execute(Q.search_path_pin)
            migration.process_steps(self, "apply", force=force)
            if numbered:
                self.execute(Q.search_path_reset)
            if mark:  # the post-apply step (mark=False) leaves no trace when it changes nothing
                self.log_migration(migration, "apply")
                self.mark_one(migration, log=False)


def post_apply(conn: psycopg.Connection) -> None:
    """The yoyo post-apply step: reload functions/ and triggers/ when anything changed.

    Runs inside the transaction that yoyo opened on ``conn``.
    """
    files = paths.code_files()
    checksum = code_checksum(files)
    applied = [row[0] for row in conn.execute(Q.applied_migrations)]
    version = max((migration_number(i) for i in applied), default=0)
    state = conn.execute(Q.schema_state).fetchone()
    if state is not None and state[0] == version and state[1] == checksum:
        return
    root = paths.sql_root()
    before = {oid: xmin for _, oid, xmin in conn.execute(Q.code_functions)}
    # what the files create (views, defaults, ...) binds to nothing in public
    conn.execute(Q.search_path_pin)
    for path in files:
        try:
            conn.execute(path.read_text(encoding="utf-8"))
        except psycopg.Error as exc:
            raise MigrationError(f"{path.relative_to(root).as_posix()}: {describe(exc)}") from exc
    conn.execute(Q.search_path_reset)
    # CREATE OR REPLACE writes a function's catalog row anew, so a function that kept
    # its row version was defined by no file: a leftover of a removed function or of
    # an old signature
    stale = [signature for signature, oid, xmin in conn.execute(Q.code_functions) if before.get(oid) == xmin]
    if stale:
        raise MigrationError(
            f"functions that no file of functions/ or triggers/ defines: {', '.join(stale)}; a function removed"
            " or whose signature changed needs a migration (db/migrations) that drops the old one"
        )
    # the SECURITY DEFINER functions to their owner role, every other function (but
    # the inlined internal SQL ones) pinned to a search path no agent can write to
    conn.execute(Q.code_secure)
    conn.execute(Q.semantic_backfill)
    conn.execute(Q.schema_state_record, {"version": version, "code_checksum": checksum})


@dataclass
class MigrateResult:
    applied: list[str] = field(default_factory=list)
    code_reloaded: bool = False
    version: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.applied) or self.code_reloaded


def migrate(
    conninfo: str,
    *,
    source: str = "database url",
    on_migration: Callable[[str], None] | None = None,
) -> MigrateResult:
    """Apply pending migrations, then the post-apply step, under an advisory lock.

    ``source`` names where ``conninfo`` came from, for error messages;
    ``on_migration`` is called with each migration id before it is applied.
    """
    result = MigrateResult()
    # The advisory lock, held until lock_conn closes, replaces yoyo's lock table,
    # whose row would outlive a crash.
    with open_connection(conninfo, source, autocommit=True) as lock_conn:
        lock_conn.execute(Q.migrate_lock)
        try:
            before = _state(lock_conn)
            with closing(_Backend(_yoyo_uri(conninfo), default_migration_table)) as backend:
                backend.init_database()
                migrations = read_migrations(str(paths.migrations_dir()))
                for migration in backend.to_apply(migrations):
                    if on_migration is not None:
                        on_migration(migration.id)
                    backend.apply_one(migration)
                    result.applied.append(migration.id)
                backend.run_post_apply(migrations)
            after = _state(lock_conn)
        except psycopg.Error as exc:
            raise MigrationError(describe(exc)) from exc
    result.version = after[0]
    result.code_reloaded = before != after
    return result


def _state(conn: psycopg.Connection) -> tuple | None:
    if not conn.execute(Q.schema_exists).fetchone()[0]:
        return None
    return conn.execute(Q.schema_state).fetchone()
