"""Learning taken out of the insert transaction (issue 17): an import queues what
its attempts teach (STFs, golden states) and learn_pending does it later, in
batches. The queued path gives the rows the single-row path gives (attempts,
mappings, STFs and their provenance and scores, golden states); a drainer killed
with SIGKILL in the middle of a batch loses nothing; rows another drainer holds
are skipped, and attempts are learned in the order they were queued."""

import json
import logging
import signal
import subprocess
import sys
import textwrap
import time
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

import debugloop
from debugloop.errors import InvalidLearnBatch
from helpers import (
    CODE,
    FIX,
    REPO,
    REQUEST,
    relay_process,
    relay_thread,
    run_cli,
    settings_for,
    terminate_backends,
    wait_until,
)

LOGS = REPO / "examples" / "agent-logs" / "claude-code"
USAGE = {"prompt_tokens": 2_000, "completion_tokens": 300}


def learned(conn) -> dict[str, list]:
    """What an import recorded and learned, by the logs' own keys (ids differ between databases)."""
    queries = {
        "attempts": """select i.unit_key, a.status, a.cost_usd, a.input_tokens, a.output_tokens, a.error_signature,
                              p.unit_key
                         from debugloop.debug_import_units i join debugloop.debug_execution_attempts a using (attempt_id)
                         left join debugloop.debug_import_units p on p.attempt_id = a.parent_attempt_id""",
        "mappings": """select m.signature, m.approach_key like 'attempt:%%', m.success_count, m.failure_count,
                              m.confidence_score, i.unit_key
                         from debugloop.debug_error_success_mappings m
                         join debugloop.debug_import_units i on i.attempt_id = m.successful_attempt_id""",
        "stfs": """select f.stf_hash, f.stf_name, f.stf_language, f.success_count, f.failure_count, f.evidence_score,
                          f.reuse_score, f.generality_score, f.documentation_score, f.size_score, f.complexity_score,
                          f.quality_score, f.contributor_agent_name, i.unit_key
                     from debugloop.debug_transform_functions f
                     left join debugloop.debug_import_units i on i.attempt_id = f.source_execution_id""",
        "provenance": """select f.stf_hash, i.unit_key, p.contributor
                           from debugloop.debug_stf_provenance p
                           join debugloop.debug_transform_functions f using (stf_id)
                           left join debugloop.debug_import_units i on i.attempt_id = p.attempt_id""",
        "golden": """select coalesce(i.unit_key, a.user_request), g.nomination, g.approval_status, g.approved_by,
                            cardinality(g.stf_ids)
                       from debugloop.debug_golden_states g
                       join debugloop.debug_execution_attempts a on a.attempt_id = g.execution_attempt_id
                       left join debugloop.debug_import_units i on i.attempt_id = g.execution_attempt_id""",
        "seen": "select code_md5, language, lines, stf_id is not null from debugloop.debug_stf_seen_code",
    }
    return {name: sorted(conn.execute(q).fetchall(), key=repr) for name, q in queries.items()}


def queued(conn) -> int:
    return conn.execute("select debugloop.learn_queued()").fetchone()[0]


@pytest.fixture
def reference(module_db):
    """The bundled Claude Code logs imported by the single-row path (learning in the
    insert transaction), in a database of their own."""
    with psycopg.connect(module_db.url, autocommit=True) as c:
        if not c.execute("select exists (select from debugloop.debug_import_units)").fetchone()[0]:
            c.execute("alter database " + module_db.name + " set debugloop.import_defer_learning = off")
            with debugloop.connect(module_db.url) as dl:
                dl.imports.run("claude-code", [LOGS])
            assert queued(c) == 0
        return learned(c)


def test_the_queued_path_learns_what_the_single_row_path_learns(dl, conn, reference):
    result = dl.imports.run("claude-code", [LOGS], learn=False)
    assert result.inserted and result.learned == 0
    waiting = queued(conn)
    assert waiting > 0
    before = learned(conn)
    assert before["attempts"] == reference["attempts"] and before["mappings"] == reference["mappings"]
    assert before["stfs"] == [] and reference["stfs"]  # nothing learned yet, and something to learn
    assert dl.learning.drain_all(max_rows=7) == waiting  # small batches: an STF rescored in many
    assert queued(conn) == 0
    assert learned(conn) == reference


