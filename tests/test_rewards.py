"""The reward engine in SQL (functions/76_rewards.sql): STF contribution rewards
and royalties, golden states and their reuse bonuses, fixes; every reward one
ledger transfer from issuance under an id derived from what it pays for, paid once;
reversal by a reversing transfer; the anti-gaming rules; the admin backfill."""

import json
import random
import string
import threading
import uuid
from decimal import Decimal

import psycopg
import pytest

from debugloop.errors import (
    DatabaseError,
    InvalidParameter,
    InvalidRewardKind,
    NotFound,
    RewardsDisabled,
    wrap_exceptions,
)
from helpers import ORDER_TOTAL as CODE
from helpers import login_role, run_cli


def one(conn, sql, *args):
    return conn.execute(sql, args).fetchone()[0]


def row(conn, sql, *args):
    cur = conn.execute(sql, args)
    names = [d.name for d in cur.description]
    return dict(zip(names, cur.fetchone(), strict=True))


@pytest.fixture
def c(db):
    """A superuser connection in autocommit (an admin), with rewards on and two peers,
    alice and bob, whose agent names map to them."""
    with psycopg.connect(db.url, autocommit=True) as conn:
        for peer, agent in (("peer_alice", "alice"), ("peer_bob", "bob")):
            conn.execute("select debugloop.peer_create(%s, 'agent', %s)", (peer, agent))
            conn.execute("select debugloop.peer_map_agent(%s, %s)", (agent, peer))
        conn.execute("select debugloop.settings_set('enable_token_rewards', 'true')")
        yield conn


def attempt(
    conn, agent="alice", status="success", *, correlation=None, approach=None, request="sum an order", quality=None
):
    attempt_id = one(
        conn,
        "select debugloop.attempt_start(%s, %s, 'gpt-4o', correlation_id => %s, approach_description => %s)",
        agent,
        request,
        correlation,
        approach,
    )
    conn.execute(
        "select debugloop.attempt_finish(%s, %s, error_type => %s, error_message => %s, quality_score => %s)",
        (
            attempt_id,
            status,
            None if status == "success" else "KeyError",
            None if status == "success" else "KeyError: 'amount' in row 12",
            quality,
        ),
    )
    return attempt_id


def stf(conn, code=CODE, *, agent="alice", quality="0.80", complexity="0.50", name="order_total", embed=False):
    """An STF produced by an attempt of `agent`, with the scores given (no embedding:
    novelty 1, unless `embed`)."""
    source = attempt(conn, agent)
    stf_id = one(conn, "select debugloop.stf_register(%s, %s, source_attempt_id => %s)", name, code, source)
    conn.execute(
        "update debugloop.debug_transform_functions set quality_score = %s, complexity_score = %s,"
        " embedding = case when %s then embedding end where stf_id = %s",
        (quality, complexity, embed, stf_id),
    )
    return stf_id


def balance(conn, peer):
    return one(conn, "select balance from debugloop.ledger_balance(%s)", peer)


def rewards(conn, peer=None):
    return conn.execute(
        "select kind, amount, status from debugloop.reward_list(%s) order by paid_at, reward_id", (peer,)
    ).fetchall()


def invariants_hold(conn):
    failing = conn.execute("select invariant, detail from debugloop.ledger_check() where not holds").fetchall()
    assert failing == []


def preview(conn, kind, object_id):
    return row(conn, "select * from debugloop.reward_preview(%s, %s)", kind, object_id)


def transfer(conn, reward_id):
    return row(conn, "select * from debugloop.ledger_transfers where transfer_id = %s", reward_id)


# -- the STF formula at every boundary --------------------------------------------------


@pytest.mark.parametrize(
    ("quality", "novelty", "complexity", "tokens"),
    [
        ("0", "1", "0", 0),
        ("0.4999", "1", "1", 0),
        ("0.5", "1", "0", 50),
        ("0.6999", "1", "0", 50),
        ("0.7", "1", "0", 150),
        ("0.8999", "1", "0", 150),
        ("0.9", "1", "0", 300),
        ("1", "1", "0", 300),
        # novelty 0 halves it, novelty 1 keeps it: 300 * (0.5 + 0.5 * 0) = 150
        ("0.9", "0", "0", 150),
        # complexity 1 adds 30 %: 300 * 1.3 = 390, the most the seed's tiers give
        ("0.9", "1", "1", 390),
        # 150 * (0.5 + 0.5 * 0.5) * (1 + 0.3 * 0.5) = 150 * 0.75 * 1.15 = 129.375 -> 129
        ("0.7", "0.5", "0.5", 129),
        # 50 * 0.5 * 1.0 = 25
        ("0.5", "0", "0", 25),
    ],
)
def test_the_stf_formula_at_every_tier_boundary(c, quality, novelty, complexity, tokens):
    assert one(c, "select debugloop.reward_stf_amount(%s, %s, %s)", quality, novelty, complexity) == tokens


