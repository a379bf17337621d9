"""Code pointers of STFs (issue 16, item 5): each producer of an STF keeps where its
code came from (repository or working directory, branch, commit, file, lines) when
the source says it. Pinned on the bundled agent logs, one format at a time, with the
line numbers computed here from the raw files; then what attempt_finish's artefacts
and stf_register pass, the refusals of bad values, the learning queue, and what
`stf show` and the manifest print."""

from __future__ import annotations

import ast
import json
import textwrap
import uuid
from pathlib import Path

import psycopg
import pytest

import debugloop
from debugloop.errors import InvalidCodeLocation, InvalidCommitSha, InvalidLineRange, wrap_exceptions
from debugloop.importers import ClaudeCodeParser, code_place, edit_lines
from debugloop.units import split_artifacts
from helpers import ORDER_TOTAL, REPO, run_cli

LOGS = REPO / "examples" / "agent-logs"
CLAUDE = sorted((LOGS / "claude-code").glob("*.jsonl"))
AI_MUSIC = "/Users/chip/dev/ai-music"  # the cwd of the bundled Claude Code sessions
SHA = "3ea751c0a1b2c3d4e5f60718293a4b5c6d7e8f90"


@pytest.fixture(scope="module")
def imported(module_db):
    """The bundled logs imported once (learning deferred to the queue, as by default)."""
    with debugloop.connect(module_db.url) as client:
        client.imports.run("claude-code", [LOGS / "claude-code"])
        client.imports.run("swe-agent", [LOGS / "swe-agent"], default_model="gpt-4-1106-preview")
        client.imports.run("openhands", [LOGS / "openhands"])
    with psycopg.connect(module_db.url) as conn:
        assert conn.execute("select debugloop.learn_queued()").fetchone()[0] == 0
        yield conn


