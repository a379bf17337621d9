"""Who is who: the agent sessions that Claude Code hooks and MCP calls served."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from uuid import UUID

from .base import Row


class AgentSession(Row):
    """A row of ``debugloop.agent_session_list(text, text, integer)``."""

    __relation__ = "debugloop.agent_session_list(text, text, integer)"

    agent_name: str
    session_key: str
    via: str
    project: str | None
    os_user: str | None
    db_role: str
    client: str | None
    model: str | None
    transcript_path: str | None
    last_event: str
    events: int
    first_seen_at: datetime
    last_seen_at: datetime
    correlation_id: UUID | None
    attempts: int
    cost_usd: Decimal | None
