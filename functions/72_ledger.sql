-- ledger: tokens in double entry. 1 token = $0.001.
--
-- Every transfer moves a positive whole number of tokens from one account to
-- another, under an id the client chooses, and writes one entry per leg with the
-- account's balance before and after and its version (1, 2, 3, ... without gaps).
-- The sum over all accounts is zero at every instant; a peer's account never goes
-- below zero. A transfer that a peer cannot pay is recorded as refused (no entry),
-- so that its id stays refused.
--
-- Locks: the peers' accounts of a call in peer id order, then one shard of each
-- system account it touches (holds, compute, issuance, in that order), taken with
-- SKIP LOCKED, so that concurrent calls neither deadlock nor queue on the system
-- accounts (every reward touches issuance, every spend compute). Call the ledger in
-- READ COMMITTED (the default): it reads the latest committed balances under its
-- locks.
--
-- Holds: a hold moves tokens from the peer to the holds account until it is
-- settled (they come back, and the settled amount, at most the hold, goes to
-- compute), released (they come back) or expires (released by itself at the peer's
-- next transfer, or by ledger_expire_holds). The transfers that resolve a hold have
-- ids derived from the hold's, so a hold resolves exactly once.

-- debugloop._ledger_derived_id(base, purpose): a uuid derived from another id and a
-- purpose (the starter grant of a peer, the release and the settlement of a hold),
-- so that the transfer it names is posted once whoever asks. Locks: none.
create or replace function debugloop._ledger_derived_id(base text, purpose text)
returns uuid
language sql
immutable
as $$ select md5(purpose || ':' || base)::uuid $$;

-- debugloop._ledger_amount(value, field): a positive whole number of tokens of at
-- most 10^12, as bigint; DL030 naming `field` for none, zero, a negative, a fraction
-- or more. Why: amounts are numeric in the API so that 1.5 is refused, not rounded.
-- Locks: none.
create or replace function debugloop._ledger_amount(value numeric, field text default 'amount')
returns bigint
language plpgsql
immutable
as $$
begin
    if value is null or value <= 0 or value <> trunc(value) or value > 1000000000000 then
        raise exception '% must be a positive whole number of tokens of at most 1,000,000,000,000; got %', field,
                        coalesce(value::text, 'NULL')
            using errcode = 'DL030', column = field, detail = '1 token = $0.001',
                  hint = case when value <> trunc(value) then 'tokens are whole: round the amount first'
                              else 'give a whole number of tokens from 1 to 1,000,000,000,000' end;
    end if;
    return value::bigint;
end
$$;

-- debugloop._ledger_route(transaction_type): which accounts a transaction type moves
-- tokens between, and its reasons: {from, to, default reason, reasons...}, where
-- from and to are `peer` or a system peer id (adjustment also goes from a peer to
-- issuance); null for an unknown type. One table of the transaction types, as one
-- SQL expression that the planner inlines into the request check. Locks: none.
create or replace function debugloop._ledger_route(transaction_type text)
returns text[]
language sql
immutable
as $$
    select case transaction_type
        when 'earned' then array['sys_issuance', 'peer', null,
                                 'stf_contribution', 'golden_state', 'pattern_contribution', 'context_served', 'quorum_vote']
        when 'bonus' then array['sys_issuance', 'peer', 'admin_grant',
                                'admin_grant', 'starter_grant', 'stf_contribution', 'golden_state', 'pattern_contribution',
                                'quorum_vote']
        when 'spent' then array['peer', 'sys_compute', 'llm_query', 'llm_query', 'context_retrieved']
        when 'settle' then array['peer', 'sys_compute', 'llm_query', 'llm_query', 'context_retrieved']
        when 'transferred' then array['peer', 'peer', 'peer_transfer', 'peer_transfer', 'context_served']
        when 'adjustment' then array['sys_issuance', 'peer', 'correction', 'correction']
        when 'hold' then array['peer', 'sys_holds', 'llm_query', 'llm_query', 'context_retrieved']
        when 'release' then array['sys_holds', 'peer', 'llm_query', 'llm_query', 'context_retrieved']
    end
$$;

-- debugloop._ledger_check_metadata(metadata): DL001 unless metadata is null or an
-- object whose keys of the seed's event have their types (stf_id, execution_id,
-- correlation_id: uuids; model_used: text; complexity: a number in [0, 1]). Locks:
-- none.
create or replace function debugloop._ledger_check_metadata(metadata jsonb)
returns void
language plpgsql
immutable
as $$
declare
    key text;
begin
    if metadata is null then
        return;
    end if;
    if jsonb_typeof(metadata) <> 'object' then
        raise exception 'metadata must be a JSON object' using errcode = 'DL001', column = 'metadata';
    end if;
    foreach key in array array['stf_id', 'execution_id', 'correlation_id'] loop
        if metadata ? key and (jsonb_typeof(metadata -> key) <> 'string'
            or metadata ->> key !~* '^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$') then
            raise exception 'metadata.% must be a uuid', key using errcode = 'DL001', column = 'metadata';
        end if;
    end loop;
    if metadata ? 'model_used' and jsonb_typeof(metadata -> 'model_used') not in ('string', 'null') then
        raise exception 'metadata.model_used must be text' using errcode = 'DL001', column = 'metadata';
    end if;
    if metadata ? 'complexity' and (jsonb_typeof(metadata -> 'complexity') <> 'number'
        or (metadata ->> 'complexity')::numeric not between 0 and 1) then
        raise exception 'metadata.complexity must be a number in [0, 1]' using errcode = 'DL001', column = 'metadata';
    end if;
end
$$;

-- debugloop._ledger_check(request, internal): the request checked and completed:
-- an id, an amount (DL030), a known transaction type and a reason it allows (the
-- type's default when none), two different peers (DL034) that fit the type (the
-- system peers where the type says), a memo for an adjustment, scores in [0, 1], a
-- contribution hash (sha256: and 64 hex digits; bare hex is prefixed), metadata.
-- hold, settle and release are the hold functions' own (`internal`). Raises DL001
-- otherwise. Every batch element passes here: assignments, not PERFORM, and one
-- row built at the end keep it at a few microseconds. Locks: none.
create or replace function debugloop._ledger_check(request debugloop.ledger_request, internal boolean default false)
returns debugloop.ledger_request
language plpgsql
immutable
as $$
declare
    kind text := request.transaction_type;
    route text[] := debugloop._ledger_route(request.transaction_type);
    payer text := request.from_peer_id;
    payee text := request.to_peer_id;
    reason text := coalesce(request.reason, route[3]);
    memo text := nullif(btrim(request.memo), '');
    hash text := lower(request.contribution_hash);
    amount bigint;
begin
    if request.transfer_id is null then
        raise exception 'transfer_id is required: the client chooses it, and a retry sends the same one'
            using errcode = 'DL001', column = 'transfer_id';
    end if;
    amount := debugloop._ledger_amount(request.amount);
    if route is null or (not internal and kind in ('hold', 'settle', 'release')) then
        raise exception 'transaction_type must be one of earned, spent, transferred, bonus, adjustment; got %',
                        coalesce(quote_literal(kind), 'NULL')
            using errcode = 'DL001', column = 'transaction_type',
                  hint = case when kind in ('hold', 'settle', 'release')
                              then 'holds are posted by ledger_hold, ledger_settle and ledger_release'
                              else 'the README''s token section lists the types and their reasons' end;
    end if;
    if reason is null or not (reason = any(route[4:])) then
        raise exception 'reason % does not go with transaction type %', coalesce(quote_literal(reason), 'NULL'), kind
            using errcode = 'DL001', column = 'reason', detail = format('%s takes %s', kind, array_to_string(route[4:], ', '));
    end if;
    if payer is null or payee is null then
        raise exception '% is required', case when payer is null then 'from_peer_id' else 'to_peer_id' end
            using errcode = 'DL001', column = case when payer is null then 'from_peer_id' else 'to_peer_id' end;
    end if;
    if payer = payee then
        raise exception 'a transfer from % to itself', payer
            using errcode = 'DL034', column = 'to_peer_id', hint = 'a transfer needs two different peers';
    end if;
    if kind = 'adjustment' and payee = 'sys_issuance' then  -- an adjustment goes either way
        route[1] := 'peer';
        route[2] := 'sys_issuance';
    end if;
    if not (case when route[1] = 'peer' then not debugloop._peer_is_system(payer) else payer = route[1] end)
       or not (case when route[2] = 'peer' then not debugloop._peer_is_system(payee) else payee = route[2] end) then
        raise exception '% moves tokens from % to %, not from % to %', kind,
                        replace(route[1], 'peer', 'a peer'), replace(route[2], 'peer', 'a peer'), payer, payee
            using errcode = 'DL001', column = 'transaction_type',
                  hint = case kind when 'adjustment' then 'an adjustment goes between sys_issuance and a peer, either way'
                              else 'earned and bonus come from sys_issuance, spent goes to sys_compute, transferred is between peers' end;
    end if;
    if kind = 'adjustment' and memo is null then
        raise exception 'an adjustment needs a memo: why the balance is corrected' using errcode = 'DL001', column = 'memo';
    elsif length(memo) > 2000 then
        raise exception 'memo is longer than 2000 characters' using errcode = 'DL001', column = 'memo';
    end if;
    if request.quality_score not between 0 and 1 or request.novelty_score not between 0 and 1 then
        raise exception '% must lie in [0, 1]',
                        case when request.quality_score not between 0 and 1 then 'quality_score' else 'novelty_score' end
            using errcode = 'DL001',
                  column = case when request.quality_score not between 0 and 1 then 'quality_score' else 'novelty_score' end;
    end if;
    if hash ~ '^[0-9a-f]{64}$' then
        hash := 'sha256:' || hash;
    elsif hash !~ '^sha256:[0-9a-f]{64}$' then
        raise exception 'contribution_hash must be sha256: and 64 hex digits' using errcode = 'DL001', column = 'contribution_hash';
    end if;
    if request.metadata is not null then
        perform debugloop._ledger_check_metadata(request.metadata);
    end if;
    return row(request.transfer_id, payer, payee, amount, kind, reason, memo, request.quality_score, request.novelty_score,
               hash, request.metadata, request.hold_id, request.hold_expires_at)::debugloop.ledger_request;
end
$$;

