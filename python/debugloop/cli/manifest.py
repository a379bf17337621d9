"""``debugloop manifest``: what the next agent is told before it runs."""

from __future__ import annotations

from typing import Annotated

import typer

from ..models import Manifest
from .common import AS_JSON, client
from .render import Col, clip, code_pointer, print_code, print_table, say, score, short, table_spec, usd


def manifest(
    problem: Annotated[str, typer.Argument(help="The problem the next agent will work on.")],
    agent: Annotated[str | None, typer.Option(help="The agent's name.")] = None,
    model: Annotated[
        str | None, typer.Option(help="The model it will use (for the estimate and cheaper models).")
    ] = None,
    k: Annotated[int, typer.Option(min=1, max=20, help="Items per section.")] = 5,
    markdown: Annotated[bool, typer.Option("--markdown", help="Print the Markdown block for a prompt.")] = False,
    max_chars: Annotated[int, typer.Option(min=300, help="With --markdown: the size budget in characters.")] = 6000,
    as_json: AS_JSON = False,
) -> None:
    """What the next agent should know before it runs (debugloop.manifest).

    STFs, golden states, approaches that failed, likely errors and their fixes, and
    the cost: rich tables, the JSON document (--json), or the Markdown block for a
    prompt within a size budget (--markdown)."""
    with client() as dl:
        if markdown:
            print(dl.manifest_markdown(problem, agent, model, k, max_chars), end="")
        elif as_json:
            print(dl.manifests.document(problem, agent, model, k))
        else:
            print_manifest(dl.manifest(problem, agent, model, k))


GOLDEN = table_spec(
    "manifest golden states",
    Col("id", lambda g: g.golden_state_id, "id"),
    Col("status", lambda g: g.approval_status, "key", drop=3),
    Col("similarity", lambda g: f"{g.similarity:.2f}", "num", drop=2),
    Col("quality", lambda g: score(g.quality_score), "num", drop=4),
    Col("model", lambda g: g.model_used or "-", "key", drop=1),
    Col("solution", lambda g: g.solution_summary),
    Col("for the problem", lambda g: clip(g.problem, 120), drop=5),
)
STFS = table_spec(
    "manifest stfs",
    Col("id", lambda s: s.stf_id, "id"),
    Col("name", lambda s: s.name),
    Col("language", lambda s: s.language, "key", drop=3),
    Col("status", lambda s: s.approval_status, "key", drop=4),
    Col("confidence", lambda s: score(s.confidence), "num"),
    Col("quality", lambda s: score(s.quality_score), "num", drop=2),
    Col("ok / failed", lambda s: f"{s.success_count} / {s.failure_count}", "num", drop=1),
    Col("uses", lambda s: f"{s.usage_count:,}", "num", drop=5),
    Col("code from", lambda s: "; ".join(code_pointer(x) for x in s.sources) or "-", drop=6),
)
FAILURES = table_spec(
    "manifest known failures",
    Col("approach", lambda f: f.approach or "-"),
    Col("failures", lambda f: f"{f.failures:,}", "num"),
    Col("match", lambda f: f.match, "key", drop=1),
    Col(
        "errors",
        lambda f: "; ".join(clip(f"{e.get('error_type') or 'error'}: {e.get('message') or ''}", 80) for e in f.errors),
    ),
)
FIXES = table_spec(
    "manifest error fixes",
    Col("error", lambda e: clip(f"{e.error_type}: {e.error_pattern}", 90)),
    Col("seen", lambda e: f"{e.seen:,}", "num", drop=2),
    Col("fix", lambda e: e.fix or "(no approach recorded)"),
    Col("confidence", lambda e: score(e.confidence), "num"),
    Col("fixed / failed", lambda e: f"{e.success_count} / {e.failure_count}", "num", drop=1),
)
MODELS = table_spec(
    "manifest models",
    Col("model", lambda x: x[0].model, "key"),
    Col("attempts", lambda x: f"{x[0].attempts:,}", "num", drop=2),
    Col("success rate", lambda x: f"{x[0].success_rate:.0%}", "num"),
    Col("per attempt", lambda x: usd(x[0].avg_cost_usd), "num", drop=1),
    Col("per success", lambda x: usd(x[0].cost_per_success_usd), "num"),
    Col("", lambda x: "cheaper, as good" if x[1] else ""),
)


def print_manifest(m: Manifest) -> None:
    say(f"manifest v{m.manifest_version} for {m.problem!r}: {m.similar_problems} similar problem(s) known")
    if m.golden_states:
        print_table(GOLDEN, m.golden_states, "proven solutions (golden states)")
    if m.stfs:
        print_table(STFS, m.stfs, "reusable functions (STFs)")
        print_code(m.stfs[0].code, m.stfs[0].language, f"{m.stfs[0].name} ({short(m.stfs[0].stf_id)})")
    if m.known_failures:
        print_table(FAILURES, m.known_failures, "approaches that failed here: do not repeat them")
    if m.error_fixes:
        print_table(FIXES, m.error_fixes, "errors you may meet, and what fixed them")
    if m.cost is not None:
        c = m.cost
        if c.estimate is not None:
            say(
                f"estimate with {c.model}: p50 {usd(c.estimate.cost_p50_usd)}, p90 {usd(c.estimate.cost_p90_usd)}"
                f" ({c.estimate.samples} past attempts, {c.estimate.basis})"
            )
        if c.similar_solved is not None:
            say(
                f"similar solved tasks: {c.similar_solved.tasks}, {usd(c.similar_solved.avg_cost_usd)} each on "
                "average, retries included"
            )
        cheaper = {x.model for x in c.cheaper_models}
        if c.models:
            print_table(MODELS, [(x, x.model in cheaper) for x in c.models], "models at similar problems")
    if not (m.golden_states or m.stfs or m.known_failures or m.error_fixes or m.cost):
        say("nothing is known yet about this problem or similar ones")
