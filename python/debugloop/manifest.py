"""The manifest (``debugloop.manifest``): what the next agent should know before it
works on a problem. The document is built in SQL (functions/50_manifest.sql)."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import TYPE_CHECKING

import psycopg

from ._manager import Manager
from .queries import Q

if TYPE_CHECKING:
    from .models import Manifest


class ManifestManager(Manager):
    def document(
        self,
        problem: str,
        agent_name: str | None = None,
        model: str | None = None,
        k: int = 5,
        conn: psycopg.Connection | None = None,
    ) -> str:
        """The manifest as the JSON text that SQL wrote (numbers exact)."""
        return self._value(Q.manifest, {"problem": problem, "agent_name": agent_name, "model": model, "k": k}, conn)

    def get(
        self,
        problem: str,
        agent_name: str | None = None,
        model: str | None = None,
        k: int = 5,
        conn: psycopg.Connection | None = None,
    ) -> Manifest:
        """The manifest as a model: STFs, golden states, known failures, likely errors
        and their fixes, and a cost block. Amounts stay exact (Decimal)."""
        from .models import Manifest  # here, not at the top: text-only callers need no pydantic

        text = self.document(problem, agent_name, model, k, conn)
        return Manifest.model_validate(json.loads(text, parse_float=Decimal))

    def markdown(
        self,
        problem: str,
        agent_name: str | None = None,
        model: str | None = None,
        k: int = 5,
        max_chars: int = 6000,
        conn: psycopg.Connection | None = None,
    ) -> str:
        """The manifest as Markdown for a prompt, at most ``max_chars`` characters."""
        params = {"problem": problem, "agent_name": agent_name, "model": model, "k": k, "max_chars": max_chars}
        return self._value(Q.manifest_markdown, params, conn)

    def context(
        self,
        problem: str,
        agent_name: str | None = None,
        model: str | None = None,
        k: int = 5,
        max_chars: int = 4000,
        conn: psycopg.Connection | None = None,
    ) -> str | None:
        """What an agent's context gets before it works on ``problem``: the Markdown
        of :meth:`markdown`, or None when nothing is known (``manifest_context``)."""
        params = {"problem": problem, "agent_name": agent_name, "model": model, "k": k, "max_chars": max_chars}
        return self._value(Q.manifest_context, params, conn)

    def for_error(
        self,
        message: str,
        error_type: str | None = None,
        stacktrace: str | None = None,
        user_request: str | None = None,
        k: int = 3,
        max_chars: int = 2000,
        conn: psycopg.Connection | None = None,
    ) -> str | None:
        """What an agent is told after a tool call failed: the fixes for the error and
        the approaches that failed for ``user_request``, as Markdown, or None when
        nothing is known (``manifest_for_error``)."""
        params = {
            "message": message,
            "error_type": error_type,
            "stacktrace": stacktrace,
            "user_request": user_request,
            "k": k,
            "max_chars": max_chars,
        }
        return self._value(Q.manifest_for_error, params, conn)
