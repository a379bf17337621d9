"""Peers and roles: agent names of Part 1 mapped to peers, roles bound to peers, who
may move which tokens (an agent out of its own peer only; admins grant and adjust;
readers read), the owner of the definer functions, the token flags, and issuance
that no two writers queue on."""

import threading
import uuid

import psycopg
import pytest

import debugloop
from debugloop.errors import IdempotencyConflict, NotFound, NotPermitted, UnknownPeer, wrap_exceptions


@pytest.fixture
def roles(conn):
    """Fresh login roles (roles are cluster-wide: unique names, dropped afterwards),
    each a member of one debugloop group."""
    made = []

    def make(group: str) -> str:
        name = f"zz_{group.removeprefix('debugloop_')}_{uuid.uuid4().hex[:8]}"
        conn.execute(f"create role {name} login in role {group}")
        conn.commit()
        made.append(name)
        return name

    yield make
    conn.rollback()
    conn.execute("reset role")
    for name in made:
        conn.execute(f"drop role {name}")
    conn.commit()


def _as(conn, role):
    conn.execute(f"set role {role}")


@pytest.fixture
def team(dl):
    for name in ("peer_alice", "peer_bob"):
        dl.peers.create(name, display_name=name.removeprefix("peer_"))
    return "peer_alice", "peer_bob"


# -- agent names of Part 1 ---------------------------------------------------------------


def test_agent_names_of_the_attempts_map_to_peers(dl):
    for agent in ("fixer", "reviewer", "fixer"):
        dl.attempts.finish(dl.attempts.start(agent, "turn a title into a slug", "gpt-4o"), "success")
    seen = {a.agent_name: (a.peer_id, a.attempts) for a in dl.peers.agent_names()}
    assert seen == {"fixer": (None, 2), "reviewer": (None, 1)}
    dl.peers.create("peer_fixer", display_name="Fixer", agent_names=["fixer"])
    assert [a.agent_name for a in dl.peers.agent_names(unmapped_only=True)] == ["reviewer"]
    adopted = dl.peers.adopt_agents()
    assert [a.agent_name for a in adopted] == ["reviewer"] and adopted[0].peer_id.startswith("peer_")
    assert dl.peers.adopt_agents() == []  # nobody twice
    assert dl.ledger.balance(adopted[0].peer_id).balance == 1000  # a new peer: the starter grant
    with dl.connection() as c:
        assert c.execute("select debugloop.peer_of_agent(' reviewer ')").fetchone()[0] == adopted[0].peer_id
    moved = dl.peers.map_agent("reviewer", "peer_fixer")
    assert moved.peer_id == "peer_fixer"
    assert dl.peers.summary("peer_fixer").agent_names == ["fixer", "reviewer"]
    with pytest.raises(UnknownPeer):
        dl.peers.summary("peer_nobody")


# -- roles bound to peers ------------------------------------------------------------------


def test_a_role_binds_to_one_peer(dl, team, roles):
    alice, bob = team
    agent = roles("debugloop_agent")
    binding = dl.peers.bind_role(alice, agent)
    assert (binding.role_name, binding.peer_id, binding.bound_by) == (agent, alice, "postgres")
    assert dl.peers.bind_role(alice, agent) == binding
    with pytest.raises(IdempotencyConflict) as info:
        dl.peers.bind_role(bob, agent)
    assert "unbind" in info.value.hint
    assert dl.peers.summary(alice).roles == [agent]
    assert dl.peers.unbind_role(agent) == binding
    with pytest.raises(NotFound):
        dl.peers.unbind_role(agent)
    dl.peers.bind_role(bob, agent)
    with pytest.raises(UnknownPeer):
        dl.peers.bind_role("peer_nobody", agent)


