-- budgets and rate limits of spending (issue 22): what spending_reserve checks after
-- its estimate and before its hold, and what spending_settle and spending_release
-- correct after it.
--
-- Budgets: a peer's reservation counts against the peer's active budgets and those of
-- every active team it belongs to, in the period that contains the reservation (day,
-- week from Monday, month; starting at 00:00 UTC). A period's usage is the tokens
-- held by its active reservations plus those posted by its settled ones, kept in
-- one counter row per budget and period (spend_budget_usage), updated in the
-- reserving transaction: O(budgets of the peer) per reservation, never a sum over
-- history. A reservation after which the usage would exceed a hard limit is
-- refused (DL084) and nothing of it stays; one after which it exceeds a soft limit
-- goes ahead and, the first time in the period, writes an alert row and an outbox
-- event spend.budget.exceeded.v1 (topic spend.alerts.v1, key the peer). A settle
-- that costs more than the hold counts the excess (and may cross a limit: the
-- tokens were spent; the next reservation is refused).
--
-- Rate limits: requests and LLM tokens per minute of a peer with a model, from the
-- most specific admin rule (the peer and the model, the peer and any model, any
-- peer and the model, any peer and any model), else the price catalog's
-- requests_per_minute / tokens_per_minute for the model, else the settings
-- spend_default_requests_per_minute / spend_default_tokens_per_minute (0 = none).
-- A reservation is one request; the tokens are counted when the call is settled
-- (its input + output tokens), so a reservation is refused when its minute's
-- requests would exceed the limit, or its tokens already reached it (DL085, with
-- retry_after: the seconds to the next minute). One counter row per peer and model
-- (spend_rate_usage), reset when the minute changes.
--
-- Locks, in this order after the peer's spend_accounts row: the peer's rate counter,
-- the budget usage rows (by budget id), then the ledger's.

-- debugloop._budget_period_start(period, at): the start of the day, week (Monday)
-- or month in UTC that contains `at`. Locks: none.
create or replace function debugloop._budget_period_start(period text, at timestamptz)
returns timestamptz
language sql
stable
as $$ select date_trunc(period, at, 'UTC') $$;

-- debugloop._budget_period_end(period, start): the end of the period that begins at
-- `start` (exclusive), in UTC. Locks: none.
create or replace function debugloop._budget_period_end(period text, start timestamptz)
returns timestamptz
language sql
stable
as $$ select date_add(start, ('1 ' || period)::interval, 'UTC') $$;

-- debugloop._budget_invalid(field, message): raise DL086 naming `field`. Locks: none.
create or replace function debugloop._budget_invalid(field text, message text)
returns void
language plpgsql
immutable
as $$
begin
    raise exception '%', message using errcode = 'DL086', column = field;
end
$$;

-- debugloop._budget_applicable(peer): the active budgets a reservation of `peer`
-- counts against: its own and those of the active teams it belongs to. Locks: none.
create or replace function debugloop._budget_applicable(peer text)
returns setof debugloop.spend_budgets
language sql
stable
as $$
    select b.* from debugloop.spend_budgets b where b.peer_id = peer and b.retired_at is null
    union all
    select b.*
      from debugloop.spend_team_members m
      join debugloop.spend_teams t on t.team_id = m.team_id and t.retired_at is null
      join debugloop.spend_budgets b on b.team_id = m.team_id and b.retired_at is null
     where m.peer_id = peer
$$;

-- debugloop._budget_alert(budget, period_start, peer, used): the soft limit of a
-- budget was crossed in a period by `peer`: mark its usage row alerted, write the
-- alert row (once per budget and period) and its outbox event
-- spend.budget.exceeded.v1 on topic spend.alerts.v1, keyed by the peer. Locks: the
-- usage row (held by the caller already).
create or replace function debugloop._budget_alert(budget debugloop.spend_budgets, period_start timestamptz, peer text,
                                                 used bigint)
returns void
language plpgsql
volatile
as $$
declare
    alert debugloop.spend_budget_alerts;
