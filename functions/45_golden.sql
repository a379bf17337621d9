-- golden: proven solutions. A successful attempt is nominated (by hand, or by
-- _golden_consider, which the trigger tg_debug_execution_attempts__golden calls,
-- when the thresholds hold), then
-- approved or rejected by an admin, each decision audited in debug_golden_reviews.
-- Reuses are counted. Writes go through SECURITY DEFINER functions. One golden
-- state that is not rejected per request and approach (a partial unique index).
-- What an agent reports of itself (its quality_score) may nominate; approval by
-- the thresholds needs successes recorded by other peers (database roles).

-- debugloop._golden_evidence(attempt): what the thresholds weigh for a successful
-- attempt, and their verdict, as a document (README, "Golden states"):
--   quality                the attempt's quality_score
--   cost_usd               its cost; median_cost_usd and cost_samples: of the other
--                          priced successes at the same and similar problems
--   cost_ratio             cost_usd / median_cost_usd
--   later_failures         failed attempts of its chain that started after it
--   independent_successes  other peers (database roles other than the one that
--                          recorded the attempt) that succeeded at the same or
--                          similar problems in chains of their own: one per peer,
--                          so that no role's own chains, however many, count;
--                          only problems of similarity >= golden_evidence_min_similarity
--   evidence_weight        the sum over those peers of the similarity of each one's
--                          most similar problem (1 for the same request)
--   evidence_sessions      the chains (correlation ids) behind them
--   best_similarity        the most similar problem another peer succeeded at, counted or not
--   recorded_by            the role that recorded the attempt
--   nominate               quality >= golden_min_quality, no later failure, and the
--                          cost within golden_max_cost_ratio x the median (not tested
--                          without a cost or with fewer than golden_cost_min_samples)
--   approve                nominate, quality >= golden_auto_approve_quality and
--                          evidence_weight >= golden_auto_approve_min_successes
--   reasons                why not, one line per threshold missed
-- Locks: none.
create or replace function debugloop._golden_evidence(attempt debugloop.debug_execution_attempts)
returns jsonb
language plpgsql
stable
as $$
declare
    neighbours record;
    median_cost numeric;
    samples integer;
    independent integer;
    weight numeric;
    sessions integer;
    best real;
    evidence_floor constant real := debugloop._settings_number('golden_evidence_min_similarity')::real;
    later integer;
    ratio numeric;
    reasons text[] := '{}';
    nominate boolean;
    approve boolean;
