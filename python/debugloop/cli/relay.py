"""``debugloop relay``, ``debugloop cache`` and ``debugloop balances``: the outbox
relay to Kafka, the Valkey balance cache, and the consumer that rebuilds balances
from the events (debugloop.relay)."""

from __future__ import annotations

import logging
import signal
import sys
from typing import Annotated

import typer

from .. import db
from ..config import load_settings
from ..errors import ConfigurationError
from .common import AS_JSON, client, group
from .render import Col, count, emit_document, print_table, say, table_spec

relay_app = typer.Typer(
    help="The outbox relay: publish the outbox to Kafka and refresh the Valkey cache (runs until SIGTERM).",
    invoke_without_command=True,
)
cache_app = group("The Valkey balance cache: rebuild, stats.")
balances_app = group("Balances rebuilt from the Kafka events: consume.")


def _logging() -> None:
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(asctime)s debugloop relay: %(message)s")
    logging.getLogger("kafka").setLevel(logging.CRITICAL)  # its own tracebacks: the relay logs one line


@relay_app.callback()
def relay(ctx: typer.Context) -> None:
    """Run the relay: claim outbox slots, send their events, mark them after the ack, cache the balances."""
    if ctx.invoked_subcommand is not None:
        return
    from ..cache import BalanceCache
    from ..relay import Relay

    settings = load_settings()
    if settings.kafka_bootstrap is None:
        raise ConfigurationError("DEBUGLOOP_KAFKA_BOOTSTRAP is not set: the relay has no broker to publish to")
    _logging()
    target = db.resolve(settings)
    cache = BalanceCache(settings.valkey_url, ttl=settings.cache_ttl) if settings.valkey_url else None
    worker = Relay(settings, target.conninfo, cache=cache)
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: worker.stop())
    worker.run()


SLOTS = table_spec(
    "relay status slots",
    Col("slot", lambda s: s["slot"], "num"),
    Col("pending", lambda s: count(s["pending"]), "num"),
    Col(
        "oldest (s)",
        lambda s: "" if s["oldest_pending_age_s"] is None else f"{s['oldest_pending_age_s']:.1f}",
        "num",
    ),
    Col("relay pid", lambda s: s["relay_pid"] or "", "num"),
)
PARTITIONS = table_spec(
    "relay status partitions",
    Col("topic", lambda p: p["topic"]),
    Col("partition", lambda p: p["partition"], "num"),
    Col("pending", lambda p: count(p["pending"]), "num"),
    Col("oldest (s)", lambda p: f"{p['oldest_pending_age_s']:.1f}", "num"),
)


@relay_app.command("status")
def status(as_json: AS_JSON = False) -> None:
    """Pending events, the oldest one's age, per slot (and its relay) and per Kafka partition."""
    from ..relay import relay_status

    settings = load_settings()
    with client() as dl, dl.connection() as conn:
        document = relay_status(conn, settings)

    def show() -> None:
        age = document["oldest_pending_age_s"]
        if document["kafka_bootstrap"] is None:
            say("no broker configured (DEBUGLOOP_KAFKA_BOOTSTRAP unset): the outbox fills until a relay runs")
        say(f"pending: {count(document['pending'])} events"
            + (f", the oldest {age:.1f} s old" if age is not None else "")
            + f"; published and kept: {count(document['published_kept'])}; relays: {len(document['relays'])}")  # fmt: skip
        say(f"learn queue: {count(document['learn_queued'])} attempts waiting (the relay learns them between batches)")
        busy = [s for s in document["slots"] if s["pending"]]
        if busy:
            print_table(SLOTS, busy, "slots")
        if document["partitions"]:
            print_table(PARTITIONS, document["partitions"], "lag per partition (pending events)")

    emit_document(document, as_json, show)


SOURCE = Annotated[str, typer.Option("--from", help="kafka (the compacted balances topic) or postgres.")]


@cache_app.command("rebuild")
def rebuild(source: SOURCE = "kafka", flush: Annotated[bool, typer.Option(help="Delete it first.")] = False) -> None:
    """Refill the balance cache from the compacted topic (or PostgreSQL)."""
    from ..relay import rebuild_cache

    settings = load_settings()
    if source not in ("kafka", "postgres"):
        raise ConfigurationError(f"--from: expected kafka or postgres, got {source!r}")
    if source == "kafka" and settings.kafka_bootstrap is None:
        raise ConfigurationError("DEBUGLOOP_KAFKA_BOOTSTRAP is not set: rebuild --from postgres, or set it")
    with client() as dl:
        if dl.cache is None:
            raise ConfigurationError("DEBUGLOOP_VALKEY_URL is not set: there is no cache to rebuild")
        flushed = dl.cache.flush() if flush else 0
        with dl.connection() as conn:
            written = rebuild_cache(dl.cache, settings, conn, source)
    say(f"{'flushed ' + count(flushed) + ', ' if flush else ''}wrote {count(written)} balances from {source}")


@cache_app.command("stats")
def stats(peers: Annotated[list[str], typer.Argument(help="Peers to read through the cache.")]) -> None:
    """Read peers' balances through the cache and print the hits and misses."""
    with client() as dl:
        if dl.cache is None:
            raise ConfigurationError("DEBUGLOOP_VALKEY_URL is not set: there is no cache")
        dl.ledger.balances(peers)
        s = dl.cache.stats
    say(f"hits {s.hits}, misses {s.misses}, errors {s.errors}, writes {s.writes}, refused (older) {s.refused}")


@balances_app.command("consume")
def consume(
    as_json: AS_JSON = False,
    timeout: Annotated[float, typer.Option(help="Seconds to read the topic to its end in.")] = 60.0,
) -> None:
    """Rebuild every peer's balance from token.transactions.v1 alone and compare with PostgreSQL (exit 1 on a mismatch)."""
    from ..relay import consume_balances

    settings = load_settings()
    if settings.kafka_bootstrap is None:
        raise ConfigurationError("DEBUGLOOP_KAFKA_BOOTSTRAP is not set: there are no events to consume")
    with client() as dl, dl.connection() as conn:
        result = consume_balances(settings, conn, timeout=timeout)
    result.pop("rebuilt")

    def show() -> None:
        say(f"{count(result['events'])} events ({count(result['duplicates'])} duplicates dropped), "
            f"{count(result['peers'])} peers, {len(result['mismatches'])} mismatches")  # fmt: skip
        for m in result["mismatches"][:20]:
            say(f"  {m['peer_id']}: postgres {m['postgres']}, events {m['events']}")

    emit_document(result, as_json, show)
    if result["mismatches"]:
        raise typer.Exit(1)
