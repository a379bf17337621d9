"""What a manager needs of whoever holds the connections: a connection for one
statement, and one for a transaction. :class:`debugloop.Client` provides both;
anything else that does (a test double, a connection of the caller's own) can
stand in for it, so no manager depends on the client."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Protocol

import psycopg

from .errors import wrap_exceptions


class Connector(Protocol):
    def statement(self, conn: psycopg.Connection | None = None) -> AbstractContextManager[psycopg.Connection]:
        """``conn`` when given, else a connection on which one statement commits by itself."""
        ...

    def connection(self, conn: psycopg.Connection | None = None) -> AbstractContextManager[psycopg.Connection]:
        """``conn`` when given (its owner commits), else a connection in a transaction
        that commits when the block succeeds and rolls back when it raises."""
        ...


class SingleConnection:
    """A :class:`Connector` over one connection of the caller's, in autocommit: for a
    short-lived process (a Claude Code hook) that makes a few calls and cannot
    afford a pool. ``connection()`` opens a transaction on it."""

    def __init__(self, conn: psycopg.Connection) -> None:
        self.conn = conn

    @contextmanager
    def statement(self, conn: psycopg.Connection | None = None) -> Iterator[psycopg.Connection]:
        yield conn if conn is not None else self.conn

    @contextmanager
    def connection(self, conn: psycopg.Connection | None = None) -> Iterator[psycopg.Connection]:
        if conn is not None:
            yield conn
            return
        with wrap_exceptions(), self.conn.transaction():
            yield self.conn