begin
    update debugloop.spend_budget_usage u set alerted = true
     where u.budget_id = budget.budget_id and u.period_start = _budget_alert.period_start;
    insert into debugloop.spend_budget_alerts (budget_id, period_start, peer_id, used, soft_limit, hard_limit)
    values (budget.budget_id, _budget_alert.period_start, peer, used, budget.soft_limit, budget.hard_limit)
    on conflict on constraint spend_budget_alerts_once do nothing
    returning * into alert;
    if alert.alert_id is not null then
        perform debugloop._outbox_write('spend.budget.exceeded.v1', 'spend.alerts.v1', peer, alert.alert_id,
            jsonb_strip_nulls(jsonb_build_object(
                'event_type', 'spend.budget.exceeded.v1', 'alert_id', alert.alert_id, 'budget_id', budget.budget_id,
                'peer_id', peer, 'team_id', budget.team_id, 'budget_peer_id', budget.peer_id, 'period', budget.period,
                'period_start', debugloop._ledger_time(alert.period_start),
                'period_end', debugloop._ledger_time(debugloop._budget_period_end(budget.period, alert.period_start)),
                'used', used, 'soft_limit', budget.soft_limit, 'hard_limit', budget.hard_limit,
                'occurred_at', debugloop._ledger_time(alert.created_at))));
    end if;
end
$$;

-- debugloop._budget_count(peer, needed): count a reservation of `needed` tokens
-- against the budgets of `peer` (_budget_applicable) in the current period: one
-- upsert of their usage rows. DL084 when one of them would exceed its hard limit
-- (DETAIL: JSON with budget_id, peer_id or team_id, period, period_start, used
-- before, limit, needed); a soft limit crossed writes its alert (_budget_alert).
-- Returns the budgets counted (null for none), for spending_settle and
-- spending_release. Locks: the usage rows of those budgets.
create or replace function debugloop._budget_count(peer text, needed bigint)
returns uuid[]
language plpgsql
volatile
as $$
declare
    u record;
    counted uuid[];
begin
    for u in
        with applicable as (
            select * from debugloop._budget_applicable(peer)
        ), counted_rows as (
            insert into debugloop.spend_budget_usage as x (budget_id, period_start, used, reservations)
            select a.budget_id, debugloop._budget_period_start(a.period, now()), needed, 1
              from applicable a
             order by a.budget_id
            on conflict on constraint spend_budget_usage_pkey do update
               set used = x.used + excluded.used, reservations = x.reservations + 1, updated_at = now()
            returning x.budget_id, x.period_start, x.used, x.alerted
        )
        select c.period_start, c.used, c.alerted, b as budget
          from counted_rows c
          join debugloop.spend_budgets b on b.budget_id = c.budget_id
         order by c.budget_id
    loop
        if (u.budget).hard_limit is not null and u.used > (u.budget).hard_limit then
            raise exception 'the % budget of % % allows % tokens from %: % used, % more refused',
                            (u.budget).period, case when (u.budget).team_id is not null then 'team' else 'peer' end,
                            coalesce((u.budget).team_id, (u.budget).peer_id), (u.budget).hard_limit, u.period_start,
                            u.used - needed, needed
                using errcode = 'DL084', column = 'peer',
                      detail = json_strip_nulls(json_build_object(
                          'budget_id', (u.budget).budget_id, 'peer_id', (u.budget).peer_id, 'team_id', (u.budget).team_id,
                          'period', (u.budget).period, 'period_start', u.period_start,
                          'period_end', debugloop._budget_period_end((u.budget).period, u.period_start),
                          'used', u.used - needed, 'limit', (u.budget).hard_limit, 'needed', needed))::text,
                      hint = 'wait for the next period, or an admin raises the limit (budget_set)';
        end if;
        if (u.budget).soft_limit is not null and u.used > (u.budget).soft_limit and not u.alerted then
            perform debugloop._budget_alert(u.budget, u.period_start, peer, u.used);
        end if;
        counted := counted || (u.budget).budget_id;
    end loop;
    return counted;
end
$$;

-- debugloop._budget_adjust(reservation, delta): correct the usage of the budgets a
-- reservation counted against, in the period it was made in, by `delta` tokens
-- (posted - held at a settle, - held at a release); a rise that crosses a soft
-- limit writes its alert. Locks: those usage rows, in budget id order (as
-- _budget_count: two peers of the same teams never wait on each other in a cycle).
create or replace function debugloop._budget_adjust(r debugloop.spend_reservations, delta bigint)
returns void
language plpgsql
volatile
as $$
declare
    u record;
