-- rewards: contributors earn tokens for STFs, golden states and fixes, exactly once.
--
-- Every reward is one ledger transfer from sys_issuance to the contributor's peer,
-- under an id derived from what it pays for (kind, object and, for royalties and
-- reuse bonuses, the reusing attempt), with a row in reward_payments under the same
-- id. The row is written first (insert ... on conflict do nothing, under a lock of
-- the peer's rewards): a concurrent or retried payer of the same reward waits for
-- it and then pays nothing, and a re-import or a backfill finds it.
--
-- When: an STF pays when another peer approves it (never on extraction: the hot
-- path of attempt_finish stays as it was); a royalty on each successful reuse of an
-- STF by another peer; a golden state on its approval by another peer (not an
-- automatic one) and a bonus on each successful reuse by another peer; a fix once
-- it has succeeded in enough distinct chains, two of them recorded by different
-- peers, and its Wilson bound reaches a tier. A rejection after payment reverses
-- the contribution reward with a reversing transfer (an adjustment back to
-- issuance), never by an update. Attempts that import_units brought in earn only
-- through reward_backfill (admin). Nothing is paid while enable_token_rewards is
-- off, to a frozen peer, or beyond a peer's daily cap.
--
-- Whose: the peer of an attempt is the peer its recording role is bound to
-- (peer_bind_role); an attempt recorded by an admin or before roles were recorded
-- belongs to the peer its agent name maps to; one recorded by an unbound agent
-- role belongs to nobody. So a role earns nothing from approvals, reuses or
-- confirmations of its own making.
--
-- Locks: an advisory lock per peer for its rewards (the daily cap), then the
-- ledger's (the peer's account, an issuance shard).

-- debugloop._reward_id(kind, object_id, reuse_key): the id of a reward, and of its
-- ledger transfer: derived from what it pays for. Locks: none.
create or replace function debugloop._reward_id(kind text, object_id uuid, reuse_key text default null)
returns uuid
language sql
immutable
as $$ select debugloop._ledger_derived_id(object_id::text || coalesce(':' || reuse_key, ''), 'reward:' || kind) $$;

-- debugloop._reward_settings(): every number of the reward formulas and the
-- enable_token_rewards flag, as one jsonb object (key -> value in force), read in
-- one statement. Why: a quote needs about fifteen of them; one read of the settings
-- rows costs what one settings_get costs. An overridable setting (none of the
-- reward ones is) comes from settings_get, session override first. Locks: none.
create or replace function debugloop._reward_settings()
returns jsonb
language sql
stable
as $$
    select jsonb_object_agg(s.key, case when s.overridable then debugloop.settings_get(s.key) else s.value end)
      from debugloop.settings s
     where s.key like 'reward\_%' or s.key = 'enable_token_rewards'
$$;

-- debugloop._reward_number(settings, key): one number of _reward_settings().
-- Locks: none.
create or replace function debugloop._reward_number(settings jsonb, key text)
returns numeric
language sql
immutable
as $$ select (settings ->> key)::numeric $$;

-- debugloop._reward_tier(quality, settings): the base tokens of a quality (the
-- seed's tiers, from the reward_tier_* settings): 0 below the low tier. Locks:
-- none.
create or replace function debugloop._reward_tier(quality numeric, settings jsonb)
returns bigint
language sql
immutable
as $$
    select case
        when quality >= debugloop._reward_number(settings, 'reward_tier_high_quality')
            then debugloop._reward_number(settings, 'reward_tier_high_tokens')
        when quality >= debugloop._reward_number(settings, 'reward_tier_mid_quality')
            then debugloop._reward_number(settings, 'reward_tier_mid_tokens')
        when quality >= debugloop._reward_number(settings, 'reward_tier_low_quality')
            then debugloop._reward_number(settings, 'reward_tier_low_tokens')
        else 0
    end::bigint
$$;

-- debugloop._reward_novelty_multiplier(novelty, settings): (1 - w) + w * novelty,
-- w = reward_novelty_weight (seed: 0.5 + 0.5 * novelty). Locks: none.
create or replace function debugloop._reward_novelty_multiplier(novelty numeric, settings jsonb)
returns numeric
language sql
immutable
as $$
    select (1 - debugloop._reward_number(settings, 'reward_novelty_weight'))
           + debugloop._reward_number(settings, 'reward_novelty_weight') * coalesce(novelty, 1)
$$;

-- debugloop._reward_stf_formula(quality, novelty, complexity, settings): the
-- seed's STF reward, scores already checked: tier(quality) * (0.5 + 0.5 *
-- novelty) * (1 + 0.3 * complexity), rounded half up, capped at reward_stf_cap.
-- Locks: none.
create or replace function debugloop._reward_stf_formula(quality numeric, novelty numeric, complexity numeric, settings jsonb)
returns bigint
language sql
immutable
as $$
    select least(debugloop._reward_number(settings, 'reward_stf_cap'),
                 round(debugloop._reward_tier(coalesce(quality, 0), settings)
                       * debugloop._reward_novelty_multiplier(novelty, settings)
                       * (1 + debugloop._reward_number(settings, 'reward_complexity_weight') * coalesce(complexity, 0))))::bigint
$$;

-- debugloop.reward_stf_amount(quality, novelty, complexity): the seed's STF
-- reward: tier(quality) * (0.5 + 0.5 * novelty) * (1 + 0.3 * complexity), rounded
-- half up to whole tokens, capped at reward_stf_cap (each number a setting).
-- Scores outside [0, 1] are DL001. Locks: none.
create or replace function debugloop.reward_stf_amount(quality numeric, novelty numeric, complexity numeric default 0)
returns bigint
language plpgsql
stable
set search_path = debugloop, pg_catalog, pg_temp
as $$
begin
    if quality not between 0 and 1 or novelty not between 0 and 1 or complexity not between 0 and 1 then
        raise exception 'quality, novelty and complexity must lie in [0, 1]' using errcode = 'DL001';
    end if;
    return _reward_stf_formula(quality, novelty, complexity, _reward_settings());
end
$$;
comment on function debugloop.reward_stf_amount(numeric, numeric, numeric) is 'The STF reward of a quality, novelty and complexity (the seed''s formula, settings'' numbers).';

-- debugloop._reward_diminishing(first, decay, n, paid, cap): the n-th (1, 2, ...)
-- bonus of a series that starts at `first` and shrinks by `decay` each time:
-- round(first * decay^(n-1)), no more than what is left of `cap` after `paid`.
-- Why: royalties and golden reuse bonuses share it. Locks: none.
create or replace function debugloop._reward_diminishing(first bigint, decay numeric, n integer, paid bigint, cap bigint)
returns bigint
language sql
immutable
as $$ select greatest(0, least(round(first * power(decay, greatest(n, 1) - 1)), cap - paid))::bigint $$;
comment on function debugloop._reward_diminishing(bigint, numeric, integer, bigint, bigint) is 'The n-th bonus of a diminishing series, within what is left of its cap.';

