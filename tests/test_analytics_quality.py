"""Analytics against a real PostgreSQL, on a dataset of the seed's test sizes built
from real code and real errors (tests/data): at least 50 STFs of varied quality,
20 error->success mappings, 10 golden states and 5 agent types. The materialized
STF usage view, the quality views and metrics(since) are checked against
independent counts of the tables."""

import json
import statistics
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import psycopg
import pytest

import debugloop
from debugloop.errors import InvalidParameter
from helpers import load_corpus, run_cli

AGENT_TYPES = ("coder", "fixer", "tester", "reviewer", "refactorer")
MODELS = ("gpt-4o", "gpt-4o-mini", "claude-sonnet-4-5")


def build(dl) -> dict:
    """60 tasks, one per corpus function: every other one fails first with a real
    error (a distinct kind each time), then a retry succeeds with the function's
    code. Agents of five types, three models, reported quality 0.5..0.9; the STFs
    are reused with varied outcomes, so their quality varies."""
    functions = load_corpus("stf_corpus_python.jsonl")[:60]
    errors, seen = [], set()
    for e in load_corpus("error_corpus_python.jsonl"):
        if e["group"] not in seen:
            seen.add(e["group"])
            errors.append(e)
    attempts = []
    for i, f in enumerate(functions):
        kind = AGENT_TYPES[i % 5]
        start = {"agent_type": kind, "problem_category": f["category"]}
        parent = None
        if i % 2 == 0:
            e = errors[i // 2]
            parent = dl.attempts.start(
                f"{kind}-{i % 3}", f["problem"], MODELS[i % 3], approach_description=f"first try {i}", **start
            )
            dl.attempts.finish(
                parent,
                "error",
                usage={"prompt_tokens": 4_000 + i, "completion_tokens": 500},
                error_type=e["error_type"],
                error_message=e["message"],
                error_stacktrace=e["stacktrace"],
            )
            attempts.append(parent)
        success = dl.attempts.start(
            f"{kind}-{i % 3}",
            f["problem"],
            MODELS[(i + 1) % 3],
            parent_attempt_id=parent,
            approach_description=f"write {f['name']}",
            **start,
        )
        dl.attempts.finish(
            success,
            "success",
            usage={"prompt_tokens": 3_000 + i, "completion_tokens": 400},
            quality_score=Decimal("0.5") + Decimal(i % 5) / 10,
            artifacts={"files": {f"lib/{f['name']}.py": f["code"]}},
        )
        attempts.append(success)
    # reuse: STF j is reused by j % 6 other tasks, successfully unless j % 3 == 0
    stfs = [stf.stf_id for stf in dl.stfs.list(limit=1000)]
    for j, stf_id in enumerate(sorted(stfs)):
        for n in range(j % 6):
            dl.stfs.record_use(stf_id, attempts[(j * 7 + n * 11) % len(attempts)], j % 3 != 0)
    return {"attempts": attempts}


@pytest.fixture(scope="module")
def dataset(module_db):
    with debugloop.connect(module_db.url) as client:
        built = build(client)
    with psycopg.connect(module_db.url, autocommit=True) as conn:
        yield module_db, conn, built


def count(conn, sql, *args):
    return conn.execute(sql, args).fetchone()[0]


def test_the_dataset_has_the_seed_test_sizes(dataset):
    _, conn, _ = dataset
    qualities = [float(q) for (q,) in conn.execute("select quality_score from debugloop.debug_transform_functions")]
    assert len(qualities) >= 50
    assert max(qualities) - min(qualities) >= 0.2 and statistics.pstdev(qualities) >= 0.05  # varied quality
    assert count(conn, "select count(*) from debugloop.debug_error_success_mappings") >= 20
    assert count(conn, "select count(*) from debugloop.debug_golden_states") >= 10
    assert count(conn, "select count(distinct agent_type) from debugloop.debug_execution_attempts") >= 5


def test_metrics_agree_with_the_tables(dataset):
    db, conn, built = dataset
    with debugloop.connect(db.url) as client:
        golden = client.golden.list(limit=1000)
        client.golden.review(golden[0].golden_state_id, "reject", "dba", "too specific")
        for g in golden[1:4]:
            if g.approval_status == "pending":
                client.golden.review(g.golden_state_id, "approve", "dba")
        metrics = {m.metric: m for m in client.analytics.metrics(datetime.now(UTC) - timedelta(days=1))}
    stfs = count(conn, "select count(*) from debugloop.debug_transform_functions")
    reused = count(conn, "select count(distinct stf_id) from debugloop.debug_stf_uses")
    assert 0 < reused < stfs
    assert metrics["stfs_extracted_per_day"].value == stfs
    assert metrics["stf_reuse_rate"].value == round(Decimal(reused) / stfs, 4)
    assert metrics["golden_states_per_week"].value == count(conn, "select count(*) from debugloop.debug_golden_states")
    assert metrics["mappings_per_day"].value == count(
        conn, "select count(*) from debugloop.debug_error_success_mappings"
    )
    assert metrics["avg_stf_quality"].value == round(
        count(conn, "select avg(quality_score) from debugloop.debug_transform_functions"), 4
    )
    approved, rejected = conn.execute("""select count(*) filter (where approval_status = 'approved'),
                                                count(*) filter (where approval_status = 'rejected')
                                           from debugloop.debug_golden_states""").fetchone()
    assert rejected >= 1 and approved >= 1
    assert metrics["golden_approval_rate"].value == round(Decimal(approved) / (approved + rejected), 4)
    finished = count(conn, "select count(*) from debugloop.debug_execution_attempts where status <> 'running'")
    reusing = count(conn, "select count(distinct attempt_id) from debugloop.debug_stf_uses")
    assert metrics["transformation_reuse_rate"].value == round(Decimal(reusing) / finished, 4)
    top10 = [
        r[0]
        for r in conn.execute(
            "select confidence_score from debugloop.debug_error_success_mappings"
            " order by confidence_score desc limit 10"
        )
    ]
    assert metrics["top10_mapping_confidence"].value == round(sum(top10) / 10, 4)
    assert metrics["stfs_extracted_per_day"].met is True
    assert metrics["stf_reuse_rate"].met is (metrics["stf_reuse_rate"].value > Decimal("0.3"))
    assert metrics["golden_approval_hours_median"].comparison == "<"
    # a week's window divides by seven days
    week = {m.metric: m for m in client_metrics(db, days=7)}
    assert week["stfs_extracted_per_day"].value == round(Decimal(stfs) / 7, 4)


def client_metrics(db, days):
    with debugloop.connect(db.url) as client:
        return client.analytics.metrics(datetime.now(UTC) - timedelta(days=days))


def test_metrics_refuse_a_window_in_the_future(dataset):
    db, _, _ = dataset
    with debugloop.connect(db.url) as client, pytest.raises(InvalidParameter) as info:
        client.analytics.metrics(datetime.now(UTC) + timedelta(hours=1))
    assert info.value.field == "since"


def test_usage_statistics_change_only_when_refreshed(dataset):
    db, conn, built = dataset
    with debugloop.connect(db.url) as client:
        client.analytics.refresh()
        stf_id = count(conn, "select stf_id from debugloop.debug_transform_functions order by stf_id desc limit 1")
        before = conn.execute(
            "select uses, failed_uses from debugloop.mv_stf_usage_stats where stf_id = %s", (stf_id,)
        ).fetchone()
        unused = count(
            conn,
            """select attempt_id from debugloop.debug_execution_attempts a
                                 where not exists (select from debugloop.debug_stf_uses u
                                                    where u.stf_id = %s and u.attempt_id = a.attempt_id) limit 1""",
            stf_id,
        )
        client.stfs.record_use(stf_id, unused, False)
        stale = conn.execute(
            "select uses, failed_uses from debugloop.mv_stf_usage_stats where stf_id = %s", (stf_id,)
        ).fetchone()
        assert stale == before
        (result,) = client.analytics.refresh()
        assert result.view_name == "mv_stf_usage_stats" and result.duration_ms >= 0
        assert result.row_count == count(conn, "select count(*) from debugloop.debug_transform_functions")
        row = conn.execute(
            "select uses, failed_uses from debugloop.mv_stf_usage_stats where stf_id = %s", (stf_id,)
        ).fetchone()
        assert row == (before[0] + 1, before[1] + 1)
        usage = client.analytics.stf_usage(3)
        assert [u.uses for u in usage] == sorted((u.uses for u in usage), reverse=True)


def test_refresh_needs_the_admin_role(dataset):
    db, _, _ = dataset
    with psycopg.connect(db.url, autocommit=True) as c:
        c.execute("set role debugloop_agent")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            c.execute("select * from debugloop.analytics_refresh()")
        c.execute("set role debugloop_reader")
        assert c.execute("select count(*) from debugloop.mv_stf_usage_stats").fetchone()[0] >= 50


def test_quality_views_agree_with_the_tables(dataset):
    db, conn, _ = dataset
    with debugloop.connect(db.url) as client:
        q = client.analytics.quality()
        by_language = client.analytics.stf_quality()
    assert (
        q.stfs
        == count(conn, "select count(*) from debugloop.debug_transform_functions")
        == sum(r.stfs for r in by_language)
    )
    assert q.golden_states == q.golden_approved + q.golden_pending + q.golden_rejected
    assert q.avg_stf_quality == round(
        count(conn, "select avg(quality_score) from debugloop.debug_transform_functions"), 4
    )
    assert q.mappings >= 20 and Decimal("0.1") <= q.top10_mapping_confidence <= 1


def test_cli_reports_quality_and_metrics(dataset):
    db, _, _ = dataset
    env = {"DEBUGLOOP_DATABASE_URL": db.url, "COLUMNS": "200"}
    quality = run_cli("report", "quality", "--refresh", env=env)
    assert quality.returncode == 0, quality.stderr
    assert "refreshed mv_stf_usage_stats" in quality.stderr and "STF quality by language" in quality.stdout
    metrics = run_cli("report", "metrics", "--days", "1", env=env)
    assert metrics.returncode == 0 and "transformation_reuse_rate" in metrics.stdout
    golden = run_cli("golden", "list", "--status", "approved", env=env)
    assert golden.returncode == 0 and "approved" in golden.stdout and "pending" not in golden.stdout
    exported = run_cli("golden", "export", "--format", "json", env=env)
    rows = json.loads(exported.stdout)
    assert len(rows) >= 10 and {"golden_state_id", "nomination_evidence", "solution_summary"} <= set(rows[0])
    csv_out = run_cli("golden", "export", "--format", "csv", "--status", "rejected", env=env)
    assert csv_out.stdout.splitlines()[0].startswith("golden_state_id,")
    first = rows[0]["golden_state_id"]
    shown = run_cli("golden", "show", first[:8], env=env)
    assert shown.returncode == 0 and first in shown.stdout
    search = run_cli("golden", "search", rows[0]["problem_description"], env=env)
    assert search.returncode == 0 and first[:8] in search.stdout
    bad = run_cli("golden", "show", "xyz", env=env)
    assert bad.returncode == 1 and "golden_state_id" in bad.stderr and "Traceback" not in bad.stderr
