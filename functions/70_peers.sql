-- peers: who earns and spends tokens (agents, people, services), the agent names of
-- Part 1 mapped to them, and the database roles bound to them.
--
-- A peer is created by an admin (peer_create) with its account and, once, the
-- starter grant (the setting ledger_starter_grant). An agent process logs in as a
-- role that an admin bound to its peer (peer_bind_role); the ledger lets that role
-- move tokens out of that peer only. Changes are audited in debugloop.peer_audit.
-- The writing functions are SECURITY DEFINER, owned by debugloop_owner.

-- debugloop._peer_is_system(peer_id): whether a peer id names one of the system
-- peers (issuance, compute, holds). Why: the ledger routes system accounts through
-- shards and checks no balance of theirs. Locks: none.
create or replace function debugloop._peer_is_system(peer_id text)
returns boolean
language sql
immutable
as $$ select peer_id in ('sys_issuance', 'sys_compute', 'sys_holds') $$;

-- debugloop._peer_row(peer, field): the peer, or DL032 naming `field`. Locks: none.
create or replace function debugloop._peer_row(peer text, field text default 'peer')
returns debugloop.peers
language plpgsql
stable
as $$
declare
    result debugloop.peers;
begin
    select * into result from debugloop.peers p where p.peer_id = _peer_row.peer;
    if not found then
        raise exception 'peer % does not exist', coalesce(quote_literal(peer), 'NULL')
            using errcode = 'DL032', column = field, hint = 'debugloop.peer_list() lists the peers';
    end if;
    return result;
end
$$;

-- debugloop._peer_not_system(peer, field): DL001 for a system peer, which no admin
-- creates, freezes, binds or maps. Locks: none.
create or replace function debugloop._peer_not_system(peer debugloop.peers, field text default 'peer')
returns debugloop.peers
language plpgsql
immutable
as $$
begin
    if peer.kind = 'system' then
        raise exception 'peer % is a system peer', peer.peer_id
            using errcode = 'DL001', column = field, detail = 'system peers stand for the issuance, compute and holds accounts';
    end if;
    return peer;
end
$$;

-- debugloop._peer_audit(peer_id, action, detail): one row of debugloop.peer_audit,
-- by the acting role. Locks: none beyond the insert.
create or replace function debugloop._peer_audit(peer_id text, action text, detail jsonb)
returns void
language sql
volatile
as $$
    insert into debugloop.peer_audit (peer_id, action, detail, acted_by)
    values (peer_id, action, detail, debugloop._util_caller()::text)
$$;

-- debugloop._peer_map(agent_name, peer_id): map an agent name to a peer (a new
-- mapping, or a remapping, audited); the same mapping again changes nothing.
-- Raises DL001 for an empty name. Locks: the mapping's row.
create or replace function debugloop._peer_map(agent_name text, peer_id text)
returns debugloop.peer_agent_names
language plpgsql
volatile
as $$
declare
    name text := btrim(agent_name);
    before debugloop.peer_agent_names;
    result debugloop.peer_agent_names;
begin
    if name is null or name = '' then
        raise exception 'agent_name must not be empty' using errcode = 'DL001', column = 'agent_name';
    end if;
    select * into before from debugloop.peer_agent_names m where m.agent_name = name for update;
    if found and before.peer_id = _peer_map.peer_id then
        return before;
    end if;
    insert into debugloop.peer_agent_names as m (agent_name, peer_id, mapped_by)
    values (name, _peer_map.peer_id, debugloop._util_caller()::text)
    on conflict on constraint peer_agent_names_pkey
    do update set peer_id = excluded.peer_id, mapped_by = excluded.mapped_by, mapped_at = now()
    returning m.* into result;
    perform debugloop._peer_audit(_peer_map.peer_id, 'agent_name_mapped',
                                  jsonb_build_object('agent_name', name, 'previous_peer_id', before.peer_id));
    return result;
end
$$;

