"""The token ledger in SQL: double entry, versions, idempotent transfers and batches,
refusals that stay refused, holds, expiry, frozen peers, append-only, as-of reads,
the invariants check, and bad input: each its own SQLSTATE, the database unchanged."""

import time
import uuid
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from debugloop.errors import (
    HoldNotActive,
    IdempotencyConflict,
    InvalidAmount,
    InvalidParameter,
    LedgerAppendOnly,
    NotFound,
    PeerFrozen,
    SettleExceedsHold,
    UnknownPeer,
    wrap_exceptions,
)
from helpers import ledger_fingerprint

STARTER = 1000  # the setting ledger_starter_grant


def new_id() -> uuid.UUID:
    return uuid.uuid4()


@pytest.fixture
def peers(dl):
    """alice and bob, each with the starter grant."""
    for name in ("peer_alice", "peer_bob"):
        dl.peers.create(name, kind="agent", display_name=name.removeprefix("peer_"))
    return "peer_alice", "peer_bob"


def balances(dl, *names):
    return [dl.ledger.balance(n).balance for n in names]


# -- peers, accounts, the starter grant ----------------------------------------------------


def test_a_new_peer_gets_its_account_and_the_starter_grant_once(dl):
    peer = dl.peers.create("peer_carol", kind="person", display_name="Carol")
    assert (peer.kind, peer.status) == ("person", "active")
    again = dl.peers.create("peer_carol", kind="person", display_name="Carol")
    assert again == peer
    b = dl.ledger.balance("peer_carol")
    assert (b.balance, b.available, b.held, b.lifetime_earned, b.version) == (STARTER, STARTER, 0, STARTER, 1)
    [entry] = dl.ledger.history("peer_carol")
    assert (entry.transaction_type, entry.reason, entry.amount, entry.counterparty_peer_id) == (
        "bonus",
        "starter_grant",
        STARTER,
        "sys_issuance",
    )
    with pytest.raises(IdempotencyConflict) as info:
        dl.peers.create("peer_carol", kind="agent", display_name="Carol")
    assert info.value.field == "peer_id"


def test_the_starter_grant_is_a_setting(dl):
    dl.settings.set("ledger_starter_grant", "0")
    assert dl.ledger.balance(dl.peers.create(kind="service").peer_id).balance == 0
    dl.settings.set("ledger_starter_grant", "250")
    assert dl.ledger.balance(dl.peers.create(kind="service").peer_id).balance == 250


def test_a_peer_id_is_generated_when_none_is_given(dl):
    peer = dl.peers.create(kind="agent")
    assert peer.peer_id.startswith("peer_") and len(peer.peer_id) == 17 and peer.display_name == peer.peer_id


# -- transfers -------------------------------------------------------------------------


def test_a_transfer_writes_one_entry_per_leg_with_balances_and_versions(dl, conn, peers):
    alice, bob = peers
    t = dl.ledger.transfer(new_id(), alice, bob, 300, metadata={"correlation_id": str(uuid.uuid4())})
    assert (t.status, t.amount, t.from_version, t.to_version, t.refusal) == ("posted", 300, 2, 2, None)
    assert balances(dl, alice, bob) == [700, 1300]
    legs = conn.execute(
        """select peer_id, account_version, amount, balance_before, balance_after from debugloop.ledger_entries
            where transfer_id = %s order by amount""",
        (t.transfer_id,),
    ).fetchall()
    assert legs == [(alice, 2, -300, 1000, 700), (bob, 2, 300, 1000, 1300)]
    assert all(i.holds for i in dl.ledger.check())


def test_a_retry_returns_the_first_result_and_counts_once(dl, peers):
    alice, bob = peers
    tid = new_id()
    first = dl.ledger.transfer(tid, alice, bob, 100, memo="lunch")
    again = dl.ledger.transfer(tid, alice, bob, 100, memo="lunch")
    assert again == first
    assert balances(dl, alice, bob) == [900, 1100]
    assert dl.ledger.balance(alice).version == 2


