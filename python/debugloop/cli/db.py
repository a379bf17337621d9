"""``debugloop db``: the embedded server, migrations, what is installed."""

from __future__ import annotations

import os
import sys
from typing import Annotated

import typer

from .. import db
from ..client import Client
from ..config import load_settings
from ..embedded import EmbeddedServer, psql_path
from ..errors import DebugloopError
from ..migrate import MigrateResult, migrate
from ..queries import Q
from .common import AS_JSON, client, embedded_only, group
from .render import Col, dumps, out, print_table, say, table_spec

app = group("The database: the embedded server (up, down, status, url, psql), migrations, what is installed.")


@app.command("up")
def up(
    port: Annotated[
        int | None, typer.Option(help="TCP port on 127.0.0.1 (default: the last one, else a free one).")
    ] = None,
) -> None:
    """Start the embedded PostgreSQL server (detached); a second `up` reuses the running one."""
    status, started = embedded_only("start").up(port)
    verb = "started" if started else "already running"
    say(f"embedded PostgreSQL {verb}: pid {status.pid}, port {status.port}, data {status.data_dir}")


@app.command("down")
def down() -> None:
    """Stop the embedded PostgreSQL server."""
    say("embedded PostgreSQL stopped" if embedded_only("stop").down() else "embedded PostgreSQL was not running")


@app.command("status")
def status(as_json: AS_JSON = False) -> None:
    """Whether the database answers. Exit code 0 when it does, 3 when it does not."""
    settings = load_settings()
    if settings.database_url is not None:
        target = db.resolve(settings)
        try:
            with db.connect(target, settings) as conn:
                version = conn.execute(Q.server_version).fetchone()[0]
            state = {"database": "external", "reachable": True, "url": target.redacted(), "postgresql": version}
            text = f"external database ({db.ENV_URL}) reachable: {target.redacted()}, PostgreSQL {version}"
        except DebugloopError as exc:
            state = {"database": "external", "reachable": False, "url": target.redacted(), "error": str(exc)}
            text = f"external database ({db.ENV_URL}) not reachable: {exc}"
    else:
        s = EmbeddedServer(settings.home).status()
        state = {
            "database": "embedded",
            "reachable": s.running,
            "pid": s.pid,
            "port": s.port,
            "data_dir": str(s.data_dir),
            "url": s.url() if s.running else None,
        }
        text = (
            f"embedded PostgreSQL running: pid {s.pid}, port {s.port}, data {s.data_dir}\nurl: {s.url()}"
            if s.running
            else f"embedded PostgreSQL not running (data {s.data_dir})"
        )
    if as_json:
        print(dumps(state))
    else:
        say(text)
    if not state["reachable"]:
        raise typer.Exit(3)


@app.command("url")
def url() -> None:
    """Print a connection string that any PostgreSQL client can use."""
    print(db.resolve(load_settings()).conninfo)


@app.command("psql", context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def psql(ctx: typer.Context) -> None:
    """Open psql on the database; extra arguments go to psql (e.g. -c 'select debugloop.version()')."""
    target = db.resolve(load_settings())
    binary = str(psql_path())
    sys.stdout.flush()
    os.execv(binary, [binary, target.conninfo, *ctx.args])


def run_migrate(conninfo: str | None = None, source: str | None = None) -> MigrateResult:
    """Migrate the configured database (or ``conninfo``), saying what was done."""
    if conninfo is None:
        target = db.resolve(load_settings())
        conninfo, source = target.conninfo, target.source
    result = migrate(conninfo, source=source or "database url", on_migration=lambda mid: say(f"applying {mid} ..."))
    if not result.changed:
        say(f"nothing to do: schema version {result.version}, functions and triggers current")
        return result
    if result.applied:
        say(f"applied {len(result.applied)} migration(s)")
    if result.code_reloaded:
        say("reloaded functions/ and triggers/")
    say(f"schema version {result.version}")
    return result


@app.command("migrate")
def migrate_command() -> None:
    """Apply pending migrations, then reload functions/ and triggers/ (idempotent, safe to run concurrently)."""
    run_migrate()


COMPONENTS = table_spec(
    "db info components", Col("component", lambda c: c.component), Col("version", lambda c: c.version, "num")
)
API = table_spec(
    "db info api",
    Col("kind", lambda e: e.kind, drop=1),
    Col("function or view", lambda e: f"{e.name}({e.arguments})" if e.kind == "function" else e.name),
    Col("returns", lambda e: e.returns, drop=2),
    Col("summary", lambda e: e.summary),
)


def print_components(dl: Client) -> None:
    print_table(COMPONENTS, dl.meta.info(), "installed")


@app.command("info")
def info(as_json: AS_JSON = False) -> None:
    """What is installed (PostgreSQL, pgvector, pg_trgm, the schema version) and the public SQL API."""
    with client() as dl:
        components, api = dl.meta.info(), dl.meta.api()
    if as_json:
        print(dumps({"components": components, "api": api}))
        return
    print_table(COMPONENTS, components, "installed")
    print_table(API, api, "public SQL API (schema debugloop)")
    out.print(f"{sum(e.kind == 'function' for e in api)} functions, {sum(e.kind == 'view' for e in api)} views")