def pointers(conn, source: str) -> list[dict]:
    """The provenance rows of the attempts a source imported, with their STF's name."""
    cur = conn.execute(
        """select f.stf_name, p.repository, p.branch, p.commit_sha, p.file_path, p.line_start, p.line_end,
                  a.artifacts
             from debugloop.debug_stf_provenance p
             join debugloop.debug_transform_functions f using (stf_id)
             join debugloop.debug_import_units i on i.attempt_id = p.attempt_id
             join debugloop.debug_execution_attempts a on a.attempt_id = p.attempt_id
            where i.source = %s
            order by p.provenance_id""",
        (source,),
    )
    names = [c.name for c in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def raw_edits(path: Path) -> list[tuple[str, str, str, str]]:
    """Every Edit of a Claude Code log whose result holds the file before it: (file,
    originalFile, old_string, new_string), read from the raw lines."""
    calls, edits = {}, []
    for line in path.read_text(encoding="utf-8").splitlines():
        obj = json.loads(line)
        content = (obj.get("message") or {}).get("content")
        for block in content if isinstance(content, list) else []:
            if block.get("type") == "tool_use" and block.get("name") == "Edit":
                calls[block["id"]] = block["input"]
            if block.get("type") == "tool_result" and block.get("tool_use_id") in calls:
                result = obj.get("toolUseResult")
                if (
                    isinstance(result, dict)
                    and isinstance(result.get("originalFile"), str)
                    and not block.get("is_error")
                ):
                    inp = calls[block["tool_use_id"]]
                    edits.append((inp["file_path"], result["originalFile"], inp["old_string"], inp["new_string"]))
    return edits


# -- Claude Code ------------------------------------------------------------------------


def test_claude_code_pointers_name_the_working_directory_and_the_relative_file(imported):
    rows = pointers(imported, "claude-code")
    assert len(rows) >= 20
    assert {r["repository"] for r in rows} == {AI_MUSIC}
    assert {r["branch"] for r in rows} == {None}  # these sessions ran outside git: no gitBranch
    assert {r["commit_sha"] for r in rows} == {None}  # Claude Code logs name no commit
    assert all(r["file_path"] and not r["file_path"].startswith("/") for r in rows)
    by_name = {(r["stf_name"], r["file_path"]): (r["line_start"], r["line_end"]) for r in rows}
    # Write: a method of the whole file written, at its lines in that file
    assert by_name[("EmbeddingToSound.tokenize_text", "ai_music.py")] == (24, 27)
    assert by_name[("RadicalMusicalEmbeddingToSound.mix_layers", "radical_musical_ai.py")] == (369, 391)
    # Edit: the new text at the line where the old text was in the file before it
    # (a function already known from another file: its STF keeps its first name)
    by_place = {(r["file_path"], r["line_start"]): r["line_end"] for r in rows}
    assert by_place[("diverse_musical_ai.py", 71)] == 79
    # an edit without a function, registered whole: from its first line to its last
    assert by_place[("diverse_musical_ai.py", 377)] is not None


def test_claude_code_write_lines_hold_the_code_of_the_unit(imported):
    """A Write's file is in the attempt's artefacts: the lines a pointer names are the
    unit's code, for every unit of every Write."""
    checked = 0
    for row in pointers(imported, "claude-code"):
        files = row["artifacts"].get("files") or {}
        if row["file_path"] in files and row["line_start"] is not None:
            lines = "\n".join(files[row["file_path"]].split("\n")[row["line_start"] - 1 : row["line_end"]])
            units = [u["code"].rstrip() for u in row["artifacts"]["units"] if u["path"] == row["file_path"]]
            # a function is its lines dedented; a file that does not parse, its lines as they are
            assert lines.rstrip() in units or textwrap.dedent(lines).rstrip() in units, row
            checked += 1
    assert checked >= 15


@pytest.mark.parametrize("path", [p for p in CLAUDE if raw_edits(p)], ids=lambda p: p.name[:8])
def test_claude_code_edit_lines_are_where_the_new_text_lands(path):
    """For every Edit in the raw log: applying it to the file before it, the new text
    starts at the line the parser gives its snippet."""
    parser = ClaudeCodeParser(path, None)
    units = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        units += parser.feed(n, json.loads(line))
    units += parser.flush()
    snippets = {
        (s["path"], s["code"]): s.get("line_start")
        for u in units
        for s in (u.get("artifacts") or {}).get("snippets", [])
        if s.get("path")
    }
    edits = raw_edits(path)
    assert edits
    for file, original, old, new in edits:
        after = original.replace(old, new, 1)
        expected = original[: original.index(old)].count("\n") + 1
        assert after.splitlines()[expected - 1].startswith(new.splitlines()[0] if new else "")
        rel = file.removeprefix(AI_MUSIC + "/")
        if (rel, new) in snippets:  # a failed or rejected response writes no artefacts
            assert snippets[(rel, new)] == expected, (rel, new[:60])


def test_claude_code_git_branch_and_structured_patch_are_read(tmp_path):
    """A line with gitBranch names the branch; an Edit whose result has no originalFile
    is placed by its structured patch."""
    session = str(uuid.uuid4())
    base = {
        "sessionId": session,
        "cwd": "/srv/shop",
        "gitBranch": "feature/totals",
        "timestamp": "2026-01-05T10:00:00Z",
    }
    new = "def total(items):\n    return sum(i.price for i in items)\n"
    lines = [
        {**base, "type": "user", "message": {"role": "user", "content": "fix the total"}},
        {
            **base,
            "type": "assistant",
            "message": {
                "id": "msg_1",
                "model": "claude-sonnet-4-5-20250929",
                "role": "assistant",
                "usage": {"input_tokens": 10, "output_tokens": 5},
                "content": [
                    {
                        "type": "tool_use",
                        "id": "toolu_1",
                        "name": "Edit",
                        "input": {"file_path": "/srv/shop/cart.py", "old_string": "x", "new_string": new},
                    }
                ],
            },
        },
        {
            **base,
            "type": "user",
            "toolUseResult": {
                "filePath": "/srv/shop/cart.py",
                "structuredPatch": [
                    {
                        "oldStart": 40,
                        "oldLines": 3,
                        "newStart": 40,
                        "newLines": 4,
                        "lines": [
                            " import x",
                            "-x",
                            "+def total(items):",
                            "+    return sum(i.price for i in items)",
                            " ",
                        ],
                    }
                ],
            },
            "message": {
                "role": "user",
                "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": "ok"}],
            },
        },
    ]
    path = tmp_path / f"{session}.jsonl"
    path.write_text("\n".join(json.dumps(x) for x in lines) + "\n")
    parser = ClaudeCodeParser(path, None)
    units = [u for n, x in enumerate(lines, 1) for u in parser.feed(n, x)] + parser.flush()
    (unit,) = [u for u in units if u.get("artifacts")]
    artifacts = unit["artifacts"]
    assert (artifacts["repository"], artifacts["branch"]) == ("/srv/shop", "feature/totals")
    assert artifacts["snippets"][0]["line_start"] == 41  # the new side's second line
    (total,) = artifacts["units"]
    assert (total["path"], total["line_start"], total["line_end"]) == ("cart.py", 41, 42)