def test_an_import_learns_on_a_second_connection_before_it_returns(dl, conn, reference):
    seen = []
    result = dl.imports.run("claude-code", [LOGS], learning=lambda done, total: seen.append((done, total)))
    assert queued(conn) == 0 and result.learned > 0
    assert seen and seen[-1] == (result.learned, result.learned)
    assert learned(conn) == reference


def test_a_drainer_killed_in_the_middle_of_a_batch_loses_nothing(db, dl, conn, reference):
    dl.imports.run("claude-code", [LOGS], learn=False)
    waiting = queued(conn)
    conn.commit()
    drainer = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(
                """
                import sys, time, psycopg
                with psycopg.connect(sys.argv[1]) as c:
                    print(c.execute("select debugloop.learn_pending(5)").fetchone()[0], flush=True)
                    time.sleep(120)  # killed here, its transaction open
                """
            ),
            db.url,
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert int(drainer.stdout.readline()) == 5
        # another drainer skips the rows held and waits for them: attempts are learned in order
        with debugloop.connect(db.url) as other:
            assert other.learning.drain() == 0
        assert queued(conn) == waiting
        assert learned(conn)["stfs"] == []  # what it learned is not seen before it commits
        conn.commit()
    finally:
        drainer.kill()  # SIGKILL
        drainer.wait()
        drainer.stdout.close()
    deadline = time.monotonic() + 30
    while conn.execute(
        "select count(*) from pg_stat_activity where datname = current_database() and state like 'idle in transaction%%'"
    ).fetchone()[0]:
        conn.commit()
        assert time.monotonic() < deadline, "the killed drainer's transaction is still open"
        time.sleep(0.05)
    conn.commit()
    # its five rows were not learned and are queued again: a restarted drainer learns everything
    assert queued(conn) == waiting
    assert dl.learning.drain_all() == waiting
    assert queued(conn) == 0
    assert learned(conn) == reference


def scenario(dl, c):
    """A failure, its fixing retry (with code and a quality score: nominated), a
    later failure withdrawing the nomination, and the same code written again in
    another task without a quality score; all on connection ``c`` (one
    transaction: the times are given, a minute apart)."""
    at = iter(datetime.now(UTC) - timedelta(hours=1) + timedelta(minutes=i) for i in range(20))

    def attempt(request, status, approach, parent=None, **finish):
        attempt_id = dl.attempts.start(
            "fixer",
            request,
            "gpt-4o-mini",
            parent_attempt_id=parent,
            approach_description=approach,
            started_at=next(at),
            conn=c,
        )
        dl.attempts.finish(attempt_id, status, usage=USAGE, completed_at=next(at), conn=c, **finish)
        return attempt_id

    failed = attempt(REQUEST, "error", "split on commas", error_type="KeyError", error_message="'amount'")
    fixed = attempt(
        REQUEST, "success", FIX, failed, quality_score=0.95, artifacts={"files": {"billing/invoice.py": CODE}}
    )
    attempt(REQUEST, "error", "the tests found a bug", fixed, error_type="KeyError", error_message="'tax'")
    attempt("Total the invoices", "success", "csv", artifacts={"files": {"billing/total.py": CODE}})


def test_learning_queued_by_any_client_is_what_is_learned_at_once(dl, conn):
    """Golden states are weighed at once, and an attempt with a quality score has
    its STFs at once (its golden state lists them); one without is queued."""
    with dl.connection() as c:
        scenario(dl, c)
        expected = learned(c)
        raise psycopg.Rollback()  # the same scenario again below, its learning queued
    assert [r[1:5] for r in expected["golden"]] == [("automatic", "rejected", "debugloop", 1)]
    assert [r[3] for r in expected["stfs"]] == [2]  # one STF, two successes
    with dl.connection() as c:
        c.execute("set local debugloop.learn_deferred = on")  # what import_units sets
        scenario(dl, c)
    assert queued(conn) == 1
    assert [r[3] for r in learned(conn)["stfs"]] == [1]
    conn.commit()
    assert dl.learning.drain() == 1
    assert learned(conn) == expected