begin
    select * into neighbours from debugloop._problem_neighbours(attempt.user_request) n;
    select percentile_cont(0.5) within group (order by r.cost_usd) filter (where r.cost_status = 'priced'),
           count(*) filter (where r.cost_status = 'priced')
      into median_cost, samples
      from debugloop._related_attempts(neighbours.fingerprint || neighbours.similar_hashes, 100) r
     where r.status = 'success' and r.attempt_id <> attempt.attempt_id;
    -- the evidence: other peers' successes in chains of their own, at the same
    -- request (similarity 1) or at similar ones; each peer counts once, with the
    -- similarity of its most similar problem, and only at golden_evidence_min_similarity
    -- or above (null recorders, attempts from before migration 0010, are nobody's)
    select count(*) filter (where e.best >= evidence_floor), coalesce(sum(e.best) filter (where e.best >= evidence_floor), 0),
           coalesce(sum(e.sessions) filter (where e.best >= evidence_floor), 0), max(e.best)
      into independent, weight, sessions, best
      from (select r.recorded_by, max(s.similarity) as best,
                   count(distinct r.correlation_id) filter (where s.similarity >= evidence_floor) as sessions
              from debugloop._similar_problems(neighbours.fingerprint, neighbours.probe,
                                               debugloop._settings_number('problem_similar_limit')::integer) s
             cross join lateral debugloop._related_attempts(array[s.user_request_hash], 100) r
             where r.status = 'success' and r.attempt_id <> attempt.attempt_id
               and r.correlation_id <> attempt.correlation_id and r.recorded_by <> attempt.recorded_by
             group by r.recorded_by) e;
    weight := round(weight, 3);
    select count(*) into later
      from debugloop.debug_execution_attempts a
     where a.correlation_id = attempt.correlation_id and a.attempt_id <> attempt.attempt_id
       and a.started_at > attempt.started_at and a.status in ('error', 'timeout');
    ratio := case when attempt.cost_usd is not null and median_cost > 0 then round(attempt.cost_usd / median_cost, 2) end;

    if attempt.quality_score is null then
        reasons := reasons || 'no quality_score was reported'::text;
    elsif attempt.quality_score < debugloop._settings_number('golden_min_quality') then
        reasons := reasons || format('quality %s < golden_min_quality %s', attempt.quality_score,
                                     debugloop._settings_number('golden_min_quality'));
    end if;
    if later > 0 then
        reasons := reasons || format('%s later attempt(s) of its chain failed', later);
    end if;
    if ratio is not null and samples >= debugloop._settings_number('golden_cost_min_samples')
       and ratio > debugloop._settings_number('golden_max_cost_ratio') then
        reasons := reasons || format('cost %s x the median of similar successes > golden_max_cost_ratio %s', ratio,
                                     debugloop._settings_number('golden_max_cost_ratio'));
    end if;
    nominate := cardinality(reasons) = 0;
    approve := nominate and attempt.quality_score >= debugloop._settings_number('golden_auto_approve_quality')
               and weight >= debugloop._settings_number('golden_auto_approve_min_successes');
    if nominate and not approve then
        reasons := reasons || format('approval by hand: automatic approval needs quality >= %s and evidence %s: successes by other peers (roles) in chains of their own at problems of similarity >= %s, each peer weighing its best similarity (has %s, evidence %s from %s peers)',
                                     debugloop._settings_number('golden_auto_approve_quality'),
                                     debugloop._settings_number('golden_auto_approve_min_successes'), evidence_floor,
                                     attempt.quality_score, weight, independent);
    end if;
    return jsonb_build_object(
        'quality', attempt.quality_score, 'cost_usd', attempt.cost_usd, 'median_cost_usd', median_cost,
        'cost_samples', samples, 'cost_ratio', ratio, 'later_failures', later,
        'independent_successes', independent, 'evidence_weight', weight, 'evidence_sessions', sessions,
        'evidence_min_similarity', evidence_floor, 'best_similarity', round(best::numeric, 3), 'recorded_by', attempt.recorded_by,
        'similar_problems', cardinality(neighbours.similar_hashes),
        'nominate', nominate, 'approve', approve, 'reasons', to_jsonb(reasons));
end
$$;

-- debugloop._golden_insert(attempt, nomination, nominated_by, summary, quality,
-- category, evidence): the id of a new golden state of a successful attempt, or
-- null when the attempt has one already or its request and approach have one that
-- is not rejected (debug_golden_states_problem_approach_key: a concurrent insert
-- of the same key waits for the first and then finds it there). Its problem,
-- approach, model, tools and cost are the attempt's; its STFs those the attempt
-- used and those extracted from it; complexity the highest of their
-- complexities, reusability the mean of their generality. The caller checks that
-- the attempt succeeded. Locks: inserts one row (the unique keys).
create or replace function debugloop._golden_insert(attempt debugloop.debug_execution_attempts, nomination text,
                                                    nominated_by text, summary text, quality numeric,
                                                    category text, evidence jsonb)
returns uuid
language plpgsql
volatile
as $$
declare
    stfs uuid[];
    new_id uuid;
begin
    select coalesce(array_agg(distinct s), '{}') into stfs
      from (select unnest(attempt.stf_ids) as s
            union
            select p.stf_id from debugloop.debug_stf_provenance p where p.attempt_id = attempt.attempt_id) u;
    insert into debugloop.debug_golden_states as g (
        execution_attempt_id, correlation_id, agent_name, problem_description, problem_category, problem_hash,
        approach_hash, embedding, solution_summary, stf_ids, tools_used, model_used, cost_usd, quality_score,
        complexity_score, reusability_score, nomination, nomination_evidence, nominated_by)
    select attempt.attempt_id, attempt.correlation_id, attempt.agent_name, attempt.user_request,
           coalesce(category, attempt.problem_category), attempt.user_request_hash, attempt.approach_hash,
           debugloop._problem_probe(attempt.user_request_hash, attempt.user_request),
           coalesce(nullif(btrim(summary), ''), nullif(btrim(attempt.approach_description), ''),
                    nullif(btrim(attempt.artifacts ->> 'summary'), ''),
                    format('%s solved it with %s', attempt.agent_name, coalesce(attempt.model_used, 'an unnamed model'))),
           stfs, attempt.tools_used, attempt.model_used, attempt.cost_usd, quality,
           (select max(f.complexity_score) from debugloop.debug_transform_functions f where f.stf_id = any (stfs)),
           (select round(avg(f.generality_score), 2) from debugloop.debug_transform_functions f where f.stf_id = any (stfs)),
           nomination, evidence, nullif(btrim(nominated_by), '')
    on conflict do nothing
    returning g.golden_state_id into new_id;
    return new_id;
end
$$;

-- debugloop._golden_of(attempt): the golden state that stands for a successful
-- attempt: its own, else the one of its request and approach that is not
-- rejected; null when there is none. Locks: none.
create or replace function debugloop._golden_of(attempt debugloop.debug_execution_attempts)
returns uuid
language sql
stable
as $$
    select coalesce(
        (select g.golden_state_id from debugloop.debug_golden_states g where g.execution_attempt_id = attempt.attempt_id),
        (select g.golden_state_id from debugloop.debug_golden_states g
          where g.problem_hash = attempt.user_request_hash
            and coalesce(g.approach_hash, '') = coalesce(attempt.approach_hash, '')
            and g.approval_status <> 'rejected'))
$$;

-- debugloop.golden_nominate(attempt_id, nominated_by, solution_summary,
-- quality_score, problem_category): nominate a successful attempt as a golden
-- state, pending review; returns its id. One golden state per attempt, and one
-- that is not rejected per request and approach: nominating an attempt again, or
-- one whose request and approach have a golden state, returns that one's id.
-- `nominated_by` is the nominator's own word (debugloop, the automatic
-- nominator's name, is DL001); the `nomination` column says manual. The summary
-- defaults to the attempt's approach (or artefacts' "summary"); the quality to the
-- attempt's quality_score, and one of them is required (DL001). The thresholds' evidence is recorded but
-- not enforced. Raises DL002 for an unknown attempt, DL012 for one that did not
-- succeed. Locks: the attempt's row (share), inserts one row.
create or replace function debugloop.golden_nominate(
    attempt_id uuid,
    nominated_by text default null,
    solution_summary text default null,
    quality_score numeric default null,
    problem_category text default null
)
returns uuid
language plpgsql
volatile
security definer
set search_path = debugloop, pg_catalog, pg_temp
as $$
declare
    attempt debugloop.debug_execution_attempts;
    quality numeric;
    golden_id uuid;
