"""Peers (who earns and spends tokens), their agent names and bound roles."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from .base import Row


class Peer(Row):
    """A row of ``debugloop.peers``."""

    __relation__ = "debugloop.peers"

    peer_id: str
    kind: str
    display_name: str
    status: str
    metadata: Any
    created_by: str
    created_at: datetime
    status_changed_at: datetime | None


class PeerSummary(Row):
    """A row of ``debugloop.v_peers``: a peer with its balance, agent names and roles."""

    __relation__ = "debugloop.v_peers"

    peer_id: str
    kind: str
    display_name: str
    status: str
    balance: int
    held: int
    available: int
    lifetime_earned: int
    lifetime_spent: int
    version: int
    agent_names: list[str]
    roles: list[str]
    created_by: str
    created_at: datetime
    status_changed_at: datetime | None


class PeerRole(Row):
    """A row of ``debugloop.peer_roles``: a database role bound to the peer it acts for."""

    __relation__ = "debugloop.peer_roles"

    role_name: str
    peer_id: str
    bound_by: str
    bound_at: datetime


class AgentName(Row):
    """A row of ``debugloop.peer_agent_names``: an agent name mapped to its peer."""

    __relation__ = "debugloop.peer_agent_names"

    agent_name: str
    peer_id: str
    mapped_by: str
    mapped_at: datetime


class AgentNameSeen(Row):
    """A row of ``debugloop.v_peer_agent_names``: an agent name of the attempts and STFs, and its peer."""

    __relation__ = "debugloop.v_peer_agent_names"

    agent_name: str
    peer_id: str | None
    attempts: int
    stfs: int
    first_seen: datetime | None
    last_seen: datetime | None
    mapped_by: str | None
    mapped_at: datetime | None


class AdoptedAgent(Row):
    """A row of ``debugloop.peer_adopt_agents(kind)``: an agent name and the peer made for it."""

    __relation__ = "debugloop.peer_adopt_agents(text)"

    agent_name: str
    peer_id: str


class CurrentPeer(Row):
    """The row of ``debugloop.peer_current()``: the acting role, its peer, whether it is an admin."""

    __relation__ = "debugloop.peer_current()"

    role_name: str
    peer_id: str | None
    is_admin: bool
