"""``debugloop demo``: the main job end to end, on a database of the demo's own.

The demo recreates its database (``debugloop_demo`` by default) on the configured
server on every run, so that a second run shows the same thing as the first and
the user's own database is never written to."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from typing import Annotated
from uuid import UUID

import typer

from .. import db, hookd
from ..client import Client
from ..config import load_settings
from ..embedded import EmbeddedServer
from ..paths import example_logs
from . import demo_data as data
from .attempts import CHAIN
from .db import print_components, run_migrate
from .errors import FAILURES, FIXES
from .golden import GOLDEN
from .imports import SESSIONS, print_import
from .manifest import print_manifest
from .render import Col, out, print_table, say, score, short, table_spec, usd
from .report import print_costs, print_metrics, print_quality
from .stf import SUMMARIES, print_matches

DEMO_DATABASE = "debugloop_demo"


def step(number: int, title: str) -> None:
    out.print(f"[bold]{number}. {title}[/]", highlight=False)


def demo(
    database: Annotated[
        str, typer.Option(help="The demo's own database, dropped and created again on every run.")
    ] = DEMO_DATABASE,
) -> None:
    """Record a team of agents at work and show what the next agent is told.

    Sets up the database, records attempts, errors, fixes, STFs and golden states,
    prints the manifest for a new problem, imports the bundled agent logs, and ends
    with the cost and quality reports. Runs in a database of its own, created
    afresh on every run: your own data is not touched."""
    settings = load_settings()
    if settings.database_url is None:
        status, started = EmbeddedServer(settings.home).up()
        server = f"embedded PostgreSQL {'started' if started else 'already running'} (port {status.port})"
    else:
        server = f"the server of {db.ENV_URL}"
    target = db.recreate_database(db.resolve(settings), database, settings)
    step(1, "database")
    say(f"{server}: database {database} created afresh for the demo; your own database is not touched")
    step(2, "migrate")
    run_migrate(target.conninfo, target.source)
    step(3, "what is installed")
    with Client(target, settings) as dl:
        print_components(dl)
        api = dl.meta.api()
        say(
            f"the SQL API: {sum(e.kind == 'function' for e in api)} functions and {sum(e.kind == 'view' for e in api)}"
            " views in schema debugloop; `debugloop db info` lists them"
        )
        step(4, "attempts and their exact cost")
        retry_id = _attempts(dl)
        step(5, "what the next agent learns from it")
        _errors(dl)
        step(6, "the code that worked, ready for reuse")
        _stfs(dl, retry_id)
        step(7, "a team of agents at work")
        _team(dl)
        step(8, "the manifest for a new, similar problem: what the next agent is told")
        print_manifest(dl.manifest(data.MANIFEST_PROBLEM, "demo-newcomer", "claude-sonnet-4-5"))
        out.rule("the same, as a prompt block (debugloop manifest --markdown --max-chars 2500)", align="left")
        say(dl.manifest_markdown(data.MANIFEST_PROBLEM, "demo-newcomer", "claude-sonnet-4-5", max_chars=2500))
        out.rule()
        step(9, "learning from the logs agents already write (debugloop import claude-code|swe-agent|openhands)")
        _imports(dl)
        step(10, "the loop closes by itself: Claude Code's hooks (debugloop hooks install)")
        _hooks(target)
        step(11, "cost and quality reports")
        dl.analytics.refresh()
        print_quality(dl, 5)
        print_metrics(dl, 1)
        print_costs(dl, "model", 3)
    say(
        f"the demo's data stays in database {database}: DEBUGLOOP_DATABASE_URL='{target.conninfo}' debugloop attempts list"
    )
    say('more: debugloop manifest "..." --markdown, debugloop golden list, debugloop report quality|metrics|costs')


DEMO_PRICES = table_spec(
    "demo prices",
    Col("provider", lambda p: p.provider, "key"),
    Col("model", lambda p: p.model_name, "key"),
    Col("input", lambda p: f"{p.input_price_per_million.normalize():f}", "num"),
    Col("output", lambda p: f"{p.output_price_per_million.normalize():f}", "num"),
    Col(
        "cache read",
        lambda p: f"{p.cache_read_price_per_million.normalize():f}" if p.cache_read_price_per_million else "-",
        "num",
    ),
)


def _attempts(dl: Client) -> UUID:
    """A failed attempt and its successful retry, with provider usage objects as the
    SDKs return them; then what they cost and what a similar request will cost.
    Returns the retry's id."""
    prices = [dl.prices.lookup(m) for m in ("gpt-4o", "claude-sonnet-4-5", "gemini/gemini-2.5-pro")]
    print_table(DEMO_PRICES, prices, "some prices in force, USD per million tokens (seeded from LiteLLM's list)")
    try:
        with dl.attempt(
            agent_name="demo-fixer",
            user_request=data.FIRST_REQUEST,
            model="gpt-4o",
            approach_description=data.FIRST_APPROACH,
        ) as first:
            first.record_usage(data.OPENAI_RESPONSE)
            raise AssertionError(data.ASSERTION)
    except AssertionError:
        pass
    with dl.attempt(
        agent_name="demo-fixer",
        user_request=data.FIRST_REQUEST,
        model="claude-sonnet-4-5",
        parent_attempt_id=first.attempt_id,
        approach_description=data.FIX_APPROACH,
    ) as retry:
        retry.record_usage(data.ANTHROPIC_MESSAGE)
        retry.quality_score = 0.92
        retry.artifacts = {"files": {"billing/invoice.py": data.INVOICE_PY}}
    print_table(
        CHAIN, dl.attempts.chain(retry.result.correlation_id), "one task: a failed attempt and the retry that fixed it"
    )
    estimate = dl.prices.estimate_for_request(data.SIMILAR_REQUEST.lower(), "claude-sonnet-4-5")
    say(
        f"estimate for a similar request with claude-sonnet-4-5: p50 {usd(estimate.cost_p50_usd)}, p90 "
        f"{usd(estimate.cost_p90_usd)} (from {estimate.samples} earlier attempt(s), basis: {estimate.basis})"
    )
    say("more: debugloop report costs, debugloop attempts list, debugloop prices list --provider anthropic")
    return retry.attempt_id


