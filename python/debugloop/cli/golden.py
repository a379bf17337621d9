"""``debugloop golden``: golden states (proven solutions)."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from .common import AS_CSV, AS_JSON, LIMIT, client, group
from .render import (
    Col,
    ExportFormat,
    clip,
    emit,
    emit_document,
    export,
    print_code,
    print_table,
    say,
    score,
    short,
    table_spec,
    usd,
    when,
)
from .review import Reviewable, add_review_commands
from .stf import EXPORT_FORMAT, EXPORT_OUTPUT, stf_document

app = group("Golden states (proven solutions): list, search, show, approve, reject, reopen, export.")

STATUS = Annotated[str | None, typer.Option(help="pending, approved or rejected.")]

GOLDEN = table_spec(
    "golden list",
    Col("id", lambda g: g.golden_state_id, "id"),
    Col("status", lambda g: g.approval_status, "key"),
    Col("nominated", lambda g: g.nomination, "key", drop=4),
    Col("quality", lambda g: score(g.quality_score), "num"),
    Col("model", lambda g: g.model_used or "-", "key", drop=2),
    Col("agent", lambda g: g.agent_name or "-", drop=5),
    Col("cost", lambda g: usd(g.cost_usd), "num", drop=3),
    Col("reused", lambda g: f"{g.reuse_success_count}/{g.reuse_count}", "num", drop=1),
    Col("solution", lambda g: clip(g.solution_summary, 120)),
    Col("problem", lambda g: clip(g.problem_description, 120), drop=6),
)


@app.command("list")
def list_golden(status: STATUS = None, limit: LIMIT = 50, as_json: AS_JSON = False, as_csv: AS_CSV = False) -> None:
    """Golden states, newest first, with status, quality, model, cost and reuse."""
    with client() as dl:
        rows = dl.golden.list(status=status, limit=limit)
    emit(GOLDEN, rows, as_json=as_json, as_csv=as_csv, empty="no golden state matches")


MATCHES = table_spec(
    "golden search",
    Col("id", lambda g: g.golden_state_id, "id"),
    Col("status", lambda g: g.approval_status, "key"),
    Col("similarity", lambda g: f"{g.similarity:.2f}", "num", drop=1),
    Col("score", lambda g: f"{g.score:.3f}", "num"),
    Col("quality", lambda g: score(g.quality_score), "num", drop=3),
    Col("model", lambda g: g.model_used or "-", "key", drop=2),
    Col("solution", lambda g: clip(g.solution_summary, 120)),
    Col("problem", lambda g: clip(g.problem_description, 120), drop=4),
)


@app.command("search")
def search(
    problem: Annotated[str, typer.Argument(help="The problem in words.")],
    k: Annotated[int, typer.Option(min=1, max=100, help="How many golden states.")] = 5,
    approved_only: Annotated[bool, typer.Option("--approved-only", help="Only approved golden states.")] = False,
    as_json: AS_JSON = False,
    as_csv: AS_CSV = False,
) -> None:
    """Golden states for problems like this one, best first (debugloop.golden_match)."""
    with client() as dl:
        found = dl.golden.match(problem, k=k, approved_only=approved_only)
    emit(MATCHES, found, as_json=as_json, as_csv=as_csv, empty="no golden state for a problem like this one")


def _reviewer(review) -> str:
    """Who decided: the database role (debugloop, automatically), and the person it
    named, unverified."""
    who = f"{review.reviewed_by} (automatic)" if review.automatic else review.reviewed_by
    return f"{who} for {review.on_behalf_of}" if review.on_behalf_of else who


REVIEWS = table_spec(
    "golden show reviews",
    Col("when", lambda r: when(r.reviewed_at), "time"),
    Col("decision", lambda r: r.decision, "key"),
    Col("by", _reviewer),
    Col("notes", lambda r: r.notes or ""),
)


@app.command("show")
def show(
    golden_state_id: Annotated[
        str, typer.Argument(help="A golden state id, or its first 8+ hex digits as `golden list` prints them.")
    ],
    as_json: AS_JSON = False,
) -> None:
    """One golden state: the problem, the solution, its evidence, reviews and STFs."""
    with client() as dl:
        g = dl.golden.get(golden_state_id)
        reviews = dl.golden.reviews(g.golden_state_id)
        stfs = [dl.stfs.get(stf_id) for stf_id in g.stf_ids]

    def text() -> None:
        say(
            f"golden state {g.golden_state_id} ({g.approval_status}, nominated {g.nomination}ly"
            f" by {g.nominated_by or '-'} on {when(g.nominated_at)})"
        )
        say(f"problem: {g.problem_description}")
        say(f"solution: {g.solution_summary}")
        say(
            f"attempt {g.execution_attempt_id} by {g.agent_name or '-'} with {g.model_used or '-'}, cost {usd(g.cost_usd)};"
            f" tools {json.dumps(g.tools_used) if g.tools_used else '-'}"
        )
        say(
            f"quality {score(g.quality_score)}, complexity {score(g.complexity_score)}, reusability "
            f"{score(g.reusability_score)}; reused {g.reuse_count} times, {g.reuse_success_count} succeeded"
        )
        if g.nomination_evidence:
            e = g.nomination_evidence
            say(
                f"evidence: quality {e.get('quality')}, cost ratio {e.get('cost_ratio')} of {e.get('cost_samples')} "
                f"similar successes, {e.get('independent_successes')} independent successes, "
                f"{e.get('later_failures')} later failures"
            )
            for reason in e.get("reasons") or []:
                say(f"  - {reason}")
        if reviews:
            print_table(REVIEWS, reviews, "reviews")
        else:
            say("not reviewed yet")
        for stf in stfs:
            print_code(stf.stf_code, stf.stf_language, f"STF {stf.stf_name} ({short(stf.stf_id)})")

    document = {
        **g.model_dump(exclude={"embedding"}),
        "reviews": reviews,
        "stfs": [stf_document(s) for s in stfs],
    }
    emit_document(document, as_json, text)


add_review_commands(
    app,
    Reviewable(
        noun="golden state",
        manager=lambda dl: dl.golden,
        id_of=lambda g: g.golden_state_id,
        label=lambda g: f"golden state {g.golden_state_id}",
        list_command="golden list",
        reject=": no manifest offers it",
    ),
)


@app.command("export")
def export_golden(
    format: EXPORT_FORMAT = ExportFormat.json, output: EXPORT_OUTPUT = None, status: STATUS = None
) -> None:
    """Every golden state with its evidence, oldest first."""
    with client() as dl:
        export(dl.golden.export(status=status), format, output, "golden state(s)")