def test_the_stf_cap_holds_when_the_tiers_are_raised(c):
    c.execute("select debugloop.settings_set('reward_tier_high_tokens', '450')")
    # 450 * 1.0 * 1.3 = 585, capped at 500
    assert one(c, "select debugloop.reward_stf_amount(0.95, 1, 1)") == 500
    assert one(c, "select debugloop.reward_stf_amount(0.95, 1, 0)") == 450
    c.execute("select debugloop.settings_set('reward_stf_cap', '400')")
    assert one(c, "select debugloop.reward_stf_amount(0.95, 1, 0)") == 400


def test_scores_outside_zero_to_one_are_refused(c):
    with pytest.raises(InvalidParameter), wrap_exceptions():
        c.execute("select debugloop.reward_stf_amount(1.5, 1, 0)")


# -- STF contribution rewards --------------------------------------------------------------


def test_an_approved_stf_pays_its_contributor_once_the_worked_example(c):
    s = stf(c, quality="0.80", complexity="0.50")
    before = balance(c, "peer_alice")
    q = preview(c, "stf", s)
    # by hand: tier(0.80) = 150; novelty 1 (nothing before it) -> x1.0; complexity 0.5 -> x1.15;
    # 150 * 1.0 * 1.15 = 172.5, rounded half up: 173
    assert (q["base"], q["novelty"], q["novelty_multiplier"], q["complexity_multiplier"]) == (
        150,
        1,
        1,
        Decimal("1.15"),
    )
    assert (q["amount"], q["eligible"], q["status"]) == (0, False, "unpaid")
    assert "pending" in q["why_not"]
    c.execute("select debugloop.stf_approve(%s)", (s,))
    assert balance(c, "peer_alice") == before + 173
    q = preview(c, "stf", s)
    assert (q["status"], q["paid"], q["why_not"]) == ("paid", 173, "paid already")
    t = transfer(c, q["reward_id"])
    assert (t["from_peer_id"], t["to_peer_id"], t["amount"], t["transaction_type"], t["reason"]) == (
        "sys_issuance",
        "peer_alice",
        173,
        "earned",
        "stf_contribution",
    )
    stf_hash = one(c, "select stf_hash from debugloop.debug_transform_functions where stf_id = %s", s)
    assert (t["quality_score"], t["novelty_score"], t["contribution_hash"]) == (
        Decimal("0.80"),
        1,
        "sha256:" + stf_hash,
    )
    source = one(c, "select source_execution_id from debugloop.debug_transform_functions where stf_id = %s", s)
    assert t["metadata"]["stf_id"] == str(s) and t["metadata"]["execution_id"] == str(source)
    assert t["metadata"]["model_used"] == "gpt-4o" and t["metadata"]["complexity"] == 0.5
    assert "correlation_id" in t["metadata"]
    assert rewards(c) == [("stf", 173, "posted")]
    invariants_hold(c)


def test_a_second_worked_example_with_novelty_from_an_earlier_stf(c):
    first = stf(c, embed=True, quality="0.95", complexity="0.20")
    second = stf(c, CODE.replace("round(total, 2)", "round(total, 4)"), embed=True, quality="0.95", complexity="0.20")
    # the second's embedding is the first's: similarity 1, novelty 0
    c.execute(
        "update debugloop.debug_transform_functions set embedding = (select embedding from"
        " debugloop.debug_transform_functions where stf_id = %s) where stf_id = %s",
        (first, second),
    )
    assert preview(c, "stf", first)["novelty"] == 1
    q = preview(c, "stf", second)
    # by hand: 300 * (0.5 + 0.5 * 0) * (1 + 0.3 * 0.2) = 300 * 0.5 * 1.06 = 159
    assert (q["novelty"], q["novelty_multiplier"]) == (0, Decimal("0.5"))
    c.execute("select debugloop.stf_approve(%s)", (second,))
    c.execute("select debugloop.stf_approve(%s)", (first,))
    # the first: 300 * 1.0 * 1.06 = 318
    assert [r[1] for r in rewards(c)] == [159, 318]


