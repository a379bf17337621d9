-- Triggers of debugloop.debug_error_success_mappings.

-- tg_debug_error_success_mappings__confidence: the confidence, the Wilson lower
-- bound and the pattern's embedding follow the row, whatever client writes it
-- (debugloop._error_set_mapping_scores); an update stamps updated_at. Locks: none.
create or replace function debugloop.tg_debug_error_success_mappings__confidence()
returns trigger
language plpgsql
as $$
begin
    new := debugloop._error_set_mapping_scores(new, old);
    if tg_op = 'UPDATE' then
        new.updated_at := now();
    end if;
    return new;
end
$$;

create or replace trigger _010_confidence
    before insert or update on debugloop.debug_error_success_mappings
    for each row execute function debugloop.tg_debug_error_success_mappings__confidence();

-- tg_debug_error_success_mappings__reward: a fix that succeeded again may now be
-- confirmed and pay its first fixer (debugloop._reward_pattern_success, cheap
-- when it cannot). SECURITY DEFINER: the reward engine writes the ledger. Locks:
-- as debugloop._reward_pay.
create or replace function debugloop.tg_debug_error_success_mappings__reward()
returns trigger
language plpgsql
security definer
set search_path = debugloop, pg_catalog, pg_temp
as $$
begin
    perform debugloop._reward_pattern_success(new);
    return null;
end
$$;
revoke execute on function debugloop.tg_debug_error_success_mappings__reward() from public;

create or replace trigger _030_reward
    after update of success_count on debugloop.debug_error_success_mappings
    for each row when (new.success_count > old.success_count)
    execute function debugloop.tg_debug_error_success_mappings__reward();