-- debugloop._peer_insert(peer_id, kind, display_name, metadata): create a peer with
-- its account and its starter grant (the setting ledger_starter_grant, a bonus from
-- issuance whose transfer id is derived from the peer id, so it is granted once).
-- The same peer again returns it; the same id with another kind, name or metadata
-- is DL031. Raises DL001 for a bad id or kind. Locks: the new peer's rows; the
-- grant locks the peer's account and an issuance shard.
create or replace function debugloop._peer_insert(peer_id text, kind text, display_name text, metadata jsonb)
returns debugloop.peers
language plpgsql
volatile
as $$
declare
    id text := coalesce(peer_id, 'peer_' || left(replace(gen_random_uuid()::text, '-', ''), 12));
    name text := coalesce(nullif(btrim(display_name), ''), id);
    result debugloop.peers;
    grant_amount bigint := debugloop._settings_number('ledger_starter_grant')::bigint;
begin
    if kind is null or kind not in ('agent', 'person', 'service') then
        raise exception 'kind must be agent, person or service; got %', coalesce(quote_literal(kind), 'NULL')
            using errcode = 'DL001', column = 'kind';
    end if;
    if id !~ '^[a-z][a-z0-9_-]{2,62}$' or id like 'sys\_%' then
        raise exception 'peer_id % is not a valid peer id', quote_literal(id)
            using errcode = 'DL001', column = 'peer_id',
                  detail = '3 to 63 characters: a lower-case letter, then letters, digits, _ or -; sys_ is reserved',
                  hint = 'leave peer_id out to get one such as peer_3f9a1c2b7d4e';
    end if;
    if metadata is not null and jsonb_typeof(metadata) <> 'object' then
        raise exception 'metadata must be a JSON object' using errcode = 'DL001', column = 'metadata';
    end if;
    insert into debugloop.peers as p (peer_id, kind, display_name, metadata, created_by)
    values (id, kind, name, metadata, debugloop._util_caller()::text)
    on conflict on constraint peers_pkey do nothing
    returning p.* into result;
    if not found then
        select * into result from debugloop.peers p where p.peer_id = id;
        if (result.kind, result.display_name, result.metadata) is distinct from (kind, name, metadata) then
            raise exception 'peer % exists with other content', id
                using errcode = 'DL031', column = 'peer_id',
                      detail = format('it is a %s named %s', result.kind, quote_literal(result.display_name)),
                      hint = 'choose another peer_id, or give the same kind, display name and metadata';
        end if;
        return result;
    end if;
    insert into debugloop.ledger_accounts (peer_id) values (id);
    perform debugloop._peer_audit(id, 'created', jsonb_build_object('kind', kind, 'display_name', name));
    if grant_amount > 0 then
        perform debugloop._ledger_post_single(row(
            debugloop._ledger_derived_id(id, 'starter_grant'), 'sys_issuance', id, grant_amount, 'bonus',
            'starter_grant', 'the free tier', null, null, null, null, null, null)::debugloop.ledger_request);
    end if;
    return result;
end
$$;

-- debugloop.peer_create(peer_id, kind, display_name, agent_names, metadata): a new
-- peer (kind agent, person or service) with its account and its starter grant; the
-- agent names given are mapped to it. peer_id defaults to peer_ and 12 random hex
-- digits. Creating the same peer again returns it and grants nothing; the same id
-- with other content is DL031. Admin only. Locks: the new peer's rows, its account
-- and an issuance shard.
create or replace function debugloop.peer_create(
    peer_id text default null,
    kind text default 'agent',
    display_name text default null,
    agent_names text[] default null,
    metadata jsonb default null
)
returns debugloop.peers
language plpgsql
volatile
security definer
set search_path = debugloop, pg_catalog, pg_temp
as $$
declare
    result debugloop.peers := debugloop._peer_insert(peer_id, kind, display_name, metadata);
    name text;
begin
    foreach name in array coalesce(agent_names, '{}') loop
        perform debugloop._peer_map(name, result.peer_id);
    end loop;
    return result;
end
$$;
comment on function debugloop.peer_create(text, text, text, text[], jsonb)
    is 'Create a peer with its account and its starter grant (admin); the same peer again returns it.';
revoke execute on function debugloop.peer_create(text, text, text, text[], jsonb) from public;
grant execute on function debugloop.peer_create(text, text, text, text[], jsonb) to debugloop_admin;

