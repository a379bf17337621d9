"""The command line of the ledger: `debugloop peers`, `debugloop ledger`,
`debugloop balance`: one-line results, --json of the SQL API's rows, refusals and
errors as one line with exit code 1, short ids taken back, negative adjustments."""

import json
import re

import pytest

from helpers import run_cli


@pytest.fixture
def env(db):
    return {"DEBUGLOOP_DATABASE_URL": db.url, "COLUMNS": "80"}


def cli(env, *args):
    return run_cli(*args, env=env)


def test_help_lists_the_ledger_commands():
    shown = run_cli("--help", env={"COLUMNS": "200"})
    for group in ("peers", "ledger", "balance"):
        assert re.search(rf"^\W*{group}\s", shown.stdout, re.MULTILINE), group
    ledger = run_cli("ledger", "--help", env={"COLUMNS": "200"}).stdout
    for command in ("history", "transfer", "grant", "adjust", "hold", "settle", "release", "holds", "expire", "show", "check"):  # fmt: skip
        assert re.search(rf"^\W*{command}\s", ledger, re.MULTILINE), command


def test_peers_and_balances_from_the_command_line(env):
    created = json.loads(
        cli(env, "peers", "create", "peer_alice", "--name", "Alice", "--agent-name", "fixer", "--json").stdout
    )
    assert (created["peer_id"], created["balance"], created["agent_names"]) == ("peer_alice", 1000, ["fixer"])
    cli(env, "peers", "create", "peer_bob")
    shown = cli(env, "balance", "peer_alice")
    assert shown.returncode == 0 and "balance 1,000 ($1)" in shown.stdout
    balance = json.loads(cli(env, "balance", "peer_alice", "--json").stdout)
    assert set(balance) >= {"balance", "held", "available", "lifetime_earned", "lifetime_spent", "version"}
    listed = json.loads(cli(env, "peers", "list", "--kind", "agent", "--json").stdout)
    assert [p["peer_id"] for p in listed] == ["peer_alice", "peer_bob"]
    csv = cli(env, "peers", "list", "--csv").stdout.splitlines()
    assert csv[0].startswith("peer_id,kind,display_name,status,balance") and len(csv) == 6  # 3 system peers
    frozen = cli(env, "peers", "freeze", "peer_bob", "--memo", "test")
    assert frozen.stdout.strip() == "peer peer_bob is frozen"
    assert "peer_bob is frozen" in cli(env, "ledger", "transfer", "peer_alice", "peer_bob", "5").stderr
    assert cli(env, "peers", "unfreeze", "peer_bob").returncode == 0
    assert cli(env, "peers", "whoami").stdout.strip() == "role postgres: peer - (bound to none), admin"


def test_transfers_refusals_adjustments_and_retries(env):
    for peer in ("peer_alice", "peer_bob"):
        cli(env, "peers", "create", peer)
    first = cli(
        env, "ledger", "transfer", "peer_alice", "peer_bob", "250", "--id", "00000000-0000-0000-0000-000000000001"
    )
    assert first.returncode == 0 and first.stdout.startswith(
        "transferred 00000000-0000-0000-0000-000000000001: 250 tokens"
    )
    again = cli(env, "ledger", "transfer", "peer_alice", "peer_bob", "250", "--id", "00000000-0000-0000-0000-000000000001", "--json")  # fmt: skip
    assert json.loads(again.stdout)["from_version"] == 2  # the first result, counted once
    refused = cli(env, "ledger", "transfer", "peer_alice", "peer_bob", "5000")
    assert refused.returncode == 1 and refused.stdout == ""
    assert (
        refused.stderr == "debugloop: refused: insufficient funds: peer_alice has 750 tokens available, 5000 needed\n"
    )
    down = cli(env, "ledger", "adjust", "peer_alice", "-50", "--memo", "double counted")
    assert down.returncode == 0 and "50 tokens from peer_alice to sys_issuance" in down.stdout, down.stderr
    granted = cli(env, "ledger", "grant", "peer_bob", "40", "--memo", "welcome")
    assert granted.stdout.startswith("bonus ") and "to peer_bob" in granted.stdout
    for bad, message in (("1.5", "positive whole number"), ("0", "positive whole number"), ("abc", "not a number")):
        result = cli(env, "ledger", "grant", "peer_bob", bad)
        assert result.returncode == 1 and message in result.stderr and result.stderr.count("\n") == 1, result
    conflict = cli(
        env, "ledger", "transfer", "peer_alice", "peer_bob", "1", "--id", "00000000-0000-0000-0000-000000000001"
    )
    assert conflict.returncode == 1 and "recorded with other content" in conflict.stderr
    history = json.loads(cli(env, "ledger", "history", "peer_alice", "--json").stdout)
    assert [(e["account_version"], e["transaction_type"], e["amount"]) for e in history] == [
        (3, "adjustment", -50),
        (2, "transferred", -250),
        (1, "bonus", 1000),
    ]
    page = cli(env, "ledger", "history", "peer_alice", "--limit", "2")
    assert "more: --before 2" in page.stdout and all(len(line) <= 80 for line in page.stdout.splitlines())
    shown = json.loads(cli(env, "ledger", "show", "00000000", "--json").stdout)
    assert shown["amount"] == 250 and shown["status"] == "posted"


def test_holds_from_the_command_line_take_short_ids(env):
    cli(env, "peers", "create", "peer_alice")
    held = json.loads(cli(env, "ledger", "hold", "peer_alice", "100", "--ttl", "60", "--json").stdout)
    short = held["hold_id"][:8]
    listed = cli(env, "ledger", "holds", "--peer", "peer_alice")
    assert short in listed.stdout and "active" in listed.stdout
    settled = cli(env, "ledger", "settle", short, "70")
    assert settled.returncode == 0 and settled.stdout.strip().endswith("settled for 70"), settled.stderr
    again = cli(env, "ledger", "release", short)
    assert again.returncode == 1 and "was settled for 70 tokens" in again.stderr
    other = json.loads(cli(env, "ledger", "hold", "peer_alice", "10", "--json").stdout)
    assert cli(env, "ledger", "release", other["hold_id"]).stdout.strip().endswith("released")
    assert json.loads(cli(env, "ledger", "expire", "--json").stdout) == []
    assert json.loads(cli(env, "balance", "peer_alice", "--json").stdout)["lifetime_spent"] == 70
    missing = cli(env, "ledger", "settle", "deadbeef", "1")
    assert missing.returncode == 1 and "does not exist" in missing.stderr


def test_agent_names_adoption_and_the_invariants_check(env, dl):
    dl.attempts.finish(dl.attempts.start("fixer", "turn a title into a slug", "gpt-4o"), "success")
    agents = json.loads(cli(env, "peers", "agents", "--unmapped", "--json").stdout)
    assert [a["agent_name"] for a in agents] == ["fixer"]
    adopted = cli(env, "peers", "adopt")
    assert "fixer" in adopted.stdout and cli(env, "peers", "adopt").stdout.strip() == "every agent name has its peer"
    check = cli(env, "ledger", "check")
    assert check.returncode == 0 and "NO" not in check.stdout
    assert all(row["holds"] for row in json.loads(cli(env, "ledger", "check", "--json").stdout))