-- debugloop._reward_attempt_peer(attempt_id): the peer an attempt belongs to: the
-- peer its recording role is bound to; for an attempt recorded by an admin role or
-- by nobody known (before 0010), the peer its agent name maps to; else none.
-- Locks: none.
create or replace function debugloop._reward_attempt_peer(attempt_id uuid)
returns text
language sql
stable
as $$
    select coalesce(
        (select r.peer_id from debugloop.peer_roles r where r.role_name = a.recorded_by),
        (select n.peer_id from debugloop.peer_agent_names n
          where n.agent_name = a.agent_name
            and (a.recorded_by is null
                 or exists (select from pg_catalog.pg_roles g
                             where g.rolname = a.recorded_by
                               and pg_catalog.pg_has_role(g.oid, 'debugloop_admin', 'member')))))
      from debugloop.debug_execution_attempts a
     where a.attempt_id = _reward_attempt_peer.attempt_id
$$;

-- debugloop._reward_imported(attempt_id): whether import_units brought the attempt
-- in (it then earns only through reward_backfill). Locks: none.
create or replace function debugloop._reward_imported(attempt_id uuid)
returns boolean
language sql
stable
as $$ select exists (select from debugloop.debug_import_units u where u.attempt_id = _reward_imported.attempt_id) $$;

-- debugloop._reward_state(reward_id): what a reward paid and reversed, and the
-- status of its transfer (paid, reversed, refused, unpaid). Locks: none.
create or replace function debugloop._reward_state(reward_id uuid, out status text, out paid bigint, out reversed bigint)
language sql
stable
as $$
    select case when v.reward_id is not null then 'reversed'
                when t.status = 'refused' then 'refused'
                when p.reward_id is not null then 'paid'
                else 'unpaid' end,
           coalesce(p.amount, 0), coalesce(v.amount, 0)
      from (select 1) one
      left join debugloop.reward_payments p on p.reward_id = _reward_state.reward_id
      left join debugloop.ledger_transfers t on t.transfer_id = _reward_state.reward_id
      left join debugloop.reward_payments v
             on v.reward_id = debugloop._ledger_derived_id(_reward_state.reward_id::text, 'reward:reversal')
$$;

-- debugloop._reward_paid(object_id, kind): the tokens and the number of rewards of
-- one kind an object was paid so far (royalties, reuse bonuses). Locks: none.
create or replace function debugloop._reward_paid(object_id uuid, kind text, out tokens bigint, out n integer)
language sql
stable
as $$
    select coalesce(sum(p.amount), 0)::bigint, count(*)::integer
      from debugloop.reward_payments p
     where p.object_id = _reward_paid.object_id and p.kind = _reward_paid.kind
$$;

-- debugloop._reward_why_not(peer_id, attempt_id, backfill, settings): why the
-- contributor of this attempt earns nothing now (rewards off, no peer, frozen,
-- imported), or null. Locks: none.
create or replace function debugloop._reward_why_not(peer_id text, attempt_id uuid, backfill boolean, settings jsonb)
returns text
language sql
stable
as $$
    select case
        when not (settings ->> 'enable_token_rewards')::boolean then 'token rewards are off (enable_token_rewards)'
        when peer_id is null then 'its attempt belongs to no peer (map the agent name or bind the role)'
        when exists (select from debugloop.peers p where p.peer_id = _reward_why_not.peer_id and p.status = 'frozen')
            then 'its peer is frozen'
        when not backfill and debugloop._reward_imported(attempt_id)
            then 'imported history: it earns through reward_backfill only'
    end
$$;

-- debugloop._reward_reviewer_why_not(reviewer, automatic, peer_id): why an approval
-- is no other peer's (automatic; the reviewing role is bound to the contributor's
-- own peer), or null. Locks: none.
create or replace function debugloop._reward_reviewer_why_not(reviewer text, automatic boolean, peer_id text)
returns text
language sql
stable
as $$
    select case
        when reviewer is null then 'not approved'
        when automatic then 'approved automatically: its reward needs another peer''s approval'
        when exists (select from debugloop.peer_roles r where r.role_name = reviewer and r.peer_id = _reward_reviewer_why_not.peer_id)
            then 'approved by a role of its own peer: its reward needs another peer''s approval'
    end
$$;