def clones(conn, of, names_and_times):
    """STFs copied from the row of `of` under other names, hashes and discovery times,
    without an embedding of their own (the caller gives them one)."""
    for name, discovered in names_and_times:
        conn.execute(
            "insert into debugloop.debug_transform_functions select (jsonb_populate_record("
            " null::debugloop.debug_transform_functions, to_jsonb(b) || jsonb_build_object('stf_id', gen_random_uuid(),"
            " 'stf_hash', encode(sha256(%s::text::bytea), 'hex'), 'stf_name', %s::text, 'discovered_at', %s::timestamptz))).*"
            " from debugloop.debug_transform_functions b where b.stf_id = %s",
            (name, name, discovered, of),
        )


def test_novelty_among_hundreds_of_earlier_stfs_is_the_nearest_earlier_one_by_the_index(c):
    base = stf(c)
    # 520 STFs discovered first, each embedded from its own name (one family of alike
    # functions): more than the 500 below which every earlier STF is compared exactly,
    # so the novelties below come from the HNSW index
    clones(c, base, [(f"filler_{i}", f"2020-01-01T00:{i // 60:02d}:{i % 60:02d}Z") for i in range(520)])
    clones(
        c,
        base,
        [
            ("same", "2021-01-01T00:00:00Z"),
            ("lonely", "2021-01-02T00:00:00Z"),
            ("mixed", "2021-01-03T00:00:00Z"),
            ("mixed_later", "2022-01-01T00:00:00Z"),
        ],
    )
    ids = dict(c.execute("select stf_name, stf_id from debugloop.debug_transform_functions").fetchall())
    c.execute(
        "update debugloop.debug_transform_functions set embedding = case stf_name"
        " when 'same' then (select embedding from debugloop.debug_transform_functions where stf_name = 'filler_7')"
        " when 'lonely' then '{1:1}/1048576'::debugloop.sparsevec"
        " when 'mixed_later' then (select embedding from debugloop.debug_transform_functions where stf_name = 'mixed')"
        " else embedding end"
    )
    c.execute("analyze debugloop.debug_transform_functions")
    exact = one(
        c,
        "select round(1 - max(1 - (o.embedding operator(debugloop.<=>) m.embedding))::numeric, 4)"
        " from debugloop.debug_transform_functions o, debugloop.debug_transform_functions m"
        " where m.stf_name = 'mixed' and (o.discovered_at, o.stf_id) < (m.discovered_at, m.stf_id)",
    )
    # same has filler_7's embedding: similarity 1, novelty 0; lonely is like nothing: 1
    assert preview(c, "stf", ids["same"])["novelty"] == 0
    assert preview(c, "stf", ids["lonely"])["novelty"] == 1
    # mixed is near its fillers, not as near as mixed_later (identical to it, discovered after it:
    # it does not count), and the index finds what an exact search finds, within its recall
    mixed = preview(c, "stf", ids["mixed"])["novelty"]
    assert 0 < exact and abs(mixed - exact) <= Decimal("0.02")
    # by hand, for same: tier(0.80) = 150; x (0.5 + 0.5 * 0) = 0.5; x 1.15: 86.25 -> 86
    c.execute("select debugloop.stf_approve(%s)", (ids["same"],))
    assert rewards(c) == [("stf", 86, "posted")]


def test_the_same_code_pays_once_to_the_peer_whose_attempt_produced_it_first(c):
    s = stf(c, agent="alice")
    again = one(
        c,
        "select debugloop.stf_register('order_total', %s, source_attempt_id => %s)",
        CODE.replace("    ", "  "),
        attempt(c, "bob"),
    )
    assert again == s
    c.execute("select debugloop.stf_approve(%s)", (s,))
    assert [r[0] for r in c.execute("select peer_id from debugloop.reward_list()")] == ["peer_alice"]
    assert one(c, "select lifetime_earned from debugloop.ledger_balance('peer_bob')") == 1000  # the starter grant


