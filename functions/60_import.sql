-- import: agent logs (Claude Code, SWE-agent, OpenHands) as attempts.
--
-- The Python importers parse the logs into units (one API response, one step) and
-- send them in batches to import_units, which records each as an attempt through
-- the same triggers as attempt_start/attempt_finish: fingerprint, cost at the
-- catalog's prices, error signature, error->success mappings, STF extraction. The
-- log's own ids are the keys, so importing again adds nothing; a unit imported as
-- running (a tool call whose result was not written yet) holds the usage and cost
-- of its response at once, and is finished when its result arrives. The file's read position commits in the same transaction.

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

-- debugloop._import_may_change(owner): whether the calling role may change an
-- import row that `owner` created: its own, or any as an admin (a member of
-- debugloop_admin; a superuser is a member of every role). Locks: none.
create or replace function debugloop._import_may_change(owner text)
returns boolean
language sql
stable
as $$
    select owner = debugloop._util_caller()::text or pg_has_role(debugloop._util_caller()::text, 'debugloop_admin', 'MEMBER')
$$;

-- debugloop._import_time(unit, i, field): the unit's timestamp `field` (an ISO
-- 8601 string, or null), or DL001 naming `units.<field>` when it is not a finite
-- time. Locks: none.
create or replace function debugloop._import_time(unit jsonb, i bigint, field text)
returns timestamptz
language plpgsql
stable
as $$
declare
    value text := unit ->> field;
    t timestamptz;
begin
    if value is null then
        return null;
    end if;
    if jsonb_typeof(unit -> field) = 'string' and pg_input_is_valid(value, 'timestamptz') then
        t := value::timestamptz;
        if isfinite(t) then
            return t;
        end if;
    end if;
    raise exception 'units[%] (%): % must be a date and time (ISO 8601), got %', i, unit ->> 'key', field, left(unit ->> field, 100)
        using errcode = 'DL001', column = 'units.' || field;
end
$$;

-- debugloop._import_sessions(source, sessions): check and record the sessions of a
-- batch (each {key, correlation_id, path, title, model, reported_cost_usd,
-- reported_usage}); a known session is updated where the batch gives a value, if
-- the calling role created it (or is an admin); for another role's session a value
-- that would change it is DL020 (the path is left as it is). A new session starts
-- a task of its own: a correlation id that another session has is DL001, one that
-- attempts recorded otherwise have is DL020 (unless the caller is an admin).
-- Titles are redacted (util_redact). Raises DL001 naming `sessions.<field>` for a
-- bad value. Locks: the sessions' rows.
create or replace function debugloop._import_sessions(source text, sessions jsonb)
returns void
language plpgsql
volatile
as $$
declare
    s jsonb;
    i bigint;
    bad text;
    cost numeric;
    title text;
    stored debugloop.debug_import_sessions;
    caller text := debugloop._util_caller()::text;
