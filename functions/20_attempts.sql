-- attempts: recording agent attempts, their chains, similar problems and estimates.
--
-- Writes go through SECURITY DEFINER functions granted to debugloop_agent (record);
-- no role writes the table directly. The triggers of debug_execution_attempts hand
-- each row to the _attempt_set_* and _attempt_add_* functions below (and to those
-- of the other domains); the cost of a finished attempt is the pricing domain's
-- (_price_set_attempt_cost, price_reprice).

-- debugloop._similar_problems(fingerprint, probe, k): the problems (distinct
-- requests, debug_problems) like the one with this fingerprint and embedding
-- (util_embed_semantic of its text): the request itself first when it is known,
-- similarity 1, then up to k nearest by cosine similarity of their embeddings
-- (HNSW), at least the setting problem_min_similarity. Why: one meaning of
-- "similar problems" for known failures, estimates, golden states and the
-- manifest. Locks: none.
create or replace function debugloop._similar_problems(fingerprint text, probe debugloop.halfvec, k integer)
returns table (user_request_hash text, similarity real)
language plpgsql
stable
as $$
-- PL/pgSQL, not SQL: an inlined SQL function would evaluate an argument such as
-- util_embed_semantic(problem) once per row it is used in
declare
    floor real := debugloop._settings_number('problem_min_similarity')::real;
begin
    return query
    select p.user_request_hash, 1::real
      from debugloop.debug_problems p
     where p.user_request_hash = fingerprint
    union all
    select n.user_request_hash, n.similarity
      from (select p.user_request_hash, (1 - (p.embedding operator(debugloop.<=>) probe))::real as similarity
              from debugloop.debug_problems p
             where probe is not null and p.user_request_hash <> fingerprint
             order by p.embedding operator(debugloop.<=>) probe
             limit k) n
     where n.similarity >= floor;
end
$$;

-- debugloop._problem_probe(fingerprint, problem): the embedding a problem is
-- compared by: the one debug_problems holds for its fingerprint (the request is
-- then known and embedded already), else util_embed_semantic of its text (by
-- meaning, issue 16). Locks: none.
create or replace function debugloop._problem_probe(fingerprint text, problem text)
returns debugloop.halfvec
language sql
stable
as $$
    select coalesce((select p.embedding from debugloop.debug_problems p where p.user_request_hash = fingerprint),
                    debugloop.util_embed_semantic(problem))
$$;

-- debugloop._problem_neighbours(problem): the fingerprint and embedding (probe,
-- _problem_probe) of a problem, and the fingerprints of its similar problems (_similar_problems,
-- as many as the setting problem_similar_limit), most similar first, its own left
-- out (it need not be known). Locks: none.
create or replace function debugloop._problem_neighbours(problem text, out fingerprint text, out probe debugloop.halfvec,
                                                         out similar_hashes text[])
language sql
stable
as $$
    select f.fp, f.probe,
           (select coalesce(array_agg(s.user_request_hash order by s.similarity desc), '{}')
              from debugloop._similar_problems(f.fp, f.probe,
                                               debugloop._settings_number('problem_similar_limit')::integer) s
             where s.user_request_hash <> f.fp)
      -- materialized: the probe is found once, not once per use of f.probe
      from (with f as materialized (
                select h.fp, debugloop._problem_probe(h.fp, problem) as probe
                  from (select debugloop.util_fingerprint(problem) as fp) h)
            select * from f) f
$$;

-- debugloop._related_attempts(fingerprints, per_problem): the latest attempts at
-- each of these requests (by fingerprint), at most per_problem of each. Why: what
-- happened at a problem and its similar ones, read through the fingerprint index
-- however many attempts the table holds. Locks: none.
create or replace function debugloop._related_attempts(fingerprints text[], per_problem integer default 100)
returns setof debugloop.debug_execution_attempts
language sql
stable
as $$
    select r.*
      from unnest(fingerprints) f(fp)
     cross join lateral (select * from debugloop.debug_execution_attempts a
                          where a.user_request_hash = f.fp
                          order by a.started_at desc
                          limit per_problem) r