def test_learn_pending_refuses_a_batch_out_of_range(dl, conn):
    for bad in (0, -1, 100_001, None):
        with pytest.raises(InvalidLearnBatch) as info:
            dl.learning.drain(bad)
        assert info.value.field == "max_rows"
    assert dl.learning.drain(1) == 0 and dl.learning.queued() == 0


def test_debugloop_learn_drains_what_an_import_left_queued(db, dl, conn):
    dl.imports.run("claude-code", [LOGS], learn=False)
    waiting = queued(conn)
    conn.commit()
    done = run_cli("learn", "--max-rows", "3", "--json", env={"DEBUGLOOP_DATABASE_URL": db.url})
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"learned": waiting, "queued": 0}


def _learning_now(url) -> bool:
    """Whether the relay's learn connection is inside a learn_pending call."""
    with psycopg.connect(url) as c:
        return c.execute(
            "select exists (select from pg_stat_activity where application_name = 'debugloop-relay-learn'"
            " and state = 'active' and query like '%%learn_pending%%')"
        ).fetchone()[0]


def test_the_relay_drains_the_learn_queue_and_a_kill_9_mid_batch_loses_nothing(
    db, dl, conn, reference, kafka_bootstrap, tmp_path
):
    """One service: the relay learns what an import queued, between its outbox
    batches. Killed (SIGKILL) in the middle of a learn batch and started again, it
    learns every queued attempt once: the rows learned are what the single-row path
    learns, no more (nothing twice) and no less (nothing lost)."""
    dl.imports.run("claude-code", [LOGS], learn=False)
    waiting = queued(conn)
    conn.commit()
    settings = settings_for(kafka_bootstrap)
    log = (tmp_path / "relay.log").open("w")
    first = relay_process(settings, db.url, log, relay_learn_rows=2)  # a batch of at most 2: some are left
    try:
        wait_until(lambda: 4 < queued(conn) < waiting and _learning_now(db.url), "the relay in a learn batch")
        first.kill()
        first.wait()
        conn.commit()
        wait_until(lambda: not _learning_now(db.url), "the killed relay's learn batch ended")
        left = queued(conn)
        conn.commit()
        assert 0 < left < waiting
        second = relay_process(settings, db.url, log, relay_learn_rows=2)
        wait_until(lambda: queued(conn) == 0, "the restarted relay drained the queue", 120)
        second.send_signal(signal.SIGTERM)
        assert second.wait(timeout=60) == 0
    finally:
        for proc in (first, locals().get("second")):
            if proc is not None and proc.poll() is None:
                proc.kill()
                proc.wait()
        log.close()
    conn.commit()
    assert learned(conn) == reference
    text = (tmp_path / "relay.log").read_text()
    assert "Traceback" not in text and text.strip().splitlines()[-1].split("debugloop relay: ")[-1].startswith(
        "relay stopped"
    )


def test_the_relay_waits_out_an_outage_of_its_learn_connection_in_one_line(
    db, dl, conn, reference, kafka_bootstrap, caplog
):
    dl.imports.run("claude-code", [LOGS], learn=False)
    conn.commit()
    caplog.set_level(logging.INFO, logger="debugloop.relay")
    settings = settings_for(kafka_bootstrap, relay_learn_rows=2)

    def lines(start):
        return [
            r.getMessage() for r in caplog.records if r.name == "debugloop.relay" and r.getMessage().startswith(start)
        ]

    with relay_thread(settings, db.url) as relay:
        wait_until(lambda: relay.stats.learned > 0, "the relay learning")
        assert terminate_backends(db.url, "debugloop-relay-learn") == 1
        wait_until(lambda: lines("database (learn queue) back after"), "the learn connection back")
        wait_until(lambda: queued(conn) == 0, "the queue drained", 120)
    assert len(lines("database (learn queue) unavailable")) == 1 and not lines("database unavailable")
    conn.commit()
    assert learned(conn) == reference