begin
    if r.budget_ids is null or delta = 0 then
        return;
    end if;
    perform from debugloop.spend_budget_usage x
     where (x.budget_id, x.period_start) in (select b.budget_id, debugloop._budget_period_start(b.period, r.created_at)
                                                from debugloop.spend_budgets b where b.budget_id = any (r.budget_ids))
     order by x.budget_id
       for update;
    for u in
        update debugloop.spend_budget_usage x
           set used = x.used + delta, updated_at = now()
          from debugloop.spend_budgets b
         where b.budget_id = any (r.budget_ids) and x.budget_id = b.budget_id
           and x.period_start = debugloop._budget_period_start(b.period, r.created_at)
        returning x.period_start, x.used, x.alerted, b as budget
    loop
        if delta > 0 and (u.budget).soft_limit is not null and u.used > (u.budget).soft_limit and not u.alerted then
            perform debugloop._budget_alert(u.budget, u.period_start, r.peer_id, u.used);
        end if;
    end loop;
end
$$;

-- debugloop._spending_rate_limits(peer, model): the rate limits of `peer` with
-- `model`: the most specific admin rule (source `rule`), else the catalog's limits
-- (`catalog`: the latest active row with limits whose name is the model's, or the
-- part after its provider prefix), else the settings (`setting`), else none; a
-- null limit is no limit. Locks: none.
create or replace function debugloop._spending_rate_limits(peer text, model text, out source text,
                                                        out requests_per_minute integer, out tokens_per_minute bigint)
returns record
language plpgsql
stable
as $$
declare
    catalog_rpm integer;
    catalog_tpm bigint;
begin
    select 'rule', r.requests_per_minute, r.tokens_per_minute into source, requests_per_minute, tokens_per_minute
      from debugloop.spend_rate_limits r
     where (r.peer_id = peer or r.peer_id is null)
       and (lower(r.model) = lower(_spending_rate_limits.model) or r.model is null)
     order by r.peer_id is null, r.model is null
     limit 1;
    if found then
        return;
    end if;
    -- the catalog's row with limits named as the model (or as its last part, after a
    -- provider's prefix: gemini/gemini-1.5-flash), the latest in force: an index probe
    select c.requests_per_minute, c.tokens_per_minute into catalog_rpm, catalog_tpm
      from debugloop.model_price_catalog c
     where (c.requests_per_minute is not null or c.tokens_per_minute is not null)
       and lower(c.model_name) in (lower(_spending_rate_limits.model), lower(split_part(_spending_rate_limits.model, '/', -1)))
       and c.is_active and c.effective_from <= now()
     order by lower(c.model_name) = lower(_spending_rate_limits.model) desc, c.effective_from desc
     limit 1;
    requests_per_minute := coalesce(catalog_rpm, nullif(debugloop._settings_number('spend_default_requests_per_minute'), 0));
    tokens_per_minute := coalesce(catalog_tpm, nullif(debugloop._settings_number('spend_default_tokens_per_minute'), 0));
    source := case when catalog_rpm is not null or catalog_tpm is not null then 'catalog'
                   when requests_per_minute is not null or tokens_per_minute is not null then 'setting'
                   else 'none' end;
end
$$;

-- debugloop._spending_rate_check(peer, model): count a reservation as a request of
-- `peer` with `model` in the current minute (UTC) when a rate limit applies
-- (_spending_rate_limits) and refuse it (DL085, DETAIL: JSON with peer_id, model,
-- limit (requests_per_minute or tokens_per_minute), its value, used, retry_after in
-- seconds and source) when the minute's requests would exceed the limit or its
-- tokens reached it. Locks: the peer's rate counter row for the model.
create or replace function debugloop._spending_rate_check(peer text, model text)
returns void
language plpgsql
volatile
as $$
declare
    lim record := debugloop._spending_rate_limits(peer, model);
    this_minute timestamptz := date_trunc('minute', now(), 'UTC');
    counter debugloop.spend_rate_usage;
    which text;
    retry integer;
