"""Feature flags and thresholds (``debugloop.settings``)."""

from __future__ import annotations

from typing import Any

import psycopg

from ._manager import Manager
from .models import Setting
from .queries import Q


class SettingsManager(Manager):
    def list(self, conn: psycopg.Connection | None = None) -> list[Setting]:
        return self._models(Setting, Q.settings, {"key": None}, conn)

    def get(self, key: str, conn: psycopg.Connection | None = None) -> Any:
        """The value in force for this client's sessions."""
        return self._value(Q.settings_get, {"key": key}, conn)

    def set(self, key: str, value: Any, conn: psycopg.Connection | None = None) -> Setting:
        """Change a setting for everyone (needs debugloop_admin). ``value`` is parsed by the setting's type."""
        text = ("true" if value else "false") if isinstance(value, bool) else str(value)
        with self._db.connection(conn) as c:
            self._rows(Q.settings_set, {"key": key, "value": text}, c)
            return self._model(Setting, Q.settings, {"key": key}, c)