def test_a_rejected_stf_has_its_reward_reversed_by_a_reversing_transfer(c):
    s = stf(c)
    c.execute("select debugloop.stf_approve(%s)", (s,))
    paid = balance(c, "peer_alice")
    c.execute("select debugloop.stf_reject(%s)", (s,))
    assert balance(c, "peer_alice") == paid - 173
    assert rewards(c) == [("stf", 173, "posted"), ("reversal", 173, "posted")]
    [reversal] = c.execute(
        "select t.from_peer_id, t.to_peer_id, t.transaction_type, t.amount from debugloop.reward_list(kind => 'reversal') r"
        " join debugloop.ledger_transfers t on t.transfer_id = r.reward_id"
    ).fetchall()
    assert reversal == ("peer_alice", "sys_issuance", "adjustment", 173)
    # the earning transfer is untouched (append-only); reopening and approving again pays nothing more
    c.execute("select debugloop.stf_reopen(%s)", (s,))
    c.execute("select debugloop.stf_approve(%s)", (s,))
    assert balance(c, "peer_alice") == paid - 173
    assert preview(c, "stf", s)["status"] == "reversed"
    invariants_hold(c)


def test_nothing_is_paid_while_rewards_are_off_below_the_lowest_tier_or_to_a_frozen_peer(c):
    c.execute("select debugloop.settings_set('enable_token_rewards', 'false')")
    off = stf(c)
    c.execute("select debugloop.stf_approve(%s)", (off,))
    assert "enable_token_rewards" in preview(c, "stf", off)["why_not"]
    c.execute("select debugloop.settings_set('enable_token_rewards', 'true')")
    low = stf(c, CODE.replace("2)", "3)"), quality="0.49")
    c.execute("select debugloop.stf_approve(%s)", (low,))
    assert preview(c, "stf", low)["why_not"] == "its quality is below the lowest tier"
    frozen = stf(c, CODE.replace("2)", "5)"))
    c.execute("select debugloop.peer_set_status('peer_alice', 'frozen')")
    c.execute("select debugloop.stf_approve(%s)", (frozen,))
    assert preview(c, "stf", frozen)["why_not"] == "its peer is frozen"
    assert rewards(c) == []


def test_the_daily_cap_of_a_peer(c):
    c.execute("select debugloop.settings_set('reward_daily_cap', '200')")
    first, second, third = (stf(c, CODE.replace("2)", f"{n})")) for n in (3, 4, 5))
    c.execute("select debugloop.stf_approve(%s)", (first,))
    c.execute("select debugloop.stf_approve(%s)", (second,))
    c.execute("select debugloop.stf_approve(%s)", (third,))
    assert preview(c, "stf", third)["why_not"] == "its peer reached the daily cap (reward_daily_cap)"
    assert [r[1] for r in rewards(c)] == [173, 27]  # 200 - 173 left for the second, nothing for the third
    # the cap reads the peer's total of the day, which the payments raised; a reversal does not lower it
    c.execute("select debugloop.stf_reject(%s)", (first,))
    assert c.execute("select peer_id, tokens from debugloop.reward_daily_totals").fetchall() == [("peer_alice", 200)]
    c.execute("select debugloop.stf_reopen(%s)", (third,))
    c.execute("select debugloop.stf_approve(%s)", (third,))
    assert [r[1] for r in rewards(c)] == [173, 27, 173]  # the two rewards and the reversal of the first


def test_preview_refuses_an_unknown_kind_or_id(c):
    with pytest.raises(InvalidRewardKind), wrap_exceptions():
        c.execute("select debugloop.reward_preview('royalty', %s)", (uuid.uuid4(),))
    with pytest.raises(NotFound), wrap_exceptions():
        c.execute("select debugloop.reward_preview('stf', %s)", (uuid.uuid4(),))


# -- royalties ---------------------------------------------------------------------------------


def test_royalties_diminish_are_capped_and_a_self_reuse_pays_nothing(c):
    s = stf(c)
    uses = []
    for agent in ("bob", "alice", "bob", "bob"):
        reuse = attempt(c, agent)
        c.execute("select debugloop.stf_record_use(%s, %s, true)", (s, reuse))
        uses.append(reuse)
    failed = attempt(c, "bob")
    c.execute("select debugloop.stf_record_use(%s, %s, false)", (s, failed))
    # by hand: 10, then 10 * 0.8 = 8, then 10 * 0.64 = 6.4 -> 6; alice's own reuse and the failed one pay nothing
    assert rewards(c, "peer_alice") == [("royalty", 10, "posted"), ("royalty", 8, "posted"), ("royalty", 6, "posted")]
    assert "its own peer" in row(c, "select * from debugloop._reward_royalty_quote(%s, %s)", s, uses[1])["why_not"]
    assert preview(c, "stf", s)["reuse_paid"] == 24
    c.execute("select debugloop.settings_set('reward_royalty_decay', '1')")
    c.execute("select debugloop.settings_set('reward_royalty_cap', '30')")
    for _ in range(3):
        c.execute("select debugloop.stf_record_use(%s, %s, true)", (s, attempt(c, "bob")))
    # 24 paid, 6 left of the cap of 30: one royalty of 6, then none
    assert [r[1] for r in rewards(c, "peer_alice")] == [10, 8, 6, 6]
    invariants_hold(c)


