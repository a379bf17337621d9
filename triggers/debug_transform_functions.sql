-- Triggers of debugloop.debug_transform_functions.

-- tg_debug_transform_functions__search: what a problem is matched against follows
-- the STF (debugloop._stf_set_search). Locks: none.
create or replace function debugloop.tg_debug_transform_functions__search()
returns trigger
language plpgsql
as $$
begin
    return debugloop._stf_set_search(new);
end
$$;

create or replace trigger _010_search
    before insert or update of stf_name, stf_description, docstring, stf_code, problem_category
    on debugloop.debug_transform_functions
    for each row execute function debugloop.tg_debug_transform_functions__search();

-- tg_debug_transform_functions__touch: stamp updated_at. Locks: none.
create or replace function debugloop.tg_debug_transform_functions__touch()
returns trigger
language plpgsql
as $$
begin
    new.updated_at := now();
    return new;
end
$$;

create or replace trigger _020_touch
    before update on debugloop.debug_transform_functions
    for each row execute function debugloop.tg_debug_transform_functions__touch();

-- tg_debug_transform_functions__reward: an approval pays the STF's contribution
-- reward, a rejection reverses it (debugloop._reward_stf). SECURITY DEFINER: the
-- reward engine writes the ledger, which no reviewing role may. Locks: as
-- debugloop._reward_pay.
create or replace function debugloop.tg_debug_transform_functions__reward()
returns trigger
language plpgsql
security definer
set search_path = debugloop, pg_catalog, pg_temp
as $$
begin
    if debugloop.settings_flag('enable_token_rewards') then
        perform debugloop._reward_stf(new.stf_id);
    end if;
    return null;
end
$$;
revoke execute on function debugloop.tg_debug_transform_functions__reward() from public;

create or replace trigger _030_reward
    after update of approval_status on debugloop.debug_transform_functions
    for each row when (new.approval_status in ('approved', 'rejected') and old.approval_status is distinct from new.approval_status)
    execute function debugloop.tg_debug_transform_functions__reward();
