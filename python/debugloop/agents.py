"""Who is who (``debugloop.agent_session_*``): which agent, session and project a
Claude Code hook or an MCP call served, for Part 2 to bind to peers."""

from __future__ import annotations

from typing import TYPE_CHECKING

import psycopg

from ._manager import Manager
from .queries import Q

if TYPE_CHECKING:
    from .models import AgentSession


class AgentsManager(Manager):
    def record(
        self,
        agent_name: str,
        session_key: str,
        via: str,
        event: str,
        *,
        project: str | None = None,
        transcript_path: str | None = None,
        model: str | None = None,
        prompt: str | None = None,
        os_user: str | None = None,
        client: str | None = None,
        conn: psycopg.Connection | None = None,
    ) -> int:
        """Record one call of a hook (``via="hook"``) or an MCP tool (``"mcp"``) for an
        agent's session; returns the session's number of calls (``agent_session_record``).
        A session recorded by another database role raises SessionConflict."""
        params = {
            "agent_name": agent_name,
            "session_key": session_key,
            "via": via,
            "event": event,
            "project": project,
            "transcript_path": transcript_path,
            "model": model,
            "prompt": prompt,
            "os_user": os_user,
            "client": client,
        }
        return self._value(Q.agent_session_record, params, conn)

    def last_prompt(self, agent_name: str, session_key: str, conn: psycopg.Connection | None = None) -> str | None:
        """The latest prompt recorded for the session (``agent_session_prompt``), or None."""
        return self._value(Q.agent_session_prompt, {"agent_name": agent_name, "session_key": session_key}, conn)

    def sessions(
        self,
        agent_name: str | None = None,
        project: str | None = None,
        limit: int | None = 20,
        conn: psycopg.Connection | None = None,
    ) -> list[AgentSession]:
        """The agent sessions, latest first, with their imported attempts and cost."""
        from .models import AgentSession  # here: recording a call needs no pydantic

        params = {"agent_name": agent_name, "project": project, "limit": limit}
        return self._models(AgentSession, Q.agent_session_list, params, conn)
