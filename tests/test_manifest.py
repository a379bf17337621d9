"""The manifest against a real PostgreSQL: the loop fail -> success with code
yields an STF, a mapping and a golden state, and the manifest for a paraphrase of
the request lists each; each feature flag removes its part and nothing else; the
Markdown rendering keeps to its budget; the CLI prints it."""

import json

import pytest

import debugloop
from debugloop.errors import InvalidParameter
from helpers import CODE, FIX, PARAPHRASE, REQUEST, run_cli

FAILED_APPROACH = "split each line on commas by hand"


def loop(client, peers=()):
    """Three tasks: gpt-4o fails with a KeyError, a retry with gpt-4o-mini succeeds
    with code; then the manifest for a paraphrase, for gpt-4o. The tasks after the
    first are recorded by ``peers`` (clients of other roles) when given."""
    for dl in [client, *peers, client, client][:3]:
        failed = dl.attempts.start("fixer", REQUEST, "gpt-4o", approach_description=FAILED_APPROACH, agent_type="coder")
        dl.attempts.finish(
            failed,
            "error",
            usage={"prompt_tokens": 3_000, "completion_tokens": 400},
            error_type="KeyError",
            error_message="'amount'",
        )
        fixed = dl.attempts.start("fixer", REQUEST, "gpt-4o-mini", parent_attempt_id=failed, approach_description=FIX)
        dl.attempts.finish(
            fixed,
            "success",
            usage={"prompt_tokens": 2_500, "completion_tokens": 300},
            quality_score=0.95,
            artifacts={"files": {"billing/invoice.py": CODE}},
        )
    return client.manifest(PARAPHRASE, agent_name="fixer", model="gpt-4o")


def test_the_loop_yields_an_stf_a_mapping_and_a_golden_state_and_the_manifest_lists_them(dl, conn, as_role):
    # the golden state is approved by the successes of two other peers
    manifest = loop(dl, [as_role("peer_b", "debugloop_agent"), as_role("peer_c", "debugloop_agent")])
    (stf_id,) = conn.execute("select stf_id from debugloop.debug_transform_functions").fetchone()
    (mapping_id,) = conn.execute("select mapping_id from debugloop.debug_error_success_mappings").fetchone()
    (golden_id,) = conn.execute("select golden_state_id from debugloop.debug_golden_states").fetchone()
    assert manifest.manifest_version == 1 and manifest.problem == PARAPHRASE and manifest.similar_problems == 1

    (stf,) = manifest.stfs
    assert (stf.stf_id, stf.name, stf.code, stf.success_count, stf.failure_count) == (
        stf_id,
        "invoice_total",
        CODE,
        3,
        0,
    )
    assert 0 < stf.confidence <= 1

    (golden,) = manifest.golden_states
    assert (golden.golden_state_id, golden.solution_summary, golden.model_used) == (golden_id, FIX, "gpt-4o-mini")
    assert golden.approval_status == "approved" and golden.stf_ids == [stf_id]

    (failure,) = manifest.known_failures
    assert (failure.approach, failure.failures, failure.match) == (FAILED_APPROACH, 3, "similar request")
    assert failure.errors[0]["error_type"] == "KeyError" and failure.errors[0]["count"] == 3

    (fix,) = manifest.error_fixes
    assert (fix.mapping_id, fix.fix, fix.error_type, fix.seen, fix.success_count) == (mapping_id, FIX, "KeyError", 3, 3)

    cost = manifest.cost
    assert cost.estimate.basis == "similar" and cost.estimate.samples == 6
    assert cost.estimate.cost_p50_usd <= cost.estimate.cost_p90_usd
    mini_cost = (2_500 * 0.15 + 300 * 0.6) / 1e6
    assert cost.similar_solved.tasks == 3
    (cheaper,) = cost.cheaper_models
    assert (cheaper.model, cheaper.success_rate, cheaper.attempts) == ("gpt-4o-mini", 1, 3)
    assert float(cheaper.avg_cost_usd) == pytest.approx(mini_cost, abs=1e-12)
    assert manifest.agent.attempts == 6 and manifest.agent.successes == 3


