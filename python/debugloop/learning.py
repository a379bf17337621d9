"""``debugloop.learn_*``: the learning of imported attempts (STF extraction, golden
states), queued by an import and done by ``learn_pending`` in batches.

A worker loop (the relay, ``debugloop learn``) calls :meth:`LearningManager.drain`
once per turn; :meth:`LearningManager.drain_all` runs until nothing is queued."""

from __future__ import annotations

from collections.abc import Callable

import psycopg

from ._manager import Manager
from .queries import Q

BATCH_ROWS = 500


class LearningManager(Manager):
    def queued(self, conn: psycopg.Connection | None = None) -> int:
        """How many attempts wait for their learning."""
        return self._value(Q.learn_queued, None, conn)

    def drain(self, max_rows: int = BATCH_ROWS, conn: psycopg.Connection | None = None) -> int:
        """Learn from up to ``max_rows`` queued attempts in one transaction (rows
        another worker holds are skipped); how many were learned."""
        return self._value(Q.learn_pending, {"max_rows": max_rows}, conn)

    def drain_all(self, max_rows: int = BATCH_ROWS, progress: Callable[[int, int], None] | None = None) -> int:
        """Drain until a batch learns nothing; ``progress(learned, learned + queued)``
        after each batch. How many were learned."""
        learned = 0
        while True:
            n = self.drain(max_rows)
            learned += n
            if progress:
                progress(learned, learned + self.queued())
            if n == 0:
                return learned
