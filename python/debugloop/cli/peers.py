"""``debugloop peers``: who earns and spends tokens, their agent names and roles."""

from __future__ import annotations

from typing import Annotated

import typer

from .common import AS_CSV, AS_JSON, LIMIT, client, group
from .render import Col, clip, count, emit, emit_document, say, table_spec, when

app = group(
    "Peers (who earns and spends tokens): list, show, create, freeze, unfreeze, bind, unbind, map, agents, adopt."
)

PEER = Annotated[str, typer.Argument(help="A peer id, such as peer_3f9a1c2b7d4e.")]
MEMO = Annotated[str | None, typer.Option(help="Why, kept in the peers' audit log.")]

PEERS = table_spec(
    "peers list",
    Col("peer", lambda p: p.peer_id, "key"),
    Col("kind", lambda p: p.kind, "key", drop=3),
    Col("status", lambda p: p.status, "key"),
    Col("balance", lambda p: count(p.balance), "num"),
    Col("held", lambda p: count(p.held), "num", drop=2),
    Col("available", lambda p: count(p.available), "num", drop=1),
    Col("agent names", lambda p: ", ".join(p.agent_names), drop=4),
    Col("name", lambda p: clip(p.display_name, 80), drop=5),
)


@app.command("list")
def list_peers(
    kind: Annotated[str | None, typer.Option(help="agent, person, service or system.")] = None,
    status: Annotated[str | None, typer.Option(help="active or frozen.")] = None,
    limit: LIMIT = 100,
    as_json: AS_JSON = False,
    as_csv: AS_CSV = False,
) -> None:
    """Peers, oldest first, with their tokens (balance = available + held) and agent names."""
    with client() as dl:
        rows = dl.peers.list(kind=kind, status=status, limit=limit)
    emit(PEERS, rows, as_json=as_json, as_csv=as_csv, empty="no peer matches")


def _describe(p) -> None:
    say(f"peer {p.peer_id} ({p.kind}, {p.status}): {p.display_name}")
    say(
        f"tokens: balance {count(p.balance)}, held {count(p.held)}, available {count(p.available)} (version {p.version})"
    )
    say(f"lifetime: earned {count(p.lifetime_earned)}, spent {count(p.lifetime_spent)}")
    say(f"agent names: {', '.join(p.agent_names) or '-'}; roles: {', '.join(p.roles) or '-'}")
    say(
        f"created {when(p.created_at)} by {p.created_by}"
        + (f"; status since {when(p.status_changed_at)}" if p.status_changed_at else "")
    )


@app.command("show")
def show(peer: PEER, as_json: AS_JSON = False) -> None:
    """One peer: its tokens, lifetime sums, agent names and bound roles."""
    with client() as dl:
        p = dl.peers.summary(peer)
    emit_document(p.model_dump(), as_json, lambda: _describe(p))


@app.command("create")
def create(
    peer_id: Annotated[str | None, typer.Argument(help="The id (default: peer_ and 12 random hex digits).")] = None,
    kind: Annotated[str, typer.Option(help="agent, person or service.")] = "agent",
    name: Annotated[str | None, typer.Option("--name", help="A display name (default: the id).")] = None,
    agent_name: Annotated[
        list[str] | None,
        typer.Option("--agent-name", help="An agent name of the attempts that is this peer (repeatable)."),
    ] = None,
    as_json: AS_JSON = False,
) -> None:
    """Create a peer with its account and its starter grant (admin); the same peer again changes nothing."""
    with client() as dl:
        created = dl.peers.create(peer_id, kind=kind, display_name=name, agent_names=agent_name)
        p = dl.peers.summary(created.peer_id)
    emit_document(p.model_dump(), as_json, lambda: _describe(p))


def _set_status(peer: str, status: str, memo: str | None, as_json: bool) -> None:
    with client() as dl:
        p = dl.peers.set_status(peer, status, memo=memo)
    emit_document(p.model_dump(), as_json, lambda: say(f"peer {p.peer_id} is {p.status}"))