-- debugloop._ledger_authorize(requests): true when the acting role may post these
-- transfers, else DL037: an admin any; a role bound to a peer (peer_bind_role)
-- transfers and spends out of that peer only, and mints, grants or adjusts never.
-- Locks: none.
create or replace function debugloop._ledger_authorize(requests debugloop.ledger_request[])
returns boolean
language plpgsql
stable
as $$
declare
    actor text := debugloop._util_caller()::text;
    bound text;
    r debugloop.ledger_request;
begin
    if pg_has_role(actor, 'debugloop_admin', 'member') then
        return true;
    end if;
    select b.peer_id into bound from debugloop.peer_roles b where b.role_name = actor;
    if bound is null then
        raise exception 'role % is bound to no peer: it may move no tokens', actor
            using errcode = 'DL037', hint = 'an admin binds it: debugloop.peer_bind_role(peer, role_name)';
    end if;
    foreach r in array requests loop
        if r.transaction_type not in ('transferred', 'spent', 'hold', 'settle', 'release') then
            raise exception 'only an admin may post % transfers', r.transaction_type
                using errcode = 'DL037', column = 'transaction_type';
        elsif bound is distinct from (case when r.transaction_type = 'release' then r.to_peer_id else r.from_peer_id end) then
            raise exception 'role % acts for peer %: it moves tokens out of % only', actor, bound, bound
                using errcode = 'DL037', column = 'from_peer_id';
        end if;
    end loop;
    return true;
end
$$;

-- debugloop._ledger_shard(peer_id): one account of a system peer, locked: the
-- shard this backend prefers if it is free, else any free one, else (every shard is
-- busy) it waits for its preferred one. Why: every reward touches issuance; 16
-- shards taken without waiting keep that from serialising the writers. Locks: one
-- shard's row (FOR UPDATE).
create or replace function debugloop._ledger_shard(peer_id text)
returns debugloop.ledger_accounts
language plpgsql
volatile
as $$
declare
    preferred smallint := pg_backend_pid() % 16;
    result debugloop.ledger_accounts;
begin
    select * into result from debugloop.ledger_accounts a
     where a.peer_id = _ledger_shard.peer_id and a.shard = preferred for update skip locked;
    if not found then
        select * into result from debugloop.ledger_accounts a
         where a.peer_id = _ledger_shard.peer_id order by a.shard for update skip locked limit 1;
    end if;
    if not found then
        select * into result from debugloop.ledger_accounts a
         where a.peer_id = _ledger_shard.peer_id and a.shard = preferred for update;
    end if;
    return result;
end
$$;

-- debugloop._ledger_same(transfer, request): the transfer recorded under the
-- request's id, when the request has its content (a retry: its first result);
-- else DL031. Locks: none.
create or replace function debugloop._ledger_same(transfer debugloop.ledger_transfers, request debugloop.ledger_request)
returns debugloop.ledger_transfers
language plpgsql
immutable
as $$
begin
    if (transfer.from_peer_id, transfer.to_peer_id, transfer.amount, transfer.transaction_type, transfer.reason,
        transfer.memo, transfer.quality_score, transfer.novelty_score, transfer.contribution_hash, transfer.metadata,
        transfer.hold_id)
       is distinct from
       (request.from_peer_id, request.to_peer_id, request.amount::bigint, request.transaction_type, request.reason,
        request.memo, request.quality_score, request.novelty_score, request.contribution_hash, request.metadata,
        request.hold_id) then
        raise exception 'transfer % was recorded with other content', transfer.transfer_id
            using errcode = 'DL031', column = 'transfer_id',
                  detail = format('it is %s of %s tokens from %s to %s (%s)', transfer.transaction_type, transfer.amount,
                                  transfer.from_peer_id, transfer.to_peer_id, transfer.status),
                  hint = 'a retry sends the same content; a new transfer needs a new id';
    end if;
    return transfer;
end
$$;

-- debugloop._ledger_raced(): DL031 for an id that a concurrent call recorded first
-- with other content (with the same content it would have waited for this call's
-- locks and found it). Locks: none.
create or replace function debugloop._ledger_raced()
returns void
language plpgsql
immutable
as $$
begin
    raise exception 'a transfer id of this call was recorded by a concurrent call with other content'
        using errcode = 'DL031', column = 'transfer_id', hint = 'a retry sends the same content; a new transfer needs a new id';
end
$$;

-- debugloop._ledger_refusal(peer_id, available, needed): why a transfer is refused.
-- Locks: none.
create or replace function debugloop._ledger_refusal(peer_id text, available bigint, needed bigint)
returns text
language sql
immutable
as $$ select format('insufficient funds: %s has %s tokens available, %s needed', peer_id, greatest(available, 0), needed) $$;

-- debugloop._ledger_frozen(peer_ids): DL033 when one of these peers is frozen.
-- Locks: none (the callers hold the peers' accounts, which peer_set_status locks).
create or replace function debugloop._ledger_frozen(peer_ids text[])
returns void
language plpgsql
stable
as $$
declare
    frozen text;
begin
    select p.peer_id into frozen from debugloop.peers p where p.peer_id = any(peer_ids) and p.status = 'frozen' limit 1;
    if found then
        raise exception 'peer % is frozen', frozen
            using errcode = 'DL033', column = 'peer_id',
                  detail = 'a frozen peer receives and sends no tokens; its holds still settle, release and expire',
                  hint = 'an admin unfreezes it: debugloop.peer_set_status(peer, ''active'')';
    end if;
end
$$;

-- debugloop._ledger_post_single(request, expire): post one checked, authorized
-- request and return its transfer. An id already recorded with the same content
-- returns its first result (posted or refused), also when the first call commits
-- while this one waits; with other content DL031. A payer
-- that cannot pay gets the transfer recorded as refused (no entry). Raises DL032
-- for an unknown peer, DL033 for a frozen one (a hold's settlement, release and
-- adjustments excepted). With `expire`, the peers' expired holds are released
-- first. Why a path of its own: one transfer is the common call, and two locked
-- rows and plain statements cost half of the set-based path (_ledger_post) that
-- batches take. Locks: the peers' accounts in peer id order, then the shard of
-- the system peer, if any, without waiting while one is free.
create or replace function debugloop._ledger_post_single(request debugloop.ledger_request, expire boolean default true)
returns debugloop.ledger_transfers
language plpgsql
volatile
set plan_cache_mode = force_generic_plan
set enable_seqscan = off
as $$
declare
    r debugloop.ledger_request := request;
    amount bigint := request.amount;
    payer debugloop.ledger_accounts;
    payee debugloop.ledger_accounts;
    first record;
    second record;
    frozen text;
    system_peer text;
    shard debugloop.ledger_accounts;
    posted timestamptz;
    result debugloop.ledger_transfers;
begin
    -- a retry returns its first result without waiting for locks; a retry that runs
    -- while its first call is under way meets that call's row at the insert below
    select * into result from debugloop.ledger_transfers t where t.transfer_id = r.transfer_id;
    if found then
        return debugloop._ledger_same(result, r);
    end if;
    -- the peers' accounts, locked in peer id order (the order every ledger write
    -- takes), each with its peer's status: two key lookups
    select a as account, p.status into first
      from debugloop.ledger_accounts a join debugloop.peers p on p.peer_id = a.peer_id
     where a.peer_id = least(r.from_peer_id, r.to_peer_id) and a.shard = 0 and not a.system
       for update of a;
    select a as account, p.status into second
      from debugloop.ledger_accounts a join debugloop.peers p on p.peer_id = a.peer_id
     where a.peer_id = greatest(r.from_peer_id, r.to_peer_id) and a.shard = 0 and not a.system
       for update of a;
    if r.from_peer_id < r.to_peer_id then
        payer := first.account;
        payee := second.account;
    else
        payer := second.account;
        payee := first.account;
    end if;
    if r.transaction_type not in ('settle', 'release', 'adjustment') and 'frozen' in (first.status, second.status) then
        frozen := case when first.status = 'frozen' then (first.account).peer_id else (second.account).peer_id end;
    end if;
    if expire and (payer.holds_expire_at <= now() or payee.holds_expire_at <= now()) then
        perform debugloop._ledger_expire_due(array[payer.account_id, payee.account_id]);
        select * into payer from debugloop.ledger_accounts a where a.account_id = payer.account_id;
        select * into payee from debugloop.ledger_accounts a where a.account_id = payee.account_id;
    end if;

    if payer.account_id is null and not debugloop._peer_is_system(r.from_peer_id) then
        perform debugloop._peer_row(r.from_peer_id, 'from_peer_id');  -- raises DL032
    end if;
    if payee.account_id is null and not debugloop._peer_is_system(r.to_peer_id) then
        perform debugloop._peer_row(r.to_peer_id, 'to_peer_id');  -- raises DL032
    end if;
    if frozen is not null then
        perform debugloop._ledger_frozen(array[frozen]);  -- raises DL033
    end if;
    -- a transfer touches one system peer at most: its shard this backend prefers, if free
    system_peer := case when payer.account_id is null then r.from_peer_id when payee.account_id is null then r.to_peer_id end;
    if system_peer is not null then
        select * into shard from debugloop.ledger_accounts a
         where a.peer_id = system_peer and a.shard = pg_backend_pid() % 16 for update skip locked;
        if not found then
            shard := debugloop._ledger_shard(system_peer);
        end if;
        if payer.account_id is null then
            payer := shard;
        else
            payee := shard;
        end if;
    end if;
    -- a time that never runs backwards on an account: as-of reads rely on it
    posted := greatest(clock_timestamp(), payer.updated_at, payee.updated_at);

    if not payer.system and payer.balance < amount then
        insert into debugloop.ledger_transfers as t (
            transfer_id, status, transaction_type, reason, from_peer_id, to_peer_id, amount, hold_id, memo, quality_score,
            novelty_score, contribution_hash, metadata, refusal, created_by, posted_at)
        values (r.transfer_id, 'refused', r.transaction_type, r.reason, r.from_peer_id, r.to_peer_id, amount, r.hold_id,
                r.memo, r.quality_score, r.novelty_score, r.contribution_hash, r.metadata,
                debugloop._ledger_refusal(r.from_peer_id, payer.balance, amount), debugloop._util_caller()::text, posted)
        on conflict on constraint ledger_transfers_pkey do nothing
        returning t.* into result;
    else
        -- one statement: the transfer, and only when it went in, its entries and balances
        with transfer as (
            insert into debugloop.ledger_transfers as t (
                transfer_id, status, transaction_type, reason, from_peer_id, to_peer_id, amount, from_account_id,
                to_account_id, from_version, to_version, hold_id, memo, quality_score, novelty_score, contribution_hash,
                metadata, created_by, posted_at)
            values (r.transfer_id, 'posted', r.transaction_type, r.reason, r.from_peer_id, r.to_peer_id, amount,
                    payer.account_id, payee.account_id, payer.version + 1, payee.version + 1, r.hold_id, r.memo,
                    r.quality_score, r.novelty_score, r.contribution_hash, r.metadata, debugloop._util_caller()::text, posted)
            on conflict on constraint ledger_transfers_pkey do nothing
            returning t
        ), entries as (
            insert into debugloop.ledger_entries (
                account_id, account_version, transfer_id, peer_id, amount, balance_before, balance_after, held_after, posted_at)
            select l.*
              from (values
                  (payer.account_id, payer.version + 1, r.transfer_id, payer.peer_id, -amount, payer.balance,
                   payer.balance - amount, payer.held + case when r.transaction_type = 'hold' then amount else 0 end, posted),
                  (payee.account_id, payee.version + 1, r.transfer_id, payee.peer_id, amount, payee.balance,
                   payee.balance + amount, payee.held - case when r.transaction_type = 'release' then amount else 0 end, posted)
              ) l
             where exists (select from transfer)
        ), balances as (
            update debugloop.ledger_accounts a
               set balance = a.balance + l.amount,
                   held = a.held + l.held,
                   version = a.version + 1,
                   lifetime_earned = a.lifetime_earned + l.earned,
                   lifetime_spent = a.lifetime_spent + l.spent,
                   holds_expire_at = case when l.recount
                                          then (select min(h.expires_at) from debugloop.ledger_holds h
                                                 where h.account_id = a.account_id and h.status = 'active')
                                          else least(a.holds_expire_at, l.expiry) end,
                   last_transfer_id = r.transfer_id, updated_at = posted
              from (values
                  (payer.account_id, -amount, case when r.transaction_type = 'hold' then amount else 0 end, 0::bigint,
                   case when r.transaction_type in ('spent', 'settle') then amount else 0 end, r.hold_expires_at, false),
                  (payee.account_id, amount, case when r.transaction_type = 'release' then -amount else 0 end,
                   case when r.transaction_type in ('earned', 'bonus') then amount else 0 end, 0::bigint, null::timestamptz,
                   r.transaction_type = 'release')
              ) l(account_id, amount, held, earned, spent, expiry, recount)
             where a.account_id = l.account_id and exists (select from transfer)
        )
        select (x.t).* into result from transfer x;
    end if;
    if result.transfer_id is null then  -- recorded meanwhile by a concurrent call
        select * into result from debugloop.ledger_transfers t where t.transfer_id = r.transfer_id;
        return debugloop._ledger_same(result, r);
    end if;
    return result;
