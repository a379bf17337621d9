"""Error intelligence (``debugloop.error_*``): signatures, fixes, known failures."""

from __future__ import annotations

import psycopg

from ._manager import Manager
from .adapt import ErrorText
from .models import (
    ErrorDescription,
    ErrorFix,
    ErrorMapping,
    ErrorSignature,
    KnownFailure,
    LikelyFix,
)
from .queries import Q


class ErrorsManager(Manager):
    @staticmethod
    def _text(error: BaseException | str, error_type: str | None, stacktrace: str | None) -> ErrorText:
        if isinstance(error, BaseException):
            return ErrorText.of(error)
        return ErrorText(error_type, error, stacktrace)

    def describe(
        self,
        error: BaseException | str,
        *,
        error_type: str | None = None,
        stacktrace: str | None = None,
        conn: psycopg.Connection | None = None,
    ) -> ErrorDescription:
        """The signature, type, normalised message, frames and category of an exception or a message."""
        return self._model(ErrorDescription, Q.error_describe, vars(self._text(error, error_type, stacktrace)), conn)

    def fixes(
        self,
        error: BaseException | str,
        *,
        error_type: str | None = None,
        stacktrace: str | None = None,
        k: int = 5,
        conn: psycopg.Connection | None = None,
    ) -> list[ErrorFix]:
        """Ranked fixes for an exception (``dl.errors.fixes(exc)``) or an error message:
        its exact signature's fixes first, then those of similar errors."""
        e = self._text(error, error_type, stacktrace)
        return self._models(ErrorFix, Q.error_fixes, {**vars(e), "k": k}, conn)

    def top(
        self, limit: int = 20, category: str | None = None, conn: psycopg.Connection | None = None
    ) -> list[ErrorSignature]:
        """The most frequent error signatures."""
        return self._models(ErrorSignature, Q.error_top, {"limit": limit, "category": category}, conn)

    def get(self, signature: str, conn: psycopg.Connection | None = None) -> ErrorSignature:
        """One signature by its hex or a unique prefix of at least 8 hex digits."""
        return self._model(ErrorSignature, Q.error_get, {"signature": signature}, conn)

    def mappings(self, signature: str, conn: psycopg.Connection | None = None) -> list[ErrorMapping]:
        """The approaches that fixed this signature, most trusted first."""
        return self._models(ErrorMapping, Q.error_mappings, {"signature": signature}, conn)

    def known_failures(
        self, user_request: str, k: int = 5, conn: psycopg.Connection | None = None
    ) -> list[KnownFailure]:
        """Approaches that failed for this request or similar ones and never succeeded."""
        return self._models(KnownFailure, Q.error_known_failures, {"user_request": user_request, "k": k}, conn)

    def likely_fixes(self, problem: str, k: int = 5, conn: psycopg.Connection | None = None) -> list[LikelyFix]:
        """Errors met at this or similar problems that have a fix, most frequent first, with the best fix."""
        return self._models(LikelyFix, Q.error_likely_fixes, {"problem": problem, "k": k}, conn)