def test_the_same_id_with_other_content_is_refused_and_changes_nothing(dl, conn, peers):
    alice, bob = peers
    tid = new_id()
    dl.ledger.transfer(tid, alice, bob, 100)
    before = ledger_fingerprint(conn)
    for other in ({"amount": 101}, {"memo": "other"}, {"to_peer_id": "sys_compute", "transaction_type": "spent"}):
        args = {"from_peer_id": alice, "to_peer_id": bob, "amount": 100, **other}
        with pytest.raises(IdempotencyConflict) as info:
            dl.ledger.transfer(tid, **args)
        assert info.value.field == "transfer_id" and "100 tokens" in info.value.detail
    assert ledger_fingerprint(conn) == before


def test_a_transfer_refused_for_lack_of_funds_stays_refused(dl, peers):
    alice, bob = peers
    tid = new_id()
    refused = dl.ledger.transfer(tid, alice, bob, 5000)
    assert refused.refused and "peer_alice has 1000 tokens available, 5000 needed" in refused.refusal
    assert (refused.from_version, refused.to_version) == (None, None)
    dl.ledger.grant(new_id(), alice, 10_000)
    assert dl.ledger.transfer(tid, alice, bob, 5000) == refused  # not posted by surprise
    assert balances(dl, alice, bob) == [11_000, 1000]
    assert dl.ledger.transfer(new_id(), alice, bob, 5000).status == "posted"


def test_spending_earning_and_lifetime_sums(dl, peers):
    alice, _ = peers
    dl.ledger.transfer(new_id(), "sys_issuance", alice, 150, transaction_type="earned", reason="stf_contribution")
    dl.ledger.transfer(new_id(), alice, "sys_compute", 40, transaction_type="spent")
    b = dl.ledger.balance(alice)
    assert (b.balance, b.lifetime_earned, b.lifetime_spent) == (1110, 1150, 40)
    issuance, compute = dl.ledger.balance("sys_issuance"), dl.ledger.balance("sys_compute")
    assert (issuance.balance, compute.balance) == (-2000 - 150, 40)


def test_an_adjustment_goes_either_way_and_needs_a_memo(dl, peers):
    alice, _ = peers
    up = dl.ledger.adjust(new_id(), alice, 25, "missed reward of 2026-11-30")
    down = dl.ledger.adjust(new_id(), alice, -100, "double-counted reward")
    assert (up.from_peer_id, up.to_peer_id, down.from_peer_id, down.to_peer_id) == (
        "sys_issuance",
        alice,
        alice,
        "sys_issuance",
    )
    assert dl.ledger.balance(alice).balance == 925
    assert dl.ledger.adjust(new_id(), alice, -10_000, "too much").refused
    with pytest.raises(InvalidParameter) as info:
        dl.ledger.adjust(new_id(), alice, 5, "  ")
    assert info.value.field == "memo"


# -- batches ----------------------------------------------------------------------------


def test_a_batch_posts_as_one_unit_with_running_balances(dl, peers):
    alice, bob = peers
    dl.peers.create("peer_carol", display_name="carol")
    dl.settings.set("ledger_starter_grant", "0")
    dl.peers.create("peer_dan", display_name="dan")
    posted = dl.ledger.transfers(
        [
            {"transfer_id": new_id(), "from_peer_id": alice, "to_peer_id": "peer_dan", "amount": 1000},
            {"transfer_id": new_id(), "from_peer_id": "peer_dan", "to_peer_id": bob, "amount": 600},
            {"transfer_id": new_id(), "from_peer_id": "peer_dan", "to_peer_id": "peer_carol", "amount": 400},
        ]
    )
    assert [t.status for t in posted] == ["posted"] * 3
    assert [t.to_peer_id for t in posted] == ["peer_dan", bob, "peer_carol"]  # in the order given
    assert balances(dl, alice, bob, "peer_carol", "peer_dan") == [0, 1600, 1400, 0]
    versions = [(e.account_version, e.balance_before, e.balance_after) for e in dl.ledger.history("peer_dan")]
    assert versions == [(3, 400, 0), (2, 1000, 400), (1, 0, 1000)]
    assert all(i.holds for i in dl.ledger.check())