end
$$;
revoke execute on function debugloop._ledger_post_single(debugloop.ledger_request, boolean) from public;
grant execute on function debugloop._ledger_post_single(debugloop.ledger_request, boolean) to debugloop_owner;

-- debugloop._ledger_legs(requests, accounts): the two legs of each request, in
-- order, on the given accounts (the peers' and one shard per system peer): the
-- request, each leg's signed amount, the account's balance before and after and
-- held tokens after it, its version, the other leg's account and version, and per
-- account the running sums of earned and spent tokens, whether a hold was released
-- and the earliest expiry of a new hold. Why: the refusal check and the writes of a
-- batch read the same legs, with no join that a generic plan could make quadratic.
-- Locks: none.
create or replace function debugloop._ledger_legs(requests debugloop.ledger_request[], accounts debugloop.ledger_accounts[])
returns table (
    ord bigint, leg integer, request debugloop.ledger_request, account_id bigint, peer_id text, system boolean,
    amount bigint, balance_before bigint, balance_after bigint, held_after bigint, version bigint,
    partner_account_id bigint, partner_version bigint, earned bigint, spent bigint, releases boolean,
    hold_expiry timestamptz)
language sql
stable
as $$
    select s.ord, s.leg, s.request, s.account_id, s.peer_id, s.system, s.amount, s.balance_before, s.balance_after,
           s.held_after, s.version, lead(s.account_id) over p, lead(s.version) over p, s.earned, s.spent, s.releases,
           s.hold_expiry
      from (select l.ord, l.leg, l.request, a.account_id, a.peer_id, a.system, l.amount,
                   (a.balance + sum(l.amount) over w - l.amount)::bigint as balance_before,
                   (a.balance + sum(l.amount) over w)::bigint as balance_after,
                   (a.held + sum(l.held) over w)::bigint as held_after,
                   a.version + row_number() over w as version,
                   (sum(l.earned) over w)::bigint as earned, (sum(l.spent) over w)::bigint as spent,
                   bool_or(l.releases) over w as releases, min(l.hold_expiry) over w as hold_expiry
              from (select r.ordinality as ord, x.leg, x.peer_id, x.amount, x.held, x.earned, x.spent, x.releases,
                           x.hold_expiry,
                           row(r.transfer_id, r.from_peer_id, r.to_peer_id, r.amount, r.transaction_type, r.reason, r.memo,
                               r.quality_score, r.novelty_score, r.contribution_hash, r.metadata, r.hold_id,
                               r.hold_expires_at)::debugloop.ledger_request as request
                      from unnest(requests) with ordinality r
                     cross join lateral (values
                         (1, r.from_peer_id, -r.amount::bigint,
                          case when r.transaction_type = 'hold' then r.amount::bigint else 0 end, 0::bigint,
                          case when r.transaction_type in ('spent', 'settle') then r.amount::bigint else 0 end,
                          false, case when r.transaction_type = 'hold' then r.hold_expires_at end),
                         (2, r.to_peer_id, r.amount::bigint,
                          case when r.transaction_type = 'release' then -r.amount::bigint else 0 end,
                          case when r.transaction_type in ('earned', 'bonus') then r.amount::bigint else 0 end, 0::bigint,
                          r.transaction_type = 'release', null::timestamptz)
                     ) x(leg, peer_id, amount, held, earned, spent, releases, hold_expiry)) l
              join unnest(accounts) a on a.peer_id = l.peer_id
            window w as (partition by a.account_id order by l.ord, l.leg rows between unbounded preceding and current row)) s
    window p as (partition by s.ord order by s.leg)
$$;

-- debugloop._ledger_post(requests, expire): post checked, authorized requests as
-- one unit (a batch) and return their transfers in order. Ids already recorded
-- with the same content return their first result; with other content DL031. The
-- new ones are refused together (recorded, no entry) when a payer cannot pay them;
-- else posted: transfer rows, two entries each, the accounts' new balances,
-- versions, held tokens and lifetime sums, set-based. Raises DL032 for an unknown
-- peer, DL033 for a frozen one (releases and adjustments excepted). With `expire`,
-- the peers' expired holds are released first. Generic plans: PL/pgSQL would plan
-- these statements on arrays anew on every call. Locks: the peers' accounts in peer
-- id order, then a shard of each system peer (holds, compute, issuance), without
-- waiting while one is free.
create or replace function debugloop._ledger_post(requests debugloop.ledger_request[], expire boolean default true)
returns setof debugloop.ledger_transfers
language plpgsql
volatile
set plan_cache_mode = force_generic_plan
set enable_seqscan = off
as $$
declare
    ids uuid[] := array(select r.transfer_id from unnest(requests) r);
    peer_ids text[];
    accounts debugloop.ledger_accounts[];
    due bigint[];
    existing debugloop.ledger_transfers[];
    fresh debugloop.ledger_request[] := requests;
    missing text;
    system_peer text;
    posted timestamptz;
    written debugloop.ledger_transfers[];
begin
    -- the peers' accounts, locked in peer id order (the order every ledger write takes)
    select array_agg(distinct v.p order by v.p) into peer_ids
      from unnest(requests) r cross join lateral (values (r.from_peer_id), (r.to_peer_id)) v(p)
     where not debugloop._peer_is_system(v.p);
    select array_agg(s::debugloop.ledger_accounts order by s.peer_id) into accounts
      from (select * from debugloop.ledger_accounts a
             where a.peer_id = any(peer_ids) and a.shard = 0 and not a.system order by a.peer_id for update) s;
    if expire then
        select array_agg(a.account_id) into due from unnest(accounts) a where a.holds_expire_at <= now();
        if due is not null then
            perform debugloop._ledger_expire_due(due);
            select array_agg(a order by a.peer_id) into accounts
              from debugloop.ledger_accounts a where a.peer_id = any(peer_ids) and a.shard = 0 and not a.system;
        end if;
    end if;

    -- ids already recorded: the same content returns the first result
    select array_agg(t) into existing from debugloop.ledger_transfers t where t.transfer_id = any(ids);
    if existing is not null then
        perform debugloop._ledger_same(t, r) from unnest(requests) r join unnest(existing) t on t.transfer_id = r.transfer_id;
        select array_agg(r) into fresh from unnest(requests) r
         where r.transfer_id <> all(select t.transfer_id from unnest(existing) t);
        if fresh is null then
            return query select t.* from unnest(existing) t order by array_position(ids, t.transfer_id);
            return;
        end if;
    end if;

    -- unknown and frozen peers
    if coalesce(cardinality(accounts), 0) < coalesce(cardinality(peer_ids), 0) then
        select p into missing from unnest(peer_ids) p where p <> all(select a.peer_id from unnest(accounts) a) limit 1;
        perform debugloop._peer_row(missing,
            case when missing = any(select r.from_peer_id from unnest(fresh) r) then 'from_peer_id' else 'to_peer_id' end);
    end if;
    perform debugloop._ledger_frozen(array(
        select v.p from unnest(fresh) r cross join lateral (values (r.from_peer_id), (r.to_peer_id)) v(p)
         where r.transaction_type not in ('settle', 'release', 'adjustment')));

    -- a shard of each system peer, in a fixed order
    for system_peer in
        select v.p from unnest(fresh) r cross join lateral (values (r.from_peer_id), (r.to_peer_id)) v(p)
         where debugloop._peer_is_system(v.p)
         group by v.p order by array_position(array['sys_holds', 'sys_compute', 'sys_issuance'], v.p)
    loop
        accounts := accounts || debugloop._ledger_shard(system_peer);
    end loop;
    posted := greatest(clock_timestamp(), (select max(a.updated_at) from unnest(accounts) a));

    -- one statement: the legs; the first leg a payer cannot pay, if any; then either
    -- every new transfer refused together, or all of them posted
    with legs as materialized (
        select * from debugloop._ledger_legs(fresh, accounts)
    ), short as materialized (
        select l.peer_id, (l.request).transfer_id, l.balance_before, -l.amount as needed
          from legs l where not l.system and l.balance_after < 0 order by l.ord limit 1
    ), refused as (
        insert into debugloop.ledger_transfers as t (
            transfer_id, status, transaction_type, reason, from_peer_id, to_peer_id, amount, hold_id, memo,
            quality_score, novelty_score, contribution_hash, metadata, refusal, created_by, posted_at)
        select r.transfer_id, 'refused', r.transaction_type, r.reason, r.from_peer_id, r.to_peer_id, r.amount::bigint,
               r.hold_id, r.memo, r.quality_score, r.novelty_score, r.contribution_hash, r.metadata,
               case when r.transfer_id = short.transfer_id
                    then debugloop._ledger_refusal(short.peer_id, short.balance_before, short.needed)
                    else format('refused with transfer %s of the same batch, which %s cannot pay',
                                short.transfer_id, short.peer_id) end,
               debugloop._util_caller()::text, posted
          from unnest(fresh) r cross join short
        on conflict on constraint ledger_transfers_pkey do nothing
        returning t
    ), transfers as (
        insert into debugloop.ledger_transfers as t (
            transfer_id, status, transaction_type, reason, from_peer_id, to_peer_id, amount, from_account_id,
            to_account_id, from_version, to_version, hold_id, memo, quality_score, novelty_score, contribution_hash,
            metadata, created_by, posted_at)
        select (l.request).transfer_id, 'posted', (l.request).transaction_type, (l.request).reason,
               (l.request).from_peer_id, (l.request).to_peer_id, (l.request).amount::bigint, l.account_id,
               l.partner_account_id, l.version, l.partner_version, (l.request).hold_id, (l.request).memo,
               (l.request).quality_score, (l.request).novelty_score, (l.request).contribution_hash,
               (l.request).metadata, debugloop._util_caller()::text, posted
          from legs l
         where l.leg = 1 and not exists (select from short)
         order by l.ord
        on conflict on constraint ledger_transfers_pkey do nothing
        returning t
    ), entries as (
        insert into debugloop.ledger_entries (
            account_id, account_version, transfer_id, peer_id, amount, balance_before, balance_after, held_after, posted_at)
        select l.account_id, l.version, (l.request).transfer_id, l.peer_id, l.amount, l.balance_before,
               l.balance_after, l.held_after, posted
          from legs l
         where not exists (select from short)
    ), balances as (
        update debugloop.ledger_accounts a
           set balance = f.balance_after,
               held = f.held_after,
               version = f.version,
               lifetime_earned = a.lifetime_earned + f.earned,
               lifetime_spent = a.lifetime_spent + f.spent,
               holds_expire_at = least(
                   case when f.releases
                        then (select min(h.expires_at) from debugloop.ledger_holds h
                               where h.account_id = a.account_id and h.status = 'active')
                        else a.holds_expire_at end,
                   f.hold_expiry),
               last_transfer_id = (f.request).transfer_id,
               updated_at = posted
          from (select distinct on (l.account_id) l.* from legs l order by l.account_id, l.ord desc, l.leg desc) f
         where a.account_id = f.account_id and not exists (select from short)
    )
    select array_agg(x.t) into written from (select t from transfers union all select t from refused) x;
    if coalesce(cardinality(written), 0) < cardinality(fresh) then
        perform debugloop._ledger_raced();
    end if;
    if existing is null then
        return query select * from unnest(written);  -- inserted in request order
    else
        return query select t.* from unnest(existing || written) t order by array_position(ids, t.transfer_id);
    end if;
end
$$;
revoke execute on function debugloop._ledger_post(debugloop.ledger_request[], boolean) from public;
grant execute on function debugloop._ledger_post(debugloop.ledger_request[], boolean) to debugloop_owner;

-- debugloop._ledger_post_one(request): one transfer checked, authorized and posted
-- (the first result for a known id). Why: ledger_transfer, ledger_grant and
-- ledger_adjust share it. Locks: as _ledger_post_single.
create or replace function debugloop._ledger_post_one(request debugloop.ledger_request)
returns debugloop.ledger_transfers
language plpgsql
volatile
as $$
declare
    r debugloop.ledger_request := debugloop._ledger_check(request);
begin
    return case when debugloop._ledger_authorize(array[r]) then debugloop._ledger_post_single(r) end;
end
$$;

-- debugloop.ledger_transfer(transfer_id, from_peer_id, to_peer_id, amount,
-- transaction_type, reason, memo, quality_score, novelty_score, contribution_hash,
-- metadata): move `amount` tokens and return the transfer: status posted, or
-- refused (with its refusal) when the payer cannot pay. transaction_type: earned and
-- bonus (from sys_issuance; admin), spent (to sys_compute), transferred (between
-- peers), adjustment (admin; a memo). The same id with the same content returns the
-- first result, with other content DL031. An agent's role moves tokens out of its
-- own peer only (DL037). Bad input: DL001, DL030 (amount), DL032 (unknown peer),
-- DL033 (frozen), DL034 (to itself). Locks: as _ledger_post.
create or replace function debugloop.ledger_transfer(
    transfer_id uuid,
    from_peer_id text,
    to_peer_id text,
    amount numeric,
    transaction_type text default 'transferred',
    reason text default null,
    memo text default null,
    quality_score numeric default null,
    novelty_score numeric default null,
    contribution_hash text default null,
    metadata jsonb default null
)
returns debugloop.ledger_transfers
language plpgsql
volatile
security definer
set search_path = debugloop, pg_catalog, pg_temp
as $$
begin
    return debugloop._ledger_post_one(row(
        transfer_id, from_peer_id, to_peer_id, amount, transaction_type, reason, memo, quality_score, novelty_score,
        contribution_hash, metadata, null, null)::debugloop.ledger_request);
end
$$;
comment on function debugloop.ledger_transfer(uuid, text, text, numeric, text, text, text, numeric, numeric, text, jsonb)
    is 'Move tokens between two accounts under a client-chosen id; posted, or refused for lack of funds.';
revoke execute on function debugloop.ledger_transfer(uuid, text, text, numeric, text, text, text, numeric, numeric, text, jsonb) from public;
grant execute on function debugloop.ledger_transfer(uuid, text, text, numeric, text, text, text, numeric, numeric, text, jsonb)
    to debugloop_agent, debugloop_admin;

-- debugloop.ledger_transfers(transfers): a batch, as a jsonb array of objects with
-- the keys of ledger_transfer's arguments, posted as one unit: all its new transfers
-- are posted, or all refused when a payer cannot pay them (the ids stay refused),
-- or nothing changes (an error). Ids already recorded return their first result.
-- At most 10,000 transfers. Errors as ledger_transfer, naming the transfer.
-- Locks: as _ledger_post, for the whole batch at once.
create or replace function debugloop.ledger_transfers(transfers jsonb)
returns setof debugloop.ledger_transfers
language plpgsql
volatile
security definer
set search_path = debugloop, pg_catalog, pg_temp
as $$
declare
    requests debugloop.ledger_request[];
    unknown text;
    position integer := 0;
    r debugloop.ledger_request;
    message text;
    detail text;
    hint text;
    field text;
    code text;
begin
    if transfers is null or jsonb_typeof(transfers) <> 'array' or jsonb_array_length(transfers) = 0
       or jsonb_array_length(transfers) > 10000 then
        raise exception 'transfers must be a JSON array of 1 to 10,000 transfer objects'
            using errcode = 'DL001', column = 'transfers';
    end if;
    if exists (select from jsonb_array_elements(transfers) e where jsonb_typeof(e) <> 'object') then
        raise exception 'transfers: every transfer is a JSON object' using errcode = 'DL001', column = 'transfers';
    end if;
    select k into unknown from jsonb_array_elements(transfers) e, jsonb_object_keys(e) k
     where k not in ('transfer_id', 'from_peer_id', 'to_peer_id', 'amount', 'transaction_type', 'reason', 'memo',
                     'quality_score', 'novelty_score', 'contribution_hash', 'metadata')
     limit 1;
    if found then
        raise exception 'transfers: % is not a key of a transfer', quote_literal(unknown)
            using errcode = 'DL001', column = 'transfers',
                  detail = 'keys: transfer_id, from_peer_id, to_peer_id, amount, transaction_type, reason, memo, quality_score, novelty_score, contribution_hash, metadata';
    end if;
    begin
        foreach r in array array(select x from jsonb_populate_recordset(null::debugloop.ledger_request, transfers) x) loop
            position := position + 1;
            r.transaction_type := coalesce(r.transaction_type, 'transferred');
            requests := requests || debugloop._ledger_check(r);
        end loop;
    exception when sqlstate 'DL001' or sqlstate 'DL030' or sqlstate 'DL034' or data_exception then
        get stacked diagnostics message = message_text, detail = pg_exception_detail, hint = pg_exception_hint,
                                field = column_name, code = returned_sqlstate;
        raise exception 'transfers%: %', case when position > 0 then format('[%s]', position) else '' end, message
            using errcode = case when code like 'DL%' then code else 'DL001' end, column = coalesce(nullif(field, ''), 'transfers'),
                  detail = coalesce(nullif(detail, ''), format('transfer %s of %s', position, jsonb_array_length(transfers))),
                  hint = coalesce(nullif(hint, ''), 'every transfer of a batch is checked before any is posted');
    end;
    if (select count(distinct x.transfer_id) from unnest(requests) x) < cardinality(requests) then
        raise exception 'transfers: a transfer_id appears twice' using errcode = 'DL001', column = 'transfer_id';
    end if;
    if debugloop._ledger_authorize(requests) then
        return query select * from debugloop._ledger_post(requests);
    end if;
end
$$;
comment on function debugloop.ledger_transfers(jsonb) is 'Post a batch of transfers (a jsonb array) as one unit: all posted, all refused, or nothing.';
revoke execute on function debugloop.ledger_transfers(jsonb) from public;
grant execute on function debugloop.ledger_transfers(jsonb) to debugloop_agent, debugloop_admin;

-- debugloop.ledger_grant(transfer_id, peer, amount, memo, reason): a bonus minted
-- from issuance to a peer (reason admin_grant by default). Admin only. Errors as
-- ledger_transfer. Locks: the peer's account, an issuance shard.
create or replace function debugloop.ledger_grant(
    transfer_id uuid, peer text, amount numeric, memo text default null, reason text default 'admin_grant')
returns debugloop.ledger_transfers
language plpgsql
volatile
security definer
set search_path = debugloop, pg_catalog, pg_temp
as $$
begin
    return debugloop._ledger_post_one(row(
        transfer_id, 'sys_issuance', peer, amount, 'bonus', reason, memo, null, null, null, null, null, null)::debugloop.ledger_request);
end
$$;
comment on function debugloop.ledger_grant(uuid, text, numeric, text, text) is 'Grant a peer bonus tokens minted from issuance (admin).';
revoke execute on function debugloop.ledger_grant(uuid, text, numeric, text, text) from public;
grant execute on function debugloop.ledger_grant(uuid, text, numeric, text, text) to debugloop_admin;

-- debugloop.ledger_adjust(transfer_id, peer, amount, memo): correct a peer's
-- balance: a positive amount is credited from issuance, a negative one debited to it
-- (refused when the peer cannot pay it). The memo (why) is required; the transfer,
-- with who posted it, is the audit. Admin only. Errors as ledger_transfer. Locks:
-- the peer's account, an issuance shard.
create or replace function debugloop.ledger_adjust(transfer_id uuid, peer text, amount numeric, memo text)
returns debugloop.ledger_transfers
language plpgsql
volatile
security definer
set search_path = debugloop, pg_catalog, pg_temp
as $$
begin
    return debugloop._ledger_post_one(row(
        transfer_id, case when amount < 0 then peer else 'sys_issuance' end,
        case when amount < 0 then 'sys_issuance' else peer end, abs(amount), 'adjustment', 'correction', memo,
        null, null, null, null, null, null)::debugloop.ledger_request);
end
$$;
comment on function debugloop.ledger_adjust(uuid, text, numeric, text) is 'Correct a peer''s balance by a signed amount with a memo (admin; audited).';
revoke execute on function debugloop.ledger_adjust(uuid, text, numeric, text) from public;
grant execute on function debugloop.ledger_adjust(uuid, text, numeric, text) to debugloop_admin;

-- debugloop._ledger_release_request(hold, memo): the transfer that gives a hold's
-- tokens back (sys_holds to the peer, the whole hold), under an id derived from the
-- hold's, so that a hold is released once. Locks: none.
create or replace function debugloop._ledger_release_request(hold debugloop.ledger_holds, memo text)
returns debugloop.ledger_request
language sql
immutable
as $$
    select row(debugloop._ledger_derived_id(hold.hold_id::text, 'release'), 'sys_holds', hold.peer_id, hold.amount,
               'release', hold.reason, memo, null, null, null, hold.metadata, hold.hold_id, null)::debugloop.ledger_request
$$;

-- debugloop._ledger_expire_due(account_ids): release the expired active holds of
-- these accounts (status expired), whose accounts the caller has locked. Why: an
-- expired hold gives its tokens back at the next touch of its peer, or when an
-- operator runs ledger_expire_holds. Locks: those holds' rows, a holds shard.
create or replace function debugloop._ledger_expire_due(account_ids bigint[])
returns setof debugloop.ledger_holds
language plpgsql
volatile
as $$
declare
    expired debugloop.ledger_holds[];
begin
    with due as (
        select h.hold_id from debugloop.ledger_holds h
         where h.account_id = any(account_ids) and h.status = 'active' and h.expires_at <= now()
         order by h.hold_id
           for update
    ), resolved as (
        update debugloop.ledger_holds h
           set status = 'expired', resolved_by = debugloop._util_caller()::text, resolved_at = now(),
               release_transfer_id = debugloop._ledger_derived_id(h.hold_id::text, 'release')
          from due where h.hold_id = due.hold_id
        returning h
    )
    select array_agg(x.h) into expired from resolved x;
    if expired is null then
        return;
    end if;
    perform debugloop._ledger_post(
        array(select debugloop._ledger_release_request(h, 'the hold expired') from unnest(expired) h order by h.hold_id),
        false);
    return query select * from unnest(expired);
end
$$;

-- debugloop._ledger_hold_for(hold_id): a hold with its account locked first and
-- then its row (the order every ledger write takes), checked: DL002 when it does
-- not exist, DL037 unless the acting role is an admin or bound to its peer. Locks:
-- the hold's account and row.
create or replace function debugloop._ledger_hold_for(hold_id uuid)
returns debugloop.ledger_holds
language plpgsql
volatile
as $$
declare
    result debugloop.ledger_holds;
    actor text;
begin
    perform from debugloop.ledger_accounts a
     where a.account_id = (select h.account_id from debugloop.ledger_holds h where h.hold_id = _ledger_hold_for.hold_id)
       for update;
    select * into result from debugloop.ledger_holds h where h.hold_id = _ledger_hold_for.hold_id for update;
    if not found then
        raise exception 'hold % does not exist', coalesce(hold_id::text, 'NULL') using errcode = 'DL002', column = 'hold_id';
    end if;
    actor := debugloop._util_caller()::text;
    if not pg_has_role(actor, 'debugloop_admin', 'member')
       and result.peer_id is distinct from (select b.peer_id from debugloop.peer_roles b where b.role_name = actor) then
        raise exception 'role % may not resolve a hold of peer %', actor, result.peer_id
            using errcode = 'DL037', column = 'hold_id';
    end if;
    return result;
end
$$;

-- debugloop._ledger_hold_resolved(hold, wanted): DL035: the hold is not
-- active (settled, released, expired or refused), or it is past its expiry. Locks:
-- none.
create or replace function debugloop._ledger_hold_resolved(hold debugloop.ledger_holds, wanted text)
returns void
language plpgsql
stable
as $$
begin
    raise exception 'hold % cannot be %: it %', hold.hold_id, wanted,
                    case when hold.status = 'active' then format('expired at %s', hold.expires_at)
                         when hold.status = 'settled' then format('was settled for %s tokens', hold.settled_amount)
                         when hold.status = 'refused' then 'was refused'
                         else format('was %s', hold.status) end
        using errcode = 'DL035', column = 'hold_id',
              detail = format('status %s, %s tokens, expires at %s', hold.status, hold.amount, hold.expires_at),
              hint = case when hold.status = 'active' then 'an expired hold is released by itself; hold again'
                          else 'a hold resolves once; a new call holds again' end;
end
$$;

-- debugloop._ledger_settlement(hold, cost, metadata): settle an active hold for
-- `cost` tokens and return it, in one statement: the hold settled, the whole hold
-- back from the holds account to the peer (release) and `cost` from the peer to
-- compute (settle), under the peer's and the hold's locks that the caller
-- (ledger_settle) holds. The peer's account takes both entries (versions v+1 and
-- v+2); it can always pay, the hold having been its own. Why not two single
-- transfers: this is the other half of every LLM call's spending, and one statement
-- on the locks already held costs half of two. Locks: a holds and a compute shard,
-- without waiting while one is free.
create or replace function debugloop._ledger_settlement(hold debugloop.ledger_holds, cost bigint, metadata jsonb)
returns debugloop.ledger_holds
language plpgsql
volatile
set plan_cache_mode = force_generic_plan
set enable_seqscan = off
as $$
declare
    peer debugloop.ledger_accounts;
    holds debugloop.ledger_accounts;
    compute debugloop.ledger_accounts;
    shard debugloop.ledger_accounts;
    back bigint := hold.amount;
    release_id uuid := debugloop._ledger_derived_id(hold.hold_id::text, 'release');
    settle_id uuid := debugloop._ledger_derived_id(hold.hold_id::text, 'settle');
    actor text := debugloop._util_caller()::text;
    posted timestamptz;
    result debugloop.ledger_holds;
