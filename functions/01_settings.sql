-- settings: feature flags and thresholds that every client obeys.
--
-- A setting's value lives in debugloop.settings. A setting marked overridable may
-- be overridden for one session with the custom setting debugloop.<key>
-- (SET debugloop.enable_stf_extraction = off; the Python client does this for the
-- flags given in its environment). Only an admin changes the table.

-- debugloop._settings_parse(setting, raw, source): the text `raw` as the jsonb
-- value of `setting`, checked against its type and range (a number must be finite:
-- to_jsonb makes NaN the text "NaN"). Why: one validation for both settings_set
-- and session overrides. Raises DL004 naming `source`.
create or replace function debugloop._settings_parse(setting debugloop.settings, raw text, source text)
returns jsonb
language plpgsql
immutable
as $$
declare
    parsed jsonb;
begin
    begin
        parsed := case setting.value_type
            when 'boolean' then to_jsonb(raw::boolean)
            when 'integer' then to_jsonb(raw::bigint)
            when 'numeric' then to_jsonb(raw::numeric)
            else to_jsonb(raw)
        end;
    exception when invalid_text_representation or numeric_value_out_of_range or null_value_not_allowed then
        raise exception '%: % is not a valid % value', source, coalesce(quote_literal(raw), 'NULL'), setting.value_type
            using errcode = 'DL004', column = 'value',
                  detail = format('setting %s has type %s', setting.key, setting.value_type),
                  hint = case setting.value_type
                             when 'boolean' then 'use true/false, on/off, yes/no or 1/0'
                             when 'integer' then 'use a whole number'
                             else 'use a number' end;
    end;
    if setting.value_type in ('integer', 'numeric') and jsonb_typeof(parsed) is distinct from 'number' and parsed is not null then
        raise exception '%: % is not a finite number', source, quote_literal(raw)
            using errcode = 'DL004', column = 'value',
                  detail = format('setting %s has type %s; NaN and infinite values are refused', setting.key, setting.value_type);
    end if;
    if parsed is null then
        raise exception '%: a value is required', source
            using errcode = 'DL004', column = 'value', detail = format('setting %s has type %s', setting.key, setting.value_type);
    end if;
    if setting.value_type in ('integer', 'numeric')
       and ((setting.min_value is not null and parsed::numeric < setting.min_value)
         or (setting.max_value is not null and parsed::numeric > setting.max_value)) then
        raise exception '%: % is out of range', source, raw
            using errcode = 'DL004', column = 'value',
                  detail = format('setting %s must lie in [%s, %s]', setting.key,
                                  coalesce(setting.min_value::text, '-inf'), coalesce(setting.max_value::text, 'inf'));
    end if;
    return parsed;
end
$$;

-- debugloop._settings_row(key): the row of a setting, or DL003. Locks: none.
create or replace function debugloop._settings_row(key text)
returns debugloop.settings
language plpgsql
stable
as $$
declare
    setting debugloop.settings;
begin
    select * into setting from debugloop.settings s where s.key = _settings_row.key;
    if not found then
        raise exception 'unknown setting: %', coalesce(quote_literal(_settings_row.key), 'NULL')
            using errcode = 'DL003', column = 'key',
                  hint = 'select key from debugloop.v_settings lists the settings';
    end if;
    return setting;
end
$$;

-- debugloop._settings_value(setting): the value of a settings row in force for this
-- session, as jsonb: the session override debugloop.<key> when the setting is
-- overridable and it is set, else the row's value. DL004 for a bad override. Why:
-- settings_get and settings_flag read the row once and share this rule. Locks: none.
create or replace function debugloop._settings_value(setting debugloop.settings)
returns jsonb
language plpgsql
stable
as $$
declare
    raw text;
begin
    if setting.overridable then
        raw := nullif(current_setting('debugloop.' || setting.key, true), '');
        if raw is not null then
            return debugloop._settings_parse(setting, raw, 'debugloop.' || setting.key);
        end if;
    end if;
    return setting.value;
end
$$;

-- debugloop.settings_get(key): the value in force for this session, as jsonb
-- (_settings_value of its row). Raises DL003 for an unknown key, DL004 for a bad
-- override. Locks: none.
create or replace function debugloop.settings_get(key text)
returns jsonb
language plpgsql
stable
as $$
begin
    return debugloop._settings_value(debugloop._settings_row(settings_get.key));
end
$$;
comment on function debugloop.settings_get(text) is 'The value of a setting in force for this session (a session override first, then the table).';

-- debugloop.settings_flag(key): a boolean setting in force for this session. Why:
-- triggers ask `if debugloop.settings_flag('enable_golden_states')`. Raises DL004
-- when the setting is not a flag. Locks: none.
create or replace function debugloop.settings_flag(key text)
returns boolean
language plpgsql
stable
as $$
declare
    setting debugloop.settings := debugloop._settings_row(settings_flag.key);
begin
    if setting.value_type <> 'boolean' then
        raise exception 'setting % is not a flag', setting.key
            using errcode = 'DL004', column = 'key', detail = format('its type is %s', setting.value_type);
    end if;
    return debugloop._settings_value(setting)::boolean;
end
$$;
comment on function debugloop.settings_flag(text) is 'Whether a feature flag is on for this session.';

-- debugloop._settings_number(key): the value in force of a numeric or integer
-- setting (settings_get), as numeric: thresholds read it as
-- `debugloop._settings_number('golden_min_quality')`. Locks: none.
create or replace function debugloop._settings_number(key text)
returns numeric
language sql
stable
as $$ select (debugloop.settings_get(key) #>> '{}')::numeric $$;

-- debugloop.settings_set(key, value): change a setting for everyone (admin only).
-- `value` is text, parsed by the setting's type (true/false/on/off, numbers, text).
-- The change is audited in debugloop.settings_audit by a trigger. Locks: the
-- setting's row (FOR UPDATE), so concurrent changes of one key serialise.
create or replace function debugloop.settings_set(key text, value text)
returns debugloop.settings
language plpgsql
volatile
as $$
declare
    setting debugloop.settings;
begin
    select * into setting from debugloop.settings s where s.key = settings_set.key for update;
    if not found then
        perform debugloop._settings_row(settings_set.key);  -- raises DL003
    end if;
    update debugloop.settings s
       set value = debugloop._settings_parse(setting, settings_set.value, setting.key)
     where s.key = setting.key
    returning * into setting;
    return setting;
end
$$;
comment on function debugloop.settings_set(text, text) is 'Change a setting for everyone (admin only); the change is audited.';
revoke execute on function debugloop.settings_set(text, text) from public;
grant execute on function debugloop.settings_set(text, text) to debugloop_admin;

create or replace view debugloop.v_settings as
select s.key, s.value, debugloop.settings_get(s.key) as effective_value, s.value_type, s.overridable,
       s.min_value, s.max_value, s.description, s.updated_at, s.updated_by
  from debugloop.settings s;
comment on view debugloop.v_settings is 'Every setting with its stored value and the value in force for this session.';
