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
   and not exists (select from pg_depend d   -- vector's and pg_trgm's live in the schema too
                    where d.classid = 'pg_proc'::regclass and d.objid = p.oid and d.deptype = 'e')
union all
select 'view', c.relname::text, '', '', split_part(coalesce(obj_description(c.oid, 'pg_class'), ''), E'\n', 1), false
  from pg_class c
  join pg_namespace n on n.oid = c.relnamespace
 where n.nspname = 'debugloop'
   and c.relkind in ('v', 'm')
   and c.relname like 'v\_%';
comment on view debugloop.v_api is 'The public SQL API: functions and v_* views of the debugloop schema, with their summaries.';

-- debugloop._meta_secure(): what every reload of functions/ and triggers/ ends
-- with (debugloop.migrate, after the check for stale functions). Each SECURITY
-- DEFINER function of the schema is handed to debugloop_owner (a NOLOGIN role,
-- no superuser, with only the table rights those functions use), and so is each
-- materialized view (analytics_refresh refreshes them, which takes their owner:
-- MAINTAIN would do from PostgreSQL 17 on, 16 is supported), and every
-- function that sets no search_path is pinned to debugloop, pg_catalog, pg_temp,
-- except the internal SQL functions: those are inlined into their callers, which
-- are pinned, and no view calls one (tests/test_conventions.py). Why: a function
-- resolves unqualified names (||, format, lower, ...) on the search path of
-- whoever calls it unless it pins one, and where an agent may create objects in
-- a schema on an operator's path (public, before PostgreSQL 15), an operator or
-- function there that matches the argument types exactly would run with the
-- operator's rights. Members of extensions are left as they are. A migrator that
-- is no superuser lends debugloop_owner CREATE on the schema for the hand-over
-- (ALTER ... OWNER asks the new owner for it), within this transaction only.
-- Locks: the catalog rows of the functions it changes; the views it hands over
-- (ACCESS EXCLUSIVE).
create or replace function debugloop._meta_secure()
returns void
language plpgsql
volatile
set search_path = debugloop, pg_catalog, pg_temp
as $$
declare
    f record;
    lend boolean := not (select r.rolsuper from pg_roles r where r.rolname = current_user)
                    and not has_schema_privilege('debugloop_owner', 'debugloop', 'create');
begin
    if lend then
        grant create on schema debugloop to debugloop_owner;
    end if;
    for f in
        select p.oid::regprocedure as signature, p.prosecdef as definer,
               p.proowner <> 'debugloop_owner'::regrole as foreign_owner,
               not exists (select from unnest(coalesce(p.proconfig, '{}')) c where c like 'search_path=%') as unpinned,
               l.lanname = 'sql' and p.proname like '\_%' as inlined
          from pg_proc p
          join pg_language l on l.oid = p.prolang
         where p.pronamespace = 'debugloop'::regnamespace
           and not exists (select from pg_depend d
                            where d.classid = 'pg_proc'::regclass and d.objid = p.oid and d.deptype = 'e')
         order by 1
    loop
        if f.definer and f.foreign_owner then
            execute format('alter function %s owner to debugloop_owner', f.signature);
        end if;
        if f.unpinned and not f.inlined then
            execute format('alter function %s set search_path = debugloop, pg_catalog, pg_temp', f.signature);
        end if;
    end loop;
    for f in
        select c.oid::regclass as view from pg_class c
         where c.relnamespace = 'debugloop'::regnamespace and c.relkind = 'm'
           and c.relowner <> 'debugloop_owner'::regrole
    loop
        execute format('alter materialized view %s owner to debugloop_owner', f.view);
    end loop;
    if lend then
        revoke create on schema debugloop from debugloop_owner;
    end if;
end
$$;
revoke execute on function debugloop._meta_secure() from public;
