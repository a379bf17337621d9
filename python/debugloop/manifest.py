"""The manifest (``debugloop.manifest``): what the next agent should know before it
works on a problem. The document is built in SQL (functions/50_manifest.sql)."""

from __future__ import annotations

import json
from decimal import Decimal

import psycopg

from ._manager import Manager
from .models import Manifest
from .queries import Q


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