def test_a_batch_that_cannot_be_paid_is_refused_whole_and_stays_refused(dl, conn, peers):
    alice, bob = peers
    batch = [
        {"transfer_id": new_id(), "from_peer_id": alice, "to_peer_id": bob, "amount": 600},
        {"transfer_id": new_id(), "from_peer_id": alice, "to_peer_id": bob, "amount": 600},
    ]
    refused = dl.ledger.transfers(batch)
    assert [t.status for t in refused] == ["refused", "refused"]
    assert "cannot pay" in refused[0].refusal and "insufficient funds" in refused[1].refusal
    assert balances(dl, alice, bob) == [1000, 1000]
    assert dl.ledger.transfers(batch) == refused
    single = dl.ledger.transfer(batch[0]["transfer_id"], alice, bob, 600)
    assert single == refused[0]  # the batch's ids stay refused one by one too


def test_a_batch_with_an_error_records_nothing(dl, conn, peers):
    alice, bob = peers
    before = ledger_fingerprint(conn)
    ids = [new_id(), new_id()]
    with pytest.raises(UnknownPeer) as info:
        dl.ledger.transfers(
            [
                {"transfer_id": ids[0], "from_peer_id": alice, "to_peer_id": bob, "amount": 1},
                {"transfer_id": ids[1], "from_peer_id": alice, "to_peer_id": "peer_nobody", "amount": 1},
            ]
        )
    assert info.value.field == "to_peer_id"
    with pytest.raises(InvalidAmount) as info:
        dl.ledger.transfers([{"transfer_id": ids[0], "from_peer_id": alice, "to_peer_id": bob, "amount": 1.5}])
    assert info.value.message.startswith("transfers[1]: ")
    assert ledger_fingerprint(conn) == before
    assert dl.ledger.transfer(ids[0], alice, bob, 7).status == "posted"  # the id was never taken


def test_a_batch_returns_known_ids_first_results_and_posts_the_rest(dl, peers):
    alice, bob = peers
    known = dl.ledger.transfer(new_id(), alice, bob, 10)
    fresh = new_id()
    results = dl.ledger.transfers(
        [
            {"transfer_id": fresh, "from_peer_id": bob, "to_peer_id": alice, "amount": 3},
            {"transfer_id": known.transfer_id, "from_peer_id": alice, "to_peer_id": bob, "amount": 10},
        ]
    )
    assert [r.transfer_id for r in results] == [fresh, known.transfer_id] and results[1] == known
    assert balances(dl, alice, bob) == [993, 1007]


# -- holds ------------------------------------------------------------------------------


def test_a_hold_sets_tokens_aside_and_a_settlement_spends_at_most_the_hold(dl, peers):
    alice, _ = peers
    hid = new_id()
    hold = dl.ledger.hold(hid, alice, 200, metadata={"model_used": "gpt-4o"})
    assert (hold.status, hold.amount, hold.reason) == ("active", 200, "llm_query")
    b = dl.ledger.balance(alice)
    assert (b.balance, b.held, b.available) == (1000, 200, 800)
    assert dl.ledger.balance("sys_holds").balance == 200
    settled = dl.ledger.settle(hid, 150, metadata={"execution_id": str(uuid.uuid4())})
    assert (settled.status, settled.settled_amount) == ("settled", 150)
    b = dl.ledger.balance(alice)
    assert (b.balance, b.held, b.available, b.lifetime_spent, b.version) == (850, 0, 850, 150, 4)
    kinds = [(e.transaction_type, e.amount, e.held_after) for e in dl.ledger.history(alice)]
    assert kinds == [("settle", -150, 0), ("release", 200, 0), ("hold", -200, 200), ("bonus", 1000, 0)]
    assert dl.ledger.balance("sys_holds").balance == 0 and dl.ledger.balance("sys_compute").balance == 150
    assert dl.ledger.settle(hid, 150) == settled  # a retry
    with pytest.raises(HoldNotActive):
        dl.ledger.settle(hid, 100)
    with pytest.raises(HoldNotActive):
        dl.ledger.release(hid)
    assert all(i.holds for i in dl.ledger.check())


