"""The ledger against a model in Python (Hypothesis, stateful): random transfers,
batches, grants, spends, retried and reused ids, holds, settlements and releases,
each predicted by a few dozen lines of Python and checked against the database
after every step."""

import uuid

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, consumes, initialize, invariant, rule

import debugloop
from debugloop.errors import HoldNotActive, IdempotencyConflict, SettleExceedsHold

START = 1000  # the starter grant
amounts = st.integers(min_value=1, max_value=1500)


class Model:
    """What the ledger should say: available and held tokens per peer, transfer ids and holds."""

    def __init__(self, peers):
        self.available = dict.fromkeys(peers, START)
        self.held = dict.fromkeys(peers, 0)
        self.transfers = {}  # id -> (content, status)
        self.holds = {}  # id -> [peer, amount, status, settled]

    def post(self, moves):
        """Posted when every payer can pay in order (running balances), else refused, whole."""
        after = dict(self.available)
        for payer, payee, amount in moves:
            if payer in after:
                after[payer] -= amount
                if after[payer] < 0:
                    return "refused"
            if payee in after:
                after[payee] += amount
        self.available = after
        return "posted"


@pytest.mark.filterwarnings("ignore::hypothesis.errors.NonInteractiveExampleWarning")
def test_the_ledger_behaves_like_its_model(db):
    client = debugloop.connect(db.url)
    runs = iter(range(10_000))

    class Ledger(RuleBasedStateMachine):
        transfer_ids = Bundle("transfer_ids")
        active_holds = Bundle("active_holds")

        @initialize()
        def peers(self):
            run = next(runs)
            self.names = [f"peer_m{run}_{n}" for n in range(3)]
            for name in self.names:
                client.peers.create(name)
            self.model = Model(self.names)

        @rule(target=transfer_ids, data=st.data(), amount=amounts)
        def transfer(self, data, amount):
            payer, payee = data.draw(st.permutations(self.names))[:2]
            tid = uuid.uuid4()
            result = client.ledger.transfer(tid, payer, payee, amount)
            expected = self.model.post([(payer, payee, amount)])
            assert result.status == expected, result.refusal
            self.model.transfers[tid] = ((payer, payee, amount), expected)
            return tid

        @rule(tid=transfer_ids)
        def retry(self, tid):
            (payer, payee, amount), status = self.model.transfers[tid]
            assert client.ledger.transfer(tid, payer, payee, amount).status == status

        @rule(tid=transfer_ids, extra=st.integers(min_value=1, max_value=5))
        def reuse_with_other_content(self, tid, extra):
            (payer, payee, amount), _ = self.model.transfers[tid]
            with pytest.raises(IdempotencyConflict):
                client.ledger.transfer(tid, payer, payee, amount + extra)

        @rule(data=st.data(), size=st.integers(min_value=1, max_value=4))
        def batch(self, data, size):
            moves = [tuple(data.draw(st.permutations(self.names))[:2]) + (data.draw(amounts),) for _ in range(size)]
            body = [{"transfer_id": uuid.uuid4(), "from_peer_id": a, "to_peer_id": b, "amount": n} for a, b, n in moves]
            statuses = {t.status for t in client.ledger.transfers(body)}
            assert statuses == {self.model.post(moves)}

        @rule(data=st.data(), amount=amounts)
        def grant(self, data, amount):
            peer = data.draw(st.sampled_from(self.names))
            assert client.ledger.grant(uuid.uuid4(), peer, amount).status == "posted"
            self.model.post([("sys_issuance", peer, amount)])

        @rule(data=st.data(), amount=amounts)
        def spend(self, data, amount):
            peer = data.draw(st.sampled_from(self.names))
            result = client.ledger.transfer(uuid.uuid4(), peer, "sys_compute", amount, transaction_type="spent")
            assert result.status == self.model.post([(peer, "sys_compute", amount)])

        @rule(target=active_holds, data=st.data(), amount=amounts)
        def hold(self, data, amount):
            peer = data.draw(st.sampled_from(self.names))
            hid = uuid.uuid4()
            hold = client.ledger.hold(hid, peer, amount)
            expected = "active" if self.model.post([(peer, "sys_holds", amount)]) == "posted" else "refused"
            assert hold.status == expected
            if expected == "active":
                self.model.held[peer] += amount
            self.model.holds[hid] = [peer, amount, expected, None]
            return hid

        @rule(hid=consumes(active_holds), data=st.data())
        def settle(self, hid, data):
            peer, amount, status, _ = self.model.holds[hid]
            cost = data.draw(st.integers(min_value=1, max_value=amount + 10))
            if status != "active":
                with pytest.raises(HoldNotActive):
                    client.ledger.settle(hid, cost)
            elif cost > amount:
                with pytest.raises(SettleExceedsHold):
                    client.ledger.settle(hid, cost)
            else:
                assert client.ledger.settle(hid, cost).status == "settled"
                self.model.available[peer] += amount - cost
                self.model.held[peer] -= amount
                self.model.holds[hid] = [peer, amount, "settled", cost]

        @rule(hid=consumes(active_holds))
        def release(self, hid):
            peer, amount, status, _ = self.model.holds[hid]
            if status != "active":
                with pytest.raises(HoldNotActive):
                    client.ledger.release(hid)
            else:
                assert client.ledger.release(hid).status == "released"
                self.model.available[peer] += amount
                self.model.held[peer] -= amount
                self.model.holds[hid][2] = "released"

        @invariant()
        def balances_are_the_models(self):
            for peer in self.names:
                b = client.ledger.balance(peer)
                assert (b.available, b.held, b.balance) == (
                    self.model.available[peer],
                    self.model.held[peer],
                    self.model.available[peer] + self.model.held[peer],
                ), peer

        def teardown(self):
            assert [i.invariant for i in client.ledger.check() if not i.holds] == []

    try:
        Ledger.TestCase.settings = settings(
            max_examples=25,
            stateful_step_count=25,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        )
        Ledger.TestCase().runTest()
    finally:
        client.close()