# -- golden states ---------------------------------------------------------------------------


def golden(c, agent="alice", quality="0.75"):
    """A golden state nominated for an attempt of `agent`, pending (an automatic
    approval, which pays nothing, reopened)."""
    word = "".join(random.choices(string.ascii_lowercase, k=10))
    a = attempt(c, agent, request=f"parse the invoice csv of {word} and total it")
    g = one(c, "select debugloop.golden_nominate(%s, quality_score => %s)", a, quality)
    if one(c, "select approval_status from debugloop.debug_golden_states where golden_state_id = %s", g) == "approved":
        assert "automatically" in preview(c, "golden", g)["why_not"]
        c.execute("select debugloop.golden_reopen(%s)", (g,))
    return g


def test_a_golden_state_pays_on_approval_and_for_reuses_the_worked_example(c):
    g = golden(c, quality="0.75")
    c.execute("select debugloop.golden_approve(%s)", (g,))
    # by hand: 200 * (1 + 0.75) = 350
    q = preview(c, "golden", g)
    assert (q["base"], q["quality_multiplier"], q["paid"]) == (200, Decimal("1.75"), 350)
    for agent in ("bob", "bob", "alice", "bob"):
        c.execute("select debugloop.golden_record_reuse(%s, %s, true)", (g, attempt(c, agent)))
    # reuses by bob: 50, 50 * 0.9 = 45, 50 * 0.81 = 40.5 -> 41; alice's own reuse pays nothing
    assert rewards(c) == [
        ("golden", 350, "posted"),
        ("golden_reuse", 50, "posted"),
        ("golden_reuse", 45, "posted"),
        ("golden_reuse", 41, "posted"),
    ]
    assert preview(c, "golden", g)["reuse_paid"] == 136
    invariants_hold(c)


def test_the_golden_caps_reuse_bonus_500_and_total_1000(c):
    c.execute("select debugloop.settings_set('reward_golden_reuse_decay', '1')")
    g = golden(c, quality="0.50")  # 300
    c.execute("select debugloop.golden_approve(%s)", (g,))
    for _ in range(12):
        c.execute("select debugloop.golden_record_reuse(%s, %s, true)", (g, attempt(c, "bob")))
    assert sum(r[1] for r in rewards(c) if r[0] == "golden_reuse") == 500  # ten of 50, then none
    c.execute("select debugloop.settings_set('reward_golden_tokens', '400')")
    h = golden(c, quality="1.00")  # 400 * 2 = 800
    c.execute("select debugloop.golden_approve(%s)", (h,))
    for _ in range(6):
        c.execute("select debugloop.golden_record_reuse(%s, %s, true)", (h, attempt(c, "bob")))
    paid = c.execute("select kind, amount from debugloop.reward_list() where object_id = %s", (h,)).fetchall()
    assert sum(a for _, a in paid) == 1000 and sorted(a for k, a in paid if k == "golden_reuse") == [50, 50, 50, 50]


def test_a_rejected_golden_state_has_its_approval_reward_reversed(c):
    g = golden(c, quality="0.75")
    c.execute("select debugloop.golden_approve(%s)", (g,))
    c.execute("select debugloop.golden_record_reuse(%s, %s, true)", (g, attempt(c, "bob")))
    paid = balance(c, "peer_alice")
    c.execute("select debugloop.golden_reject(%s)", (g,))
    # 350 for the approval comes back to issuance; the reuse bonus of 50 was earned by the reuse and stays
    assert balance(c, "peer_alice") == paid - 350
    assert rewards(c) == [("golden", 350, "posted"), ("golden_reuse", 50, "posted"), ("reversal", 350, "posted")]
    q = preview(c, "golden", g)
    assert (q["status"], q["paid"], q["reversed"]) == ("reversed", 350, 350)
    invariants_hold(c)