def test_a_settlement_above_the_hold_is_refused_and_changes_nothing(dl, conn, peers):
    alice, _ = peers
    hid = new_id()
    dl.ledger.hold(hid, alice, 100)
    before = ledger_fingerprint(conn)
    with pytest.raises(SettleExceedsHold) as info:
        dl.ledger.settle(hid, 101)
    assert info.value.field == "amount" and "transfer of its own" in info.value.hint
    assert ledger_fingerprint(conn) == before
    # a call that cost more: the whole hold, and the rest as a transfer of its own
    dl.ledger.settle(hid, 100)
    dl.ledger.transfer(new_id(), alice, "sys_compute", 1, transaction_type="spent")
    assert dl.ledger.balance(alice).lifetime_spent == 101


def test_a_release_gives_it_all_back_once(dl, peers):
    alice, _ = peers
    hid = new_id()
    dl.ledger.hold(hid, alice, 300)
    released = dl.ledger.release(hid)
    assert released.status == "released" and dl.ledger.release(hid) == released
    b = dl.ledger.balance(alice)
    assert (b.balance, b.held, b.available, b.lifetime_spent) == (1000, 0, 1000, 0)
    with pytest.raises(HoldNotActive):
        dl.ledger.settle(hid, 1)


def test_a_hold_is_idempotent_and_a_refused_one_stays_refused(dl, peers):
    alice, _ = peers
    hid = new_id()
    first = dl.ledger.hold(hid, alice, 100, expires_in=60)
    assert dl.ledger.hold(hid, alice, 100, expires_in=60) == first
    with pytest.raises(IdempotencyConflict):
        dl.ledger.hold(hid, alice, 100, expires_in=61)
    with pytest.raises(IdempotencyConflict):
        dl.ledger.hold(hid, alice, 99, expires_in=60)
    big = new_id()
    refused = dl.ledger.hold(big, alice, 5000)
    assert refused.refused and refused.status == "refused" and "insufficient funds" in refused.refusal
    dl.ledger.grant(new_id(), alice, 10_000)
    assert dl.ledger.hold(big, alice, 5000) == refused
    with pytest.raises(HoldNotActive):
        dl.ledger.settle(big, 1)
    assert dl.ledger.balance(alice).held == 100


def test_an_expired_hold_is_released_at_the_next_touch_or_by_the_operator(dl, conn, peers):
    alice, bob = peers
    soon, later = new_id(), new_id()
    dl.ledger.hold(soon, alice, 100, expires_in=0.2)
    dl.ledger.hold(later, bob, 50, expires_in=0.2)
    time.sleep(0.3)
    before = ledger_fingerprint(conn)
    with pytest.raises(HoldNotActive) as info:
        dl.ledger.settle(soon, 10)
    assert "expired at" in info.value.message
    assert ledger_fingerprint(conn) == before  # the error changed nothing, not even the release
    dl.ledger.transfer(new_id(), alice, "sys_compute", 1, transaction_type="spent")  # the next touch
    assert dl.ledger.get_hold(soon).status == "expired"
    b = dl.ledger.balance(alice)
    assert (b.balance, b.held, b.available) == (999, 0, 999)
    swept = dl.ledger.expire_holds()
    assert [h.hold_id for h in swept] == [later] and dl.ledger.expire_holds() == []
    assert dl.ledger.balance(bob).held == 0
    assert dl.ledger.release(soon).status == "expired"  # its tokens are back already
    assert all(i.holds for i in dl.ledger.check())