begin
    if lower(btrim(nominated_by)) = 'debugloop' then
        raise exception 'debugloop is the name of the automatic nominator: nobody nominates on its behalf'
            using errcode = 'DL001', column = 'nominated_by';
    end if;
    select * into attempt from debugloop.debug_execution_attempts a where a.attempt_id = golden_nominate.attempt_id for share;
    if not found then
        raise exception 'attempt % does not exist', coalesce(golden_nominate.attempt_id::text, 'NULL')
            using errcode = 'DL002', column = 'attempt_id';
    end if;
    if attempt.status <> 'success' then
        raise exception 'attempt % has status %: only a successful attempt can be a golden state', attempt.attempt_id, attempt.status
            using errcode = 'DL012', column = 'attempt_id';
    end if;
    quality := coalesce(golden_nominate.quality_score, attempt.quality_score);
    if quality is null then
        raise exception 'quality_score is required: attempt % has none', attempt.attempt_id
            using errcode = 'DL001', column = 'quality_score', hint = 'give quality_score between 0 and 1';
    elsif quality < 0 or quality > 1 then
        raise exception 'quality_score must lie in [0, 1], got %', quality using errcode = 'DL001', column = 'quality_score';
    end if;
    golden_id := debugloop._golden_of(attempt);
    if golden_id is null then
        golden_id := debugloop._golden_insert(attempt, 'manual', nominated_by, solution_summary, quality,
                                              problem_category, debugloop._golden_evidence(attempt));
    end if;
    if golden_id is null then
        -- a concurrent nomination of the same request and approach came first (a
        -- new statement: its snapshot sees that one, committed)
        golden_id := debugloop._golden_of(attempt);
    end if;
    return golden_id;