def test_an_automatic_or_own_approval_pays_no_golden_reward(c, as_role):
    g = golden(c)
    reviewer = as_role("rw_alice_reviewer", "debugloop_admin")
    c.execute("select debugloop.peer_bind_role('peer_alice', 'rw_alice_reviewer')")
    with reviewer.connection() as rc:
        rc.execute("select debugloop.golden_approve(%s)", (g,))
    q = preview(c, "golden", g)
    assert "its own peer" in q["why_not"] and q["status"] == "unpaid"
    assert rewards(c) == []


# -- exactly once: concurrent payers, retried transactions, re-imports, the backfill -----------


def at_once(db, *calls):
    """Run each (sql, args) in its own connection, all released at once; the errors."""
    barrier = threading.Barrier(len(calls))
    errors = []

    def run(sql, args):
        try:
            with psycopg.connect(db.url, autocommit=True) as conn:
                barrier.wait()
                conn.execute(sql, args)
        except Exception as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(exc)

    threads = [threading.Thread(target=run, args=call) for call in calls]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return errors


def test_concurrent_reuses_and_backfills_pay_each_reward_once_and_the_bank_holds(c, db):
    s = stf(c)
    g = golden(c)
    c.execute("select debugloop.settings_set('enable_token_rewards', 'false')")
    c.execute("select debugloop.stf_approve(%s)", (s,))
    c.execute("select debugloop.golden_approve(%s)", (g,))
    c.execute("select debugloop.settings_set('enable_token_rewards', 'true')")
    # two connections reuse the STF and the golden state at once (different attempts of bob)
    errors = at_once(
        db,
        ("select debugloop.stf_record_use(%s, %s, true)", (s, attempt(c, "bob"))),
        ("select debugloop.stf_record_use(%s, %s, true)", (s, attempt(c, "bob"))),
        ("select debugloop.golden_record_reuse(%s, %s, true)", (g, attempt(c, "bob"))),
        ("select debugloop.golden_record_reuse(%s, %s, true)", (g, attempt(c, "bob"))),
    )
    assert errors == []
    # the reuses serialise on their object's row: the diminishing series holds
    assert sorted(r[1] for r in rewards(c) if r[0] == "royalty") == [8, 10]
    assert sorted(r[1] for r in rewards(c) if r[0] == "golden_reuse") == [45, 50]
    # three backfills at once pay the approvals made while rewards were off, once (at the
    # STF's quality now: the reuses rescored it)
    owed = preview(c, "stf", s)["amount"]
    assert owed > 0
    errors = at_once(db, *[("select debugloop.reward_backfill()", ())] * 3)
    assert errors == []
    assert sorted((k, a) for k, a, _ in rewards(c) if k in ("stf", "golden")) == [("golden", 350), ("stf", owed)]
    # a retried transaction: the first try rolls back, the retry pays once
    t = stf(c, CODE.replace("2)", "7)"))
    with pytest.raises(psycopg.errors.QueryCanceled), c.transaction():
        c.execute("select debugloop.stf_approve(%s)", (t,))
        c.execute("select pg_cancel_backend(pg_backend_pid())")
        c.execute("select pg_sleep(1)")
    assert preview(c, "stf", t)["status"] == "unpaid"
    c.execute("select debugloop.stf_approve(%s)", (t,))
    assert one(c, "select count(*) from debugloop.reward_payments where object_id = %s", t) == 1
    assert one(c, "select count(*) from debugloop.reward_backfill()") == 0  # nothing left to pay
    issued = one(c, "select sum(amount) from debugloop.reward_payments")
    assert one(c, "select lifetime_earned - 1000 from debugloop.ledger_balance('peer_alice')") == issued
    invariants_hold(c)


def test_two_connections_approving_and_backfilling_at_once_pay_each_reward_once(c, db):
    stfs = [stf(c, CODE.replace("2)", f"{n})")) for n in range(3, 7)]
    goldens = [golden(c) for _ in range(2)]
    calls = []
    for s in stfs:
        calls += [("select debugloop.stf_approve(%s)", (s,))] * 2 + [("select debugloop.reward_backfill('stf')", ())]
    for g in goldens:
        calls += [("select debugloop.golden_approve(%s)", (g,))] * 2 + [
            ("select debugloop.reward_backfill('golden')", ())
        ]
    errors = at_once(db, *calls)
    # of each pair of approvals one finds the object approved already (DL010); nothing else fails
    assert len(errors) == len(stfs) + len(goldens)
    assert {e.sqlstate for e in errors} == {"DL010"}
    paid = c.execute("select object_id, count(*) from debugloop.reward_payments group by object_id").fetchall()
    assert sorted(str(o) for o, n in paid if n == 1) == sorted(str(x) for x in stfs + goldens)
    assert all(n == 1 for _, n in paid)
    assert one(c, "select count(*) from debugloop.reward_backfill()") == 0
    issued = one(c, "select sum(amount) from debugloop.reward_payments")
    assert one(c, "select lifetime_earned - 1000 from debugloop.ledger_balance('peer_alice')") == issued
    invariants_hold(c)