# -- frozen peers -------------------------------------------------------------------------


def test_a_frozen_peer_sends_and_receives_nothing_but_its_holds_still_resolve(dl, conn, peers):
    alice, bob = peers
    hid = new_id()
    dl.ledger.hold(hid, alice, 100)
    dl.peers.set_status(alice, "frozen", memo="abuse report 17")
    before = ledger_fingerprint(conn)
    for call in (
        lambda: dl.ledger.transfer(new_id(), alice, bob, 1),
        lambda: dl.ledger.transfer(new_id(), bob, alice, 1),
        lambda: dl.ledger.grant(new_id(), alice, 1),
        lambda: dl.ledger.hold(new_id(), alice, 1),
    ):
        with pytest.raises(PeerFrozen) as info:
            call()
        assert alice in info.value.message
    assert ledger_fingerprint(conn) == before
    assert dl.ledger.settle(hid, 60).status == "settled"
    assert dl.ledger.adjust(new_id(), alice, 5, "a correction still goes through").status == "posted"
    dl.peers.set_status(alice, "active")
    assert dl.ledger.transfer(new_id(), alice, bob, 1).status == "posted"
    audit = conn.execute(
        "select action, detail->>'memo' from debugloop.peer_audit where peer_id = %s order by audit_id", (alice,)
    )
    assert audit.fetchall() == [("created", None), ("frozen", "abuse report 17"), ("unfrozen", None)]


# -- append-only ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "statement",
    [
        "update debugloop.ledger_transfers set amount = amount + 1",
        "delete from debugloop.ledger_transfers",
        "truncate debugloop.ledger_transfers",
        "update debugloop.ledger_entries set amount = amount",
        "delete from debugloop.ledger_entries",
        "truncate debugloop.ledger_entries",
    ],
)
def test_the_ledger_is_append_only_even_for_a_superuser(dl, conn, peers, statement):
    dl.ledger.transfer(new_id(), *peers, 1)
    with pytest.raises(LedgerAppendOnly) as info, wrap_exceptions():
        conn.execute(statement)
    assert "append-only" in info.value.message and "ledger_adjust" in info.value.hint


def test_no_role_may_update_or_delete_ledger_rows(conn):
    for role in ("debugloop_agent", "debugloop_admin", "debugloop_reader", "debugloop_owner"):
        for table in ("ledger_transfers", "ledger_entries"):
            for privilege in ("update", "delete", "truncate"):
                assert not conn.execute(
                    "select has_table_privilege(%s, %s, %s)", (role, f"debugloop.{table}", privilege)
                ).fetchone()[0], (role, table, privilege)
        for table in ("ledger_transfers", "ledger_entries", "ledger_accounts", "ledger_holds", "peers"):
            if role != "debugloop_owner":
                assert not conn.execute(
                    "select has_table_privilege(%s, %s, 'insert')", (role, f"debugloop.{table}")
                ).fetchone()[0], (role, table)


# -- reads ---------------------------------------------------------------------------------


def test_history_pages_by_version_without_gaps_or_overlap(dl, peers):
    alice, bob = peers
    for n in range(1, 6):
        dl.ledger.transfer(new_id(), alice, bob, n)
    pages, before = [], None
    while page := dl.ledger.history(alice, before=before, limit=2):
        pages.append([e.account_version for e in page])
        before = page[-1].account_version
    assert pages == [[6, 5], [4, 3], [2, 1]]
    with pytest.raises(InvalidParameter) as info:
        dl.ledger.history(alice, limit=0)
    assert info.value.field == "limit"
    with pytest.raises(InvalidParameter):
        dl.ledger.history("sys_issuance")
    with pytest.raises(UnknownPeer):
        dl.ledger.history("peer_nobody")