begin
    if lim.requests_per_minute is null and lim.tokens_per_minute is null then
        return;
    end if;
    insert into debugloop.spend_rate_usage as u (peer_id, model, minute, requests, tokens)
    values (peer, coalesce(model, ''), this_minute, 1, 0)
    on conflict on constraint spend_rate_usage_pkey do update
       set requests = case when u.minute = excluded.minute then u.requests + 1 else 1 end,
           tokens = case when u.minute = excluded.minute then u.tokens else 0 end,
           minute = excluded.minute
    returning u.* into counter;
    which := case when counter.requests > lim.requests_per_minute then 'requests_per_minute'
                  when counter.tokens >= lim.tokens_per_minute then 'tokens_per_minute' end;
    if which is not null then
        retry := greatest(ceil(extract(epoch from (counter.minute + interval '1 minute') - now())), 1)::integer;
        raise exception 'peer % may make % with %: limit reached, retry after % s',
                        peer, case when which = 'requests_per_minute' then lim.requests_per_minute || ' requests a minute'
                                   else lim.tokens_per_minute || ' tokens a minute' end,
                        coalesce(model, 'any model'), retry
            using errcode = 'DL085', column = 'model',
                  detail = json_build_object(
                      'peer_id', peer, 'model', model, 'limit', which,
                      'value', case when which = 'requests_per_minute' then lim.requests_per_minute::bigint
                                    else lim.tokens_per_minute end,
                      'used', case when which = 'requests_per_minute' then counter.requests - 1 else counter.tokens end,
                      'retry_after', retry, 'source', lim.source)::text,
                  hint = format('retry after %s seconds', retry);
    end if;
end
$$;

-- debugloop._spending_rate_tokens(peer, model, tokens): count the LLM tokens of a
-- settled call in the current minute of the peer's counter for the model, if it
-- has one (a rate limit applied when it reserved). Locks: that counter row.
create or replace function debugloop._spending_rate_tokens(peer text, model text, tokens bigint)
returns void
language sql
volatile
as $$
    update debugloop.spend_rate_usage u
       set tokens = case when u.minute = date_trunc('minute', now(), 'UTC') then u.tokens else 0 end
                    + _spending_rate_tokens.tokens,
           requests = case when u.minute = date_trunc('minute', now(), 'UTC') then u.requests else 0 end,
           minute = date_trunc('minute', now(), 'UTC')
     where _spending_rate_tokens.tokens > 0 and u.peer_id = _spending_rate_tokens.peer
       and u.model = coalesce(_spending_rate_tokens.model, '')
$$;

-- debugloop.budget_set(peer, team, period, soft_limit, hard_limit): set the budget of
-- a peer or of a team (one of them) for a period (day, week or month): soft_limit
-- alerts, hard_limit refuses, in tokens (at least one, positive, soft <= hard).
-- Replaces the limits of the subject's active budget for that period (its usage so
-- far stays), else makes one. Admin only. DL086 for a bad subject, period or limit,
-- DL032 for an unknown peer. Locks: the budget row.
create or replace function debugloop.budget_set(
    peer text default null,
    team text default null,
    period text default 'month',
    soft_limit bigint default null,
    hard_limit bigint default null
)
returns debugloop.spend_budgets
language plpgsql
volatile
security definer
set search_path = debugloop, pg_catalog, pg_temp
as $$
declare
    result debugloop.spend_budgets;
begin
    if (peer is null) = (team is null) then
        perform debugloop._budget_invalid('peer', 'a budget is of a peer or of a team: give exactly one of peer and team');
    end if;
    if period is null or period not in ('day', 'week', 'month') then
        perform debugloop._budget_invalid('period', format('period must be day, week or month; got %s', coalesce(period, 'NULL')));
    end if;
    if soft_limit is null and hard_limit is null then
        perform debugloop._budget_invalid('hard_limit', 'a budget needs a soft_limit, a hard_limit or both');
    end if;
    if soft_limit <= 0 then
        perform debugloop._budget_invalid('soft_limit', format('soft_limit must be a positive number of tokens; got %s', soft_limit));
    end if;
    if hard_limit <= 0 then
        perform debugloop._budget_invalid('hard_limit', format('hard_limit must be a positive number of tokens; got %s', hard_limit));
    end if;
    if soft_limit > hard_limit then
        perform debugloop._budget_invalid('soft_limit',
            format('soft_limit (%s) must not exceed hard_limit (%s)', soft_limit, hard_limit));
    end if;
    if peer is not null then
        perform debugloop._ledger_account(peer);  -- DL032 unknown, DL001 system peer
        select * into result from debugloop.spend_budgets b
         where b.peer_id = budget_set.peer and b.period = budget_set.period and b.retired_at is null for update;
    else
        perform from debugloop.spend_teams t where t.team_id = team and t.retired_at is null;
        if not found then
            perform debugloop._budget_invalid('team', format('no active team %s (budget_team_set makes one)', quote_literal(team)));
        end if;
        select * into result from debugloop.spend_budgets b
         where b.team_id = budget_set.team and b.period = budget_set.period and b.retired_at is null for update;
    end if;
    if result.budget_id is not null then
        update debugloop.spend_budgets b
           set soft_limit = budget_set.soft_limit, hard_limit = budget_set.hard_limit, updated_at = now()
         where b.budget_id = result.budget_id
        returning b.* into result;
    else
        insert into debugloop.spend_budgets (peer_id, team_id, period, soft_limit, hard_limit, created_by)
        values (peer, team, period, soft_limit, hard_limit, debugloop._util_caller()::text)
        returning * into result;
    end if;
    return result;
