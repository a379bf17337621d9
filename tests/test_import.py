"""Importing real agent logs (examples/agent-logs): Claude Code, SWE-agent, OpenHands.

What the database holds after an import is checked against what the raw lines say,
computed here independently of the importer: API responses counted once, tokens by
kind, and the cost at the seeded catalog prices.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import uuid
from decimal import Decimal
from pathlib import Path

import psycopg
import pytest
from psycopg.types.json import Jsonb

import debugloop
from debugloop.errors import InvalidParameter, NotFound
from helpers import REPO, cli_env, run_cli

LOGS = REPO / "examples" / "agent-logs"
CLAUDE = sorted((LOGS / "claude-code").glob("*.jsonl"))
SWE = sorted((LOGS / "swe-agent").glob("*.traj"))
OPENHANDS = sorted((LOGS / "openhands").glob("*.json"))
SWE_MODEL = "gpt-4-1106-preview"  # the older trajectories name no model; their instance_cost fits its prices

# API responses per file after dedupe (Claude Code repeats a response on every
# content-block line; OpenHands on an action and its observation)
RESPONSES = {
    "ba79134d-b6e9-4867-af0c-6941038c9e4b.jsonl": 24,
    "d3ad4cdc-5657-435d-98fa-0035d53e383d.jsonl": 62,
    "fed8ce56-bc79-401f-a83e-af084253362f.jsonl": 4,
    "ff71dbed-a4f2-4284-a4fc-fe2fb90de929.jsonl": 0,
    "basic.json": 2,
    "basic_gui_mode.json": 4,
    "basic_interactions.json": 1,
    "wrong_initial_state.json": 4,
}
KINDS = ("input_tokens", "output_tokens", "cache_read_tokens", "cache_write_tokens", "cache_write_1h_tokens")


def _prices(conn, model: str) -> dict[str, Decimal]:
    row = conn.execute(
        """select input_price_per_million, output_price_per_million,
                  coalesce(cache_read_price_per_million, input_price_per_million),
                  coalesce(cache_write_price_per_million, input_price_per_million),
                  coalesce(cache_write_1h_price_per_million, cache_write_price_per_million, input_price_per_million),
                  long_context_threshold
             from debugloop.model_price_catalog where model_name = %s and is_active
            order by effective_from desc limit 1""",
        (model,),
    ).fetchone()
    assert row is not None, f"{model} is not in the seeded catalog"
    return dict(zip(KINDS + ("threshold",), row, strict=True))


def _cost(conn, model: str, tokens: dict[str, int]) -> Decimal:
    p = _prices(conn, model)
    if p["threshold"] is not None:
        prompt = (
            tokens["input_tokens"]
            + tokens["cache_read_tokens"]
            + tokens["cache_write_tokens"]
            + tokens["cache_write_1h_tokens"]
        )
        assert prompt <= p["threshold"], "a long-context request: price it with the long-context rates"
    return sum((tokens[k] * p[k] for k in KINDS), Decimal(0)) / 1_000_000


def claude_expected(path: Path) -> dict:
    """Responses, their tokens by kind and models, from the raw lines: one per
    message.id with the largest output_tokens; responses whose tool calls have no
    result in the file are apart (they are recorded as still running)."""
    responses: dict[str, dict] = {}
    owner: dict[str, str] = {}
    answered: set[str] = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        o = json.loads(line)
        m = o.get("message")
        if o.get("type") == "assistant" and m.get("model") != "<synthetic>":
            best = responses.get(m["id"])
            if best is None or m["usage"]["output_tokens"] > best["usage"]["output_tokens"]:
                responses[m["id"]] = {"usage": m["usage"], "model": m["model"]}
            owner.update({b["id"]: m["id"] for b in m["content"] if b.get("type") == "tool_use"})
        elif o.get("type") == "user" and isinstance(m.get("content"), list):
            answered.update(b["tool_use_id"] for b in m["content"] if b.get("type") == "tool_result")
    open_ids = {owner[t] for t in owner if t not in answered}
    per_request = []
    for rid, r in responses.items():
        u = r["usage"]
        split = u.get("cache_creation") or {}
        write_1h = split.get("ephemeral_1h_input_tokens", 0)
        tokens = {
            "input_tokens": u["input_tokens"],
            "output_tokens": u["output_tokens"],
            "cache_read_tokens": u.get("cache_read_input_tokens", 0),
            "cache_write_tokens": u.get("cache_creation_input_tokens", 0) - write_1h,
            "cache_write_1h_tokens": write_1h,
        }
        per_request.append((rid, r["model"], tokens))
    return {"responses": len(responses), "open": open_ids, "requests": per_request}


def _totals(conn, requests) -> tuple[dict[str, int], Decimal]:
    totals = {k: sum(t[k] for _, _, t in requests) for k in KINDS}
    cost = sum((_cost(conn, model, t) for _, model, t in requests), Decimal(0))
    return totals, cost


def _db_totals(conn, where: str, params) -> tuple[int, dict[str, int], Decimal]:
    row = conn.execute(
        f"""select count(*), {", ".join(f"coalesce(sum(a.{k}), 0)" for k in KINDS)}, coalesce(sum(a.cost_usd), 0)
              from debugloop.debug_execution_attempts a
              join debugloop.debug_import_units i on i.attempt_id = a.attempt_id where {where}""",
        params,
    ).fetchone()
    return row[0], dict(zip(KINDS, row[1:6], strict=True)), row[6]


@pytest.fixture(scope="module")
def imported(module_db):
    """The bundled logs imported once, with each run's result."""
    with debugloop.connect(module_db.url) as client:
        runs = {
            "claude-code": client.imports.run("claude-code", [LOGS / "claude-code"]),
            "swe-agent": client.imports.run("swe-agent", [LOGS / "swe-agent"], default_model=SWE_MODEL),
            "openhands": client.imports.run("openhands", [LOGS / "openhands"]),
        }
    yield module_db, runs


