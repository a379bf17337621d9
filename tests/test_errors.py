"""The SQLSTATE registry: each DL code raised in PostgreSQL becomes its own exception."""

import re

import psycopg
import pytest

from debugloop import errors
from debugloop.errors import REGISTRY, DatabaseError, DatabaseUnavailable, wrap_exceptions
from helpers import REPO


@pytest.mark.parametrize("sqlstate", sorted(REGISTRY))
def test_each_registered_sqlstate_raised_in_sql_becomes_its_exception(conn, sqlstate):
    with pytest.raises(REGISTRY[sqlstate]) as info, wrap_exceptions():
        conn.execute(
            f"""do $$ begin
                  raise exception 'the message' using errcode = '{sqlstate}',
                        detail = 'the detail', hint = 'the hint', column = 'the_field';
                end $$"""
        )
    exc = info.value
    assert type(exc) is REGISTRY[sqlstate]
    assert exc.sqlstate == sqlstate
    assert (exc.message, exc.detail, exc.hint, exc.field) == ("the message", "the detail", "the hint", "the_field")
    assert isinstance(exc.__cause__, psycopg.Error) and exc.__cause__.sqlstate == sqlstate


def test_registry_codes_and_classes_are_unique_and_of_class_dl():
    assert all(re.fullmatch(r"DL[0-9A-Z]{3}", code) for code in REGISTRY)
    assert len({cls for cls in REGISTRY.values()}) == len(REGISTRY)
    for code, cls in REGISTRY.items():
        assert cls.sqlstate == code and getattr(errors, cls.__name__) is cls


def test_unexpected_database_error_keeps_its_cause(conn):
    with pytest.raises(DatabaseError) as info, wrap_exceptions():
        conn.execute("select 1 / 0")
    assert info.value.sqlstate == "22012"
    assert isinstance(info.value.__cause__, psycopg.errors.DivisionByZero)


def test_unreachable_database_is_database_unavailable():
    with pytest.raises(DatabaseUnavailable), wrap_exceptions():
        psycopg.connect("postgresql://nobody@127.0.0.1:1/none", connect_timeout=2)


def test_readme_error_table_is_the_registry():
    readme = (REPO / "README.md").read_text()
    rows = re.findall(r"^\|\s*`?(DL[0-9A-Z]{3})`?\s*\|\s*`?(\w+)`?\s*\|", readme, re.MULTILINE)
    assert dict(rows) == {code: cls.__name__ for code, cls in REGISTRY.items()}


def test_sql_raises_only_registered_dl_codes():
    used = set()
    for path in [*REPO.glob("functions/*.sql"), *REPO.glob("triggers/*.sql"), *REPO.glob("db/migrations/*.sql")]:
        used |= set(re.findall(r"errcode\s*=\s*'(DL[0-9A-Z]{3})'", path.read_text(), re.IGNORECASE))
    assert used, "no DL code found: the scan is broken"
    assert used <= set(REGISTRY), f"raised but not registered: {sorted(used - set(REGISTRY))}"
