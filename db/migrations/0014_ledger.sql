-- 0014 the token ledger: peers (who earns and spends), their agent names and the
-- login roles bound to them, accounts (one per peer; the system accounts issuance,
-- compute and holds in shards), transfers and their entries (append-only, one per
-- leg, with the balance before and after and the account's version), holds, the
-- request type of the transfer functions, the owner role of the ledger's SECURITY
-- DEFINER functions, and the settings of the token economy. 1 token = $0.001.
-- The functions are in functions/70_peers.sql and functions/72_ledger.sql.

-- The owner of the SECURITY DEFINER functions: it logs in never and is no superuser,
-- so a definer runs with exactly the privileges granted to it below. Cluster-wide,
-- like the other roles. The migrator reloads functions/ after every migrate, and
-- CREATE OR REPLACE of a function owned by this role needs membership in it: a
-- migrator that is not a superuser is made a member (it has ADMIN OPTION on the role
-- when it created it; otherwise a superuser grants the role beforehand).
do $$
begin
    if not exists (select from pg_roles where rolname = 'debugloop_owner') then
        begin
            create role debugloop_owner nologin nosuperuser;
        exception when duplicate_object or unique_violation then
            null;  -- created concurrently from another database
        end;
    end if;
    if not (select r.rolsuper from pg_roles r where r.rolname = current_user)
       and not pg_has_role(current_user, 'debugloop_owner', 'usage') then
        execute format('grant debugloop_owner to %I', current_user);
    end if;
end
$$;
comment on role debugloop_owner is 'debugloop: owns the SECURITY DEFINER functions; never logs in.';
-- (It reads the tables by the default privileges of 0010, and the loader lends it
-- CREATE on the schema only while it hands functions over: debugloop._meta_secure.)

-- A peer is whoever earns and spends tokens: an agent, a person, a service, or one
-- of the three system peers (sys_issuance, sys_compute, sys_holds) that stand for
-- the system accounts.
create table debugloop.peers (
    peer_id           text primary key
                      constraint peers_id_format check (peer_id ~ '^[a-z][a-z0-9_-]{2,62}$'),
    kind              text not null
                      constraint peers_kind_known check (kind in ('agent', 'person', 'service', 'system')),
    display_name      text not null
                      constraint peers_display_name_not_empty check (btrim(display_name) <> ''),
    status            text not null default 'active'
                      constraint peers_status_known check (status in ('active', 'frozen')),
    metadata          jsonb,
    created_by        text not null,
    created_at        timestamptz not null default now(),
    status_changed_at timestamptz,
    constraint peers_system_ids check ((kind = 'system') = (peer_id like 'sys\_%'))
);
comment on table debugloop.peers is 'Who earns and spends tokens: agents, people, services, and the system peers of the system accounts.';
-- every transfer asks whether its peers are frozen: this index is nearly empty
create index peers_frozen_idx on debugloop.peers (peer_id) where status = 'frozen';

-- The agent names of Part 1 (attempts' agent_name, STFs' contributor_agent_name),
-- each mapped to the peer it stands for.
create table debugloop.peer_agent_names (
    agent_name text primary key
               constraint peer_agent_names_trimmed check (agent_name = btrim(agent_name) and agent_name <> ''),
    peer_id    text not null constraint peer_agent_names_peer_fkey references debugloop.peers (peer_id),
    mapped_by  text not null,
    mapped_at  timestamptz not null default now()
);
create index peer_agent_names_peer_idx on debugloop.peer_agent_names (peer_id);
comment on table debugloop.peer_agent_names is 'The agent names seen in attempts and STF provenance, each mapped to its peer.';

-- A login role bound to the peer it acts for: an agent process that logs in as
-- this role moves tokens out of this peer only.
create table debugloop.peer_roles (
    role_name text primary key,
    peer_id   text not null constraint peer_roles_peer_fkey references debugloop.peers (peer_id),
    bound_by  text not null,
    bound_at  timestamptz not null default now()
);
create index peer_roles_peer_idx on debugloop.peer_roles (peer_id);
comment on table debugloop.peer_roles is 'Database roles bound to a peer: the peer an agent logged in as that role may move tokens out of.';

-- What admins did to peers: creation, freezing, bindings, agent-name mappings.
create table debugloop.peer_audit (
    audit_id bigint generated always as identity primary key,
    peer_id  text not null constraint peer_audit_peer_fkey references debugloop.peers (peer_id),
    action   text not null
             constraint peer_audit_action_known check (action in ('created', 'frozen', 'unfrozen', 'role_bound',
                                                                  'role_unbound', 'agent_name_mapped')),
    detail   jsonb,
    acted_by text not null,
    acted_at timestamptz not null default now()
);
create index peer_audit_peer_idx on debugloop.peer_audit (peer_id, audit_id);
comment on table debugloop.peer_audit is 'Every change an admin made to a peer (creation, status, role bindings, agent names). Written by the peer functions only.';

-- The ledger's enumerations as domains: a table's CHECK constraints are read
-- anew for every statement that writes it, a domain's are cached per session, and
-- the ledger writes these tables on every transfer.
create domain debugloop.ledger_transaction_type as text
    constraint ledger_transaction_type_known check (value in (
        'earned', 'spent', 'transferred', 'bonus', 'adjustment', 'hold', 'settle', 'release'));
comment on domain debugloop.ledger_transaction_type is 'The seed''s transaction types (earned, spent, transferred, bonus), adjustment, and the three of holds.';
create domain debugloop.ledger_reason as text
    constraint ledger_reason_known check (value in (
        'stf_contribution', 'golden_state', 'pattern_contribution', 'context_served', 'quorum_vote', 'llm_query',
        'context_retrieved', 'starter_grant', 'admin_grant', 'peer_transfer', 'correction'));
comment on domain debugloop.ledger_reason is 'Why tokens moved: the seed''s reasons and the ledger''s own.';
create domain debugloop.ledger_transfer_status as text
    constraint ledger_transfer_status_known check (value in ('posted', 'refused'));
create domain debugloop.ledger_hold_status as text
    constraint ledger_hold_status_known check (value in ('active', 'settled', 'released', 'expired', 'refused'));
create domain debugloop.ledger_hash as text
    constraint ledger_hash_format check (value ~ '^sha256:[0-9a-f]{64}$');
comment on domain debugloop.ledger_hash is 'A contribution''s hash as the seed''s event writes it: sha256: and 64 hex digits.';

-- One account per peer; a system peer has several (its shards), so that the
-- transfers that touch it (every reward touches issuance) need not wait for one
-- another. balance is the sum of the account's entries: for a peer, what it can
-- spend now (available); held is what its active holds set aside (those tokens sit
-- in the holds account). version counts the entries: 1, 2, 3, ... without gaps.
create table debugloop.ledger_accounts (
    account_id       bigint generated always as identity primary key,
    peer_id          text not null constraint ledger_accounts_peer_fkey references debugloop.peers (peer_id),
    shard            smallint not null default 0,
    system           boolean not null default false,
    balance          bigint not null default 0,
    held             bigint not null default 0,
    version          bigint not null default 0,
    lifetime_earned  bigint not null default 0,
    lifetime_spent   bigint not null default 0,
    holds_expire_at  timestamptz,
    last_transfer_id uuid,
    created_at       timestamptz not null default now(),
    updated_at       timestamptz not null default now(),
    constraint ledger_accounts_peer_shard unique (peer_id, shard),
    -- two checks, not four: every update of an account (two a transfer) reads them anew
    constraint ledger_accounts_available_not_negative check (system or (balance >= 0 and shard = 0)),
    constraint ledger_accounts_counts_not_negative check (held >= 0 and version >= 0)
) with (fillfactor = 50);  -- room for HOT updates: an account row changes on every transfer
comment on table debugloop.ledger_accounts is 'Accounts: one per peer, shards for the system peers. Balances change only through the ledger functions.';

-- Every transfer asked for, keyed by the client's id: posted (with two entries) or
-- refused for lack of funds (none; the id stays refused). Append-only. This table
-- and the entries have no foreign keys: only the ledger functions write them, under
-- the locks of the accounts they name, and the checks cost a third of a batched
-- transfer; debugloop.ledger_check() verifies every reference instead.
create table debugloop.ledger_transfers (
    transfer_id       uuid primary key,
    status            debugloop.ledger_transfer_status not null,
    transaction_type  debugloop.ledger_transaction_type not null,
    reason            debugloop.ledger_reason not null,
    from_peer_id      text not null,
    to_peer_id        text not null,
    amount            bigint not null constraint ledger_transfers_amount_positive check (amount > 0),
    from_account_id   bigint,
    to_account_id     bigint,
    from_version      bigint,
    to_version        bigint,
    hold_id           uuid,
    memo              text,
    quality_score     numeric,
    novelty_score     numeric,
    contribution_hash debugloop.ledger_hash,
    metadata          jsonb,
    refusal           text,
    created_by        text not null,
    posted_at         timestamptz not null,
    constraint ledger_transfers_not_to_itself check (from_peer_id <> to_peer_id),
    -- refused: a refusal and no legs (ledger_check verifies a posted one's entries)
    constraint ledger_transfers_refusal check ((refusal is null) = (from_version is not null))
);
comment on table debugloop.ledger_transfers is 'Every transfer by its client-chosen id: posted, or refused for lack of funds. Append-only.';

-- One entry per leg of a posted transfer: the signed amount, the account's balance
-- before and after, its held tokens after, and its version. Append-only.
create table debugloop.ledger_entries (
    account_id      bigint not null,
    account_version bigint not null,
    transfer_id     uuid not null,
    peer_id         text not null,
    amount          bigint not null constraint ledger_entries_amount_not_zero check (amount <> 0),
    balance_before  bigint not null,
    balance_after   bigint not null,
    held_after      bigint not null,
    posted_at       timestamptz not null,
    constraint ledger_entries_pkey primary key (account_id, account_version),
    constraint ledger_entries_balance_follows check (balance_after = balance_before + amount)
);
-- balances as of a time: the last entry of an account at or before it
create index ledger_entries_account_time_idx on debugloop.ledger_entries (account_id, posted_at);
comment on table debugloop.ledger_entries is 'One row per leg of a posted transfer, with the account''s balance before and after and its version. Append-only.';

-- A hold sets tokens of a peer aside (they move to the holds account) until it is
-- settled, released or expires; it resolves exactly once. Written on every hold and
-- settlement, by the ledger functions only: like the transfers it does without
-- foreign keys and keeps one cheap check; debugloop.ledger_check() verifies that
-- each hold names its peer's account and that its status, amounts and times agree.
create table debugloop.ledger_holds (
    hold_id             uuid primary key,
    peer_id             text not null,
    account_id          bigint not null,
    amount              bigint not null,
    reason              debugloop.ledger_reason not null,
    status              debugloop.ledger_hold_status not null,
    expires_in          interval not null,
    expires_at          timestamptz not null,
    settled_amount      bigint,
    metadata            jsonb,
    refusal             text,
    created_by          text not null,
    created_at          timestamptz not null default now(),
    resolved_by         text,
    resolved_at         timestamptz,
    settle_transfer_id  uuid,
    release_transfer_id uuid,
    constraint ledger_holds_amounts check (amount > 0 and settled_amount between 1 and amount)
);
create index ledger_holds_account_active_idx on debugloop.ledger_holds (account_id, expires_at) where status = 'active';
create index ledger_holds_expiry_idx on debugloop.ledger_holds (expires_at) where status = 'active';
comment on table debugloop.ledger_holds is 'Holds (reservations) of tokens: active until settled, released or expired; refused ones keep their id refused.';

-- One transfer as the ledger functions take it (ledger_transfers' jsonb array has
-- these keys); amount is numeric so that a fractional or huge amount is refused by
-- name rather than rounded.
create type debugloop.ledger_request as (
    transfer_id       uuid,
    from_peer_id      text,
    to_peer_id        text,
    amount            numeric,
    transaction_type  text,
    reason            text,
    memo              text,
    quality_score     numeric,
    novelty_score     numeric,
    contribution_hash text,
    metadata          jsonb,
    hold_id           uuid,
    hold_expires_at   timestamptz
);
comment on type debugloop.ledger_request is 'One transfer as the ledger functions take it.';

-- The system peers and their account shards (16 each: more than the connections
-- that write at once, so a writer finds a free shard without waiting).
insert into debugloop.peers (peer_id, kind, display_name, created_by) values
    ('sys_issuance', 'system', 'issuance: rewards and grants are minted from here', 'debugloop'),
    ('sys_compute', 'system', 'compute: what spending pays', 'debugloop'),
    ('sys_holds', 'system', 'holds: tokens set aside until a hold resolves', 'debugloop');
insert into debugloop.ledger_accounts (peer_id, shard, system)
select p.peer_id, s.shard, true
  from debugloop.peers p cross join generate_series(0, 15) s(shard)
 where p.kind = 'system'
 order by p.peer_id, s.shard;

-- Privileges: everyone reads (the default privileges of 0001 grant SELECT to the
-- reader role); only the owner of the definer functions writes, and no role may
-- UPDATE or DELETE transfers or entries (a trigger refuses it even to a superuser).
grant insert on debugloop.peers, debugloop.peer_agent_names, debugloop.peer_roles, debugloop.peer_audit,
      debugloop.ledger_accounts, debugloop.ledger_transfers, debugloop.ledger_entries, debugloop.ledger_holds
   to debugloop_owner;
grant update (status, status_changed_at) on debugloop.peers to debugloop_owner;
grant update (peer_id, mapped_by, mapped_at) on debugloop.peer_agent_names to debugloop_owner;
-- the one DELETE the owner holds: a login role's binding to a peer, removed by
-- peer_unbind_role and kept in peer_audit
grant delete on debugloop.peer_roles to debugloop_owner;
grant update (balance, held, version, lifetime_earned, lifetime_spent, holds_expire_at, last_transfer_id, updated_at)
   on debugloop.ledger_accounts to debugloop_owner;
grant update (status, settled_amount, resolved_by, resolved_at, settle_transfer_id, release_transfer_id)
   on debugloop.ledger_holds to debugloop_owner;

insert into debugloop.settings (key, value, value_type, overridable, min_value, max_value, description) values
    ('enable_token_rewards', 'false', 'boolean', false, null, null,
     'Reward contributions (STFs, golden states, patterns) with tokens minted from issuance. For everyone: no session override.'),
    ('enable_token_spending', 'false', 'boolean', false, null, null,
     'Charge LLM calls to the peer''s tokens (a hold before the call, settled after). For everyone: no session override.'),
    ('ledger_starter_grant', '1000', 'integer', false, 0, 1000000000,
     'Tokens a new peer receives once when it is created (the free tier); 0 grants none.'),
    ('ledger_hold_ttl_seconds', '600', 'integer', false, 1, 604800,
     'How long a hold lasts when ledger_hold is given no expiry; an expired hold is released by itself.');