begin
    for s, i in select e, n from jsonb_array_elements(coalesce(sessions, '[]')) with ordinality x(e, n) loop
        if jsonb_typeof(s) <> 'object' then
            raise exception 'sessions[%] must be a JSON object, got %', i, jsonb_typeof(s) using errcode = 'DL001', column = 'sessions';
        end if;
        select f into bad from unnest(array['key', 'correlation_id', 'path', 'title', 'model']) f
         where jsonb_typeof(s -> f) not in ('string', 'null') limit 1;
        if bad is not null then
            raise exception 'sessions[%]: % must be a string, got %', i, bad, jsonb_typeof(s -> bad)
                using errcode = 'DL001', column = 'sessions.' || bad;
        end if;
        if coalesce(btrim(s ->> 'key'), '') = '' then
            raise exception 'sessions[%]: key must not be empty', i using errcode = 'DL001', column = 'sessions.key';
        end if;
        if coalesce(s ->> 'correlation_id', '') !~* '^[0-9a-f]{8}-?([0-9a-f]{4}-?){3}[0-9a-f]{12}$' then
            raise exception 'sessions[%] (%): correlation_id must be a UUID, got %', i, s ->> 'key', coalesce(quote_literal(left(s ->> 'correlation_id', 100)), 'NULL')
                using errcode = 'DL001', column = 'sessions.correlation_id';
        end if;
        cost := null;
        if jsonb_typeof(s -> 'reported_cost_usd') in ('number', 'string') and pg_input_is_valid(s ->> 'reported_cost_usd', 'numeric') then
            cost := (s ->> 'reported_cost_usd')::numeric;
        end if;
        if jsonb_typeof(s -> 'reported_cost_usd') <> 'null'
           and (cost is null or cost < 0 or cost >= 'Infinity'::numeric) then
            raise exception 'sessions[%] (%): reported_cost_usd must be a finite number >= 0, got %', i, s ->> 'key', left(s ->> 'reported_cost_usd', 100)
                using errcode = 'DL001', column = 'sessions.reported_cost_usd';
        end if;
        if jsonb_typeof(s -> 'reported_usage') not in ('object', 'null') then
            raise exception 'sessions[%] (%): reported_usage must be a JSON object, got %', i, s ->> 'key', jsonb_typeof(s -> 'reported_usage')
                using errcode = 'DL001', column = 'sessions.reported_usage';
        end if;
        title := debugloop.util_redact(s ->> 'title');
        if not exists (select from debugloop.debug_import_sessions t
                        where t.source = _import_sessions.source and t.session_key = s ->> 'key') then
            -- a new session starts a task of its own: it may not join another session's or agent's attempts
            select t.session_key into bad from debugloop.debug_import_sessions t
             where t.correlation_id = (s ->> 'correlation_id')::uuid;
            if bad is not null then
                raise exception 'sessions[%] (%): correlation_id % is already the correlation of session %', i, s ->> 'key',
                    s ->> 'correlation_id', bad
                    using errcode = 'DL001', column = 'sessions.correlation_id';
            end if;
            if exists (select from debugloop.debug_execution_attempts a where a.correlation_id = (s ->> 'correlation_id')::uuid)
               and not pg_has_role(caller, 'debugloop_admin', 'MEMBER') then
                raise exception 'sessions[%] (%): correlation_id % names attempts recorded before; % cannot import units into them',
                    i, s ->> 'key', s ->> 'correlation_id', caller
                    using errcode = 'DL020', column = 'sessions.correlation_id',
                          hint = 'a new session needs a correlation id of its own';
            end if;
        end if;

        insert into debugloop.debug_import_sessions as t (
            source, session_key, correlation_id, path, title, model, reported_cost_usd, reported_usage, created_by)
        values (_import_sessions.source, s ->> 'key', (s ->> 'correlation_id')::uuid, s ->> 'path', title, s ->> 'model',
                cost, nullif(s -> 'reported_usage', 'null'), caller)
        on conflict on constraint debug_import_sessions_pkey do update
           set path = coalesce(excluded.path, t.path), title = coalesce(excluded.title, t.title),
               model = coalesce(excluded.model, t.model),
               reported_cost_usd = coalesce(excluded.reported_cost_usd, t.reported_cost_usd),
               reported_usage = coalesce(excluded.reported_usage, t.reported_usage), updated_at = now()
         where debugloop._import_may_change(t.created_by)
        returning * into stored;
        if stored.session_key is not null then
            continue;
        end if;
        -- another role's session (locked by the upsert): refused only where the batch would change it
        select * into stored from debugloop.debug_import_sessions t
         where t.source = _import_sessions.source and t.session_key = s ->> 'key';
        select f into bad
          from (values ('title', title is distinct from stored.title and title is not null),
                       ('model', s ->> 'model' is distinct from stored.model and s ->> 'model' is not null),
                       ('reported_cost_usd', cost is distinct from stored.reported_cost_usd and cost is not null),
                       ('reported_usage', nullif(s -> 'reported_usage', 'null') is distinct from stored.reported_usage
                                          and nullif(s -> 'reported_usage', 'null') is not null)) c(f, changed)
         where changed limit 1;
        if bad is not null then
            raise exception 'sessions[%] (%): the session was imported by role %; % cannot change its %', i, s ->> 'key',
                stored.created_by, caller, bad
                using errcode = 'DL020', column = 'sessions.' || bad,
                      hint = 'only the role that imported a session, or an admin, may change it';
        end if;
    end loop;
end
$$;

-- debugloop._import_position(source, file): record a file's read position after a
-- batch ({path, byte_offset, line_number, head_md5, state}) as the calling role's
-- own: each role keeps its own positions, so no role moves another's. The state's
-- texts are redacted (util_redact). Raises DL001 naming `file.<field>` for a bad
-- value. Locks: the position's row.
create or replace function debugloop._import_position(source text, file jsonb)
returns void
language plpgsql
volatile
as $$
declare
    bad text;
    state text;