def test_balances_as_of_a_time_or_a_version(dl, peers):
    alice, bob = peers
    dl.ledger.transfer(new_id(), alice, bob, 100)
    time.sleep(0.01)
    between = datetime.now(UTC)
    time.sleep(0.01)
    hid = new_id()
    dl.ledger.hold(hid, alice, 50)
    at = dl.ledger.balance_at(alice, at=between)
    assert (at.account_version, at.balance, at.held, at.available) == (2, 900, 0, 900)
    now = dl.ledger.balance_at(alice, version=3)
    assert (now.balance, now.held, now.available) == (900, 50, 850)
    zero = dl.ledger.balance_at(alice, version=0)
    assert (zero.account_version, zero.balance, zero.posted_at) == (0, 0, None)
    assert dl.ledger.balance_at(alice, at=between - timedelta(days=1)).balance == 0
    snapshot = {b.peer_id: b.balance for b in dl.ledger.balances_at(between)}
    assert snapshot == {alice: 900, bob: 1100}
    for bad in ({}, {"at": between, "version": 1}, {"version": 4}, {"version": -1}):
        with pytest.raises(InvalidParameter):
            dl.ledger.balance_at(alice, **bad)


def test_the_invariants_check_finds_what_breaks_them(dl, conn, peers):
    alice, bob = peers
    dl.ledger.transfer(new_id(), alice, bob, 10)
    assert [i.invariant for i in dl.ledger.check() if not i.holds] == []
    # a forged entry, written around the ledger functions (a superuser may insert)
    conn.execute(
        """insert into debugloop.ledger_entries (account_id, account_version, transfer_id, peer_id, amount,
                  balance_before, balance_after, held_after, posted_at)
           select account_id, version + 1, gen_random_uuid(), peer_id, 5, balance, balance + 5, held, now()
             from debugloop.ledger_accounts where peer_id = %s""",
        (alice,),
    )
    broken = {i.invariant for i in dl.ledger.check(conn=conn) if not i.holds}
    assert broken == {
        "balances are the sums of their entries",
        "versions count the entries without gaps",
        "entries name their accounts and posted transfers",
    }


def test_unknown_transfers_and_holds_are_not_found(dl):
    with pytest.raises(NotFound):
        dl.ledger.get(new_id())
    with pytest.raises(NotFound):
        dl.ledger.get_hold(new_id())
    with pytest.raises(NotFound):
        dl.ledger.settle(new_id(), 1)


# -- bad input: its own SQLSTATE, and the database as it was ------------------------------------

