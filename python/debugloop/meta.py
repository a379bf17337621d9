"""What is installed: the schema version, the components, the public SQL API."""

from __future__ import annotations

import psycopg

from ._manager import Manager
from .models import ApiEntry, Component
from .queries import Q


class MetaManager(Manager):
    def version(self, conn: psycopg.Connection | None = None) -> int:
        """The schema version (``debugloop.version()``)."""
        return self._value(Q.version, None, conn)

    def info(self, conn: psycopg.Connection | None = None) -> list[Component]:
        """PostgreSQL, pgvector, pg_trgm and the schema (``debugloop.info()``)."""
        return self._models(Component, Q.info, None, conn)

    def api(self, conn: psycopg.Connection | None = None) -> list[ApiEntry]:
        """The public SQL API (``debugloop.v_api``)."""
        return self._models(ApiEntry, Q.api, None, conn)