def test_multi_edit_lines_follow_the_edits_before_them():
    original = "a\nb\nc\nd\n"
    # the second edit inserts two lines above the first one's text: the first moves down
    assert edit_lines(original, [("c", "C"), ("a", "a\nx\ny")]) == [5, 1]
    assert edit_lines(original, [("zz", "q"), ("d", "D")]) == [None, 4]
    assert edit_lines(original, [("b", "B"), ("B", "b2")]) == [None, 2]  # rewritten by the second
    assert edit_lines(None, [("a", "b")]) == [None]


def test_only_valid_parts_of_a_log_are_kept():
    assert code_place("/srv/app", "", "HEAD") == {"repository": "/srv/app"}
    assert code_place(" ", "main", SHA.upper()) == {"branch": "main", "commit_sha": SHA}
    assert code_place("/srv/\x00app", "x" * 256, "abc") == {}


# -- SWE-agent ----------------------------------------------------------------------------


def test_swe_agent_pointers_name_the_repository_and_the_lines_the_diff_adds(imported):
    rows = pointers(imported, "swe-agent")
    (numpy_handler,) = [r for r in rows if r["file_path"] == "pydicom/pixel_data_handlers/numpy_handler.py"]
    # the instance id pydicom__pydicom-1458 names the repository; the diff's hunk
    # (+285) adds lines 288, 290 and 291 of the new file
    assert numpy_handler["repository"] == "pydicom/pydicom"
    assert (numpy_handler["line_start"], numpy_handler["line_end"]) == (288, 291)
    assert numpy_handler["commit_sha"] is None and numpy_handler["branch"] is None
    runs = imported.execute(
        """select i.unit_key, a.artifacts ->> 'repository', a.artifacts ? 'commit_sha'
             from debugloop.debug_import_units i join debugloop.debug_execution_attempts a using (attempt_id)
            where i.source = 'swe-agent' and i.unit_key like '%:run' order by 1"""
    ).fetchall()
    by_run = {key.split(":")[0]: (repo, has_commit) for key, repo, has_commit in runs}
    # the replay config's github_url; its base_commit "HEAD" is no SHA and is left out
    assert by_run["6e44b9__sweagenttestrepo-1c2844"] == ("https://github.com/SWE-agent/test-repo", False)
    assert by_run["swe-agent__test-repo-i1"] == ("swe-agent/test-repo", False)


def test_swe_agent_diff_lines_are_the_new_files_lines():
    diff = (
        "--- a/app/util.py\n+++ b/app/util.py\n@@ -10,3 +10,7 @@ import os\n context\n-gone\n"
        "+def double(x):\n+    y = x * 2\n+    return y\n kept\n+TAIL = 1\n"
    )
    units = split_artifacts({"diff": diff})
    # the hunk's context line is 10; "kept" is 14, so TAIL (no function, not a unit) is 15
    assert [(u["name"], u["line_start"], u["line_end"]) for u in units] == [("double", 11, 13)]
    whole = split_artifacts({"diff": diff.replace("app/util.py", "app/util.js")})
    assert [(u["line_start"], u["line_end"]) for u in whole] == [(11, 15)]


# -- OpenHands -----------------------------------------------------------------------------


