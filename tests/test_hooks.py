"""Claude Code hooks against a real database: `debugloop hook EVENT` run as Claude
Code runs it (a child process, the hook's JSON on standard input, as Claude Code's
hooks reference documents each event), `debugloop hooks install|uninstall` on a
settings file of someone's own, and who is who (agent_session_*)."""

import getpass
import json
import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time

import psycopg
import pytest

import debugloop
from debugloop import hookd, hooks
from debugloop.errors import InvalidParameter, SessionConflict
from debugloop.paths import example_logs
from helpers import cli_env, run_cli

LOGS = example_logs() / "claude-code"
# the session whose failures were fixed (an Edit refused, a missing module, ...), and a small one
FIXED_SESSION = "d3ad4cdc-5657-435d-98fa-0035d53e383d"
SMALL_SESSION = "fed8ce56-bc79-401f-a83e-af084253362f"
PARAPHRASE = "find me models whose embeddings give more diverse values"  # of "help me find models where the embeddings have more diverse values"
UNRELATED = "What is the capital of France?"
TORCH = "ModuleNotFoundError: No module named 'torch'"  # met and fixed in the bundled session


def hook(event: str, payload, env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess:
    """`debugloop hook EVENT` with ``payload`` (a dict, or raw text) on standard input."""
    data = payload if isinstance(payload, str) else json.dumps(payload)
    return subprocess.run(
        [sys.executable, "-m", "debugloop.cli", "hook", event],
        input=data,
        env=cli_env(env),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def payload(event: str, session: str, tmp_path, **fields) -> dict:
    """The common input fields of Claude Code's hooks, and the event's own."""
    return {
        "session_id": session,
        "transcript_path": str(tmp_path / f"{session}.jsonl"),
        "cwd": str(tmp_path),
        "permission_mode": "default",
        "hook_event_name": event,
        **fields,
    }


def log_lines(home) -> list[str]:
    path = home / hooks.LOG_NAME
    return path.read_text().splitlines() if path.exists() else []


@pytest.fixture(scope="module")
def learned(module_db):
    """A database that has learned from the bundled Claude Code sessions."""
    with debugloop.connect(module_db.url) as dl:
        result = dl.imports.run("claude-code", [LOGS])
        assert result.inserted > 0 and not result.skipped
    return module_db


@pytest.fixture
def env(learned, tmp_path):
    return {"DEBUGLOOP_DATABASE_URL": learned.url, "DEBUGLOOP_HOME": str(tmp_path / "home")}


# -- what the agent is told -----------------------------------------------------------


def test_the_prompt_hook_prints_the_fix_learned_from_a_session_for_a_paraphrase(learned, env, tmp_path):
    done = hook("UserPromptSubmit", payload("UserPromptSubmit", "s-prompt", tmp_path, prompt=PARAPHRASE), env)
    assert done.returncode == 0 and done.stderr == ""
    # the fix of the bundled session's `ModuleNotFoundError: No module named 'torch'`
    assert "ModuleNotFoundError: No module named 'torch'" in done.stdout
    assert "fix: Bash: pip install -r requirements.txt" in done.stdout
    with debugloop.connect(learned.url) as dl:  # what SQL says, as it says it
        expected = dl.manifests.context(PARAPHRASE, agent_name="claude-code", max_chars=hooks.PROMPT_CHARS)
    assert done.stdout == (expected if expected.endswith("\n") else expected + "\n")
    assert len(done.stdout) <= hooks.PROMPT_CHARS + 1
    assert log_lines(tmp_path / "home") == []


def test_the_prompt_hook_obeys_a_flag_that_the_environment_overrides(env, tmp_path):
    event = payload("UserPromptSubmit", "s-flags", tmp_path, prompt=PARAPHRASE)
    assert "## Reusable functions (STFs)" in hook("UserPromptSubmit", event, env).stdout
    off = hook("UserPromptSubmit", event, {**env, "DEBUGLOOP_ENABLE_STF_EXTRACTION": "false"})
    assert "## Reusable functions (STFs)" not in off.stdout and "pip install -r requirements.txt" in off.stdout
    bad = hook("UserPromptSubmit", event, {**env, "ENABLE_STF_EXTRACTION": "perhaps"})
    assert (bad.returncode, bad.stdout) == (0, "")
    (line,) = log_lines(tmp_path / "home")
    assert "ConfigurationError: ENABLE_STF_EXTRACTION" in line


def test_the_prompt_hook_prints_nothing_for_an_unrelated_prompt(env, tmp_path):
    done = hook("UserPromptSubmit", payload("UserPromptSubmit", "s-unrelated", tmp_path, prompt=UNRELATED), env)
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")
    assert log_lines(tmp_path / "home") == []


def test_the_tool_failure_hook_prints_the_fix_for_the_error(env, tmp_path):
    failure = payload(
        "PostToolUseFailure",
        "s-failure",
        tmp_path,
        tool_name="Edit",
        tool_input={
            "file_path": str(tmp_path / "diverse_musical_ai.py"),
            "old_string": "def main():",
            "new_string": "x",
        },
        tool_use_id="toolu_01",
        error="<tool_use_error>String to replace not found in file.\nString: def main():</tool_use_error>",
        is_interrupt=False,
    )
    done = hook("PostToolUseFailure", failure, env)
    assert done.returncode == 0 and done.stderr == ""
    output = json.loads(done.stdout)["hookSpecificOutput"]
    assert output["hookEventName"] == "PostToolUseFailure"
    # named as the importer names a failed tool call, so its signature is the imported one: an exact match
    assert "- Read diverse_musical_ai.py → Edit diverse_musical_ai.py (exact match" in output["additionalContext"]

    interrupted = hook("PostToolUseFailure", {**failure, "is_interrupt": True}, env)
    assert (interrupted.returncode, interrupted.stdout) == (0, "")


def test_a_failed_tool_call_is_told_the_approaches_that_failed_for_the_sessions_prompt(env, tmp_path):
    request = "all of texts now sound the same"  # a prompt of the bundled session, whose runs failed
    hook("UserPromptSubmit", payload("UserPromptSubmit", "s-known", tmp_path, prompt=request), env)
    failure = payload(
        "PostToolUseFailure",
        "s-known",
        tmp_path,
        tool_name="Bash",
        tool_input={"command": "python diverse_musical_ai.py"},
        error="Exit code 1\nSyntaxError: unexpected character after line continuation character",
    )
    context = json.loads(hook("PostToolUseFailure", failure, env).stdout)["hookSpecificOutput"]["additionalContext"]
    assert "## Approaches that already failed for this request: do not repeat them" in context
    assert '"Bash: python diverse_musical_ai.py" failed twice' in context


def test_a_post_tool_use_whose_response_is_an_error_is_told_the_fixes(env, tmp_path):
    response = {"isError": True, "content": "ModuleNotFoundError: No module named 'torch'"}
    event = payload("PostToolUse", "s-post", tmp_path, tool_name="Bash", tool_input={}, tool_response=response)
    done = hook("PostToolUse", event, env)
    output = json.loads(done.stdout)["hookSpecificOutput"]
    assert output["hookEventName"] == "PostToolUse"
    assert "pip install -r requirements.txt" in output["additionalContext"]
    fine = hook("PostToolUse", {**event, "tool_response": {"stdout": "ok", "stderr": "", "interrupted": False}}, env)
    assert (fine.returncode, fine.stdout) == (0, "")


def test_session_start_after_a_compaction_repeats_the_manifest_for_the_sessions_prompt(env, tmp_path):
    start = payload("SessionStart", "s-compact", tmp_path, source="startup", model="claude-sonnet-4-5")
    assert hook("SessionStart", start, env).stdout == ""  # a new session: no prompt yet
    hook("UserPromptSubmit", payload("UserPromptSubmit", "s-compact", tmp_path, prompt=PARAPHRASE), env)
    again = hook("SessionStart", {**start, "source": "compact"}, env)
    assert "fix: Bash: pip install -r requirements.txt" in again.stdout


# -- learning while the agent works -----------------------------------------------------


def _attempts(url: str, session: str) -> int:
    with psycopg.connect(url) as conn:
        return conn.execute(
            """select count(*) from debugloop.debug_execution_attempts a
                 join debugloop.debug_import_sessions s on s.correlation_id = a.correlation_id
                where s.source = 'claude-code' and s.session_key = %s""",
            (session,),
        ).fetchone()[0]


def test_the_stop_hook_imports_the_transcript_as_it_grows_and_a_second_call_adds_nothing(db, learned, tmp_path):
    env = {"DEBUGLOOP_DATABASE_URL": db.url, "DEBUGLOOP_HOME": str(tmp_path / "home")}
    lines = (LOGS / f"{FIXED_SESSION}.jsonl").read_bytes().splitlines(keepends=True)
    transcript = tmp_path / f"{FIXED_SESSION}.jsonl"
    transcript.write_bytes(b"".join(lines[: len(lines) // 2]))
    stop = payload("Stop", FIXED_SESSION, tmp_path, stop_hook_active=False)

    assert hook("Stop", stop, env).returncode == 0
    half = _attempts(db.url, FIXED_SESSION)
    assert half > 0
    transcript.write_bytes(b"".join(lines))  # the agent worked on
    done = hook("SessionEnd", {**stop, "hook_event_name": "SessionEnd", "reason": "other"}, env)
    assert (done.returncode, done.stdout) == (0, "")
    whole = _attempts(db.url, FIXED_SESSION)
    assert whole == _attempts(learned.url, FIXED_SESSION) > half  # as a one-shot import of the whole file
    assert hook("Stop", stop, env).returncode == 0
    assert _attempts(db.url, FIXED_SESSION) == whole
    # `debugloop import claude-code` of the same file agrees: nothing new
    again = run_cli("import", "claude-code", str(transcript), "--json", env=env)
    assert again.returncode == 0 and json.loads(again.stdout)["inserted"] == 0
    assert log_lines(tmp_path / "home") == []
    with debugloop.connect(db.url) as dl:
        (session,) = dl.agents.sessions(agent_name="claude-code")
        imported = {s.session_key: s for s in dl.imports.sessions("claude-code")}
    assert session.session_key == FIXED_SESSION and session.events == 3 and session.attempts == whole
    assert session.correlation_id == imported[FIXED_SESSION].correlation_id


def test_post_tool_use_imports_at_most_every_so_often(db, tmp_path):
    env = {"DEBUGLOOP_DATABASE_URL": db.url, "DEBUGLOOP_HOME": str(tmp_path / "home")}
    transcript = tmp_path / f"{SMALL_SESSION}.jsonl"
    shutil.copy(LOGS / f"{SMALL_SESSION}.jsonl", transcript)
    used = payload("PostToolUse", SMALL_SESSION, tmp_path, tool_name="Read", tool_input={}, tool_response={})
    assert hook("PostToolUse", used, env).returncode == 0
    first = _attempts(db.url, SMALL_SESSION)
    assert first > 0
    with psycopg.connect(db.url, autocommit=True) as conn:  # forget it, to see whether the next call imports
        conn.execute("delete from debugloop.debug_import_files")
        conn.execute("delete from debugloop.debug_import_units")
        conn.execute("delete from debugloop.debug_execution_attempts")
    assert hook("PostToolUse", used, env).returncode == 0
    assert _attempts(db.url, SMALL_SESSION) == 0  # imported a moment ago: skipped
    assert hook("Stop", {**used, "hook_event_name": "Stop"}, env).returncode == 0
    assert _attempts(db.url, SMALL_SESSION) == first  # Stop always imports


# -- never in the agent's way -------------------------------------------------------------


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # closed again: nothing listens there


EVENTS = {
    "UserPromptSubmit": {"prompt": PARAPHRASE},
    "SessionStart": {"source": "resume", "model": "claude-sonnet-4-5"},
    "PostToolUseFailure": {"tool_name": "Bash", "tool_input": {"command": "pytest"}, "error": "Exit code 1"},
    "PostToolUse": {"tool_name": "Bash", "tool_input": {}, "tool_response": {"isError": True, "content": "boom"}},
    "Stop": {"stop_hook_active": False},
    "SessionEnd": {"reason": "other"},
}


def test_a_stopped_database_gives_exit_0_empty_stdout_and_one_log_line_per_call(tmp_path):
    home = tmp_path / "home"
    env = {
        "DEBUGLOOP_DATABASE_URL": f"postgresql://postgres@127.0.0.1:{_closed_port()}/debugloop",
        "DEBUGLOOP_HOME": str(home),
    }
    shutil.copy(LOGS / f"{SMALL_SESSION}.jsonl", tmp_path / f"{SMALL_SESSION}.jsonl")
    for event, fields in EVENTS.items():
        done = hook(event, payload(event, SMALL_SESSION, tmp_path, **fields), env)
        assert (done.returncode, done.stdout, done.stderr) == (0, "", ""), event
    lines = log_lines(home)
    assert len(lines) == len(EVENTS)
    assert all(
        f"session={SMALL_SESSION} DatabaseUnavailable: DEBUGLOOP_DATABASE_URL: cannot connect" in line for line in lines
    )
    assert [line.split()[1] for line in lines] == list(EVENTS)


def test_without_a_configured_database_a_hook_does_not_start_the_embedded_server(tmp_path):
    home = tmp_path / "home"
    done = hook(
        "UserPromptSubmit", payload("UserPromptSubmit", "s", tmp_path, prompt=PARAPHRASE), {"DEBUGLOOP_HOME": str(home)}
    )
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")
    assert not (home / "pgdata").exists()
    (line,) = log_lines(home)
    assert "EmbeddedServerError: the embedded database is not running" in line


@pytest.mark.parametrize(
    "event, data, reason",
    [
        ("UserPromptSubmit", "not json", "HookInputError: the hook input is not JSON"),
        ("UserPromptSubmit", "[1, 2]", "HookInputError: the hook input is a JSON list, not an object"),
        ("NoSuchEvent", "{}", "HookInputError: unknown hook event 'NoSuchEvent'"),
        ("UserPromptSubmit", '{"session_id": "s", "prompt": "   "}', None),  # an empty prompt: nothing to say
    ],
)
def test_bad_input_gives_exit_0_and_empty_stdout(env, tmp_path, event, data, reason):
    done = hook(event, data, env)
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")
    lines = log_lines(tmp_path / "home")
    if reason is None:
        assert lines == []
    else:
        (line,) = lines
        assert reason in line


def test_a_hook_that_overruns_its_statement_timeout_ends_within_its_budget(learned, env, tmp_path):
    session = "s-locked"
    with debugloop.connect(learned.url) as dl:
        dl.agents.record("claude-code", session, "hook", "SessionStart")
    with psycopg.connect(learned.url) as blocker:  # holds the session's row: recording it waits
        blocker.execute("select 1 from debugloop.debug_agent_sessions where session_key = %s for update", (session,))
        started = time.monotonic()
        done = hook("UserPromptSubmit", payload("UserPromptSubmit", session, tmp_path, prompt=PARAPHRASE), env)
        elapsed = time.monotonic() - started
        blocker.rollback()
    assert (done.returncode, done.stdout) == (0, "")
    assert hooks.CONTEXT_BUDGET.statement_ms / 1000 <= elapsed < hooks.CONTEXT_BUDGET.total_s + 3
    (line,) = log_lines(tmp_path / "home")
    assert "canceling statement due to statement timeout" in line


def test_the_prompt_hook_loads_neither_the_command_line_nor_pydantic(env, tmp_path):
    """Its time budget: only what a prompt needs is imported (psycopg, the managers)."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "debugloop.cli", "hook", "UserPromptSubmit"],
        input=json.dumps(payload("UserPromptSubmit", "s-lean", tmp_path, prompt=PARAPHRASE)),
        env=cli_env(env),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "pip install -r requirements.txt" in done.stdout
    imported = {line.split("|")[-1].strip() for line in done.stderr.splitlines() if line.startswith("import time:")}
    assert {"psycopg", "debugloop.manifest", "debugloop.agents"} <= imported
    assert not {m for m in imported if m.split(".")[0] in ("pydantic", "pydantic_settings", "typer", "rich", "yoyo")}


# -- the hook helper (debugloop.hookd) --------------------------------------------------


def _helper_env(env: dict[str, str]) -> dict[str, str]:
    return {**env, "DEBUGLOOP_HOOKD": "auto"}


def _socket(env: dict[str, str]):
    """The helper's socket for the configuration of a child run with ``env``."""
    return hookd.socket_path(env["DEBUGLOOP_HOME"], cli_env(_helper_env(env)))


def _imports(event: str, data: dict, env: dict[str, str]) -> tuple[subprocess.CompletedProcess, set[str]]:
    """A hook run under ``-X importtime``, and the modules it imported."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "debugloop.cli", "hook", event],
        input=json.dumps(data),
        env=cli_env(env),
        capture_output=True,
        text=True,
        timeout=60,
    )
    return done, {line.split("|")[-1].strip() for line in done.stderr.splitlines() if line.startswith("import time:")}


@pytest.fixture
def helper(env):
    """A hook helper serving ``env``'s configuration, run as `debugloop hooks serve`."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "debugloop.cli", "hooks", "serve", "--idle", "300"],
        env=cli_env(_helper_env(env)),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert hookd.wait_ready(_socket(env), 30), proc.stderr.read() if proc.poll() is not None else "not ready"
        yield proc
    finally:
        proc.terminate()
        proc.wait(20)


def test_the_helper_answers_the_context_hooks_as_the_hook_itself_does_without_psycopg(helper, env, tmp_path):
    prompt = payload("UserPromptSubmit", "s-helper", tmp_path, prompt=PARAPHRASE)
    failure = payload("PostToolUseFailure", "s-helper", tmp_path, tool_name="Bash", tool_input={}, error=TORCH)
    for event, data in (("UserPromptSubmit", prompt), ("PostToolUseFailure", failure)):
        by_itself = hook(event, data, env)  # DEBUGLOOP_HOOKD=off
        through, imported = _imports(event, data, _helper_env(env))
        assert "pip install -r requirements.txt" in by_itself.stdout, event
        assert through.stdout == by_itself.stdout, event
        assert not {m for m in imported if m.split(".")[0] in ("psycopg", "pydantic", "typer", "rich")}, event
    unrelated, _ = _imports("UserPromptSubmit", {**prompt, "prompt": UNRELATED}, _helper_env(env))
    assert (unrelated.returncode, unrelated.stdout) == (0, "")
    assert log_lines(tmp_path / "home") == []
    with debugloop.connect(env["DEBUGLOOP_DATABASE_URL"]) as dl:  # who is who, as without the helper
        (session,) = [s for s in dl.agents.sessions(project=str(tmp_path)) if s.session_key == "s-helper"]
    assert (session.via, session.events, session.os_user) == ("hook", 5, getpass.getuser())


def test_a_hook_with_no_helper_answers_by_itself_and_starts_one_for_the_next(env, tmp_path):
    socket_path = _socket(env)
    assert hookd.running_pid(socket_path) is None
    data = payload("UserPromptSubmit", "s-start", tmp_path, prompt=PARAPHRASE)
    try:
        first = hook("UserPromptSubmit", data, _helper_env(env))
        assert "pip install -r requirements.txt" in first.stdout
        assert hookd.wait_ready(socket_path, 30)
        pid = hookd.running_pid(socket_path)
        assert pid is not None
        second, imported = _imports("UserPromptSubmit", data, _helper_env(env))
        assert second.stdout == first.stdout and "psycopg" not in imported
        assert "waiting for Claude Code's context hooks" in (tmp_path / "home" / "hookd.log").read_text()
        status = run_cli("hooks", "status", "--dir", str(tmp_path), env=_helper_env(env))
        assert f"the hook helper runs (pid {pid})" in status.stdout
    finally:
        stopped = run_cli("hooks", "stop", env=_helper_env(env))
    assert stopped.returncode == 0 and f"stopped the hook helper (pid {pid})" in stopped.stdout
    assert hookd.running_pid(socket_path) is None and not os.path.exists(socket_path)
    assert "hookd: stopped" in (tmp_path / "home" / "hookd.log").read_text()


def test_one_helper_per_configuration_and_sigterm_stops_it(helper, env, tmp_path):
    second = run_cli("hooks", "serve", env=_helper_env(env))
    assert second.returncode == 1 and f"another helper (pid {helper.pid}) already serves" in second.stdout
    other = _socket({**env, "DEBUGLOOP_ENABLE_STF_EXTRACTION": "false"})  # other flags: another helper's socket
    assert other != _socket(env) and not os.path.exists(other)
    helper.send_signal(signal.SIGTERM)
    out, _ = helper.communicate(timeout=20)
    assert helper.returncode == 0 and out.splitlines()[-1] == "hookd: stopped"
    assert not os.path.exists(_socket(env))


def test_the_helper_reconnects_when_its_connection_is_cut(helper, env, tmp_path):
    data = payload("UserPromptSubmit", "s-cut", tmp_path, prompt=PARAPHRASE)
    assert "pip install" in hook("UserPromptSubmit", data, _helper_env(env)).stdout
    with psycopg.connect(env["DEBUGLOOP_DATABASE_URL"], autocommit=True) as conn:  # as a server restart does
        cut = conn.execute(
            "select count(pg_terminate_backend(pid)) from pg_stat_activity where application_name = 'debugloop-hook'"
        ).fetchone()[0]
    assert cut >= 1
    again, imported = _imports("UserPromptSubmit", data, _helper_env(env))
    assert "pip install -r requirements.txt" in again.stdout and "psycopg" not in imported
    assert log_lines(tmp_path / "home") == []


def test_a_helper_that_cannot_reach_the_database_gives_exit_0_empty_stdout_and_a_log_line(tmp_path):
    home = tmp_path / "home"
    env = {
        "DEBUGLOOP_DATABASE_URL": f"postgresql://postgres@127.0.0.1:{_closed_port()}/debugloop",
        "DEBUGLOOP_HOME": str(home),
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "debugloop.cli", "hooks", "serve"], env=cli_env(_helper_env(env)), text=True
    )
    try:
        assert hookd.wait_ready(_socket(env), 30)
        done, imported = _imports(
            "UserPromptSubmit", payload("UserPromptSubmit", "s", tmp_path, prompt="x"), _helper_env(env)
        )
        assert (done.returncode, done.stdout) == (0, "") and "psycopg" not in imported
    finally:
        proc.terminate()
        proc.wait(20)
    (line,) = log_lines(home)
    assert "UserPromptSubmit session=s DatabaseUnavailable: DEBUGLOOP_DATABASE_URL: cannot connect" in line


def test_a_bad_helper_switch_is_a_logged_error_naming_the_variable(env, tmp_path):
    done = hook(
        "UserPromptSubmit",
        payload("UserPromptSubmit", "s", tmp_path, prompt=PARAPHRASE),
        {**env, "DEBUGLOOP_HOOKD": "sometimes"},
    )
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")
    (line,) = log_lines(tmp_path / "home")
    assert "DEBUGLOOP_HOOKD='sometimes': expected one of auto, off" in line


# -- installing them ----------------------------------------------------------------------

THEIRS = {
    "permissions": {"allow": ["Bash(npm test)"]},
    "hooks": {
        "PreToolUse": [{"matcher": "Bash", "hooks": [{"type": "command", "command": "/usr/local/bin/guard.sh"}]}],
        "UserPromptSubmit": [{"hooks": [{"type": "command", "command": 'echo "Today: $(date +%F)"'}]}],
    },
}


def test_install_keeps_other_hooks_is_idempotent_and_uninstall_restores_the_file(tmp_path):
    settings = tmp_path / ".claude" / "settings.json"
    settings.parent.mkdir()
    original = json.dumps(THEIRS, indent=4)
    settings.write_text(original)

    done = run_cli("hooks", "install", "--dir", str(tmp_path))
    assert done.returncode == 0, done.stderr
    installed = json.loads(settings.read_text())
    assert installed["permissions"] == THEIRS["permissions"]
    assert installed["hooks"]["PreToolUse"] == THEIRS["hooks"]["PreToolUse"]
    assert installed["hooks"]["UserPromptSubmit"][0] == THEIRS["hooks"]["UserPromptSubmit"][0]
    ours = {e: g[-1]["hooks"][0] for e, g in installed["hooks"].items() if e != "PreToolUse"}
    assert set(ours) == {"SessionStart", "UserPromptSubmit", "PostToolUseFailure", "PostToolUse", "Stop", "SessionEnd"}
    assert shlex.split(ours["UserPromptSubmit"]["command"])[-2:] == ["hook", "UserPromptSubmit"]
    assert ours["Stop"]["async"] is True and "async" not in ours["UserPromptSubmit"]
    assert installed["hooks"]["PostToolUseFailure"][-1]["matcher"] == "*"
    backup = settings.with_name("settings.json.bak")
    assert backup.read_text() == original

    text = settings.read_text()
    again = run_cli("hooks", "install", "--dir", str(tmp_path))
    assert again.returncode == 0 and "nothing changed" in again.stdout
    assert settings.read_text() == text and backup.read_text() == original

    status = run_cli("hooks", "status", "--dir", str(tmp_path))
    events = " ".join(status.stdout.splitlines()[0].split()).split("debugloop hooks on ")[1]
    assert set(events.split(", ")) == set(ours)

    removed = run_cli("hooks", "uninstall", "--dir", str(tmp_path))
    assert removed.returncode == 0, removed.stderr
    assert json.loads(settings.read_text()) == THEIRS
    assert run_cli("hooks", "uninstall", "--dir", str(tmp_path)).stdout.count("nothing changed") == 1


def test_install_for_the_user_into_an_empty_home_and_the_command_it_writes_runs(env, tmp_path):
    user_home = tmp_path / "user"
    user_home.mkdir()
    done = run_cli("hooks", "install", "--user", env={"HOME": str(user_home)})
    assert done.returncode == 0, done.stderr
    settings = user_home / ".claude" / "settings.json"
    command = json.loads(settings.read_text())["hooks"]["UserPromptSubmit"][0]["hooks"][0]["command"]
    ran = subprocess.run(  # as Claude Code runs it: through the shell
        command,
        shell=True,
        input=json.dumps(payload("UserPromptSubmit", "s-installed", tmp_path, prompt=PARAPHRASE)),
        env=cli_env(env),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert ran.returncode == 0 and "pip install -r requirements.txt" in ran.stdout
    assert not settings.with_name("settings.json.bak").exists()  # there was nothing to keep
    run_cli("hooks", "uninstall", "--user", env={"HOME": str(user_home)})
    assert json.loads(settings.read_text()) == {}


def test_install_refuses_a_settings_file_that_is_not_json_and_leaves_it(tmp_path):
    settings = tmp_path / ".claude" / "settings.json"
    settings.parent.mkdir()
    settings.write_text("{ not json")
    done = run_cli("hooks", "install", "--dir", str(tmp_path))
    assert done.returncode == 1 and "not JSON" in done.stderr
    assert settings.read_text() == "{ not json"


# -- who is who ---------------------------------------------------------------------------


def test_a_hook_records_the_agent_session_and_project_it_serves(learned, env, tmp_path):
    hook("SessionStart", payload("SessionStart", "s-who", tmp_path, source="startup", model="claude-opus-4-1"), env)
    hook("UserPromptSubmit", payload("UserPromptSubmit", "s-who", tmp_path, prompt=UNRELATED), env)
    with debugloop.connect(learned.url) as dl:
        (session,) = [s for s in dl.agents.sessions(project=str(tmp_path)) if s.session_key == "s-who"]
        assert dl.agents.last_prompt("claude-code", "s-who") == UNRELATED
    assert (session.agent_name, session.via, session.project) == ("claude-code", "hook", str(tmp_path))
    assert (session.os_user, session.db_role, session.model) == (getpass.getuser(), "postgres", "claude-opus-4-1")
    assert (session.events, session.last_event) == (2, "UserPromptSubmit")
    assert session.transcript_path == str(tmp_path / "s-who.jsonl")
    listed = run_cli("hooks", "sessions", "--project", str(tmp_path), "--json", env=env)
    assert [s["session_key"] for s in json.loads(listed.stdout)] == ["s-who"]


def test_a_role_cannot_record_into_another_roles_session(dl, conn):
    conn.execute("create role hook_alice login in role debugloop_agent")
    conn.execute("create role hook_bob login in role debugloop_agent")
    conn.commit()
    try:
        conn.execute("set role hook_alice")
        assert dl.agents.record("claude-code", "s-alice", "hook", "UserPromptSubmit", prompt="mine", conn=conn) == 1
        conn.commit()
        conn.execute("set role hook_bob")
        with pytest.raises(SessionConflict) as info:
            dl.agents.record("claude-code", "s-alice", "hook", "UserPromptSubmit", prompt="theirs", conn=conn)
        assert info.value.field == "session_key" and "recorded by role hook_alice, not hook_bob" in str(info.value)
        conn.rollback()
        (session,) = dl.agents.sessions()
        assert (session.db_role, session.events) == ("hook_alice", 1)
        assert dl.agents.last_prompt("claude-code", "s-alice") == "mine"
        with pytest.raises(InvalidParameter) as bad:
            dl.agents.record("claude-code", "s", "telepathy", "x")
        assert bad.value.field == "via"
    finally:
        conn.rollback()
        conn.execute("reset role")
        conn.execute("delete from debugloop.debug_agent_sessions")
        conn.execute("drop role hook_alice")
        conn.execute("drop role hook_bob")
        conn.commit()
