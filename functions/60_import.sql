-- import: agent logs (Claude Code, SWE-agent, OpenHands) as attempts.
--
-- The Python importers parse the logs into units (one API response, one step) and
-- send them in batches to import_units, which records each as an attempt through
-- the same triggers as attempt_start/attempt_finish: fingerprint, cost at the
-- catalog's prices, error signature, error->success mappings, STF extraction. The
-- log's own ids are the keys, so importing again adds nothing; a unit imported as
-- running (a tool call whose result was not written yet) is finished when its
-- result arrives. The file's read position commits in the same transaction.

-- debugloop._import_check_source(source): DL001 unless `source` is a known log
-- format. Locks: none.
create or replace function debugloop._import_check_source(source text)
returns void
language plpgsql
immutable
as $$
begin
    if source is null or source not in ('claude-code', 'swe-agent', 'openhands') then
        raise exception 'source must be claude-code, swe-agent or openhands, got %', coalesce(quote_literal(source), 'NULL')
            using errcode = 'DL001', column = 'source';
    end if;
end
$$;

-- debugloop._import_check_batch(source, sessions, units, file): DL001 naming the
-- first element and field of a batch of import_units that holds a value of the
-- wrong JSON type or out of range, before anything is written: a session needs a
-- key (once in the batch) and a correlation id (a uuid no other session has), its
-- text fields are strings, its reported_cost_usd a finite number from 0 to 10^15
-- (JSON, or its exact text); a unit's text fields are strings, its started_at and
-- completed_at times (finite, from 1970 to a day from now), its model name at
-- most 256 characters; the file has a path and whole-number offsets. Why: such a
-- value would otherwise fail the batch with a bare SQLSTATE (22P02, 22007, 22003,
-- 23502, 23505) that names no unit, or store a cost that is not finite. One query
-- over each array, so a valid batch costs little. Locks: none.
create or replace function debugloop._import_check_batch(source text, sessions jsonb, units jsonb, file jsonb)
returns void
language plpgsql
stable
as $$
declare
    bad record;
    latest timestamptz := now() + interval '1 day';
