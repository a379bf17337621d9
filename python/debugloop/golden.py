"""Golden states (``debugloop.golden_*``): proven solutions, nominated, reviewed,
reused. The thresholds of automatic nomination and approval are SQL
(functions/45_golden.sql and the trigger on attempts)."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any
from uuid import UUID

import psycopg

from ._manager import Manager
from .adapt import to_decimal
from .models import GoldenMatch, GoldenReview, GoldenState, GoldenSummary
from .queries import Q

DECISIONS = {"approve": Q.golden_approve, "reject": Q.golden_reject, "reopen": Q.golden_reopen}


class GoldenManager(Manager):
    """``debugloop.golden_*``: the golden-state registry and its review workflow."""

    def nominate(
        self,
        attempt_id: UUID,
        *,
        nominated_by: str | None = None,
        solution_summary: str | None = None,
        quality_score: Decimal | float | None = None,
        problem_category: str | None = None,
        conn: psycopg.Connection | None = None,
    ) -> UUID:
        """Nominate a successful attempt (pending review); nominating it again returns the same id."""
        params = {
            "attempt_id": attempt_id,
            "nominated_by": nominated_by,
            "solution_summary": solution_summary,
            "quality_score": to_decimal(quality_score),
            "problem_category": problem_category,
        }
        return self._value(Q.golden_nominate, params, conn)

    def get(self, golden_state_id: UUID | str, conn: psycopg.Connection | None = None) -> GoldenState:
        """One golden state by its id or a unique prefix of at least 8 hex digits."""
        return self._model(GoldenState, Q.golden_get, {"golden_state_id": str(golden_state_id)}, conn)

    def list(
        self, *, status: str | None = None, limit: int = 50, conn: psycopg.Connection | None = None
    ) -> list[GoldenSummary]:
        """Golden states, newest first; ``status``: pending, approved or rejected."""
        return self._models(GoldenSummary, Q.golden_list, {"status": status, "limit": limit}, conn)

    def match(
        self, problem: str, *, k: int = 5, approved_only: bool = False, conn: psycopg.Connection | None = None
    ) -> list[GoldenMatch]:
        """Golden states for problems like this one, best first."""
        params = {"problem": problem, "k": k, "approved_only": approved_only}
        return self._models(GoldenMatch, Q.golden_match, params, conn)

    def reviews(self, golden_state_id: UUID, conn: psycopg.Connection | None = None) -> list[GoldenReview]:
        """The decisions on a golden state, oldest first."""
        return self._models(GoldenReview, Q.golden_reviews, {"golden_state_id": golden_state_id}, conn)

    def review(
        self,
        golden_state_id: UUID,
        decision: str,
        by: str | None = None,
        notes: str | None = None,
        conn: psycopg.Connection | None = None,
    ) -> GoldenState:
        """``decision``: approve, reject or reopen (needs debugloop_admin). The review is
        recorded as made by the connection's database role; ``by`` names the person
        it acts for, a note beside it."""
        params = {"golden_state_id": golden_state_id, "by": by, "notes": notes}
        return self._review(DECISIONS, GoldenState, params, decision, conn)

    def record_reuse(
        self, golden_state_id: UUID, attempt_id: UUID, success: bool, conn: psycopg.Connection | None = None
    ) -> GoldenState:
        """An attempt reused a golden state; ``success`` is how that attempt ended."""
        params = {"golden_state_id": golden_state_id, "attempt_id": attempt_id, "success": success}
        return self._model(GoldenState, Q.golden_record_reuse, params, conn)

    def export(self, *, status: str | None = None, conn: psycopg.Connection | None = None) -> Iterator[dict[str, Any]]:
        """Every golden state with its evidence, oldest first, streamed from a
        server-side cursor (one transaction)."""
        return self._stream(Q.golden_export, {"status": status}, conn)
