"""The base of the per-domain managers: run a named query on the caller's
connection or one of the connector's, map psycopg errors, turn rows into models.

A manager depends only on a :class:`~debugloop.connection.Connector`, never on the
client, and on no other domain's manager. The models (pydantic) are not imported
here: a call that returns text or a number (what a Claude Code hook asks, within
its time budget) does not load them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, TypeVar

import psycopg
from psycopg.rows import dict_row

from .connection import Connector
from .errors import InvalidParameter, wrap_exceptions

if TYPE_CHECKING:
    from .models import Row

R = TypeVar("R", bound="Row")

DECISIONS = ("approve", "reject", "reopen")


def _dict_row(cursor: psycopg.Cursor):
    """Rows as dicts, with names read straight from the result: psycopg's dict_row
    builds a Column object per column first, which cost more than the query for
    wide rows such as an attempt."""
    result = cursor.pgresult
    if result is None:
        return None
    names = [result.fname(i).decode() for i in range(result.nfields)]
    return lambda values: dict(zip(names, values, strict=True))


class Manager:
    def __init__(self, db: Connector) -> None:
        self._db = db

    def _rows(self, query: str, params: dict[str, Any] | None = None, conn: psycopg.Connection | None = None):
        with wrap_exceptions(), self._db.statement(conn) as c, c.cursor(row_factory=_dict_row) as cur:
            cur.execute(query, params)
            return cur.fetchall()

    def _value(self, query: str, params: dict[str, Any] | None = None, conn: psycopg.Connection | None = None):
        """The first column of the first row."""
        return next(iter(self._rows(query, params, conn)[0].values()))

    def _models(self, model: type[R], query: str, params=None, conn=None) -> list[R]:
        return [model.model_validate(row) for row in self._rows(query, params, conn)]

    def _model(self, model: type[R], query: str, params=None, conn=None) -> R:
        return self._models(model, query, params, conn)[0]

    def _stream(self, query: str, params: dict[str, Any], conn=None, batch: int = 500) -> Iterator[dict[str, Any]]:
        """The rows of ``query`` as dicts, streamed from a server-side cursor in one
        transaction (``batch`` rows per round trip): for exports of any size."""
        with (
            self._db.connection(conn) as c,
            wrap_exceptions(),
            c.cursor("debugloop_stream", row_factory=dict_row) as cur,
        ):
            cur.itersize = batch
            cur.execute(query, params)
            yield from cur

    def _review(self, queries: dict[str, str], model: type[R], params: dict[str, Any], decision: str, conn=None) -> R:
        """A review workflow's decision (approve, reject or reopen), each with its query."""
        if decision not in DECISIONS:
            raise InvalidParameter(f"decision must be approve, reject or reopen, got {decision!r}", field="decision")
        return self._model(model, queries[decision], params, conn)