-- debugloop.peer_get(peer): one peer, or DL032. Locks: none.
create or replace function debugloop.peer_get(peer text)
returns debugloop.peers
language sql
stable
as $$ select * from debugloop._peer_row(peer) $$;
comment on function debugloop.peer_get(text) is 'One peer by its id.';

-- debugloop.v_peers: every peer with its balance (held tokens included), held and
-- available tokens, the agent names mapped to it and the roles bound to it. A system
-- peer's figures are the sums over its shards.
create or replace view debugloop.v_peers as
select p.peer_id, p.kind, p.display_name, p.status,
       a.balance + a.held as balance, a.held, a.balance as available, a.lifetime_earned, a.lifetime_spent,
       a.version,
       coalesce((select array_agg(m.agent_name order by m.agent_name) from debugloop.peer_agent_names m
                  where m.peer_id = p.peer_id), '{}') as agent_names,
       coalesce((select array_agg(r.role_name order by r.role_name) from debugloop.peer_roles r
                  where r.peer_id = p.peer_id), '{}') as roles,
       p.created_by, p.created_at, p.status_changed_at
  from debugloop.peers p
  cross join lateral (
      select sum(x.balance)::bigint as balance, sum(x.held)::bigint as held, sum(x.version)::bigint as version,
             sum(x.lifetime_earned)::bigint as lifetime_earned, sum(x.lifetime_spent)::bigint as lifetime_spent
        from debugloop.ledger_accounts x where x.peer_id = p.peer_id) a;
comment on view debugloop.v_peers is 'Every peer with its balance, held and available tokens, agent names and bound roles.';

-- debugloop.peer_list(kind, status, limit): peers, oldest first, of a kind and a
-- status (each optional; null: any). Locks: none.
create or replace function debugloop.peer_list(kind text default null, status text default null, "limit" integer default 100)
returns setof debugloop.v_peers
language sql
stable
as $$
    select v.* from debugloop.v_peers v
     where (peer_list.kind is null or v.kind = peer_list.kind)
       and (peer_list.status is null or v.status = peer_list.status)
     order by v.created_at, v.peer_id
     limit debugloop._util_limit(peer_list."limit")
$$;
comment on function debugloop.peer_list(text, text, integer) is 'Peers, oldest first, of a kind and status (each optional).';

-- debugloop.peer_set_status(peer, status, memo): freeze (no transfer in or out, no
-- new hold; existing holds still settle, release and expire) or unfreeze a peer.
-- Audited; setting the status it has changes nothing. Admin only. Raises DL001 for
-- another status or a system peer, DL032 for an unknown peer. Locks: the peer's
-- account (so that no transfer of it is half way) and its row.
create or replace function debugloop.peer_set_status(peer text, status text, memo text default null)
returns debugloop.peers
language plpgsql
volatile
security definer
set search_path = debugloop, pg_catalog, pg_temp
as $$
declare
    result debugloop.peers := debugloop._peer_not_system(debugloop._peer_row(peer));
begin
    if status is null or status not in ('active', 'frozen') then
        raise exception 'status must be active or frozen; got %', coalesce(quote_literal(status), 'NULL')
            using errcode = 'DL001', column = 'status';
    end if;
    perform from debugloop.ledger_accounts a where a.peer_id = result.peer_id for update;
    select * into result from debugloop.peers p where p.peer_id = result.peer_id for update;
    if result.status = peer_set_status.status then
        return result;
    end if;
    update debugloop.peers p set status = peer_set_status.status, status_changed_at = now()
     where p.peer_id = result.peer_id
    returning p.* into result;
    perform debugloop._peer_audit(result.peer_id, case when result.status = 'frozen' then 'frozen' else 'unfrozen' end,
                                  jsonb_build_object('memo', memo));
    return result;
end
$$;
comment on function debugloop.peer_set_status(text, text, text) is 'Freeze or unfreeze a peer (admin; audited).';
revoke execute on function debugloop.peer_set_status(text, text, text) from public;
grant execute on function debugloop.peer_set_status(text, text, text) to debugloop_admin;

