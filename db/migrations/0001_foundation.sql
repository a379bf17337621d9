-- 0001 foundation: the debugloop schema, the extensions, the three roles and their
-- grants, the schema state that debugloop.version() reads, and the settings table
-- (feature flags that SQL-only clients obey too).

create schema if not exists debugloop;
comment on schema debugloop is 'debugloop: memory and wallet of a team of LLM coding agents. Functions and v_* views are the API.';

create extension if not exists vector;
create extension if not exists pg_trgm;

-- Roles are cluster-wide: another database of the same cluster may have made them.
do $$
declare
    role_name text;
begin
    foreach role_name in array array['debugloop_reader', 'debugloop_agent', 'debugloop_admin'] loop
        if not exists (select from pg_roles where rolname = role_name) then
            begin
                execute format('create role %I nologin', role_name);
            exception when duplicate_object or unique_violation then
                null;  -- created concurrently from another database
            end;
        end if;
    end loop;
end
$$;

comment on role debugloop_reader is 'debugloop: reads the v_* views and the tables (analytics, BI tools).';
comment on role debugloop_agent is 'debugloop: records attempts, reads manifests, spends tokens.';
comment on role debugloop_admin is 'debugloop: prices, approvals, grants, adjustments, settings.';

grant debugloop_reader to debugloop_agent;
grant debugloop_reader to debugloop_admin;

grant usage on schema debugloop to debugloop_reader, debugloop_agent, debugloop_admin;
alter default privileges in schema debugloop grant select on tables to debugloop_reader;

-- One row: the version of the schema and the checksum of the code (functions/,
-- triggers/) that the post-apply step loaded last.
create table debugloop.schema_state (
    singleton     boolean primary key default true
                  constraint schema_state_singleton check (singleton),
    version       integer not null default 0,
    code_checksum text not null default '',
    migrated_at   timestamptz not null default now()
);
insert into debugloop.schema_state default values;

create table debugloop.settings (
    key         text primary key
                constraint settings_key_format check (key ~ '^[a-z][a-z0-9_]*$'),
    value       jsonb not null,
    value_type  text not null
                constraint settings_value_type_known check (value_type in ('boolean', 'integer', 'numeric', 'text')),
    overridable boolean not null default false,
    min_value   numeric,
    max_value   numeric,
    description text not null,
    updated_at  timestamptz not null default now(),
    updated_by  text not null default current_user,
    constraint settings_value_matches_type check (
        case value_type
            when 'boolean' then jsonb_typeof(value) = 'boolean'
            when 'text' then jsonb_typeof(value) = 'string'
            when 'numeric' then jsonb_typeof(value) = 'number'
            when 'integer' then
                case when jsonb_typeof(value) = 'number' then value::numeric = trunc(value::numeric) else false end
        end),
    constraint settings_value_in_range check (
        case when value_type in ('integer', 'numeric') and jsonb_typeof(value) = 'number'
             then (min_value is null or value::numeric >= min_value)
              and (max_value is null or value::numeric <= max_value)
             else true
        end)
);
comment on table debugloop.settings is 'Feature flags and thresholds. Read with debugloop.settings_get, change with debugloop.settings_set (admin).';

create table debugloop.settings_audit (
    audit_id   bigint generated always as identity primary key,
    key        text not null constraint settings_audit_key_fkey references debugloop.settings (key),
    old_value  jsonb not null,
    new_value  jsonb not null,
    changed_by text not null,
    changed_at timestamptz not null default now()
);
comment on table debugloop.settings_audit is 'Every change of debugloop.settings: who, when, from what to what. Written by a trigger only.';

grant update (value, updated_at, updated_by) on debugloop.settings to debugloop_admin;

insert into debugloop.settings (key, value, value_type, overridable, description) values
    ('enable_stf_extraction', 'true', 'boolean', true,
     'Extract reusable functions (STFs) from the code of successful attempts.'),
    ('enable_cost_tracking', 'true', 'boolean', true,
     'Price every finished attempt from the model price catalog.'),
    ('enable_golden_states', 'true', 'boolean', true,
     'Nominate successful attempts that pass the thresholds as golden states.');