begin
    select * into peer from debugloop.ledger_accounts a where a.account_id = hold.account_id;
    if peer.holds_expire_at <= now() then  -- other holds of the peer expired: give them back first
        perform debugloop._ledger_expire_due(array[peer.account_id]);
        select * into peer from debugloop.ledger_accounts a where a.account_id = hold.account_id;
    end if;
    -- the shards this backend prefers, if free, in one statement; else _ledger_shard
    for shard in
        select * from debugloop.ledger_accounts a
         where a.peer_id in ('sys_holds', 'sys_compute') and a.shard = pg_backend_pid() % 16
         order by a.peer_id desc
           for update skip locked
    loop
        if shard.peer_id = 'sys_holds' then
            holds := shard;
        else
            compute := shard;
        end if;
    end loop;
    holds := coalesce(holds, debugloop._ledger_shard('sys_holds'));
    compute := coalesce(compute, debugloop._ledger_shard('sys_compute'));
    posted := greatest(clock_timestamp(), peer.updated_at, holds.updated_at, compute.updated_at);
    with settled as (
        update debugloop.ledger_holds h
           set status = 'settled', settled_amount = cost, resolved_by = actor, resolved_at = now(),
               settle_transfer_id = settle_id, release_transfer_id = release_id
         where h.hold_id = hold.hold_id
        returning h
    ), transfers as (
        insert into debugloop.ledger_transfers (
            transfer_id, status, transaction_type, reason, from_peer_id, to_peer_id, amount, from_account_id, to_account_id,
            from_version, to_version, hold_id, metadata, created_by, posted_at)
        values (release_id, 'posted', 'release', hold.reason, 'sys_holds', hold.peer_id, back, holds.account_id,
                peer.account_id, holds.version + 1, peer.version + 1, hold.hold_id, hold.metadata, actor, posted),
               (settle_id, 'posted', 'settle', hold.reason, hold.peer_id, 'sys_compute', cost, peer.account_id,
                compute.account_id, peer.version + 2, compute.version + 1, hold.hold_id, metadata, actor, posted)
    ), entries as (
        insert into debugloop.ledger_entries (
            account_id, account_version, transfer_id, peer_id, amount, balance_before, balance_after, held_after, posted_at)
        values (holds.account_id, holds.version + 1, release_id, 'sys_holds', -back, holds.balance,
                holds.balance - back, holds.held, posted),
               (peer.account_id, peer.version + 1, release_id, hold.peer_id, back, peer.balance,
                peer.balance + back, peer.held - back, posted),
               (peer.account_id, peer.version + 2, settle_id, hold.peer_id, -cost, peer.balance + back,
                peer.balance + back - cost, peer.held - back, posted),
               (compute.account_id, compute.version + 1, settle_id, 'sys_compute', cost, compute.balance,
                compute.balance + cost, compute.held, posted)
    ), balances as (
        update debugloop.ledger_accounts a
           set balance = a.balance + l.amount,
               held = a.held + l.held,
               version = a.version + l.entries,
               lifetime_spent = a.lifetime_spent + l.spent,
               -- this statement does not see the hold settled: leave it out by name
               holds_expire_at = case when l.recount
                                      then (select min(h.expires_at) from debugloop.ledger_holds h
                                             where h.account_id = a.account_id and h.status = 'active'
                                               and h.hold_id <> hold.hold_id)
                                      else a.holds_expire_at end,
               last_transfer_id = l.last_transfer_id,
               updated_at = posted
          from (values
              (holds.account_id, -back, 0::bigint, 1, 0::bigint, release_id, false),
              (peer.account_id, back - cost, -back, 2, cost, settle_id, true),
              (compute.account_id, cost, 0::bigint, 1, 0::bigint, settle_id, false)
          ) l(account_id, amount, held, entries, spent, last_transfer_id, recount)
         where a.account_id = l.account_id
    )
    select (x.h).* into result from settled x;
    return result;