-- debugloop.peer_bind_role(peer, role_name): bind a database role to a peer: a
-- session acting as that role moves tokens out of this peer only. Binding it again
-- to the same peer changes nothing; a role bound to another peer is DL031 (unbind it
-- first). Admin only; audited. Raises DL002 for a role that does not exist, DL032
-- for an unknown peer, DL001 for a system peer. Locks: the binding's row.
create or replace function debugloop.peer_bind_role(peer text, role_name text)
returns debugloop.peer_roles
language plpgsql
volatile
security definer
set search_path = debugloop, pg_catalog, pg_temp
as $$
declare
    target debugloop.peers := debugloop._peer_not_system(debugloop._peer_row(peer));
    result debugloop.peer_roles;
begin
    if not exists (select from pg_roles r where r.rolname = role_name) then
        raise exception 'role % does not exist', coalesce(quote_literal(role_name), 'NULL')
            using errcode = 'DL002', column = 'role_name';
    end if;
    insert into debugloop.peer_roles as b (role_name, peer_id, bound_by)
    values (role_name, target.peer_id, debugloop._util_caller()::text)
    on conflict on constraint peer_roles_pkey do nothing
    returning b.* into result;
    if not found then
        select * into result from debugloop.peer_roles b where b.role_name = peer_bind_role.role_name;
        if result.peer_id <> target.peer_id then
            raise exception 'role % is bound to peer %', role_name, result.peer_id
                using errcode = 'DL031', column = 'role_name',
                      hint = 'unbind it first: debugloop.peer_unbind_role(role_name)';
        end if;
        return result;
    end if;
    perform debugloop._peer_audit(target.peer_id, 'role_bound', jsonb_build_object('role_name', role_name));
    return result;
end
$$;
comment on function debugloop.peer_bind_role(text, text) is 'Bind a database role to the peer it acts for (admin; audited).';
revoke execute on function debugloop.peer_bind_role(text, text) from public;
grant execute on function debugloop.peer_bind_role(text, text) to debugloop_admin;

-- debugloop.peer_unbind_role(role_name): remove a role's binding and return it.
-- Admin only; audited. Raises DL002 when the role is bound to no peer. Locks: the
-- binding's row.
create or replace function debugloop.peer_unbind_role(role_name text)
returns debugloop.peer_roles
language plpgsql
volatile
security definer
set search_path = debugloop, pg_catalog, pg_temp
as $$
declare
    result debugloop.peer_roles;
begin
    delete from debugloop.peer_roles b where b.role_name = peer_unbind_role.role_name returning b.* into result;
    if not found then
        raise exception 'role % is bound to no peer', coalesce(quote_literal(role_name), 'NULL')
            using errcode = 'DL002', column = 'role_name';
    end if;
    perform debugloop._peer_audit(result.peer_id, 'role_unbound', jsonb_build_object('role_name', role_name));
    return result;
end
$$;
comment on function debugloop.peer_unbind_role(text) is 'Remove the binding of a database role to its peer (admin; audited).';
revoke execute on function debugloop.peer_unbind_role(text) from public;
grant execute on function debugloop.peer_unbind_role(text) to debugloop_admin;

-- debugloop.peer_map_agent(agent_name, peer): map an agent name of Part 1 (an
-- attempt's agent_name, an STF's contributor) to a peer, or map it anew. Admin only;
-- audited. Raises DL032 for an unknown peer, DL001 for an empty name or a system
-- peer. Locks: the mapping's row.
create or replace function debugloop.peer_map_agent(agent_name text, peer text)
returns debugloop.peer_agent_names
language sql
volatile
security definer
set search_path = debugloop, pg_catalog, pg_temp
as $$ select * from debugloop._peer_map(agent_name, (debugloop._peer_not_system(debugloop._peer_row(peer))).peer_id) $$;
comment on function debugloop.peer_map_agent(text, text) is 'Map an agent name of the attempts to a peer (admin; audited).';
revoke execute on function debugloop.peer_map_agent(text, text) from public;
grant execute on function debugloop.peer_map_agent(text, text) to debugloop_admin;