end
$$;
comment on function debugloop.golden_nominate(uuid, text, text, numeric, text)
    is 'Nominate a successful attempt as a golden state (pending review); returns its id.';
revoke execute on function debugloop.golden_nominate(uuid, text, text, numeric, text) from public;
grant execute on function debugloop.golden_nominate(uuid, text, text, numeric, text) to debugloop_agent, debugloop_admin;

-- debugloop._golden_review(golden_state_id, decision, on_behalf_of, notes,
-- automatic): approve, reject or reopen a golden state with an audit row in
-- debug_golden_reviews (debugloop._util_review: who reviewed is the calling role,
-- or debugloop when `automatic`), and return it; the attempt's is_golden_state and
-- golden_state_approved_by/_at follow the approval. Reopening a rejected state
-- whose request and approach have another golden state is DL010 (one per request
-- and approach). Locks: the golden state's row and its attempt's.
create or replace function debugloop._golden_review(golden_state_id uuid, decision text, on_behalf_of text, notes text,
                                                    automatic boolean default false)
returns debugloop.debug_golden_states
language plpgsql
volatile
as $$
declare
    g debugloop.debug_golden_states;
begin
    begin
        perform debugloop._util_review('golden', _golden_review.golden_state_id, decision, on_behalf_of, notes,
                                       automatic);
    exception when unique_violation then
        raise exception 'golden state % cannot be reopened: its request and approach have another golden state',
                        _golden_review.golden_state_id
            using errcode = 'DL010', column = 'golden_state_id',
                  detail = 'one golden state that is not rejected per request and approach',
                  hint = 'reject the other one first';
    end;
    select * into g from debugloop.debug_golden_states s where s.golden_state_id = _golden_review.golden_state_id;
    update debugloop.debug_execution_attempts a
       set is_golden_state = (decision = 'approved'),
           golden_state_approved_by = case when decision = 'approved' then g.approved_by end,
           golden_state_approved_at = case when decision = 'approved' then g.approved_at end
     where a.attempt_id = g.execution_attempt_id
       and a.is_golden_state is distinct from (decision = 'approved');
    return g;
end
$$;

-- debugloop.golden_approve(golden_state_id, approved_by, notes): approve a pending
-- golden state. Admin only; audited as the calling role (approved_by, optional,
-- names the person it acts for: a note). Raises DL010 unless pending (a rejected
-- one must be reopened first). Locks: the golden state's row and its attempt's.
create or replace function debugloop.golden_approve(golden_state_id uuid, approved_by text default null,
                                                    notes text default null)
returns debugloop.debug_golden_states
language sql volatile security definer set search_path = debugloop, pg_catalog, pg_temp
as $$ select * from debugloop._golden_review(golden_state_id, 'approved', approved_by, notes) $$;
comment on function debugloop.golden_approve(uuid, text, text) is 'Approve a pending golden state (admin; audited as your role).';

-- debugloop.golden_reject(golden_state_id, rejected_by, notes): reject a pending or
-- approved golden state; it leaves the manifest. Admin only; audited as the
-- calling role. Locks: the golden state's row and its attempt's.
create or replace function debugloop.golden_reject(golden_state_id uuid, rejected_by text default null,
                                                   notes text default null)
returns debugloop.debug_golden_states
language sql volatile security definer set search_path = debugloop, pg_catalog, pg_temp
as $$ select * from debugloop._golden_review(golden_state_id, 'rejected', rejected_by, notes) $$;
comment on function debugloop.golden_reject(uuid, text, text) is 'Reject a golden state so that no manifest offers it (admin; audited as your role).';