@pytest.fixture
def mconn(imported):
    with psycopg.connect(imported[0].url) as connection:
        yield connection


def test_nothing_skipped_in_the_bundled_logs(imported):
    _, runs = imported
    assert {source: r.skipped for source, r in runs.items()} == {"claude-code": [], "swe-agent": [], "openhands": []}
    assert runs["claude-code"].files == 4 and runs["swe-agent"].files == 3 and runs["openhands"].files == 4


@pytest.mark.parametrize("path", CLAUDE, ids=lambda p: p.name[:8])
def test_claude_code_responses_tokens_and_cost(mconn, path):
    expected = claude_expected(path)
    assert expected["responses"] == RESPONSES[path.name]
    finished = [r for r in expected["requests"] if r[0] not in expected["open"]]
    tokens, cost = _totals(mconn, finished)
    keys = [r[0] for r in expected["requests"]]
    count, db_tokens, db_cost = _db_totals(
        mconn,
        "i.source = 'claude-code' and i.unit_key = any(%s) and a.status <> 'running'",
        ([k for k in keys if k not in expected["open"]],),
    )
    assert count == len(finished)
    assert db_tokens == tokens
    assert db_cost == cost
    running = mconn.execute(
        """select count(*) from debugloop.debug_import_units i
                                 join debugloop.debug_execution_attempts a using (attempt_id)
                                where i.unit_key = any(%s) and a.status = 'running'""",
        (keys,),
    ).fetchone()[0]
    assert running == len(expected["open"])


def test_the_unanswered_tool_call_is_running_and_holds_the_cost_of_its_response(mconn):
    """Issue 15: the tokens of a response are spent when it is written, so an attempt
    still waiting for its tool result holds its usage and cost (priced_so_far)."""
    expected = claude_expected(LOGS / "claude-code" / "d3ad4cdc-5657-435d-98fa-0035d53e383d.jsonl")
    assert len(expected["open"]) == 1  # the log ends on a tool call without its result
    status, cost, tokens, cost_status, usage, model, started = mconn.execute(
        """select a.status, a.cost_usd, a.input_tokens, a.cost_status, a.usage_raw, a.model_used, a.started_at
             from debugloop.debug_import_units i
             join debugloop.debug_execution_attempts a using (attempt_id) where i.unit_key = %s""",
        (next(iter(expected["open"])),),
    ).fetchone()
    assert (status, cost_status, tokens) == ("running", "priced_so_far", usage["input_tokens"])
    priced = mconn.execute("select debugloop.price_cost(%s, %s, %s)", (model, Jsonb(usage), started)).fetchone()[0]
    assert cost == priced > 0


def test_claude_code_error_fixed_by_reading_the_file_first(mconn):
    """The Edit refused (old_string not found) is retried after a Read of the same
    file: the retry is the failed Edit's child, and its error maps to the fix."""
    rows = mconn.execute(
        """select m.successful_approach, f.approach_description, f.error_message, s.parent_attempt_id = f.attempt_id
             from debugloop.debug_error_success_mappings m
             join debugloop.debug_execution_attempts s on s.attempt_id = m.successful_attempt_id
             join debugloop.debug_execution_attempts f on f.attempt_id = any(m.failed_attempt_ids)
            where s.agent_name = 'claude-code' and m.error_pattern like 'String to replace not found%'"""
    ).fetchall()
    assert len(rows) == 1
    fix, failed_action, message, is_parent = rows[0]
    assert failed_action == "Edit diverse_musical_ai.py"
    assert message.startswith("String to replace not found in file.")
    assert fix == "Read diverse_musical_ai.py → Edit diverse_musical_ai.py"
    assert is_parent


def test_claude_code_mappings_only_from_retries(mconn):
    """Each mapping's success is a retry (has a parent) of an attempt that failed
    with that signature: a session's unrelated successes map nothing."""
    rows = mconn.execute(
        """select m.signature, s.parent_attempt_id, p.error_signature, p.status
             from debugloop.debug_error_success_mappings m
             join debugloop.debug_execution_attempts s on s.attempt_id = m.successful_attempt_id
             left join debugloop.debug_execution_attempts p on p.attempt_id = s.parent_attempt_id
            where s.agent_type in ('claude-code', 'swe-agent', 'openhands')"""
    ).fetchall()
    assert len(rows) >= 4
    for _signature, parent, _parent_signature, parent_status in rows:
        assert parent is not None and parent_status in ("error", "timeout")
    successes = mconn.execute("""select count(*) from debugloop.debug_execution_attempts
                                  where agent_type = 'claude-code' and status = 'success'""").fetchone()[0]
    assert successes > 4 * len(rows)  # most successes are not retries and map nothing


def test_user_rejections_are_cancelled_not_errors(mconn):
    rows = mconn.execute(
        """select status, error_signature from debugloop.debug_execution_attempts
            where agent_type = 'claude-code' and error_message like 'The user doesn''t want to%'"""
    ).fetchall()
    assert rows and all(status == "cancelled" and signature is None for status, signature in rows)


def test_claude_code_writes_become_stfs(mconn):
    rows = mconn.execute(
        """select t.stf_name, t.stf_language from debugloop.debug_transform_functions t
             join debugloop.debug_stf_provenance p using (stf_id)
             join debugloop.debug_execution_attempts a on a.attempt_id = p.attempt_id
            where a.agent_type = 'claude-code'"""
    ).fetchall()
    names = {name for name, _ in rows}
    assert len(names) >= 10
    assert {language for _, language in rows} >= {"python"}
    assert any("." in n for n in names)  # methods of the classes the agent wrote, split with ast