begin
    select 'sessions' as part, x.i, x.e ->> 'key' as key, c.field, c.reason into bad
      from jsonb_array_elements(coalesce(sessions, '[]')) with ordinality x(e, i)
     cross join lateral (values
        ('key', case when jsonb_typeof(x.e) <> 'object' then 'must be a JSON object'
                     when jsonb_typeof(x.e -> 'key') is distinct from 'string' or btrim(x.e ->> 'key') = ''
                         then 'must be a non-empty string' end),
        ('correlation_id', case when jsonb_typeof(x.e -> 'correlation_id') is distinct from 'string'
                                     or not pg_input_is_valid(x.e ->> 'correlation_id', 'uuid') then 'must be a uuid'
                                when exists (select from debugloop.debug_import_sessions s
                                              where s.correlation_id = (x.e ->> 'correlation_id')::uuid
                                                and (s.source, s.session_key) <> (_import_check_batch.source, x.e ->> 'key'))
                                    then 'belongs to another session' end),
        ('path', case when coalesce(jsonb_typeof(x.e -> 'path'), 'null') not in ('null', 'string') then 'must be a string' end),
        ('title', case when coalesce(jsonb_typeof(x.e -> 'title'), 'null') not in ('null', 'string') then 'must be a string' end),
        ('model', case when coalesce(jsonb_typeof(x.e -> 'model'), 'null') not in ('null', 'string') then 'must be a string' end),
        ('reported_cost_usd', case when coalesce(jsonb_typeof(x.e -> 'reported_cost_usd'), 'null') = 'null' then null
                                   when jsonb_typeof(x.e -> 'reported_cost_usd') not in ('number', 'string')
                                        or not pg_input_is_valid(x.e ->> 'reported_cost_usd', 'numeric')
                                        or (x.e ->> 'reported_cost_usd')::numeric not between 0 and 1e15
                                       then 'must be a number of USD from 0 to 10^15 (or its text)' end)
     ) c(field, reason)
     where c.reason is not null
     order by x.i
     limit 1;
    if bad.reason is null then
        select 'sessions' as part, x.i, x.e ->> 'key' as key, 'key' as field, 'appears twice in the batch' as reason into bad
          from jsonb_array_elements(coalesce(sessions, '[]')) with ordinality x(e, i)
         where (select count(*) from jsonb_array_elements(sessions) y where y ->> 'key' = x.e ->> 'key') > 1
         order by x.i
         limit 1;
    end if;
    if bad.reason is null then
        select 'units' as part, x.i, x.e ->> 'key' as key, c.field, c.reason into bad
          from jsonb_array_elements(coalesce(units, '[]')) with ordinality x(e, i)
         cross join lateral (
            select 'key' as field, 'must be a JSON object' as reason, 0 as n where jsonb_typeof(x.e) <> 'object'
            union all
            select f.field,
                   case when f.kind = 'text' and coalesce(jsonb_typeof(x.e -> f.field), 'null') not in ('null', 'string')
                            then 'must be a string'
                        when f.kind = 'time' and x.e ->> f.field is not null
                             and (jsonb_typeof(x.e -> f.field) <> 'string'
                                  or not pg_input_is_valid(x.e ->> f.field, 'timestamptz')
                                  or not isfinite((x.e ->> f.field)::timestamptz)
                                  or (x.e ->> f.field)::timestamptz not between '1970-01-01 00:00:00+00' and latest)
                            then format('must be a time from 1970-01-01 to %s', latest::date)
                        when f.field = 'model' and length(x.e ->> 'model') > 256
                            then 'must be a model name of at most 256 characters' end,
                   f.n
              from (values (1, 'key', 'text'), (2, 'session', 'text'), (3, 'parent', 'text'), (4, 'agent', 'text'),
                           (5, 'agent_type', 'text'), (6, 'request', 'text'), (7, 'model', 'text'),
                           (8, 'approach', 'text'), (9, 'status', 'text'), (10, 'error_type', 'text'),
                           (11, 'error_message', 'text'), (12, 'started_at', 'time'), (13, 'completed_at', 'time'))
                   f(n, field, kind)
             where jsonb_typeof(x.e) = 'object'
         ) c
         where c.reason is not null
         order by x.i, c.n
         limit 1;
    end if;
    if bad.reason is null and jsonb_typeof(file) = 'object' then
        select 'file' as part, null::bigint as i, file ->> 'path' as key, c.field, c.reason into bad
          from (values
            ('path', case when jsonb_typeof(file -> 'path') is distinct from 'string' or btrim(file ->> 'path') = ''
                          then 'must be a non-empty string' end),
            ('byte_offset', case when jsonb_typeof(file -> 'byte_offset') is distinct from 'number'
                                      or (file ->> 'byte_offset')::numeric <> trunc((file ->> 'byte_offset')::numeric)
                                      or (file ->> 'byte_offset')::numeric not between 0 and 9e18
                                 then 'must be a whole number from 0 to 9e18' end),
            ('line_number', case when jsonb_typeof(file -> 'line_number') is distinct from 'number'
                                      or (file ->> 'line_number')::numeric <> trunc((file ->> 'line_number')::numeric)
                                      or (file ->> 'line_number')::numeric not between 0 and 9e18
                                 then 'must be a whole number from 0 to 9e18' end),
            ('head_md5', case when coalesce(jsonb_typeof(file -> 'head_md5'), 'null') not in ('null', 'string')
                              then 'must be a string' end)) c(field, reason)
         where c.reason is not null
         limit 1;
    end if;
    if bad.reason is not null then
        raise exception '%: % %', case when bad.part = 'file' then 'file' else format('%s[%s] (%s)', bad.part, bad.i, coalesce(bad.key, 'no key')) end,
                        bad.field, bad.reason
            using errcode = 'DL001', column = bad.part || '.' || bad.field;
    end if;
end
$$;

-- debugloop.import_units(source, run_id, sessions, units, file): record a batch of
-- log units as attempts, in order, and return how many were inserted, finished
-- (imported as running before) and already known. `sessions` is an array of
-- {key, correlation_id, path, title, model, reported_cost_usd, reported_usage};
-- `units` an array of {key, session, parent (a unit key), agent, agent_type,
-- request, model, approach, tools, started_at, completed_at, status (running,
-- success, error, timeout, cancelled), usage, error_type, error_message,
-- artifacts}; `file` (optional) {path, byte_offset, line_number, head_md5, state}
-- is the read position after this batch. Within the call a success maps only the
-- errors of its retry ancestry (debugloop.import_retries_only). Raises DL001
-- naming the unit and field for bad input, DL002 for a unit whose session is not
-- known; then nothing of the batch is kept. Locks: the rows it inserts or finishes.
create or replace function debugloop.import_units(
    source text, run_id uuid, sessions jsonb, units jsonb, file jsonb default null,
    out inserted integer, out finished integer, out duplicates integer)
language plpgsql
volatile
security definer
set search_path = debugloop, public, pg_temp
as $$
declare
    u record;
    correlations jsonb;
    existing record;
    parent_id uuid;
    new_id uuid;
    scope text := current_setting('debugloop.import_retries_only', true);