ALICE, BOB = "peer_alice", "peer_bob"
T = "debugloop.ledger_transfer(gen_random_uuid(), {})"
BAD = [
    (T.format("'peer_alice', 'peer_bob', 0"), "DL030", "amount"),
    (T.format("'peer_alice', 'peer_bob', -5"), "DL030", "amount"),
    (T.format("'peer_alice', 'peer_bob', 1.5"), "DL030", "amount"),
    (T.format("'peer_alice', 'peer_bob', 1e13"), "DL030", "amount"),
    (T.format("'peer_alice', 'peer_bob', 99999999999999999999999999"), "DL030", "amount"),
    (T.format("'peer_alice', 'peer_bob', null"), "DL030", "amount"),
    (T.format("'peer_alice', 'peer_nobody', 1"), "DL032", "to_peer_id"),
    (T.format("'sys_foo', 'peer_bob', 1"), "DL032", "from_peer_id"),
    (T.format("'peer_alice', 'peer_alice', 1"), "DL034", "to_peer_id"),
    (T.format("'peer_alice', 'peer_bob', 1, 'stolen'"), "DL001", "transaction_type"),
    (T.format("'peer_alice', 'peer_bob', 1, 'hold'"), "DL001", "transaction_type"),
    (T.format("'peer_alice', 'peer_bob', 1, 'transferred', 'golden_state'"), "DL001", "reason"),
    (T.format("'peer_alice', 'sys_compute', 1, 'transferred'"), "DL001", "transaction_type"),
    (T.format("'sys_issuance', 'sys_compute', 1, 'earned', 'stf_contribution'"), "DL001", "transaction_type"),
    (T.format("'sys_issuance', 'peer_bob', 1, 'earned'"), "DL001", "reason"),
    (T.format("'peer_alice', null, 1"), "DL001", "to_peer_id"),
    (T.format("'peer_alice', 'peer_bob', 1, quality_score => 1.5"), "DL001", "quality_score"),
    (T.format("'peer_alice', 'peer_bob', 1, contribution_hash => 'abc'"), "DL001", "contribution_hash"),
    (T.format("'peer_alice', 'peer_bob', 1, metadata => '[1]'"), "DL001", "metadata"),
    (T.format("'peer_alice', 'peer_bob', 1, metadata => '{\"stf_id\": \"x\"}'"), "DL001", "metadata"),
    (T.format("'peer_alice', 'peer_bob', 1, metadata => '{\"complexity\": 2}'"), "DL001", "metadata"),
    ("debugloop.ledger_transfer(null, 'peer_alice', 'peer_bob', 1)", "DL001", "transfer_id"),
    ("debugloop.ledger_grant(gen_random_uuid(), 'peer_alice', 0)", "DL030", "amount"),
    ("debugloop.ledger_grant(gen_random_uuid(), 'sys_compute', 5)", "DL001", "transaction_type"),
    ("debugloop.ledger_grant(gen_random_uuid(), 'peer_nobody', 5)", "DL032", "to_peer_id"),
    ("debugloop.ledger_adjust(gen_random_uuid(), 'peer_alice', 0, 'why')", "DL030", "amount"),
    ("debugloop.ledger_adjust(gen_random_uuid(), 'peer_alice', 5, null)", "DL001", "memo"),
    ("debugloop.ledger_transfers('{}')", "DL001", "transfers"),
    ("debugloop.ledger_transfers('[]')", "DL001", "transfers"),
    ("debugloop.ledger_transfers('[1]')", "DL001", "transfers"),
    ("debugloop.ledger_transfers('[{\"amout\": 1}]')", "DL001", "transfers"),
    ('debugloop.ledger_transfers(\'[{"transfer_id": "x"}]\')', "DL001", "transfers"),
    (
        "debugloop.ledger_transfers(jsonb_build_array(jsonb_build_object('transfer_id', gen_random_uuid(),"
        " 'from_peer_id', 'peer_alice', 'to_peer_id', 'peer_bob', 'amount', -1)))",
        "DL030",
        "amount",
    ),
    (
        "debugloop.ledger_transfers((select jsonb_agg(jsonb_build_object('transfer_id',"
        " '00000000-0000-0000-0000-000000000001', 'from_peer_id', 'peer_alice', 'to_peer_id', 'peer_bob',"
        " 'amount', 1)) from generate_series(1, 2)))",
        "DL001",
        "transfer_id",
    ),
    ("debugloop.ledger_hold(gen_random_uuid(), 'peer_alice', 0)", "DL030", "amount"),
    ("debugloop.ledger_hold(gen_random_uuid(), 'peer_alice', 2.5)", "DL030", "amount"),
    ("debugloop.ledger_hold(gen_random_uuid(), 'peer_nobody', 5)", "DL032", "from_peer_id"),
    ("debugloop.ledger_hold(gen_random_uuid(), 'peer_alice', 5, interval '0')", "DL001", "expires_in"),
    ("debugloop.ledger_hold(gen_random_uuid(), 'peer_alice', 5, interval '8 days')", "DL001", "expires_in"),
    ("debugloop.ledger_hold(gen_random_uuid(), 'peer_alice', 5, reason => 'golden_state')", "DL001", "reason"),
    ("debugloop.ledger_hold(null, 'peer_alice', 5)", "DL001", "hold_id"),
    ("debugloop.ledger_settle(gen_random_uuid(), 5)", "DL002", "hold_id"),
    ("debugloop.ledger_settle('00000000-0000-0000-0000-0000000000a1', 0)", "DL030", "amount"),
    ("debugloop.ledger_settle('00000000-0000-0000-0000-0000000000a1', 1.5)", "DL030", "amount"),
    ("debugloop.ledger_settle('00000000-0000-0000-0000-0000000000a1', 101)", "DL036", "amount"),
    ("debugloop.ledger_settle('00000000-0000-0000-0000-0000000000a1', 5, '[1]')", "DL001", "metadata"),
    ("debugloop.ledger_settle('00000000-0000-0000-0000-0000000000a2', 5)", "DL035", "hold_id"),
    ("debugloop.ledger_settle('00000000-0000-0000-0000-0000000000a3', 6)", "DL035", "hold_id"),
    ("debugloop.ledger_release('00000000-0000-0000-0000-0000000000a3')", "DL035", "hold_id"),
    ("debugloop.ledger_release(gen_random_uuid())", "DL002", "hold_id"),
    ("debugloop.ledger_balance('peer_nobody')", "DL032", "peer"),
    ("debugloop.ledger_history('peer_alice', null, 1001)", "DL001", "limit"),
    ("debugloop.ledger_balance_at('peer_alice')", "DL001", "at"),
    ("debugloop.peer_create('Bad Id')", "DL001", "peer_id"),
    ("debugloop.peer_create('sys_mine')", "DL001", "peer_id"),
    ("debugloop.peer_create(kind => 'system')", "DL001", "kind"),
    ("debugloop.peer_create(metadata => '[]')", "DL001", "metadata"),
    ("debugloop.peer_create('peer_alice', 'service')", "DL031", "peer_id"),
    ("debugloop.peer_get('peer_nobody')", "DL032", "peer"),
    ("debugloop.peer_set_status('peer_alice', 'gone')", "DL001", "status"),
    ("debugloop.peer_set_status('sys_issuance', 'frozen')", "DL001", "peer"),
    ("debugloop.peer_set_status('peer_nobody', 'frozen')", "DL032", "peer"),
    ("debugloop.peer_bind_role('peer_alice', 'no_such_role_anywhere')", "DL002", "role_name"),
    ("debugloop.peer_bind_role('sys_compute', 'debugloop_reader')", "DL001", "peer"),
    ("debugloop.peer_unbind_role('debugloop_reader')", "DL002", "role_name"),
    ("debugloop.peer_map_agent('  ', 'peer_alice')", "DL001", "agent_name"),
    ("debugloop.peer_map_agent('fixer', 'sys_holds')", "DL001", "peer"),
    ("debugloop.peer_map_agent('fixer', 'peer_nobody')", "DL032", "peer"),
]


