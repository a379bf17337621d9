"""The SQL linter (tools/sql_lint.py, `make lint`): the repository passes it, and
each rule finds what it is for, inside function bodies too."""

import importlib.util
import sys

import pytest

from helpers import REPO

_spec = importlib.util.spec_from_file_location("sql_lint", REPO / "tools" / "sql_lint.py")
sql_lint = importlib.util.module_from_spec(_spec)
sys.modules["sql_lint"] = sql_lint  # dataclasses look their module up
_spec.loader.exec_module(sql_lint)

CONFIG = sql_lint.Config(
    paths=(), code_paths=("functions",), schema="debugloop", ignore=frozenset(), per_file_ignores={}
)


def _lint(tmp_path, text: str, folder: str = "functions") -> list[tuple[int, str]]:
    path = tmp_path / folder / "10_x.sql"
    path.parent.mkdir(exist_ok=True)
    path.write_text(text)
    linter = sql_lint.FileLinter(path, CONFIG)
    linter.name = f"{folder}/10_x.sql"
    linter.is_code = folder in CONFIG.code_paths
    return [(f.line, f.rule) for f in linter.lint()]


def test_the_repository_passes():
    config = sql_lint.Config.load()
    assert [str(f) for f in sql_lint.lint(sql_lint.files(config, []), config)] == []


GOOD = """-- a comment
create or replace function debugloop.f(a integer)
returns integer
language plpgsql
stable
as $$
declare
    doubled integer := a * 2;
begin
    if a < 0 then
        raise exception 'a must not be negative' using errcode = 'DL001';
    end if;
    return doubled;
exception when division_by_zero then
    raise;
end
$$;
"""


def test_good_code_has_no_finding(tmp_path):
    assert _lint(tmp_path, GOOD) == []


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (("if a < 0 then", "if a < then"), [(6, "SQL002")]),  # the line of the body's $$
        (("return doubled;", "select * frm t;\n    return doubled;"), [(6, "SQL002")]),  # SQL inside PL/pgSQL
        ((" using errcode = 'DL001';", ";"), [(11, "SQL003")]),
        (("    return doubled;", "    return a;"), [(8, "SQL004")]),
        (("create or replace function", "create function"), [(2, "SQL005")]),
        (("debugloop.f(a integer)", "f(a integer)"), [(2, "SQL006")]),
        (("stable\n", "stable\nsecurity definer\n"), [(2, "SQL007")]),
        (("stable\n", "stable\nsecurity definer set search_path = debugloop, public, pg_temp\n"), [(2, "SQL007")]),
        (("stable\n", "stable\nsecurity definer set search_path = pg_temp, debugloop, pg_catalog\n"), [(2, "SQL007")]),
        (("-- a comment\n", "-- a comment\nselect from where;\n"), [(2, "SQL001")]),
    ],
)
def test_each_rule_finds_its_problem(tmp_path, change, expected):
    old, new = change
    assert old in GOOD
    assert _lint(tmp_path, GOOD.replace(old, new)) == expected


def test_sql_bodies_do_blocks_and_code_files(tmp_path):
    sql_body = "create or replace function debugloop.g() returns int language sql as $$\n  select 1 +\n  from t\n$$;\n"
    assert _lint(tmp_path, sql_body) == [(3, "SQL002")]
    do_block = "do $$\ndeclare\n    unused int;\nbegin\n    null;\nend\n$$;\n"
    assert _lint(tmp_path, do_block, folder="migrations") == [(3, "SQL004")]
    assert _lint(tmp_path, "create table debugloop.t (id int);\n") == [(1, "SQL005")]
    assert _lint(tmp_path, "create table debugloop.t (id int);\n", folder="migrations") == []


def test_a_code_file_changes_no_owner(tmp_path):
    """The loader hands SECURITY DEFINER functions to their owner role (_meta_secure)."""
    assert _lint(tmp_path, "alter function debugloop.f(integer) owner to debugloop_owner;\n") == [(1, "SQL005")]
    assert _lint(tmp_path, "alter table debugloop.t owner to debugloop_owner;\n") == [(1, "SQL005")]
    assert _lint(tmp_path, "alter schema debugloop owner to debugloop_owner;\n") == [(1, "SQL005")]
