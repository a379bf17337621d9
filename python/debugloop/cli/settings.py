"""``debugloop settings``: feature flags and thresholds stored in the database."""

from __future__ import annotations

from .common import AS_CSV, AS_JSON, client, group
from .render import Col, dumps, emit, say, table_spec

app = group("Feature flags and thresholds stored in the database: list, get, set.")

SETTINGS = table_spec(
    "settings list",
    Col("key", lambda s: s.key, "key"),
    Col("value", lambda s: dumps(s.value, indent=None), "key"),
    Col("in force", lambda s: dumps(s.effective_value, indent=None), "key", drop=2),
    Col("type", lambda s: s.value_type, drop=1),
    Col("description", lambda s: s.description),
)


@app.command("list")
def list_settings(as_json: AS_JSON = False, as_csv: AS_CSV = False) -> None:
    """Every setting: its stored value and the value in force for this process."""
    with client() as dl:
        rows = dl.settings.list()
    emit(SETTINGS, rows, as_json=as_json, as_csv=as_csv, empty="no settings (is the schema migrated?)")


@app.command("get")
def get(key: str) -> None:
    """The value of one setting in force for this process, as JSON."""
    with client() as dl:
        print(dumps(dl.settings.get(key), indent=None))


@app.command("set")
def set_(key: str, value: str, as_json: AS_JSON = False) -> None:
    """Change a setting for everyone (needs the debugloop_admin role)."""
    with client() as dl:
        s = dl.settings.set(key, value)
    if as_json:
        print(dumps(s))
    else:
        say(f"{s.key} = {dumps(s.value, indent=None)} (by {s.updated_by} at {s.updated_at:%Y-%m-%d %H:%M:%S%z})")
