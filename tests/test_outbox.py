"""The outbox (functions/74_outbox.sql): every ledger statement writes its events in
its own transaction (a transaction event per peer leg, a balance event per peer it
touched, keyed by peer and sequenced by the account's version), and relays share
its slots by advisory locks, one owner per slot."""

import json
import time
import uuid

import psycopg
import pytest
from jsonschema import Draft202012Validator, FormatChecker

from debugloop.errors import InvalidOutboxLimit, translate
from helpers import REPO

SCHEMAS = {
    name: Draft202012Validator(
        json.loads((REPO / "schemas" / f"{name}.json").read_text()), format_checker=FormatChecker()
    )
    for name in ("token.transactions.v1", "token.balances.v1")
}


def events(conn, topic=None):
    return conn.execute(
        "select event_type, topic, key, slot, sequence, payload from debugloop.outbox"
        " where %(topic)s::text is null or topic = %(topic)s order by event_id",
        {"topic": topic},
    ).fetchall()


@pytest.fixture
def peers(dl):
    return dl.peers.create("peer_alice").peer_id, dl.peers.create("peer_bob").peer_id


def test_a_transfer_writes_a_transaction_and_a_balance_event_per_peer(dl, conn, peers):
    alice, bob = peers
    before = len(events(conn))  # the starter grants, if any
    dl.ledger.grant(uuid.uuid4(), alice, 100, memo="start")
    dl.ledger.transfer(uuid.uuid4(), alice, bob, 30)
    new = events(conn)[before:]
    grant, transfer = new[:2], new[2:]
    assert [(e[0], e[2]) for e in grant] == [
        ("ledger.transaction.posted.v1", alice),
        ("ledger.balance.changed.v1", alice),
    ]  # sys_issuance publishes nothing
    assert sorted((e[1], e[2]) for e in transfer) == sorted(
        (topic, peer) for topic in ("token.transactions.v1", "token.balances.v1") for peer in (alice, bob)
    )
    for _type, topic, key, slot, sequence, payload in new:
        SCHEMAS[topic].validate(payload)
        assert payload["peer_id"] == key
        assert sequence == payload["account_version" if topic == "token.transactions.v1" else "version"]
        assert slot == conn.execute("select debugloop._outbox_slot(%s)", (key,)).fetchone()[0]
    latest = {e[2]: e[5] for e in new if e[1] == "token.balances.v1"}
    assert latest[alice] == dl.ledger.balance_event(alice)
    assert latest[bob] == dl.ledger.balance_event(bob)
    assert latest[alice]["available"] == dl.ledger.balance(alice).available


def test_a_transfer_that_rolls_back_or_is_refused_leaves_no_event(dl, db, conn, peers):
    alice, bob = peers
    dl.ledger.grant(uuid.uuid4(), alice, 10, memo="start")
    before = len(events(conn))
    with psycopg.connect(db.url) as other:
        dl.ledger.transfer(uuid.uuid4(), alice, bob, 5, conn=other)
        assert len(events(other)) == before + 4  # visible to its own transaction
        other.rollback()
    refused = dl.ledger.transfer(uuid.uuid4(), alice, bob, 10**9)
    assert refused.status == "refused"
    assert len(events(conn)) == before


def test_every_ledger_path_publishes_every_peer_leg_in_version_order(dl, conn, peers):
    alice, bob = peers
    dl.ledger.grant(uuid.uuid4(), alice, 500, memo="start")
    dl.ledger.transfers(
        [{"transfer_id": uuid.uuid4(), "from_peer_id": alice, "to_peer_id": bob, "amount": n} for n in (1, 2, 3)]
    )
    hold = dl.ledger.hold(uuid.uuid4(), alice, 50)
    dl.ledger.settle(hold.hold_id, 20)
    dl.ledger.release(dl.ledger.hold(uuid.uuid4(), bob, 2).hold_id)
    dl.ledger.hold(uuid.uuid4(), bob, 1, expires_in=0.01)
    time.sleep(0.05)
    dl.ledger.transfer(uuid.uuid4(), bob, alice, 1)  # expires bob's hold first
    outbox = events(conn)
    for peer in peers:
        published = [e[5] for e in outbox if e[1] == "token.transactions.v1" and e[2] == peer]
        expected = dl.ledger.transaction_events(peer, limit=1000)
        assert published == expected
        assert [p["account_version"] for p in published] == list(range(1, len(expected) + 1))
        balances = [e[4] for e in outbox if e[1] == "token.balances.v1" and e[2] == peer]
        assert balances == sorted(set(balances)), "a balance event per statement, versions rising"
        assert balances[-1] == dl.ledger.balance(peer).version
    # the batch of three wrote one balance event for bob, at the batch's last version
    start = dl.ledger.transaction_events(bob)[0]["account_version"]
    bob_balances = [e[4] for e in outbox if e[1] == "token.balances.v1" and e[2] == bob]
    assert start + 3 in bob_balances and start + 1 not in bob_balances and start + 2 not in bob_balances


def _claim(c):
    return c.execute("select debugloop.outbox_claim()").fetchone()[0]