-- debugloop.golden_reopen(golden_state_id, reopened_by, notes): put an approved or
-- rejected golden state back to pending. Admin only; audited as the calling role.
-- Locks: the golden state's row and its attempt's.
create or replace function debugloop.golden_reopen(golden_state_id uuid, reopened_by text default null,
                                                   notes text default null)
returns debugloop.debug_golden_states
language sql volatile security definer set search_path = debugloop, pg_catalog, pg_temp
as $$ select * from debugloop._golden_review(golden_state_id, 'pending', reopened_by, notes) $$;
comment on function debugloop.golden_reopen(uuid, text, text) is 'Put an approved or rejected golden state back to pending (admin; audited as your role).';

revoke execute on function debugloop.golden_approve(uuid, text, text), debugloop.golden_reject(uuid, text, text),
                           debugloop.golden_reopen(uuid, text, text) from public;
grant execute on function debugloop.golden_approve(uuid, text, text), debugloop.golden_reject(uuid, text, text),
                          debugloop.golden_reopen(uuid, text, text) to debugloop_admin;

-- debugloop.golden_reviews(golden_state_id): the decisions on a golden state, oldest
-- first: who, when, why (debugloop for automatic ones). Locks: none.
create or replace function debugloop.golden_reviews(golden_state_id uuid)
returns setof debugloop.debug_golden_reviews
language sql
stable
as $$
    select r.*
      from debugloop.debug_golden_reviews r
     where r.golden_state_id = golden_reviews.golden_state_id
     order by r.reviewed_at, r.review_id
$$;
comment on function debugloop.golden_reviews(uuid) is 'The review decisions on a golden state, oldest first.';

-- debugloop.golden_record_reuse(golden_state_id, attempt_id, success): an attempt
-- reused a golden state and succeeded or not; its reuse counts and last reuse
-- follow. Recording the same reuse twice is refused (DL011). Locks: the golden
-- state's row.
create or replace function debugloop.golden_record_reuse(golden_state_id uuid, attempt_id uuid, success boolean)
returns debugloop.debug_golden_states
language plpgsql
volatile
security definer
set search_path = debugloop, pg_catalog, pg_temp
as $$
declare
    result debugloop.debug_golden_states;
begin
    if success is null then
        raise exception 'success must be true or false' using errcode = 'DL001', column = 'success';
    end if;
    perform from debugloop.debug_golden_states g where g.golden_state_id = golden_record_reuse.golden_state_id for update;
    if not found then
        raise exception 'golden state % does not exist', coalesce(golden_record_reuse.golden_state_id::text, 'NULL')
            using errcode = 'DL002', column = 'golden_state_id';
    end if;
    perform from debugloop.debug_execution_attempts a where a.attempt_id = golden_record_reuse.attempt_id;
    if not found then
        raise exception 'attempt % does not exist', coalesce(golden_record_reuse.attempt_id::text, 'NULL')
            using errcode = 'DL002', column = 'attempt_id';
    end if;
    begin
        insert into debugloop.debug_golden_reuses (golden_state_id, attempt_id, success)
        values (golden_record_reuse.golden_state_id, golden_record_reuse.attempt_id, golden_record_reuse.success);
    exception when unique_violation then
        raise exception 'the reuse of golden state % by attempt % is recorded already',
                        golden_record_reuse.golden_state_id, golden_record_reuse.attempt_id
            using errcode = 'DL011', column = 'attempt_id';
    end;
    update debugloop.debug_golden_states g
       set reuse_count = g.reuse_count + 1,
           reuse_success_count = g.reuse_success_count + case when golden_record_reuse.success then 1 else 0 end,
           reuse_failure_count = g.reuse_failure_count + case when golden_record_reuse.success then 0 else 1 end,
           last_reused_at = now()
     where g.golden_state_id = golden_record_reuse.golden_state_id
    returning g.* into result;
    return result;
end
$$;
comment on function debugloop.golden_record_reuse(uuid, uuid, boolean) is 'Record that an attempt reused a golden state, and whether it succeeded.';
revoke execute on function debugloop.golden_record_reuse(uuid, uuid, boolean) from public;
grant execute on function debugloop.golden_record_reuse(uuid, uuid, boolean) to debugloop_agent, debugloop_admin;

