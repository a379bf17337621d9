"""Migrations: what they create, idempotence, concurrency, atomicity, code reloads."""

import shutil
from contextlib import closing

import psycopg
import pytest
from yoyo import read_migrations
from yoyo.migrations import default_migration_table

from debugloop import paths
from debugloop.errors import MigrationError
from debugloop.migrate import _Backend, _yoyo_uri, expected_version, migrate
from helpers import REPO, run_cli, run_cli_at_once, schema_dump


def _catalog_snapshot(url: str) -> dict:
    """Every function of the schema with its row version (xmin changes on any rewrite),
    plus the bookkeeping tables' row counts."""
    with psycopg.connect(url) as conn:
        procs = conn.execute(
            """select p.oid::regprocedure::text, p.xmin::text from pg_proc p
                where p.pronamespace = 'debugloop'::regnamespace order by 1"""
        ).fetchall()
        counts = conn.execute(
            "select (select count(*) from _yoyo_migration), (select count(*) from _yoyo_log),"
            " (select migrated_at from debugloop.schema_state)"
        ).fetchone()
    return {"procs": procs, "counts": counts}


def test_migrate_creates_schema_extensions_roles_and_version(conn):
    extensions = dict(conn.execute("select extname, extversion from pg_extension").fetchall())
    assert "vector" in extensions and "pg_trgm" in extensions
    roles = {r for (r,) in conn.execute("select rolname from pg_roles where rolname like 'debugloop\\_%'")}
    assert roles == {"debugloop_agent", "debugloop_admin", "debugloop_reader", "debugloop_owner"}
    # the owner of the SECURITY DEFINER functions never logs in and is no superuser
    assert conn.execute("select rolcanlogin, rolsuper from pg_roles where rolname = 'debugloop_owner'").fetchone() == (
        False,
        False,
    )
    assert conn.execute("select debugloop.version()").fetchone()[0] == expected_version() >= 1
    for role in roles:
        assert conn.execute("select has_schema_privilege(%s, 'debugloop', 'usage')", (role,)).fetchone()[0]
    assert not conn.execute("select has_schema_privilege('public', 'debugloop', 'usage')").fetchone()[0]


def test_second_migrate_changes_nothing(empty_db):
    first = migrate(empty_db.url)
    assert first.applied and first.code_reloaded and first.version == expected_version()
    dump, snapshot = schema_dump(empty_db.url), _catalog_snapshot(empty_db.url)

    second = migrate(empty_db.url)
    assert not second.changed and second.applied == [] and second.version == first.version
    assert schema_dump(empty_db.url) == dump
    assert _catalog_snapshot(empty_db.url) == snapshot


def test_migrated_one_step_at_a_time_equals_built_in_one_go(pg_server, empty_db):
    """Each migration in its own yoyo run, then the post-apply step, against one migrate."""
    migrations = read_migrations(str(paths.migrations_dir()))
    for migration in migrations:
        with closing(_Backend(_yoyo_uri(empty_db.url), default_migration_table)) as backend:
            backend.init_database()
            backend.apply_one(migration)
    with closing(_Backend(_yoyo_uri(empty_db.url), default_migration_table)) as backend:
        backend.run_post_apply(migrations)

    with psycopg.connect(pg_server.url("postgres"), autocommit=True) as admin:
        admin.execute("create database one_go")
    try:
        migrate(pg_server.url("one_go"))
        assert schema_dump(empty_db.url) == schema_dump(pg_server.url("one_go"))
    finally:
        with psycopg.connect(pg_server.url("postgres"), autocommit=True) as admin:
            admin.execute("drop database one_go with (force)")


def test_two_processes_migrating_at_once_apply_each_migration_once(empty_db):
    results = run_cli_at_once(2, "db", "migrate", env={"DEBUGLOOP_DATABASE_URL": empty_db.url})
    assert [r.returncode for r in results] == [0, 0], [r.stderr for r in results]
    stdout = "".join(r.stdout for r in results)
    assert stdout.count("applying 0001_foundation") == 1
    assert stdout.count("nothing to do") == 1
    with psycopg.connect(empty_db.url) as conn:
        # one row per migration file (their numbers need not be contiguous)
        assert conn.execute("select count(*) from _yoyo_migration").fetchone()[0] == len(
            read_migrations(str(paths.migrations_dir()))
        )


@pytest.fixture
def sql_copy(monkeypatch, tmp_path):
    """A copy of db/, functions/ and triggers/ that the migrator reads instead."""
    for folder in ("db", "functions", "triggers"):
        shutil.copytree(REPO / folder, tmp_path / folder)
    monkeypatch.setattr(paths, "sql_root", lambda: tmp_path)
    return tmp_path


def test_changed_code_is_reloaded_without_a_new_migration(db, sql_copy):
    assert not migrate(db.url).changed
    (sql_copy / "functions" / "99_added.sql").write_text(
        "create function debugloop.zz_added() returns int language sql as 'select 42';"
    )
    result = migrate(db.url)
    assert result.code_reloaded and result.applied == []
    with psycopg.connect(db.url) as conn:
        assert conn.execute("select debugloop.zz_added()").fetchone()[0] == 42
    assert not migrate(db.url).changed