-- debugloop.v_peer_agent_names: every agent name seen in attempts or as an STF's
-- contributor, or mapped, with its peer (null while unmapped), its attempts and
-- STFs, first and last seen.
create or replace view debugloop.v_peer_agent_names as
with seen as (
    select a.agent_name, count(*) as attempts, min(a.started_at) as first_seen, max(a.started_at) as last_seen
      from debugloop.debug_execution_attempts a group by a.agent_name
), contributed as (
    select f.contributor_agent_name as agent_name, count(*) as stfs, min(f.discovered_at) as first_seen
      from debugloop.debug_transform_functions f
     where f.contributor_agent_name is not null
     group by f.contributor_agent_name
), names as (
    select agent_name from seen union select agent_name from contributed
    union select agent_name from debugloop.peer_agent_names
)
select n.agent_name, m.peer_id, coalesce(s.attempts, 0) as attempts, coalesce(c.stfs, 0) as stfs,
       least(s.first_seen, c.first_seen) as first_seen, s.last_seen, m.mapped_by, m.mapped_at
  from names n
  left join seen s on s.agent_name = n.agent_name
  left join contributed c on c.agent_name = n.agent_name
  left join debugloop.peer_agent_names m on m.agent_name = n.agent_name;
comment on view debugloop.v_peer_agent_names is 'Agent names of the attempts and STFs with the peer each maps to (null: unmapped).';

-- debugloop.peer_agent_list(unmapped_only, limit): the rows of
-- v_peer_agent_names, most attempts first. Locks: none.
create or replace function debugloop.peer_agent_list(unmapped_only boolean default false, "limit" integer default 100)
returns setof debugloop.v_peer_agent_names
language sql
stable
as $$
    select v.* from debugloop.v_peer_agent_names v
     where not coalesce(unmapped_only, false) or v.peer_id is null
     order by v.attempts desc, v.agent_name
     limit debugloop._util_limit(peer_agent_list."limit")
$$;
comment on function debugloop.peer_agent_list(boolean, integer) is 'Agent names of the attempts and STFs and their peers, most attempts first.';

-- debugloop.peer_adopt_agents(kind): a peer for every agent name that no peer has:
-- a new peer (id peer_ and 12 hex digits of the name's MD5, the name as display
-- name, the starter grant) mapped to it; the same call again adopts nobody twice.
-- Admin only. Locks: the new peers' rows and accounts, issuance shards.
create or replace function debugloop.peer_adopt_agents(kind text default 'agent')
returns table (agent_name text, peer_id text)
language plpgsql
volatile
security definer
set search_path = debugloop, pg_catalog, pg_temp
as $$
declare
    name text;
    peer debugloop.peers;
begin
    for name in select v.agent_name from debugloop.v_peer_agent_names v where v.peer_id is null order by v.agent_name loop
        peer := debugloop._peer_insert('peer_' || left(md5(name), 12), kind, name, null);
        perform debugloop._peer_map(name, peer.peer_id);
        agent_name := name;
        peer_id := peer.peer_id;
        return next;
    end loop;
end
$$;
comment on function debugloop.peer_adopt_agents(text) is 'Create a peer for every agent name that has none, and map it (admin).';
revoke execute on function debugloop.peer_adopt_agents(text) from public;
grant execute on function debugloop.peer_adopt_agents(text) to debugloop_admin;

-- debugloop.peer_of_agent(agent_name): the peer an agent name maps to, or null.
-- Why: rewards credit the peer behind an attempt's agent. Locks: none.
create or replace function debugloop.peer_of_agent(agent_name text)
returns text
language sql
stable
as $$ select m.peer_id from debugloop.peer_agent_names m where m.agent_name = btrim(peer_of_agent.agent_name) $$;
comment on function debugloop.peer_of_agent(text) is 'The peer an agent name maps to (null when none).';

-- debugloop.peer_current(): the role this session acts as, the peer bound to it
-- (null when none) and whether it is an admin. Locks: none.
create or replace function debugloop.peer_current(out role_name text, out peer_id text, out is_admin boolean)
returns record
language sql
stable
as $$
    select actor, (select b.peer_id from debugloop.peer_roles b where b.role_name = actor),
           pg_has_role(actor, 'debugloop_admin', 'member')
      from (select debugloop._util_caller()::text as actor) caller
$$;
comment on function debugloop.peer_current() is 'The role this session acts as, its peer and whether it is an admin.';