def test_imported_history_earns_only_through_the_admin_backfill(c, as_role):
    s = stf(c)
    source = one(c, "select source_execution_id from debugloop.debug_transform_functions where stf_id = %s", s)
    c.execute(
        "insert into debugloop.debug_import_units (source, unit_key, attempt_id, correlation_id, run_id)"
        " values ('claude-code', 'u1', %s, %s, %s)",
        (source, uuid.uuid4(), uuid.uuid4()),
    )
    c.execute("select debugloop.stf_approve(%s)", (s,))
    assert preview(c, "stf", s)["why_not"] == "imported history: it earns through reward_backfill only"
    agent = as_role("rw_backfiller", "debugloop_agent")
    with pytest.raises(DatabaseError, match="permission denied for function reward_backfill"), agent.connection() as ac:
        ac.execute("select debugloop.reward_backfill()")
    assert [tuple(r) for r in c.execute("select * from debugloop.reward_backfill()")] == [("stf", 1, 173)]
    assert one(c, "select count(*) from debugloop.reward_backfill()") == 0  # idempotent
    assert c.execute("select source from debugloop.reward_payments").fetchall() == [("backfill",)]
    c.execute("select debugloop.settings_set('enable_token_rewards', 'false')")
    with pytest.raises(RewardsDisabled), wrap_exceptions():
        c.execute("select debugloop.reward_backfill()")


# -- fixes (patterns) --------------------------------------------------------------------------


def chain(conn, agent, approach):
    """A retry chain of `agent`: a KeyError, then a success with `approach`."""
    correlation = uuid.uuid4()
    attempt(conn, agent, "error", correlation=correlation, request="total the invoice rows")
    return attempt(conn, agent, correlation=correlation, approach=approach, request="total the invoice rows")


def mapping_of(conn, approach):
    return one(
        conn,
        "select m.mapping_id from debugloop.debug_error_success_mappings m"
        " join debugloop.debug_execution_attempts a on a.approach_hash = m.approach_key"
        " where a.approach_description = %s limit 1",
        approach,
    )


def test_a_fix_pays_its_first_fixer_once_confirmed_by_another_peer_the_worked_example(c):
    first = "use row.get('amount', 0) for rows without an amount"
    chain(c, "alice", first)
    m = mapping_of(c, first)
    chain(c, "alice", first)
    q = preview(c, "pattern", m)
    assert q["why_not"] == "every chain that confirms it belongs to one peer: it needs another peer's success"
    chain(c, "bob", first)
    # three successes: Wilson bound 1 / (1 + 1.96^2 / 3) = 0.4385, below the lowest tier
    assert preview(c, "pattern", m)["why_not"] == "its Wilson bound is below the lowest tier"
    chain(c, "bob", first)
    # four: 0.5101, the low tier; the first approach to this error: novelty 1; 50 * 1.0 * 1.0 = 50
    q = preview(c, "pattern", m)
    assert (q["quality"], q["novelty"], q["base"], q["status"], q["paid"]) == (Decimal("0.5101"), 1, 50, "paid", 50)
    assert rewards(c, "peer_alice") == [("pattern", 50, "posted")]
    for _ in range(6):
        chain(c, "bob", first)  # more evidence pays nothing more: a fix pays once
    assert rewards(c) == [("pattern", 50, "posted")]
    # a second approach to the same error is half as novel: 50 * (0.5 + 0.5 * 0.5) = 37.5 -> 38, to bob
    second = "skip rows without an amount"
    for agent in ("bob", "alice", "alice", "alice"):
        chain(c, agent, second)
    q = preview(c, "pattern", mapping_of(c, second))
    assert (q["novelty"], q["novelty_multiplier"], q["peer_id"], q["paid"]) == (
        Decimal("0.5"),
        Decimal("0.75"),
        "peer_bob",
        38,
    )
    invariants_hold(c)


