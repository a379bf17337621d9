"""The command line as a user meets it: tables at 80 columns, --json and --csv on
every list, show and report command, ids accepted back as prefixes, empty results,
one-line usage errors, --version, and a demo that can be run twice."""

import csv
import io
import json
import re
import uuid
from decimal import Decimal

import pytest
from rich.console import Console

from debugloop.cli import app as cli_app  # noqa: F401  (declares every table)
from debugloop.cli.render import SHORT_ID, TABLES, dumps, fit, layout
from helpers import run_cli

# cell texts of each kind, as long as real ones get
SAMPLES = {
    "id": lambda n: str(uuid.UUID(int=(0x9F3C2A7B << 96) + n)),
    "num": lambda n: f"${n * 1234.567891 + 0.000123:,.6f}",
    "time": lambda n: f"2026-12-0{n % 9 + 1} 16:28:4{n % 10}",
    "key": lambda n: f"claude-sonnet-4-5-2025092{n % 10}",
    "text": lambda n: "the invoice total with a discount is off by one cent; use Decimal for money " * (1 + n % 2),
}


def _render(spec, cells, width=80):
    console = Console(file=io.StringIO(), width=width)
    console.print(layout(spec, cells, width))
    return console.file.getvalue()


@pytest.mark.parametrize("spec", list(TABLES.values()), ids=lambda s: s.name)
def test_every_table_fits_80_columns_and_never_splits_an_id_or_a_number(spec):
    cells = [[SAMPLES[col.kind](n) for col in spec.columns] for n in range(3)]
    text = _render(spec, cells)
    lines = text.splitlines()
    assert lines and all(len(line) <= 80 for line in lines), text
    kept, _ = fit(spec, cells, 80)
    assert {i for i, col in enumerate(spec.columns) if not col.drop} <= set(kept), (
        f"{spec.name}: a column that stays went"
    )
    for i in kept:
        col = spec.columns[i]
        if col.kind == "text":
            continue
        for row in cells:
            value = row[i][:SHORT_ID] if col.kind == "id" else row[i]
            assert any(value in line for line in lines), f"{spec.name}: {col.header} {value!r} split:\n{text}"


def test_ids_are_shown_whole_when_there_is_room():
    spec = TABLES["attempts list"]
    cells = [[SAMPLES[col.kind](n) if col.kind != "text" else "fixer" for col in spec.columns] for n in range(2)]
    assert cells[0][1] in _render(spec, cells, width=200)
    narrow = _render(spec, cells, width=80)
    assert cells[0][1] not in narrow and cells[0][1][:SHORT_ID] in narrow


def test_json_keeps_every_digit_of_a_decimal():
    text = dumps({"cost_usd": Decimal("0.000123456789"), "tokens": 10**15, "at": None, "ids": [uuid.UUID(int=1)]})
    assert json.loads(text, parse_float=Decimal) == {
        "cost_usd": Decimal("0.000123456789"),
        "tokens": 10**15,
        "at": None,
        "ids": ["00000000-0000-0000-0000-000000000001"],
    }


# -- usage ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [("attempts", "list", "--bogus"), ("stf", "show"), ("report", "costs", "--top", "x"), ("nosuchgroup",)],
    ids=" ".join,
)
def test_a_usage_error_is_one_line_with_exit_code_2(args):
    result = run_cli(*args)
    assert result.returncode == 2, result
    assert result.stderr.startswith("debugloop: error: ") and result.stderr.count("\n") == 1, result.stderr
    assert "Traceback" not in result.stderr and "╭" not in result.stderr


def test_version_and_help_list_every_group():
    from debugloop import __version__

    version = run_cli("--version")
    assert version.returncode == 0 and version.stdout.strip() == f"debugloop {__version__}"
    shown = run_cli("--help", env={"COLUMNS": "200"})
    for group in (
        "db",
        "settings",
        "attempts",
        "prices",
        "errors",
        "stf",
        "golden",
        "report",
        "import",
        "manifest",
        "demo",
    ):
        assert re.search(rf"^\W*{group}\s", shown.stdout, re.MULTILINE), group
    bare = run_cli("stf")
    assert bare.returncode == 0 and "approve" in bare.stdout


# -- against a database ------------------------------------------------------------------

CODE = '''def slugify(title):
    """A url slug: lower case words joined by hyphens."""
    import re
    return "-".join(re.findall(r"[a-z0-9]+", title.lower()))
'''