$$;

-- debugloop.attempt_similar_problems(problem, k): the requests agents were given
-- that are like this one: the same request (by fingerprint) first, then the most
-- similar (cosine similarity of util_embed_semantic, at least problem_min_similarity), each
-- with its attempts and successes so far. Raises DL001 for an empty problem or k
-- outside 1..40. Locks: none.
create or replace function debugloop.attempt_similar_problems(problem text, k integer default 10)
returns table (user_request_hash text, user_request text, similarity real, attempts bigint, successes bigint)
language plpgsql
stable
as $$
begin
    perform debugloop._util_check_problem(problem, k, 40);
    return query
    select s.user_request_hash, p.user_request, s.similarity, c.attempts, c.successes
      from debugloop._problem_neighbours(problem) n,
           debugloop._similar_problems(n.fingerprint, n.probe, k) s
      join debugloop.debug_problems p on p.user_request_hash = s.user_request_hash
     cross join lateral (select count(*) as attempts, count(*) filter (where a.status = 'success') as successes
                           from debugloop.debug_execution_attempts a
                          where a.user_request_hash = s.user_request_hash) c
     order by s.similarity desc, s.user_request_hash
     limit k;
end
$$;
comment on function debugloop.attempt_similar_problems(text, integer) is 'Requests like this one (same fingerprint first, then by embedding similarity), with their attempts and successes.';

-- debugloop._attempt_estimate(model, fingerprint, similar_hashes): token and cost
-- percentiles of finished attempts with usage: the latest 100 with this request
-- fingerprint (any model), else the latest at the similar problems (fingerprints,
-- most similar first; _problem_neighbours), 50 in all. Costs are for `model` at
-- today's prices, all prompt tokens taken as uncached input; null when the model
-- has no price (_price_uncached). PL/pgSQL with a generic plan: planning the
-- query anew for each call's values cost 0.3 ms, four times running it. Locks:
-- none.
create or replace function debugloop._attempt_estimate(model text, fingerprint text, similar_hashes text[])
returns debugloop.cost_estimate_result
language plpgsql
stable
set plan_cache_mode = force_generic_plan
as $$
declare
    result debugloop.cost_estimate_result;
begin
    with same as (
        select a.tokens_input, a.tokens_output
          from debugloop.debug_execution_attempts a
         where a.user_request_hash = fingerprint and a.tokens_input is not null
         order by a.started_at desc
         limit 100
    ), alike as (
        select a.tokens_input, a.tokens_output
          from unnest(similar_hashes) with ordinality s(fp, ord)
         cross join lateral (select a.tokens_input, a.tokens_output, a.started_at
                               from debugloop.debug_execution_attempts a
                              where a.user_request_hash = s.fp and a.tokens_input is not null
                              order by a.started_at desc
                              limit 50) a
         where not exists (select from same)
         order by s.ord, a.started_at desc
         limit 50
    ), pool as (
        select *, 'fingerprint' as basis from same
        union all
        select *, 'similar' from alike
    ), stats as (
        select coalesce(min(s.basis), 'none') as basis, count(*)::integer as samples,
               percentile_disc(0.5) within group (order by s.tokens_input) as in50,
               percentile_disc(0.9) within group (order by s.tokens_input) as in90,
               percentile_disc(0.5) within group (order by s.tokens_output) as out50,
               percentile_disc(0.9) within group (order by s.tokens_output) as out90
          from pool s
    )
    select st.basis, st.samples, st.in50, st.in90, st.out50, st.out90,
           case when p.catalog_id is not null then debugloop._price_uncached(p, st.in50, st.out50) end,
           case when p.catalog_id is not null then debugloop._price_uncached(p, st.in90, st.out90) end
      from stats st
      -- in FROM, so called once and not once per column; not at all without samples
      left join lateral (select * from debugloop.price_lookup(model, now()) where st.samples > 0) p on true
      into result;
    return result;
end
$$;

