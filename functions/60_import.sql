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
set search_path = debugloop, pg_catalog, pg_temp
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
     limit greatest(coalesce(import_sessions."limit", 10), 0)
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
     limit greatest(coalesce(import_fixes."limit", 20), 0)
$$;
comment on function debugloop.import_fixes(text, integer) is 'Errors met in imported logs and the retry that fixed each.';
