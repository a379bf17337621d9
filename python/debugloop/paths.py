"""Where the SQL of the project and the bundled agent logs live: the repository's
top-level folders in a checkout or editable install, the copies under
``debugloop/_sql`` and ``debugloop/_examples`` in a built wheel."""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def default_home() -> Path:
    """DEBUGLOOP_HOME's default: the user data dir (``~/.local/share/debugloop`` on Linux)."""
    import platformdirs  # here: most callers of this module never need it

    return Path(platformdirs.user_data_dir("debugloop"))


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


def example_logs() -> Path:
    """The bundled agent logs (examples/agent-logs): one folder per format."""
    checkout = _PACKAGE.parent.parent / "examples" / "agent-logs"
    return checkout if checkout.is_dir() else _PACKAGE / "_examples" / "agent-logs"