begin
    perform debugloop._import_check_source(source);
    if run_id is null then
        raise exception 'run_id must not be null' using errcode = 'DL001', column = 'run_id';
    end if;
    if coalesce(jsonb_typeof(sessions), 'array') <> 'array' or coalesce(jsonb_typeof(units), 'array') <> 'array' then
        raise exception 'sessions and units must be JSON arrays' using errcode = 'DL001', column = 'units';
    end if;
    perform debugloop._import_check_batch(source, sessions, units, file);
    inserted := 0; finished := 0; duplicates := 0;

    insert into debugloop.debug_import_sessions as s (
        source, session_key, correlation_id, path, title, model, reported_cost_usd, reported_usage)
    select import_units.source, x.key, x.correlation_id, x.path, x.title, x.model, x.reported_cost_usd, x.reported_usage
      from jsonb_to_recordset(coalesce(sessions, '[]')) as x(key text, correlation_id uuid, path text, title text, model text,
                                                             reported_cost_usd numeric, reported_usage jsonb)
    on conflict on constraint debug_import_sessions_pkey do update
       set path = coalesce(excluded.path, s.path), title = coalesce(excluded.title, s.title),
           model = coalesce(excluded.model, s.model),
           reported_cost_usd = coalesce(excluded.reported_cost_usd, s.reported_cost_usd),
           reported_usage = coalesce(excluded.reported_usage, s.reported_usage), updated_at = now();

    select coalesce(jsonb_object_agg(s.session_key, s.correlation_id), '{}') into correlations
      from debugloop.debug_import_sessions s
     where s.source = import_units.source
       and s.session_key in (select e ->> 'session' from jsonb_array_elements(coalesce(units, '[]')) e);

    perform set_config('debugloop.import_retries_only', 'on', true);
    for u in
        select x.*
          from rows from (jsonb_to_recordset(coalesce(units, '[]')) as (
                   key text, session text, parent text, agent text, agent_type text, request text, model text,
                   approach text, tools jsonb, started_at timestamptz, completed_at timestamptz, status text,
                   usage jsonb, error_type text, error_message text, artifacts jsonb)) with ordinality as x
    loop
        if u.key is null or btrim(u.key) = '' then
            raise exception 'units[%].key must not be empty', u.ordinality using errcode = 'DL001', column = 'units.key';
        end if;
        if u.status is null or u.status not in ('running', 'success', 'error', 'timeout', 'cancelled') then
            raise exception 'units[%] (%): status must be running, success, error, timeout or cancelled, got %',
                u.ordinality, u.key, coalesce(quote_literal(u.status), 'NULL') using errcode = 'DL001', column = 'units.status';
        end if;
        if u.request is null or btrim(u.request) = '' then
            raise exception 'units[%] (%): request must not be empty', u.ordinality, u.key using errcode = 'DL001', column = 'units.request';
        end if;
        if u.started_at is null then
            raise exception 'units[%] (%): started_at is required', u.ordinality, u.key using errcode = 'DL001', column = 'units.started_at';
        end if;

        select i.attempt_id, a.status into existing
          from debugloop.debug_import_units i
          join debugloop.debug_execution_attempts a on a.attempt_id = i.attempt_id
         where i.source = import_units.source and i.unit_key = u.key;
        if found then
            if existing.status = 'running' and u.status <> 'running' then
                perform debugloop.attempt_finish(existing.attempt_id, u.status, u.usage, u.error_type, u.error_message,
                                                 null, null, u.artifacts, u.model,
                                                 greatest(u.completed_at, u.started_at), null, u.tools);
                update debugloop.debug_import_units i set run_id = import_units.run_id
                 where i.source = import_units.source and i.unit_key = u.key;
                finished := finished + 1;
            else
                duplicates := duplicates + 1;
            end if;
            continue;
        end if;

        if correlations -> u.session is null then
            raise exception 'units[%] (%): session % is not known', u.ordinality, u.key, coalesce(quote_literal(u.session), 'NULL')
                using errcode = 'DL002', column = 'units.session',
                      hint = 'send the session in `sessions` with its first batch';
        end if;
        parent_id := null;
        if u.parent is not null then
            select i.attempt_id into parent_id
              from debugloop.debug_import_units i
             where i.source = import_units.source and i.unit_key = u.parent;
        end if;

        insert into debugloop.debug_execution_attempts as a (
            correlation_id, parent_attempt_id, agent_name, agent_type, user_request, approach_description,
            model_used, tools_used, started_at, completed_at, status, usage_raw, error_type, error_message, artifacts)
        values (
            (correlations ->> u.session)::uuid, parent_id, coalesce(nullif(btrim(u.agent), ''), import_units.source),
            coalesce(u.agent_type, import_units.source), u.request, u.approach, nullif(btrim(u.model), ''), u.tools,
            u.started_at, case when u.status <> 'running' then greatest(u.completed_at, u.started_at) end,
            u.status, case when u.status <> 'running' then u.usage end,
            u.error_type, u.error_message, case when u.status <> 'running' then u.artifacts end)
        returning a.attempt_id into new_id;
        insert into debugloop.debug_import_units (source, unit_key, attempt_id, correlation_id, run_id)
        values (import_units.source, u.key, new_id, (correlations ->> u.session)::uuid, import_units.run_id);
        inserted := inserted + 1;
    end loop;
    perform set_config('debugloop.import_retries_only', coalesce(scope, ''), true);

    if file is not null and jsonb_typeof(file) = 'object' then
        insert into debugloop.debug_import_files as f (source, path, byte_offset, line_number, head_md5, state)
        values (import_units.source, file ->> 'path', (file ->> 'byte_offset')::bigint, (file ->> 'line_number')::bigint,
                file ->> 'head_md5', file -> 'state')
        on conflict on constraint debug_import_files_pkey do update
           set byte_offset = excluded.byte_offset, line_number = excluded.line_number, head_md5 = excluded.head_md5,
               state = excluded.state, updated_at = now();
    end if;
