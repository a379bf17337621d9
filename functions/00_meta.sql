-- meta: what is installed. Reloaded after every migrate (see debugloop.migrate).

-- debugloop.version(): the schema version, i.e. the number of the newest applied
-- migration. Why: a client checks it before it relies on the API. Locks: none
-- beyond reading debugloop.schema_state.
create or replace function debugloop.version()
returns integer
language sql
stable
as $$
    select version from debugloop.schema_state
$$;
comment on function debugloop.version() is 'The schema version: the number of the newest applied migration.';

-- debugloop.info(): one row per installed component and its version (PostgreSQL,
-- pgvector, pg_trgm, the schema, the checksum of the loaded code). Why: `make demo`,
-- support requests and DBAs want one query that says what runs. Locks: none.
create or replace function debugloop.info()
returns table (component text, version text)
language sql
stable
as $$
    select 'postgresql', current_setting('server_version')
    union all
    select e.extname::text, e.extversion from pg_extension e where e.extname in ('vector', 'pg_trgm')
    union all
    select 'debugloop schema', s.version::text from debugloop.schema_state s
    union all
    select 'debugloop code', left(s.code_checksum, 12) from debugloop.schema_state s
    union all
    select 'migrated at', to_char(s.migrated_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
      from debugloop.schema_state s
$$;
comment on function debugloop.info() is 'What is installed: PostgreSQL, pgvector, pg_trgm, the schema version and code checksum.';

-- debugloop.v_api: the public API, read from the catalog: every function of the
-- schema except internals (leading underscore) and trigger functions (tg_), and
-- every v_* view, each with the first line of its comment.
create or replace view debugloop.v_api as
select 'function'::text as kind,
       p.proname::text as name,
       pg_get_function_identity_arguments(p.oid) as arguments,
       pg_get_function_result(p.oid) as returns,
       split_part(coalesce(obj_description(p.oid, 'pg_proc'), ''), E'\n', 1) as summary,
       p.prosecdef as security_definer
  from pg_proc p
  join pg_namespace n on n.oid = p.pronamespace
 where n.nspname = 'debugloop'
   and p.proname !~ '^(_|tg_)'
union all
select 'view', c.relname::text, '', '', split_part(coalesce(obj_description(c.oid, 'pg_class'), ''), E'\n', 1), false
  from pg_class c
  join pg_namespace n on n.oid = c.relnamespace
 where n.nspname = 'debugloop'
   and c.relkind in ('v', 'm')
   and c.relname like 'v\_%';
comment on view debugloop.v_api is 'The public SQL API: functions and v_* views of the debugloop schema, with their summaries.';