begin
    if jsonb_typeof(file) <> 'object' then
        raise exception 'file must be a JSON object, got %', jsonb_typeof(file) using errcode = 'DL001', column = 'file';
    end if;
    if jsonb_typeof(file -> 'path') is distinct from 'string' or btrim(file ->> 'path') = '' then
        raise exception 'file.path must be a non-empty string' using errcode = 'DL001', column = 'file.path';
    end if;
    select f into bad from unnest(array['byte_offset', 'line_number']) f
     where case when jsonb_typeof(file -> f) = 'number'
                then (file ->> f)::numeric < 0 or (file ->> f)::numeric <> trunc((file ->> f)::numeric)
                     or (file ->> f)::numeric > 9223372036854775807
                else true end
     limit 1;
    if bad is not null then
        raise exception 'file.% must be a whole number >= 0, got %', bad, coalesce(left(file ->> bad, 100), 'NULL')
            using errcode = 'DL001', column = 'file.' || bad;
    end if;
    if jsonb_typeof(file -> 'head_md5') not in ('string', 'null') or jsonb_typeof(file -> 'state') not in ('object', 'null') then
        raise exception 'file.head_md5 must be a string and file.state a JSON object'
            using errcode = 'DL001', column = case when jsonb_typeof(file -> 'head_md5') not in ('string', 'null')
                                                   then 'file.head_md5' else 'file.state' end;
    end if;
    state := debugloop.util_redact(nullif(file -> 'state', 'null')::text);
    insert into debugloop.debug_import_files as f (source, path, created_by, byte_offset, line_number, head_md5, state)
    values (_import_position.source, file ->> 'path', debugloop._util_caller()::text, (file ->> 'byte_offset')::bigint,
            (file ->> 'line_number')::bigint, file ->> 'head_md5', state::jsonb)
    on conflict on constraint debug_import_files_pkey do update
       set byte_offset = excluded.byte_offset, line_number = excluded.line_number, head_md5 = excluded.head_md5,
           state = excluded.state, updated_at = now();
end
$$;