def test_an_agent_moves_tokens_out_of_its_own_peer_only(conn, dl, team, roles):
    alice, bob = team
    agent = roles("debugloop_agent")
    dl.peers.bind_role(alice, agent)
    _as(conn, agent)
    assert conn.execute("select role_name, peer_id, is_admin from debugloop.peer_current()").fetchone() == (
        agent,
        alice,
        False,
    )
    posted = conn.execute(
        "select status, created_by from debugloop.ledger_transfer(gen_random_uuid(), %s, %s, 10)", (alice, bob)
    ).fetchone()
    assert posted == ("posted", agent)
    hold = conn.execute("select hold_id from debugloop.ledger_hold(gen_random_uuid(), %s, 20)", (alice,)).fetchone()[0]
    assert conn.execute("select status from debugloop.ledger_settle(%s, 5)", (hold,)).fetchone()[0] == "settled"
    conn.commit()
    refused = [
        ("select * from debugloop.ledger_transfer(gen_random_uuid(), %s, %s, 10)", (bob, alice)),
        ("select * from debugloop.ledger_transfer(gen_random_uuid(), 'sys_issuance', %s, 10, 'earned', 'golden_state')", (alice,)),
        ("select * from debugloop.ledger_transfer(gen_random_uuid(), 'sys_issuance', %s, 10, 'bonus')", (alice,)),
        ("select * from debugloop.ledger_transfer(gen_random_uuid(), 'sys_issuance', %s, 10, 'adjustment', memo => 'x')", (alice,)),
        ("select * from debugloop.ledger_hold(gen_random_uuid(), %s, 10)", (bob,)),
        ("select * from debugloop.ledger_transfers(jsonb_build_array(jsonb_build_object('transfer_id', gen_random_uuid(),"
         " 'from_peer_id', %s::text, 'to_peer_id', %s::text, 'amount', 1)))", (bob, alice)),
    ]  # fmt: skip
    for statement, args in refused:
        with pytest.raises(NotPermitted), wrap_exceptions():
            conn.execute(statement, args)
        conn.rollback()
        _as(conn, agent)
    for admin_only in ("ledger_grant(gen_random_uuid(), 'peer_alice', 10)", "ledger_expire_holds()",
                       "peer_create('peer_mallory')", "peer_bind_role('peer_bob', current_user)"):  # fmt: skip
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute(f"select * from debugloop.{admin_only}")
        conn.rollback()
        _as(conn, agent)
    # bob's hold is not alice's agent's to settle
    conn.execute("reset role")
    bobs = dl.ledger.hold(uuid.uuid4(), bob, 10)
    _as(conn, agent)
    with pytest.raises(NotPermitted), wrap_exceptions():
        conn.execute("select * from debugloop.ledger_release(%s)", (bobs.hold_id,))


def test_an_agent_process_logged_in_as_its_role_is_its_peer(db, dl, team, roles):
    alice, bob = team
    agent, unbound = roles("debugloop_agent"), roles("debugloop_agent")
    dl.peers.bind_role(alice, agent)
    with debugloop.connect(db.url.replace("postgres@", f"{agent}@")) as mine:
        assert mine.peers.current().peer_id == alice
        assert mine.ledger.transfer(uuid.uuid4(), alice, bob, 7).created_by == agent
        with pytest.raises(NotPermitted):
            mine.ledger.transfer(uuid.uuid4(), bob, alice, 7)
    with debugloop.connect(db.url.replace("postgres@", f"{unbound}@")) as nobody:
        with pytest.raises(NotPermitted) as info:
            nobody.ledger.transfer(uuid.uuid4(), alice, bob, 7)
        assert "bound to no peer" in info.value.message and "peer_bind_role" in info.value.hint
    assert dl.ledger.balance(alice).balance == 993


def test_admins_grant_and_adjust_and_readers_only_read(conn, dl, team, roles):
    alice, _ = team
    admin, reader = roles("debugloop_admin"), roles("debugloop_reader")
    _as(conn, admin)
    granted = conn.execute(
        "select created_by, transaction_type from debugloop.ledger_grant(gen_random_uuid(), %s, 50, 'welcome')",
        (alice,),
    ).fetchone()
    assert granted == (admin, "bonus")
    adjusted = conn.execute(
        "select memo from debugloop.ledger_adjust(gen_random_uuid(), %s, -20, 'duplicate reward')", (alice,)
    ).fetchone()
    assert adjusted == ("duplicate reward",)
    conn.commit()
    _as(conn, reader)
    assert conn.execute("select balance from debugloop.ledger_balance(%s)", (alice,)).fetchone()[0] == 1030
    assert conn.execute("select count(*) from debugloop.v_ledger_entries").fetchone()[0] >= 4
    for call in ("ledger_transfer(gen_random_uuid(), 'peer_alice', 'peer_bob', 1)", "ledger_hold(gen_random_uuid(), 'peer_alice', 1)"):  # fmt: skip
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute(f"select * from debugloop.{call}")
        conn.rollback()
        _as(conn, reader)