end
$$;
comment on function debugloop.budget_set(text, text, text, bigint, bigint)
    is 'Set a peer''s or a team''s token budget for a day, week or month: soft (alert) and hard (refusal) limits (admin).';
revoke execute on function debugloop.budget_set(text, text, text, bigint, bigint) from public;
grant execute on function debugloop.budget_set(text, text, text, bigint, bigint) to debugloop_admin;

-- debugloop.budget_retire(budget_id): end a budget: reservations no longer count
-- against it (its usage and alerts stay). Admin only. DL002 when there is no such
-- budget; a retired one is returned as it is. Locks: the budget row.
create or replace function debugloop.budget_retire(budget_id uuid)
returns debugloop.spend_budgets
language plpgsql
volatile
security definer
set search_path = debugloop, pg_catalog, pg_temp
as $$
declare
    result debugloop.spend_budgets;
begin
    update debugloop.spend_budgets b set retired_at = coalesce(b.retired_at, now()), updated_at = now()
     where b.budget_id = budget_retire.budget_id
    returning b.* into result;
    if result.budget_id is null then
        raise exception 'no budget %', coalesce(budget_id::text, 'NULL') using errcode = 'DL002', column = 'budget_id';
    end if;
    return result;
end
$$;
comment on function debugloop.budget_retire(uuid) is 'End a token budget (admin).';
revoke execute on function debugloop.budget_retire(uuid) from public;
grant execute on function debugloop.budget_retire(uuid) to debugloop_admin;

-- debugloop.budget_team_set(team, members, description): make a team of peers (or
-- bring a retired one back) with exactly these members. Admin only. DL086 for a
-- bad team id (^[a-z][a-z0-9_-]{2,62}$) or member list (none, null entries, more
-- than 10,000), DL032 for an unknown peer. Locks: the team row, its membership.
create or replace function debugloop.budget_team_set(team text, members text[], description text default null)
returns debugloop.spend_teams
language plpgsql
volatile
security definer
set search_path = debugloop, pg_catalog, pg_temp
as $$
declare
    result debugloop.spend_teams;
    member text;
begin
    if team is null or team !~ '^[a-z][a-z0-9_-]{2,62}$' then
        perform debugloop._budget_invalid('team',
            format('team must match ^[a-z][a-z0-9_-]{2,62}$; got %s', coalesce(quote_literal(team), 'NULL')));
    end if;
    if members is null or array_position(members, null) is not null or cardinality(members) > 10000 then
        perform debugloop._budget_invalid('members', 'members must be a list of at most 10,000 peer ids without nulls');
    end if;
    foreach member in array members loop
        perform debugloop._ledger_account(member);  -- DL032 unknown, DL001 system peer
    end loop;
    insert into debugloop.spend_teams as t (team_id, description, created_by)
    values (team, description, debugloop._util_caller()::text)
    on conflict (team_id) do update
       set description = coalesce(excluded.description, t.description), retired_at = null, updated_at = now()
    returning t.* into result;
    delete from debugloop.spend_team_members m where m.team_id = team and m.peer_id <> all (members);
    insert into debugloop.spend_team_members (team_id, peer_id)
    select team, p from unnest(members) p
    on conflict on constraint spend_team_members_pkey do nothing;
    return result;
end
$$;
comment on function debugloop.budget_team_set(text, text[], text) is 'Make or change a team of peers that share budgets (admin).';
revoke execute on function debugloop.budget_team_set(text, text[], text) from public;
grant execute on function debugloop.budget_team_set(text, text[], text) to debugloop_admin;

