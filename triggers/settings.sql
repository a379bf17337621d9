-- Triggers of debugloop.settings.

-- tg_settings__touch: stamp who changed a setting and when. Locks: none.
create or replace function debugloop.tg_settings__touch()
returns trigger
language plpgsql
as $$
begin
    new.updated_at := now();
    new.updated_by := current_user;
    return new;
end
$$;

create or replace trigger _010_touch
    before update on debugloop.settings
    for each row execute function debugloop.tg_settings__touch();

-- tg_settings__audit: append the change to debugloop.settings_audit. SECURITY
-- DEFINER so that no role needs (or gets) INSERT on the audit table. Locks: none
-- beyond the insert.
create or replace function debugloop.tg_settings__audit()
returns trigger
language plpgsql
security definer
set search_path = debugloop, pg_catalog, pg_temp
as $$
begin
    if new.value is distinct from old.value then
        insert into debugloop.settings_audit (key, old_value, new_value, changed_by)
        values (new.key, old.value, new.value, new.updated_by);
    end if;
    return null;
end
$$;
revoke execute on function debugloop.tg_settings__audit() from public;

create or replace trigger _020_audit
    after update on debugloop.settings
    for each row execute function debugloop.tg_settings__audit();
