"""What the benchmarks share: a throwaway embedded server, the corpora of tests/data, and percentiles."""

from __future__ import annotations

import json
import signal
import statistics
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from debugloop.embedded import FAST_UNSAFE_CONF, EmbeddedServer, Status
from debugloop.migrate import migrate

CORPUS = Path(__file__).resolve().parent.parent / "tests" / "data"


def corpus(pattern: str) -> list[dict]:
    """The rows of the JSON-lines files of tests/data matching ``pattern``, in name order."""
    rows = []
    for path in sorted(CORPUS.glob(pattern)):
        rows += [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    if not rows:
        sys.exit(f"no {pattern} in {CORPUS}")
    return rows


@contextmanager
def throwaway_server(*, fast: bool = True, migrated: bool = True) -> Iterator[Status]:
    """An embedded PostgreSQL in a temporary directory, stopped and removed afterwards,
    also when the benchmark is killed with SIGTERM. ``fast``: fsync and synchronous
    commit off, as the tests run."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    with tempfile.TemporaryDirectory() as tmp:
        server = EmbeddedServer(Path(tmp), extra_conf=FAST_UNSAFE_CONF if fast else None)
        status, _ = server.up()
        try:
            if migrated:
                migrate(status.url())
            yield status
        finally:
            server.down()


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def latency(name: str, samples_ms: list[float]) -> str:
    """One line: n, p50, p95, p99 in milliseconds."""
    return (
        f"{name:<34} n={len(samples_ms):>6}  p50 {statistics.median(samples_ms):7.3f} ms  "
        f"p95 {percentile(samples_ms, 0.95):7.3f} ms  p99 {percentile(samples_ms, 0.99):7.3f} ms"
    )
