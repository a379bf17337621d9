"""debugloop: the memory and the wallet of a team of LLM coding agents, inside PostgreSQL.

import debugloop
dl = debugloop.connect()          # DEBUGLOOP_DATABASE_URL, else the embedded server
dl.settings.get("enable_stf_extraction")

The names below are imported when first used, so that a process that needs one
module (a Claude Code hook, which has a time budget) does not pay for all of them.
"""

from __future__ import annotations

from importlib import import_module

TYPE_CHECKING = False  # not typing's: importing typing costs a Claude Code hook ~10 ms

__version__ = "0.1.0"

__all__ = ["Client", "DebugloopError", "Settings", "connect", "load_settings", "__version__"]

_LAZY = {
    "Client": "client",
    "connect": "client",
    "Settings": "config",
    "load_settings": "config",
    "DebugloopError": "errors",
}

if TYPE_CHECKING:
    from .client import Client, connect
    from .config import Settings, load_settings
    from .errors import DebugloopError


def __getattr__(name: str):
    if name in _LAZY:
        value = getattr(import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
