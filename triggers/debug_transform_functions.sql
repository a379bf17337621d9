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