def test_a_fix_pays_its_pattern_type_multiplier_within_the_pattern_cap(c):
    c.execute("select debugloop.settings_set('reward_pattern_type_multiplier', '3')")
    c.execute("select debugloop.settings_set('reward_pattern_cap', '120')")
    approach = "coerce the amount with Decimal(str(x))"
    for agent in ("alice", "alice", "bob", "bob"):
        chain(c, agent, approach)
    q = preview(c, "pattern", mapping_of(c, approach))
    # by hand: four successes, Wilson 0.5101: 50 * (0.5 + 0.5 * 1) * 3 = 150, capped at 120
    assert (q["base"], q["type_multiplier"], q["cap"], q["paid"]) == (50, 3, 120, 120)
    assert rewards(c, "peer_alice") == [("pattern", 120, "posted")]


# -- anti-gaming: one bound role fabricating everything ----------------------------------------


def test_one_bound_role_fabricating_chains_scores_and_reuses_earns_only_its_allowance(c, db):
    c.execute("select debugloop.peer_create('peer_mallory', 'agent', 'mallory')")
    url = login_role(db.url, "rw_mallory", "debugloop_agent")
    c.execute("select debugloop.peer_bind_role('peer_mallory', 'rw_mallory')")
    before = {p: balance(c, p) for p in ("peer_mallory", "peer_alice", "peer_bob")}
    approach = "wrap the lookup in a try block"
    with psycopg.connect(url, autocommit=True) as m:
        # success chains of its own, some under the agent names of other peers
        for agent in ("mallory", "alice", "bob", "mallory", "alice", "bob"):
            chain(m, agent, approach)
        # an STF of its own, with a self-claimed quality, and reuses of it by its own attempts
        source = attempt(m, "alice")
        s = one(m, "select debugloop.stf_register('order_total', %s, source_attempt_id => %s)", CODE, source)
        for agent in ("bob", "alice", "mallory"):
            m.execute("select debugloop.stf_record_use(%s, %s, true)", (s, attempt(m, agent, quality="1")))
        # it cannot approve, and it cannot backfill
        for sql in ("select debugloop.stf_approve(%s)", "select debugloop.reward_backfill()"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                m.execute(sql, (s,) if "%s" in sql else ())
    # the unconfirmed allowance of a peer is 0: nothing was paid to anyone
    assert rewards(c) == []
    assert {p: balance(c, p) for p in before} == before
    q = preview(c, "pattern", mapping_of(c, approach))
    assert q["peer_id"] == "peer_mallory" and "one peer" in q["why_not"]
    assert preview(c, "stf", s)["peer_id"] == "peer_mallory"
    # the same contributions confirmed by others do pay: an admin approves the STF, bob reuses it
    c.execute("select debugloop.stf_approve(%s)", (s,))
    c.execute("select debugloop.stf_record_use(%s, %s, true)", (s, attempt(c, "bob")))
    assert [k for k, _, _ in rewards(c, "peer_mallory")] == ["stf", "royalty"]
    invariants_hold(c)


# -- Python and the CLI ----------------------------------------------------------------------------


def test_the_manager_and_the_cli(c, dl, db):
    s = stf(c)
    c.execute("select debugloop.stf_approve(%s)", (s,))
    q = dl.rewards.preview("stf", s)
    assert (q.status, q.paid, q.base, q.peer_id) == ("paid", 173, 150, "peer_alice")
    [r] = dl.rewards.list(peer="peer_alice")
    assert (r.kind, r.amount, r.status, r.source) == ("stf", 173, "posted", "automatic")
    assert dl.rewards.backfill() == []
    with pytest.raises(InvalidRewardKind):
        dl.rewards.preview("royalty", s)
    env = {"DEBUGLOOP_DATABASE_URL": db.url}
    out = run_cli("rewards", "list", "--json", env=env)
    assert out.returncode == 0, out.stderr
    assert [(x["kind"], x["amount"]) for x in json.loads(out.stdout)] == [("stf", 173)]
    out = run_cli("rewards", "preview", "stf", str(s), "--json", env=env)
    assert out.returncode == 0 and json.loads(out.stdout)["paid"] == 173
    out = run_cli("rewards", "preview", "stf", str(s), env=env)
    assert "paid 173" in out.stdout and "base 150" in out.stdout
    out = run_cli("rewards", "backfill", "--json", env=env)
    assert out.returncode == 0 and json.loads(out.stdout) == []
