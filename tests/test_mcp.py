"""`debugloop mcp` driven by the MCP SDK's own stdio client: the tools it lists with
their schemas, and answers that are what the SQL API returns."""

import json
import sys
from decimal import Decimal

import anyio
import psycopg
import pytest
from mcp import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client

import debugloop
from debugloop.models import ErrorFix, Manifest
from debugloop.paths import example_logs
from helpers import cli_env, run_cli

READ_TOOLS = {"manifest", "error_fixes", "known_failures", "stf_search", "golden_search", "cost_estimate"}
PROBLEM = "find me models whose embeddings give more diverse values"
ERROR = "String to replace not found in file."


@pytest.fixture(scope="module")
def learned(module_db):
    with debugloop.connect(module_db.url) as dl:
        dl.imports.run("claude-code", [example_logs() / "claude-code"])
    return module_db


def session_with(url: str, *args: str, calls):
    """Start `debugloop mcp ARGS` as the SDK starts a server, initialise a session, and
    return what ``calls(session)`` returns."""

    async def run():
        server = StdioServerParameters(
            command=sys.executable,
            args=["-m", "debugloop.cli", "mcp", *args],
            env=cli_env({"DEBUGLOOP_DATABASE_URL": url}),
        )
        async with stdio_client(server) as (read, write), ClientSession(read, write) as session:
            await session.initialize()
            return await calls(session)

    return anyio.run(run)


def test_the_server_lists_the_read_tools_with_their_schemas(learned):
    async def calls(session):
        return (await session.list_tools()).tools

    tools = {t.name: t for t in session_with(learned.url, calls=calls)}
    assert set(tools) == READ_TOOLS  # the write side only with --write
    manifest = tools["manifest"]
    assert manifest.input_schema["required"] == ["problem"]
    assert set(manifest.input_schema["properties"]) == {"problem", "k", "model"}
    assert manifest.input_schema["properties"]["k"]["maximum"] == 20
    assert {"stfs", "golden_states", "known_failures", "error_fixes", "cost"} <= set(
        manifest.output_schema["properties"]
    )
    fixes = tools["error_fixes"]
    assert fixes.input_schema["required"] == ["message"]
    fix_row = fixes.output_schema["$defs"]["ErrorFix"]["properties"]
    assert {"match", "successful_approach", "confidence_score", "signature"} <= set(fix_row)
    assert all(t.annotations.read_only_hint for t in tools.values())
    assert tools["cost_estimate"].input_schema["required"] == ["request", "model"]


def test_manifest_and_error_fixes_answer_what_the_sql_api_returns(learned):
    async def calls(session):
        return (
            await session.call_tool("manifest", {"problem": PROBLEM, "k": 3}),
            await session.call_tool("error_fixes", {"message": ERROR, "error_type": "Edit tool error"}),
            await session.call_tool("manifest", {"problem": "   ", "k": 3}),
        )

    manifest, fixes, empty = session_with(learned.url, calls=calls)
    assert not manifest.is_error and not fixes.is_error
    document = manifest.structured_content
    with psycopg.connect(learned.url) as conn:
        sql_document = conn.execute(
            "select debugloop.manifest(%s, %s, null, 3)::text", (PROBLEM, document["agent_name"])
        ).fetchone()[0]
        sql_fixes = conn.execute(
            "select * from debugloop.error_fixes(%s, 'Edit tool error', null, 5)", (ERROR,)
        ).fetchall()
        names = [d.name for d in conn.execute("select * from debugloop.error_fixes('x') limit 0").description]
    ours = Manifest.model_validate(document).model_dump(exclude={"generated_at"})
    theirs = Manifest.model_validate(json.loads(sql_document, parse_float=Decimal)).model_dump(exclude={"generated_at"})
    assert ours == theirs and ours["error_fixes"]
    assert json.loads(manifest.content[0].text)["problem"] == PROBLEM  # the same, as text for the model
    rows = [ErrorFix.model_validate(r) for r in fixes.structured_content["result"]]
    assert rows == [ErrorFix.model_validate(dict(zip(names, r, strict=True))) for r in sql_fixes]
    assert rows[0].match == "exact" and rows[0].successful_approach.startswith("Read diverse_musical_ai.py")
    assert empty.is_error and "problem must not be empty" in empty.content[0].text  # the SQL API's own DL001


def test_the_write_side_records_attempts_and_every_call_records_who_it_served(db):
    async def calls(session):
        tools = {t.name for t in (await session.list_tools()).tools}
        started = await session.call_tool("attempt_start", {"user_request": "Fix the flaky test", "model": "gpt-4o"})
        attempt_id = started.structured_content["attempt_id"]
        finished = await session.call_tool(
            "attempt_finish",
            {"attempt_id": attempt_id, "status": "success", "usage": {"prompt_tokens": 1000, "completion_tokens": 100}},
        )
        return tools, attempt_id, finished

    tools, attempt_id, finished = session_with(db.url, "--write", "--agent", "mcp-tester", calls=calls)
    assert tools == READ_TOOLS | {"attempt_start", "attempt_finish"}
    assert not finished.is_error
    assert finished.structured_content["attempt_id"] == attempt_id
    assert Decimal(finished.structured_content["cost_usd"]) == Decimal("0.0035")  # gpt-4o: $2.50 and $10 per 1M
    with debugloop.connect(db.url) as dl:
        assert dl.attempts.get(attempt_id).agent_name == "mcp-tester"
        (session,) = dl.agents.sessions()
    assert (session.agent_name, session.via, session.events, session.last_event) == (
        "mcp-tester",
        "mcp",
        2,
        "attempt_finish",
    )
    assert session.client and session.project


def test_the_server_starts_without_a_database_and_says_why_a_call_fails(tmp_path):
    async def calls(session):
        return len((await session.list_tools()).tools), await session.call_tool("manifest", {"problem": PROBLEM})

    url = "postgresql://postgres@127.0.0.1:1/debugloop"  # nothing listens on port 1
    tools, answer = session_with(url, calls=calls)
    assert tools == len(READ_TOOLS)
    assert answer.is_error and "DEBUGLOOP_DATABASE_URL: cannot connect to postgresql://postgres@127.0.0.1:1" in (
        answer.content[0].text
    )


def test_mcp_install_writes_the_projects_mcp_json_and_keeps_other_servers(tmp_path):
    config = tmp_path / ".mcp.json"
    theirs = {"mcpServers": {"github": {"type": "http", "url": "https://example.invalid/mcp"}}}
    config.write_text(json.dumps(theirs))
    done = run_cli("mcp", "install", "--dir", str(tmp_path))
    assert done.returncode == 0, done.stderr
    written = json.loads(config.read_text())
    assert written["mcpServers"]["github"] == theirs["mcpServers"]["github"]
    entry = written["mcpServers"]["debugloop"]
    assert entry["type"] == "stdio" and entry["args"][-1] == "mcp"
    assert run_cli("mcp", "install", "--dir", str(tmp_path)).stdout.count("nothing changed") == 1
    assert json.loads(config.with_name(".mcp.json.bak").read_text()) == theirs
    line = run_cli("mcp", "install", "--print").stdout.split()
    assert line[:8] == ["claude", "mcp", "add", "--transport", "stdio", "--scope", "user", "debugloop"]
    assert line[-1] == "mcp"
