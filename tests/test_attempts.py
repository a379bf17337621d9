"""Attempts: start, finish, chains, fingerprints, cost pinning, bad input, the recorder."""

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import psycopg
import pytest

import debugloop
from debugloop.config import Settings
from debugloop.errors import (
    AttemptAlreadyFinished,
    DatabaseError,
    InvalidParameter,
    InvalidUsage,
    NotFound,
    ParentMismatch,
    wrap_exceptions,
)


def _count(conn) -> int:
    return conn.execute("select count(*) from debugloop.debug_execution_attempts").fetchone()[0]


def test_start_and_finish_record_usage_cost_and_duration(dl):
    t0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    attempt_id = dl.attempts.start("fixer", "Fix the failing test", "gpt-4o", agent_type="coder", started_at=t0)
    running = dl.attempts.get(attempt_id)
    assert running.status == "running" and running.cost_status is None and running.completed_at is None
    done = dl.attempts.finish(
        attempt_id,
        "success",
        usage={"prompt_tokens": 2_000, "completion_tokens": 300, "prompt_tokens_details": {"cached_tokens": 1_500}},
        quality_score=0.9,
        completed_at=t0 + timedelta(seconds=12, milliseconds=345),
        artifacts={"files": {"a.py": "print(1)"}},
    )
    assert done.status == "success" and done.duration_ms == 12_345
    assert (done.input_tokens, done.cache_read_tokens, done.output_tokens) == (500, 1_500, 300)
    assert (done.tokens_input, done.tokens_output) == (2_000, 300)
    assert done.cost_status == "priced" and done.cost_usd == Decimal("0.006125")
    assert done.quality_score == Decimal("0.90") and done.artifacts == {"files": {"a.py": "print(1)"}}
    price = dl.prices.lookup("gpt-4o", at=t0)
    assert done.price_catalog_id == price.catalog_id


def test_request_fingerprint_ignores_case_space_numbers_uuids_and_paths(conn):
    def fp(text):
        return conn.execute("select debugloop.util_fingerprint(%s)", (text,)).fetchone()[0]

    a = fp("Fix the bug in /srv/app/main.py at line 42 for user 0b7e0c1e-8a47-4b6e-9f5e-1c2d3e4f5a6b")
    b = fp("fix  the BUG in ~/code/other/main.py at line 7 for user 11111111-2222-3333-4444-555555555555 ")
    c = fp("fix the bug in src/utils/io.py at line 7 for user 11111111-2222-3333-4444-555555555555")
    assert a == b == c
    assert fp("Fix the bug in main.py") != fp("Add a feature to main.py")
    assert len(a) == 64


def test_a_retry_inherits_the_chain_and_the_chain_has_depth_and_cumulative_cost(dl):
    usage = {"input_tokens": 1_000_000, "output_tokens": 0}
    first = dl.attempts.start("fixer", "make the tests pass", "gpt-4o")
    dl.attempts.finish(first, "error", usage=usage, error_type="AssertionError", error_message="1 != 2")
    second = dl.attempts.start("fixer", "make the tests pass", "gpt-4o", parent_attempt_id=first)
    dl.attempts.finish(second, "timeout", usage=usage)
    third = dl.attempts.start("fixer", "make the tests pass", "gpt-4o-mini", parent_attempt_id=second)
    dl.attempts.finish(third, "success", usage=usage)
    chain_id = dl.attempts.get(first).correlation_id
    assert dl.attempts.get(third).correlation_id == chain_id
    chain = dl.attempts.chain(chain_id)
    assert [c.attempt_id for c in chain] == [first, second, third]
    assert [c.depth for c in chain] == [0, 1, 2]
    mini = dl.prices.cost("gpt-4o-mini", usage)
    assert [c.cumulative_cost_usd for c in chain] == [Decimal("2.5"), Decimal("5"), 5 + mini]


def test_an_attempt_keeps_its_price_version_after_a_new_one_is_added(dl, conn):
    usage = {"input_tokens": 1_000_000, "output_tokens": 0}
    old = dl.attempts.start("a", "task", "gpt-4o")
    conn.execute("select debugloop.price_set('openai', 'gpt-4o', 1, 4)")  # effective now
    conn.commit()
    new = dl.attempts.start("a", "task", "gpt-4o")
    old_done, new_done = (
        dl.attempts.finish(old, "success", usage=usage),
        dl.attempts.finish(new, "success", usage=usage),
    )
    assert old_done.cost_usd == Decimal("2.5") and new_done.cost_usd == 1
    assert old_done.price_catalog_id != new_done.price_catalog_id


