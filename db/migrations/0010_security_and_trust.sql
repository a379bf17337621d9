-- 0010 security and trust, before there is money in the database:
-- * debugloop_owner, a NOLOGIN role that is no superuser, owns every SECURITY
--   DEFINER function and the materialized views that analytics_refresh() refreshes
--   (the reload of functions/ hands them over, debugloop._meta_secure) and holds
--   only the table rights those functions use;
-- * the extensions (vector, pg_trgm) move into schema debugloop, where no agent
--   can create anything, so that nothing in public can stand in for their types,
--   operators and functions;
-- * who recorded an attempt (recorded_by, the database role, set by a trigger)
--   and who reviewed (the role, never an argument; automatic decisions marked as
--   such), so that "independent" evidence means other peers;
-- * one live golden state per request and approach (a partial unique index), so
--   that concurrent successes cannot make two.

-- The owner of the SECURITY DEFINER functions. Roles are cluster-wide: another
-- database of the same cluster may have made it; whoever made it, it may do no
-- more than own debugloop's functions.
do $$
begin
    if not exists (select from pg_roles where rolname = 'debugloop_owner') then
        begin
            create role debugloop_owner nologin;
        exception when duplicate_object or unique_violation then
            null;  -- created concurrently from another database
        end;
    end if;
    if exists (select from pg_roles
                where rolname = 'debugloop_owner'
                  and (rolsuper or rolcreaterole or rolcreatedb or rolcanlogin or rolbypassrls or rolreplication)) then
        alter role debugloop_owner nosuperuser nocreaterole nocreatedb nologin nobypassrls noreplication;
    end if;
    -- a migrator that is no superuser replaces the owner's functions on every reload
    -- (CREATE OR REPLACE needs the owner's privileges) and hands new ones over
    if not (select r.rolsuper from pg_roles r where r.rolname = current_user)
       and not pg_has_role(current_user, 'debugloop_owner', 'usage') then
        execute format('grant debugloop_owner to %I with inherit true, set true', current_user);
    end if;
end
$$;
comment on role debugloop_owner is 'debugloop: owns the SECURITY DEFINER functions; NOLOGIN, no superuser; only the table rights they use.';

-- What the definer functions read and write, and nothing else: no DELETE, no
-- TRUNCATE, no DDL (no CREATE on any schema), no membership in another role.
grant usage on schema debugloop to debugloop_owner;
grant select on all tables in schema debugloop to debugloop_owner;
alter default privileges in schema debugloop grant select on tables to debugloop_owner;
grant insert, update on debugloop.debug_execution_attempts, debugloop.debug_error_signatures,
                        debugloop.debug_error_success_mappings, debugloop.debug_transform_functions,
                        debugloop.debug_golden_states, debugloop.debug_import_sessions,
                        debugloop.debug_import_units, debugloop.debug_import_files
   to debugloop_owner;
grant insert on debugloop.debug_problems, debugloop.debug_stf_provenance, debugloop.debug_stf_uses,
                debugloop.debug_stf_reviews, debugloop.debug_golden_reviews, debugloop.debug_golden_reuses,
                debugloop.model_price_catalog, debugloop.settings_audit
   to debugloop_owner;

-- The extensions into schema debugloop (both are relocatable). The functions of
-- functions/ name their types and operators debugloop.vector, debugloop.halfvec,
-- operator(debugloop.<=>), ...; the reload that follows this migration replaces
-- those that named public. Columns and indexes refer to the types by oid and follow.
do $$
declare
    ext text;
begin
    foreach ext in array array['vector', 'pg_trgm'] loop
        if (select e.extnamespace from pg_extension e where e.extname = ext) <> 'debugloop'::regnamespace then
            execute format('alter extension %I set schema debugloop', ext);
        end if;
    end loop;
end
$$;

-- Who recorded an attempt: the database role of the session (SET ROLE, else the
-- login), set by the trigger _005_recorded_by whatever the caller sends. Attempts
-- recorded before this migration have none: nobody knows, so they are no peer's
-- independent evidence.
alter table debugloop.debug_execution_attempts add column recorded_by name;
comment on column debugloop.debug_execution_attempts.recorded_by is
    'The database role that recorded the attempt (set by a trigger, not by an argument); null before migration 0010.';

-- Who reviewed: reviewed_by is the database role from now on (debugloop for the
-- automatic decisions, which `automatic` marks: a role may be named debugloop);
-- the name a reviewer passes is kept beside it as on_behalf_of, unverified.
-- Earlier rows: reviewed_by as it was given; those by debugloop were automatic.
alter table debugloop.debug_stf_reviews
    add column on_behalf_of text,
    add column automatic boolean not null default false;
alter table debugloop.debug_golden_reviews
    add column on_behalf_of text,
    add column automatic boolean not null default false;
update debugloop.debug_golden_reviews set automatic = true where reviewed_by = 'debugloop';
comment on column debugloop.debug_golden_reviews.reviewed_by is 'The database role that decided (debugloop for automatic decisions); free text before migration 0010.';
comment on column debugloop.debug_golden_reviews.on_behalf_of is 'The person the reviewing role named (the approved_by argument), unverified.';
comment on column debugloop.debug_golden_reviews.automatic is 'Decided by debugloop itself (thresholds, withdrawal), not by a role.';
comment on column debugloop.debug_stf_reviews.reviewed_by is 'The database role that decided; free text before migration 0010.';
comment on column debugloop.debug_stf_reviews.on_behalf_of is 'The person the reviewing role named (the approved_by argument), unverified.';
comment on column debugloop.debug_stf_reviews.automatic is 'Decided by debugloop itself, not by a role.';

-- One live golden state per request and approach. The approach hash joins the
-- problem hash on the golden state (an attempt's approach never changes once it
-- is a golden state's); states without an approach description share one key per
-- request.
alter table debugloop.debug_golden_states add column approach_hash text;
comment on column debugloop.debug_golden_states.approach_hash is 'The approach hash of its attempt: one golden state that is not rejected per (problem_hash, approach_hash).';
update debugloop.debug_golden_states g
   set approach_hash = a.approach_hash
  from debugloop.debug_execution_attempts a
 where a.attempt_id = g.execution_attempt_id and a.approach_hash is not null;

-- Duplicates that concurrency made before: the approved one (else the first
-- nominated) stays, the others are rejected by debugloop with the reason, as
-- _util_review would, and their attempts are no golden state any more.
with live as (
    select g.golden_state_id, g.execution_attempt_id,
           first_value(g.golden_state_id) over w as kept,
           row_number() over w as rank
      from debugloop.debug_golden_states g
     where g.approval_status <> 'rejected'
    window w as (partition by g.problem_hash, coalesce(g.approach_hash, '')
                 order by g.approval_status = 'approved' desc, g.nominated_at, g.golden_state_id)
), duplicates as (
    select * from live where rank > 1
), audited as (
    insert into debugloop.debug_golden_reviews (golden_state_id, decision, reviewed_by, notes, automatic)
    select d.golden_state_id, 'rejected', 'debugloop',
           format('a duplicate of golden state %s: one golden state per request and approach (migration 0010)', d.kept),
           true
      from duplicates d
), rejected as (
    update debugloop.debug_golden_states g
       set approval_status = 'rejected', approved_by = 'debugloop', approved_at = now(), updated_at = now()
      from duplicates d
     where g.golden_state_id = d.golden_state_id
    returning g.execution_attempt_id
)
update debugloop.debug_execution_attempts a
   set is_golden_state = false, golden_state_approved_by = null, golden_state_approved_at = null
  from rejected r
 where a.attempt_id = r.execution_attempt_id and a.is_golden_state;

create unique index debug_golden_states_problem_approach_key
    on debugloop.debug_golden_states (problem_hash, coalesce(approach_hash, ''))
 where approval_status <> 'rejected';

update debugloop.settings
   set description = 'Other peers (database roles) that must have succeeded at the same or similar problems, in chains of their own, for a nominee to be approved automatically.'
 where key = 'golden_auto_approve_min_successes';

-- The review workflow takes who reviewed from the session, no longer as an argument.
drop function if exists debugloop._util_review(text, uuid, text, text, text);
drop function if exists debugloop._stf_review(uuid, text, text, text);
drop function if exists debugloop._golden_review(uuid, text, text, text);