@app.command("freeze")
def freeze(peer: PEER, memo: MEMO = None, as_json: AS_JSON = False) -> None:
    """Freeze a peer: no tokens in or out, no new hold; its holds still settle and release (admin; audited)."""
    _set_status(peer, "frozen", memo, as_json)


@app.command("unfreeze")
def unfreeze(peer: PEER, memo: MEMO = None, as_json: AS_JSON = False) -> None:
    """Unfreeze a peer (admin; audited)."""
    _set_status(peer, "active", memo, as_json)


@app.command("bind")
def bind(
    peer: PEER,
    role: Annotated[str, typer.Argument(help="A database role that an agent process logs in as.")],
    as_json: AS_JSON = False,
) -> None:
    """Bind a database role to a peer: acting as that role moves tokens out of this peer only (admin)."""
    with client() as dl:
        b = dl.peers.bind_role(peer, role)
    emit_document(b.model_dump(), as_json, lambda: say(f"role {b.role_name} acts for peer {b.peer_id}"))


@app.command("unbind")
def unbind(role: Annotated[str, typer.Argument(help="A bound database role.")], as_json: AS_JSON = False) -> None:
    """Remove a role's binding (admin)."""
    with client() as dl:
        b = dl.peers.unbind_role(role)
    emit_document(b.model_dump(), as_json, lambda: say(f"role {b.role_name} no longer acts for peer {b.peer_id}"))


@app.command("map")
def map_agent(
    agent_name: Annotated[str, typer.Argument(help="An agent name as the attempts record it.")],
    peer: PEER,
    as_json: AS_JSON = False,
) -> None:
    """Map an agent name of the attempts to a peer (admin; audited)."""
    with client() as dl:
        m = dl.peers.map_agent(agent_name, peer)
    emit_document(m.model_dump(), as_json, lambda: say(f"agent name {m.agent_name} is peer {m.peer_id}"))


AGENTS = table_spec(
    "peers agents",
    Col("agent name", lambda a: a.agent_name, "key"),
    Col("peer", lambda a: a.peer_id or "-", "key"),
    Col("attempts", lambda a: count(a.attempts), "num"),
    Col("STFs", lambda a: count(a.stfs), "num", drop=1),
    Col("last seen", lambda a: when(a.last_seen), "time", drop=2),
)


@app.command("agents")
def agents(
    unmapped: Annotated[bool, typer.Option("--unmapped", help="Only the names that map to no peer.")] = False,
    limit: LIMIT = 100,
    as_json: AS_JSON = False,
    as_csv: AS_CSV = False,
) -> None:
    """The agent names of the attempts and STFs, and the peer each maps to, most attempts first."""
    with client() as dl:
        rows = dl.peers.agent_names(unmapped_only=unmapped, limit=limit)
    emit(AGENTS, rows, as_json=as_json, as_csv=as_csv, empty="no agent name")


ADOPTED = table_spec(
    "peers adopt",
    Col("agent name", lambda a: a.agent_name, "key"),
    Col("peer", lambda a: a.peer_id, "key"),
)


@app.command("adopt")
def adopt(
    kind: Annotated[str, typer.Option(help="The kind of the new peers.")] = "agent",
    as_json: AS_JSON = False,
    as_csv: AS_CSV = False,
) -> None:
    """A peer (with its starter grant) for every agent name that has none (admin)."""
    with client() as dl:
        rows = dl.peers.adopt_agents(kind=kind)
    emit(ADOPTED, rows, as_json=as_json, as_csv=as_csv, empty="every agent name has its peer")


@app.command("whoami")
def whoami(as_json: AS_JSON = False) -> None:
    """The role this connection acts as, the peer bound to it, and whether it is an admin."""
    with client() as dl:
        c = dl.peers.current()
    emit_document(
        c.model_dump(),
        as_json,
        lambda: say(f"role {c.role_name}: peer {c.peer_id or '- (bound to none)'}{', admin' if c.is_admin else ''}"),
    )