def test_openhands_pointers_name_the_working_directory_and_the_file(imported):
    rows = pointers(imported, "openhands")
    app = [r for r in rows if r["file_path"] == "/workspace/todo-app/app.js"]
    assert app and {r["repository"] for r in app} == {"/workspace"}  # the run observations' working_dir
    raw = json.loads((LOGS / "openhands" / "basic_gui_mode.json").read_text())
    written = next(
        e["extras"]["new_content"] for e in raw if (e.get("extras") or {}).get("path") == "/workspace/todo-app/app.js"
    )
    assert {(r["line_start"], r["line_end"]) for r in app} == {(1, len(written.rstrip("\n").split("\n")))}
    # basic.json runs no command: its working directory is not known, its file and lines are
    game = [r for r in rows if r["file_path"] == "/workspace/game_2048.py"]
    assert game and {r["repository"] for r in game} == {None}
    source = next(
        e["extras"]["new_content"]
        for e in json.loads((LOGS / "openhands" / "basic.json").read_text())
        if isinstance((e.get("extras") or {}).get("new_content"), str)
    )
    methods = {
        f"Game2048.{n.name}": (n.lineno, n.end_lineno)
        for c in ast.parse(source).body
        if isinstance(c, ast.ClassDef)
        for n in c.body
        if isinstance(n, ast.FunctionDef)
    }
    for r in game:
        if r["stf_name"] in methods:
            assert (r["line_start"], r["line_end"]) == methods[r["stf_name"]]
    assert any(r["stf_name"] == "Game2048.merge_line" for r in game)


# -- attempt_finish's artefacts and stf_register ------------------------------------------------

CODE = ORDER_TOTAL
SHOP = {"repository": "https://github.com/acme/shop", "branch": "main"}


def succeed(dl, artifacts, request="sum the prices of an order") -> None:
    """An attempt that succeeds with these artefacts."""
    dl.attempts.finish(dl.attempts.start("coder", request, "gpt-4o"), "success", artifacts=artifacts)


def provenance(conn, stf_name: str) -> list[tuple]:
    return conn.execute(
        """select p.repository, p.branch, p.commit_sha, p.file_path, p.line_start, p.line_end
             from debugloop.v_stf_provenance p join debugloop.debug_transform_functions f using (stf_id)
            where f.stf_name = %s order by p.registered_at""",
        (stf_name,),
    ).fetchall()


def test_attempt_finish_artefacts_carry_the_pointer(dl, conn):
    succeed(dl, {**SHOP, "commit_sha": SHA.upper(), "files": {"shop/orders.py": "import math\n\n\n" + CODE}})
    assert provenance(conn, "order_total") == [("https://github.com/acme/shop", "main", SHA, "shop/orders.py", 4, 9)]


def test_attempt_finish_snippet_lines_count_from_its_line_start(dl, conn):
    succeed(dl, {"snippets": [{"code": CODE, "path": "shop/orders.py", "line_start": 120}]})
    assert provenance(conn, "order_total") == [(None, None, None, "shop/orders.py", 120, 125)]


@pytest.mark.parametrize(
    ("artifacts", "error", "field"),
    [
        ({"snippets": [{"code": CODE, "path": "a.py", "line_start": 9, "line_end": 3}]}, InvalidLineRange, "line_end"),
        ({"snippets": [{"code": CODE, "path": "a.py", "line_start": -2}]}, InvalidLineRange, "line_start"),
        ({"snippets": [{"code": CODE, "path": "a.py", "line_start": "ten"}]}, InvalidLineRange, "line_start"),
        ({"units": [{"name": "f", "code": CODE, "line_start": 1, "line_end": 6}]}, InvalidLineRange, "line_start"),
        ({"commit_sha": "not-a-sha", "files": {"a.py": CODE}}, InvalidCommitSha, "commit_sha"),
        ({"commit_sha": "abc12", "files": {"a.py": CODE}}, InvalidCommitSha, "commit_sha"),
        ({"repository": "", "files": {"a.py": CODE}}, InvalidCodeLocation, "repository"),
        ({"branch": "main\nx", "files": {"a.py": CODE}}, InvalidCodeLocation, "branch"),
        ({"repository": 42, "files": {"a.py": CODE}}, InvalidCodeLocation, "repository"),
    ],
)
def test_attempt_finish_refuses_a_bad_pointer_and_records_nothing(dl, conn, artifacts, error, field):
    attempt_id = dl.attempts.start("coder", "sum the prices of an order", "gpt-4o")
    with pytest.raises(error) as refused:
        dl.attempts.finish(attempt_id, "success", artifacts=artifacts)
    assert refused.value.field.startswith("artifacts.") and refused.value.field.endswith(field)
    assert field in str(refused.value)
    assert dl.attempts.get(attempt_id).status == "running"
    assert conn.execute("select count(*) from debugloop.debug_stf_provenance").fetchone()[0] == 0


