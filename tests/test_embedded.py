"""The embedded server through the command line, as a user drives it."""

import os
import subprocess
from pathlib import Path

import psutil
import pytest

from debugloop.embedded import EmbeddedServer, psql_path
from debugloop.migrate import expected_version
from helpers import run_cli, run_cli_at_once


def _postmasters(data_dir: str) -> list[int]:
    found = []
    for proc in psutil.process_iter(["name", "cmdline", "ppid"]):
        cmdline = proc.info["cmdline"] or []
        if proc.info["name"] == "postgres" and data_dir in " ".join(cmdline):
            if psutil.Process(proc.info["ppid"]).name() != "postgres":  # the postmaster, not a backend
                found.append(proc.pid)
    return found


@pytest.fixture
def home(tmp_path):
    home = tmp_path / "home"
    yield {"DEBUGLOOP_HOME": str(home)}
    run_cli("db", "down", env={"DEBUGLOOP_HOME": str(home)})


def test_up_twice_migrate_twice_psql_and_down(home):
    # two `up` at once, then a third: one server
    results = run_cli_at_once(2, "db", "up", env=home)
    assert [r.returncode for r in results] == [0, 0], [r.stderr for r in results]
    outs = [r.stdout for r in results]
    assert sum("started" in o for o in outs) == 1 and sum("already running" in o for o in outs) == 1
    again = run_cli("db", "up", env=home)
    assert again.returncode == 0 and "already running" in again.stdout
    assert len(_postmasters(home["DEBUGLOOP_HOME"])) == 1

    status = run_cli("db", "status", env=home)
    assert status.returncode == 0 and "running" in status.stdout

    first, second = run_cli("db", "migrate", env=home), run_cli("db", "migrate", env=home)
    assert first.returncode == 0 and "applying 0001_foundation" in first.stdout
    assert second.returncode == 0 and "nothing to do" in second.stdout

    url = run_cli("db", "url", env=home).stdout.strip()
    assert url.startswith("postgresql://postgres@127.0.0.1:")
    answer = subprocess.run(
        [str(psql_path()), url, "-tA", "-c", "select debugloop.version()"], capture_output=True, text=True
    )
    assert answer.returncode == 0 and answer.stdout.strip() == str(expected_version())

    via_cli = run_cli("db", "psql", "-tA", "-c", "select count(*) from debugloop.v_settings", env=home)
    assert via_cli.returncode == 0 and int(via_cli.stdout.strip()) >= 3

    down = run_cli("db", "down", env=home)
    assert down.returncode == 0 and "stopped" in down.stdout
    assert _postmasters(home["DEBUGLOOP_HOME"]) == []
    stopped = run_cli("db", "status", env=home)
    assert stopped.returncode == 3 and "not running" in stopped.stdout


def test_url_of_a_stopped_server_is_a_one_line_error(home):
    result = run_cli("db", "url", env=home)
    assert result.returncode == 1
    assert result.stderr.strip().count("\n") == 0
    assert "not running" in result.stderr and "debugloop db up" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("not a url at all", "not a PostgreSQL connection string"),
        ("postgresql://nobody@127.0.0.1:1/none", "cannot connect"),
        ("postgres://nobody@[bad/none", "not a PostgreSQL connection string"),
    ],
)
@pytest.mark.parametrize("command", [["db", "migrate"], ["db", "info"], ["settings", "list"], ["demo"]])
def test_bad_database_url_is_a_one_line_error_naming_the_variable(url, reason, command):
    result = run_cli(*command, env={"DEBUGLOOP_DATABASE_URL": url})
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    line = result.stderr.strip()
    assert "\n" not in line
    assert line.startswith("debugloop: error: DEBUGLOOP_DATABASE_URL") and reason in line


def test_up_and_down_refuse_to_manage_an_external_server(db):
    for command in ("up", "down"):
        result = run_cli("db", command, env={"DEBUGLOOP_DATABASE_URL": db.url})
        assert result.returncode == 1 and "DEBUGLOOP_DATABASE_URL is set" in result.stderr


def test_status_and_url_follow_an_external_database(db):
    env = {"DEBUGLOOP_DATABASE_URL": db.url}
    status = run_cli("db", "status", env=env)
    assert status.returncode == 0 and "reachable" in status.stdout
    assert run_cli("db", "url", env=env).stdout.strip() == db.url


def test_every_command_has_help():
    for command in ([], ["db"], ["settings"], ["db", "up"], ["db", "migrate"], ["db", "psql"], ["demo"]):
        result = run_cli(*command, "--help")
        assert result.returncode == 0 and "Usage" in result.stdout


def test_a_busy_port_is_refused_before_anything_is_made(home):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_cli("db", "up", "--port", str(port), env=home)
    assert result.returncode == 1 and f"port {port} is in use" in result.stderr
    assert not (Path(home["DEBUGLOOP_HOME"]) / "pgdata" / "PG_VERSION").exists()


def test_a_stale_pid_file_naming_another_program_is_not_a_running_server(tmp_path):
    data = tmp_path / "pgdata"
    data.mkdir()
    # postmaster.pid as PostgreSQL writes it, naming this (python) process
    (data / "postmaster.pid").write_text(f"{os.getpid()}\n{data}\n0\n5432\n\n127.0.0.1\n0 0\nready\n")
    assert EmbeddedServer(tmp_path).status().running is False