-- debugloop._reward_daily_room(quote, settings): the quote within its peer's daily
-- cap (what reward_daily_totals holds for it today, UTC), and eligible unless
-- something says why not. Why apart: a payment needs only this under its lock (the
-- reward's row, inserted on conflict do nothing, settles whether it was paid).
-- Locks: none.
create or replace function debugloop._reward_daily_room(quote debugloop.reward_quote, settings jsonb)
returns debugloop.reward_quote
language plpgsql
stable
set search_path = debugloop, pg_catalog, pg_temp
as $$
declare
    room bigint;
begin
    if quote.why_not is null and quote.peer_id is not null then
        room := _reward_number(settings, 'reward_daily_cap')
                - coalesce((select d.tokens from reward_daily_totals d
                             where d.peer_id = quote.peer_id and d.day = (now() at time zone 'UTC')::date), 0);
        if quote.amount > room then
            quote.amount := greatest(0, room);
            if quote.amount = 0 then
                quote.why_not := 'its peer reached the daily cap (reward_daily_cap)';
            end if;
        end if;
    end if;
    if quote.why_not is null and coalesce(quote.amount, 0) <= 0 then
        quote.why_not := 'the formula gives 0 tokens';
    end if;
    quote.eligible := quote.why_not is null;
    if not quote.eligible then
        quote.amount := 0;
    end if;
    return quote;
end
$$;

-- debugloop._reward_quote_finish(quote, settings): the quote completed, as
-- reward_preview shows it: its state (paid, reversed, refused, unpaid; "paid
-- already" unless unpaid) and the amount a payment would post now, after the
-- peer's daily cap (_reward_daily_room). Locks: none.
create or replace function debugloop._reward_quote_finish(quote debugloop.reward_quote, settings jsonb)
returns debugloop.reward_quote
language plpgsql
stable
set search_path = debugloop, pg_catalog, pg_temp
as $$
declare
    state record;
begin
    select * into state from _reward_state(quote.reward_id);
    quote.status := state.status;
    quote.paid := state.paid;
    quote.reversed := state.reversed;
    if quote.why_not is null and state.status <> 'unpaid' then
        quote.why_not := 'paid already';
    end if;
    return _reward_daily_room(quote, settings);
end
$$;

-- debugloop._reward_pay(quote, settings, reuse_key, kind, transaction_type, reason,
-- memo, source): pay a quote (its terms, not yet finished) once, if nothing in its
-- terms says why not and it has no reward_payments row: under a lock of the peer's
-- rewards, its daily cap read (_reward_daily_room), the reward_payments row
-- inserted (nothing when another payer did it first: the row is the reward's state,
-- written before its transfer and before any reversal), the peer's daily total
-- raised and the ledger transfer posted from issuance. Returns the reward id, or null when nothing was
-- paid. Locks: an advisory lock of the peer's rewards, the peer's row of today in
-- reward_daily_totals, then the ledger's.
create or replace function debugloop._reward_pay(quote debugloop.reward_quote, settings jsonb, reuse_key text, kind text,
                                                 transaction_type text, reason text, memo text, source text)
returns uuid
language plpgsql
volatile
set search_path = debugloop, pg_catalog, pg_temp
as $$
declare
    id uuid := _reward_id(kind, quote.object_id, reuse_key);
begin
    if quote.why_not is not null or exists (select from reward_payments p where p.reward_id = id) then
        return null;
    end if;
    perform pg_advisory_xact_lock(hashtextextended('debugloop.reward:' || quote.peer_id, 0));
    quote.reward_id := id;
    quote.status := 'unpaid';
    quote := _reward_daily_room(quote, settings);  -- the daily cap under the lock
    if not quote.eligible then
        return null;
    end if;
    insert into reward_payments (reward_id, kind, object_id, reuse_key, peer_id, amount, quality, novelty, complexity,
                                 factors, source, paid_by)
    values (id, kind, quote.object_id, reuse_key, quote.peer_id, quote.amount, quote.quality, quote.novelty,
            quote.complexity, to_jsonb(quote) - 'status' - 'eligible' - 'why_not' - 'paid' - 'reversed' - 'metadata',
            source, _util_caller())
    on conflict on constraint reward_payments_pkey do nothing;
    if not found then
        return null;
    end if;
    insert into reward_daily_totals as d (peer_id, day, tokens)
    values (quote.peer_id, (now() at time zone 'UTC')::date, quote.amount)
    on conflict on constraint reward_daily_totals_pkey do update set tokens = d.tokens + excluded.tokens;
    perform _ledger_post_single(_ledger_check(row(
        id, 'sys_issuance', quote.peer_id, quote.amount, transaction_type, reason, memo,
        least(1, quote.quality), quote.novelty, quote.contribution_hash, quote.metadata, null, null)::ledger_request));
    return id;
end
$$;

-- debugloop._reward_reverse(reward_id, memo): reverse a paid reward once: a
-- reversal row and an adjustment of its amount from the peer back to issuance
-- (refused by the ledger, and recorded so, when the peer has spent it). Returns
-- the reversal's id, or null when there was nothing to reverse. Locks: as
-- _reward_pay.
create or replace function debugloop._reward_reverse(reward_id uuid, memo text)
returns uuid
language plpgsql
volatile
set search_path = debugloop, pg_catalog, pg_temp
as $$
declare
    paid reward_payments;
    id uuid := _ledger_derived_id(reward_id::text, 'reward:reversal');
begin
    select * into paid from reward_payments p where p.reward_id = _reward_reverse.reward_id;
    if not found or not exists (select from ledger_transfers t where t.transfer_id = paid.reward_id and t.status = 'posted') then
        return null;
    end if;
    perform pg_advisory_xact_lock(hashtextextended('debugloop.reward:' || paid.peer_id, 0));
    insert into reward_payments (reward_id, kind, object_id, reuse_key, peer_id, amount, quality, novelty, complexity,
                                 factors, source, paid_by)
    values (id, 'reversal', paid.object_id, paid.reward_id::text, paid.peer_id, paid.amount, paid.quality, paid.novelty,
            paid.complexity, jsonb_build_object('reverses', paid.reward_id, 'kind', paid.kind), 'automatic', _util_caller())
    on conflict on constraint reward_payments_pkey do nothing;
    if not found then
        return null;
    end if;
    perform _ledger_post_single(_ledger_check(row(
        id, paid.peer_id, 'sys_issuance', paid.amount, 'adjustment', 'correction', memo,
        null, null, null, jsonb_build_object('reverses', paid.reward_id), null, null)::ledger_request));
    return id;
end
$$;

-- ---------------------------------------------------------------------------------
-- STFs: contribution rewards and royalties

-- debugloop._reward_stf_novelty(stf): 1 - the highest cosine similarity of the STF
-- to the STFs discovered before it, by the neural embedding where both have one of
-- the same model, else by the hashed sparse embedding (util_embed_sparse); 1 when
-- none is like it. The one place that says which embedding novelty uses. Only the
-- highest similarity counts: one nearest neighbour by the HNSW index, "discovered
-- before it" applied inside the scan (iterative, in strict order: the first row is
-- the nearest earlier STF the graph finds; at most 5,000 index tuples visited, so
-- an earlier STF further away than the 5,000 nearest is not near). An STF with
-- fewer than 500 earlier ones (the first of a table, where few rows pass that
-- filter) is compared with each of them instead: exact, and cheaper there. Rounded
-- to 4 places. Locks: none.
create or replace function debugloop._reward_stf_novelty(stf debugloop.debug_transform_functions)
returns numeric
language plpgsql
stable
set search_path = debugloop, pg_catalog, pg_temp
set hnsw.iterative_scan = strict_order
set hnsw.ef_search = 20
set hnsw.max_scan_tuples = 5000
as $$
declare
    neural boolean := stf.embedding_neural is not null;
    similarity double precision;
begin
    if not neural and stf.embedding is null then
        return 1;
    end if;
    if (select count(*) from (select from debug_transform_functions o
                                where (o.discovered_at, o.stf_id) < (stf.discovered_at, stf.stf_id)
                                order by o.discovered_at, o.stf_id limit 500) e) < 500 then
        select max(1 - case when neural then e.embedding_neural <=> stf.embedding_neural
                            else e.embedding <=> stf.embedding end) into similarity
          from (select o.embedding, o.embedding_neural, o.embedding_model from debug_transform_functions o
                 where (o.discovered_at, o.stf_id) < (stf.discovered_at, stf.stf_id)
                 order by o.discovered_at, o.stf_id limit 500) e
         where case when neural then e.embedding_neural is not null and e.embedding_model = stf.embedding_model
                    else e.embedding is not null end;
    elsif neural then
        select 1 - (o.embedding_neural <=> stf.embedding_neural) into similarity
          from debug_transform_functions o
         where o.embedding_neural is not null and o.embedding_model = stf.embedding_model
           and (o.discovered_at, o.stf_id) < (stf.discovered_at, stf.stf_id)
         order by o.embedding_neural <=> stf.embedding_neural
         limit 1;
    else
        select 1 - (o.embedding <=> stf.embedding) into similarity
          from debug_transform_functions o
         where o.embedding is not null and (o.discovered_at, o.stf_id) < (stf.discovered_at, stf.stf_id)
         order by o.embedding <=> stf.embedding
         limit 1;
    end if;
    return round(greatest(0, least(1, 1 - coalesce(similarity, 0)))::numeric, 4);
end
$$;

-- debugloop._reward_stf_source(stf): the attempt that first produced the STF's
-- code: its source attempt, else the first attempt of its provenance. Locks: none.
create or replace function debugloop._reward_stf_source(stf debugloop.debug_transform_functions)
returns uuid
language sql
stable
as $$
    select coalesce(stf.source_execution_id,
                    (select p.attempt_id from debugloop.debug_stf_provenance p
                      where p.stf_id = stf.stf_id and p.attempt_id is not null
                      order by p.registered_at, p.provenance_id limit 1))
$$;

-- debugloop._reward_metadata(stf_id, attempt_id, complexity): the seed's event
-- metadata of a reward: stf id, execution (attempt) id, correlation id, model,
-- complexity. Locks: none.
create or replace function debugloop._reward_metadata(stf_id uuid, attempt_id uuid, complexity numeric)
returns jsonb
language sql
stable
as $$
    select jsonb_strip_nulls(jsonb_build_object(
        'stf_id', stf_id, 'execution_id', a.attempt_id, 'correlation_id', a.correlation_id,
        'model_used', a.model_used, 'complexity', complexity))
      from (select 1) one
      left join debugloop.debug_execution_attempts a on a.attempt_id = _reward_metadata.attempt_id
$$;

-- debugloop._reward_stf_row(stf_id): the STF's row, or DL002. Locks: none.
create or replace function debugloop._reward_stf_row(stf_id uuid)
returns debugloop.debug_transform_functions
language plpgsql
stable
set search_path = debugloop, pg_catalog, pg_temp
as $$
declare
    stf debug_transform_functions;
begin
    select * into stf from debug_transform_functions f where f.stf_id = _reward_stf_row.stf_id;
    if not found then
        raise exception 'STF % does not exist', coalesce(_reward_stf_row.stf_id::text, 'NULL')
            using errcode = 'DL002', column = 'stf_id';
    end if;
    return stf;
end
$$;

-- debugloop._reward_stf_terms(stf, backfill, settings): the contribution reward of
-- an STF: its factors (quality, novelty, complexity), the amount and why it is not
-- payable, before its state and the daily cap (_reward_quote_finish). Locks: none.
create or replace function debugloop._reward_stf_terms(stf debugloop.debug_transform_functions, backfill boolean,
                                                       settings jsonb)
returns debugloop.reward_quote
language plpgsql
stable
set search_path = debugloop, pg_catalog, pg_temp
as $$
declare
    reviewer text;
    automatic boolean;
    source uuid := _reward_stf_source(stf);
    q reward_quote;
begin
    q.kind := 'stf';
    q.object_id := stf.stf_id;
    q.peer_id := _reward_attempt_peer(source);
    q.quality := coalesce(stf.quality_score, 0);
    q.novelty := _reward_stf_novelty(stf);
    q.complexity := coalesce(stf.complexity_score, 0);
    q.base := _reward_tier(q.quality, settings);
    q.quality_multiplier := 1;
    q.novelty_multiplier := _reward_novelty_multiplier(q.novelty, settings);
    q.complexity_multiplier := 1 + _reward_number(settings, 'reward_complexity_weight') * q.complexity;
    q.type_multiplier := 1;
    q.cap := _reward_number(settings, 'reward_stf_cap');
    q.amount := _reward_stf_formula(q.quality, q.novelty, q.complexity, settings);
    q.reward_id := _reward_id('stf', stf.stf_id);
    q.reuse_paid := (_reward_paid(stf.stf_id, 'royalty')).tokens;
    q.contribution_hash := 'sha256:' || stf.stf_hash;
    q.metadata := _reward_metadata(stf.stf_id, source, q.complexity);
    if stf.approval_status = 'approved' then
        select r.reviewed_by, r.automatic into reviewer, automatic from debug_stf_reviews r
         where r.stf_id = stf.stf_id and r.decision = 'approved' order by r.review_id desc limit 1;
    end if;
    q.why_not := coalesce(
        _reward_why_not(q.peer_id, source, backfill, settings),
        case when stf.approval_status <> 'approved' then format('the STF is %s: it pays when another peer approves it',
                                                                stf.approval_status) end,
        _reward_reviewer_why_not(coalesce(reviewer, 'unknown'), coalesce(automatic, false), q.peer_id),
        case when q.base = 0 then 'its quality is below the lowest tier' end);
    return q;
end
$$;

-- debugloop._reward_stf_quote(stf_id, backfill): the contribution reward of an
-- STF, as reward_preview shows it: its factors, the amount, whether it is payable
-- now and why not. Raises DL002 for an unknown STF. Locks: none.
create or replace function debugloop._reward_stf_quote(stf_id uuid, backfill boolean default false)
returns debugloop.reward_quote
language sql
stable
as $$
    select debugloop._reward_quote_finish(debugloop._reward_stf_terms(debugloop._reward_stf_row(stf_id), backfill, s), s)
      from debugloop._reward_settings() s
$$;

-- debugloop._reward_stf(stf_id, backfill): pay an STF's contribution reward if it
-- is payable (approved by another peer, ...), or reverse it when the STF is
-- rejected. Returns the id of what was posted, or null. Raises DL002 for an
-- unknown STF. Locks: as _reward_pay.
create or replace function debugloop._reward_stf(stf_id uuid, backfill boolean default false)
returns uuid
language plpgsql
volatile
set search_path = debugloop, pg_catalog, pg_temp
as $$
declare
    stf debug_transform_functions := _reward_stf_row(stf_id);
    settings jsonb := _reward_settings();
begin
    if stf.approval_status = 'rejected' then
        return _reward_reverse(_reward_id('stf', stf_id), 'STF ' || stf_id || ' was rejected: its reward is reversed');
    end if;
    return _reward_pay(_reward_stf_terms(stf, backfill, settings), settings, null, 'stf', 'earned', 'stf_contribution',
                       'STF ' || stf_id || ' approved', case when backfill then 'backfill' else 'automatic' end);
end
$$;

-- debugloop._reward_royalty_terms(stf_id, attempt_id, backfill, settings): the royalty of one
-- reuse of an STF by an attempt: payable when the reuse succeeded, the attempt is
-- another peer's than the STF's contributor and the STF is not rejected; the n-th
-- royalty of an STF is reward_royalty_tokens * reward_royalty_decay^(n-1), within
-- reward_royalty_cap. Locks: none.
create or replace function debugloop._reward_royalty_terms(stf_id uuid, attempt_id uuid, backfill boolean, settings jsonb)
returns debugloop.reward_quote
language plpgsql
stable
set search_path = debugloop, pg_catalog, pg_temp
as $$
declare
    stf debug_transform_functions;
    use debug_stf_uses;
    source uuid;
    user_peer text;
    paid record;
    q reward_quote;
begin
    select * into stf from debug_transform_functions f where f.stf_id = _reward_royalty_terms.stf_id;
    select * into use from debug_stf_uses u
     where u.stf_id = _reward_royalty_terms.stf_id and u.attempt_id = _reward_royalty_terms.attempt_id;
    source := _reward_stf_source(stf);
    user_peer := _reward_attempt_peer(attempt_id);
    paid := _reward_paid(stf_id, 'royalty');
    q.kind := 'royalty';
    q.object_id := stf_id;
    q.peer_id := _reward_attempt_peer(source);
    q.quality := coalesce(stf.quality_score, 0);
    q.complexity := coalesce(stf.complexity_score, 0);
    q.base := _reward_number(settings, 'reward_royalty_tokens');
    q.cap := _reward_number(settings, 'reward_royalty_cap');
    q.amount := _reward_diminishing(q.base, _reward_number(settings, 'reward_royalty_decay'), paid.n + 1, paid.tokens, q.cap);
    q.reward_id := _reward_id('royalty', stf_id, attempt_id::text);
    q.reuse_paid := paid.tokens;
    q.contribution_hash := 'sha256:' || stf.stf_hash;
    q.metadata := _reward_metadata(stf_id, attempt_id, q.complexity);
    q.why_not := coalesce(
        _reward_why_not(q.peer_id, attempt_id, backfill, settings),
        case when use.use_id is null then 'no such use of the STF'
             when not use.success then 'the reuse failed'
             when stf.approval_status = 'rejected' then 'the STF is rejected'
             when user_peer is null then 'the reusing attempt belongs to no peer'
             when user_peer = q.peer_id then 'a reuse by its own peer earns nothing'
             when q.amount = 0 then 'its royalties reached their cap (reward_royalty_cap)' end);
    return q;
end
$$;

-- debugloop._reward_royalty_quote(stf_id, attempt_id, backfill): _reward_royalty_terms finished
-- (_reward_quote_finish): what reward_preview shows. Locks: none.
create or replace function debugloop._reward_royalty_quote(stf_id uuid, attempt_id uuid, backfill boolean default false)
returns debugloop.reward_quote
language sql
stable
as $$
    select debugloop._reward_quote_finish(debugloop._reward_royalty_terms(stf_id, attempt_id, backfill, s), s)
      from debugloop._reward_settings() s
$$;

-- debugloop._reward_royalty(stf_id, attempt_id, backfill): pay the royalty of one
-- reuse, if payable. Locks: as _reward_pay.
create or replace function debugloop._reward_royalty(stf_id uuid, attempt_id uuid, backfill boolean default false)
returns uuid
language sql
volatile
as $$
    select debugloop._reward_pay(debugloop._reward_royalty_terms(stf_id, attempt_id, backfill, s), s, attempt_id::text,
                                 'royalty', 'bonus', 'stf_contribution', 'royalty: STF ' || stf_id || ' reused',
                                 case when backfill then 'backfill' else 'automatic' end)
      from debugloop._reward_settings() s
$$;

-- ---------------------------------------------------------------------------------
-- Golden states

-- debugloop._reward_golden_terms(golden_state_id, backfill, settings): the approval reward
-- of a golden state: reward_golden_tokens * (1 + quality) (the seed's quality
-- multiplier 1.0 to 2.0), within reward_golden_cap; payable once another peer
-- approved it (not an automatic approval). Raises DL002 for an unknown one. Locks:
-- none.
create or replace function debugloop._reward_golden_terms(golden_state_id uuid, backfill boolean, settings jsonb)
returns debugloop.reward_quote
language plpgsql
stable
set search_path = debugloop, pg_catalog, pg_temp
as $$
declare
    golden debug_golden_states;
    review debug_golden_reviews;
    q reward_quote;
begin
    select * into golden from debug_golden_states g where g.golden_state_id = _reward_golden_terms.golden_state_id;
    if not found then
        raise exception 'golden state % does not exist', coalesce(_reward_golden_terms.golden_state_id::text, 'NULL')
            using errcode = 'DL002', column = 'golden_state_id';
    end if;
    q.kind := 'golden';
    q.object_id := golden.golden_state_id;
    q.peer_id := _reward_attempt_peer(golden.execution_attempt_id);
    q.quality := golden.quality_score;
    q.complexity := coalesce(golden.complexity_score, 0);
    q.base := _reward_number(settings, 'reward_golden_tokens');
    q.quality_multiplier := 1 + golden.quality_score;
    q.novelty_multiplier := 1;
    q.complexity_multiplier := 1;
    q.type_multiplier := 1;
    q.cap := _reward_number(settings, 'reward_golden_cap');
    q.amount := least(q.cap, round(q.base * q.quality_multiplier));
    q.reward_id := _reward_id('golden', golden.golden_state_id);
    q.reuse_paid := (_reward_paid(golden.golden_state_id, 'golden_reuse')).tokens;
    q.contribution_hash := debugloop.util_sha256('golden:' || golden.problem_hash || ':' || coalesce(golden.approach_hash, ''));
    q.metadata := _reward_metadata(null, golden.execution_attempt_id, q.complexity);
    if golden.approval_status = 'approved' then
        select * into review from debug_golden_reviews r
         where r.golden_state_id = golden.golden_state_id and r.decision = 'approved' order by r.review_id desc limit 1;
    end if;
    q.why_not := coalesce(
        _reward_why_not(q.peer_id, golden.execution_attempt_id, backfill, settings),
        case when golden.approval_status <> 'approved'
             then format('the golden state is %s: it pays when another peer approves it', golden.approval_status) end,
        _reward_reviewer_why_not(coalesce(review.reviewed_by, 'unknown'), coalesce(review.automatic, false), q.peer_id));
    return q;
end
$$;

-- debugloop._reward_golden_quote(golden_state_id, backfill): _reward_golden_terms finished
-- (_reward_quote_finish): what reward_preview shows. Locks: none.
create or replace function debugloop._reward_golden_quote(golden_state_id uuid, backfill boolean default false)
returns debugloop.reward_quote
language sql
stable
as $$
    select debugloop._reward_quote_finish(debugloop._reward_golden_terms(golden_state_id, backfill, s), s)
      from debugloop._reward_settings() s
$$;

-- debugloop._reward_golden(golden_state_id, backfill): pay a golden state's
-- approval reward if payable, or reverse it when the state is rejected. Locks: as
-- _reward_pay.
create or replace function debugloop._reward_golden(golden_state_id uuid, backfill boolean default false)
returns uuid
language plpgsql
volatile
set search_path = debugloop, pg_catalog, pg_temp
as $$
declare
    settings jsonb := _reward_settings();
begin
    if (select g.approval_status from debug_golden_states g where g.golden_state_id = _reward_golden.golden_state_id)
       = 'rejected' then
        return _reward_reverse(_reward_id('golden', golden_state_id),
                               'golden state ' || golden_state_id || ' was rejected: its reward is reversed');
    end if;
    return _reward_pay(_reward_golden_terms(golden_state_id, backfill, settings), settings, null, 'golden', 'earned',
                       'golden_state', 'golden state ' || golden_state_id || ' approved',
                       case when backfill then 'backfill' else 'automatic' end);
end
$$;

-- debugloop._reward_golden_reuse_terms(golden_state_id, attempt_id, backfill, settings): the
-- bonus of one successful reuse of an approved golden state by another peer: the
-- n-th is reward_golden_reuse_tokens * reward_golden_reuse_decay^(n-1), within
-- reward_golden_reuse_cap and within reward_golden_cap with the approval reward.
-- Locks: none.
create or replace function debugloop._reward_golden_reuse_terms(golden_state_id uuid, attempt_id uuid,
                                                                backfill boolean, settings jsonb)
returns debugloop.reward_quote
language plpgsql
stable
set search_path = debugloop, pg_catalog, pg_temp
as $$
declare
    golden debug_golden_states;
    reuse debug_golden_reuses;
    user_peer text := _reward_attempt_peer(attempt_id);
    paid record;
    base_paid bigint;
    q reward_quote;
begin
    select * into golden from debug_golden_states g where g.golden_state_id = _reward_golden_reuse_terms.golden_state_id;
    select * into reuse from debug_golden_reuses r
     where r.golden_state_id = _reward_golden_reuse_terms.golden_state_id and r.attempt_id = _reward_golden_reuse_terms.attempt_id;
    paid := _reward_paid(golden_state_id, 'golden_reuse');
    base_paid := (_reward_state(_reward_id('golden', golden_state_id))).paid;
    q.kind := 'golden_reuse';
    q.object_id := golden_state_id;
    q.peer_id := _reward_attempt_peer(golden.execution_attempt_id);
    q.quality := golden.quality_score;
    q.base := _reward_number(settings, 'reward_golden_reuse_tokens');
    q.cap := least(_reward_number(settings, 'reward_golden_reuse_cap'), _reward_number(settings, 'reward_golden_cap') - base_paid);
    q.amount := _reward_diminishing(q.base, _reward_number(settings, 'reward_golden_reuse_decay'), paid.n + 1, paid.tokens, q.cap);
    q.reward_id := _reward_id('golden_reuse', golden_state_id, attempt_id::text);
    q.reuse_paid := paid.tokens;
    q.contribution_hash := debugloop.util_sha256('golden:' || golden.problem_hash || ':' || coalesce(golden.approach_hash, ''));
    q.metadata := _reward_metadata(null, attempt_id, null);
    q.why_not := coalesce(
        _reward_why_not(q.peer_id, attempt_id, backfill, settings),
        case when reuse.reuse_id is null then 'no such reuse of the golden state'
             when not reuse.success then 'the reuse failed'
             when golden.approval_status <> 'approved' then 'the golden state is not approved'
             when user_peer is null then 'the reusing attempt belongs to no peer'
             when user_peer = q.peer_id then 'a reuse by its own peer earns nothing'
             when q.amount = 0 then 'its reuse bonuses reached their cap' end);
    return q;
end
$$;

-- debugloop._reward_golden_reuse_quote(golden_state_id, attempt_id, backfill): _reward_golden_reuse_terms finished
-- (_reward_quote_finish): what reward_preview shows. Locks: none.
create or replace function debugloop._reward_golden_reuse_quote(golden_state_id uuid, attempt_id uuid, backfill boolean default false)
returns debugloop.reward_quote
language sql
stable
as $$
    select debugloop._reward_quote_finish(debugloop._reward_golden_reuse_terms(golden_state_id, attempt_id, backfill, s), s)
      from debugloop._reward_settings() s
$$;

-- debugloop._reward_golden_reuse(golden_state_id, attempt_id, backfill): pay the
-- bonus of one reuse of a golden state, if payable. Locks: as _reward_pay.
create or replace function debugloop._reward_golden_reuse(golden_state_id uuid, attempt_id uuid, backfill boolean default false)
returns uuid
language sql
volatile
as $$
    select debugloop._reward_pay(debugloop._reward_golden_reuse_terms(golden_state_id, attempt_id, backfill, s), s,
                                 attempt_id::text, 'golden_reuse', 'bonus', 'golden_state',
                                 'golden state ' || golden_state_id || ' reused',
                                 case when backfill then 'backfill' else 'automatic' end)
      from debugloop._reward_settings() s
$$;

-- ---------------------------------------------------------------------------------
-- Patterns: fixes (error -> success mappings)

-- debugloop._reward_pattern_chains(mapping): the chains (correlations) in which the
-- mapping's approach fixed its error: per chain its first successful attempt with
-- that approach after a failure with that signature, and that attempt's peer, in
-- the order they succeeded. Locks: none.
create or replace function debugloop._reward_pattern_chains(mapping debugloop.debug_error_success_mappings,
                                                            backfill boolean)
returns table (correlation_id uuid, attempt_id uuid, peer_id text, started_at timestamptz)
language sql
stable
as $$
    select c.correlation_id, c.attempt_id, debugloop._reward_attempt_peer(c.attempt_id), c.started_at
      from (select distinct on (s.correlation_id) s.correlation_id, s.attempt_id, s.started_at
              from debugloop.debug_execution_attempts e
              join debugloop.debug_execution_attempts s
                on s.correlation_id = e.correlation_id and s.status = 'success'
               and s.approach_hash = mapping.approach_key and s.started_at >= e.started_at
             where e.error_signature = mapping.signature and e.status in ('error', 'timeout')
               and (backfill or not debugloop._reward_imported(s.attempt_id))
             order by s.correlation_id, s.started_at, s.attempt_id) c
     order by c.started_at, c.attempt_id
$$;

-- debugloop._reward_pattern_terms(mapping_id, backfill, settings): the reward of a fix. Its
-- quality is the Wilson lower bound of its successes and failures (what ranks
-- fixes), so it earns a tier only with evidence (0.5 needs 4 successes and no
-- failure); it is confirmed when reward_pattern_confirmations distinct chains
-- succeeded with it, and at least two of those chains belong to different peers;
-- it pays its first fixer (the peer of the first of those chains). Novelty: 1 for
-- the first approach that fixed its error, 1 / (1 + k) for one after k earlier
-- approaches. No complexity; the type multiplier is reward_pattern_type_multiplier.
-- amount = tier(wilson) * (0.5 + 0.5 novelty) * type, within reward_pattern_cap.
-- Raises DL002 for an unknown mapping. Locks: none.
create or replace function debugloop._reward_pattern_terms(mapping_id uuid, backfill boolean, settings jsonb)
returns debugloop.reward_quote
language plpgsql
stable
set search_path = debugloop, pg_catalog, pg_temp
as $$
declare
    mapping debug_error_success_mappings;
    first_chain record;
    chains integer;
    peers integer;
    earlier integer;
    q reward_quote;
begin
    select * into mapping from debug_error_success_mappings m where m.mapping_id = _reward_pattern_terms.mapping_id;
    if not found then
        raise exception 'fix % does not exist', coalesce(_reward_pattern_terms.mapping_id::text, 'NULL')
            using errcode = 'DL002', column = 'mapping_id';
    end if;
    select count(*), count(distinct c.peer_id) into chains, peers from _reward_pattern_chains(mapping, backfill) c;
    select * into first_chain from _reward_pattern_chains(mapping, backfill) c limit 1;
    select count(*) into earlier from debug_error_success_mappings m
     where m.signature = mapping.signature and (m.created_at, m.mapping_id) < (mapping.created_at, mapping.mapping_id);
    q.kind := 'pattern';
    q.object_id := mapping.mapping_id;
    q.peer_id := first_chain.peer_id;
    q.quality := mapping.wilson_lower_bound;
    q.novelty := round(1.0 / (1 + earlier), 4);
    q.complexity := 0;
    q.base := _reward_tier(q.quality, settings);
    q.quality_multiplier := 1;
    q.novelty_multiplier := _reward_novelty_multiplier(q.novelty, settings);
    q.complexity_multiplier := 1;
    q.type_multiplier := _reward_number(settings, 'reward_pattern_type_multiplier');
    q.cap := _reward_number(settings, 'reward_pattern_cap');
    q.amount := least(q.cap, round(q.base * q.novelty_multiplier * q.type_multiplier));
    q.reward_id := _reward_id('pattern', mapping.mapping_id);
    q.reuse_paid := 0;
    q.contribution_hash := debugloop.util_sha256('fix:' || mapping.signature || ':' || mapping.approach_key);
    q.metadata := _reward_metadata(mapping.successful_stf_ids[1], first_chain.attempt_id, null);
    q.why_not := coalesce(
        case when mapping.approach_key like 'attempt:%' then 'an approach without a description is never confirmed' end,
        _reward_why_not(q.peer_id, first_chain.attempt_id, backfill, settings),
        case when chains < _reward_number(settings, 'reward_pattern_confirmations')
             then format('confirmed by %s of the %s distinct chains it needs', chains,
                         _reward_number(settings, 'reward_pattern_confirmations'))
             when peers < 2 then 'every chain that confirms it belongs to one peer: it needs another peer''s success'
             when q.base = 0 then 'its Wilson bound is below the lowest tier' end);
    return q;
end
$$;

-- debugloop._reward_pattern_quote(mapping_id, backfill): _reward_pattern_terms finished
-- (_reward_quote_finish): what reward_preview shows. Locks: none.
create or replace function debugloop._reward_pattern_quote(mapping_id uuid, backfill boolean default false)
returns debugloop.reward_quote
language sql
stable
as $$
    select debugloop._reward_quote_finish(debugloop._reward_pattern_terms(mapping_id, backfill, s), s)
      from debugloop._reward_settings() s
$$;

-- debugloop._reward_pattern(mapping_id, backfill): pay a fix's reward if payable.
-- Locks: as _reward_pay.
create or replace function debugloop._reward_pattern(mapping_id uuid, backfill boolean default false)
returns uuid
language sql
volatile
as $$
    select debugloop._reward_pay(debugloop._reward_pattern_terms(mapping_id, backfill, s), s, null, 'pattern', 'earned',
                                 'pattern_contribution', 'fix ' || mapping_id || ' confirmed',
                                 case when backfill then 'backfill' else 'automatic' end)
      from debugloop._reward_settings() s
$$;

-- debugloop._reward_pattern_success(mapping): after a fix succeeded again: pay it
-- if it may now be payable. Cheap when it cannot be (rewards off, too few
-- successes, a Wilson bound below the lowest tier, paid already, an import).
-- Locks: as _reward_pay.
create or replace function debugloop._reward_pattern_success(mapping debugloop.debug_error_success_mappings)
returns void
language plpgsql
volatile
set search_path = debugloop, pg_catalog, pg_temp
as $$
begin
    if settings_flag('enable_token_rewards')
       and current_setting('debugloop.import_retries_only', true) is distinct from 'on'
       and mapping.success_count >= _settings_number('reward_pattern_confirmations')
       and mapping.approach_key not like 'attempt:%'
       and mapping.wilson_lower_bound >= _settings_number('reward_tier_low_quality')
       and not exists (select from reward_payments p where p.reward_id = _reward_id('pattern', mapping.mapping_id)) then
        perform _reward_pattern(mapping.mapping_id);
    end if;
end
$$;

-- ---------------------------------------------------------------------------------
-- The API

-- debugloop._reward_kind(kind): the kind checked: stf, golden or pattern, else
-- DL065. Locks: none.
create or replace function debugloop._reward_kind(kind text)
returns text
language plpgsql
immutable
as $$
begin
    if kind is null or kind not in ('stf', 'golden', 'pattern') then
        raise exception 'kind must be stf, golden or pattern; got %', coalesce(quote_literal(kind), 'NULL')
            using errcode = 'DL065', column = 'kind',
                  hint = 'royalties and reuse bonuses are shown with their STF or golden state (reuse_paid)';
    end if;
    return kind;
end
$$;

-- debugloop.reward_preview(kind, id): each factor of the reward of an STF, a golden
-- state or a fix (kind stf, golden, pattern): quality, novelty, complexity, base and
-- multipliers, cap, what a payment would post now and why not, and what was paid
-- (status, paid, reversed, royalties or reuse bonuses). Paid or not, it changes
-- nothing. DL065 for another kind, DL002 for an unknown id. Locks: none.
create or replace function debugloop.reward_preview(kind text, id uuid)
returns debugloop.reward_quote
language plpgsql
stable
set search_path = debugloop, pg_catalog, pg_temp
as $$
begin
    return case _reward_kind(kind)
        when 'stf' then _reward_stf_quote(id)
        when 'golden' then _reward_golden_quote(id)
        else _reward_pattern_quote(id)
    end;
end
$$;
comment on function debugloop.reward_preview(text, uuid) is 'Each factor of the reward of an STF, golden state or fix, paid or not.';

-- debugloop.v_rewards: every reward paid or reversed, with its ledger transfer's
-- status (posted, or refused when a reversal found the tokens spent).
create or replace view debugloop.v_rewards as
select p.reward_id, p.kind, p.object_id, p.reuse_key, p.peer_id, p.amount, t.status, p.quality, p.novelty,
       p.complexity, p.factors, p.source, p.paid_by, p.paid_at
  from debugloop.reward_payments p
  left join debugloop.ledger_transfers t on t.transfer_id = p.reward_id;
comment on view debugloop.v_rewards is 'Every reward paid or reversed, with its ledger transfer''s status.';

-- debugloop.reward_list(peer, kind, limit): the rewards paid (and reversed), newest
-- first, of one peer or all, of one kind (stf, royalty, golden, golden_reuse,
-- pattern, reversal) or all. DL001 for a limit outside 1..10,000. Locks: none.
create or replace function debugloop.reward_list(peer text default null, kind text default null, "limit" integer default 50)
returns setof debugloop.v_rewards
language plpgsql
stable
set search_path = debugloop, pg_catalog, pg_temp
as $$
begin
    if "limit" is null or "limit" not between 1 and 10000 then
        raise exception 'limit must lie in 1..10000' using errcode = 'DL001', column = 'limit';
    end if;
    return query
        select * from v_rewards r
         where (reward_list.peer is null or r.peer_id = reward_list.peer)
           and (reward_list.kind is null or r.kind = reward_list.kind)
         order by r.paid_at desc, r.reward_id
         limit reward_list."limit";
end
$$;
comment on function debugloop.reward_list(text, text, integer) is 'The rewards paid and reversed, newest first.';

-- debugloop.reward_backfill(kind, limit): pay what the history earned and was not
-- paid: imported attempts' contributions, and those made while rewards were off
-- (approved STFs, successful reuses, approved golden states and their reuses,
-- fixes). Idempotent: every reward has its one id, so running it again, or twice
-- at once, pays nothing more. Admin only; DL066 while enable_token_rewards is off;
-- kind (stf, golden, pattern) limits it, `limit` bounds the objects of each kind.
-- Returns per kind the rewards paid and their tokens. Locks: as _reward_pay, per
-- reward.
create or replace function debugloop.reward_backfill(kind text default null, "limit" integer default 100000)
returns table (reward_kind text, rewards bigint, tokens bigint)
language plpgsql
volatile
security definer
set search_path = debugloop, pg_catalog, pg_temp
as $$
declare
    paid uuid[] := '{}';
begin
    if reward_backfill.kind is not null then
        perform _reward_kind(reward_backfill.kind);
    end if;
    if not settings_flag('enable_token_rewards') then
        raise exception 'token rewards are off: a backfill pays nothing'
            using errcode = 'DL066', hint = 'an admin turns them on: select debugloop.settings_set(''enable_token_rewards'', ''true'')';
    end if;
    if "limit" is null or "limit" not between 1 and 10000000 then
        raise exception 'limit must lie in 1..10000000' using errcode = 'DL001', column = 'limit';
    end if;
    if coalesce(reward_backfill.kind, 'stf') = 'stf' then
        paid := paid || array(select _reward_stf(f.stf_id, true) from debug_transform_functions f
                               where f.approval_status = 'approved'
                                 and not exists (select from reward_payments p where p.reward_id = _reward_id('stf', f.stf_id))
                               order by f.discovered_at, f.stf_id limit reward_backfill."limit");
        paid := paid || array(select _reward_royalty(u.stf_id, u.attempt_id, true) from debug_stf_uses u
                               where u.success
                                 and not exists (select from reward_payments p
                                                  where p.reward_id = _reward_id('royalty', u.stf_id, u.attempt_id::text))
                               order by u.use_id limit reward_backfill."limit");
    end if;
    if coalesce(reward_backfill.kind, 'golden') = 'golden' then
        paid := paid || array(select _reward_golden(g.golden_state_id, true) from debug_golden_states g
                               where g.approval_status = 'approved'
                                 and not exists (select from reward_payments p
                                                  where p.reward_id = _reward_id('golden', g.golden_state_id))
                               order by g.nominated_at, g.golden_state_id limit reward_backfill."limit");
        paid := paid || array(select _reward_golden_reuse(r.golden_state_id, r.attempt_id, true) from debug_golden_reuses r
                               where r.success
                                 and not exists (select from reward_payments p
                                                  where p.reward_id = _reward_id('golden_reuse', r.golden_state_id,
                                                                                 r.attempt_id::text))
                               order by r.reuse_id limit reward_backfill."limit");
    end if;
    if coalesce(reward_backfill.kind, 'pattern') = 'pattern' then
        paid := paid || array(select _reward_pattern(m.mapping_id, true) from debug_error_success_mappings m
                               where m.success_count >= _settings_number('reward_pattern_confirmations')
                                 and not exists (select from reward_payments p where p.reward_id = _reward_id('pattern', m.mapping_id))
                               order by m.created_at, m.mapping_id limit reward_backfill."limit");
    end if;
    return query
        select p.kind, count(*), coalesce(sum(p.amount), 0)::bigint
          from reward_payments p where p.reward_id = any (paid)
         group by p.kind order by p.kind;
end
$$;
comment on function debugloop.reward_backfill(text, integer) is 'Pay what imported or earlier history earned and was not paid (admin; idempotent).';
revoke execute on function debugloop.reward_backfill(text, integer) from public;
grant execute on function debugloop.reward_backfill(text, integer) to debugloop_admin;
