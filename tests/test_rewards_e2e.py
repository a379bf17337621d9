"""The reward engine end to end, through the real Tansu broker and the real Valkey:
an agent's successful attempt -> its STF extracted -> approved by another peer ->
the reward posted by the ledger -> its event on token.transactions.v1 -> the
peer's balance in Valkey."""

from debugloop.cache import BalanceCache
from debugloop.relay import _read_topic
from helpers import ORDER_TOTAL as CODE
from helpers import relay_thread, settings_for, wait_drained


def test_a_successful_attempt_earns_an_stf_reward_that_reaches_kafka_and_valkey(dl, db, kafka_bootstrap, valkey_url):
    settings = settings_for(kafka_bootstrap, valkey_url)
    dl.peers.create("peer_alice", kind="agent", agent_names=["alice"])
    dl.settings.set("enable_token_rewards", "true")
    attempt_id = dl.attempts.start("alice", "sum the prices of an order", "gpt-4o")
    dl.attempts.finish(attempt_id, "success", artifacts={"files": {"shop/orders.py": CODE}})
    [stf] = dl.stfs.list(attempt_id=attempt_id)
    assert dl.rewards.preview("stf", stf.stf_id).why_not.startswith("the STF is pending")
    dl.stfs.review(stf.stf_id, "approve")  # an admin: another peer
    q = dl.rewards.preview("stf", stf.stf_id)
    assert q.status == "paid" and q.paid == dl.ledger.balance("peer_alice").lifetime_earned - 1000 > 0
    cache = BalanceCache(valkey_url)
    with relay_thread(settings, db.url, cache):
        wait_drained(db.url)
    events = [e for key, e in _read_topic(settings, settings.topic_transactions) if key == "peer_alice"]
    [reward] = [e for e in events if e["transaction_id"] == str(q.reward_id)]
    assert reward["reason"] == "stf_contribution" and reward["amount"] == q.paid
    assert reward["contribution_hash"] == q.contribution_hash and reward["metadata"]["stf_id"] == str(stf.stf_id)
    assert reward["metadata"]["execution_id"] == str(attempt_id)
    truth = dl.ledger.balance("peer_alice")
    cached = cache.get("peer_alice")
    assert (cached["version"], cached["available"]) == (truth.version, truth.available)
    assert truth.available == 1000 + q.paid
