"""Reports by period (issue 15): `debugloop report costs --daily|--weekly|--monthly|--session`,
equal to ccusage on the bundled Claude Code logs, running attempts included.

The ccusage numbers below were computed once with ccusage 20.0.24 (npm install
ccusage@20.0.24; 20.0.26 lacks its Linux binary) over the four bundled sessions laid
out as ccusage expects them (DIR/projects/bundled/<session>.jsonl):

    CLAUDE_CONFIG_DIR=DIR ccusage session --json --offline --timezone UTC   (and daily, weekly, monthly)

CI has no npm guarantee, so they are written here; bench/importer.py prints the same
comparison on its corpus, running ccusage where it is installed.
"""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

import debugloop
from debugloop.errors import InvalidParameter
from helpers import REPO, run_cli

LOGS = REPO / "examples" / "agent-logs" / "claude-code"

# session id -> (input, output, cache creation, cache read, cost): ccusage session --json
CCUSAGE_SESSIONS = {
    "d3ad4cdc-5657-435d-98fa-0035d53e383d": (114, 16769, 174552, 3754072, "2.032668599999999"),
    "ba79134d-b6e9-4867-af0c-6941038c9e4b": (91, 2266, 16072, 503769, "0.2456637"),
    "fed8ce56-bc79-401f-a83e-af084253362f": (88, 278, 16000, 44544, "0.0777972"),
}
CCUSAGE_DAILY = {
    "2025-06-08": (205, 19035, 190624, 4257841, "2.2783322999999998"),
    "2025-06-10": (88, 278, 16000, 44544, "0.0777972"),
}
CCUSAGE_WEEKLY = {
    "2025-06-02": (205, 19035, 190624, 4257841, "2.2783322999999998"),
    "2025-06-09": (88, 278, 16000, 44544, "0.0777972"),
}
CCUSAGE_MONTHLY = {"2025-06": (293, 19313, 206624, 4302385, "2.3561294999999998")}
TOLERANCE = Decimal("1e-6")


@pytest.fixture(scope="module")
def logs(module_db):
    with debugloop.connect(module_db.url) as dl:
        dl.imports.run("claude-code", [LOGS])
        yield dl


def _tokens(row) -> tuple[int, int, int, int]:
    return row.input_tokens, row.output_tokens, row.cache_write_tokens, row.cache_read_tokens


def _assert_equal(rows, expected: dict) -> None:
    ours = {r.period_key: r for r in rows}
    assert set(ours) == set(expected)
    for key, (*tokens, cost) in expected.items():
        assert _tokens(ours[key]) == tuple(tokens), key
        assert abs(ours[key].cost_usd - Decimal(cost)) <= TOLERANCE, (key, ours[key].cost_usd, cost)


def test_sessions_equal_ccusage_with_the_running_attempt_counted(logs):
    rows = logs.analytics.costs_by_period("session")
    # a session ccusage does not list (no response with usage) is not listed here either
    _assert_equal(rows, CCUSAGE_SESSIONS)
    running = {r.period_key: r.running for r in rows}
    assert running["d3ad4cdc-5657-435d-98fa-0035d53e383d"] == 1  # its last tool call has no result yet


@pytest.mark.parametrize(
    ("period", "expected"), [("daily", CCUSAGE_DAILY), ("weekly", CCUSAGE_WEEKLY), ("monthly", CCUSAGE_MONTHLY)]
)
def test_days_weeks_and_months_equal_ccusage(logs, period, expected):
    _assert_equal(logs.analytics.costs_by_period(period), expected)


def test_since_until_and_the_timezone_move_the_day_boundaries(logs):
    assert [r.period_key for r in logs.analytics.costs_by_period("daily", since=date(2025, 6, 9))] == ["2025-06-10"]
    assert [r.period_key for r in logs.analytics.costs_by_period("daily", until=date(2025, 6, 8))] == ["2025-06-08"]
    utc = {r.period_key: r.cost_usd for r in logs.analytics.costs_by_period("daily")}
    # 14 hours east the sessions of the 8th, which ran from about 10:00 UTC, fall on the 9th... or later
    east = {r.period_key: r.cost_usd for r in logs.analytics.costs_by_period("daily", timezone="Pacific/Kiritimati")}
    assert sum(east.values()) == sum(utc.values()) and set(east) != set(utc)


def test_breakdown_gives_one_row_per_model_and_the_same_totals(logs):
    rows = logs.analytics.costs_by_period("monthly", breakdown=True)
    assert {r.model for r in rows} == {"claude-sonnet-4-20250514"}
    assert sum(r.cost_usd for r in rows) == sum(r.cost_usd for r in logs.analytics.costs_by_period("monthly"))


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"period": "hourly"}, "period"),
        ({"period": "daily", "timezone": "Mars/Olympus"}, "timezone"),
        ({"period": "daily", "since": date(2025, 6, 9), "until": date(2025, 6, 8)}, "until"),
    ],
)
def test_bad_arguments_are_invalid_parameters(logs, kwargs, field):
    with pytest.raises(InvalidParameter) as info:
        logs.analytics.costs_by_period(**kwargs)
    assert info.value.field == field


def test_cli_report_costs_by_period_as_json_and_table(db, tmp_path: Path):
    env = {"DEBUGLOOP_DATABASE_URL": db.url}
    assert run_cli("import", "claude-code", str(LOGS), env=env).returncode == 0
    done = run_cli("report", "costs", "--daily", "--json", env=env)
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout, parse_float=Decimal)
    assert doc["period"] == "daily" and [r["period_key"] for r in doc["rows"]] == list(CCUSAGE_DAILY)
    assert abs(doc["totals"]["cost_usd"] - Decimal(CCUSAGE_MONTHLY["2025-06"][4])) <= TOLERANCE
    table = run_cli("report", "costs", "--session", "--since", "20250601", "--breakdown", env=env)
    assert table.returncode == 0, table.stderr
    assert "growing" in table.stdout and "claude-sonnet-4-20250514" in table.stdout
    both = run_cli("report", "costs", "--daily", "--weekly", env=env)
    assert both.returncode == 2 and "one of" in both.stderr
