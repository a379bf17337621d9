"""The outbox relay (``debugloop relay``): PostgreSQL's outbox to Kafka, then Valkey.

One loop: claim this relay's fair share of the outbox slots (session advisory
locks, so one relay at a time sends a key's events), read a batch of their
pending events in order, send them all with an idempotent producer
(``enable_idempotence=True``, ``acks='all'``, Kafka's default partitioner on the
key), flush once, write the balances among the acknowledged prefix to the Valkey
cache (by version: never over a newer one), then mark that prefix published in
the same round trip that reads the next batch (one pipeline: mark, claim when
due, batch). A crash before the mark sends the batch again: at least once, and
consumers dedupe by (key, sequence). Nothing is sent by NOTIFY; an empty outbox
is polled every ``relay_poll_interval`` seconds.

A broker, database or cache outage is waited out with backoff and logged in one
line when it starts and one when it ends, never a traceback. SIGTERM finishes
the batch in hand, gives the slots up and exits. Published events are pruned
after the setting ``outbox_retention_hours``, every ``relay_prune_interval`` seconds.

The same process drains the learn queue (one service, not two): between outbox
batches it calls ``learn_pending(n)`` on a connection of its own, each call one
transaction; n adapts (up to ``relay_learn_rows``) so that a batch takes about
50 ms, and the outbox waits little. An
outage of that connection is waited out like the outbox's, without stopping it.

Also here: ``relay_status`` (``debugloop relay status``), the topics' creation
and check, ``rebuild_cache`` (``debugloop cache rebuild``) and ``consume_balances``
(``debugloop balances consume``), which rebuilds every peer's balance from the
transaction events alone and compares it with PostgreSQL.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson
import psycopg

from .cache import BalanceCache, CacheUnavailable
from .config import Settings
from .errors import ConfigurationError
from .queries import Q

log = logging.getLogger("debugloop.relay")

TRANSACTIONS = "token.transactions.v1"  # the outbox's topic names; settings map them to the broker's
BALANCES = "token.balances.v1"
ALERTS = "spend.alerts.v1"  # spend.budget.exceeded.v1 events (functions/77_budgets.sql)
CLAIM_EVERY = 1.0  # seconds between rebalancing the slots
PRUNE_LIMIT = 10000
LEARN_TARGET = 0.05  # seconds a batch of the learn queue should take, the outbox waiting meanwhile


def kafka_partition(key: str, partitions: int) -> int:
    """The partition Kafka's default partitioner (murmur2, as the Java client) gives a key."""
    from kafka.partitioner.default import murmur2

    return (murmur2(key.encode()) & 0x7FFFFFFF) % partitions


def topic_names(settings: Settings) -> dict[str, str]:
    return {TRANSACTIONS: settings.topic_transactions, BALANCES: settings.topic_balances, ALERTS: settings.topic_alerts}


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return f"{type(exc).__name__}: {text}"[:300]


class Outage:
    """One dependency's outage: one log line when it starts, one when it ends, and
    the backoff to wait before the next try (0.1 s doubling to 5 s)."""

    def __init__(self, what: str) -> None:
        self.what = what
        self.since: float | None = None
        self.delay = 0.1

    def failed(self, exc: BaseException) -> float:
        if self.since is None:
            self.since = time.monotonic()
            log.warning("%s unavailable (%s); waiting for it, retrying with backoff", self.what, _one_line(exc))
            self.delay = 0.1
        else:
            self.delay = min(self.delay * 2, 5.0)
        return self.delay

    def ok(self) -> None:
        if self.since is not None:
            log.warning("%s back after %.1f s", self.what, time.monotonic() - self.since)
            self.since = None


# -- topics -------------------------------------------------------------------------------