-- debugloop.golden_get(golden_state_id): one golden state by its id or a unique
-- prefix of at least 8 hex digits; DL002 when none, DL001 when the prefix is
-- ambiguous or not hex. Locks: none.
create or replace function debugloop.golden_get(golden_state_id text)
returns debugloop.debug_golden_states
language plpgsql
stable
as $$
declare
    prefix record := debugloop._util_uuid_prefix(golden_state_id, 'golden_state_id');
    found_rows debugloop.debug_golden_states[];
begin
    select array_agg(g) into found_rows
      from (select * from debugloop.debug_golden_states g
             where g.golden_state_id between prefix.low and prefix.high
             limit 2) g;
    if found_rows is null then
        raise exception 'golden state % does not exist', golden_state_id using errcode = 'DL002', column = 'golden_state_id';
    elsif cardinality(found_rows) > 1 then
        raise exception 'golden state id prefix % is ambiguous', golden_state_id
            using errcode = 'DL001', column = 'golden_state_id', hint = 'give more hex digits';
    end if;
    return found_rows[1];
end
$$;
comment on function debugloop.golden_get(text) is 'One golden state by its id or a unique prefix of at least 8 hex digits.';

-- debugloop._golden_similar(probe, k, approved_only): golden states for problems
-- like the one embedded in `probe` (_problem_probe, halfvec), not rejected (approved
-- only, if asked), at least problem_min_similarity, best first:
--   score = similarity * (0.8 + 0.2 * quality) * (1 approved, 0.9 pending)
--           * (0.9 + 0.1 * reuse success rate, 1 before any reuse)
-- The 4k nearest are scored (HNSW, the filter inside the scan). Locks: none.
create or replace function debugloop._golden_similar(probe debugloop.halfvec, k integer, approved_only boolean)
returns table (golden_state_id uuid, similarity real, score real, approval_status text, problem_description text,
               problem_category text, solution_summary text, model_used text, agent_name text, tools_used jsonb,
               stf_ids uuid[], quality_score numeric, cost_usd numeric, reuse_count integer, reuse_success_count integer,
               execution_attempt_id uuid)
language plpgsql
stable
as $$
begin
    if probe is null then
        return;
    end if;
    perform set_config('hnsw.iterative_scan', 'relaxed_order', true);
    return query
    with near as (
        select g.golden_state_id, (1 - (g.embedding operator(debugloop.<=>) probe))::real as similarity
          from debugloop.debug_golden_states g
         where g.approval_status <> 'rejected' and (not approved_only or g.approval_status = 'approved')
         order by g.embedding operator(debugloop.<=>) probe
         limit 4 * k
    ), scored as (
        select g.*, n.similarity,
               (n.similarity * (0.8 + 0.2 * g.quality_score) * case when g.approval_status = 'approved' then 1 else 0.9 end
                             * (0.9 + 0.1 * coalesce(g.reuse_success_count::numeric / nullif(g.reuse_count, 0), 1)))::real as score
          from near n join debugloop.debug_golden_states g on g.golden_state_id = n.golden_state_id
         where n.similarity >= (select debugloop._settings_number('problem_min_similarity'))
    )
    select g.golden_state_id, g.similarity, g.score, g.approval_status, g.problem_description, g.problem_category,
           g.solution_summary, g.model_used, g.agent_name, g.tools_used, g.stf_ids, g.quality_score, g.cost_usd,
           g.reuse_count, g.reuse_success_count, g.execution_attempt_id
      from scored g
     order by g.score desc, g.golden_state_id
     limit k;
end
$$;

-- debugloop.golden_match(problem, k, approved_only): the golden states for a
-- problem, best first (debugloop._golden_similar), with what an agent needs to
-- reuse them. Raises DL001 for an empty problem or k outside 1..100. Locks: none.
create or replace function debugloop.golden_match(problem text, k integer default 5, approved_only boolean default false)
returns table (golden_state_id uuid, similarity real, score real, approval_status text, problem_description text,
               problem_category text, solution_summary text, model_used text, agent_name text, tools_used jsonb,
               stf_ids uuid[], quality_score numeric, cost_usd numeric, reuse_count integer, reuse_success_count integer,
               execution_attempt_id uuid)
