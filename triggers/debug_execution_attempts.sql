-- Triggers of debugloop.debug_execution_attempts.

-- tg_debug_execution_attempts__fingerprint: keep the request fingerprint and the
-- approach hash in step with their texts. Locks: none.
create or replace function debugloop.tg_debug_execution_attempts__fingerprint()
returns trigger
language plpgsql
as $$
begin
    new.user_request_hash := debugloop.util_fingerprint(new.user_request);
    new.approach_hash := case when new.approach_description is not null
                              then debugloop.util_fingerprint(new.approach_description) end;
    return new;
end
$$;

create or replace trigger _010_fingerprint
    before insert or update of user_request, approach_description on debugloop.debug_execution_attempts
    for each row execute function debugloop.tg_debug_execution_attempts__fingerprint();

-- tg_debug_execution_attempts__problem: a request never seen before (by
-- fingerprint) enters debug_problems with its embedding, so that later problems
-- find it as a similar one. A known request costs one index probe. Locks: none
-- (a concurrent insert of the same request is ignored).
create or replace function debugloop.tg_debug_execution_attempts__problem()
returns trigger
language plpgsql
as $$
begin
    if not exists (select from debugloop.debug_problems p where p.user_request_hash = new.user_request_hash) then
        insert into debugloop.debug_problems (user_request_hash, user_request, problem_category, embedding, first_seen_at)
        values (new.user_request_hash, new.user_request, new.problem_category,
                debugloop.util_embed(new.user_request)::halfvec, new.started_at)
        on conflict (user_request_hash) do nothing;
    end if;
    return null;
end
$$;

create or replace trigger _015_problem
    after insert or update of user_request on debugloop.debug_execution_attempts
    for each row execute function debugloop.tg_debug_execution_attempts__problem();

-- tg_debug_execution_attempts__estimate: at insert, the p50 cost of earlier
-- attempts at the same request (by fingerprint) for this attempt's model, as
-- estimated_cost_usd. An attempt inserted already finished (an import) ran before
-- debugloop saw it: no estimate was made for it. Locks: none.
create or replace function debugloop.tg_debug_execution_attempts__estimate()
returns trigger
language plpgsql
as $$
begin
    if new.estimated_cost_usd is null and new.model_used is not null and new.status = 'running' then
        select e.cost_p50_usd into new.estimated_cost_usd
          from debugloop._attempt_estimate(new.model_used, new.user_request_hash, null) e;
    end if;
    return new;
end
$$;

create or replace trigger _020_estimate
    before insert on debugloop.debug_execution_attempts
    for each row execute function debugloop.tg_debug_execution_attempts__estimate();

-- tg_debug_execution_attempts__finish: when an attempt finishes (or is inserted
-- finished, as importers do): its duration, its usage in canonical form, and its
-- cost at the price version in force at its start, which it pins. With
-- enable_cost_tracking off for the session, the cost is left null ('untracked').
-- Raises DL005 for bad usage. Locks: none (reads the price catalog).
create or replace function debugloop.tg_debug_execution_attempts__finish()
returns trigger
language plpgsql
as $$
declare
    usage jsonb;
    priced record;
begin
    if new.status = 'running' or (tg_op = 'UPDATE' and old.status <> 'running') then
        return new;
    end if;
    new.completed_at := coalesce(new.completed_at, greatest(now(), new.started_at));
    new.duration_ms := round(extract(epoch from new.completed_at - new.started_at) * 1000);
    usage := debugloop.price_usage_normalize(new.usage_raw);
    new.input_tokens := (usage ->> 'input_tokens')::bigint;
    new.output_tokens := (usage ->> 'output_tokens')::bigint;
    new.cache_read_tokens := (usage ->> 'cache_read_tokens')::bigint;
    new.cache_write_tokens := (usage ->> 'cache_write_tokens')::bigint;
    new.cache_write_1h_tokens := (usage ->> 'cache_write_1h_tokens')::bigint;
    new.reasoning_tokens := (usage ->> 'reasoning_tokens')::bigint;
    new.batch := coalesce((usage ->> 'batch')::boolean, false);
    if not debugloop.settings_flag('enable_cost_tracking') then
        new.cost_usd := null;
        new.price_catalog_id := null;
        new.cost_status := 'untracked';
    else
        select * into priced from debugloop._attempt_cost(new.model_used, new.usage_raw, new.started_at);
        new.cost_usd := priced.cost_usd;
        new.price_catalog_id := priced.price_catalog_id;
        new.cost_status := priced.cost_status;
        new.priced_at := case when priced.cost_status = 'priced' then now() end;
    end if;
    return new;
end
$$;

create or replace trigger _030_finish
    before insert or update of status on debugloop.debug_execution_attempts
    for each row execute function debugloop.tg_debug_execution_attempts__finish();