end
$$;
revoke execute on function debugloop._ledger_settlement(debugloop.ledger_holds, bigint, jsonb) from public;
grant execute on function debugloop._ledger_settlement(debugloop.ledger_holds, bigint, jsonb) to debugloop_owner;

-- debugloop.ledger_hold(hold_id, peer, amount, expires_in, reason, metadata): set
-- `amount` tokens of a peer aside (they move to the holds account) until the hold
-- is settled, released or expires (expires_in, default the setting
-- ledger_hold_ttl_seconds; at most 7 days). Returns the hold: active, or refused
-- when the peer cannot pay it (its id stays refused). The same id with the same
-- content returns the first result, with other content DL031. Errors as
-- ledger_transfer. Locks: the peer's account, a holds shard.
create or replace function debugloop.ledger_hold(
    hold_id uuid,
    peer text,
    amount numeric,
    expires_in interval default null,
    reason text default 'llm_query',
    metadata jsonb default null
)
returns debugloop.ledger_holds
language plpgsql
volatile
security definer
set search_path = debugloop, pg_catalog, pg_temp
set plan_cache_mode = force_generic_plan
set enable_seqscan = off
as $$
declare
    ttl interval := coalesce(expires_in, make_interval(secs => debugloop._settings_number('ledger_hold_ttl_seconds')));
    r debugloop.ledger_request;
    posted debugloop.ledger_transfers;
    result debugloop.ledger_holds;