def test_stf_register_keeps_the_pointer_and_refuses_bad_values(dl, conn):
    dl.stfs.register(
        "order_total", CODE, repository="acme/shop", branch="dev", commit_sha=SHA[:7],
        file_path="shop/orders.py", line_start=10, line_end=15,
    )  # fmt: skip
    assert provenance(conn, "order_total") == [("acme/shop", "dev", SHA[:7], "shop/orders.py", 10, 15)]
    cases = [
        ({"file_path": "a.py", "line_start": 5, "line_end": 4}, InvalidLineRange, "line_end"),
        ({"file_path": "a.py", "line_start": 0}, InvalidLineRange, "line_start"),
        ({"file_path": "a.py", "line_end": 4}, InvalidLineRange, "line_end"),
        ({"line_start": 3}, InvalidLineRange, "line_start"),
        ({"commit_sha": "g" * 40}, InvalidCommitSha, "commit_sha"),
        ({"commit_sha": "a" * 41}, InvalidCommitSha, "commit_sha"),
        ({"file_path": "   "}, InvalidCodeLocation, "file_path"),
        ({"repository": "r" * 1001}, InvalidCodeLocation, "repository"),
    ]
    for kwargs, error, field in cases:
        with pytest.raises(error) as refused:
            dl.stfs.register("order_total_v2", CODE + "# v2\n", contributor="x", **kwargs)
        assert refused.value.field == field, kwargs
    assert provenance(conn, "order_total_v2") == []


def test_sqlstates_of_the_refusals(conn):
    for sql, state in [
        ("select debugloop.stf_register('f', %s, file_path => 'a.py', line_start => 3, line_end => 1)", "DL050"),
        ("select debugloop.stf_register('f', %s, commit_sha => 'HEAD')", "DL051"),
        ("select debugloop.stf_register('f', %s, branch => '')", "DL052"),
    ]:
        with pytest.raises(psycopg.Error) as raised:
            conn.execute(sql, (CODE,))
        assert raised.value.sqlstate == state
        conn.rollback()


@pytest.mark.parametrize("first_running", [False, True], ids=["finished", "running-then-finished"])
def test_a_log_imported_with_bad_parts_keeps_the_good_ones_and_the_queue_carries_them(dl, conn, first_running):
    """import_units (the path of logs) refuses nothing for a bad pointer part, also when
    it finishes a unit imported as running (through attempt_finish): the part is left
    unknown when the queued learning registers the code."""
    session = {"key": "s1", "correlation_id": str(uuid.uuid4()), "path": "/logs/s1.jsonl", "title": "orders"}
    unit = {
        "key": "u1", "session": "s1", "request": "sum the prices of an order", "model": "gpt-4o",
        "status": "success", "started_at": "2026-01-05T10:00:00Z", "completed_at": "2026-01-05T10:00:05Z",
        "artifacts": {
            "repository": "/srv/shop", "branch": "", "commit_sha": "HEAD",
            "units": [{"name": "order_total", "code": CODE, "path": "shop/orders.py", "line_start": 7, "line_end": 3}],
        },
    }  # fmt: skip
    batches = [{**unit, "status": "running", "artifacts": None}, unit] if first_running else [unit]
    with wrap_exceptions():
        for sent in batches:
            conn.execute(
                "select * from debugloop.import_units('claude-code', %s, %s, %s)",
                (uuid.uuid4(), json.dumps([session]), json.dumps([sent])),
            )
    assert conn.execute("select debugloop.learn_queued()").fetchone()[0] == 1
    assert provenance(conn, "order_total") == []
    assert conn.execute("select debugloop.learn_pending(10)").fetchone()[0] == 1
    assert provenance(conn, "order_total") == [("/srv/shop", None, None, "shop/orders.py", None, None)]


# -- what stf show and the manifest print --------------------------------------------------------