def _content(manifest) -> dict:
    """What each section says, without ids, times and the costs that the cost flag governs."""
    return {
        "stfs": [(s.name, s.code, s.success_count) for s in manifest.stfs],
        "golden_states": [(g.solution_summary, g.approval_status, g.quality_score) for g in manifest.golden_states],
        "known_failures": [(f.approach, f.failures, f.match) for f in manifest.known_failures],
        "error_fixes": [(f.fix, f.error_pattern, f.seen, f.success_count) for f in manifest.error_fixes],
        "cost": manifest.cost is not None,
        "agent": (manifest.agent.attempts, manifest.agent.successes),
    }


@pytest.fixture(scope="module")
def all_on(module_db):
    with debugloop.connect(module_db.url) as client:
        return _content(loop(client))


@pytest.mark.parametrize(
    "flag, section",
    [
        ("enable_stf_extraction", "stfs"),
        ("enable_golden_states", "golden_states"),
        ("enable_cost_tracking", "cost"),
    ],
)
def test_each_flag_off_removes_its_part_and_nothing_else(db, monkeypatch, all_on, flag, section):
    monkeypatch.setenv(f"DEBUGLOOP_{flag.upper()}", "false")
    with debugloop.connect(db.url) as client:
        content = _content(loop(client))
    assert all_on[section] and not content[section]
    assert {k: v for k, v in content.items() if k != section} == {k: v for k, v in all_on.items() if k != section}


def test_a_problem_nothing_is_known_about_has_no_sections(dl):
    loop(dl)
    manifest = dl.manifest("Translate the user manual into French", model="gpt-4o")
    assert manifest.similar_problems == 0
    assert (manifest.stfs, manifest.golden_states, manifest.known_failures, manifest.error_fixes) == ([], [], [], [])
    assert manifest.cost is None and manifest.agent is None
    markdown = dl.manifest_markdown("Translate the user manual into French")
    assert "Nothing is known yet" in markdown and "##" not in markdown


def test_bad_arguments_are_named(dl):
    for kwargs, field in (
        ({"problem": " "}, "problem"),
        ({"problem": "x", "k": 0}, "k"),
        ({"problem": "x", "k": 21}, "k"),
    ):
        with pytest.raises(InvalidParameter) as info:
            dl.manifest(**kwargs)
        assert info.value.field == field
    with pytest.raises(InvalidParameter) as info:
        dl.manifest_markdown("x", max_chars=299)
    assert info.value.field == "max_chars"


def test_markdown_renders_every_section_and_keeps_to_its_budget(dl):
    loop(dl)
    full = dl.manifest_markdown(PARAPHRASE, model="gpt-4o")
    for text in (
        "golden states",
        FIX,
        "invoice_total",
        "def invoice_total(rows, tax_rate):",
        FAILED_APPROACH,
        "KeyError: 'amount'",
        "Estimate with gpt-4o",
        "gpt-4o-mini (100% success",
    ):
        assert text in full
    assert "left out" not in full
    lengths = []
    for budget in (300, 600, 900, 1_200):
        text = dl.manifest_markdown(PARAPHRASE, model="gpt-4o", max_chars=budget)
        assert len(text) <= budget
        lengths.append(len(text))
        assert ("left out" in text) == (text != full)
    assert lengths == sorted(lengths) and lengths[0] < lengths[-1]
    # the STF's code goes before its line when the budget is tight
    tight = dl.manifest_markdown(PARAPHRASE, model="gpt-4o", max_chars=900)
    assert "invoice_total" in tight and "def invoice_total" not in tight


def test_cli_prints_the_manifest_as_rich_json_and_markdown(dl, db):
    loop(dl)
    env = {"DEBUGLOOP_DATABASE_URL": db.url, "COLUMNS": "200"}
    shown = run_cli("manifest", PARAPHRASE, "--model", "gpt-4o", env=env)
    assert shown.returncode == 0, shown.stderr
    for text in ("invoice_total", FIX, FAILED_APPROACH, "gpt-4o-mini"):
        assert text in shown.stdout
    as_json = run_cli("manifest", PARAPHRASE, "--json", env=env)
    assert json.loads(as_json.stdout)["stfs"][0]["name"] == "invoice_total"
    markdown = run_cli("manifest", PARAPHRASE, "--markdown", "--max-chars", "700", env=env)
    assert markdown.returncode == 0 and len(markdown.stdout.rstrip("\n")) <= 700
    bad = run_cli("manifest", " ", env=env)
    assert bad.returncode != 0 and "problem" in bad.stderr and "Traceback" not in bad.stderr