end
$$;
comment on function debugloop.import_units(text, uuid, jsonb, jsonb, jsonb)
    is 'Record a batch of agent-log units (API responses, steps) as attempts; idempotent by the log''s own ids.';
revoke execute on function debugloop.import_units(text, uuid, jsonb, jsonb, jsonb) from public;
grant execute on function debugloop.import_units(text, uuid, jsonb, jsonb, jsonb) to debugloop_agent, debugloop_admin;

-- debugloop.import_file_position(source, path): where the last import of a file
-- stopped (byte offset, line number, MD5 of its head, importer state), or no row
-- for a file never imported. Locks: none.
create or replace function debugloop.import_file_position(source text, path text)
returns table (byte_offset bigint, line_number bigint, head_md5 text, state jsonb)
language sql
stable
as $$
    select f.byte_offset, f.line_number, f.head_md5, f.state
      from debugloop.debug_import_files f
     where f.source = import_file_position.source and f.path = import_file_position.path
$$;
comment on function debugloop.import_file_position(text, text) is 'Where the last import of a log file stopped.';

-- debugloop.import_report(run_id): what one import run recorded, per model:
-- sessions, attempts (and how many failed, and are still running), tokens by kind
-- and cost of the attempts it inserted or finished, and the error->success
-- mappings and STFs that came from them. Locks: none.
create or replace function debugloop.import_report(run_id uuid)
returns table (model text, sessions bigint, attempts bigint, errors bigint, running bigint, mappings bigint,
               stfs bigint, input_tokens bigint, output_tokens bigint, cache_read_tokens bigint,
               cache_write_tokens bigint, cache_write_1h_tokens bigint, reasoning_tokens bigint,
               cost_usd numeric, unpriced bigint)
language sql
stable
as $$
    with run as materialized (
        select a.*
          from debugloop.debug_import_units i
          join debugloop.debug_execution_attempts a on a.attempt_id = i.attempt_id
         where i.run_id = import_report.run_id
    )
    select coalesce(r.model_used, '(none)'), count(distinct r.correlation_id), count(*),
           count(*) filter (where r.status in ('error', 'timeout')), count(*) filter (where r.status = 'running'),
           (select count(*) from debugloop.debug_error_success_mappings m
             where m.successful_attempt_id in (select x.attempt_id from run x where x.model_used is not distinct from r.model_used)),
           (select count(distinct p.stf_id) from debugloop.debug_stf_provenance p
             where p.attempt_id in (select x.attempt_id from run x where x.model_used is not distinct from r.model_used)),
           coalesce(sum(r.input_tokens), 0)::bigint, coalesce(sum(r.output_tokens), 0)::bigint,
           coalesce(sum(r.cache_read_tokens), 0)::bigint, coalesce(sum(r.cache_write_tokens), 0)::bigint,
           coalesce(sum(r.cache_write_1h_tokens), 0)::bigint, coalesce(sum(r.reasoning_tokens), 0)::bigint,
           coalesce(sum(r.cost_usd), 0), count(*) filter (where r.cost_status = 'unpriced')
      from run r
     group by r.model_used
     order by coalesce(sum(r.cost_usd), 0) desc, 1
