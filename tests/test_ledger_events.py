"""The token events (schemas/): every kind of ledger leg, and balances, produced by
the SQL functions that the outbox relay will publish, validated against the JSON
Schemas of token.transactions.v1 and token.balances.v1."""

import json
import time
import uuid
from datetime import datetime

import pytest
from jsonschema import Draft202012Validator, FormatChecker

from helpers import REPO

SCHEMAS = {name: json.loads((REPO / "schemas" / f"{name}.json").read_text()) for name in ("token.transactions.v1", "token.balances.v1")}  # fmt: skip


def validator(name):
    schema = SCHEMAS[name]
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=FormatChecker())


@pytest.fixture
def activity(dl):
    """A ledger that has seen every transaction type and reason the functions post."""
    alice, bob = dl.peers.create("peer_alice").peer_id, dl.peers.create("peer_bob").peer_id
    stf, execution, correlation = (str(uuid.uuid4()) for _ in range(3))
    dl.ledger.transfer(
        uuid.uuid4(), "sys_issuance", alice, 150, transaction_type="earned", reason="stf_contribution",
        quality_score=0.85, novelty_score=0.72, contribution_hash="ab" * 32,
        metadata={"stf_id": stf, "execution_id": execution, "correlation_id": correlation,
                  "model_used": "claude-3-5-sonnet-20241022", "complexity": 0.65},
    )  # fmt: skip
    dl.ledger.grant(uuid.uuid4(), bob, 40, memo="welcome")
    dl.ledger.transfer(uuid.uuid4(), alice, bob, 30, reason="context_served")
    dl.ledger.transfer(
        uuid.uuid4(), bob, "sys_compute", 12, transaction_type="spent", metadata={"model_used": "gpt-4o"}
    )
    dl.ledger.adjust(uuid.uuid4(), alice, -5, "double-counted")
    dl.ledger.adjust(uuid.uuid4(), bob, 5, "missed")
    settled = dl.ledger.hold(uuid.uuid4(), alice, 100, metadata={"execution_id": execution})
    dl.ledger.settle(settled.hold_id, 64)
    dl.ledger.release(dl.ledger.hold(uuid.uuid4(), bob, 10).hold_id)
    dl.ledger.hold(uuid.uuid4(), bob, 7, expires_in=0.05)
    time.sleep(0.1)
    dl.ledger.expire_holds()
    dl.ledger.hold(uuid.uuid4(), alice, 20)  # still active
    return alice, bob


def test_every_transaction_event_is_valid_and_its_peers_versions_are_contiguous(dl, activity):
    check = validator("token.transactions.v1")
    kinds = set()
    for peer in activity:
        events = dl.ledger.transaction_events(peer)
        assert [e["account_version"] for e in events] == list(range(1, len(events) + 1))
        for event in events:
            check.validate(event)
            datetime.fromisoformat(event["timestamp"])
            assert event["peer_id"] == peer and event["balance"] == event["available"] + event["held"]
            kinds.add((event["transaction_type"], event["direction"], event["counterparty_peer_id"] is None))
        last = events[-1]
        b = dl.ledger.balance(peer)
        assert (last["balance"], last["held"], last["available"], last["account_version"]) == (b.balance, b.held, b.available, b.version)  # fmt: skip
    assert {k[0] for k in kinds} == {
        "earned",
        "bonus",
        "transferred",
        "spent",
        "adjustment",
        "hold",
        "settle",
        "release",
    }
    assert ("transferred", "debit", False) in kinds and ("earned", "credit", True) in kinds
    [earned] = [e for e in dl.ledger.transaction_events(activity[0]) if e["transaction_type"] == "earned"]
    assert (earned["quality_score"], earned["novelty_score"], earned["contribution_hash"]) == (
        0.85,
        0.72,
        "sha256:" + "ab" * 32,
    )
    assert earned["metadata"]["model_used"] == "claude-3-5-sonnet-20241022" and earned["amount"] == 150
    assert dl.ledger.transaction_events(activity[0], after=3, limit=2)[0]["account_version"] == 4


def test_balance_events_are_valid(dl, activity):
    check = validator("token.balances.v1")
    for peer in (*activity, dl.peers.create("peer_new").peer_id):
        event = dl.ledger.balance_event(peer)
        check.validate(event)
        b = dl.ledger.balance(peer)
        assert (event["balance"], event["version"], event["last_transaction_id"]) == (b.balance, b.version, str(b.last_transfer_id))  # fmt: skip


def test_the_schemas_refuse_what_is_not_an_event(dl, activity):
    event = dl.ledger.transaction_events(activity[0])[0]
    check = validator("token.transactions.v1")
    for broken in (
        {**event, "amount": 0},
        {**event, "transaction_type": "stolen"},
        {**event, "timestamp": "yesterday"},
        {**event, "transaction_id": "not-a-uuid"},
        {**event, "surprise": 1},
        {k: v for k, v in event.items() if k != "reason"},
    ):
        assert list(check.iter_errors(broken)), broken
    balance = dl.ledger.balance_event(activity[0])
    assert list(validator("token.balances.v1").iter_errors({**balance, "balance": -1}))