def _errors(dl: Client) -> None:
    """The failure of step 4 has a signature; its retry's approach became a fix; the
    approach that failed is a known failure for similar requests."""
    info = dl.errors.describe(data.SIMILAR_ERROR)
    say(
        f"an agent meets {data.SIMILAR_ERROR!r}: signature {info.signature[:12]} ({info.category}), "
        f"normalised {info.normalized_message!r}"
    )
    print_table(FIXES, dl.errors.fixes(data.SIMILAR_ERROR, k=3), "fixes that worked before")
    print_table(
        FAILURES,
        dl.errors.known_failures(data.SIMILAR_REQUEST, k=3),
        f"approaches that failed for requests like {data.SIMILAR_REQUEST!r}",
    )


def _stfs(dl: Client, retry_id: UUID) -> None:
    """Step 4's retry succeeded with a file: its functions became STFs (a one-liner
    was skipped); a new problem in other words finds the one that fits."""
    print_table(
        SUMMARIES,
        dl.stfs.list(attempt_id=retry_id),
        "STFs extracted from the successful retry (format_money, one line of code, was skipped)",
    )
    print_matches(dl.stfs.match(data.STF_PROBLEM, k=3), code=True, title=f"stf_match({data.STF_PROBLEM!r})")
    say('more: debugloop stf list, debugloop stf search "...", debugloop stf show ID')


def _team(dl: Client) -> None:
    """Five agents at four similar tasks: a float-rounding approach fails with
    claude-sonnet-4-5, the retry with gpt-4o-mini and Decimal succeeds (its code
    becomes an STF, the success a golden state); a planner solves a related task
    with claude-sonnet-4-5. Usage as the SDKs report it. The agents all run as the
    demo's one database role, one peer: what they claim nominates golden states,
    and their approval waits for other peers, or for a person, as here."""
    for agent, kind, request in data.TEAM:
        try:
            with dl.attempt(
                agent_name=agent,
                user_request=request,
                model="claude-sonnet-4-5",
                agent_type=kind,
                approach_description=data.FLOAT_APPROACH,
            ) as first:
                first.record_usage(data.TEAM_FAILED_USAGE)
                raise AssertionError(data.ASSERTION)
        except AssertionError:
            pass
        with dl.attempt(
            agent_name=agent,
            user_request=request,
            model="gpt-4o-mini",
            agent_type=kind,
            parent_attempt_id=first.attempt_id,
            approach_description=data.FIX_APPROACH,
        ) as retry:
            retry.record_usage(data.TEAM_FIXED_USAGE)
            retry.quality_score = 0.93
            retry.artifacts = {"files": {"billing/invoice.py": data.INVOICE_PY}}
    for request in data.PLANNER_REQUESTS:
        with dl.attempt(
            agent_name="demo-planner",
            user_request=request,
            model="claude-sonnet-4-5",
            agent_type="planner",
            approach_description=data.FIX_APPROACH,
        ) as planned:
            planned.record_usage(data.PLANNER_USAGE)
            planned.quality_score = 0.9
    nominated = dl.golden.list(limit=5)
    print_table(GOLDEN, nominated, "golden states nominated by the thresholds, pending")
    peers = dl.settings.get("golden_auto_approve_min_successes")
    approved = dl.golden.review(nominated[0].golden_state_id, "approve", notes="checked in the demo")
    say(
        f"automatic approval needs successes by {peers} other peers (database roles), and these agents ran as one"
        f" role: a person approved golden state {short(approved.golden_state_id)}, audited as the database role"
        f" {approved.approved_by}"
    )


