-- spending: LLM calls paid in tokens (1 token = $0.001), reserved before the call
-- and settled after it.
--
-- Exact conversion: a call that cost c USD is c / 0.001 tokens, a fraction in
-- general. Each peer carries its remainder r in [0, 1): a charge posts
-- floor(r + c / 0.001) whole tokens and keeps the rest as the new r, so that after
-- any sequence of calls Σ posted tokens + r = Σ c / 0.001 exactly (numeric).
--
-- Reserve, call, settle: spending_reserve holds the estimate (the caller's, else the
-- p90 cost of similar requests with the model, else the model's maximum output at
-- its output price) as a ledger hold; spending_settle charges the actual cost: up to
-- the hold through ledger_settle, the rest (a call that cost more than its hold)
-- as a spent transfer from the available balance, and what the balance cannot pay
-- becomes the peer's debt. The overdraft rule: a peer in debt can reserve nothing
-- (DL076) until the debt is repaid; each reservation first collects the debt from
-- the available balance (spending_repay does it on demand). So the debt of a peer is
-- bounded by the excess of the calls it had in flight.
--
-- Locks: a peer's spend_accounts row (FOR UPDATE) first, then the ledger's locks
-- (the peer's account, system shards): every spending function takes them in
-- that order.

-- debugloop._spending_convert(remainder, cost_usd): the whole tokens to post for a
-- cost and the remainder carried after it: floor(remainder + cost / 0.001) and the
-- rest. Exact (numeric). Locks: none.
create or replace function debugloop._spending_convert(remainder numeric, cost_usd numeric,
                                                    out posted bigint, out remainder_after numeric)
language sql
immutable
as $$
    select floor(remainder + cost_usd * 1000)::bigint, (remainder + cost_usd * 1000) - floor(remainder + cost_usd * 1000)
$$;

-- debugloop._spending_lock(peer): the spending row of a peer, created when missing,
-- locked FOR UPDATE. DL032 for an unknown peer, DL001 for a system one (checked
-- when the row is made: a peer with a row is known). Locks: the peer's
-- spend_accounts row.
create or replace function debugloop._spending_lock(peer text)
returns debugloop.spend_accounts
language plpgsql
volatile
as $$
declare
    result debugloop.spend_accounts;
begin
    -- one key lookup on the path every reserve and settle takes; the checks and the
    -- insert only for a peer's first reservation
    select * into result from debugloop.spend_accounts s where s.peer_id = peer for update;
    if not found then
        perform debugloop._ledger_account(peer);  -- DL032 unknown, DL001 system peer
        insert into debugloop.spend_accounts (peer_id) values (peer) on conflict do nothing;
        select * into result from debugloop.spend_accounts s where s.peer_id = peer for update;
    end if;
    return result;
end
$$;

-- debugloop._spending_usd(value, field): a cost in USD from 0 to 10^6, as given; DL001
-- naming `field` for none, a negative, NaN or more. Locks: none.
create or replace function debugloop._spending_usd(value numeric, field text)
returns numeric
language plpgsql
immutable
as $$
begin
    if value is null or value < 0 or value = 'NaN'::numeric or value > 1000000 then
        raise exception '% must be a cost from 0 to 10^6 USD; got %', field, coalesce(value::text, 'NULL')
            using errcode = 'DL001', column = field;
    end if;
    return value;
end
$$;

-- debugloop.spending_estimate(model, user_request, estimate_usd): what a reservation
-- for a call would hold and why: basis `caller` (the caller's estimate_usd), `p90`
-- (the p90 cost of past requests like user_request with the model,
-- attempt_estimate) or `max_output` (the model's max_output_tokens, else the
-- setting spend_default_max_output_tokens, at its output price); tokens is
-- ceil(estimate / 0.001), at least 1. DL001 for a negative estimate or a model the
-- catalog has no price for when nothing else is known. Locks: none.
create or replace function debugloop.spending_estimate(
    model text, user_request text default null, estimate_usd numeric default null,
    out basis text, out cost_usd numeric, out tokens bigint)
returns record
language plpgsql
stable
set search_path = debugloop, pg_catalog, pg_temp
as $$
declare
    price debugloop.model_price_catalog;
begin
    if estimate_usd is not null then
        basis := 'caller';
        cost_usd := debugloop._spending_usd(estimate_usd, 'estimate_usd');
    end if;
    if basis is null and user_request is not null and btrim(user_request) <> '' then
        select 'p90', e.cost_p90_usd into basis, cost_usd
          from debugloop.attempt_estimate(user_request, model) e
         where e.samples > 0 and e.cost_p90_usd is not null;
    end if;
    if basis is null then
        price := debugloop.price_lookup(model, now());
        if price.catalog_id is null then
            raise exception 'model % has no price: a reservation needs an estimate', coalesce(quote_literal(model), 'NULL')
                using errcode = 'DL001', column = 'model', hint = 'pass estimate_usd, or add the model to the price catalog';
        end if;
        basis := 'max_output';
        cost_usd := price.output_price_per_million
                    * coalesce(price.max_output_tokens, debugloop._settings_number('spend_default_max_output_tokens'))
                    / 1000000;
    end if;
    tokens := greatest(ceil(cost_usd * 1000), 1)::bigint;
end
$$;
comment on function debugloop.spending_estimate(text, text, numeric) is 'What a reservation would hold for a call: the caller''s estimate, the p90 of similar requests, or the model''s maximum output.';

-- debugloop._spending_collect(account, peer): collect a peer's debt from its available
-- balance (a spent transfer of what it can pay, under an id derived from the debt
-- and the account's version) and return the row with the debt left. The caller
-- holds the spend_accounts row. Locks: the peer's ledger account, a compute shard.
create or replace function debugloop._spending_collect(account debugloop.spend_accounts)
returns debugloop.spend_accounts
language plpgsql
volatile
as $$
declare
    available bigint;
    paid bigint;
    posted debugloop.ledger_transfers;
    result debugloop.spend_accounts := account;
begin
    if account.debt = 0 then
        return account;
    end if;
    select a.balance, a.version into available
      from debugloop.ledger_accounts a where a.peer_id = account.peer_id and a.shard = 0 for update;
    paid := least(account.debt, available);
    if paid > 0 then
        posted := debugloop.ledger_transfer(
            gen_random_uuid(), account.peer_id, 'sys_compute', paid, 'spent', 'llm_query',
            memo => 'debt of calls that cost more than their holds');
        update debugloop.spend_accounts s set debt = s.debt - paid, updated_at = now()
         where s.peer_id = account.peer_id
        returning s.* into result;
    end if;
    return result;
end
$$;

-- debugloop._spending_cheaper(model, user_request, available): a cheaper model for a
-- call that `available` tokens cannot pay: one of the manifest's cheaper models
-- (they succeeded at similar problems at a lower mean cost), cheapest first, whose
-- p90 estimate for the request (else its mean cost) fits; null when none does.
-- Locks: none.
create or replace function debugloop._spending_cheaper(model text, user_request text, available bigint,
                                                   out cheaper_model text, out cheaper_estimate_usd numeric)
language sql
stable
as $$
    select c.model, c.cost
      from debugloop._problem_neighbours(user_request) n
     cross join lateral jsonb_array_elements(
               coalesce(debugloop._manifest_cost(model, n.fingerprint, n.similar_hashes) -> 'cheaper_models', '[]')) m
     cross join lateral (select m ->> 'model' as model,
                                coalesce((debugloop._attempt_estimate(m ->> 'model', n.fingerprint, n.similar_hashes)).cost_p90_usd,
                                         (m ->> 'avg_cost_usd')::numeric) as cost) c
     where user_request is not null and c.cost is not null and greatest(ceil(c.cost * 1000), 1) <= available
     order by c.cost, c.model
     limit 1
$$;

-- debugloop.spending_reserve(hold_id, peer, model, user_request, estimate_usd,
-- attempt_id, expires_in): reserve tokens before an LLM call: collect the peer's
-- debt first (DL076 while some is left), check the peer's rate limits with the
-- model (DL085) and count the estimate against its budgets (DL084 past a hard
-- limit; functions/77_budgets.sql), then hold the estimate (spending_estimate)
-- as a ledger hold under hold_id and record the reservation. A peer whose available
-- balance (expired holds counted back) cannot pay it is refused before anything is
-- written: DL075, whose DETAIL is a JSON object with balance, held, available,
-- needed, and cheaper_model / cheaper_estimate_usd (_spending_cheaper) when one fits.
-- The same hold_id again returns the reservation. Locks: the peer's spend row,
-- its rate counter, its budgets' usage rows, then as ledger_hold.
create or replace function debugloop.spending_reserve(
    hold_id uuid,
    peer text,
    model text,
    user_request text default null,
    estimate_usd numeric default null,
    attempt_id uuid default null,
    expires_in interval default null
)
returns debugloop.spend_reservations
language plpgsql
volatile
security definer
set search_path = debugloop, pg_catalog, pg_temp
as $$
declare
    account debugloop.spend_accounts;
    est record;
    ledger debugloop.ledger_accounts;
    back bigint;
    cheaper record;
    hold debugloop.ledger_holds;
    budgets uuid[];
    result debugloop.spend_reservations;
begin
    select * into result from debugloop.spend_reservations r where r.hold_id = spending_reserve.hold_id;
    if found then
        return result;
    end if;
    est := debugloop.spending_estimate(model, user_request, estimate_usd);
    account := debugloop._spending_collect(debugloop._spending_lock(peer));
    if account.debt > 0 then
        raise exception 'peer % owes % tokens: it reserves nothing until the debt is repaid', peer, account.debt
            using errcode = 'DL076', column = 'peer',
                  detail = json_build_object('debt', account.debt)::text,
                  hint = 'earn or receive tokens; the next reservation (or spending_repay) collects the debt first';
    end if;
    perform debugloop._spending_rate_check(peer, model);  -- DL085, functions/77_budgets.sql
    budgets := debugloop._budget_count(peer, est.tokens);  -- DL084
    select * into ledger from debugloop.ledger_accounts a where a.peer_id = peer and a.shard = 0;
    back := 0;
    if ledger.holds_expire_at <= now() then  -- the earliest expiry of its active holds: most often none is due
        select coalesce(sum(h.amount), 0) into back
          from debugloop.ledger_holds h
         where h.account_id = ledger.account_id and h.status = 'active' and h.expires_at <= now();
    end if;
    if ledger.balance + back < est.tokens then
        select * into cheaper from debugloop._spending_cheaper(model, user_request, ledger.balance + back);
        raise exception 'peer % cannot pay a reservation of % tokens for %: % available', peer, est.tokens, model,
                        ledger.balance + back
            using errcode = 'DL075', column = 'peer',
                  detail = json_strip_nulls(json_build_object(
                      'balance', ledger.balance + ledger.held, 'held', ledger.held - back,
                      'available', ledger.balance + back, 'needed', est.tokens, 'model', model,
                      'cheaper_model', cheaper.cheaper_model, 'cheaper_estimate_usd', cheaper.cheaper_estimate_usd))::text,
                  hint = case when cheaper.cheaper_model is not null
                              then format('%s succeeded at similar problems and its estimate fits', cheaper.cheaper_model)
                              else 'earn or receive tokens, or pass a smaller estimate' end;
    end if;
    hold := debugloop.ledger_hold(hold_id, peer, est.tokens, expires_in, 'llm_query',
                                  case when model is not null then jsonb_build_object('model_used', model) end);
    if hold.status <> 'active' then  -- not reached under the lock above; kept as the rule
        raise exception 'the hold for peer % was refused: %', peer, hold.refusal using errcode = 'DL075', column = 'peer';
    end if;
    insert into debugloop.spend_reservations (
        hold_id, peer_id, model, attempt_id, basis, estimate_usd, hold_tokens, created_by, budget_ids)
    values (hold.hold_id, peer, model, spending_reserve.attempt_id, est.basis, est.cost_usd, est.tokens,
            debugloop._util_caller()::text, budgets)
    returning * into result;
    return result;
end
$$;
comment on function debugloop.spending_reserve(uuid, text, text, text, numeric, uuid, interval)
    is 'Reserve tokens (a ledger hold) for an LLM call before it; refused (DL075) with a cheaper model when the balance cannot pay.';
revoke execute on function debugloop.spending_reserve(uuid, text, text, text, numeric, uuid, interval) from public;
grant execute on function debugloop.spending_reserve(uuid, text, text, text, numeric, uuid, interval) to debugloop_agent, debugloop_admin;

-- debugloop._spending_active(hold_id, wanted): the reservation, locked with its
-- peer's spend row; DL079 when there is none or it is no longer active (settled
-- or released: a reservation resolves once). Locks: the peer's spend row, the
-- reservation.
create or replace function debugloop._spending_active(hold_id uuid, wanted text)
returns debugloop.spend_reservations
language plpgsql
volatile
as $$
declare
    result debugloop.spend_reservations;
begin
    select * into result from debugloop.spend_reservations r where r.hold_id = _spending_active.hold_id;
    if not found then
        raise exception 'no reservation %', hold_id using errcode = 'DL079', column = 'hold_id',
              hint = 'spending_reserve makes one before the call';
    end if;
    perform debugloop._spending_lock(result.peer_id);
    select * into result from debugloop.spend_reservations r where r.hold_id = _spending_active.hold_id for update;
    if result.status <> 'active' then
        raise exception 'reservation % cannot be %: it was %', hold_id, wanted, result.status
            using errcode = 'DL079', column = 'hold_id',
                  detail = json_build_object('status', result.status, 'posted_tokens', result.posted_tokens)::text,
                  hint = 'a reservation resolves once; a new call reserves again';
    end if;
    return result;
end
$$;

-- debugloop.spending_settle(hold_id, cost_usd, llm_tokens): the call reserved under
-- hold_id cost cost_usd (and used llm_tokens input + output tokens, counted by the
-- tokens-per-minute rate limits when given): charge it, exactly (the carried
-- remainder, _spending_convert). Up to the hold through ledger_settle (the rest of
-- the hold comes back; nothing posted for a charge of 0 whole tokens: the hold is
-- released); beyond it, or all of it when the hold expired before the call
-- reported, as a spent transfer from the available balance; what that cannot pay
-- is added to the peer's debt. Returns the reservation, settled, with the posted,
-- excess and debt tokens and the remainder after; the budgets it counted against count the tokens posted instead of the
-- hold. DL079 when it was settled or released already. Locks: as _spending_active,
-- its budgets' usage rows and rate counter, then the ledger's.
create or replace function debugloop.spending_settle(hold_id uuid, cost_usd numeric, llm_tokens bigint default null)
returns debugloop.spend_reservations
language plpgsql
volatile
security definer
set search_path = debugloop, pg_catalog, pg_temp
as $$
declare
    r debugloop.spend_reservations;
    account debugloop.spend_accounts;
    conv record;
    hold debugloop.ledger_holds;
    covered bigint := 0;
    excess bigint;
    available bigint;
    paid bigint := 0;
    posted debugloop.ledger_transfers;
begin
    perform debugloop._spending_usd(cost_usd, 'cost_usd');
    if llm_tokens < 0 then
        raise exception 'llm_tokens must be the call''s input + output tokens, 0 or more; got %', llm_tokens
            using errcode = 'DL001', column = 'llm_tokens';
    end if;
    r := debugloop._spending_active(hold_id, 'settled');
    select * into account from debugloop.spend_accounts s where s.peer_id = r.peer_id;
    conv := debugloop._spending_convert(account.remainder, cost_usd);
    perform debugloop._budget_adjust(r, conv.posted - r.hold_tokens);  -- budgets count what was posted
    if llm_tokens > 0 then
        perform debugloop._spending_rate_tokens(r.peer_id, r.model, llm_tokens);
    end if;
    select * into hold from debugloop.ledger_holds h where h.hold_id = r.hold_id;
    if hold.status = 'active' and hold.expires_at > now() and conv.posted > 0 then
        covered := least(conv.posted, hold.amount);
        hold := debugloop.ledger_settle(r.hold_id, covered,
                                        case when r.model is not null then jsonb_build_object('model_used', r.model) end);
    elsif hold.status = 'active' then
        hold := debugloop.ledger_release(r.hold_id);  -- 0 whole tokens, or expired: give it back
    end if;
    excess := conv.posted - covered;
    if excess > 0 then
        select a.balance into available from debugloop.ledger_accounts a
         where a.peer_id = r.peer_id and a.shard = 0 for update;
        paid := least(excess, available);
        if paid > 0 then
            posted := debugloop.ledger_transfer(
                debugloop._ledger_derived_id(r.hold_id::text, 'spend-excess'), r.peer_id, 'sys_compute', paid, 'spent',
                'llm_query', memo => 'the call cost more than its hold',
                metadata => case when r.model is not null then jsonb_build_object('model_used', r.model) end);
        end if;
    end if;
    update debugloop.spend_accounts s
       set remainder = conv.remainder_after, debt = s.debt + (excess - paid), charged = s.charged + cost_usd * 1000,
           updated_at = now()
     where s.peer_id = r.peer_id;
    update debugloop.spend_reservations x
       set status = 'settled', cost_usd = spending_settle.cost_usd, exact_tokens = spending_settle.cost_usd * 1000,
           posted_tokens = conv.posted, excess_tokens = paid, debt_tokens = excess - paid,
           remainder_after = conv.remainder_after, resolved_at = now()
     where x.hold_id = r.hold_id
    returning x.* into r;
    return r;
end
$$;
comment on function debugloop.spending_settle(uuid, numeric, bigint) is 'Charge the actual cost of a reserved call, exactly (carried remainder); beyond the hold from the balance, else as debt.';
revoke execute on function debugloop.spending_settle(uuid, numeric, bigint) from public;
grant execute on function debugloop.spending_settle(uuid, numeric, bigint) to debugloop_agent, debugloop_admin;

-- debugloop.spending_release(hold_id): the call reserved under hold_id was not made
-- (or failed before it cost anything): its hold comes back whole. DL079 when it
-- was settled or released already. Locks: as _spending_active, then ledger_release's.
create or replace function debugloop.spending_release(hold_id uuid)
returns debugloop.spend_reservations
language plpgsql
volatile
security definer
set search_path = debugloop, pg_catalog, pg_temp
as $$
declare
    r debugloop.spend_reservations := debugloop._spending_active(hold_id, 'released');
    hold debugloop.ledger_holds;
begin
    perform debugloop._budget_adjust(r, -r.hold_tokens);
    hold := debugloop.ledger_release(r.hold_id);
    update debugloop.spend_reservations x set status = 'released', resolved_at = now()
     where x.hold_id = r.hold_id
    returning x.* into r;
    return r;
end
$$;
comment on function debugloop.spending_release(uuid) is 'Give a reservation''s tokens back: the call was not made.';
revoke execute on function debugloop.spending_release(uuid) from public;
grant execute on function debugloop.spending_release(uuid) to debugloop_agent, debugloop_admin;

-- debugloop.spending_repay(peer): collect what a peer owes from its available balance
-- now, as the next reservation would; returns its spending row. Locks: the peer's
-- spend row, its ledger account, a compute shard.
create or replace function debugloop.spending_repay(peer text)
returns debugloop.spend_accounts
language plpgsql
volatile
security definer
set search_path = debugloop, pg_catalog, pg_temp
as $$
begin
    return debugloop._spending_collect(debugloop._spending_lock(peer));
end
$$;
comment on function debugloop.spending_repay(text) is 'Collect a peer''s debt (calls beyond their holds) from its available balance.';
revoke execute on function debugloop.spending_repay(text) from public;
grant execute on function debugloop.spending_repay(text) to debugloop_agent, debugloop_admin;

-- debugloop.spending_balance(peer): a peer's ledger balance (ledger_balance) with
-- what spending adds: the carried fraction of a token (remainder), the debt, and
-- the exact number of tokens its calls cost (charged = Σ cost / 0.001 = posted +
-- remainder). DL032 for an unknown peer. Locks: none.
create or replace function debugloop.spending_balance(
    peer text,
    out peer_id text, out balance bigint, out held bigint, out available bigint, out remainder numeric,
    out debt bigint, out charged numeric, out posted bigint)
returns record
language sql
stable
set search_path = debugloop, pg_catalog, pg_temp
as $$
    select b.peer_id, b.balance, b.held, b.available, coalesce(s.remainder, 0), coalesce(s.debt, 0),
           coalesce(s.charged, 0), (coalesce(s.charged, 0) - coalesce(s.remainder, 0))::bigint
      from debugloop.ledger_balance(peer) b
      left join debugloop.spend_accounts s on s.peer_id = b.peer_id
$$;
comment on function debugloop.spending_balance(text) is 'A peer''s balance with the carried token remainder, debt and exact tokens charged.';

-- Attempts (issue 22, wired): with enable_token_spending on, attempt_start reserves
-- for the attempt's peer before its row is written, and attempt_finish settles the
-- attempt's cost in the same transaction. The hold id is derived from the attempt
-- id. Imported history is never charged: an import writes its attempts without
-- attempt_start, so they have no reservation, and only a reserved attempt is settled.

-- debugloop._spending_attempt_peer(agent_name): the peer an attempt that the calling
-- role starts is charged to: the peer the role is bound to; for an admin role (or a
-- superuser), the peer the agent name maps to; else none (the rule by which rewards
-- credit an attempt's peer). Locks: none.
create or replace function debugloop._spending_attempt_peer(agent_name text)
returns text
language sql
stable
as $$
    select coalesce(
        (select r.peer_id from debugloop.peer_roles r where r.role_name = debugloop._util_caller()),
        (select n.peer_id from debugloop.peer_agent_names n
          where n.agent_name = btrim(_spending_attempt_peer.agent_name)
            and pg_catalog.pg_has_role(debugloop._util_caller(), 'debugloop_admin', 'member')))
$$;

-- debugloop._spending_attempt_hold(attempt_id): the hold id of an attempt's
-- reservation. Locks: none.
create or replace function debugloop._spending_attempt_hold(attempt_id uuid)
returns uuid
language sql
immutable
as $$ select debugloop._ledger_derived_id(attempt_id::text, 'spend') $$;

-- debugloop._spending_attempt_start(attempt_id, agent_name, user_request, model,
-- estimate_usd): attempt_start's reservation, made before the attempt's row: none
-- while enable_token_spending is off, for an attempt of no peer
-- (_spending_attempt_peer) or without a model and an estimate; else
-- spending_reserve for its model and request (the caller's estimate_usd, else the
-- p90 of similar requests, else the model's maximum output), whose refusals (DL075
-- with a cheaper model, DL076) stop the attempt before anything is written.
-- Locks: as spending_reserve.
create or replace function debugloop._spending_attempt_start(attempt_id uuid, agent_name text, user_request text,
                                                          model text, estimate_usd numeric)
returns void
language plpgsql
volatile
as $$
declare
    peer text;
begin
    if not debugloop.settings_flag('enable_token_spending') or (model is null and estimate_usd is null) then
        return;
    end if;
    peer := debugloop._spending_attempt_peer(agent_name);
    if peer is not null then
        perform debugloop.spending_reserve(debugloop._spending_attempt_hold(attempt_id), peer, model, user_request,
                                           estimate_usd, attempt_id);
    end if;
end
$$;

-- debugloop._spending_attempt_finish(attempt): attempt_finish's settlement of a
-- finished attempt's reservation, if it has an active one (whatever the flag says
-- now: the hold was made): its cost_usd settled (spending_settle), or the hold
-- released when the attempt has no cost (no usage, an unpriced model). Locks: as
-- spending_settle.
create or replace function debugloop._spending_attempt_finish(attempt debugloop.debug_execution_attempts)
returns void
language plpgsql
volatile
as $$
declare
    hold uuid := debugloop._spending_attempt_hold(attempt.attempt_id);
begin
    if not exists (select from debugloop.spend_reservations r where r.hold_id = hold and r.status = 'active') then
        return;
    end if;
    if attempt.cost_usd is not null then
        perform debugloop.spending_settle(hold, attempt.cost_usd,
                                          coalesce(attempt.tokens_input, 0) + coalesce(attempt.tokens_output, 0));
    else
        perform debugloop.spending_release(hold);
    end if;
end
$$;

-- debugloop.spending_reservation(id): the reservation under this hold id, or the one
-- an attempt made (by attempt id); DL002 when there is none. Locks: none.
create or replace function debugloop.spending_reservation(id uuid)
returns debugloop.spend_reservations
language plpgsql
stable
set search_path = debugloop, pg_catalog, pg_temp
as $$
declare
    result debugloop.spend_reservations;
begin
    select * into result from debugloop.spend_reservations r
     where r.hold_id = spending_reservation.id or r.attempt_id = spending_reservation.id
     order by r.hold_id = spending_reservation.id desc, r.created_at desc
     limit 1;
    if not found then
        raise exception 'no reservation % (by hold id or attempt id)', coalesce(id::text, 'NULL')
            using errcode = 'DL002', column = 'id';
    end if;
    return result;
end
$$;
comment on function debugloop.spending_reservation(uuid) is 'A reservation by its hold id, or the one an attempt made.';