-- debugloop.budget_team_retire(team): retire a team and its budgets (its members'
-- reservations no longer count against them). Admin only. DL002 for an unknown
-- team. Locks: the team row, its budget rows.
create or replace function debugloop.budget_team_retire(team text)
returns debugloop.spend_teams
language plpgsql
volatile
security definer
set search_path = debugloop, pg_catalog, pg_temp
as $$
declare
    result debugloop.spend_teams;
begin
    update debugloop.spend_teams t set retired_at = coalesce(t.retired_at, now()), updated_at = now()
     where t.team_id = team
    returning t.* into result;
    if result.team_id is null then
        raise exception 'no team %', coalesce(quote_literal(team), 'NULL') using errcode = 'DL002', column = 'team';
    end if;
    update debugloop.spend_budgets b set retired_at = now(), updated_at = now()
     where b.team_id = team and b.retired_at is null;
    return result;
end
$$;
comment on function debugloop.budget_team_retire(text) is 'Retire a team and its budgets (admin).';
revoke execute on function debugloop.budget_team_retire(text) from public;
grant execute on function debugloop.budget_team_retire(text) to debugloop_admin;

-- debugloop.budget_rate_limit_set(peer, model, requests_per_minute,
-- tokens_per_minute): the rate limit rule of a peer (null: every peer) with a model
-- (null: every model), replacing the one for the same pair; a null limit is none
-- (a rule with both null lifts the catalog's limits). Admin only. DL087 for a limit
-- that is not positive, DL032 for an unknown peer. Locks: the rule row.
create or replace function debugloop.budget_rate_limit_set(
    peer text,
    model text,
    requests_per_minute integer default null,
    tokens_per_minute bigint default null
)
returns debugloop.spend_rate_limits
language plpgsql
volatile
security definer
set search_path = debugloop, pg_catalog, pg_temp
as $$
declare
    result debugloop.spend_rate_limits;
begin
    if requests_per_minute <= 0 then
        raise exception 'requests_per_minute must be positive (or null: no limit); got %', requests_per_minute
            using errcode = 'DL087', column = 'requests_per_minute';
    end if;
    if tokens_per_minute <= 0 then
        raise exception 'tokens_per_minute must be positive (or null: no limit); got %', tokens_per_minute
            using errcode = 'DL087', column = 'tokens_per_minute';
    end if;
    if model is not null and (btrim(model) = '' or length(model) > 256) then
        raise exception 'model must be a model name (or null: every model); got %', quote_literal(left(model, 40))
            using errcode = 'DL087', column = 'model';
    end if;
    if peer is not null then
        perform debugloop._ledger_account(peer);  -- DL032 unknown, DL001 system peer
    end if;
    insert into debugloop.spend_rate_limits as r (peer_id, model, requests_per_minute, tokens_per_minute, set_by)
    values (peer, btrim(model), requests_per_minute, tokens_per_minute, debugloop._util_caller()::text)
    on conflict on constraint spend_rate_limits_subject do update
       set requests_per_minute = excluded.requests_per_minute, tokens_per_minute = excluded.tokens_per_minute,
           set_by = excluded.set_by, updated_at = now()
    returning r.* into result;
    return result;
end
$$;
comment on function debugloop.budget_rate_limit_set(text, text, integer, bigint)
    is 'Set the requests and tokens per minute a peer (or every peer) may use with a model (or every model) (admin).';
revoke execute on function debugloop.budget_rate_limit_set(text, text, integer, bigint) from public;
grant execute on function debugloop.budget_rate_limit_set(text, text, integer, bigint) to debugloop_admin;

-- debugloop.budget_rate_limit_remove(peer, model): remove the rule of that pair
-- (the next one, the catalog or the settings apply again); whether there was one.
-- Admin only. Locks: the rule row.
create or replace function debugloop.budget_rate_limit_remove(peer text, model text)
returns boolean
language plpgsql
volatile
security definer
set search_path = debugloop, pg_catalog, pg_temp
as $$
begin
    delete from debugloop.spend_rate_limits r
     where r.peer_id is not distinct from peer and r.model is not distinct from btrim(budget_rate_limit_remove.model);
    return found;
end
$$;
comment on function debugloop.budget_rate_limit_remove(text, text) is 'Remove a rate limit rule (admin).';
revoke execute on function debugloop.budget_rate_limit_remove(text, text) from public;
grant execute on function debugloop.budget_rate_limit_remove(text, text) to debugloop_admin;

-- debugloop.budget_rate_status(peer, model): the rate limits of a peer with a model
-- (_spending_rate_limits: source, requests_per_minute, tokens_per_minute) and what
-- the current minute used (requests, tokens; 0 when it has no counter this minute).
-- DL032 for an unknown peer. Locks: none.
create or replace function debugloop.budget_rate_status(
    peer text, model text,
    out peer_id text, out model_name text, out source text, out requests_per_minute integer,
    out tokens_per_minute bigint, out minute timestamptz, out requests integer, out tokens bigint)
returns record
language plpgsql
stable
set search_path = debugloop, pg_catalog, pg_temp
as $$
declare
    lim record;
begin
    perform debugloop._ledger_account(peer);
    lim := debugloop._spending_rate_limits(peer, model);
    peer_id := peer;
    model_name := model;
    source := lim.source;
    requests_per_minute := lim.requests_per_minute;
    tokens_per_minute := lim.tokens_per_minute;
    minute := date_trunc('minute', now(), 'UTC');
    select coalesce(max(u.requests), 0), coalesce(max(u.tokens), 0) into requests, tokens
      from debugloop.spend_rate_usage u
     where u.peer_id = peer and u.model = coalesce(budget_rate_status.model, '')
       and u.minute = budget_rate_status.minute;
end
$$;
comment on function debugloop.budget_rate_status(text, text) is 'The rate limits of a peer with a model and what this minute used.';

-- debugloop.budget_status(peer): each active budget a peer's reservations count
-- against (its own, its teams'), in the current period: the usage so far, the
-- limits, what is left under the hard limit and the state (ok, soft: past the
-- soft limit, hard: at or past the hard limit; v_spend_budgets' rows of the
-- budgets _budget_applicable names). DL032 for an unknown peer. Locks: none.
create or replace function debugloop.budget_status(peer text)
returns table (budget_id uuid, peer_id text, team_id text, period text, period_start timestamptz,
               period_end timestamptz, used bigint, soft_limit bigint, hard_limit bigint, remaining bigint, state text)
language plpgsql
stable
set search_path = debugloop, pg_catalog, pg_temp
as $$
begin
    perform debugloop._ledger_account(peer);
    return query
    select v.budget_id, v.peer_id, v.team_id, v.period, v.period_start, v.period_end, v.used, v.soft_limit,
           v.hard_limit, greatest(v.hard_limit - v.used, 0), v.state
      from debugloop.v_spend_budgets v
     where v.budget_id in (select a.budget_id from debugloop._budget_applicable(peer) a)
     order by v.team_id nulls first, v.team_id, array_position(array['day', 'week', 'month'], v.period);
end
$$;
comment on function debugloop.budget_status(text) is 'A peer''s budgets (its own and its teams'') in their current period: used, limits, left, state.';

-- debugloop.spending_report(period, peer, model_name, since, until): what calls cost, per
-- period (day, week or month, UTC), peer and model, from the settled reservations
-- made in [since, until) (default: the last 30 days): calls, whole tokens posted,
-- the exact tokens and the USD; plus the calls still held (active) and their
-- tokens. DL086 for an unknown period. Locks: none.
create or replace function debugloop.spending_report(
    period text default 'day',
    peer text default null,
    model_name text default null,
    since timestamptz default null,
    until timestamptz default null
)
returns table (period_start timestamptz, peer_id text, model text, calls bigint, posted_tokens bigint,
               exact_tokens numeric, cost_usd numeric, active_calls bigint, held_tokens bigint)
language plpgsql
stable
set search_path = debugloop, pg_catalog, pg_temp
as $$
begin
    if period is null or period not in ('day', 'week', 'month') then
        perform debugloop._budget_invalid('period', format('period must be day, week or month; got %s', coalesce(period, 'NULL')));
    end if;
    return query
    select debugloop._budget_period_start(spending_report.period, r.created_at) as start, r.peer_id,
           coalesce(r.model, ''),
           count(*) filter (where r.status = 'settled'), coalesce(sum(r.posted_tokens), 0)::bigint,
           coalesce(sum(r.exact_tokens), 0), coalesce(sum(r.cost_usd), 0),
           count(*) filter (where r.status = 'active'),
           coalesce(sum(r.hold_tokens) filter (where r.status = 'active'), 0)::bigint
      from debugloop.spend_reservations r
     where r.created_at >= coalesce(since, now() - interval '30 days') and r.created_at < coalesce(until, 'infinity')
       and (spending_report.peer is null or r.peer_id = spending_report.peer)
       and (model_name is null or lower(r.model) = lower(model_name))
       and r.status <> 'released'
     group by 1, 2, 3
     order by 1 desc, 2, 3;
end
$$;
comment on function debugloop.spending_report(text, text, text, timestamptz, timestamptz)
    is 'What LLM calls cost per day, week or month, peer and model: calls, tokens posted, exact tokens, USD, still held.';

-- debugloop._spending_manifest(cost, agent_name): the manifest's cost section with
-- what spending adds: the tokens a similar request costs (tokens_p50, tokens_p90
-- from the estimate's cost, 1 token = $0.001, rounded up) and, for the caller's
-- peer (_spending_attempt_peer), its available balance and the tokens left under
-- its tightest hard budget. Locks: none.
create or replace function debugloop._spending_manifest(cost jsonb, agent_name text)
returns jsonb
language plpgsql
stable
as $$
declare
    peer text := debugloop._spending_attempt_peer(agent_name);
    spend jsonb;
begin
    spend := jsonb_build_object(
        'tokens_p50', ceil((cost -> 'estimate' ->> 'cost_p50_usd')::numeric * 1000)::bigint,
        'tokens_p90', ceil((cost -> 'estimate' ->> 'cost_p90_usd')::numeric * 1000)::bigint);
    if peer is not null then
        spend := spend || (select jsonb_build_object('peer_id', b.peer_id, 'available_tokens', b.available,
                                                     'debt_tokens', nullif(b.debt, 0))
                             from debugloop.spending_balance(peer) b)
                       || jsonb_build_object('budget_remaining_tokens',
                              (select min(s.remaining) from debugloop.budget_status(peer) s));
    end if;
    spend := jsonb_strip_nulls(spend);
    if spend = '{}'::jsonb then
        return cost;
    end if;
    return coalesce(cost, '{}'::jsonb) || jsonb_build_object('spend', spend);
end
$$;

-- v_spend_daily: what LLM calls cost per day (UTC), peer and model over the last 30
-- days (spending_report by day).
create or replace view debugloop.v_spend_daily as
select r.period_start as day, r.peer_id, r.model, r.calls, r.posted_tokens, r.exact_tokens, r.cost_usd,
       r.active_calls, r.held_tokens
  from debugloop.spending_report('day') r;
comment on view debugloop.v_spend_daily is 'LLM calls per day (UTC), peer and model, last 30 days: calls, tokens, USD, still held.';

-- v_spend_budgets: every budget, active first, with its current period's usage.
create or replace view debugloop.v_spend_budgets as
select b.budget_id, b.peer_id, b.team_id, b.period, p.start as period_start,
       date_add(p.start, ('1 ' || b.period)::interval, 'UTC') as period_end, coalesce(u.used, 0) as used,
       coalesce(u.reservations, 0) as reservations, b.soft_limit, b.hard_limit,
       case when b.retired_at is not null then 'retired'
            when coalesce(u.used, 0) >= b.hard_limit then 'hard'
            when coalesce(u.used, 0) > b.soft_limit then 'soft' else 'ok' end as state,
       b.created_by, b.created_at, b.updated_at, b.retired_at
  from debugloop.spend_budgets b
 cross join lateral (select date_trunc(b.period, now(), 'UTC') as start) p  -- _budget_period_start, inlined
  left join debugloop.spend_budget_usage u on u.budget_id = b.budget_id and u.period_start = p.start;
comment on view debugloop.v_spend_budgets is 'Token budgets with their current period''s usage and state (ok, soft, hard, retired).';

-- v_spend_alerts: the soft limits crossed, newest first.
create or replace view debugloop.v_spend_alerts as
select a.alert_id, a.created_at, a.budget_id, b.peer_id as budget_peer_id, b.team_id, b.period, a.period_start,
       a.peer_id, a.used, a.soft_limit, a.hard_limit
  from debugloop.spend_budget_alerts a
  join debugloop.spend_budgets b on b.budget_id = a.budget_id
 order by a.alert_id desc;
comment on view debugloop.v_spend_alerts is 'Budgets whose soft limit was crossed, once per budget and period, newest first.';