@pytest.fixture(scope="module")
def populated(module_db):
    """A failed attempt, its retry that succeeded with code (an STF, a mapping), and
    a golden state; shared by the read-only command tests of this module."""
    import debugloop

    with debugloop.connect(module_db.url) as dl:
        first = dl.attempts.start("fixer", "turn a title into a url slug", "gpt-4o", approach_description="str.replace")
        dl.attempts.finish(
            first,
            "error",
            usage={"input_tokens": 1_234, "output_tokens": 56},
            error_type="KeyError",
            error_message="'title'",
        )
        second = dl.attempts.start(
            "fixer",
            "turn a title into a url slug",
            "gpt-4o-mini",
            parent_attempt_id=first,
            approach_description="re.findall words",
        )
        dl.attempts.finish(
            second,
            "success",
            usage={"input_tokens": 2_000, "output_tokens": 300},
            quality_score=0.95,
            artifacts={"files": {"text/slug.py": CODE}},
        )
        golden = dl.golden.nominate(second, nominated_by="tester")
        dl.stfs.review(dl.stfs.list()[0].stf_id, "approve", "tester")  # recommendable whatever its quality
        yield {
            "db": module_db,
            "env": {"DEBUGLOOP_DATABASE_URL": module_db.url},
            "first": dl.attempts.get(first),
            "second": dl.attempts.get(second),
            "golden": golden,
            "stf": dl.stfs.list()[0],
        }


def _json(p, *args):
    result = run_cli(*args, "--json", env=p["env"])
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout, parse_float=Decimal)


def _fields(model) -> set[str]:
    return set(model.model_fields)


def test_list_commands_print_the_rows_of_the_sql_api_as_json(populated):
    from debugloop import models

    p = populated
    attempts = _json(p, "attempts", "list")
    assert [a["attempt_id"] for a in attempts] == [str(p["second"].attempt_id), str(p["first"].attempt_id)]
    assert set(attempts[0]) == _fields(models.Attempt)
    assert Decimal(str(attempts[1]["cost_usd"])) == p["first"].cost_usd  # every digit, as a JSON number
    assert isinstance(json.loads(run_cli("attempts", "list", "--json", env=p["env"]).stdout)[1]["cost_usd"], float)
    cases = [
        (("settings", "list"), models.Setting),
        (("attempts", "chain", str(p["first"].correlation_id)), models.ChainEntry),
        (("prices", "list", "--search", "gpt-4o-mini"), models.PriceVersion),
        (("errors", "top"), models.ErrorSignature),
        (("errors", "known-failures", "turn a title into a url slug"), models.KnownFailure),
        (("stf", "list"), models.StfSummary),
        (("stf", "search", "make a url slug"), models.StfMatch),
        (("golden", "list"), models.GoldenSummary),
        (("golden", "search", "url slug of a title"), models.GoldenMatch),
        (("report", "metrics"), models.Metric),
        (("import", "sessions"), models.ImportSession),
    ]
    for args, model in cases:
        rows = _json(p, *args)
        assert isinstance(rows, list), args
        if model is not models.ImportSession:
            assert rows, args
        for row in rows:
            assert set(row) == _fields(model), args


def test_show_and_report_commands_print_one_document_as_json(populated):
    from debugloop import models

    p = populated
    shown = _json(p, "attempts", "show", str(p["second"].attempt_id))
    assert set(shown) == _fields(models.Attempt) and shown["status"] == "success"
    stf = _json(p, "stf", "show", str(p["stf"].stf_id))
    assert stf["stf_code"] == CODE and [x["attempt_id"] for x in stf["provenance"]] == [str(p["second"].attempt_id)]
    golden = _json(p, "golden", "show", str(p["golden"]))
    assert golden["golden_state_id"] == str(p["golden"]) and golden["stfs"][0]["stf_name"] == "slugify"
    signature = p["first"].error_signature
    error = _json(p, "errors", "show", signature)
    assert (
        error["signature"]["signature"] == signature
        and error["mappings"][0]["successful_approach"] == "re.findall words"
    )
    fixes = _json(p, "errors", "fixes", "KeyError: 'title'")
    assert fixes["error"]["signature"] == signature and fixes["fixes"][0]["match"] == "exact"
    costs = _json(p, "report", "costs", "--by", "model")
    assert set(costs) == {"by", "groups", "costliest_attempts", "cost_per_success"}
    assert {g["model_used"] for g in costs["groups"]} == {"gpt-4o", "gpt-4o-mini"}
    quality = _json(p, "report", "quality")
    assert set(quality) == {"summary", "stf_quality", "most_used_stfs"} and quality["summary"]["stfs"] == 1
    price = _json(p, "prices", "show", "gpt-4o-mini")
    assert price["price"]["model_name"] == "gpt-4o-mini" and price["versions"]
    info = _json(p, "db", "info")
    assert {c["component"] for c in info["components"]} >= {"postgresql", "vector"}
    assert any(e["name"] == "manifest" for e in info["api"])
    status = _json(p, "db", "status")
    assert status["reachable"] is True and status["database"] == "external"


