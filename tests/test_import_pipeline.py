"""The import's faster path (issue 17) against the plain one: the parsing thread
hands the batches over in order, and STF extraction from the caches
(debug_stf_seen_code, debug_stf_code_stats) gives what extraction without them
gives, on the bundled Claude Code logs."""

from pathlib import Path

import pytest

from debugloop.importers import _Pipeline
from helpers import REPO

LOGS = REPO / "examples" / "agent-logs" / "claude-code"


def produce(path: Path):
    name = path.name
    if name == "broken":
        yield f"{name}:1"
        raise OSError("cannot read it")
    for i in range(1, 4):
        yield f"{name}:{i}"


def test_the_pipeline_hands_over_each_file_in_order_and_an_error_in_its_place():
    files = [Path("a"), Path("broken"), Path("c"), Path("d")]
    pipeline = _Pipeline(produce, files)
    try:
        assert list(pipeline.of(files[0])) == ["a:1", "a:2", "a:3"]
        got = []
        with pytest.raises(OSError, match="cannot read it"):
            for item in pipeline.of(files[1]):
                got.append(item)
        assert got == ["broken:1"]
        # the caller stops early (recording failed): the rest of the file is dropped
        for item in pipeline.of(files[2]):
            assert item == "c:1"
            break
        assert list(pipeline.of(files[3])) == ["d:1", "d:2", "d:3"]
    finally:
        pipeline.close()


def test_closing_the_pipeline_early_stops_its_thread():
    files = [Path(f"f{i}") for i in range(50)]
    pipeline = _Pipeline(produce, files)
    assert next(iter(pipeline.of(files[0]))) == "f0:1"
    pipeline.close()
    assert not pipeline._thread.is_alive()


def extraction(conn):
    """stf_extract of every imported successful attempt with artefacts, in a
    transaction rolled back: what it would register, attempt by attempt."""
    rows = conn.execute(
        """select a.attempt_id, e.name, e.language, e.action, e.stf_id, e.detail
             from debugloop.debug_import_units i
             join debugloop.debug_execution_attempts a using (attempt_id)
             cross join lateral debugloop.stf_extract(a.attempt_id) e
            where a.status = 'success' and a.artifacts is not null
            order by 1, 2, 3, 4, 5, 6"""
    ).fetchall()
    conn.rollback()
    return rows


def test_the_bundled_logs_extract_the_same_stfs_with_and_without_the_caches(dl, conn):
    dl.imports.run("claude-code", [LOGS])
    stfs = conn.execute(
        "select stf_id, stf_hash, success_count, evidence_score, reuse_score, generality_score, documentation_score,"
        " size_score, complexity_score, quality_score from debugloop.debug_transform_functions order by 1"
    ).fetchall()
    assert stfs
    assert conn.execute("select count(*) from debugloop.debug_stf_seen_code where stf_id is not null").fetchone()[0]

    cached = extraction(conn)
    assert {r[3] for r in cached} >= {"deduplicated"}
    conn.execute("delete from debugloop.debug_stf_seen_code")
    conn.execute("delete from debugloop.debug_stf_code_stats")
    assert extraction(conn) == cached

    # the scores kept are those computed from the code itself
    conn.execute("delete from debugloop.debug_stf_code_stats")
    conn.execute("select debugloop._stf_rescore(stf_id) from debugloop.debug_transform_functions")
    again = conn.execute(
        "select stf_id, stf_hash, success_count, evidence_score, reuse_score, generality_score, documentation_score,"
        " size_score, complexity_score, quality_score from debugloop.debug_transform_functions order by 1"
    ).fetchall()
    conn.rollback()
    assert again == stfs