@pytest.mark.parametrize("path", SWE, ids=lambda p: p.stem[:12])
def test_swe_agent_tokens_cost_and_reported_cost(mconn, path):
    doc = json.loads(path.read_text(encoding="utf-8"))
    stats = doc["info"]["model_stats"]
    replay = doc.get("replay_config")
    model = (json.loads(replay) if isinstance(replay, str) else replay or {}).get("agent", {}).get("model", {}).get(
        "name"
    ) or SWE_MODEL
    tokens = {
        "input_tokens": stats["tokens_sent"],
        "output_tokens": stats["tokens_received"],
        "cache_read_tokens": 0,
        "cache_write_tokens": 0,
        "cache_write_1h_tokens": 0,
    }
    row = mconn.execute(
        """select s.correlation_id, s.model, s.reported_cost_usd, d.cost_usd, d.difference_usd
             from debugloop.debug_import_sessions s
             join debugloop.import_cost_differences('swe-agent') d using (session_key)
            where s.path like %s""",
        ("%" + path.name,),
    ).fetchone()
    correlation, db_model, reported, ours, difference = row
    assert db_model == model
    assert reported == Decimal(str(stats["instance_cost"]))
    count, db_tokens, db_cost = _db_totals(mconn, "a.correlation_id = %s", (correlation,))
    assert count == len(doc["trajectory"]) + 1  # every step, and the run
    assert db_tokens == tokens and db_cost == _cost(mconn, model, tokens) == ours
    assert difference == ours - reported


def test_swe_agent_reported_cost_differs_only_where_the_prices_do(mconn):
    differences = {
        r[0].split(":")[0]: r[1]
        for r in mconn.execute("select session_key, difference_usd from debugloop.import_cost_differences('swe-agent')")
    }
    assert differences["pydicom__pydicom-1458"] == 0
    assert differences["swe-agent__test-repo-i1"] == 0
    # gpt-4o at $2.50/M input, $10/M output in our catalog; SWE-agent summed its cost in floats
    assert differences["6e44b9__sweagenttestrepo-1c2844"] == Decimal("0.0202825") - Decimal("0.019520000000000006")


def test_swe_agent_rejected_edits_chain_to_the_edit_that_passed(mconn):
    rows = mconn.execute(
        """select a.approach_description, a.status, p.approach_description
             from debugloop.debug_import_units i
             join debugloop.debug_execution_attempts a using (attempt_id)
             left join debugloop.debug_execution_attempts p on p.attempt_id = a.parent_attempt_id
            where i.unit_key like 'pydicom__pydicom-1458:%' order by a.started_at, i.unit_key"""
    ).fetchall()
    edits = [(action, status, parent) for action, status, parent in rows if action.startswith("edit 287")]
    assert [s for _, s, _ in edits] == ["error", "error", "error", "success"]
    assert [p is not None for _, _, p in edits] == [False, True, True, True]
    fix = mconn.execute(
        """select m.successful_approach from debugloop.debug_error_success_mappings m
            where m.error_pattern like 'Your proposed edit has introduced new syntax error%'"""
    ).fetchone()
    assert fix == ("edit 287:296",)


@pytest.mark.parametrize("path", OPENHANDS, ids=lambda p: p.stem)
def test_openhands_responses_tokens_and_cost(mconn, path):
    responses = {}
    for event in json.loads(path.read_text(encoding="utf-8")):
        response = (event.get("tool_call_metadata") or {}).get("model_response")
        if response and "action" in event:
            responses[response["id"]] = response
    assert len(responses) == RESPONSES[path.name]
    requests = []
    for r in responses.values():
        u = r["usage"]
        cached = (u.get("prompt_tokens_details") or {}).get("cached_tokens") or 0
        written = u.get("cache_creation_input_tokens") or 0
        requests.append(
            (
                r["id"],
                r["model"],
                {
                    "input_tokens": u["prompt_tokens"] - cached - written,
                    "output_tokens": u["completion_tokens"],
                    "cache_read_tokens": cached,
                    "cache_write_tokens": written,
                    "cache_write_1h_tokens": 0,
                },
            )
        )
    tokens, cost = _totals(mconn, requests)
    count, db_tokens, db_cost = _db_totals(
        mconn, "i.source = 'openhands' and i.unit_key = any(%s)", ([r[0] for r in requests],)
    )
    assert (count, db_tokens, db_cost) == (len(requests), tokens, cost)


def test_openhands_command_without_exit_is_a_timeout(mconn):
    row = mconn.execute("""select status, error_type from debugloop.debug_execution_attempts
                            where agent_type = 'openhands' and approach_description like 'run cd /workspace/todo-app%'""").fetchone()
    assert row == ("timeout", "command timeout")


def _counts(conn) -> tuple:
    return conn.execute(
        """select (select count(*) from debugloop.debug_execution_attempts),
                  (select count(*) from debugloop.debug_import_units),
                  (select count(*) from debugloop.debug_import_sessions),
                  (select count(*) from debugloop.debug_error_success_mappings),
                  (select coalesce(sum(success_count), 0) from debugloop.debug_error_success_mappings),
                  (select count(*) from debugloop.debug_stf_provenance),
                  (select coalesce(sum(occurrences), 0) from debugloop.debug_error_signatures)"""
    ).fetchone()


def test_importing_again_adds_nothing(imported, mconn):
    before = _counts(mconn)
    with debugloop.connect(imported[0].url) as client:
        again = [
            client.imports.run("claude-code", [LOGS / "claude-code"]),
            client.imports.run("swe-agent", [LOGS / "swe-agent"], default_model=SWE_MODEL),
            client.imports.run("openhands", [LOGS / "openhands"]),
        ]
        # read every file again from its start: the log's ids still dedupe
        mconn.execute("delete from debugloop.debug_import_files")
        mconn.commit()
        reread = [
            client.imports.run("claude-code", [LOGS / "claude-code"]),
            client.imports.run("swe-agent", [LOGS / "swe-agent"], default_model=SWE_MODEL),
            client.imports.run("openhands", [LOGS / "openhands"]),
        ]
    assert [r.inserted + r.finished for r in again + reread] == [0] * 6
    assert sum(r.duplicates for r in reread) == sum(RESPONSES.values()) + sum(
        len(json.loads(p.read_text())["trajectory"]) + 1 for p in SWE
    )  # every unit met again, none recorded again
    assert _counts(mconn) == before


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines(keepends=True)