IMPORTED_STFS = table_spec(
    "demo imported stfs",
    Col("name", lambda s: s.stf_name),
    Col("language", lambda s: s.stf_language, "key"),
    Col("from", lambda s: s.contributor_agent_name, "key"),
    Col("quality", lambda s: score(s.quality_score), "num"),
)
IMPORTED_FIXES = table_spec(
    "demo imported fixes",
    Col("agent", lambda f: f.agent_name, "key", drop=1),
    Col("error", lambda f: f.error_pattern[:90]),
    Col("fix (the actions between the failure and the retry that passed)", lambda f: f.successful_approach or "-"),
)


def _imports(dl: Client) -> None:
    """Import the bundled real logs, then show what was learned: the costliest
    sessions, the errors and the fixes found, the STFs, and the manifest for a new
    request like one in the logs."""
    logs = example_logs()
    for source, model in data.IMPORTS:
        print_import(dl, source, dl.imports.run(source, [logs / source], default_model=model))
    print_table(SESSIONS, dl.imports.sessions(limit=5), "the costliest imported sessions")
    print_table(IMPORTED_FIXES, dl.imports.fixes(limit=10), "errors met in the logs, and the retry that fixed each")
    stfs = [s for s in dl.stfs.list(limit=200) if s.contributor_agent_name in data.IMPORTED_AGENTS]
    print_table(IMPORTED_STFS, stfs[:8], f"{len(stfs)} STF(s) extracted from the code the agents wrote (a few)")
    say(f"a new request like one in the logs: {data.IMPORTED_PROBLEM!r}")
    say(dl.manifest_markdown(data.IMPORTED_PROBLEM, "demo-newcomer", "claude-sonnet-4-20250514", max_chars=1800))


def _hooks(target: db.Target) -> None:
    """A new prompt like one of an imported Claude Code session that failed runs
    through `debugloop hook UserPromptSubmit`, as Claude Code runs it; what it
    prints is added to the agent's context: the fix found in the session. Then a
    failed tool call through `debugloop hook PostToolUseFailure`. The first hook
    answers by itself and starts the hook helper; the others go through it; the
    demo stops it at the end."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DEBUGLOOP_")}
    env |= {db.ENV_URL: target.conninfo, "DEBUGLOOP_HOME": str(load_settings().home), hookd.ENV_SWITCH: "auto"}
    helper = hookd.socket_path(env["DEBUGLOOP_HOME"], env)

    def run(event: str, payload: dict) -> str:
        say(f"$ echo '{json.dumps(payload)}' | debugloop hook {event}")
        started = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "debugloop.cli", "hook", event],
            input=json.dumps({**payload, "hook_event_name": event}),
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        say(f"({(time.perf_counter() - started) * 1000:.0f} ms from process start to exit)")
        return done.stdout

    common = {"session_id": data.HOOK_SESSION, "cwd": data.HOOK_PROJECT}
    say(f"an imported session asked {data.HOOK_FAILED_REQUEST!r} and met an error it then fixed; a new prompt like it:")
    hookd.stop(helper)  # an earlier demo's, if one is still up: this one shows how it starts
    try:
        said = run("UserPromptSubmit", {**common, "prompt": data.HOOK_PROMPT})
        say(said.rstrip() or "(nothing: no context added)")
        ready = hookd.wait_ready(helper, 20)
        say(
            "no hook helper ran: that hook answered by itself and started one; the next hooks go through it"
            if ready
            else "(the hook helper did not start: every hook answers by itself)"
        )
        out.rule(align="left")
        said = run("PostToolUseFailure", {**common, **data.HOOK_FAILURE})
        context = json.loads(said)["hookSpecificOutput"]["additionalContext"] if said else "(nothing)"
        say(f"hookSpecificOutput.additionalContext:\n{context.rstrip()}")
        out.rule()
        said = run("UserPromptSubmit", {**common, "prompt": data.HOOK_UNRELATED})
        say(f"an unrelated prompt ({data.HOOK_UNRELATED!r}) adds nothing: {said!r}")
    finally:
        hookd.stop(helper)
    say(
        "more: debugloop hooks install (this project) or --user; debugloop hooks sessions|status|stop; debugloop mcp install"
    )