begin
    if hold_id is null then
        raise exception 'hold_id is required: the client chooses it, and a retry sends the same one'
            using errcode = 'DL001', column = 'hold_id';
    end if;
    if ttl <= interval '0' or ttl > interval '7 days' then
        raise exception 'expires_in must be more than 0 and at most 7 days; got %', ttl using errcode = 'DL001', column = 'expires_in';
    end if;
    r := debugloop._ledger_check(row(hold_id, peer, 'sys_holds', amount, 'hold', reason, null, null, null, null, metadata,
                                     hold_id, now() + ttl)::debugloop.ledger_request, true);
    posted := case when debugloop._ledger_authorize(array[r]) then debugloop._ledger_post_single(r) end;
    insert into debugloop.ledger_holds as h (
        hold_id, peer_id, account_id, amount, reason, status, expires_in, expires_at, metadata, refusal, created_by)
    select posted.transfer_id, posted.from_peer_id, a.account_id, posted.amount, posted.reason,
           case when posted.status = 'posted' then 'active' else 'refused' end, ttl, r.hold_expires_at, posted.metadata,
           posted.refusal, posted.created_by
      from debugloop.ledger_accounts a where a.peer_id = posted.from_peer_id and a.shard = 0
    on conflict on constraint ledger_holds_pkey do nothing
    returning h.* into result;
    if not found then  -- a retry: its transfer had the same content
        select * into result from debugloop.ledger_holds h where h.hold_id = ledger_hold.hold_id;
        if result.expires_in <> ttl then
            raise exception 'hold % was recorded with other content', hold_id
                using errcode = 'DL031', column = 'hold_id', detail = format('it expires in %s', result.expires_in);
        end if;
    end if;
    return result;
end
$$;
comment on function debugloop.ledger_hold(uuid, text, numeric, interval, text, jsonb)
    is 'Set tokens of a peer aside until settled, released or expired; active, or refused for lack of funds.';
revoke execute on function debugloop.ledger_hold(uuid, text, numeric, interval, text, jsonb) from public;
grant execute on function debugloop.ledger_hold(uuid, text, numeric, interval, text, jsonb) to debugloop_agent, debugloop_admin;

-- debugloop.ledger_settle(hold_id, amount, metadata): the call the hold was for
-- cost `amount` tokens, at most the hold (DL036; a call that cost more settles the
-- whole hold and posts the rest as a transfer of its own, spent, which may be
-- refused): the hold's tokens come back to the peer and `amount` is spent to compute
-- (type settle), in one unit; the hold is settled. Settling it again for the same
-- amount returns it; a hold settled otherwise, released, expired or past its expiry
-- is DL035. Locks: the peer's account, the hold, a holds and a compute shard.
create or replace function debugloop.ledger_settle(hold_id uuid, amount numeric, metadata jsonb default null)
returns debugloop.ledger_holds
language plpgsql
volatile
security definer
set search_path = debugloop, pg_catalog, pg_temp
set plan_cache_mode = force_generic_plan
set enable_seqscan = off
as $$
declare
    cost bigint := debugloop._ledger_amount(amount);
    hold debugloop.ledger_holds;
begin
    if metadata is not null then
        perform debugloop._ledger_check_metadata(metadata);
    end if;
    hold := debugloop._ledger_hold_for(hold_id);
    if hold.status = 'settled' and hold.settled_amount = cost then
        return hold;
    elsif hold.status <> 'active' or hold.expires_at <= now() then
        perform debugloop._ledger_hold_resolved(hold, 'settled');
    elsif cost > hold.amount then
        raise exception 'cannot settle % tokens on a hold of %', cost, hold.amount
            using errcode = 'DL036', column = 'amount',
                  hint = 'settle the whole hold, and post the rest as a transfer of its own (spent)';
    end if;
    return debugloop._ledger_settlement(hold, cost, coalesce(hold.metadata, '{}') || coalesce(metadata, '{}'));
end
$$;
comment on function debugloop.ledger_settle(uuid, numeric, jsonb) is 'Settle a hold for what the call cost (at most the hold); the rest comes back.';
revoke execute on function debugloop.ledger_settle(uuid, numeric, jsonb) from public;
grant execute on function debugloop.ledger_settle(uuid, numeric, jsonb) to debugloop_agent, debugloop_admin;

-- debugloop.ledger_release(hold_id): give a hold's tokens back to its peer; the
-- hold is released. Releasing it again, or an expired one (its tokens are back),
-- returns it; a settled or refused hold is DL035. Locks: the peer's account, the
-- hold, a holds shard.
create or replace function debugloop.ledger_release(hold_id uuid)
returns debugloop.ledger_holds
language plpgsql
volatile
security definer
set search_path = debugloop, pg_catalog, pg_temp
set plan_cache_mode = force_generic_plan
set enable_seqscan = off
as $$
declare
    hold debugloop.ledger_holds := debugloop._ledger_hold_for(hold_id);
    released debugloop.ledger_transfers;
begin
    if hold.status in ('released', 'expired') then
        return hold;
    elsif hold.status <> 'active' then
        perform debugloop._ledger_hold_resolved(hold, 'released');
    end if;
    update debugloop.ledger_holds h
       set status = 'released', resolved_by = debugloop._util_caller()::text, resolved_at = now(),
           release_transfer_id = debugloop._ledger_derived_id(h.hold_id::text, 'release')
     where h.hold_id = hold.hold_id
    returning h.* into hold;
    released := debugloop._ledger_post_single(debugloop._ledger_release_request(hold, null));
    return hold;
end
$$;
comment on function debugloop.ledger_release(uuid) is 'Give all of a hold''s tokens back to its peer.';
revoke execute on function debugloop.ledger_release(uuid) from public;
grant execute on function debugloop.ledger_release(uuid) to debugloop_agent, debugloop_admin;

-- debugloop.ledger_expire_holds(limit): release the active holds past their expiry
-- (at most about `limit`, whole accounts at a time), as the peers' next transfers
-- would; returns them. For an operator's schedule (cron) or the relay. Admin only.
-- Locks: each account in peer id order with its expired holds.
create or replace function debugloop.ledger_expire_holds("limit" integer default 1000)
returns setof debugloop.ledger_holds
language plpgsql
volatile
security definer
set search_path = debugloop, pg_catalog, pg_temp
as $$
declare
    due record;
begin
    for due in
        select distinct h.peer_id, h.account_id from debugloop.ledger_holds h
         where h.status = 'active' and h.expires_at <= now()
         order by h.peer_id
         limit greatest(coalesce("limit", 1000), 1)
    loop
        perform from debugloop.ledger_accounts a where a.account_id = due.account_id for update;
        return query select * from debugloop._ledger_expire_due(array[due.account_id]);
    end loop;
end
$$;
comment on function debugloop.ledger_expire_holds(integer) is 'Release the holds past their expiry (admin; for a schedule).';
revoke execute on function debugloop.ledger_expire_holds(integer) from public;
grant execute on function debugloop.ledger_expire_holds(integer) to debugloop_admin;

-- debugloop._ledger_account(peer): the account of a peer that is not a system peer
-- (DL032 for an unknown peer, DL001 for a system one: read those through
-- v_ledger_accounts). Locks: none.
create or replace function debugloop._ledger_account(peer text)
returns debugloop.ledger_accounts
language plpgsql
stable
as $$
declare
    result debugloop.ledger_accounts;
begin
    select * into result from debugloop.ledger_accounts a where a.peer_id = peer and a.shard = 0;
    if not found then
        perform debugloop._peer_row(peer);  -- raises DL032
    end if;
    if result.system then
        raise exception 'peer % is a system peer, whose account has shards', peer
            using errcode = 'DL001', column = 'peer', hint = 'select * from debugloop.v_ledger_accounts shows them';
    end if;
    return result;
end
$$;

-- debugloop.ledger_balance(peer): a peer's balance (its tokens, held ones included),
-- held and available tokens (balance - held, never below zero), lifetime earned
-- (earned and bonus) and spent (spent and settled), the account's version and its
-- last transfer. A system peer's figures are the sums over its shards. Raises
-- DL032 for an unknown peer. Locks: none.
create or replace function debugloop.ledger_balance(
    peer text,
    out peer_id text, out balance bigint, out held bigint, out available bigint, out lifetime_earned bigint,
    out lifetime_spent bigint, out version bigint, out last_transfer_id uuid, out last_transfer_at timestamptz)