-- debugloop.import_units(source, run_id, sessions, units, file): record a batch of
-- log units as attempts, in order, and return how many were inserted, finished
-- (imported as running before) and already known. `sessions` is an array of
-- {key, correlation_id, path, title, model, reported_cost_usd, reported_usage}
-- (_import_sessions); `units` an array of {key, session, parent (a unit key),
-- agent, agent_type, request, model, approach, tools, started_at, completed_at,
-- status (running, success, error, timeout, cancelled), usage, error_type,
-- error_message, artifacts}; `file` (optional) {path, byte_offset, line_number,
-- head_md5, state} is the calling role's read position after this batch
-- (_import_position). Within the call a success maps only the errors of its
-- retry ancestry (debugloop.import_retries_only). What an import creates belongs
-- to the calling role: another role's unit is never finished (DL020, units.status)
-- and another role's session takes no new units (DL020, units.session), unless
-- the caller is an admin. Texts are redacted as they are stored (util_redact, by
-- the attempts' trigger). Any error while recording a unit, whoever raises it (a
-- bad usage's DL005, a trigger), names the unit: its message starts with
-- `units[N] (key):` and COLUMN is `units.<field>`, so that a client can drop that
-- unit and send the rest again. Raises DL001 naming the unit and field for bad
-- input, DL002 for a unit whose session is not known; then nothing of the batch
-- is kept. Locks: the rows it inserts or finishes, the sessions and position it
-- writes.
create or replace function debugloop.import_units(
    source text, run_id uuid, sessions jsonb, units jsonb, file jsonb default null,
    out inserted integer, out finished integer, out duplicates integer)
language plpgsql
volatile
security definer
set search_path = debugloop, pg_catalog, pg_temp
as $$
declare
    u jsonb;
    i bigint;
    bad text;
    status text;
    request text;
    started timestamptz;
    completed timestamptz;
    correlations jsonb;
    existing record;
    parent_id uuid;
    new_id uuid;
    caller text := debugloop._util_caller()::text;
    scope text := current_setting('debugloop.import_retries_only', true);
    deferred text := current_setting('debugloop.learn_deferred', true);
    err_state text;
    err_message text;
    err_detail text;
    err_hint text;
    err_column text;
begin
    perform debugloop._import_check_source(source);
    if run_id is null then
        raise exception 'run_id must not be null' using errcode = 'DL001', column = 'run_id';
    end if;
    if coalesce(jsonb_typeof(sessions), 'array') <> 'array' or coalesce(jsonb_typeof(units), 'array') <> 'array' then
        raise exception 'sessions and units must be JSON arrays'
            using errcode = 'DL001', column = case when coalesce(jsonb_typeof(sessions), 'array') <> 'array' then 'sessions' else 'units' end;
    end if;
    inserted := 0; finished := 0; duplicates := 0;

    perform debugloop._import_sessions(source, sessions);

    select coalesce(jsonb_object_agg(s.session_key, jsonb_build_array(s.correlation_id, s.created_by)), '{}') into correlations
      from debugloop.debug_import_sessions s
     where s.source = import_units.source
       and s.session_key in (select e ->> 'session' from jsonb_array_elements(coalesce(units, '[]')) e);

    perform set_config('debugloop.import_retries_only', 'on', true);
    if debugloop.settings_flag('import_defer_learning') then
        perform set_config('debugloop.learn_deferred', 'on', true);
    end if;
    begin
        for u, i in select e, n from jsonb_array_elements(coalesce(units, '[]')) with ordinality x(e, n) loop
            if jsonb_typeof(u) <> 'object' then
                raise exception 'units[%] must be a JSON object, got %', i, jsonb_typeof(u) using errcode = 'DL001', column = 'units';
            end if;
            select f into bad
              from unnest(array['key', 'session', 'parent', 'agent', 'agent_type', 'request', 'model', 'approach',
                                'status', 'error_type', 'error_message']) f
             where jsonb_typeof(u -> f) not in ('string', 'null') limit 1;
            if bad is null then
                select f into bad from (values ('tools', 'array'), ('artifacts', 'object')) t(f, kind)
                 where jsonb_typeof(u -> f) not in (kind, 'null') limit 1;
            end if;
            if bad is not null then
                raise exception 'units[%] (%): % must be %, got %', i, left(u ->> 'key', 200), bad,
                    case bad when 'tools' then 'a JSON array' when 'artifacts' then 'a JSON object' else 'a string' end,
                    jsonb_typeof(u -> bad)
                    using errcode = 'DL001', column = 'units.' || bad;
            end if;
            if length(u ->> 'model') > 256 then  -- the rule of price_lookup's model names
                raise exception 'units[%] (%): model must be at most 256 characters, got %', i, left(u ->> 'key', 200),
                    length(u ->> 'model') using errcode = 'DL001', column = 'units.model';
            end if;
            if coalesce(btrim(u ->> 'key'), '') = '' then
                raise exception 'units[%].key must not be empty', i using errcode = 'DL001', column = 'units.key';
            end if;
            status := u ->> 'status';
            if status is null or status not in ('running', 'success', 'error', 'timeout', 'cancelled') then
                raise exception 'units[%] (%): status must be running, success, error, timeout or cancelled, got %',
                    i, u ->> 'key', coalesce(quote_literal(left(status, 100)), 'NULL') using errcode = 'DL001', column = 'units.status';
            end if;
            request := u ->> 'request';
            if request is null or btrim(request) = '' then
                raise exception 'units[%] (%): request must not be empty', i, u ->> 'key' using errcode = 'DL001', column = 'units.request';
            end if;
            started := debugloop._import_time(u, i, 'started_at');
            completed := debugloop._import_time(u, i, 'completed_at');
            if started is null then
                raise exception 'units[%] (%): started_at is required', i, u ->> 'key' using errcode = 'DL001', column = 'units.started_at';
            end if;

            select a.attempt_id, a.status, iu.created_by into existing
              from debugloop.debug_import_units iu
              join debugloop.debug_execution_attempts a on a.attempt_id = iu.attempt_id
             where iu.source = import_units.source and iu.unit_key = u ->> 'key';
            if found then
                if existing.status = 'running' and status <> 'running' then
                    if not debugloop._import_may_change(existing.created_by) then
                        raise exception 'units[%] (%): the unit was imported as running by role %; % cannot finish it',
                            i, u ->> 'key', existing.created_by, caller
                            using errcode = 'DL020', column = 'units.status',
                                  hint = 'only the role that imported a unit, or an admin, may finish it';
                    end if;
                    -- the unit is one response: its usage, held so far, is replaced by the final one
                    update debugloop.debug_execution_attempts a set usage_raw = nullif(u -> 'usage', 'null')
                     where a.attempt_id = existing.attempt_id and a.usage_raw is distinct from nullif(u -> 'usage', 'null');
                    perform debugloop.attempt_finish(existing.attempt_id, status, null,
                                                     u ->> 'error_type', u ->> 'error_message', null, null,
                                                     nullif(u -> 'artifacts', 'null'), u ->> 'model',
                                                     greatest(completed, started), null, nullif(u -> 'tools', 'null'));
                    update debugloop.debug_import_units iu set run_id = import_units.run_id
                     where iu.source = import_units.source and iu.unit_key = u ->> 'key';
                    finished := finished + 1;
                else
                    duplicates := duplicates + 1;
                end if;
                continue;
            end if;

            if correlations -> (u ->> 'session') is null then
                raise exception 'units[%] (%): session % is not known', i, u ->> 'key', coalesce(quote_literal(u ->> 'session'), 'NULL')
                    using errcode = 'DL002', column = 'units.session',
                          hint = 'send the session in `sessions` with its first batch';
            end if;
            if not debugloop._import_may_change(correlations -> (u ->> 'session') ->> 1) then
                raise exception 'units[%] (%): session % was imported by role %; % cannot add units to it',
                    i, u ->> 'key', u ->> 'session', correlations -> (u ->> 'session') ->> 1, caller
                    using errcode = 'DL020', column = 'units.session',
                          hint = 'only the role that imported a session, or an admin, may add units to it';
            end if;
            parent_id := null;
            if u ->> 'parent' is not null then
                select iu.attempt_id into parent_id
                  from debugloop.debug_import_units iu
                 where iu.source = import_units.source and iu.unit_key = u ->> 'parent';
            end if;

            insert into debugloop.debug_execution_attempts as a (
                correlation_id, parent_attempt_id, agent_name, agent_type, user_request, approach_description,
                model_used, tools_used, started_at, completed_at, status, usage_raw, error_type, error_message, artifacts)
            values (
                (correlations -> (u ->> 'session') ->> 0)::uuid, parent_id,
                coalesce(nullif(btrim(u ->> 'agent'), ''), import_units.source),
                coalesce(u ->> 'agent_type', import_units.source), request, u ->> 'approach',
                nullif(btrim(u ->> 'model'), ''), nullif(u -> 'tools', 'null'),
                started, case when status <> 'running' then greatest(completed, started) end,
                status, nullif(u -> 'usage', 'null'),
                u ->> 'error_type', u ->> 'error_message',
                case when status <> 'running' then nullif(u -> 'artifacts', 'null') end)
            returning a.attempt_id into new_id;
            insert into debugloop.debug_import_units (source, unit_key, attempt_id, correlation_id, run_id, created_by)
            values (import_units.source, u ->> 'key', new_id, (correlations -> (u ->> 'session') ->> 0)::uuid,
                    import_units.run_id, caller);
            inserted := inserted + 1;
        end loop;
    exception when others then
        -- name the unit whatever raised the error (a usage's DL005, a trigger, a cast)
        get stacked diagnostics err_state = returned_sqlstate, err_message = message_text, err_detail = pg_exception_detail,
                                err_hint = pg_exception_hint, err_column = column_name;
        raise exception using
            errcode = err_state,
            message = case when err_message like 'units[%' then err_message
                           else format('units[%s] (%s): %s', i, left(u ->> 'key', 200), err_message) end,
            detail = err_detail, hint = err_hint,
            column = case when coalesce(err_column, '') = '' then 'units'
                          when err_column like 'units%' then err_column else 'units.' || err_column end;
    end;
    perform set_config('debugloop.import_retries_only', coalesce(scope, ''), true);
    perform set_config('debugloop.learn_deferred', coalesce(deferred, ''), true);

    if file is not null and jsonb_typeof(file) <> 'null' then
        perform debugloop._import_position(source, file);
    end if;
end
$$;
comment on function debugloop.import_units(text, uuid, jsonb, jsonb, jsonb)
    is 'Record a batch of agent-log units (API responses, steps) as attempts; idempotent by the log''s own ids.';
revoke execute on function debugloop.import_units(text, uuid, jsonb, jsonb, jsonb) from public;
grant execute on function debugloop.import_units(text, uuid, jsonb, jsonb, jsonb) to debugloop_agent, debugloop_admin;

-- debugloop.import_file_position(source, path): where the calling role's last
-- import of a file stopped (byte offset, line number, MD5 of its head, importer
-- state), or no row for a file it never imported. Locks: none.
create or replace function debugloop.import_file_position(source text, path text)
returns table (byte_offset bigint, line_number bigint, head_md5 text, state jsonb)
language sql
stable
as $$
    select f.byte_offset, f.line_number, f.head_md5, f.state
      from debugloop.debug_import_files f
     where f.source = import_file_position.source and f.path = import_file_position.path
       and f.created_by = debugloop._util_caller()::text
$$;
comment on function debugloop.import_file_position(text, text) is 'Where the calling role''s last import of a log file stopped.';

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