def ensure_topics(settings: Settings, *, create: bool = True) -> list[str]:
    """Create the three topics (transactions, balances, alerts) when missing (partitions, cleanup policy delete or compact,
    retention unlimited), else check their partitions; the broker's cleanup policy is
    checked when it reports one. Returns what it did, one line per topic. Raises
    ConfigurationError when a topic differs."""
    from kafka.admin import ConfigResource, ConfigResourceType, KafkaAdminClient, NewTopic
    from kafka.errors import TopicAlreadyExistsError

    wanted = {
        settings.topic_transactions: "delete",
        settings.topic_balances: "compact",
        settings.topic_alerts: "delete",
    }
    admin = KafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap.split(","), client_id="debugloop-relay")
    notes = []
    try:
        existing = {t["name"]: t for t in admin.describe_topics(list(wanted)) if not t.get("error_code")}
        missing = [name for name in wanted if name not in existing]
        if missing and create:
            topics = [
                NewTopic(
                    name,
                    settings.topic_partitions,
                    settings.topic_replication,
                    topic_configs={"cleanup.policy": wanted[name], "retention.ms": "-1"},
                )
                for name in missing
            ]
            try:
                admin.create_topics(topics, raise_errors=True)
            except TopicAlreadyExistsError:
                pass  # another relay created them meanwhile
            notes += [f"{name}: created ({settings.topic_partitions} partitions, {wanted[name]})" for name in missing]
            existing.update({t["name"]: t for t in admin.describe_topics(missing) if not t.get("error_code")})
        for name in wanted:
            if name not in existing:
                raise ConfigurationError(f"topic {name} does not exist and the relay may not create it")
            have = len(existing[name]["partitions"])
            if have != settings.topic_partitions:
                raise ConfigurationError(
                    f"topic {name} has {have} partitions, DEBUGLOOP_TOPIC_PARTITIONS says {settings.topic_partitions}"
                )
        try:
            described = admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, name) for name in wanted])
            policies = _cleanup_policies(described)
        except Exception as exc:  # noqa: BLE001 - a broker that cannot describe configs is noted, not fatal
            policies = {}
            log.info("topic configs not described by the broker (%s)", _one_line(exc))
        for name, policy in wanted.items():
            if name in policies and policies[name] != policy:
                raise ConfigurationError(f"topic {name} has cleanup.policy={policies[name]}, expected {policy}")
            state = (
                f"cleanup.policy={policy} checked" if name in policies else "cleanup.policy not reported by the broker"
            )
            if not any(n.startswith(f"{name}:") for n in notes):
                notes.append(f"{name}: exists ({settings.topic_partitions} partitions, {state})")
            elif name not in policies:
                notes.append(f"{name}: {state}, not checked")
    finally:
        admin.close()
    return notes


def _cleanup_policies(described: Any) -> dict[str, str]:
    """cleanup.policy per topic from describe_configs' answer ({'topic': {name: {config:
    value or {'value': ...}}}}); a broker that reports none (Tansu) gives nothing."""
    found: dict[str, str] = {}
    for name, configs in ((described or {}).get("topic") or {}).items():
        value = (configs or {}).get("cleanup.policy")
        if isinstance(value, dict):
            value = value.get("value")
        if value:
            found[name] = str(value)
    return found


# -- the relay ----------------------------------------------------------------------------


@dataclass
class RelayStats:
    batches: int = 0
    sent: int = 0
    marked: int = 0
    cached: int = 0
    pruned: int = 0
    prunes: int = 0  # times the relay pruned (outbox_prune), deleting or not
    unacked: int = 0  # sent in a batch whose flush failed, not acknowledged: pending, sent again
    learned: int = 0  # queued attempts learned (learn_pending)