language plpgsql
stable
as $$
begin
    perform debugloop._util_check_problem(problem, k, 100);
    return query
    select * from debugloop._golden_similar(debugloop._problem_probe(debugloop.util_fingerprint(problem), problem), k, coalesce(approved_only, false));
end
$$;
comment on function debugloop.golden_match(text, integer, boolean) is 'Golden states for problems like this one, best first (similarity, quality, approval, reuse).';

-- debugloop._golden_withdraw(attempt): a failed attempt withdraws the pending,
-- automatically nominated golden states of earlier attempts of its chain: they
-- are rejected by debugloop, with the reason. Locks: those golden states' rows.
create or replace function debugloop._golden_withdraw(attempt debugloop.debug_execution_attempts)
returns void
language plpgsql
volatile
as $$
declare
    g record;
begin
    for g in
        select s.golden_state_id
          from debugloop.debug_golden_states s
          join debugloop.debug_execution_attempts a on a.attempt_id = s.execution_attempt_id
         where s.correlation_id = attempt.correlation_id and s.approval_status = 'pending'
           and s.nomination = 'automatic' and a.started_at < attempt.started_at
         order by s.golden_state_id
    loop
        perform debugloop._golden_review(g.golden_state_id, 'rejected', null,
                                         format('attempt %s later in its chain failed', attempt.attempt_id), true);
    end loop;
end
$$;

-- debugloop._golden_consider(attempt): what a finished attempt means for golden
-- states, with enable_golden_states on for the session. A successful attempt that
-- passes the thresholds (_golden_evidence) is nominated, and approved by debugloop
-- when it passes the higher bar too: successes by other peers, never the
-- nominee's own claims alone. The same request solved again with the same
-- approach makes no second golden state: it is evidence for the first, whose
-- automatic approval is weighed again. Concurrent successes of one request and
-- approach queue on that golden state's row (or on its unique key while it is
-- being inserted), so that one golden state is made and approved once. Attempts
-- without a quality_score are never nominated. A failed attempt withdraws the
-- pending automatic nominations of earlier attempts of its chain
-- (_golden_withdraw). Why: the golden trigger's rule. Locks: the golden state's
-- row (FOR UPDATE), or inserts it.
create or replace function debugloop._golden_consider(attempt debugloop.debug_execution_attempts)
returns void
language plpgsql
volatile
as $$
declare
    evidence jsonb;
    golden debugloop.debug_golden_states;
    golden_id uuid;
    subject debugloop.debug_execution_attempts;
begin
    if not debugloop.settings_flag('enable_golden_states') then
        return;
    end if;
    if attempt.status in ('error', 'timeout') then
        perform debugloop._golden_withdraw(attempt);
        return;
    end if;
    if attempt.status <> 'success' or attempt.quality_score is null
       or attempt.quality_score < debugloop._settings_number('golden_min_quality') then
        return;
    end if;
    loop
        select g.* into golden
          from debugloop.debug_golden_states g
         where g.problem_hash = attempt.user_request_hash
           and coalesce(g.approach_hash, '') = coalesce(attempt.approach_hash, '')
           and g.approval_status <> 'rejected'
           for update;
        exit when found;
        evidence := debugloop._golden_evidence(attempt);
        if not (evidence ->> 'nominate')::boolean then
            return;
        end if;
        golden_id := debugloop._golden_insert(attempt, 'automatic', 'debugloop', null, attempt.quality_score, null,
                                              evidence);
        if golden_id is not null then
            if (evidence ->> 'approve')::boolean then
                perform debugloop._golden_review(golden_id, 'approved', null, debugloop._golden_approval_note(evidence),
                                                 true);
            end if;
            return;
        end if;
        if exists (select from debugloop.debug_golden_states g where g.execution_attempt_id = attempt.attempt_id) then
            return;  -- the attempt has a golden state already (a rejected one)
        end if;
        -- a concurrent success of the same request and approach inserted it first:
        -- look again (a new statement sees it committed) and weigh it
    end loop;
    if golden.approval_status <> 'pending' or golden.nomination <> 'automatic' then
        return;
    end if;
    select a.* into subject from debugloop.debug_execution_attempts a where a.attempt_id = golden.execution_attempt_id;
    evidence := debugloop._golden_evidence(subject);
    update debugloop.debug_golden_states g set nomination_evidence = evidence
     where g.golden_state_id = golden.golden_state_id;
    if (evidence ->> 'approve')::boolean then
        perform debugloop._golden_review(golden.golden_state_id, 'approved', null,
                                         debugloop._golden_approval_note(evidence), true);
    end if;