def test_list_commands_print_csv_with_the_same_fields(populated):
    from debugloop import models

    p = populated
    result = run_cli("attempts", "list", "--csv", env=p["env"])
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert result.returncode == 0 and len(rows) == 2 and set(rows[0]) == _fields(models.Attempt)
    assert Decimal(rows[1]["cost_usd"]) == p["first"].cost_usd
    both = run_cli("attempts", "list", "--csv", "--json", env=p["env"])
    assert both.returncode == 1 and "choose one" in both.stderr


def test_tables_at_80_columns_keep_ids_and_costs_whole(populated):
    p = populated
    env = {**p["env"], "COLUMNS": "80"}
    listed = run_cli("attempts", "list", env=env)
    assert listed.returncode == 0 and all(len(line) <= 80 for line in listed.stdout.splitlines())
    for attempt in (p["first"], p["second"]):
        assert str(attempt.attempt_id)[:8] in listed.stdout
    cost = run_cli("report", "costs", env=env)
    assert "$0." in cost.stdout and all(len(line) <= 80 for line in cost.stdout.splitlines())
    for group in _json(p, "report", "costs")["groups"]:
        from debugloop.cli.render import usd

        assert usd(Decimal(str(group["total_cost_usd"]))) in cost.stdout


def test_empty_results_say_so(db):
    env = {"DEBUGLOOP_DATABASE_URL": db.url}
    listed = run_cli("attempts", "list", env=env)
    assert listed.returncode == 0 and listed.stdout.strip() == "no attempts match"
    assert run_cli("attempts", "list", "--json", env=env).stdout.strip() == "[]"
    header = run_cli("stf", "list", "--csv", env=env).stdout.strip()
    assert header.startswith("stf_id,") or header == "", header
    chain = run_cli("attempts", "chain", str(uuid.uuid4()), env=env)
    assert chain.returncode == 1 and "no attempts with correlation id" in chain.stderr
    golden = run_cli("golden", "list", env=env)
    assert golden.returncode == 0 and "no golden state" in golden.stdout


def _normalised(text: str) -> str:
    """Demo output without what differs from run to run: ids, times, ports, durations."""
    text = re.sub(r"\b[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}\b|\b[0-9a-f]{8,12}\b", "ID", text)
    text = re.sub(r"\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(\.\d+)?Z?", "TIME", text)
    # the median time from a success to its golden state's approval is a time too (0 or 0.0001 h)
    text = re.sub(r"(golden_approval_hours_median.*?)\b0(\.\d+)?\b", r"\1N", text)
    return re.sub(r"port=\d+|\d+ ms\b", "N", text)


def test_the_demo_runs_twice_the_same_in_a_database_of_its_own(db, pg_server):
    import psycopg

    name = f"demo_{uuid.uuid4().hex[:8]}"
    env = {"DEBUGLOOP_DATABASE_URL": db.url, "COLUMNS": "100"}
    try:
        first = run_cli("demo", "--database", name, env=env, timeout=300)
        assert first.returncode == 0, first.stderr
        second = run_cli("demo", "--database", name, env=env, timeout=300)
        assert second.returncode == 0, second.stderr
        assert f"database {name} created afresh" in first.stdout
        assert _normalised(first.stdout) == _normalised(second.stdout)
        for text in ("failed 4 times", "63 STF(s) extracted", "`debugloop db info` lists them"):
            assert text in second.stdout
        assert "public SQL API" not in second.stdout  # a summary, not the whole API
        with psycopg.connect(db.url) as conn:  # the configured database was never written to
            assert conn.execute("select count(*) from debugloop.debug_execution_attempts").fetchone()[0] == 0
        same = run_cli("demo", "--database", db.name, env=env)
        assert same.returncode == 1 and "must not be the one in use" in same.stderr
    finally:
        with psycopg.connect(pg_server.url("postgres"), autocommit=True) as admin:
            admin.execute(f'drop database if exists "{name}" with (force)')