def test_a_broken_code_file_names_itself_and_rolls_back_every_file(db, sql_copy):
    with psycopg.connect(db.url) as conn:
        before = conn.execute("select code_checksum from debugloop.schema_state").fetchone()[0]
    (sql_copy / "functions" / "98_good.sql").write_text(
        "create function debugloop.zz_good() returns int language sql as 'select 1';"
    )
    (sql_copy / "functions" / "99_broken.sql").write_text("create function debugloop.zz_broken( returns int;")
    with pytest.raises(MigrationError, match=r"functions/99_broken\.sql: .*syntax error"):
        migrate(db.url)
    with psycopg.connect(db.url) as conn:
        assert conn.execute("select to_regproc('debugloop.zz_good')").fetchone()[0] is None
        assert conn.execute("select code_checksum from debugloop.schema_state").fetchone()[0] == before


def test_a_function_no_file_defines_fails_the_reload_and_changes_nothing(db, sql_copy):
    """A leftover overload (an old signature that no migration dropped) is named, and
    the reload that met it is rolled back whole."""
    with psycopg.connect(db.url) as conn:
        conn.execute("create function debugloop.stf_match(problem text) returns int language sql as 'select 1'")
        before = conn.execute("select code_checksum from debugloop.schema_state").fetchone()[0]
    (sql_copy / "functions" / "99_added.sql").write_text(
        "create function debugloop.zz_added() returns int language sql as 'select 42';"
    )
    with pytest.raises(MigrationError, match=r"debugloop\.stf_match\(text\).*a migration .*drops the old one"):
        migrate(db.url)
    with psycopg.connect(db.url) as conn:
        assert conn.execute("select to_regproc('debugloop.zz_added')").fetchone()[0] is None
        assert conn.execute("select code_checksum from debugloop.schema_state").fetchone()[0] == before
        assert conn.execute("select to_regprocedure('debugloop.stf_match(text)')").fetchone()[0] is not None


def test_a_failing_migration_leaves_no_trace(db, sql_copy):
    version = expected_version()
    (sql_copy / "db" / "migrations" / "9999_broken.sql").write_text(
        "create table debugloop.zz_half_done (id int);\ninsert into debugloop.zz_half_done values ('not a number');\n"
    )
    with pytest.raises(MigrationError, match="invalid input syntax"):
        migrate(db.url)
    with psycopg.connect(db.url) as conn:
        assert conn.execute("select to_regclass('debugloop.zz_half_done')").fetchone()[0] is None
        ids = [r[0] for r in conn.execute("select migration_id from _yoyo_migration")]
        assert "9999_broken" not in ids
        assert conn.execute("select debugloop.version()").fetchone()[0] == version


def test_a_crash_before_the_bookkeeping_row_undoes_the_migration(db, sql_copy, monkeypatch):
    """yoyo commits a migration and its _yoyo_migration row separately; here they are one
    transaction, so dying between the two leaves neither."""
    (sql_copy / "db" / "migrations" / "9998_table.sql").write_text("create table debugloop.zz_new (id int);\n")

    def crash(self, migration, log=True):
        raise RuntimeError("killed before recording the migration")

    monkeypatch.setattr(_Backend, "mark_one", crash)
    with pytest.raises(RuntimeError, match="killed"):
        migrate(db.url)
    with psycopg.connect(db.url) as conn:
        assert conn.execute("select to_regclass('debugloop.zz_new')").fetchone()[0] is None
    monkeypatch.undo()
    monkeypatch.setattr(paths, "sql_root", lambda: sql_copy)
    assert migrate(db.url).applied == ["9998_table"]


def test_cli_migrate_reports_nothing_to_do_on_a_migrated_database(db):
    result = run_cli("db", "migrate", env={"DEBUGLOOP_DATABASE_URL": db.url})
    assert result.returncode == 0, result.stderr
    assert "nothing to do" in result.stdout and f"schema version {expected_version()}" in result.stdout


def test_migrations_and_the_reload_bind_nothing_to_what_others_put_in_public(db, sql_copy):
    """A view made by a migration or by a code file resolves its operators without
    public, where an agent (before PostgreSQL 15) may have put an exact match."""
    with psycopg.connect(db.url, autocommit=True) as conn:
        conn.execute(
            "create function public.zz_cat(a bigint, b text) returns text language sql as $$ select 'hijacked' $$;"
            " create operator public.|| (leftarg = bigint, rightarg = text, function = public.zz_cat)"
        )
        assert conn.execute("select 1::bigint || 'x'").fetchone()[0] == "hijacked"  # on a path with public
    (sql_copy / "db" / "migrations" / "9997_view.sql").write_text(
        "create view debugloop.zz_migrated as select 1::bigint || 'x' as v;\n"
    )
    (sql_copy / "functions" / "99_view.sql").write_text(
        "create or replace view debugloop.zz_reloaded as select 2::bigint || 'x' as v;\n"
    )
    assert migrate(db.url).applied == ["9997_view"]
    with psycopg.connect(db.url) as conn:
        assert conn.execute("select v from debugloop.zz_migrated").fetchone()[0] == "1x"
        assert conn.execute("select v from debugloop.zz_reloaded").fetchone()[0] == "2x"