end
$$;

-- debugloop._golden_approval_note(evidence): the note of an automatic approval.
-- Locks: none.
create or replace function debugloop._golden_approval_note(evidence jsonb)
returns text
language sql
immutable
as $$
    select format('automatic: quality %s, %s independent successes at similar problems (evidence %s)',
                  evidence ->> 'quality', evidence ->> 'independent_successes', evidence ->> 'evidence_weight')
$$;

-- debugloop.v_golden_states: the golden state browser's list.
create or replace view debugloop.v_golden_states as
select g.golden_state_id, g.approval_status, g.nomination, g.quality_score, g.problem_category, g.model_used,
       g.agent_name, g.cost_usd, g.reuse_count, g.reuse_success_count, cardinality(g.stf_ids) as stfs,
       left(g.problem_description, 200) as problem_description, left(g.solution_summary, 200) as solution_summary,
       g.nominated_by, g.nominated_at, g.approved_by, g.approved_at, g.execution_attempt_id
  from debugloop.debug_golden_states g;
comment on view debugloop.v_golden_states is 'Golden states with their status, quality, model, cost and reuse (newest first: order by nominated_at desc).';

-- debugloop.golden_list(status, limit): the golden states of v_golden_states (of
-- one approval status, when given), newest first, at most `limit` (null: all).
-- Locks: none.
create or replace function debugloop.golden_list(status text default null, "limit" integer default 50)
returns setof debugloop.v_golden_states
language sql
stable
as $$
    select v.*
      from debugloop.v_golden_states v
     where golden_list.status is null or v.approval_status = golden_list.status
     order by v.nominated_at desc, v.golden_state_id
     limit debugloop._util_limit(golden_list."limit")
$$;
comment on function debugloop.golden_list(text, integer) is 'Golden states, newest first, optionally of one approval status.';

-- debugloop.golden_export(status): every golden state (of one approval status,
-- when given) with its whole problem, solution, scores, reuse and the evidence its
-- nomination weighed, oldest first. Why: a CSV or JSON export. Locks: none.
create or replace function debugloop.golden_export(status text default null)
returns table (golden_state_id uuid, approval_status text, nomination text, nominated_by text,
               nominated_at timestamptz, approved_by text, approved_at timestamptz, approval_notes text,
               quality_score numeric, complexity_score numeric, reusability_score numeric, problem_category text,
               model_used text, agent_name text, cost_usd numeric, reuse_count integer, reuse_success_count integer,
               reuse_failure_count integer, last_reused_at timestamptz, execution_attempt_id uuid,
               correlation_id uuid, problem_hash text, problem_description text, solution_summary text,
               stf_ids uuid[], tools_used jsonb, nomination_evidence jsonb)
language sql
stable
as $$
    select g.golden_state_id, g.approval_status, g.nomination, g.nominated_by, g.nominated_at, g.approved_by,
           g.approved_at, g.approval_notes, g.quality_score, g.complexity_score, g.reusability_score,
           g.problem_category, g.model_used, g.agent_name, g.cost_usd, g.reuse_count, g.reuse_success_count,
           g.reuse_failure_count, g.last_reused_at, g.execution_attempt_id, g.correlation_id, g.problem_hash,
           g.problem_description, g.solution_summary, g.stf_ids, g.tools_used, g.nomination_evidence
      from debugloop.debug_golden_states g
     where golden_export.status is null or g.approval_status = golden_export.status
     order by g.nominated_at, g.golden_state_id
$$;
comment on function debugloop.golden_export(text) is 'Every golden state with its problem, solution, scores, reuse and evidence, oldest first (an export).';