def test_a_truncated_last_line_is_reported_and_read_when_complete(dl, conn, tmp_path):
    source = LOGS / "claude-code" / "fed8ce56-bc79-401f-a83e-af084253362f.jsonl"
    lines = _lines(source)
    log = tmp_path / source.name
    log.write_text("".join(lines[:-1]) + lines[-1][: len(lines[-1]) // 2], encoding="utf-8")
    first = dl.imports.run("claude-code", [log])
    assert [(s.path, s.line) for s in first.skipped] == [(str(log), len(lines))]
    assert "truncated" in first.skipped[0].reason
    assert first.inserted == claude_expected_from(lines[:-1], tmp_path)["responses"]

    log.write_text("".join(lines), encoding="utf-8")  # the writer finishes the line
    second = dl.imports.run("claude-code", [log])
    assert second.skipped == []
    expected = claude_expected(source)
    assert expected["open"] == set()
    count, tokens, cost = _db_totals(conn, "i.source = 'claude-code'", ())
    assert count == expected["responses"]
    assert (tokens, cost) == _totals(conn, expected["requests"])


def claude_expected_from(lines: list[str], tmp_path: Path) -> dict:
    part = tmp_path / "part.jsonl.expected"
    part.write_text("".join(lines), encoding="utf-8")
    return claude_expected(part)


def _split_before_user(lines: list[str], at: int) -> int:
    """The first index from ``at`` where a user line starts: a writer pauses between
    responses, not inside one (a response's content blocks are written together)."""
    return next(i for i in range(at, len(lines)) if json.loads(lines[i])["type"] == "user")


def test_a_grown_file_adds_only_its_new_part(dl, conn, tmp_path):
    source = LOGS / "claude-code" / "d3ad4cdc-5657-435d-98fa-0035d53e383d.jsonl"
    lines = _lines(source)
    cut = _split_before_user(lines, 70)
    log = tmp_path / source.name
    log.write_text("".join(lines[:cut]), encoding="utf-8")
    first = dl.imports.run("claude-code", [log])
    with log.open("a", encoding="utf-8") as fh:
        fh.write("".join(lines[cut:]))
    second = dl.imports.run("claude-code", [log])
    assert second.lines == len(lines) - cut  # read from where the first import stopped
    expected = claude_expected(source)
    count, tokens, cost = _db_totals(conn, "a.status <> 'running'", ())
    finished = [r for r in expected["requests"] if r[0] not in expected["open"]]
    assert count == len(finished)
    assert (tokens, cost) == _totals(conn, finished)
    assert first.inserted + second.inserted == expected["responses"]


def _write_jsonl(path: Path, objects: list[dict]) -> None:
    path.write_text("".join(json.dumps(o) + "\n" for o in objects), encoding="utf-8")


def _assistant(session, mid, ts, content, usage, model="claude-sonnet-4-5-20250929"):
    return {
        "type": "assistant",
        "sessionId": session,
        "cwd": "/srv/app",
        "timestamp": ts,
        "requestId": "req_" + mid,
        "uuid": str(uuid.uuid4()),
        "message": {"id": mid, "role": "assistant", "model": model, "content": content, "usage": usage},
    }


def _user(session, ts, content):
    """A user line: a prompt (a string) or tool results (a list of blocks)."""
    return {
        "type": "user",
        "sessionId": session,
        "cwd": "/srv/app",
        "timestamp": ts,
        "uuid": str(uuid.uuid4()),
        "message": {"role": "user", "content": content},
    }


def _result(session, ts, tool_id, text, is_error=False):
    return _user(session, ts, [{"type": "tool_result", "tool_use_id": tool_id, "content": text, "is_error": is_error}])


def _edit(tool_id, path="/srv/app/invoice.py"):
    return {
        "type": "tool_use",
        "id": tool_id,
        "name": "Edit",
        "input": {
            "file_path": path,
            "old_string": "return round(total, 2)",
            "new_string": "from decimal import Decimal, ROUND_HALF_UP\n\ndef invoice_total(lines):\n    total = sum(Decimal(str(q)) * Decimal(str(p)) for q, p in lines)\n    return total.quantize(Decimal('0.01'), rounding=ROUND_HALF_UP)\n",
        },
    }


def test_edit_refused_until_the_file_is_read_and_1h_cache_writes(dl, conn, tmp_path):
    """A session written the way current Claude Code writes them: usage repeated on
    each content block with output_tokens growing, a 5-minute/1-hour cache split,
    and an Edit refused because the file was not read, fixed by reading it first."""
    s = str(uuid.uuid4())
    usage = {
        "input_tokens": 12,
        "cache_read_input_tokens": 20000,
        "cache_creation_input_tokens": 3000,
        "cache_creation": {"ephemeral_5m_input_tokens": 1000, "ephemeral_1h_input_tokens": 2000},
        "output_tokens": 3,
    }
    grown = {**usage, "output_tokens": 250}
    _write_jsonl(
        tmp_path / f"{s}.jsonl",
        [
            {
                "type": "user",
                "sessionId": s,
                "cwd": "/srv/app",
                "timestamp": "2026-11-01T10:00:00Z",
                "uuid": str(uuid.uuid4()),
                "message": {"role": "user", "content": "The invoice total is one cent off: fix the rounding"},
            },
            _assistant(s, "msg_a", "2026-11-01T10:00:01Z", [{"type": "text", "text": "I'll fix the rounding."}], usage),
            _assistant(s, "msg_a", "2026-11-01T10:00:02Z", [_edit("toolu_1")], grown),
            _result(
                s,
                "2026-11-01T10:00:03Z",
                "toolu_1",
                "<tool_use_error>File has not been read yet. Read it first before writing to it.</tool_use_error>",
                True,
            ),
            _assistant(
                s,
                "msg_b",
                "2026-11-01T10:00:04Z",
                [{"type": "tool_use", "id": "toolu_2", "name": "Read", "input": {"file_path": "/srv/app/invoice.py"}}],
                usage,
            ),
            _result(
                s,
                "2026-11-01T10:00:05Z",
                "toolu_2",
                "     1\tdef invoice_total(lines):\n     2\t    return round(total, 2)",
            ),
            _assistant(s, "msg_c", "2026-11-01T10:00:06Z", [_edit("toolu_3")], {**usage, "output_tokens": 180}),
            _result(s, "2026-11-01T10:00:07Z", "toolu_3", "The file /srv/app/invoice.py has been updated."),
        ],
    )
    result = dl.imports.run("claude-code", [tmp_path])
    assert (result.inserted, result.skipped) == (3, [])
    report = dl.imports.report(result.run_id)
    assert len(report) == 1
    r = report[0]
    assert (r.attempts, r.errors, r.mappings, r.stfs) == (3, 1, 1, 1)
    assert (r.input_tokens, r.output_tokens, r.cache_read_tokens, r.cache_write_tokens, r.cache_write_1h_tokens) == (
        36,
        250 + 3 + 180,
        60000,
        3000,
        6000,
    )
    tokens = {
        "input_tokens": 36,
        "output_tokens": 433,
        "cache_read_tokens": 60000,
        "cache_write_tokens": 3000,
        "cache_write_1h_tokens": 6000,
    }
    assert r.cost_usd == _cost(conn, "claude-sonnet-4-5-20250929", tokens)
    fix, pattern = conn.execute(
        "select successful_approach, error_pattern from debugloop.debug_error_success_mappings"
    ).fetchone()
    assert fix == "Read invoice.py → Edit invoice.py"
    assert pattern.startswith("File has not been read yet")
    fixes = dl.errors.fixes("File has not been read yet. Read it first before writing to it.")
    assert fixes and fixes[0].successful_approach == fix


def test_the_cli_reports_skipped_lines_with_file_and_line_and_exits_4(db, tmp_path):
    source = LOGS / "claude-code" / "fed8ce56-bc79-401f-a83e-af084253362f.jsonl"
    lines = _lines(source)
    log = tmp_path / "session.jsonl"
    log.write_text("".join(lines[:5]) + "{not json\n" + "".join(lines[5:]), encoding="utf-8")
    done = run_cli("import", "claude-code", str(tmp_path), env={"DEBUGLOOP_DATABASE_URL": db.url})
    assert done.returncode == 4, done.stderr
    assert f"{log}:6: malformed line" in done.stderr
    assert "Traceback" not in done.stderr
    assert "attempts 4, errors 0" in done.stdout and "claude-sonnet-4-20250514" in done.stdout
    clean = run_cli(
        "import", "claude-code", str(LOGS / "claude-code" / source.name), env={"DEBUGLOOP_DATABASE_URL": db.url}
    )
    assert clean.returncode == 0, clean.stderr
    assert "0 attempt(s) added" in clean.stdout  # the same responses, already imported from the other file


def test_the_cli_names_a_missing_path(db, tmp_path):
    done = run_cli("import", "openhands", str(tmp_path / "nowhere"), env={"DEBUGLOOP_DATABASE_URL": db.url})
    assert done.returncode == 1
    assert "nowhere: no such file or folder" in done.stderr and "Traceback" not in done.stderr


def test_follow_imports_lines_as_they_are_written(db, tmp_path):
    source = LOGS / "claude-code" / "ba79134d-b6e9-4867-af0c-6941038c9e4b.jsonl"
    lines = _lines(source)
    log = tmp_path / "project" / source.name
    log.parent.mkdir()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "debugloop.cli",
            "import",
            "claude-code",
            str(tmp_path),
            "--follow",
            "--interval",
            "0.2",
            "--settle",
            "0.5",
        ],
        env=cli_env({"DEBUGLOOP_DATABASE_URL": db.url}),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:

        def attempts() -> int:
            with psycopg.connect(db.url) as conn:
                return conn.execute("select count(*) from debugloop.debug_import_units").fetchone()[0]

        def wait_for(n: int) -> int:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and attempts() < n:
                time.sleep(0.2)
            return attempts()

        cut = _split_before_user(lines, 30)
        log.write_text("".join(lines[:cut]), encoding="utf-8")
        part = claude_expected_from(lines[:cut], tmp_path)["responses"]
        assert wait_for(part) == part
        with log.open("a", encoding="utf-8") as fh:
            fh.write("".join(lines[cut:]))
        assert wait_for(RESPONSES[source.name]) == RESPONSES[source.name]
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "stopped following" in out


def test_import_units_rejects_bad_input_and_keeps_nothing(dl, conn):
    session = {"key": "s1", "correlation_id": str(uuid.uuid4())}
    good = {
        "key": "u1",
        "session": "s1",
        "request": "fix it",
        "status": "success",
        "started_at": "2026-11-01T10:00:00Z",
    }
    bad = {**good, "key": "u2", "status": "done"}
    with pytest.raises(InvalidParameter, match=r"units\[2\] \(u2\): status must be"):
        dl.imports._send("claude-code", debugloop.importers.ImportResult(uuid.uuid4()), [session], [good, bad], None)
    with pytest.raises(NotFound, match="session 'nope' is not known"):
        dl.imports._send(
            "claude-code", debugloop.importers.ImportResult(uuid.uuid4()), [], [{**good, "session": "nope"}], None
        )
    with pytest.raises(InvalidParameter, match="source must be"):
        dl.imports.run("aider", [])
    assert (
        conn.execute(
            "select (select count(*) from debugloop.debug_execution_attempts) + "
            "(select count(*) from debugloop.debug_import_sessions)"
        ).fetchone()[0]
        == 0
    )


def test_examples_keep_their_licenses():
    readme = (LOGS / "README.md").read_text(encoding="utf-8")
    for folder, repository in (
        ("claude-code", "chiphuyen/sniffly"),
        ("swe-agent", "SWE-agent/SWE-agent"),
        ("openhands", "All-Hands-AI/OpenHands"),
    ):
        assert "MIT License" in (LOGS / folder / "LICENSE").read_text(encoding="utf-8")
        assert f"| {folder}/ |" in readme and repository in readme


# -- bad values: a bad line is reported and skipped, never a failed run -----------------


def _conversation(session: str, n: int) -> list[dict]:
    """A Claude Code session of n prompts, each answered by one response: the
    prompt of response k is line 2k+1, the response line 2k+2."""
    lines = []
    for k in range(n):
        lines.append(_user(session, f"2026-11-01T10:{k:02d}:00Z", f"Step {k}: explain the rounding of invoice {k}"))
        lines.append(
            _assistant(
                session,
                f"msg_{session[:8]}_{k}",
                f"2026-11-01T10:{k:02d}:30Z",
                [{"type": "text", "text": f"Answer {k}"}],
                {"input_tokens": 10 + k, "output_tokens": 5},
            )
        )
    return lines


def _set(path: str, value):
    """A change to one line: the value at a dotted path (``message.usage.output_tokens``)
    set, or removed when ``value`` is ``...``."""

    def change(line: dict) -> None:
        *parents, last = path.split(".")
        for key in parents:
            line = line[key]
        if value is ...:
            del line[last]
        else:
            line[last] = value

    return change


# (line of the third response's prompt or answer, the field reported, the change)
CLAUDE_BAD_VALUES = {
    "negative count": (6, "message.usage.output_tokens", _set("message.usage.output_tokens", -3)),
    "fractional count": (6, "message.usage.output_tokens", _set("message.usage.output_tokens", 2.5)),
    "count of 1e30": (6, "message.usage.input_tokens", _set("message.usage.input_tokens", 1e30)),
    "string count": (6, "message.usage.output_tokens", _set("message.usage.output_tokens", "12")),
    "timestamp not a date": (6, "timestamp", _set("timestamp", "yesterday after lunch")),
    "NUL in a prompt": (5, "message.content", _set("message.content", "fix the\u0000rounding")),
    "NUL in a response": (6, "message.content[0].text", _set("message.content", [{"type": "text", "text": "a\u0000"}])),
    "number as message id": (6, "message.id", _set("message.id", 42)),
    "number as session id": (5, "sessionId", _set("sessionId", 7)),
    "message a string": (6, "message", _set("message", "hello")),
    "usage a list": (6, "message.usage", _set("message.usage", [])),
    "content a number": (6, "message.content", _set("message.content", 5)),
    # refused by SQL, which names the unit: that unit alone is left out
    "usage in no known format": (6, "message.usage", _set("message.usage", {"tokens": 5})),
    "no timestamp": (6, "timestamp", _set("timestamp", ...)),
}


@pytest.mark.parametrize("case", CLAUDE_BAD_VALUES, ids=str)
def test_a_claude_code_line_with_a_bad_value_is_skipped_and_the_rest_imported(dl, conn, tmp_path, case):
    line, field, change = CLAUDE_BAD_VALUES[case]
    bad_session, good_session = str(uuid.uuid4()), str(uuid.uuid4())
    lines = _conversation(bad_session, 5)
    change(lines[line - 1])
    _write_jsonl(tmp_path / "a.jsonl", lines)
    _write_jsonl(tmp_path / "b.jsonl", _conversation(good_session, 3))  # the file after it

    first = dl.imports.run("claude-code", [tmp_path])
    assert [str(s) for s in first.skipped] == [f"{tmp_path / 'a.jsonl'}:{line}: {field}: {first.skipped[0].reason}"]
    assert first.skipped[0].field == field and first.skipped[0].reason
    keys = {r[0] for r in conn.execute("select unit_key from debugloop.debug_import_units")}
    answered = {f"msg_{bad_session[:8]}_{k}" for k in (0, 1, 3, 4)} | {f"msg_{good_session[:8]}_{k}" for k in range(3)}
    assert answered <= keys  # every other response of the file, and the file after it
    assert keys - answered <= {f"msg_{bad_session[:8]}_2"}  # a bad prompt line leaves its response in

    again = dl.imports.run("claude-code", [tmp_path])
    assert (again.skipped, again.inserted, again.lines) == ([], 0, 0)  # read past it: reported once


def test_the_cli_skips_bad_values_exits_4_and_imports_the_next_file(db, tmp_path):
    s = str(uuid.uuid4())
    lines = _conversation(s, 4)
    lines[1]["message"]["usage"]["output_tokens"] = -1
    lines[2]["message"]["content"] = "a prompt with a NUL \u0000 in it"
    lines[5]["timestamp"] = "not a date"
    _write_jsonl(tmp_path / "a.jsonl", lines)
    _write_jsonl(tmp_path / "b.jsonl", _conversation(str(uuid.uuid4()), 2))
    env = {"DEBUGLOOP_DATABASE_URL": db.url}
    done = run_cli("import", "claude-code", str(tmp_path), env=env)
    assert done.returncode == 4, done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    log = tmp_path / "a.jsonl"
    for where in (f"{log}:2: message.usage.output_tokens: ", f"{log}:3: message.content: ", f"{log}:6: timestamp: "):
        assert where in done.stderr
    assert "2 attempt(s) added" not in done.stdout and "attempts 4," in done.stdout  # 2 of a.jsonl, 2 of b.jsonl
    again = run_cli("import", "claude-code", str(tmp_path), env=env)
    assert again.returncode == 0 and "skipped" not in again.stderr, again.stderr


def test_a_batch_refused_as_a_whole_is_halved_down_to_the_bad_unit(dl, conn):
    """An error that names no unit (here PostgreSQL refusing the batch's JSON, which
    holds a NUL) splits the batch until the unit at fault is alone: one bad unit
    costs one unit."""
    session = {"key": "s1", "correlation_id": str(uuid.uuid4())}
    units = [
        {
            "key": f"u{k}",
            "session": "s1",
            "request": f"fix {k}",
            "status": "success",
            "started_at": "2026-11-01T10:00:00Z",
        }
        for k in range(7)
    ]
    units[4]["request"] = "fix \x00 it"
    refused = []
    result = debugloop.importers.ImportResult(uuid.uuid4())
    dl.imports._send_batch("claude-code", result, [session], units, None, lambda u, r: refused.append(u["key"]))
    assert refused == ["u4"]
    assert result.inserted == 6
    assert {r[0] for r in conn.execute("select unit_key from debugloop.debug_import_units")} == {
        f"u{k}" for k in range(7) if k != 4
    }


def _element_lines(text: str, indent: int) -> list[int]:
    """The line numbers where the elements of a JSON list dumped with indent=2 begin,
    the list's elements being at ``indent`` spaces."""
    starts = []
    for n, line in enumerate(text.splitlines(), 1):
        if line.startswith(" " * indent) and not line.startswith(" " * (indent + 1)):
            if not line.strip().startswith(("}", "]")):
                starts.append(n)
    return starts


def test_swe_agent_steps_with_bad_values_are_skipped_and_the_rest_imported(dl, conn, tmp_path):
    doc = json.loads((LOGS / "swe-agent" / "swe-agent__test-repo-i1.traj").read_text(encoding="utf-8"))
    steps = len(doc["trajectory"])
    doc["trajectory"][2] = 17
    doc["trajectory"][4]["observation"] += "\u0000"
    doc["info"]["model_stats"]["tokens_sent"] = -5
    doc["info"]["model_stats"]["instance_cost"] = "a lot"
    text = json.dumps(doc, indent=2)
    bad = tmp_path / "a.traj"
    bad.write_text(text, encoding="utf-8")
    good = LOGS / "swe-agent" / "pydicom__pydicom-1458.traj"
    (tmp_path / "b.traj").write_bytes(good.read_bytes())
    good_doc = json.loads(good.read_text(encoding="utf-8"))

    first = dl.imports.run("swe-agent", [tmp_path], default_model=SWE_MODEL)
    top = [n for n, line in enumerate(text.splitlines(), 1) if line.startswith('  "')]
    info = next(n for n in top if text.splitlines()[n - 1].startswith('  "info"'))
    trajectory = [n for n in _element_lines(text, 4) if n > top[1]][:steps]
    assert sorted(str(s) for s in first.skipped) == sorted(
        [
            f"{bad}:{trajectory[2]}: trajectory[2]: must be an object, got a number 17",
            f"{bad}:{trajectory[4]}: trajectory[4].observation: holds a NUL character (\\u0000), which PostgreSQL cannot store",
            f"{bad}:{info}: info.model_stats.tokens_sent: must be a whole number of tokens, at least 0 and below 2^63, got -5",
            f'{bad}:{info}: info.model_stats.instance_cost: must be a number >= 0, got "a lot"',
        ]
    )
    rows = conn.execute(
        """select s.path, count(i.unit_key), s.reported_cost_usd from debugloop.debug_import_sessions s
             join debugloop.debug_import_units i using (correlation_id) group by s.path, s.reported_cost_usd"""
    ).fetchall()
    assert sorted(rows) == sorted(
        [
            (str(bad), steps - 2, None),  # every step but the two bad ones; the run's attempt is left out
            (
                str(tmp_path / "b.traj"),
                len(good_doc["trajectory"]) + 1,
                Decimal(str(good_doc["info"]["model_stats"]["instance_cost"])),
            ),
        ]
    )
    again = dl.imports.run("swe-agent", [tmp_path], default_model=SWE_MODEL)
    assert (again.skipped, again.inserted) == ([], 0)


def test_openhands_events_with_bad_values_are_skipped_and_the_rest_imported(dl, conn, tmp_path):
    events = json.loads((LOGS / "openhands" / "basic_gui_mode.json").read_text(encoding="utf-8"))
    response = lambda e: e["tool_call_metadata"]["model_response"]  # noqa: E731
    kept = response(events[11])["id"]
    events[7]["timestamp"] = "not a date"
    response(events[9])["id"] = 5
    events[12]["content"] = "binary \u0000 output"
    response(events[13])["usage"] = {"tokens": 1}  # no known format: refused by SQL
    events[16] = "oops"
    text = json.dumps(events, indent=2)
    bad = tmp_path / "a.json"
    bad.write_text(text, encoding="utf-8")
    (tmp_path / "b.json").write_bytes((LOGS / "openhands" / "basic.json").read_bytes())

    first = dl.imports.run("openhands", [tmp_path])
    at = _element_lines(text, 2)
    assert [(s.line, s.field) for s in first.skipped] == [
        (at[7], "[7].timestamp"),
        (at[9], "[9].tool_call_metadata.model_response.id"),
        (at[12], "[12].content"),
        (at[16], "[16]"),
        (at[13], "tool_call_metadata.model_response.usage"),
    ]
    assert all(s.path == str(bad) for s in first.skipped)
    keys = {r[0] for r in conn.execute("select unit_key from debugloop.debug_import_units")}
    assert keys == {kept} | {
        response(e)["id"]
        for e in json.loads((tmp_path / "b.json").read_text())
        if "action" in e and e.get("tool_call_metadata")
    }
    again = dl.imports.run("openhands", [tmp_path])
    assert (again.skipped, again.inserted) == ([], 0)


# -- what an import creates belongs to the role that imported it ------------------------


@pytest.fixture
def roles(db, conn):
    """Two agent roles and an admin role, and a client connected as each (SET ROLE
    through the connection's options: the session user stays the superuser)."""
    tag = uuid.uuid4().hex[:8]
    names = {"a": f"agent_a_{tag}", "b": f"agent_b_{tag}", "admin": f"admin_{tag}"}
    for who, name in names.items():
        conn.execute(f"create role {name} nologin in role {'debugloop_admin' if who == 'admin' else 'debugloop_agent'}")
    conn.commit()
    clients = {}
    try:
        for who, name in names.items():
            clients[who] = debugloop.connect(f"{db.url}?options=-c%20role%3D{name}")
        yield names, clients
    finally:
        for client in clients.values():
            client.close()
        for name in names.values():
            conn.execute(f"drop owned by {name}")
            conn.execute(f"drop role {name}")
        conn.commit()


def _as(conn, role: str, sql: str, params=()):
    """Run ``sql`` as ``role`` in a transaction of its own, committed; its error, if
    any, as a debugloop exception."""
    conn.commit()
    with debugloop.errors.wrap_exceptions(), conn.transaction():
        conn.execute(f"set local role {role}")
        return conn.execute(sql, params).fetchall()


def test_another_role_cannot_change_what_an_import_created(roles, conn, tmp_path):
    names, clients = roles
    s = str(uuid.uuid4())
    lines = _conversation(s, 2)
    # the last response calls a tool whose result is not written yet: imported as running
    lines.append(
        _assistant(
            s, "msg_open", "2026-11-01T11:00:00Z", [_edit("toolu_open")], {"input_tokens": 9, "output_tokens": 9}
        )
    )
    log = tmp_path / f"{s}.jsonl"
    _write_jsonl(log, lines)
    traj = LOGS / "swe-agent" / "pydicom__pydicom-1458.traj"
    clients["a"].imports.run("claude-code", [log])
    clients["a"].imports.run("swe-agent", [traj], default_model=SWE_MODEL)

    def sessions():
        return conn.execute(
            "select source, session_key, title, reported_cost_usd, created_by from debugloop.debug_import_sessions order by 1, 2"
        ).fetchall()

    def positions():
        return conn.execute(
            "select source, path, byte_offset, line_number, created_by from debugloop.debug_import_files order by 1, 2, 5"
        ).fetchall()

    before, position = sessions(), positions()
    assert {r[4] for r in before} == {r[4] for r in position} == {names["a"]}
    swe_key, swe_correlation = conn.execute(
        "select session_key, correlation_id from debugloop.debug_import_sessions where source = 'swe-agent'"
    ).fetchone()
    call = "select * from debugloop.import_units(%s, %s, %s, %s, %s)"
    forged = {"key": swe_key, "correlation_id": str(swe_correlation)}
    finish = {
        "key": "msg_open",
        "session": s,
        "request": "x",
        "status": "success",
        "started_at": "2026-11-01T11:00:00Z",
        "usage": {"input_tokens": 1, "output_tokens": 10**9},
    }
    new = {**finish, "key": "msg_new"}
    for sessions_arg, units_arg, field in (
        ([{**forged, "title": "pwned"}], [], "sessions.title"),
        ([{**forged, "reported_cost_usd": "0"}], [], "sessions.reported_cost_usd"),
        ([], [finish], "units.status"),
        ([], [new], "units.session"),
    ):
        with pytest.raises(debugloop.errors.NotOwned) as info:
            _as(
                conn,
                names["b"],
                call,
                (
                    "claude-code" if units_arg else "swe-agent",
                    uuid.uuid4(),
                    Jsonb(sessions_arg),
                    Jsonb(units_arg),
                    None,
                ),
            )
        assert info.value.field == field
        assert names["a"] in info.value.message
    # nor may a new session of B's join a task recorded otherwise, or another session's correlation
    chain = uuid.uuid4()
    conn.execute("select debugloop.attempt_start('someone', 'a task', null, %s)", (chain,))
    conn.commit()
    for (
        correlation,
        error,
    ) in ((chain, debugloop.errors.NotOwned), (swe_correlation, debugloop.errors.InvalidParameter)):
        with pytest.raises(error) as info:
            _as(
                conn,
                names["b"],
                call,
                (
                    "openhands",
                    uuid.uuid4(),
                    Jsonb([{"key": "mine", "correlation_id": str(correlation)}]),
                    Jsonb([]),
                    None,
                ),
            )
        assert info.value.field == "sessions.correlation_id"
    # a read position is each role's own: B's import moves B's, never A's
    _as(
        conn,
        names["b"],
        call,
        (
            "claude-code",
            uuid.uuid4(),
            Jsonb([]),
            Jsonb([]),
            Jsonb({"path": str(log), "byte_offset": 0, "line_number": 0, "head_md5": "x", "state": None}),
        ),
    )
    assert sessions() == before
    assert [p for p in positions() if p[4] == names["a"]] == position
    assert [p[2:] for p in positions() if p[4] == names["b"]] == [(0, 0, names["b"])]
    assert conn.execute(
        "select status from debugloop.debug_execution_attempts a join debugloop.debug_import_units i using (attempt_id) where i.unit_key = 'msg_open'"
    ).fetchone() == ("running",)

    # B importing the same logs honestly: what A recorded is met again and left as it is
    again = [
        clients["b"].imports.run("claude-code", [log]),
        clients["b"].imports.run("swe-agent", [traj], default_model=SWE_MODEL),
    ]
    assert [(r.inserted, r.finished, r.skipped) for r in again] == [(0, 0, []), (0, 0, [])]
    assert sum(r.duplicates for r in again) == 3 + len(json.loads(traj.read_text())["trajectory"]) + 1
    assert sessions() == before
    assert [p for p in positions() if p[4] == names["a"]] == position  # B read the files with positions of its own
    assert len(positions()) == 2 * len(position)

    # A itself, and an admin, may change them
    clients["a"].imports._send(
        "swe-agent", debugloop.importers.ImportResult(uuid.uuid4()), [{**forged, "title": "A's new title"}], [], None
    )
    clients["admin"].imports._send(
        "swe-agent", debugloop.importers.ImportResult(uuid.uuid4()), [{**forged, "reported_cost_usd": "1.5"}], [], None
    )
    assert conn.execute(
        "select title, reported_cost_usd, created_by from debugloop.debug_import_sessions where source = 'swe-agent'"
    ).fetchone() == ("A's new title", Decimal("1.5"), names["a"])