def test_an_unknown_model_is_recorded_unpriced_and_repriced_later(dl, conn):
    attempt_id = dl.attempts.start("a", "task", "inhouse-coder-7b")
    done = dl.attempts.finish(attempt_id, "success", usage={"input_tokens": 2_000_000, "output_tokens": 0})
    assert done.cost_status == "unpriced" and done.cost_usd is None and done.input_tokens == 2_000_000
    unpriced = conn.execute("select attempt_id from debugloop.v_unpriced_attempts").fetchall()
    assert unpriced == [(attempt_id,)]
    dl.prices.set(
        "local", "inhouse-coder-7b", Decimal("0.1"), Decimal("0.2"), effective_from=done.started_at - timedelta(days=1)
    )
    changed = dl.prices.reprice(done.started_at - timedelta(hours=1))
    assert [(r.attempt_id, r.old_cost_usd, r.new_cost_usd, r.cost_status) for r in changed] == [
        (attempt_id, None, Decimal("0.2"), "priced")
    ]
    assert dl.attempts.get(attempt_id).cost_usd == Decimal("0.2")
    assert dl.prices.reprice(done.started_at - timedelta(hours=1)) == []  # nothing left to do


def test_cost_tracking_off_records_the_attempt_without_cost(db):
    with debugloop.connect(db.url, settings=Settings(enable_cost_tracking=False)) as dl:
        attempt_id = dl.attempts.start("a", "task", "gpt-4o")
        done = dl.attempts.finish(attempt_id, "success", usage={"input_tokens": 10, "output_tokens": 1})
    assert done.cost_status == "untracked" and done.cost_usd is None and done.input_tokens == 10


def test_finish_without_usage_is_no_usage(dl):
    done = dl.attempts.finish(dl.attempts.start("a", "task", "gpt-4o"), "cancelled")
    assert done.cost_status == "no_usage" and done.cost_usd is None and done.input_tokens is None


# -- bad input: its own SQLSTATE, nothing left behind ------------------------------------


def test_finishing_twice_is_attempt_already_finished_and_changes_nothing(dl):
    attempt_id = dl.attempts.start("a", "task", "gpt-4o")
    first = dl.attempts.finish(attempt_id, "success", usage={"input_tokens": 1, "output_tokens": 1})
    with pytest.raises(AttemptAlreadyFinished) as info:
        dl.attempts.finish(attempt_id, "error", error_message="late")
    assert info.value.sqlstate == "DL007" and "success" in info.value.detail
    assert dl.attempts.get(attempt_id) == first


def test_a_parent_in_another_chain_is_parent_mismatch_and_inserts_nothing(dl, conn):
    parent = dl.attempts.start("a", "task", "gpt-4o")
    before = _count(conn)
    with pytest.raises(ParentMismatch) as info:
        dl.attempts.start("a", "task", "gpt-4o", parent_attempt_id=parent, correlation_id=uuid.uuid4())
    assert info.value.sqlstate == "DL008" and info.value.field == "parent_attempt_id"
    with pytest.raises(NotFound) as missing:
        dl.attempts.start("a", "task", "gpt-4o", parent_attempt_id=uuid.uuid4())
    assert missing.value.field == "parent_attempt_id"
    assert _count(conn) == before


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [({"agent_name": " "}, "agent_name"), ({"user_request": ""}, "user_request")],
)
def test_start_rejects_empty_fields(dl, conn, kwargs, field):
    args = {"agent_name": "a", "user_request": "task", "model": "gpt-4o"} | kwargs
    with pytest.raises(InvalidParameter) as info:
        dl.attempts.start(**args)
    assert info.value.field == field and _count(conn) == 0