@pytest.fixture
def bad_input_state(dl, conn, peers):
    """alice and bob; an active hold a1 of 100 of alice's; a2 released, a3 settled."""
    dl.ledger.hold(uuid.UUID("00000000-0000-0000-0000-0000000000a1"), ALICE, 100)
    dl.ledger.hold(uuid.UUID("00000000-0000-0000-0000-0000000000a2"), ALICE, 10)
    dl.ledger.release(uuid.UUID("00000000-0000-0000-0000-0000000000a2"))
    dl.ledger.hold(uuid.UUID("00000000-0000-0000-0000-0000000000a3"), ALICE, 10)
    dl.ledger.settle(uuid.UUID("00000000-0000-0000-0000-0000000000a3"), 5)
    return conn


@pytest.mark.parametrize(("call", "sqlstate", "field"), BAD, ids=[c for c, _, _ in BAD])
def test_bad_input_raises_its_own_sqlstate_and_leaves_the_database_as_it_was(bad_input_state, call, sqlstate, field):
    conn = bad_input_state
    before = ledger_fingerprint(conn)
    with pytest.raises(psycopg.Error) as info:
        conn.execute(f"select * from {call}")
    conn.rollback()
    assert info.value.sqlstate == sqlstate, info.value.diag.message_primary
    assert info.value.diag.column_name == field
    assert ledger_fingerprint(conn) == before