def test_every_command_takes_back_the_short_ids_it_prints(populated):
    p = populated
    first, second = p["first"], p["second"]
    shown = _json(p, "attempts", "show", str(second.attempt_id)[:8])
    assert shown["attempt_id"] == str(second.attempt_id)
    chain = _json(p, "attempts", "chain", str(first.correlation_id)[:8])
    assert [r["attempt_id"] for r in chain] == [str(first.attempt_id), str(second.attempt_id)]
    listed = _json(p, "attempts", "list", "--correlation", str(first.correlation_id)[:10])
    assert len(listed) == 2
    stfs = _json(p, "stf", "list", "--attempt", str(second.attempt_id)[:8])
    assert [s["stf_name"] for s in stfs] == ["slugify"]
    assert _json(p, "stf", "list", "--attempt", str(first.attempt_id)[:8]) == []
    assert _json(p, "golden", "show", str(p["golden"])[:8])["golden_state_id"] == str(p["golden"])
    assert _json(p, "stf", "show", str(p["stf"].stf_id)[:8])["stf_name"] == "slugify"
    assert _json(p, "errors", "show", first.error_signature[:8])["signature"]["signature"] == first.error_signature
    short = run_cli("attempts", "show", "abc", env=p["env"])
    assert short.returncode == 1 and "attempt_id must be a UUID or at least 8 of its leading hex digits" in short.stderr
    unknown = run_cli("attempts", "show", "00000000", env=p["env"])
    assert unknown.returncode == 1 and "attempt 00000000 does not exist" in unknown.stderr


# -- never a traceback, never a half-written file ---------------------------------------------


def test_an_export_to_a_folder_or_an_unwritable_place_is_one_line_and_leaves_nothing(populated, tmp_path):
    env = populated["env"]
    folder = tmp_path / "exports"
    folder.mkdir()
    into_folder = run_cli("stf", "export", "--output", str(folder), env=env)
    assert into_folder.returncode == 1 and "is a folder" in into_folder.stderr
    missing = run_cli("golden", "export", "--output", str(tmp_path / "no" / "such" / "dir.json"), env=env)
    assert missing.returncode == 1 and "cannot write" in missing.stderr
    for result in (into_folder, missing):
        assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["exports"]  # no .partial anywhere


def test_an_export_that_fails_halfway_removes_its_partial_file(tmp_path):
    from debugloop.cli.render import ExportFormat, export
    from debugloop.errors import DatabaseError

    def rows():
        yield {"stf_id": 1}
        raise DatabaseError("connection lost")

    with pytest.raises(DatabaseError):
        export(rows(), ExportFormat.json, tmp_path / "out.json", "STF(s)")
    assert list(tmp_path.iterdir()) == []


def test_absurd_options_and_deep_values_are_one_line_errors(populated):
    import psycopg

    env = populated["env"]
    days = run_cli("report", "metrics", "--days", "1e12", env=env)
    assert days.returncode == 2 and "--days" in days.stderr and days.stderr.count("\n") == 1
    with psycopg.connect(populated["db"].url, autocommit=True) as conn:
        attempt = conn.execute("select debugloop.attempt_start('deep', 'nested artefacts', 'gpt-4o')").fetchone()[0]
        conn.execute(
            "update debugloop.debug_execution_attempts set artifacts = %s::jsonb where attempt_id = %s",
            ('{"a":' * 5000 + "1" + "}" * 5000, attempt),
        )
    try:
        shown = run_cli("attempts", "show", str(attempt), env=env)
        assert shown.returncode == 1 and "nested too deeply" in shown.stderr and "Traceback" not in shown.stderr
    finally:
        with psycopg.connect(populated["db"].url, autocommit=True) as conn:
            conn.execute("delete from debugloop.debug_execution_attempts where attempt_id = %s", (attempt,))


def test_a_huge_field_is_clipped_in_a_table_and_whole_in_json(dl, db):
    request = "fix the flaky retry in the payment client " * 25_000  # 1 MB
    attempt = dl.attempts.start("fixer", request, "gpt-4o")
    env = {"DEBUGLOOP_DATABASE_URL": db.url}
    shown = run_cli("attempts", "show", str(attempt), env=env)
    assert shown.returncode == 0 and len(shown.stdout) < 20_000
    assert "more characters: --json shows them all" in re.sub(r"[\s│]+", " ", shown.stdout)
    assert json.loads(run_cli("attempts", "show", str(attempt), "--json", env=env).stdout)["user_request"] == request


def test_an_unforeseen_error_is_one_line_with_exit_code_70(monkeypatch, capsys):
    import sys

    from debugloop.cli import attempts

    app_module = sys.modules["debugloop.cli.app"]  # the module; debugloop.cli.app is the Typer app

    def broken(*args, **kwargs):
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(attempts, "client", broken)
    monkeypatch.delenv("DEBUGLOOP_DEBUG", raising=False)
    with pytest.raises(SystemExit) as exit_:
        app_module.main(["attempts", "list"])
    assert exit_.value.code == 70
    stderr = capsys.readouterr().err
    assert stderr.startswith("debugloop: internal error: ZeroDivisionError: a bug") and "Traceback" not in stderr