@pytest.mark.parametrize(
    ("kwargs", "error", "field"),
    [
        ({"status": "done"}, InvalidParameter, "status"),
        ({"status": "success", "quality_score": 1.5}, InvalidParameter, "quality_score"),
        (
            {"status": "success", "completed_at": datetime(2000, 1, 1, tzinfo=UTC)},
            InvalidParameter,
            "completed_at",
        ),
        (
            {
                "status": "success",
                "usage": {"prompt_tokens": 5, "completion_tokens": 1, "prompt_tokens_details": {"cached_tokens": 6}},
            },
            InvalidUsage,
            "usage",
        ),
    ],
)
def test_finish_rejects_bad_input_and_leaves_the_attempt_running(dl, kwargs, error, field):
    attempt_id = dl.attempts.start("a", "task", "gpt-4o")
    status = kwargs.pop("status")
    with pytest.raises(error) as info:
        dl.attempts.finish(attempt_id, status, **kwargs)
    assert info.value.field == field
    after = dl.attempts.get(attempt_id)
    assert after.status == "running" and after.completed_at is None and after.usage_raw is None


def test_finishing_an_unknown_attempt_is_not_found(dl):
    with pytest.raises(NotFound) as info:
        dl.attempts.finish(uuid.uuid4(), "success")
    assert info.value.sqlstate == "DL002" and info.value.field == "attempt_id"


# -- roles -------------------------------------------------------------------------------


def test_agents_record_only_through_the_functions(conn):
    conn.execute("set local role debugloop_agent")
    attempt_id = conn.execute("select debugloop.attempt_start('a', 'task', 'gpt-4o')").fetchone()[0]
    conn.execute("select debugloop.attempt_finish(%s, 'success')", (attempt_id,))
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute("update debugloop.debug_execution_attempts set cost_usd = 0")
    conn.rollback()
    conn.execute("set local role debugloop_agent")
    with pytest.raises(DatabaseError) as info, wrap_exceptions():
        conn.execute("select debugloop.price_set('openai', 'gpt-4o', 0, 0)")
    assert info.value.sqlstate == "42501"


def test_readers_cannot_record(conn):
    conn.execute("set local role debugloop_reader")
    assert conn.execute("select count(*) from debugloop.v_cost_by_model").fetchone()[0] == 0
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute("select debugloop.attempt_start('a', 'task', 'gpt-4o')")


# -- the Python recorder ---------------------------------------------------------------


class FakeOpenAIResponse:
    """Shaped like the OpenAI SDK's ChatCompletion: a pydantic-style model_dump()."""

    def __init__(self, prompt, completion):
        self._data = {
            "id": "chatcmpl-1",
            "model": "gpt-4o",
            "choices": [],
            "usage": {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion},
        }

    def model_dump(self, mode="python"):
        return self._data


def test_recorder_finishes_with_success_and_the_usage_of_every_call(dl):
    with dl.attempt(agent_name="fixer", user_request="rename a variable", model="gpt-4o") as a:
        a.record_usage(FakeOpenAIResponse(1_000, 100))
        a.record_usage({"prompt_tokens": 3_000, "completion_tokens": 200})
        a.quality_score = 0.75
    done = a.result
    assert done.status == "success" and done.attempt_id == a.attempt_id
    assert (done.tokens_input, done.tokens_output) == (4_000, 300)
    assert done.cost_usd == (4_000 * Decimal("2.5") + 300 * 10) / 1_000_000
    assert done.quality_score == Decimal("0.75")


def test_recorder_records_the_exception_and_lets_it_go_on(dl):
    with pytest.raises(KeyError):
        with dl.attempt(agent_name="fixer", user_request="read the config", model="gpt-4o") as a:
            a.record_usage({"prompt_tokens": 10, "completion_tokens": 1})
            {}["user_id"]
    done = dl.attempts.get(a.attempt_id)
    assert done.status == "error" and done.error_type == "KeyError" and done.error_message == "'user_id'"
    assert "Traceback" in done.error_stacktrace and "read the config" not in done.error_stacktrace
    assert done.cost_status == "priced"


def test_recorder_maps_timeouts(dl):
    with pytest.raises(TimeoutError):
        with dl.attempt(agent_name="fixer", user_request="slow", model="gpt-4o") as a:
            raise TimeoutError("model did not answer")
    assert dl.attempts.get(a.attempt_id).status == "timeout"


def test_recorder_rejects_usage_that_cannot_be_json(dl):
    with dl.attempt(agent_name="a", user_request="t", model="gpt-4o") as a:
        with pytest.raises(InvalidParameter, match="usage cannot be sent as JSON"):
            a.record_usage(object.__new__(type("Opaque", (), {"__slots__": ()})))
    assert a.result.status == "success"