-- tg_debug_execution_attempts__touch: stamp updated_at. Locks: none.
create or replace function debugloop.tg_debug_execution_attempts__touch()
returns trigger
language plpgsql
as $$
begin
    new.updated_at := now();
    return new;
end
$$;

create or replace trigger _040_touch
    before update on debugloop.debug_execution_attempts
    for each row execute function debugloop.tg_debug_execution_attempts__touch();

-- tg_debug_execution_attempts__error_signature: a failed attempt (error or timeout
-- with an error type or message) is linked to its error signature, which is
-- entered or counted in debug_error_signatures. Locks: the signature's row.
create or replace function debugloop.tg_debug_execution_attempts__error_signature()
returns trigger
language plpgsql
as $$
begin
    if new.status in ('error', 'timeout') and (tg_op = 'INSERT' or old.status = 'running')
       and coalesce(new.error_type, new.error_message) is not null then
        new.error_signature := debugloop._error_record(new.error_type, coalesce(new.error_message, ''),
                                                       new.error_stacktrace, new.attempt_id,
                                                       coalesce(new.completed_at, now()));
    end if;
    return new;
end
$$;

create or replace trigger _050_error_signature
    before insert or update of status on debugloop.debug_execution_attempts
    for each row execute function debugloop.tg_debug_execution_attempts__error_signature();

-- tg_debug_execution_attempts__error_mappings: when an attempt of a chain
-- succeeds, every signature that failed earlier in that chain maps to it (a new
-- mapping, or the success count of the mapping with the same approach raised).
-- When an attempt with an approach fails, each mapping that recommended that
-- approach for an error met earlier in the chain counts a failure. While
-- import_units runs (it sets debugloop.import_retries_only for its transaction: an
-- imported correlation is a whole session of unrelated actions), "earlier in the
-- chain" is the attempt's retry ancestry by parent links instead. Confidence
-- follows from the counts (trigger on the mappings). Locks: the mappings' rows.
create or replace function debugloop.tg_debug_execution_attempts__error_mappings()
returns trigger
language plpgsql
as $$
declare
    earlier record;
    approach text := coalesce(new.approach_hash, 'attempt:' || new.attempt_id);
    ancestors uuid[];
begin
    if new.status = 'running' or (tg_op = 'UPDATE' and old.status <> 'running') then
        return null;
    end if;
    if current_setting('debugloop.import_retries_only', true) = 'on' then
        if new.parent_attempt_id is null then
            return null;
        end if;
        with recursive up as (
            select p.attempt_id, p.parent_attempt_id, 1 as depth
              from debugloop.debug_execution_attempts p where p.attempt_id = new.parent_attempt_id
            union all
            select p.attempt_id, p.parent_attempt_id, up.depth + 1
              from up join debugloop.debug_execution_attempts p on p.attempt_id = up.parent_attempt_id
             where up.depth < 100
        )
        select array_agg(up.attempt_id) into ancestors from up;
    end if;
    if new.status = 'success' then
        for earlier in
            select a.error_signature, array_agg(a.attempt_id order by a.started_at) as attempt_ids,
                   min(s.normalized_message) as pattern, min(coalesce(s.error_type, s.category)) as error_type,
                   min(s.category) as category
              from debugloop.debug_execution_attempts a
              join debugloop.debug_error_signatures s on s.signature = a.error_signature
             where a.correlation_id = new.correlation_id and a.attempt_id <> new.attempt_id
               and a.status in ('error', 'timeout') and a.started_at <= new.started_at
               and (ancestors is null or a.attempt_id = any (ancestors))
             group by a.error_signature
        loop
            insert into debugloop.debug_error_success_mappings as m (
                signature, error_type, error_pattern, error_context, approach_key, successful_attempt_id,
                successful_stf_ids, successful_approach, failed_attempt_ids, success_count, last_success_at)
            values (
                earlier.error_signature, earlier.error_type, earlier.pattern,
                jsonb_build_object('category', earlier.category, 'model', new.model_used, 'tools', new.tools_used),
                approach, new.attempt_id, new.stf_ids, new.approach_description, earlier.attempt_ids, 1,
                coalesce(new.completed_at, now()))
            on conflict on constraint debug_error_success_mappings_signature_approach_key do update
               set success_count = m.success_count + 1,
                   successful_attempt_id = excluded.successful_attempt_id,
                   successful_stf_ids = coalesce(excluded.successful_stf_ids, m.successful_stf_ids),
                   successful_approach = coalesce(excluded.successful_approach, m.successful_approach),
                   failed_attempt_ids = (m.failed_attempt_ids || excluded.failed_attempt_ids)[greatest(1,
                       cardinality(m.failed_attempt_ids || excluded.failed_attempt_ids) - 99):],
                   last_success_at = excluded.last_success_at;
        end loop;
    elsif new.status in ('error', 'timeout') and new.approach_hash is not null then
        update debugloop.debug_error_success_mappings m
           set failure_count = m.failure_count + 1,
               last_failure_at = coalesce(new.completed_at, now())
         where m.approach_key = new.approach_hash
           and m.signature in (select a.error_signature
                                 from debugloop.debug_execution_attempts a
                                where a.correlation_id = new.correlation_id and a.attempt_id <> new.attempt_id
                                  and a.status in ('error', 'timeout') and a.error_signature is not null
                                  and a.started_at <= new.started_at
                                  and (ancestors is null or a.attempt_id = any (ancestors)));
    end if;
    return null;
