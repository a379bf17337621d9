"""Tokens are counted when they are spent (issue 15): a running attempt holds the
usage and cost of the responses recorded so far in every report and total, and
finishing it adds only what came after."""

from __future__ import annotations

from decimal import Decimal

import pytest
from psycopg.types.json import Jsonb

from debugloop.errors import AttemptAlreadyFinished, UnknownUsageFormat

# gpt-4o in the seeded catalog: 2.50 USD in, 10 USD out per million tokens
FIRST = {"prompt_tokens": 10_000, "completion_tokens": 1_000}
SECOND = {"prompt_tokens": 4_000, "completion_tokens": 500}


def usd(prompt: int, completion: int) -> Decimal:
    return (prompt * Decimal("2.5") + completion * 10) / 1_000_000


def test_a_running_attempt_holds_its_cost_so_far_and_the_finish_adds_only_the_rest(dl, conn):
    attempt_id = dl.attempts.start(agent_name="fixer", user_request="rename a column", model="gpt-4o")
    running = dl.attempts.record_usage(attempt_id, FIRST)
    assert (running.status, running.cost_status, running.cost_usd) == ("running", "priced_so_far", usd(10_000, 1_000))
    assert (running.tokens_input, running.tokens_output) == (10_000, 1_000)

    # in every report and total while it runs
    by_model = conn.execute(
        "select total_cost_usd, priced_attempts, tokens_input from debugloop.v_cost_by_model where model_used = 'gpt-4o'"
    ).fetchone()
    assert by_model == (usd(10_000, 1_000), 1, 10_000)
    assert conn.execute("select attempt_id, status from debugloop.v_costliest_attempts").fetchall() == [
        (attempt_id, "running")
    ]
    (day,) = dl.analytics.costs_by_period("daily")
    assert (day.cost_usd, day.running, day.input_tokens) == (usd(10_000, 1_000), 1, 10_000)

    done = dl.attempts.finish(attempt_id, "success", usage=SECOND)
    assert (done.cost_status, done.cost_usd) == ("priced", usd(14_000, 1_500))
    assert (done.tokens_input, done.tokens_output) == (14_000, 1_500)
    (day,) = dl.analytics.costs_by_period("daily")
    assert (day.cost_usd, day.running) == (usd(14_000, 1_500), 0)
    with pytest.raises(AttemptAlreadyFinished):
        dl.attempts.record_usage(attempt_id, SECOND)


def test_bad_usage_while_running_changes_nothing(dl, conn):
    attempt_id = dl.attempts.start(agent_name="fixer", user_request="rename a column", model="gpt-4o")
    dl.attempts.record_usage(attempt_id, FIRST)
    with pytest.raises(UnknownUsageFormat):
        dl.attempts.record_usage(attempt_id, {"tokens": 12})
    row = conn.execute(
        "select usage_raw, cost_usd from debugloop.debug_execution_attempts where attempt_id = %s", (attempt_id,)
    ).fetchone()
    assert row == (FIRST, usd(10_000, 1_000))


def test_sql_callers_get_the_same_running_cost(conn):
    attempt_id = conn.execute("select debugloop.attempt_start('fixer', 'rename a column', 'gpt-4o')").fetchone()[0]
    status, cost = conn.execute(
        "select cost_status, cost_usd from debugloop.attempt_record_usage(%s, %s)", (attempt_id, Jsonb([FIRST, SECOND]))
    ).fetchone()
    assert (status, cost) == ("priced_so_far", usd(14_000, 1_500))