$$;
comment on function debugloop.import_report(uuid) is 'What one import run recorded, per model: attempts, errors, mappings, STFs, tokens by kind, cost.';

-- debugloop.import_cost_differences(source): imported sessions whose log reports
-- its own cost (SWE-agent's instance_cost), with debugloop's cost of the same
-- session beside it and the difference; ours is null when some attempt could not
-- be priced (no model named, or a model missing from the catalog). Locks: none.
create or replace function debugloop.import_cost_differences(source text default null)
returns table (source text, session_key text, correlation_id uuid, path text, model text, reported_cost_usd numeric,
               cost_usd numeric, difference_usd numeric, unpriced bigint)
language sql
stable
as $$
    select s.source, s.session_key, s.correlation_id, s.path, s.model, s.reported_cost_usd,
           case when c.unpriced = 0 then c.cost end, case when c.unpriced = 0 then c.cost - s.reported_cost_usd end,
           c.unpriced
      from debugloop.debug_import_sessions s
      cross join lateral (
          select coalesce(sum(a.cost_usd), 0) as cost, count(*) filter (where a.cost_status = 'unpriced') as unpriced
            from debugloop.debug_execution_attempts a where a.correlation_id = s.correlation_id) c
     where s.reported_cost_usd is not null
       and (import_cost_differences.source is null or s.source = import_cost_differences.source)
     order by s.source, s.session_key
$$;
comment on function debugloop.import_cost_differences(text) is 'Imported sessions that report their own cost, beside debugloop''s cost and the difference.';

-- debugloop.import_sessions(source, limit): imported sessions (or one format's),
-- costliest first: title, file, attempts, failures, retry mappings made, tokens
-- and cost. Locks: none.
create or replace function debugloop.import_sessions(source text default null, "limit" integer default 10)
returns table (source text, session_key text, correlation_id uuid, title text, path text, model text,
               attempts bigint, errors bigint, mappings bigint, tokens bigint, cost_usd numeric,
               reported_cost_usd numeric, first_at timestamptz, last_at timestamptz)
language sql
stable
as $$
    select s.source, s.session_key, s.correlation_id, s.title, s.path, s.model, c.attempts, c.errors,
           (select count(*) from debugloop.debug_error_success_mappings m
             join debugloop.debug_execution_attempts a on a.attempt_id = m.successful_attempt_id
            where a.correlation_id = s.correlation_id),
           c.tokens, c.cost, s.reported_cost_usd, c.first_at, c.last_at
      from debugloop.debug_import_sessions s
      cross join lateral (
          select count(*) as attempts, count(*) filter (where a.status in ('error', 'timeout')) as errors,
                 coalesce(sum(a.tokens_input + a.tokens_output), 0)::bigint as tokens, coalesce(sum(a.cost_usd), 0) as cost,
                 min(a.started_at) as first_at, max(coalesce(a.completed_at, a.started_at)) as last_at
            from debugloop.debug_execution_attempts a where a.correlation_id = s.correlation_id) c
     where import_sessions.source is null or s.source = import_sessions.source
     order by c.cost desc, s.session_key
     limit debugloop._util_limit(coalesce(import_sessions."limit", 10))
$$;
comment on function debugloop.import_sessions(text, integer) is 'Imported sessions, costliest first: attempts, failures, mappings, tokens, cost.';

-- debugloop.import_fixes(source, limit): the errors met in imported logs with the
-- retry that fixed each (error->success mappings whose success is an imported
-- attempt), most confident first. Locks: none.
create or replace function debugloop.import_fixes(source text default null, "limit" integer default 20)
returns table (source text, agent_name text, signature text, error_type text, error_pattern text,
               successful_approach text, success_count integer, failure_count integer, confidence_score numeric,
               successful_attempt_id uuid)
language sql
stable
as $$
    select i.source, a.agent_name, m.signature, m.error_type, m.error_pattern, m.successful_approach,
           m.success_count, m.failure_count, m.confidence_score, m.successful_attempt_id
      from debugloop.debug_error_success_mappings m
      join debugloop.debug_import_units i on i.attempt_id = m.successful_attempt_id
      join debugloop.debug_execution_attempts a on a.attempt_id = m.successful_attempt_id
     where import_fixes.source is null or i.source = import_fixes.source
     order by m.confidence_score desc nulls last, m.success_count desc, m.last_success_at desc
     limit debugloop._util_limit(coalesce(import_fixes."limit", 20))
$$;
comment on function debugloop.import_fixes(text, integer) is 'Errors met in imported logs and the retry that fixed each.';