# -- the owner of the definer functions ----------------------------------------------------


def test_the_ledgers_definer_functions_belong_to_the_owner_role_and_survive_a_reload(conn, roles):
    definers = conn.execute(
        """select p.oid::regprocedure::text, pg_get_userbyid(p.proowner), p.proconfig from pg_proc p
            where p.pronamespace = 'debugloop'::regnamespace and p.prosecdef
              and p.proname ~ '^_?(peer|ledger)_'"""
    ).fetchall()
    assert len(definers) >= 14
    for signature, owner, config in definers:
        assert owner == "debugloop_owner", signature
        assert "search_path=debugloop, pg_catalog, pg_temp" in config, signature
    # a migrator that is no superuser but a member of the owner role replaces them, and they stay its
    migrator = roles("debugloop_reader")
    conn.execute(f"grant debugloop_owner to {migrator}")
    conn.execute(f"grant create on schema debugloop to {migrator}")
    definition = conn.execute("select pg_get_functiondef('debugloop.ledger_release(uuid)'::regprocedure)").fetchone()[0]
    _as(conn, migrator)
    conn.execute(definition)
    conn.execute("alter function debugloop.ledger_release(uuid) owner to debugloop_owner")
    conn.execute("reset role")
    owner = conn.execute(
        "select pg_get_userbyid(proowner) from pg_proc where oid = 'debugloop.ledger_release(uuid)'::regprocedure"
    )
    assert owner.fetchone()[0] == "debugloop_owner"
    conn.rollback()


# -- flags ------------------------------------------------------------------------------------


def test_the_token_flags_exist_off_and_not_overridable(conn):
    rows = conn.execute(
        """select key, value, overridable from debugloop.settings
            where key in ('enable_token_rewards', 'enable_token_spending') order by key"""
    ).fetchall()
    assert rows == [("enable_token_rewards", False, False), ("enable_token_spending", False, False)]
    conn.execute("set debugloop.enable_token_spending = on")
    assert conn.execute("select debugloop.settings_flag('enable_token_spending')").fetchone()[0] is False


# -- issuance is not a point of contention ----------------------------------------------------


def test_concurrent_mints_take_different_issuance_shards_without_waiting(db, dl, team):
    alice, bob = team
    with psycopg.connect(db.url) as first, psycopg.connect(db.url) as second:
        first.execute("select debugloop.ledger_grant(gen_random_uuid(), %s, 5)", (alice,))  # holds a shard, uncommitted
        second.execute("set lock_timeout = '200ms'")
        second.execute("select debugloop.ledger_grant(gen_random_uuid(), %s, 5)", (bob,))  # no wait
        shards = {
            c.execute(
                "select from_account_id from debugloop.ledger_transfers where to_peer_id = %s and memo is null"
                " and reason = 'admin_grant'",
                (p,),
            ).fetchone()[0]
            for c, p in ((first, alice), (second, bob))
        }
        assert len(shards) == 2
        second.commit()
        first.commit()
    assert all(i.holds for i in dl.ledger.check())


def test_opposite_transfers_at_once_wait_for_each_other_and_never_deadlock(db, dl, team):
    alice, bob = team
    errors = []
    with psycopg.connect(db.url) as first:
        first.execute("select debugloop.ledger_transfer(gen_random_uuid(), %s, %s, 1)", (alice, bob))

        def opposite():
            try:
                with psycopg.connect(db.url) as c:
                    c.execute("select debugloop.ledger_transfer(gen_random_uuid(), %s, %s, 2)", (bob, alice))
            except psycopg.Error as exc:  # pragma: no cover - the failure this test is for
                errors.append(exc)

        thread = threading.Thread(target=opposite)
        thread.start()
        thread.join(0.5)
        assert thread.is_alive()  # it waits for first's locks
        first.commit()
    thread.join(10)
    assert not errors and not thread.is_alive()
    assert [dl.ledger.balance(p).balance for p in team] == [1001, 999]