-- debugloop.attempt_estimate(user_request, model): what a request is
-- likely to cost with `model`, from the token counts of past attempts: those with
-- the same fingerprint first, else those at similar problems. Returns the basis
-- (fingerprint, similar or none), the number of samples, p50/p90 token counts and
-- p50/p90 cost (null when the model has no price). Locks: none.
create or replace function debugloop.attempt_estimate(user_request text, model text)
returns debugloop.cost_estimate_result
language sql
stable
as $$
    select debugloop._attempt_estimate(model, n.fingerprint, n.similar_hashes)
      from debugloop._problem_neighbours(user_request) n
$$;
comment on function debugloop.attempt_estimate(text, text) is 'p50/p90 tokens and cost of a request for a model, from past attempts with the same fingerprint or at similar problems.';

-- debugloop._attempt_set_recorded_by(attempt): the attempt with recorded_by set
-- to the calling role (debugloop._util_caller: SET ROLE, else the login; not the
-- owner of the SECURITY DEFINER function that inserts it). Why: what a role
-- records is its own claim; evidence from other peers is what counts for others
-- (golden states). Locks: none.
create or replace function debugloop._attempt_set_recorded_by(attempt debugloop.debug_execution_attempts)
returns debugloop.debug_execution_attempts
language plpgsql
stable
as $$
begin
    attempt.recorded_by := debugloop._util_caller();
    return attempt;
end
$$;

-- debugloop._attempt_set_fingerprint(attempt): the attempt with its request
-- fingerprint and approach hash (util_fingerprint) in step with their texts; an
-- attempt without an approach description has no approach hash. Locks: none.
create or replace function debugloop._attempt_set_fingerprint(attempt debugloop.debug_execution_attempts)
returns debugloop.debug_execution_attempts
language plpgsql
immutable
as $$
begin
    attempt.user_request_hash := debugloop.util_fingerprint(attempt.user_request);
    attempt.approach_hash := case when attempt.approach_description is not null
                                  then debugloop.util_fingerprint(attempt.approach_description) end;
    return attempt;
end
$$;

-- debugloop._attempt_redact(attempt): the attempt with the secrets in its texts
-- redacted (util_redact): the request, the approach, the error's type, message and
-- stack trace, and the strings of its artefacts (as code: quoted values only). Runs
-- before the fingerprint and the error signature are computed, so that neither,
-- nor anything built from the row (problems, mappings, STFs, manifests, exports),
-- can show a secret. Locks: none.
create or replace function debugloop._attempt_redact(attempt debugloop.debug_execution_attempts)
returns debugloop.debug_execution_attempts
language plpgsql
immutable
as $$
declare
    artifacts text := attempt.artifacts::text;
    redacted text;
begin
    -- one scan of all the texts first: most hold nothing to redact
    if debugloop._util_may_hold_secret(concat_ws(' ', attempt.user_request, attempt.approach_description,
                                                 attempt.error_type, attempt.error_message, attempt.error_stacktrace)) then
        attempt.user_request := debugloop.util_redact(attempt.user_request);
        attempt.approach_description := debugloop.util_redact(attempt.approach_description);
        attempt.error_type := debugloop.util_redact(attempt.error_type);
        attempt.error_message := debugloop.util_redact(attempt.error_message);
        attempt.error_stacktrace := debugloop.util_redact(attempt.error_stacktrace);
    end if;
    if debugloop._util_may_hold_secret(artifacts) then
        redacted := debugloop.util_redact(artifacts, true);
        if redacted <> artifacts then
            attempt.artifacts := redacted::jsonb;
        end if;
    end if;
    return attempt;
end
$$;

-- debugloop._attempt_add_problem(attempt): a request never seen before (by
-- fingerprint) enters debug_problems with its embedding, so that later problems
-- find it as a similar one. A known request costs one index probe. Locks: none (a
-- concurrent insert of the same request is ignored).
create or replace function debugloop._attempt_add_problem(attempt debugloop.debug_execution_attempts)
returns void
language plpgsql
volatile
as $$
begin
    if not exists (select from debugloop.debug_problems p where p.user_request_hash = attempt.user_request_hash) then
        insert into debugloop.debug_problems (user_request_hash, user_request, problem_category, embedding, first_seen_at)
        values (attempt.user_request_hash, attempt.user_request, attempt.problem_category,
                debugloop.util_embed_semantic(attempt.user_request), attempt.started_at)
        on conflict (user_request_hash) do nothing;
    end if;