end
$$;

create or replace trigger _060_error_mappings
    after insert or update of status on debugloop.debug_execution_attempts
    for each row execute function debugloop.tg_debug_execution_attempts__error_mappings();

-- tg_debug_execution_attempts__extract_stfs: when an attempt succeeds and the flag
-- enable_stf_extraction is on for the session, the code of its artefacts becomes
-- STFs (debugloop.stf_extract). Locks: the STF rows it registers.
create or replace function debugloop.tg_debug_execution_attempts__extract_stfs()
returns trigger
language plpgsql
as $$
begin
    if new.status = 'success' and (tg_op = 'INSERT' or old.status = 'running')
       and new.artifacts is not null and debugloop.settings_flag('enable_stf_extraction') then
        perform debugloop.stf_extract(new.attempt_id);
    end if;
    return null;
end
$$;

create or replace trigger _070_extract_stfs
    after insert or update of status on debugloop.debug_execution_attempts
    for each row execute function debugloop.tg_debug_execution_attempts__extract_stfs();

-- tg_debug_execution_attempts__golden: with enable_golden_states on for the
-- session, a successful attempt that passes the thresholds (_golden_evidence) is
-- nominated as a golden state, and approved by debugloop when it passes the
-- higher bar too. The same request solved again with the same approach makes no
-- second golden state: it is evidence for the first, whose automatic approval is
-- weighed again. A failed attempt withdraws the pending automatic nominations of
-- earlier attempts of its chain. Runs after STF extraction (_070), so the golden
-- state lists the STFs extracted from the attempt. Attempts without a
-- quality_score are never nominated automatically. Locks: the golden state rows.
create or replace function debugloop.tg_debug_execution_attempts__golden()
returns trigger
language plpgsql
as $$
declare
    evidence jsonb;
    golden_id uuid;
    subject debugloop.debug_execution_attempts;
begin
    if new.status = 'running' or (tg_op = 'UPDATE' and old.status <> 'running')
       or not debugloop.settings_flag('enable_golden_states') then
        return null;
    end if;
    if new.status in ('error', 'timeout') then
        perform debugloop._golden_withdraw(new);
        return null;
    end if;
    if new.status <> 'success' or new.quality_score is null
       or new.quality_score < debugloop._settings_number('golden_min_quality') then
        return null;
    end if;
    select g.golden_state_id into golden_id
      from debugloop.debug_golden_states g
      join debugloop.debug_execution_attempts a on a.attempt_id = g.execution_attempt_id
     where g.problem_hash = new.user_request_hash and a.approach_hash = new.approach_hash
       and g.approval_status <> 'rejected'
     order by g.nominated_at
     limit 1;
    if golden_id is not null then
        if not exists (select from debugloop.debug_golden_states g
                        where g.golden_state_id = golden_id and g.approval_status = 'pending' and g.nomination = 'automatic') then
            return null;
        end if;
        select a.* into subject
          from debugloop.debug_golden_states g
          join debugloop.debug_execution_attempts a on a.attempt_id = g.execution_attempt_id
         where g.golden_state_id = golden_id;
        evidence := debugloop._golden_evidence(subject);
        update debugloop.debug_golden_states g set nomination_evidence = evidence where g.golden_state_id = golden_id;
    else
        evidence := debugloop._golden_evidence(new);
        if not (evidence ->> 'nominate')::boolean then
            return null;
        end if;
        golden_id := debugloop._golden_insert(new, 'automatic', 'debugloop', null, new.quality_score, null, evidence);
    end if;
    if (evidence ->> 'approve')::boolean then
        perform debugloop._golden_review(golden_id, 'approved', 'debugloop',
            format('automatic: quality %s, %s independent successes at similar problems',
                   evidence ->> 'quality', evidence ->> 'independent_successes'));
    end if;
    return null;
end
$$;

create or replace trigger _080_golden
    after insert or update of status on debugloop.debug_execution_attempts
    for each row execute function debugloop.tg_debug_execution_attempts__golden();