@dataclass
class Relay:
    """The relay loop; ``run()`` until ``stop()`` (or SIGTERM via the CLI)."""

    settings: Settings
    conninfo: str
    cache: BalanceCache | None = None
    # called after each batch with (rows, acked_at, cached_at): benchmarks measure with it
    observer: Callable[[list[tuple], float, float | None], None] | None = None
    create_topics: bool = True
    stats: RelayStats = field(default_factory=RelayStats)

    def __post_init__(self) -> None:
        if self.settings.kafka_bootstrap is None:
            raise ConfigurationError("DEBUGLOOP_KAFKA_BOOTSTRAP is not set: the relay has no broker to publish to")
        self._stop = threading.Event()
        self._conn: psycopg.Connection | None = None
        self._producer = None
        self._slots: list[int] = []
        self._next_claim = 0.0
        self._next_prune = time.monotonic() + self.settings.relay_prune_interval
        self._learn_conn: psycopg.Connection | None = None
        self._next_learn = 0.0
        self._learn_rows = 1  # the learn batch, adapted to take about LEARN_TARGET
        self._learn_outage = Outage("database (learn queue)")
        self._topics = topic_names(self.settings)
        self._topics_ready = False
        self._db_outage, self._broker_outage, self._cache_outage = Outage("database"), Outage("broker"), Outage("cache")
        self._cache_backlog: dict[str, dict[str, Any]] = {}
        self._acked: list[int] = []  # acknowledged by the broker, marked published with the next batch's read

    def stop(self) -> None:
        self._stop.set()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    # -- connections ----------------------------------------------------------------------

    def _connect(self, name: str) -> psycopg.Connection:
        return psycopg.connect(self.conninfo, autocommit=True, connect_timeout=self.settings.connect_timeout,
                               application_name=name)  # fmt: skip

    def _db(self) -> psycopg.Connection:
        if self._conn is None or self._conn.closed:
            self._conn = self._connect("debugloop-relay")
            self._slots, self._next_claim = [], 0.0
        return self._conn

    def _drop_db(self) -> None:
        self._close(self._conn)
        self._conn, self._slots = None, []

    def _kafka(self):
        if self._producer is None:
            from kafka import KafkaProducer

            if not self._topics_ready:
                for note in ensure_topics(self.settings, create=self.create_topics):
                    log.info("topic %s", note)
                self._topics_ready = True
            self._producer = KafkaProducer(
                bootstrap_servers=self.settings.kafka_bootstrap.split(","),
                client_id="debugloop-relay",
                enable_idempotence=True,
                acks="all",
                max_in_flight_requests_per_connection=5,
                # every batch ends in flush(), which sends at once: a long linger only keeps send()
                # from waking the sender thread for every new producer batch (a socket write each)
                linger_ms=1000,
                batch_size=256 * 1024,
                retries=2**31 - 1,
                delivery_timeout_ms=120_000,
            )
        return self._producer

    def _drop_kafka(self) -> None:
        if self._producer is not None:
            try:
                self._producer.close(timeout=1)
            except Exception:  # noqa: BLE001 - closing a producer whose broker is gone
                pass
        self._producer = None
        self._topics_ready = False  # a broker back from an outage may have lost them: check again

    # -- the loop -------------------------------------------------------------------------

    def run(self) -> RelayStats:
        """Publish until stopped; returns what it did."""
        from kafka.errors import KafkaError

        log.info("relay started: %s -> %s", ", ".join(self._topics.values()), self.settings.kafka_bootstrap)
        from kafka.record import util

        if getattr(util, "crc32c_c", "") is None:  # kafka-python's fallback checksums each batch in pure Python
            log.warning("the crc32c package is missing: record checksums in pure Python, a third of the rate")
        try:
            while not self.stopping:
                try:
                    producer = self._kafka()
                    self._broker_outage.ok()
                except ConfigurationError:
                    raise
                except (KafkaError, OSError, ValueError) as exc:
                    self._drop_kafka()
                    self._pause(self._broker_outage.failed(exc))
                    continue
                try:
                    sent = self.cycle(producer)
                    self._db_outage.ok()
                except psycopg.OperationalError as exc:
                    self._drop_db()
                    self._pause(self._db_outage.failed(exc))
                    continue
                except _BrokerFailed as exc:
                    self._drop_kafka()
                    self._pause(self._broker_outage.failed(exc.__cause__ or exc))
                    continue
                if sent:
                    self.learn()  # one batch of the learn queue between two of the outbox
                else:
                    self._pause(self.settings.relay_poll_interval)
        finally:
            self._shutdown()
        log.info("relay stopped: %s events sent in %s batches, %s queued attempts learned", self.stats.sent,
                 self.stats.batches, self.stats.learned)  # fmt: skip
        return self.stats

    def cycle(self, producer) -> int:
        """One batch: (mark the previous batch's acknowledged events, claim when due,
        read) in one round trip, send, flush, cache. Returns the events sent."""
        conn = self._db()
        now = time.monotonic()
        if now >= self._next_prune:
            self._prune(conn)
        self._retry_cache()
        claim = now >= self._next_claim
        if not (claim or self._slots or self._acked):
            return 0
        with conn.pipeline():  # the three statements in one round trip, the mark first: its events go out once
            marked = conn.execute(Q.outbox_mark, {"event_ids": self._acked}) if self._acked else None
            claimed = conn.execute(Q.outbox_claim) if claim else None
            batch = conn.execute(Q.outbox_batch, {"limit": self.settings.relay_batch_size})
        if marked is not None:
            self.stats.marked += marked.fetchone()[0]
            self._acked = []
        if claimed is not None:
            self._slots = claimed.fetchone()[0]
            self._next_claim = now + CLAIM_EVERY
        rows = batch.fetchall()
        if not rows:
            return 0
        futures = []
        for event_id, event_type, topic, key, sequence, payload, _created in rows:
            headers = [("event_type", event_type.encode()), ("sequence", str(sequence).encode())]
            try:
                future = producer.send(self._topics.get(topic, topic), key=key.encode(), value=payload.encode(),
                                       headers=headers)  # fmt: skip
            except Exception as exc:  # noqa: BLE001 - a send refused at once (buffer full, broker gone)
                futures.append((event_id, None, exc))
                break
            futures.append((event_id, future, None))
        try:
            producer.flush(timeout=self.settings.relay_flush_timeout)
        except Exception as exc:  # noqa: BLE001 - a flush that timed out: the unacked are sent again
            failure: BaseException | None = exc
        else:
            failure = None
        acked: list[int] = []
        for event_id, future, error in futures:  # the acknowledged prefix, in order
            if error is not None or not future.is_done or future.failed():
                failure = failure or error or (future.exception if future.is_done else TimeoutError("not acked"))
                break
            acked.append(event_id)
        acked_at = time.time()
        self._acked = acked
        self.stats.batches += 1
        self.stats.sent += len(acked)
        done = rows[: len(acked)]
        cached_at = self._cache_balances(done)
        if self.observer is not None:
            self.observer(done, acked_at, cached_at)
        if failure is not None:
            self.stats.unacked += len(rows) - len(acked)
            self._mark_acked(conn)  # the acknowledged prefix is published now, not after the outage
            raise _BrokerFailed(str(failure)) from failure
        return len(acked)

    def _mark_acked(self, conn: psycopg.Connection) -> None:
        """Mark the acknowledged events still unmarked; a database that fails keeps
        them for the next round trip (the mark is idempotent)."""
        if not self._acked:
            return
        try:
            self.stats.marked += conn.execute(Q.outbox_mark, {"event_ids": self._acked}).fetchone()[0]
        except psycopg.Error:
            return
        self._acked = []

    def _pause(self, seconds: float) -> None:
        """Wait `seconds` (or until stopped), learning queued attempts meanwhile."""
        deadline = time.monotonic() + seconds
        while not self.stopping and self.learn() and time.monotonic() < deadline:
            pass
        self._stop.wait(max(0.0, deadline - time.monotonic()))

    def learn(self) -> int:
        """One batch of the learn queue (learn_pending), in a transaction of its own on
        the relay's second connection; how many attempts it learned. The batch adapts
        to stay short (LEARN_TARGET seconds), so that the outbox waits little: it doubles
        while batches are quick, up to relay_learn_rows, and halves when one is slow. A
        database that fails is retried with backoff, the outbox going on meanwhile."""
        if not self.settings.relay_learn_rows or self.stopping or time.monotonic() < self._next_learn:
            return 0
        rows = min(self._learn_rows, self.settings.relay_learn_rows)
        started = time.monotonic()
        try:
            if self._learn_conn is None or self._learn_conn.closed:
                self._learn_conn = self._connect("debugloop-relay-learn")
            learned = self._learn_conn.execute(Q.learn_pending, {"max_rows": rows}).fetchone()[0]
        except psycopg.Error as exc:
            if self._learn_conn is not None and (self._learn_conn.closed or isinstance(exc, psycopg.OperationalError)):
                self._close(self._learn_conn)
                self._learn_conn = None
            self._next_learn = time.monotonic() + self._learn_outage.failed(exc)
            return 0
        self._learn_outage.ok()
        self.stats.learned += learned
        took = time.monotonic() - started
        if learned == rows and took < LEARN_TARGET / 2:
            self._learn_rows = min(rows * 2, self.settings.relay_learn_rows)
        elif took > LEARN_TARGET * 2:
            self._learn_rows = max(1, rows // 2)
        if not learned:  # an empty queue is looked at again after a poll interval, not every batch
            self._next_learn = time.monotonic() + max(self.settings.relay_poll_interval, 0.2)
        return learned

    @staticmethod
    def _close(conn: psycopg.Connection | None) -> None:
        if conn is not None:
            try:
                conn.close()
            except Exception:  # noqa: BLE001 - closing a broken connection
                pass

    def _cache_balances(self, rows: list[tuple]) -> float | None:
        if self.cache is None:
            return None
        for row in rows:
            if row[2] == BALANCES:
                event = orjson.loads(row[5])
                held = self._cache_backlog.get(event["peer_id"])
                if held is None or held["version"] <= event["version"]:
                    self._cache_backlog[event["peer_id"]] = event
        return self._retry_cache()

    def _retry_cache(self) -> float | None:
        """Write the balances waiting for the cache; they wait on while it is down."""
        if not self._cache_backlog or self.cache is None:
            return None
        try:
            self.stats.cached += self.cache.put_many(self._cache_backlog.values())
        except CacheUnavailable as exc:
            self._cache_outage.failed(exc)
            if len(self._cache_backlog) > 1_000_000:  # a cache down for long: its TTL ends them anyway
                self._cache_backlog.clear()
            return None
        self._cache_outage.ok()
        self._cache_backlog.clear()
        return time.time()

    def _prune(self, conn: psycopg.Connection) -> None:
        self._next_prune = time.monotonic() + self.settings.relay_prune_interval
        self.stats.prunes += 1
        while (pruned := conn.execute(Q.outbox_prune, {"limit": PRUNE_LIMIT}).fetchone()[0]) > 0:
            self.stats.pruned += pruned
            if pruned < PRUNE_LIMIT or self.stopping:
                break

    def _shutdown(self) -> None:
        if self._producer is not None:
            try:
                self._producer.flush(timeout=5)
            except Exception:  # noqa: BLE001 - what was not acked stays pending
                pass
        self._drop_kafka()
        if self._conn is not None and not self._conn.closed:
            self._mark_acked(self._conn)
            try:
                self._conn.execute(Q.outbox_release)
            except psycopg.Error:
                pass
        self._drop_db()
        self._close(self._learn_conn)
        self._learn_conn = None


class _BrokerFailed(Exception):
    pass


# -- status -------------------------------------------------------------------------------


def relay_status(conn: psycopg.Connection, settings: Settings) -> dict[str, Any]:
    """The outbox as the relay sees it: whether a broker is configured, pending events
    and the oldest one's age, per slot (with its relay) and per Kafka partition; and
    the attempts waiting in the learn queue, which the relay drains too."""
    slots = conn.execute(Q.outbox_status).fetchall()
    pending = conn.execute(Q.outbox_pending, {"limit": 1_000_000}).fetchall()
    now = datetime.now(UTC)
    names = topic_names(settings)
    partitions: dict[tuple[str, int], list] = {}
    for topic, key, count, oldest, _first, _last in pending:
        name = names.get(topic, topic)
        entry = partitions.setdefault((name, kafka_partition(key, settings.topic_partitions)), [0, oldest])
        entry[0] += count
        entry[1] = min(entry[1], oldest)
    oldest = min((s[2] for s in slots if s[2] is not None), default=None)
    return {
        "kafka_bootstrap": settings.kafka_bootstrap,
        "learn_queued": conn.execute(Q.learn_queued).fetchone()[0],
        "pending": sum(s[1] for s in slots),
        "published_kept": sum(s[3] for s in slots),
        "oldest_pending_age_s": (now - oldest).total_seconds() if oldest else None,
        "relays": sorted({s[4] for s in slots if s[4] is not None}),
        "slots": [
            {
                "slot": s[0],
                "pending": s[1],
                "oldest_pending_age_s": (now - s[2]).total_seconds() if s[2] else None,
                "published_kept": s[3],
                "relay_pid": s[4],
            }
            for s in slots
        ],  # fmt: skip
        "partitions": [
            {"topic": t, "partition": p, "pending": v[0], "oldest_pending_age_s": (now - v[1]).total_seconds()}
            for (t, p), v in sorted(partitions.items())
        ],
    }


# -- the cache rebuilt, and the balances rebuilt from events ------------------------------


def rebuild_cache(cache: BalanceCache, settings: Settings, conn: psycopg.Connection | None, source: str) -> int:
    """Refill the cache (after a flush): from the compacted balances topic, read to
    its end, or from PostgreSQL. Returns how many balances were written."""
    if source == "postgres":
        cur = conn.cursor()
        cur.execute(Q.ledger_peer_balances)
        names = [d.name for d in cur.description]
        written = 0
        while rows := cur.fetchmany(5000):
            written += cache.put_many(dict(zip(names, row, strict=True)) for row in rows)
        return written
    latest: dict[str, dict[str, Any]] = {}
    for _key, event in _read_topic(settings, settings.topic_balances):
        if event["peer_id"] not in latest or latest[event["peer_id"]]["version"] < event["version"]:
            latest[event["peer_id"]] = event
    return cache.put_many(latest.values())


def _read_topic(settings: Settings, topic: str, group: str | None = None, timeout: float = 60.0):
    """(key, event) of every message of a topic, from its start to the end offsets it
    had when the partitions were assigned: as a member of consumer group `group`, or,
    without one, on all partitions assigned by hand."""
    from kafka import KafkaConsumer, TopicPartition

    consumer = KafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap.split(","),
        group_id=group,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        session_timeout_ms=7000,  # what Tansu's groups accept
        max_poll_interval_ms=7000,
        heartbeat_interval_ms=1000,
        fetch_max_wait_ms=100,  # read to the end: a partition already there answers empty, and soon
        client_id="debugloop-consumer",
    )
    try:
        if group is None:
            partitions = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or [])]
            consumer.assign(partitions)
            consumer.seek_to_beginning(*partitions)
        else:
            consumer.subscribe([topic])
        deadline = time.monotonic() + timeout
        end: dict | None = None
        while time.monotonic() < deadline:
            for messages in consumer.poll(timeout_ms=300).values():
                for message in messages:
                    yield (message.key.decode() if message.key else None), orjson.loads(message.value)
            assigned = consumer.assignment()
            if not assigned:
                continue
            if end is None:
                end = consumer.end_offsets(list(assigned))
            if all(consumer.position(tp) >= offset for tp, offset in end.items()):
                return
        raise TimeoutError(f"{topic}: not read to its end within {timeout:.0f} s")
    finally:
        consumer.close()