end
$$;

-- debugloop._attempt_set_estimate(attempt): a starting attempt with its
-- estimated_cost_usd, unless it has one: the p50 cost, for its model, of earlier
-- attempts at the same request (by fingerprint; _attempt_estimate). No model, no
-- estimate; a request debug_problems does not know yet has no earlier attempts
-- (every attempt's insert enters its request there, _attempt_add_problem), so it
-- is not searched for them. Locks: none.
create or replace function debugloop._attempt_set_estimate(attempt debugloop.debug_execution_attempts)
returns debugloop.debug_execution_attempts
language plpgsql
stable
as $$
begin
    if attempt.estimated_cost_usd is null and attempt.model_used is not null
       and exists (select from debugloop.debug_problems p where p.user_request_hash = attempt.user_request_hash) then
        select e.cost_p50_usd into attempt.estimated_cost_usd
          from debugloop._attempt_estimate(attempt.model_used, attempt.user_request_hash, null) e;
    end if;
    return attempt;
end
$$;

-- debugloop._attempt_set_completion(attempt): a finishing attempt with its
-- completion time (now when not given, never before its start), its duration, and
-- its canonical usage and cost (_price_set_attempt_cost). Raises DL005 for bad
-- usage. Locks: none (reads the price catalog).
create or replace function debugloop._attempt_set_completion(attempt debugloop.debug_execution_attempts)
returns debugloop.debug_execution_attempts
language plpgsql
stable
as $$
begin
    attempt.completed_at := coalesce(attempt.completed_at, greatest(now(), attempt.started_at));
    attempt.duration_ms := round(extract(epoch from attempt.completed_at - attempt.started_at) * 1000);
    return debugloop._price_set_attempt_cost(attempt);
end
$$;

-- debugloop._attempt_usage_add(recorded, more): the usage of an attempt's
-- requests so far followed by `more` (each an object or an array of requests;
-- null adds nothing). Why: usage recorded while an attempt runs, and at its
-- finish, adds up; nothing is counted twice or dropped. Locks: none.
create or replace function debugloop._attempt_usage_add(recorded jsonb, more jsonb)
returns jsonb
language sql
immutable
as $$
    select case when coalesce(jsonb_typeof(more), 'null') = 'null' then recorded
                when coalesce(jsonb_typeof(recorded), 'null') = 'null' then more
                else (case when jsonb_typeof(recorded) = 'array' then recorded else jsonb_build_array(recorded) end)
                  || (case when jsonb_typeof(more) = 'array' then more else jsonb_build_array(more) end) end
$$;

-- debugloop._attempt_set_usage_so_far(attempt): a running attempt with the usage
-- of the responses recorded so far in canonical form and their cost at the price
-- version in force at its start ('priced_so_far': it may grow;
-- _price_set_attempt_cost). Why: tokens are spent when a response is written, not
-- when the attempt ends, so every report and total counts them at once. Raises
-- DL005 and DL045 for bad usage. Locks: none (reads the price catalog).
create or replace function debugloop._attempt_set_usage_so_far(attempt debugloop.debug_execution_attempts)
returns debugloop.debug_execution_attempts
language plpgsql
stable
as $$
begin
    return debugloop._price_set_attempt_cost(attempt);
end
$$;

-- debugloop._attempt_lock_running(attempt_id, final): the row of a running
-- attempt, locked for the change the caller makes. Raises DL002 for an unknown
-- attempt, DL007 for a finished one (`final` says what that means for the call).
-- Why: recording usage and finishing need the same running row. Locks: the
-- attempt's row (FOR UPDATE).
create or replace function debugloop._attempt_lock_running(attempt_id uuid, final text)
returns debugloop.debug_execution_attempts
language plpgsql
volatile
as $$
declare
    attempt debugloop.debug_execution_attempts;
begin
    select * into attempt from debugloop.debug_execution_attempts a where a.attempt_id = _attempt_lock_running.attempt_id for update;
    if not found then
        raise exception 'attempt % does not exist', coalesce(_attempt_lock_running.attempt_id::text, 'NULL')
            using errcode = 'DL002', column = 'attempt_id';
    end if;
    if attempt.status <> 'running' then
        raise exception 'attempt % is already finished', attempt.attempt_id
            using errcode = 'DL007', column = 'attempt_id',
                  detail = format('it ended with status %s at %s%s', attempt.status, attempt.completed_at, final);
    end if;
    return attempt;
end
$$;

-- debugloop.attempt_record_usage(attempt_id, usage): add the usage of LLM calls
-- (a usage object, a whole response, or an array of them) to a running attempt,
-- which holds their cost at once (cost_status 'priced_so_far'); attempt_finish
-- later adds only what it is given. Raises DL002 for an unknown attempt, DL007 for
-- a finished one, DL005 and DL045 for bad usage (then nothing is added). Locks:
-- the attempt's row.
create or replace function debugloop.attempt_record_usage(attempt_id uuid, usage jsonb)
returns debugloop.debug_execution_attempts
language plpgsql
volatile
security definer
set search_path = debugloop, pg_catalog, pg_temp
as $$
declare
    attempt debugloop.debug_execution_attempts;
begin
    attempt := debugloop._attempt_lock_running(attempt_record_usage.attempt_id, '; its usage is final');
    if coalesce(jsonb_typeof(usage), 'null') = 'null' then
        return attempt;
    end if;
    perform debugloop.price_usage_normalize(usage);  -- DL005/DL045 before anything changes
    update debugloop.debug_execution_attempts a
       set usage_raw = debugloop._attempt_usage_add(a.usage_raw, attempt_record_usage.usage)
     where a.attempt_id = attempt.attempt_id
    returning a.* into attempt;
    return attempt;
end
$$;
comment on function debugloop.attempt_record_usage(uuid, jsonb)
    is 'Add the usage of LLM calls to a running attempt, which holds their cost at once (priced_so_far).';
revoke execute on function debugloop.attempt_record_usage(uuid, jsonb) from public;
grant execute on function debugloop.attempt_record_usage(uuid, jsonb) to debugloop_agent, debugloop_admin;

-- debugloop.attempt_start(...): record that an agent starts an attempt; returns
-- its id. A retry names its parent, which must exist (DL002) and share the
-- correlation id (DL008); without a correlation id the attempt joins its parent's
-- chain, or starts a new one. The insert triggers add the request fingerprint and
-- the estimated cost. Raises DL001 for an empty agent name or request, a model
-- name longer than 256 characters, a started_at that is not a finite time from
-- 1970 to a day from now. With enable_token_spending on, the attempt's peer
-- reserves its cost first (_spending_attempt_start: estimate_usd, else the p90 of
-- similar requests, else the model's maximum output); DL075 or DL076 refuse it
-- before anything is written. Locks: inserts one row; reads the parent row; the
-- reservation's locks (spending_reserve).
create or replace function debugloop.attempt_start(
    agent_name text,
    user_request text,
    model text,
    correlation_id uuid default null,
    parent_attempt_id uuid default null,
    agent_type text default null,
    problem_category text default null,
    approach_description text default null,
    execution_id uuid default null,
    tools_used jsonb default null,
    stf_ids uuid[] default null,
    started_at timestamptz default null,
    estimate_usd numeric default null
)
returns uuid
language plpgsql
volatile
security definer
set search_path = debugloop, pg_catalog, pg_temp
as $$
declare
    parent debugloop.debug_execution_attempts;
    chain uuid := attempt_start.correlation_id;
    new_id uuid := gen_random_uuid();
begin
    if agent_name is null or btrim(agent_name) = '' then
        raise exception 'agent_name must not be empty' using errcode = 'DL001', column = 'agent_name';
    end if;
    if user_request is null or btrim(user_request) = '' then
        raise exception 'user_request must not be empty' using errcode = 'DL001', column = 'user_request';
    end if;
    perform debugloop._price_check_model(model, 'model');
    perform debugloop._util_check_time(started_at, 'started_at', now() + interval '1 day');
    if parent_attempt_id is not null then
        select * into parent from debugloop.debug_execution_attempts a where a.attempt_id = attempt_start.parent_attempt_id;
        if not found then
            raise exception 'parent attempt % does not exist', parent_attempt_id
                using errcode = 'DL002', column = 'parent_attempt_id';
        end if;
        if chain is null then
            chain := parent.correlation_id;
        elsif chain <> parent.correlation_id then
            raise exception 'parent attempt % belongs to correlation %, not %', parent_attempt_id, parent.correlation_id, chain
                using errcode = 'DL008', column = 'parent_attempt_id',
                      hint = 'a retry shares its parent''s correlation id; omit correlation_id to inherit it';
        end if;
    end if;
    -- spending: the reservation, or its refusal before anything is written
    perform debugloop._spending_attempt_start(new_id, agent_name, user_request, nullif(btrim(model), ''), estimate_usd);
    -- the insert triggers add the fingerprint, the approach hash and the estimate
    insert into debugloop.debug_execution_attempts as a (
        attempt_id, correlation_id, execution_id, parent_attempt_id, agent_name, agent_type, user_request,
        problem_category, approach_description, stf_ids, model_used, tools_used, started_at)
    values (
        new_id, coalesce(chain, gen_random_uuid()), attempt_start.execution_id, attempt_start.parent_attempt_id,
        btrim(attempt_start.agent_name), attempt_start.agent_type, attempt_start.user_request,
        attempt_start.problem_category, attempt_start.approach_description, attempt_start.stf_ids,
        nullif(btrim(model), ''), attempt_start.tools_used, coalesce(attempt_start.started_at, now()))
    returning a.attempt_id into new_id;
    return new_id;
end
$$;
comment on function debugloop.attempt_start(text, text, text, uuid, uuid, text, text, text, uuid, jsonb, uuid[], timestamptz, numeric)
    is 'Record the start of an agent attempt; returns its id.';
revoke execute on function debugloop.attempt_start(text, text, text, uuid, uuid, text, text, text, uuid, jsonb, uuid[], timestamptz, numeric) from public;
grant execute on function debugloop.attempt_start(text, text, text, uuid, uuid, text, text, text, uuid, jsonb, uuid[], timestamptz, numeric) to debugloop_agent, debugloop_admin;

-- debugloop.attempt_finish(...): record how an attempt ended and return the row.
-- Status is success, error, timeout or cancelled (DL001); quality and confidence
-- scores are finite numbers in [0, 1], completed_at a finite time before a day
-- from now (DL001); an unknown attempt is DL002, finishing twice DL007, bad usage
-- DL005 or DL045, a bad code pointer in the artefacts (repository, branch,
-- commit_sha; a snippet's or unit's path and lines) DL050, DL051 or DL052
-- (_stf_check_artifact_pointers). `usage` is any supported usage object or an array of them (one
-- per LLM call), added to the usage recorded while it ran (attempt_record_usage):
-- only the calls made since. The finish trigger computes the duration, the
-- canonical usage and the cost at the prices in force at the attempt's start, and
-- pins that price version; a reserved attempt's cost is then settled in the same
-- transaction (_spending_attempt_finish). Locks: the attempt's row; the
-- settlement's locks (spending_settle).
create or replace function debugloop.attempt_finish(
    attempt_id uuid,
    status text,
    usage jsonb default null,
    error_type text default null,
    error_message text default null,
    error_stacktrace text default null,
    quality_score numeric default null,
    artifacts jsonb default null,
    model text default null,
    completed_at timestamptz default null,
    confidence_score numeric default null,
    tools_used jsonb default null
)
returns debugloop.debug_execution_attempts
language plpgsql
volatile
security definer
set search_path = debugloop, pg_catalog, pg_temp
as $$
declare
    attempt debugloop.debug_execution_attempts;
begin
    if status is null or status not in ('success', 'error', 'timeout', 'cancelled') then
        raise exception 'status must be one of success, error, timeout, cancelled; got %', coalesce(quote_literal(status), 'NULL')
            using errcode = 'DL001', column = 'status';
    end if;
    perform debugloop._util_check_number(quality_score, 'quality_score', 0, 1);
    perform debugloop._util_check_number(confidence_score, 'confidence_score', 0, 1);
    perform debugloop._price_check_model(model, 'model');
    perform debugloop._util_check_time(completed_at, 'completed_at', now() + interval '1 day');
    perform debugloop._stf_check_artifact_pointers(artifacts);
    attempt := debugloop._attempt_lock_running(attempt_finish.attempt_id, '');
    if completed_at is not null and completed_at < attempt.started_at then
        raise exception 'completed_at (%) is before the attempt started (%)', completed_at, attempt.started_at
            using errcode = 'DL001', column = 'completed_at';
    end if;
    update debugloop.debug_execution_attempts a
       set status = attempt_finish.status,
           completed_at = coalesce(attempt_finish.completed_at, greatest(now(), a.started_at)),
           usage_raw = debugloop._attempt_usage_add(a.usage_raw, attempt_finish.usage),
           error_type = attempt_finish.error_type,
           error_message = attempt_finish.error_message,
           error_stacktrace = attempt_finish.error_stacktrace,
           quality_score = attempt_finish.quality_score,
           confidence_score = attempt_finish.confidence_score,
           artifacts = attempt_finish.artifacts,
           model_used = coalesce(nullif(btrim(attempt_finish.model), ''), a.model_used),
           tools_used = coalesce(attempt_finish.tools_used, a.tools_used)
     where a.attempt_id = attempt.attempt_id
    returning a.* into attempt;
    perform debugloop._spending_attempt_finish(attempt);  -- spending: settle the cost, in this transaction
    return attempt;
end
$$;
comment on function debugloop.attempt_finish(uuid, text, jsonb, text, text, text, numeric, jsonb, text, timestamptz, numeric, jsonb)
    is 'Record how an attempt ended (status, usage, error, artefacts); computes its exact cost.';
revoke execute on function debugloop.attempt_finish(uuid, text, jsonb, text, text, text, numeric, jsonb, text, timestamptz, numeric, jsonb) from public;
grant execute on function debugloop.attempt_finish(uuid, text, jsonb, text, text, text, numeric, jsonb, text, timestamptz, numeric, jsonb) to debugloop_agent, debugloop_admin;

-- debugloop._attempt_resolve(id, field, correlation): the attempt id (or, with
-- `correlation`, the correlation id) that `id` names: a whole uuid as it is, a
-- prefix of 8+ hex digits (_util_uuid_prefix) as the one id that starts with it;
-- null when none does. Raises DL001 naming `field` for a malformed or ambiguous
-- prefix. Why: every function that takes an attempt or a task accepts the ids the
-- command line prints. Locks: none.
create or replace function debugloop._attempt_resolve(id text, field text, correlation boolean default false)
returns uuid
language plpgsql
stable
as $$
declare
    prefix record := debugloop._util_uuid_prefix(id, field);
    found_ids uuid[];
begin
    if prefix.low = prefix.high then
        return prefix.low;
    end if;
    if correlation then
        select array_agg(c.correlation_id) into found_ids
          from (select distinct a.correlation_id from debugloop.debug_execution_attempts a
                 where a.correlation_id between prefix.low and prefix.high limit 2) c;
    else
        select array_agg(a.attempt_id) into found_ids
          from (select a.attempt_id from debugloop.debug_execution_attempts a
                 where a.attempt_id between prefix.low and prefix.high limit 2) a;
    end if;
    if cardinality(found_ids) > 1 then
        raise exception '% prefix % is ambiguous', field, id using errcode = 'DL001', column = field, hint = 'give more hex digits';
    end if;
    return found_ids[1];
end
$$;

-- debugloop.attempt_get(attempt_id): one attempt by its id or a unique prefix of at
-- least 8 hex digits, or DL002. Locks: none.
create or replace function debugloop.attempt_get(attempt_id text)
returns debugloop.debug_execution_attempts
language plpgsql
stable
as $$
declare
    attempt debugloop.debug_execution_attempts;
begin
    select * into attempt from debugloop.debug_execution_attempts a
     where a.attempt_id = debugloop._attempt_resolve(attempt_get.attempt_id, 'attempt_id');
    if not found then
        raise exception 'attempt % does not exist', coalesce(attempt_get.attempt_id, 'NULL')
            using errcode = 'DL002', column = 'attempt_id';
    end if;
    return attempt;
end
$$;
comment on function debugloop.attempt_get(text) is 'One attempt by its id or a unique prefix of at least 8 hex digits.';

-- debugloop.attempt_chain(correlation_id): the attempts of one task in start
-- order, each with its depth in the retry tree (0 for an attempt without parent)
-- and the cumulative cost so far (unpriced attempts add nothing). The task is
-- named by its correlation id or a unique prefix of 8+ hex digits; none when no
-- attempt has it. Locks: none.
create or replace function debugloop.attempt_chain(correlation_id text)
returns table (attempt_id uuid, parent_attempt_id uuid, depth integer, agent_name text, model_used text,
               status text, started_at timestamptz, completed_at timestamptz, duration_ms bigint,
               error_type text, cost_usd numeric, cost_status text, cumulative_cost_usd numeric)
language sql
stable
as $$
    with recursive task as (
        select debugloop._attempt_resolve(attempt_chain.correlation_id, 'correlation_id', true) as id
    ), tree as (
        select a.attempt_id, 0 as depth
          from debugloop.debug_execution_attempts a
         where a.correlation_id = (select id from task)
           and (a.parent_attempt_id is null
                or not exists (select from debugloop.debug_execution_attempts p
                                where p.attempt_id = a.parent_attempt_id and p.correlation_id = a.correlation_id))
        union all
        select c.attempt_id, t.depth + 1
          from tree t
          join debugloop.debug_execution_attempts c
            on c.parent_attempt_id = t.attempt_id and c.correlation_id = (select id from task)
    )
    select a.attempt_id, a.parent_attempt_id, t.depth, a.agent_name, a.model_used, a.status, a.started_at,
           a.completed_at, a.duration_ms, a.error_type, a.cost_usd, a.cost_status,
           sum(coalesce(a.cost_usd, 0)) over (order by a.started_at, a.attempt_id)
      from tree t
      join debugloop.debug_execution_attempts a on a.attempt_id = t.attempt_id
     order by a.started_at, a.attempt_id
$$;
comment on function debugloop.attempt_chain(text) is 'The attempts of one task (a correlation id or its prefix) in order, with retry depth and cumulative cost.';

-- debugloop.attempt_list(status, agent_name, model, correlation_id, limit): the
-- latest attempts, newest first, of one status, agent, model and task where each
-- is given (null: any; the task by its correlation id or a unique prefix of 8+ hex
-- digits), at most `limit` of them (null: all; DL001 when negative). Why: the
-- list a browser or the command line shows, the same from psql. Locks: none.
create or replace function debugloop.attempt_list(
    status text default null,
    agent_name text default null,
    model text default null,
    correlation_id text default null,
    "limit" integer default 50
)
returns setof debugloop.debug_execution_attempts
language sql
stable
as $$
    select a.*
      from debugloop.debug_execution_attempts a
     where (attempt_list.status is null or a.status = attempt_list.status)
       and (attempt_list.agent_name is null or a.agent_name = attempt_list.agent_name)
       and (attempt_list.model is null or a.model_used = attempt_list.model)
       and (attempt_list.correlation_id is null
            or a.correlation_id = debugloop._attempt_resolve(attempt_list.correlation_id, 'correlation_id', true))
     order by a.started_at desc
     limit debugloop._util_limit(attempt_list."limit")
$$;
comment on function debugloop.attempt_list(text, text, text, text, integer) is 'The latest attempts, newest first, of a status, an agent, a model and a task (each optional).';
