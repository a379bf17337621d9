"""Peers (``debugloop.peer_*``): who earns and spends tokens, the agent names of
the attempts mapped to them, and the database roles bound to them. Creating,
freezing, binding and mapping are admin functions; the rules are SQL
(functions/70_peers.sql)."""

from __future__ import annotations

from typing import Any

import psycopg

from ._manager import Manager
from .adapt import jsonb
from .models import AdoptedAgent, AgentName, AgentNameSeen, CurrentPeer, Peer, PeerRole, PeerSummary
from .queries import Q


class PeersManager(Manager):
    """``debugloop.peer_*``: peers, their agent names and bound roles."""

    def create(
        self,
        peer_id: str | None = None,
        *,
        kind: str = "agent",
        display_name: str | None = None,
        agent_names: list[str] | None = None,
        metadata: Any = None,
        conn: psycopg.Connection | None = None,
    ) -> Peer:
        """A new peer with its account and its starter grant (admin); the same peer again returns it."""
        params = {
            "peer_id": peer_id,
            "kind": kind,
            "display_name": display_name,
            "agent_names": agent_names,
            "metadata": jsonb(metadata, "metadata"),
        }
        return self._model(Peer, Q.peer_create, params, conn)

    def get(self, peer: str, conn: psycopg.Connection | None = None) -> Peer:
        """One peer (UnknownPeer when none has this id)."""
        return self._model(Peer, Q.peer_get, {"peer": peer}, conn)

    def summary(self, peer: str, conn: psycopg.Connection | None = None) -> PeerSummary:
        """One peer with its balance, agent names and bound roles (UnknownPeer when none has this id)."""
        return self._model(PeerSummary, Q.peer_summary, {"peer": peer}, conn)

    def list(
        self,
        *,
        kind: str | None = None,
        status: str | None = None,
        limit: int = 100,
        conn: psycopg.Connection | None = None,
    ) -> list[PeerSummary]:
        """Peers, oldest first; ``kind``: agent, person, service, system; ``status``: active, frozen."""
        return self._models(PeerSummary, Q.peer_list, {"kind": kind, "status": status, "limit": limit}, conn)

    def set_status(
        self, peer: str, status: str, *, memo: str | None = None, conn: psycopg.Connection | None = None
    ) -> Peer:
        """Freeze (``frozen``) or unfreeze (``active``) a peer (admin; audited)."""
        return self._model(Peer, Q.peer_set_status, {"peer": peer, "status": status, "memo": memo}, conn)

    def bind_role(self, peer: str, role_name: str, conn: psycopg.Connection | None = None) -> PeerRole:
        """Bind a database role to a peer: a session acting as it moves tokens out of this peer only (admin)."""
        return self._model(PeerRole, Q.peer_bind_role, {"peer": peer, "role_name": role_name}, conn)

    def unbind_role(self, role_name: str, conn: psycopg.Connection | None = None) -> PeerRole:
        """Remove a role's binding (admin)."""
        return self._model(PeerRole, Q.peer_unbind_role, {"role_name": role_name}, conn)

    def map_agent(self, agent_name: str, peer: str, conn: psycopg.Connection | None = None) -> AgentName:
        """Map an agent name of the attempts to a peer (admin)."""
        return self._model(AgentName, Q.peer_map_agent, {"agent_name": agent_name, "peer": peer}, conn)

    def agent_names(
        self, *, unmapped_only: bool = False, limit: int = 100, conn: psycopg.Connection | None = None
    ) -> list[AgentNameSeen]:
        """The agent names of the attempts and STFs with their peers, most attempts first."""
        params = {"unmapped_only": unmapped_only, "limit": limit}
        return self._models(AgentNameSeen, Q.peer_agent_list, params, conn)

    def adopt_agents(self, *, kind: str = "agent", conn: psycopg.Connection | None = None) -> list[AdoptedAgent]:
        """A peer (with its starter grant) for every agent name that has none (admin)."""
        return self._models(AdoptedAgent, Q.peer_adopt_agents, {"kind": kind}, conn)

    def current(self, conn: psycopg.Connection | None = None) -> CurrentPeer:
        """The role this session acts as, the peer bound to it and whether it is an admin."""
        return self._model(CurrentPeer, Q.peer_current, None, conn)
