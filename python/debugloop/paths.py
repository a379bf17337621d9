"""Where the SQL of the project lives: the repository's top-level folders in a
checkout or editable install, the copy under ``debugloop/_sql`` in a built wheel."""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def sql_root() -> Path:
    checkout = _PACKAGE.parent.parent
    if (checkout / "db" / "migrations").is_dir() and (checkout / "functions").is_dir():
        return checkout
    return _PACKAGE / "_sql"


def migrations_dir() -> Path:
    return sql_root() / "db" / "migrations"


def code_files() -> list[Path]:
    """The files that are reloaded after every migrate, in their fixed order:
    functions/ before triggers/, each folder by file name (the numeric prefixes)."""
    root = sql_root()
    return [*sorted((root / "functions").glob("*.sql")), *sorted((root / "triggers").glob("*.sql"))]
