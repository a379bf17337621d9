"""debugloop: the memory and the wallet of a team of LLM coding agents, inside PostgreSQL.

import debugloop
dl = debugloop.connect()          # DEBUGLOOP_DATABASE_URL, else the embedded server
dl.settings.get("enable_stf_extraction")
"""

from .client import Client, connect
from .config import Settings, load_settings
from .errors import DebugloopError

__version__ = "0.1.0"

__all__ = ["Client", "DebugloopError", "Settings", "connect", "load_settings", "__version__"]
