"""The balance cache in Valkey (or Redis): ``token:balance:{peer_id}`` hashes.

The relay writes a peer's balance after the broker acknowledged its event; a
reader (``dl.ledger.balance``) tries the cache first and, on a miss, reads
PostgreSQL and fills the cache with the version it read. Every write goes
through one Lua script that refuses to replace a newer version with an older
one, so a miss-fill racing a relay write never turns the cache back. The cache
is never the truth (PostgreSQL is): when Valkey is down a read falls back to
PostgreSQL, and for a second after a failure the cache is not asked at all.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

KEY_PREFIX = "token:balance:"
FIELDS = (
    "peer_id",
    "balance",
    "held",
    "available",
    "lifetime_earned",
    "lifetime_spent",
    "version",
    "last_transaction_id",
    "last_updated",
)
INTEGERS = {"balance", "held", "available", "lifetime_earned", "lifetime_spent", "version"}

# KEYS[1] the hash; ARGV[1] the version, ARGV[2] the TTL, then field/value pairs.
# 1 written, 0 refused (the cache holds a newer version).
_PUT = """
local current = redis.call('HGET', KEYS[1], 'version')
if current and tonumber(current) > tonumber(ARGV[1]) then
    return 0
end
redis.call('HSET', KEYS[1], unpack(ARGV, 3))
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[2]))
return 1
"""

RETRY_AFTER = 1.0  # seconds the cache is skipped after a failure


@dataclass
class CacheStats:
    hits: int = 0
    misses: int = 0
    errors: int = 0
    writes: int = 0
    refused: int = 0

    @property
    def hit_rate(self) -> float:
        asked = self.hits + self.misses
        return self.hits / asked if asked else 0.0


class CacheUnavailable(Exception):
    """Valkey did not answer (the caller goes on without the cache)."""


class BalanceCache:
    """``token:balance:{peer_id}`` in Valkey, written by version."""

    def __init__(self, url: str, *, ttl: int = 3600, timeout: float = 0.5) -> None:
        import redis  # the relay extra: only a process with a cache configured loads it

        self.url = url
        self.ttl = ttl
        self._redis = redis.Redis.from_url(
            url.replace("valkey://", "redis://", 1).replace("valkeys://", "rediss://", 1),
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
            decode_responses=True,
        )
        self._errors = (redis.RedisError, OSError)
        self._put = self._redis.register_script(_PUT)
        self._down_until = 0.0
        self._lock = threading.Lock()
        self.stats = CacheStats()

    # -- writes -------------------------------------------------------------------------

    def put_many(self, balances: Iterable[Mapping[str, Any]]) -> int:
        """Write balances (token.balances.v1 events, or Balance rows as dicts) unless the
        cache holds a newer version of the peer; returns how many were written.
        Raises CacheUnavailable when Valkey does not answer."""
        items = [self._fields(b) for b in balances]
        if not items:
            return 0
        try:
            with self._redis.pipeline(transaction=False) as pipe:
                for fields in items:
                    args = [fields["version"], self.ttl]
                    for name, value in fields.items():
                        args += [name, value]
                    self._put(keys=[KEY_PREFIX + fields["peer_id"]], args=args, client=pipe)
                results = pipe.execute()
        except self._errors as exc:
            self._failed()
            raise CacheUnavailable(" ".join(str(exc).split())) from exc
        written = sum(1 for r in results if r == 1)
        with self._lock:
            self.stats.writes += written
            self.stats.refused += len(results) - written
        return written

    def put(self, balance: Mapping[str, Any]) -> bool:
        return self.put_many([balance]) == 1

    @staticmethod
    def _fields(balance: Mapping[str, Any]) -> dict[str, str]:
        """The hash's fields of a balance event or a Balance row (its last transfer's
        id and time under the event's names)."""
        b = dict(balance)
        if "last_transaction_id" not in b and "last_transfer_id" in b:
            b["last_transaction_id"] = b.get("last_transfer_id")
        if "last_updated" not in b and "last_transfer_at" in b:
            at = b.get("last_transfer_at")
            b["last_updated"] = at.isoformat() if hasattr(at, "isoformat") else at
        return {name: "" if b.get(name) is None else str(b[name]) for name in FIELDS}

    # -- reads --------------------------------------------------------------------------

    def get_many(self, peers: list[str]) -> list[dict[str, Any] | None]:
        """The cached balances of peers (None for a miss), one pipelined round trip.
        Counts hits and misses; when Valkey is down, every peer is a miss (and an error)."""
        if not peers:
            return []
        if time.monotonic() < self._down_until:
            with self._lock:
                self.stats.misses += len(peers)
            return [None] * len(peers)
        try:
            with self._redis.pipeline(transaction=False) as pipe:
                for peer in peers:
                    pipe.hgetall(KEY_PREFIX + peer)
                raw = pipe.execute()
        except self._errors:
            self._failed()
            with self._lock:
                self.stats.misses += len(peers)
            return [None] * len(peers)
        result = [self._decode(r) if r else None for r in raw]
        hits = sum(1 for r in result if r is not None)
        with self._lock:
            self.stats.hits += hits
            self.stats.misses += len(result) - hits
        return result

    def get(self, peer: str) -> dict[str, Any] | None:
        return self.get_many([peer])[0]

    @staticmethod
    def _decode(raw: Mapping[str, str]) -> dict[str, Any]:
        return {k: (int(v) if k in INTEGERS else (v or None)) for k, v in raw.items()}

    # -- upkeep -------------------------------------------------------------------------

    def flush(self) -> int:
        """Delete every cached balance; returns how many."""
        deleted = 0
        try:
            batch = []
            for key in self._redis.scan_iter(match=KEY_PREFIX + "*", count=1000):
                batch.append(key)
                if len(batch) >= 1000:
                    deleted += self._redis.delete(*batch)
                    batch = []
            if batch:
                deleted += self._redis.delete(*batch)
        except self._errors as exc:
            raise CacheUnavailable(" ".join(str(exc).split())) from exc
        return deleted

    def ping(self) -> bool:
        try:
            return bool(self._redis.ping())
        except self._errors:
            return False

    def _failed(self) -> None:
        with self._lock:
            self.stats.errors += 1
        self._down_until = time.monotonic() + RETRY_AFTER

    def close(self) -> None:
        self._redis.close()
