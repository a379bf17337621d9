"""What a manager needs of whoever holds the connections: a connection for one
statement, and one for a transaction. :class:`debugloop.Client` provides both;
anything else that does (a test double, a connection of the caller's own) can
stand in for it, so no manager depends on the client."""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Protocol

import psycopg


class Connector(Protocol):
    def statement(self, conn: psycopg.Connection | None = None) -> AbstractContextManager[psycopg.Connection]:
        """``conn`` when given, else a connection on which one statement commits by itself."""
        ...

    def connection(self, conn: psycopg.Connection | None = None) -> AbstractContextManager[psycopg.Connection]:
        """``conn`` when given (its owner commits), else a connection in a transaction
        that commits when the block succeeds and rolls back when it raises."""
        ...