def test_relays_share_the_slots_one_owner_each_and_take_over_on_release(db):
    with psycopg.connect(db.url, autocommit=True) as a, psycopg.connect(db.url, autocommit=True) as b:
        assert _claim(a) == list(range(32))
        assert _claim(b) == []  # a holds them all, until it sees b
        first = _claim(a)
        assert len(first) == 16
        second = _claim(b)
        assert len(second) == 16 and not set(first) & set(second)
        assert _claim(a) == first and _claim(b) == second  # stable
        owners = a.execute("select slot, owner_pid from debugloop.outbox_status()").fetchall()
        pids = {a.info.backend_pid: set(first), b.info.backend_pid: set(second)}
        assert {s for s, pid in owners if pid == a.info.backend_pid} == pids[a.info.backend_pid]
        assert a.execute("select debugloop.outbox_release()").fetchone()[0] == 16
        assert _claim(b) == list(range(32))
    with psycopg.connect(db.url, autocommit=True) as c:  # b's session ended: its locks went with it
        assert _claim(c) == list(range(32))


def test_a_batch_reads_its_slots_in_order_and_marking_and_pruning_follow(dl, db, conn, peers):
    alice, bob = peers
    dl.ledger.grant(uuid.uuid4(), alice, 100, memo="start")
    for _ in range(5):
        dl.ledger.transfer(uuid.uuid4(), alice, bob, 1)
    total = len(events(conn))
    with psycopg.connect(db.url, autocommit=True) as relay:
        assert relay.execute("select count(*) from debugloop.outbox_batch(100)").fetchone()[0] == 0  # no slot held
        _claim(relay)
        batch = relay.execute("select event_id, key, sequence, topic from debugloop.outbox_batch(1000)").fetchall()
        assert len(batch) == total and [r[0] for r in batch] == sorted(r[0] for r in batch)
        small = relay.execute("select event_id from debugloop.outbox_batch(3)").fetchall()
        assert len(small) <= 3
        marked = relay.execute("select debugloop.outbox_mark(%s)", ([r[0] for r in batch[:4]],)).fetchone()[0]
        assert marked == 4
        assert relay.execute("select debugloop.outbox_mark(%s)", ([batch[0][0]],)).fetchone()[0] == 0
        status = relay.execute("select sum(pending), sum(published) from debugloop.outbox_status()").fetchone()
        assert status == (total - 4, 4)
        # the marked events moved, whole, to outbox_published, stamped with the mark's time
        moved = relay.execute(
            "select event_id, key, sequence, topic, published_at >= created_at from debugloop.outbox_published"
            " order by event_id"
        ).fetchall()
        assert moved == [(*row, True) for row in batch[:4]]
        assert (
            relay.execute(
                "select count(*) from debugloop.outbox where event_id = any(%s)", ([r[0] for r in batch[:4]],)
            ).fetchone()[0]
            == 0
        )
        pending = relay.execute("select sum(pending) from debugloop.outbox_pending()").fetchone()[0]
        assert pending == total - 4
        assert relay.execute("select debugloop.outbox_prune()").fetchone()[0] == 0  # kept for 168 hours
        dl.settings.set("outbox_retention_hours", 0)
        assert relay.execute("select debugloop.outbox_prune()").fetchone()[0] == 4
        assert relay.execute("select count(*) from debugloop.outbox_published").fetchone()[0] == 0
        assert relay.execute("select count(*) from debugloop.outbox_batch(1000)").fetchone()[0] == total - 4


def test_limits_out_of_range_raise_their_own_error(conn):
    for call in ("outbox_batch(0)", "outbox_pending(-1)", "outbox_prune(2000000)"):
        with pytest.raises(psycopg.Error) as caught:
            conn.execute(f"select * from debugloop.{call}")
        conn.rollback()
        assert isinstance(translate(caught.value), InvalidOutboxLimit)


def test_concurrent_transfers_committing_out_of_id_order_are_all_pending(dl, db, peers):
    """A transaction that took its event ids first but commits last is not skipped:
    the relay reads pending rows, not ids above a high-water mark."""
    alice, bob = peers
    carol = dl.peers.create("peer_carol").peer_id
    dl.ledger.grant(uuid.uuid4(), alice, 100, memo="start")
    with psycopg.connect(db.url) as slow, psycopg.connect(db.url, autocommit=True) as relay:
        dl.ledger.transfer(uuid.uuid4(), alice, bob, 1, conn=slow)  # ids drawn, not committed
        dl.ledger.grant(uuid.uuid4(), carol, 5, memo="meanwhile")  # later ids, committed first
        _claim(relay)
        seen = {r[0] for r in relay.execute("select event_id from debugloop.outbox_batch(1000)")}
        relay.execute("select debugloop.outbox_mark(%s)", (list(seen),))
        slow.commit()
        late = relay.execute("select key from debugloop.outbox_batch(1000)").fetchall()
        assert sorted(k for (k,) in late) == sorted([alice, alice, bob, bob])


def test_the_topic_rule_is_kafkas_one_to_249_of_its_characters(conn):
    """The outbox's own check (migration 0057): what Kafka takes as a topic name goes in,
    what it refuses does not, whatever the length."""

    def write(topic):
        conn.execute("select debugloop._outbox_write('test.topic.checked.v1', %s, 'k', null, '{}')", (topic,))

    for topic in ("a", "A" * 249, "token.balances.v1", "x_y-z.9"):
        write(topic)
    for topic in ("", "a" * 250, "bad topic", "caf\u00e9", "slash/name"):
        with pytest.raises(psycopg.errors.CheckViolation, match="outbox_topic_format"):
            write(topic)
        conn.rollback()
