"""The ``debugloop`` command line: the embedded database, migrations, settings, the demo."""

from __future__ import annotations

import json
import os
import sys
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.table import Table

from . import db
from .client import Client
from .config import load_settings
from .embedded import EmbeddedServer, psql_path
from .errors import ConfigurationError, DebugloopError
from .migrate import MigrateResult, migrate
from .queries import Q

app = typer.Typer(
    help="debugloop: the memory and the wallet of a team of LLM coding agents, inside PostgreSQL.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
db_app = typer.Typer(
    help="The database: the embedded server (up, down, status, url, psql), migrations, what is installed.",
    no_args_is_help=True,
)
settings_app = typer.Typer(help="Feature flags and thresholds stored in the database.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(settings_app, name="settings")

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


def _embedded_only(action: str) -> EmbeddedServer:
    settings = load_settings()
    if settings.database_url is not None:
        raise ConfigurationError(
            f"{db.ENV_URL} is set: debugloop does not {action} an external server; unset it to use the embedded one"
        )
    return EmbeddedServer(settings.home)


def _client() -> Client:
    settings = load_settings()
    return Client(db.resolve(settings), settings)


# -- db -------------------------------------------------------------------------


@db_app.command("up")
def db_up(
    port: Annotated[Optional[int], typer.Option(help="TCP port on 127.0.0.1 (default: the last one, else a free one).")] = None,
) -> None:
    """Start the embedded PostgreSQL server (detached); a second `up` reuses the running one."""
    server = _embedded_only("start")
    status, started = server.up(port)
    verb = "started" if started else "already running"
    out.print(f"embedded PostgreSQL {verb}: pid {status.pid}, port {status.port}, data {status.data_dir}")


@db_app.command("down")
def db_down() -> None:
    """Stop the embedded PostgreSQL server."""
    server = _embedded_only("stop")
    out.print("embedded PostgreSQL stopped" if server.down() else "embedded PostgreSQL was not running")


@db_app.command("status")
def db_status() -> None:
    """Whether the database answers. Exit code 0 when it does, 3 when it does not."""
    settings = load_settings()
    if settings.database_url is not None:
        target = db.resolve(settings)
        try:
            with db.connect(target, settings) as conn:
                version = conn.execute(Q.server_version).fetchone()[0]
        except DebugloopError as exc:
            out.print(f"external database ({db.ENV_URL}) not reachable: {exc}")
            raise typer.Exit(3) from None
        out.print(f"external database ({db.ENV_URL}) reachable: {target.redacted()}, PostgreSQL {version}")
        return
    status = EmbeddedServer(settings.home).status()
    if not status.running:
        out.print(f"embedded PostgreSQL not running (data {status.data_dir})")
        raise typer.Exit(3)
    out.print(f"embedded PostgreSQL running: pid {status.pid}, port {status.port}, data {status.data_dir}")
    out.print(f"url: {status.url()}")


@db_app.command("url")
def db_url() -> None:
    """Print a connection string that any PostgreSQL client can use."""
    print(db.resolve(load_settings()).conninfo)


@db_app.command(
    "psql",
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
)
def db_psql(ctx: typer.Context) -> None:
    """Open psql on the database; extra arguments go to psql (e.g. -c 'select debugloop.version()')."""
    target = db.resolve(load_settings())
    psql = str(psql_path())
    sys.stdout.flush()
    os.execv(psql, [psql, target.conninfo, *ctx.args])


def _print_migrate(result: MigrateResult) -> None:
    if not result.changed:
        out.print(f"nothing to do: schema version {result.version}, functions and triggers current")
        return
    if result.applied:
        out.print(f"applied {len(result.applied)} migration(s)")
    if result.code_reloaded:
        out.print("reloaded functions/ and triggers/")
    out.print(f"schema version {result.version}")


def _migrate() -> MigrateResult:
    target = db.resolve(load_settings())
    result = migrate(target.conninfo, source=target.source, on_migration=lambda mid: out.print(f"applying {mid} ..."))
    _print_migrate(result)
    return result


@db_app.command("migrate")
def db_migrate() -> None:
    """Apply pending migrations, then reload functions/ and triggers/ (idempotent, safe to run concurrently)."""
    _migrate()


def _print_info(client: Client) -> None:
    components = Table(title="installed", show_header=True)
    components.add_column("component")
    components.add_column("version")
    for row in client.info():
        components.add_row(row.component, row.version or "-")
    out.print(components)
    api = Table(title="public SQL API (schema debugloop)", show_header=True)
    api.add_column("function or view", overflow="fold", ratio=1)
    api.add_column("summary", overflow="fold", ratio=1)
    for entry in client.api():
        if entry.kind == "function":
            api.add_row(f"{entry.name}({entry.arguments}) → {entry.returns}", entry.summary)
        else:
            api.add_row(f"{entry.name} (view)", entry.summary)
    out.print(api)


@db_app.command("info")
def db_info() -> None:
    """What is installed: PostgreSQL, pgvector, pg_trgm, the schema version, the public functions."""
    with _client() as client:
        _print_info(client)


# -- settings -------------------------------------------------------------------


@settings_app.command("list")
def settings_list() -> None:
    """Every setting: its stored value and the value in force for this process."""
    with _client() as client:
        table = Table(show_header=True)
        for column in ("key", "value", "in force", "type", "description"):
            table.add_column(column, overflow="fold")
        for s in client.settings.list():
            table.add_row(s.key, repr(s.value), repr(s.effective_value), s.value_type, s.description)
        out.print(table)


@settings_app.command("get")
def settings_get(key: str) -> None:
    """The value of one setting in force for this process."""
    with _client() as client:
        print(json.dumps(client.settings.get(key)))


@settings_app.command("set")
def settings_set(key: str, value: str) -> None:
    """Change a setting for everyone (needs the debugloop_admin role)."""
    with _client() as client:
        s = client.settings.set(key, value)
        out.print(f"{s.key} = {s.value!r} (by {s.updated_by} at {s.updated_at:%Y-%m-%d %H:%M:%S%z})")


# -- demo -----------------------------------------------------------------------


@app.command("demo")
def demo() -> None:
    """Set up the embedded database end to end and show what debugloop has installed."""
    settings = load_settings()
    if settings.database_url is None:
        status, started = EmbeddedServer(settings.home).up()
        out.print(f"[bold]1. database[/]: embedded PostgreSQL {'started' if started else 'already running'} at {status.url()}")
    else:
        out.print(f"[bold]1. database[/]: {db.ENV_URL} ({db.resolve(settings).redacted()})")
    out.print("[bold]2. migrate[/]")
    _migrate()
    out.print("[bold]3. what is installed[/]")
    with _client() as client:
        _print_info(client)


def main() -> None:
    try:
        app()
    except DebugloopError as exc:
        err.print(f"debugloop: error: {exc}", markup=False, highlight=False)
        sys.exit(1)
    except KeyboardInterrupt:
        err.print("debugloop: interrupted")
        sys.exit(130)


if __name__ == "__main__":
    main()
