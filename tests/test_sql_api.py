"""The SQL API is complete: every query that Python sends (queries.sql) calls public
functions of the schema or reads its v_* views, so a psql user gets the same answers.
The migration runner's and the embedded server's bookkeeping is the exception."""

import re

import psycopg
import pytest

from debugloop.queries import Q, parse
from helpers import REPO

BOOKKEEPING = {
    "migrate_lock",
    "schema_exists",
    "schema_state",
    "schema_state_record",
    "code_functions",
    "code_secure",
    "semantic_backfill",
    "search_path_pin",
    "search_path_reset",
    "applied_migrations",
    "database_exists",
    "create_database",
    "drop_database",
    "server_version",
}
QUERIES = parse((REPO / "python" / "debugloop" / "queries.sql").read_text(encoding="utf-8"))
API = sorted(set(QUERIES) - BOOKKEEPING)


@pytest.fixture(scope="module")
def catalog(module_db):
    """One connection to a migrated database for the whole module: nothing is written."""
    with psycopg.connect(module_db.url, autocommit=True) as connection:
        yield connection


def _as_view_text(query: str) -> str:
    """The query with each %(name)s placeholder a null, so that it can define a view."""
    return re.sub(r"%\(\w+\)s", "null", query).replace("%%", "%")


def _references(conn, query: str) -> list[tuple[str, str, str]]:
    """(kind, name, what) of every relation of the schema that the query reads and
    every function of the schema that it calls, from a temporary view defined by
    it, so that the catalog resolves the names as PostgreSQL runs them: the
    relations are those its rule scans (their range table entries' :relid; a
    function returning a table's row type scans nothing), the functions its rule
    depends on."""
    # (as a subquery: a view's own columns may not be void, as stf_set_embedding returns)
    conn.execute(f"create temporary view zz_query as select from ({_as_view_text(query)}) q")
    try:
        return conn.execute(
            r"""with rule as (select r.oid, r.ev_action::text as action from pg_rewrite r
                              where r.ev_class = 'zz_query'::regclass)
               select distinct 'relation', c.relname::text, c.relkind::text
                 from rule, regexp_matches(rule.action, ':relid (\d+)', 'g') m
                 join pg_class c on c.oid = m[1]::oid
                where c.relnamespace = 'debugloop'::regnamespace
               union
               select 'function', p.proname::text, p.oid::regprocedure::text
                 from rule join pg_depend d on d.classid = 'pg_rewrite'::regclass and d.objid = rule.oid
                 join pg_proc p on d.refclassid = 'pg_proc'::regclass and p.oid = d.refobjid
                where p.pronamespace = 'debugloop'::regnamespace"""
        ).fetchall()
    finally:
        conn.execute("drop view zz_query")


def _violations(conn, query: str) -> list[str]:
    """What the query reads that is not the API: tables, materialized views, views
    not named v_*, internal (_*) and trigger (tg_*) functions."""
    found = []
    for kind, name, what in _references(conn, query):
        if kind == "function" and name.startswith(("_", "tg_")):
            found.append(f"function {what}")
        elif kind == "relation" and not (what == "v" and name.startswith("v_")):
            found.append(f"relation {name} (relkind {what})")
    return found


def test_the_bookkeeping_queries_exist():
    assert BOOKKEEPING <= set(QUERIES)


@pytest.mark.parametrize("name", API)
def test_a_query_calls_public_functions_and_reads_v_views_only(catalog, name):
    query = getattr(Q, name)
    assert _references(catalog, query), f"{name} names nothing of the schema"
    assert _violations(catalog, query) == [], name


@pytest.mark.parametrize(
    "query",
    [
        "select * from debugloop.debug_execution_attempts",
        "select * from debug_error_signatures where %(x)s::text is null",
        "select * from debugloop.mv_stf_usage_stats",
        "select debugloop._settings_number('problem_min_similarity')",
        "select * from debugloop.v_stfs where stf_id in (select stf_id from debugloop.debug_stf_provenance)",
    ],
)
def test_the_check_sees_what_is_not_the_api(catalog, query):
    catalog.execute("set search_path = debugloop, public")  # unqualified names are seen too
    try:
        assert _violations(catalog, query)
    finally:
        catalog.execute("reset search_path")


def test_the_check_passes_the_api_and_refuses_unknown_names(catalog):
    assert _violations(catalog, "select * from debugloop.v_stfs where stf_language = 'python'") == []
    with pytest.raises(psycopg.errors.UndefinedFunction):
        _references(catalog, "select debugloop.no_such_function()")