def test_stf_show_and_the_manifest_print_the_pointer(dl, db, conn):
    snippet = {"code": CODE, "path": "shop/orders.py", "line_start": 40}
    succeed(dl, {**SHOP, "commit_sha": SHA, "snippets": [snippet]}, "sum the prices of an order with a discount")
    (stf_id,) = conn.execute("select stf_id from debugloop.debug_transform_functions").fetchone()
    conn.execute("select debugloop.stf_approve(%s)", (stf_id,))
    conn.commit()
    where = f"https://github.com/acme/shop@main {SHA[:12]} shop/orders.py:40-45"
    env = {"DEBUGLOOP_DATABASE_URL": db.url, "COLUMNS": "250"}
    shown = run_cli("stf", "show", str(stf_id)[:8], env=env)
    assert shown.returncode == 0, shown.stderr
    assert where in shown.stdout
    as_json = json.loads(run_cli("stf", "show", str(stf_id), "--json", env=env).stdout)
    (row,) = as_json["provenance"]
    assert (row["repository"], row["branch"], row["commit_sha"], row["file_path"], row["line_start"], row["line_end"]) == (
        "https://github.com/acme/shop", "main", SHA, "shop/orders.py", 40, 45,
    )  # fmt: skip

    problem = "total price of an order after a discount"
    doc = json.loads(dl.manifests.document(problem))
    (stf,) = doc["stfs"]
    assert stf["sources"] == [
        {"repository": "https://github.com/acme/shop", "branch": "main", "commit_sha": SHA,
         "file_path": "shop/orders.py", "line_start": 40, "line_end": 45}
    ]  # fmt: skip
    model = dl.manifests.get(problem)
    assert model.stfs[0].sources[0].line_end == 45
    assert f"from {where}" in dl.manifests.markdown(problem)
    printed = run_cli("manifest", problem, env=env)
    assert printed.returncode == 0, printed.stderr
    assert where in printed.stdout


def test_the_manifest_lists_three_distinct_sources_oldest_first(dl, conn):
    for n, line in enumerate([10, 10, 20, 30, 40]):
        dl.stfs.register("order_total", CODE, contributor=f"c{n}", file_path="shop/orders.py", line_start=line)
    conn.execute("select debugloop.stf_approve(stf_id) from debugloop.debug_transform_functions")
    sources = conn.execute(
        "select debugloop._manifest_stf_sources(stf_id) from debugloop.debug_transform_functions"
    ).fetchone()[0]
    assert [s["line_start"] for s in sources] == [10, 20, 30]
    without = dl.stfs.register("slugify_text", "def slug(t):\n    t = t.lower()\n    return t.replace(' ', '-')\n")
    assert conn.execute("select debugloop._manifest_stf_sources(%s)", (without,)).fetchone()[0] is None


def test_lines_are_left_out_where_the_file_or_its_place_is_not_known():
    snippet = {"code": CODE, "line_start": 5}  # no path: lines of what file
    (unit,) = split_artifacts({"snippets": [snippet]})
    assert "line_start" not in unit and "line_end" not in unit
    (unit,) = split_artifacts({"snippets": [{"code": CODE, "path": "a.py"}]})  # no line_start
    assert "line_start" not in unit
    bare = "--- a/a.js\n+++ b/a.js\n+const a = 1;\n+const b = 2;\n+const c = 3;\n"  # no hunk header
    (unit,) = split_artifacts({"diff": bare})
    assert "line_start" not in unit


def test_a_source_renders_with_the_parts_known(conn):
    def render(source):
        return conn.execute("select debugloop._manifest_source(%s)", (json.dumps(source),)).fetchone()[0]

    assert render({"repository": "acme/shop"}) == "acme/shop"
    assert render({"file_path": "a.py", "line_start": 3}) == "a.py:3"
    assert render({"repository": "r", "branch": "b", "commit_sha": SHA, "file_path": "a.py"}) == f"r@b {SHA[:12]} a.py"


def test_a_token_in_a_repository_url_is_redacted(dl, conn):
    token = "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"
    dl.stfs.register("order_total", CODE, repository=f"https://ci:{token}@github.com/acme/shop")
    succeed(dl, {"repository": f"https://ci:{token}@github.com/acme/web", "files": {"web/orders.py": CODE + "# w\n"}})
    stored = conn.execute("select string_agg(repository, ' ') from debugloop.debug_stf_provenance").fetchone()[0]
    assert "github.com/acme/shop" in stored and "github.com/acme/web" in stored
    assert token not in stored