# -- estimates and analytics ------------------------------------------------------------


def test_estimates_come_from_the_same_request_first_then_similar_ones(dl):
    for prompt, completion in ((1_000, 100), (2_000, 200), (3_000, 300)):
        dl.attempts.finish(
            dl.attempts.start("a", "Add logging to the payment service", "gpt-4o"),
            "success",
            usage={"prompt_tokens": prompt, "completion_tokens": completion},
        )
    same = dl.prices.estimate_for_request("add logging to the PAYMENT service", "claude-sonnet-4-5")
    assert (same.basis, same.samples, same.input_tokens_p50, same.output_tokens_p50) == ("fingerprint", 3, 2_000, 200)
    assert same.cost_p50_usd == (2_000 * 3 + 200 * 15) / Decimal(1_000_000)
    similar = dl.prices.estimate_for_request("Add logging to the payment service and the refund service", "gpt-4o")
    assert similar.basis == "similar" and similar.samples == 3
    nothing = dl.prices.estimate_for_request("Translate the manual into French", "gpt-4o")
    assert nothing.basis == "none" and nothing.samples == 0 and nothing.cost_p50_usd is None
    # a new attempt at a known request carries the p50 estimate from the start
    started = dl.attempts.get(dl.attempts.start("a", "Add logging to the payment service", "gpt-4o"))
    assert started.estimated_cost_usd == (2_000 * Decimal("2.5") + 200 * 10) / 1_000_000


def test_cost_views_sum_exactly_and_cost_per_success_covers_the_whole_chain(dl):
    usage = {"input_tokens": 1_000_000, "output_tokens": 0}
    first = dl.attempts.start("fixer", "task one", "gpt-4o", problem_category="tests")
    dl.attempts.finish(first, "error", usage=usage)
    second = dl.attempts.start("fixer", "task one", "gpt-4o", parent_attempt_id=first, problem_category="tests")
    dl.attempts.finish(second, "success", usage=usage)
    lone = dl.attempts.start("reviewer", "task two", "mystery-model", problem_category="review")
    dl.attempts.finish(lone, "error", usage=usage)

    by_model = {r.model_used: r for r in dl.analytics.cost_breakdown("model")}
    assert by_model["gpt-4o"].total_cost_usd == 5 and by_model["gpt-4o"].attempts == 2
    assert by_model["mystery-model"].unpriced_attempts == 1 and by_model["mystery-model"].total_cost_usd == 0
    by_agent = {r.agent_name: r for r in dl.analytics.cost_breakdown("agent")}
    assert by_agent["fixer"].successes == 1 and by_agent["fixer"].failures == 1
    solved = dl.analytics.cost_per_success()
    assert [(s.attempts, s.failed_attempts, s.chain_cost_usd, s.fully_priced) for s in solved] == [
        (2, 1, Decimal(5), True)
    ]
    costliest = dl.analytics.costliest_attempts(5)
    assert [c.cost_rank for c in costliest] == [1, 1] and {c.attempt_id for c in costliest} == {first, second}
    with pytest.raises(InvalidParameter):
        dl.analytics.cost_breakdown("colour")


def test_recorder_checks_usage_when_it_is_recorded(dl):
    with dl.attempt(agent_name="a", user_request="t", model="gpt-4o") as a:
        with pytest.raises(InvalidUsage, match="exceed prompt_tokens"):
            a.record_usage({"prompt_tokens": 1, "completion_tokens": 1, "prompt_tokens_details": {"cached_tokens": 2}})
        a.record_usage({"prompt_tokens": 100, "completion_tokens": 10, "batch_size": Decimal("3")})
    assert a.result.status == "success" and a.result.tokens_input == 100


def test_import_with_a_provider_filter_reports_only_that_provider(dl):
    doc = {
        "acme-x": {"litellm_provider": "acme", "input_cost_per_token": 1e-06, "output_cost_per_token": 1e-06},
        "other-y": {"litellm_provider": "other", "input_cost_per_token": 1e-06, "output_cost_per_token": 1e-06},
        "other-image": {"litellm_provider": "other", "mode": "image_generation"},
    }
    rows = dl.prices.import_litellm(doc, "filtered", providers=["acme"])
    assert [(r.provider, r.model_name, r.action) for r in rows] == [("acme", "acme-x", "added")]