returns record
language plpgsql
stable
as $$
begin
    select a.peer_id, sum(a.balance + a.held), sum(a.held), sum(a.balance), sum(a.lifetime_earned), sum(a.lifetime_spent),
           sum(a.version), (array_agg(a.last_transfer_id order by a.updated_at desc))[1],
           max(a.updated_at) filter (where a.version > 0)
      into peer_id, balance, held, available, lifetime_earned, lifetime_spent, version, last_transfer_id, last_transfer_at
      from debugloop.ledger_accounts a where a.peer_id = peer
     group by a.peer_id;
    if not found then
        perform debugloop._peer_row(peer);  -- raises DL032
    end if;
end
$$;
comment on function debugloop.ledger_balance(text) is 'A peer''s balance, held and available tokens, lifetime earned and spent, version and last transfer.';

-- debugloop.ledger_history(peer, before, limit): a peer's entries, newest first,
-- with their transfers: the signed amount, the balance before and after, held
-- tokens after, the counterparty (the other account's peer). Keyset pagination:
-- `before` is a version (the last page's smallest), null for the newest. Raises
-- DL032 for an unknown peer, DL001 for a system peer or a limit outside 1..1000.
-- Locks: none.
create or replace function debugloop.ledger_history(peer text, before bigint default null, "limit" integer default 50)
returns table (
    peer_id text, account_version bigint, transfer_id uuid, transaction_type text, reason text, amount bigint,
    balance_before bigint, balance_after bigint, held_after bigint, counterparty_peer_id text, hold_id uuid, memo text,
    metadata jsonb, created_by text, posted_at timestamptz)
language plpgsql
stable
as $$
declare
    account debugloop.ledger_accounts := debugloop._ledger_account(peer);
begin
    if "limit" is null or "limit" not between 1 and 1000 then
        raise exception 'limit must lie in [1, 1000]; got %', coalesce("limit"::text, 'NULL') using errcode = 'DL001', column = 'limit';
    end if;
    return query
    select e.peer_id, e.account_version, e.transfer_id, t.transaction_type::text, t.reason::text, e.amount, e.balance_before,
           e.balance_after, e.held_after,
           case when t.from_peer_id = e.peer_id then t.to_peer_id else t.from_peer_id end,
           t.hold_id, t.memo, t.metadata, t.created_by, e.posted_at
      from debugloop.ledger_entries e
      join debugloop.ledger_transfers t on t.transfer_id = e.transfer_id
     where e.account_id = account.account_id and (before is null or e.account_version < before)
     order by e.account_version desc
     limit "limit";
end
$$;
comment on function debugloop.ledger_history(text, bigint, integer) is 'A peer''s entries newest first, with keyset pagination by version.';

-- debugloop.ledger_balance_at(peer, at, version): a peer's balance, held and
-- available tokens as of a time (after its last entry at or before it) or after a
-- version of its account; version 0 (or a time before its first entry) is all zero.
-- Give one of `at` and `version` (DL001). Why: voting snapshots. Raises DL032 for an
-- unknown peer, DL001 for a system peer or a version it has not reached. Locks: none.
create or replace function debugloop.ledger_balance_at(
    peer text, at timestamptz default null, version bigint default null,
    out peer_id text, out account_version bigint, out balance bigint, out held bigint, out available bigint,
    out posted_at timestamptz)
returns record
language plpgsql
stable
as $$
declare
    account debugloop.ledger_accounts := debugloop._ledger_account(peer);
    e debugloop.ledger_entries;
begin
    if (at is null) = (version is null) then
        raise exception 'give at or version, not both and not neither' using errcode = 'DL001', column = 'at';
    end if;
    if version < 0 or version > account.version then
        raise exception 'peer % has versions 0 to %; got %', account.peer_id, account.version, version
            using errcode = 'DL001', column = 'version';
    end if;
    if at is not null then
        select * into e from debugloop.ledger_entries x
         where x.account_id = account.account_id and x.posted_at <= at order by x.posted_at desc, x.account_version desc limit 1;
    else
        select * into e from debugloop.ledger_entries x
         where x.account_id = account.account_id and x.account_version = ledger_balance_at.version;
    end if;
    peer_id := account.peer_id;
    account_version := coalesce(e.account_version, 0);
    balance := coalesce(e.balance_after + e.held_after, 0);
    held := coalesce(e.held_after, 0);
    available := coalesce(e.balance_after, 0);
    posted_at := e.posted_at;
end
$$;
comment on function debugloop.ledger_balance_at(text, timestamptz, bigint) is 'A peer''s balance as of a time or a version of its account.';

-- debugloop.ledger_balances_at(at): every peer's balance as of a time (peers of no
-- entry by then are left out). Why: a voting snapshot in one query. Locks: none.
create or replace function debugloop.ledger_balances_at(at timestamptz)
returns table (peer_id text, account_version bigint, balance bigint, held bigint, available bigint, posted_at timestamptz)
language sql
stable
as $$
    select a.peer_id, e.account_version, e.balance_after + e.held_after, e.held_after, e.balance_after, e.posted_at
      from debugloop.ledger_accounts a
     cross join lateral (select x.* from debugloop.ledger_entries x
                          where x.account_id = a.account_id and x.posted_at <= ledger_balances_at.at
                          order by x.posted_at desc, x.account_version desc limit 1) e
     where not a.system
     order by a.peer_id
$$;
comment on function debugloop.ledger_balances_at(timestamptz) is 'Every peer''s balance as of a time (a voting snapshot).';

-- debugloop._ledger_resolve(id, field): the transfer id (field transfer_id) or
-- hold id (hold_id) that `id` names, a whole uuid or a prefix of 8+ hex digits
-- (_util_uuid_prefix): the one recorded id that starts with it; DL002 when none
-- does, DL001 when several do. Why: the command line prints ids short. Locks: none.
create or replace function debugloop._ledger_resolve(id text, field text)
returns uuid
language plpgsql
stable
as $$
declare
    prefix record := debugloop._util_uuid_prefix(id, field);
    ids uuid[];
begin
    if field = 'hold_id' then
        select array_agg(h.hold_id) into ids
          from (select h.hold_id from debugloop.ledger_holds h where h.hold_id between prefix.low and prefix.high limit 2) h;
    else
        select array_agg(t.transfer_id) into ids
          from (select t.transfer_id from debugloop.ledger_transfers t
                 where t.transfer_id between prefix.low and prefix.high limit 2) t;
    end if;
    if ids is null then
        raise exception '% % does not exist', replace(field, '_id', ''), id using errcode = 'DL002', column = field;
    elsif cardinality(ids) > 1 then
        raise exception '% prefix % is ambiguous', field, id using errcode = 'DL001', column = field, hint = 'give more hex digits';
    end if;
    return ids[1];
end
$$;

-- debugloop.ledger_get(transfer_id): one transfer (posted or refused) by its id or
-- a unique prefix of 8+ hex digits; DL002 when there is none. Locks: none.
create or replace function debugloop.ledger_get(transfer_id text)
returns debugloop.ledger_transfers
language sql
stable
as $$
    select t.* from debugloop.ledger_transfers t
     where t.transfer_id = debugloop._ledger_resolve(ledger_get.transfer_id, 'transfer_id')
$$;
comment on function debugloop.ledger_get(text) is 'One transfer, posted or refused, by its id or a unique prefix of 8+ hex digits.';

-- debugloop.ledger_hold_get(hold_id): one hold by its id or a unique prefix of 8+
-- hex digits; DL002 when there is none. Locks: none.
create or replace function debugloop.ledger_hold_get(hold_id text)
returns debugloop.ledger_holds
language sql
stable
as $$
    select h.* from debugloop.ledger_holds h where h.hold_id = debugloop._ledger_resolve(ledger_hold_get.hold_id, 'hold_id')
$$;
comment on function debugloop.ledger_hold_get(text) is 'One hold by its id or a unique prefix of 8+ hex digits.';

-- debugloop.ledger_hold_list(peer, status, limit): holds, newest first, of a peer
-- and a status (each optional). Locks: none.
create or replace function debugloop.ledger_hold_list(peer text default null, status text default null, "limit" integer default 50)
returns setof debugloop.ledger_holds
language sql
stable
as $$
    select h.* from debugloop.ledger_holds h
     where (peer is null or h.peer_id = peer) and (ledger_hold_list.status is null or h.status = ledger_hold_list.status)
     order by h.created_at desc, h.hold_id
     limit debugloop._util_limit(ledger_hold_list."limit")
$$;
comment on function debugloop.ledger_hold_list(text, text, integer) is 'Holds, newest first, of a peer and a status (each optional).';

-- debugloop.v_ledger_accounts: every account (a system peer's shards each) with its
-- peer's kind and status.
create or replace view debugloop.v_ledger_accounts as
select a.account_id, a.peer_id, p.kind, p.status, a.shard, a.system, a.balance, a.held, a.version, a.lifetime_earned,
       a.lifetime_spent, a.holds_expire_at, a.last_transfer_id, a.created_at, a.updated_at
  from debugloop.ledger_accounts a join debugloop.peers p on p.peer_id = a.peer_id;
comment on view debugloop.v_ledger_accounts is 'Every account, system shards included, with its balance, held tokens and version.';

-- debugloop.v_ledger_balances: one row per peer as ledger_balance returns it.
create or replace view debugloop.v_ledger_balances as
select p.peer_id, p.kind, p.status, b.balance, b.held, b.available, b.lifetime_earned, b.lifetime_spent, b.version,
       b.last_transfer_id, b.last_transfer_at
  from debugloop.peers p cross join lateral debugloop.ledger_balance(p.peer_id) b;
comment on view debugloop.v_ledger_balances is 'Every peer''s balance, held and available tokens, lifetime earned and spent.';

-- debugloop.v_ledger_transfers: every transfer, posted or refused.
create or replace view debugloop.v_ledger_transfers as
select t.* from debugloop.ledger_transfers t;
comment on view debugloop.v_ledger_transfers is 'Every transfer, posted or refused, by its client-chosen id.';

-- debugloop.v_ledger_entries: every entry with its transfer's type, reason and
-- counterparty.
create or replace view debugloop.v_ledger_entries as
select e.account_id, e.account_version, e.peer_id, e.transfer_id, t.transaction_type, t.reason, e.amount,
       e.balance_before, e.balance_after, e.held_after,
       case when t.from_peer_id = e.peer_id then t.to_peer_id else t.from_peer_id end as counterparty_peer_id,
       t.hold_id, t.memo, t.created_by, e.posted_at
  from debugloop.ledger_entries e join debugloop.ledger_transfers t on t.transfer_id = e.transfer_id;
comment on view debugloop.v_ledger_entries is 'Every entry (one per leg) with its transfer''s type, reason and counterparty.';

-- debugloop.v_ledger_holds: every hold.
create or replace view debugloop.v_ledger_holds as
select h.* from debugloop.ledger_holds h;
comment on view debugloop.v_ledger_holds is 'Every hold: active, settled, released, expired or refused.';

-- debugloop._ledger_time(ts): a time as the events write it, ISO 8601 in UTC with
-- microseconds. Locks: none.
create or replace function debugloop._ledger_time(ts timestamptz)
returns text
language sql
immutable
as $$ select to_char(ts at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') $$;

-- debugloop._ledger_transaction_event(entry, transfer, counterparty_system): the
-- token.transactions.v1 event of one peer leg: the seed's fields, and the
-- direction, the account version and the balances after it, so that the outbox
-- relay publishes it without another lookup (schemas/ has its JSON Schema). The
-- counterparty is null when its account is a system one; the time as _ledger_time
-- writes it. Why: one shape for the view and for the outbox's
-- writer (tg_ledger_entries__outbox), which builds it from the entries a statement inserted
-- instead of finding them again through the view. PL/pgSQL with its search path
-- pinned, as a function a view calls must be. Locks: none.
create or replace function debugloop._ledger_transaction_event(
    e debugloop.ledger_entries, t debugloop.ledger_transfers, counterparty_system boolean)
returns jsonb
language plpgsql
stable
set search_path = debugloop, pg_catalog, pg_temp
as $$
begin
    return jsonb_build_object(
        'transaction_id', t.transfer_id,
        'peer_id', e.peer_id,
        'transaction_type', t.transaction_type,
        'amount', t.amount,
        'direction', case when e.amount > 0 then 'credit' else 'debit' end,
        'reason', t.reason,
        'contribution_hash', t.contribution_hash,
        'quality_score', t.quality_score,
        'novelty_score', t.novelty_score,
        'counterparty_peer_id',
            case when counterparty_system then null
                 when t.from_account_id = e.account_id then t.to_peer_id else t.from_peer_id end,
        'metadata', coalesce(t.metadata, '{}'),
        'hold_id', t.hold_id,
        'memo', t.memo,
        'account_version', e.account_version,
        'balance', e.balance_after + e.held_after,
        'held', e.held_after,
        'available', e.balance_after,
        'timestamp', debugloop._ledger_time(e.posted_at));
end
$$;

-- debugloop.v_ledger_transaction_events: the token.transactions.v1 event of every
-- peer leg (_ledger_transaction_event; the system accounts' legs publish nothing),
-- in version order per peer; read by peer through the accounts' index and the
-- entries' key.
create or replace view debugloop.v_ledger_transaction_events as
select a.peer_id, e.account_version, e.transfer_id, debugloop._ledger_transaction_event(e, t, oa.system) as event
  from debugloop.ledger_entries e
  join debugloop.ledger_transfers t on t.transfer_id = e.transfer_id
  join debugloop.ledger_accounts a on a.account_id = e.account_id
  join debugloop.ledger_accounts oa
    on oa.account_id = case when t.from_account_id = e.account_id then t.to_account_id else t.from_account_id end
 where not a.system;
comment on view debugloop.v_ledger_transaction_events is 'The token.transactions.v1 event of every peer''s entry.';

-- debugloop._ledger_balance_json(...): the token.balances.v1 event of a balance
-- (the seed's fields, and held, available and version; the time written out as
-- _ledger_time writes it). Why: one shape for ledger_balance_event, which sums a
-- peer's accounts, and for the outbox's writer (tg_ledger_entries__outbox), which reads a
-- peer's one account row. Locks: none.
create or replace function debugloop._ledger_balance_json(
    peer_id text, balance numeric, held numeric, available numeric, lifetime_earned numeric, lifetime_spent numeric,
    version numeric, last_transfer_id uuid, last_updated timestamptz)
returns jsonb
language sql
immutable
as $$
    select jsonb_build_object(
        'peer_id', peer_id,
        'balance', balance,
        'held', held,
        'available', available,
        'lifetime_earned', lifetime_earned,
        'lifetime_spent', lifetime_spent,
        'version', version,
        'last_transaction_id', last_transfer_id,
        'last_updated', debugloop._ledger_time(last_updated))
$$;

-- debugloop.ledger_balance_event(peer): the token.balances.v1 event of a peer's
-- balance now (_ledger_balance_json of ledger_balance). Raises DL032 for an
-- unknown peer. Locks: none.
create or replace function debugloop.ledger_balance_event(peer text)
returns jsonb
language sql
stable
as $$
    select debugloop._ledger_balance_json(b.peer_id, b.balance, b.held, b.available, b.lifetime_earned, b.lifetime_spent,
                                          b.version, b.last_transfer_id, coalesce(b.last_transfer_at, p.created_at))
      from debugloop.ledger_balance(peer) b join debugloop.peers p on p.peer_id = b.peer_id
$$;
comment on function debugloop.ledger_balance_event(text) is 'The token.balances.v1 event of a peer''s balance now.';

-- debugloop.ledger_check(): the ledger's invariants, each with whether it holds and
-- what breaks it: the accounts sum to zero; each account's balance is the sum of its
-- entries and its version their count, without gaps; no peer's available tokens
-- are negative; each peer's held tokens are its active holds, and the holds account
-- holds them all; each hold names its peer's account and agrees with its status;
-- each entry names an account and a posted transfer of it, and each posted transfer
-- has its two entries (the foreign keys these tables do without). Why: reconciliation
-- for operators and the tests. Reads every row: for a schedule, not a hot path.
-- Locks: none.
create or replace function debugloop.ledger_check()
returns table (invariant text, holds boolean, detail text)
language sql
stable
as $$
    with sums as (
        select a.account_id, a.peer_id, a.balance, a.version, coalesce(sum(e.amount), 0) as entries_sum,
               count(e.account_version) as entries, coalesce(max(e.account_version), 0) as last_version
          from debugloop.ledger_accounts a left join debugloop.ledger_entries e on e.account_id = a.account_id
         group by a.account_id
    ), held as (
        select a.account_id, a.peer_id, a.held,
               coalesce((select sum(h.amount) from debugloop.ledger_holds h
                          where h.account_id = a.account_id and h.status = 'active'), 0) as active
          from debugloop.ledger_accounts a where not a.system
    )
    select 'accounts sum to zero', sum(balance) = 0, format('the accounts sum to %s', sum(balance))
      from debugloop.ledger_accounts
    union all
    select 'balances are the sums of their entries', count(*) = 0,
           string_agg(format('%s #%s: balance %s, entries %s', s.peer_id, s.account_id, s.balance, s.entries_sum), '; ')
      from sums s where s.balance <> s.entries_sum
    union all
    select 'versions count the entries without gaps', count(*) = 0,
           string_agg(format('%s #%s: version %s, %s entries, last %s', s.peer_id, s.account_id, s.version, s.entries,
                             s.last_version), '; ')
      from sums s where s.version <> s.entries or s.entries <> s.last_version
    union all
    select 'no available balance is negative', count(*) = 0, string_agg(format('%s: %s', a.peer_id, a.balance), '; ')
      from debugloop.ledger_accounts a where not a.system and a.balance < 0
    union all
    select 'held tokens are the active holds', count(*) = 0,
           string_agg(format('%s: held %s, active holds %s', h.peer_id, h.held, h.active), '; ')
      from held h where h.held <> h.active
    union all
    select 'the holds account holds the held tokens',
           (select sum(a.balance) from debugloop.ledger_accounts a where a.peer_id = 'sys_holds')
             = (select coalesce(sum(h.held), 0) from held h),
           format('sys_holds %s, held %s', (select sum(a.balance) from debugloop.ledger_accounts a where a.peer_id = 'sys_holds'),
                  (select coalesce(sum(h.held), 0) from held h))
    union all
    select 'holds name their peers'' accounts and agree with their status', count(*) = 0,
           string_agg(h.hold_id::text, ', ')
      from debugloop.ledger_holds h
     where not exists (select from debugloop.ledger_accounts a
                        where a.account_id = h.account_id and a.peer_id = h.peer_id and not a.system)
        or (h.status = 'settled') <> (h.settled_amount is not null)
        or (h.status = 'refused') <> (h.refusal is not null)
        or (h.status in ('active', 'refused')) <> (h.resolved_at is null)
        or (h.status in ('active', 'refused')) <> (h.release_transfer_id is null)
    union all
    select 'entries name their accounts and posted transfers', count(*) = 0,
           string_agg(format('#%s version %s', e.account_id, e.account_version), '; ')
      from debugloop.ledger_entries e
     where not exists (select from debugloop.ledger_accounts a where a.account_id = e.account_id)
        or not exists (select from debugloop.ledger_transfers t
                        where t.transfer_id = e.transfer_id and t.status = 'posted'
                          and e.account_id in (t.from_account_id, t.to_account_id))
    union all
    select 'posted transfers have their two entries', count(*) = 0,
           string_agg(t.transfer_id::text, ', ')
      from debugloop.ledger_transfers t
     where t.status = 'posted'
       and (not exists (select from debugloop.ledger_entries e
                         where e.account_id = t.from_account_id and e.account_version = t.from_version
                           and e.transfer_id = t.transfer_id and e.amount = -t.amount)
            or not exists (select from debugloop.ledger_entries e
                            where e.account_id = t.to_account_id and e.account_version = t.to_version
                              and e.transfer_id = t.transfer_id and e.amount = t.amount))
$$;
comment on function debugloop.ledger_check() is 'The ledger''s invariants and whether each holds (reconciliation).';

-- debugloop._ledger_refuse_change(table_name, operation): raise DL038: ledger rows
-- never change or disappear; a correction is a new, reversing transfer. Why: the
-- rule of the ledger tables' triggers. Locks: none.
create or replace function debugloop._ledger_refuse_change(table_name text, operation text)
returns void
language plpgsql
immutable
as $$
begin
    raise exception 'the ledger is append-only: % of % refused', lower(operation), table_name
        using errcode = 'DL038',
              hint = 'correct a balance with a new transfer: debugloop.ledger_adjust(transfer_id, peer, amount, memo)';
end
$$;
