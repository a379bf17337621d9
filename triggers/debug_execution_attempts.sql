-- Triggers of debugloop.debug_execution_attempts.

-- tg_debug_execution_attempts__fingerprint: keep the request fingerprint and the
-- approach hash in step with their texts. Locks: none.
create or replace function debugloop.tg_debug_execution_attempts__fingerprint()
returns trigger
language plpgsql
as $$
begin
    new.user_request_hash := debugloop.util_fingerprint(new.user_request);
    new.approach_hash := case when new.approach_description is not null
                              then debugloop.util_fingerprint(new.approach_description) end;
    return new;
end
$$;

create or replace trigger _010_fingerprint
    before insert or update of user_request, approach_description on debugloop.debug_execution_attempts
    for each row execute function debugloop.tg_debug_execution_attempts__fingerprint();

-- tg_debug_execution_attempts__estimate: at insert, the p50 cost of earlier
-- attempts at the same request (by fingerprint) for this attempt's model, as
-- estimated_cost_usd. Locks: none.
create or replace function debugloop.tg_debug_execution_attempts__estimate()
returns trigger
language plpgsql
as $$
begin
    if new.estimated_cost_usd is null and new.model_used is not null then
        select e.cost_p50_usd into new.estimated_cost_usd
          from debugloop._attempt_estimate(new.model_used, new.user_request_hash, null) e;
    end if;
    return new;
end
$$;

create or replace trigger _020_estimate
    before insert on debugloop.debug_execution_attempts
    for each row execute function debugloop.tg_debug_execution_attempts__estimate();

-- tg_debug_execution_attempts__finish: when an attempt finishes (or is inserted
-- finished, as importers do): its duration, its usage in canonical form, and its
-- cost at the price version in force at its start, which it pins. With
-- enable_cost_tracking off for the session, the cost is left null ('untracked').
-- Raises DL005 for bad usage. Locks: none (reads the price catalog).
create or replace function debugloop.tg_debug_execution_attempts__finish()
returns trigger
language plpgsql
as $$
declare
    usage jsonb;
    priced record;
begin
    if new.status = 'running' or (tg_op = 'UPDATE' and old.status <> 'running') then
        return new;
    end if;
    new.completed_at := coalesce(new.completed_at, greatest(now(), new.started_at));
    new.duration_ms := round(extract(epoch from new.completed_at - new.started_at) * 1000);
    usage := debugloop.usage_normalize(new.usage_raw);
    new.input_tokens := (usage ->> 'input_tokens')::bigint;
    new.output_tokens := (usage ->> 'output_tokens')::bigint;
    new.cache_read_tokens := (usage ->> 'cache_read_tokens')::bigint;
    new.cache_write_tokens := (usage ->> 'cache_write_tokens')::bigint;
    new.cache_write_1h_tokens := (usage ->> 'cache_write_1h_tokens')::bigint;
    new.reasoning_tokens := (usage ->> 'reasoning_tokens')::bigint;
    new.batch := coalesce((usage ->> 'batch')::boolean, false);
    if not debugloop.settings_flag('enable_cost_tracking') then
        new.cost_usd := null;
        new.price_catalog_id := null;
        new.cost_status := 'untracked';
    else
        select * into priced from debugloop._attempt_cost(new.model_used, new.usage_raw, new.started_at);
        new.cost_usd := priced.cost_usd;
        new.price_catalog_id := priced.price_catalog_id;
        new.cost_status := priced.cost_status;
        new.priced_at := case when priced.cost_status = 'priced' then now() end;
    end if;
    return new;
end
$$;

create or replace trigger _030_finish
    before insert or update of status on debugloop.debug_execution_attempts
    for each row execute function debugloop.tg_debug_execution_attempts__finish();

-- tg_debug_execution_attempts__touch: stamp updated_at. Locks: none.
create or replace function debugloop.tg_debug_execution_attempts__touch()
returns trigger
language plpgsql
as $$
begin
    new.updated_at := now();
    return new;
end
$$;

create or replace trigger _040_touch
    before update on debugloop.debug_execution_attempts
    for each row execute function debugloop.tg_debug_execution_attempts__touch();