@dataclass
class PeerRebuild:
    versions: dict[int, int] = field(default_factory=dict)  # version -> signed amount
    last: dict[str, Any] | None = None
    duplicates: int = 0

    def add(self, event: dict[str, Any]) -> None:
        version = event["account_version"]
        if version in self.versions:
            self.duplicates += 1
            return
        self.versions[version] = event["amount"] if event["direction"] == "credit" else -event["amount"]
        if self.last is None or self.last["account_version"] < version:
            self.last = event

    @property
    def available(self) -> int:
        return sum(self.versions.values())

    @property
    def gaps(self) -> list[int]:
        top = max(self.versions, default=0)
        return [v for v in range(1, top + 1) if v not in self.versions]


def consume_balances(
    settings: Settings, conn: psycopg.Connection, group: str = "debugloop-balances", timeout: float = 60.0
) -> dict[str, Any]:
    """Join a consumer group on the transactions topic, rebuild every peer's balance
    from the events alone (deduped by version: the sum of the signed amounts, and the
    held tokens of the latest), and compare with PostgreSQL. The group's offsets are
    not kept (each run rebuilds from the start): an operator's check."""
    peers: dict[str, PeerRebuild] = {}
    read = 0
    for key, event in _read_topic(settings, settings.topic_transactions, f"{group}-{time.time_ns()}", timeout):
        read += 1
        peers.setdefault(key or event["peer_id"], PeerRebuild()).add(event)
    cur = conn.execute(Q.ledger_peer_balances)
    names = [d.name for d in cur.description]
    truth = {row[0]: dict(zip(names, row, strict=True)) for row in cur.fetchall()}
    mismatches = []
    for peer, db in truth.items():
        rebuilt = peers.get(peer)
        version = max(rebuilt.versions, default=0) if rebuilt else 0
        available = rebuilt.available if rebuilt else 0
        held = rebuilt.last["held"] if rebuilt and rebuilt.last else 0
        if (version, available, held) != (db["version"], db["available"], db["held"]) or (rebuilt and rebuilt.gaps):
            mismatches.append({"peer_id": peer, "postgres": {"version": db["version"], "available": db["available"],
                               "held": db["held"]}, "events": {"version": version, "available": available,
                               "held": held, "gaps": rebuilt.gaps[:10] if rebuilt else []}})  # fmt: skip
    for peer in set(peers) - set(truth):
        mismatches.append({"peer_id": peer, "postgres": None, "events": {"version": max(peers[peer].versions)}})
    return {
        "events": read,
        "duplicates": sum(p.duplicates for p in peers.values()),
        "peers": len(truth),
        "mismatches": mismatches,
        "rebuilt": {p: {"version": max(r.versions, default=0), "available": r.available} for p, r in peers.items()},
    }
