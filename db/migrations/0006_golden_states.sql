-- 0006 golden states and the manifest: the distinct problems agents were asked to
-- solve (for "similar problems"), golden states with their reviews and reuses, the
-- thresholds of nomination and of the manifest, and the STF usage statistics that
-- analytics_refresh() keeps.

-- One row per request fingerprint: the wording first seen and its embedding. What
-- "similar problems" means everywhere (known failures, estimates, golden states,
-- the manifest): the nearest rows of this table, not a scan of every attempt.
create table debugloop.debug_problems (
    user_request_hash text primary key,
    user_request      text not null,
    problem_category  text,
    embedding         halfvec(256),   -- debugloop.util_embed(user_request) in half precision
    first_seen_at     timestamptz not null default now()
);
comment on table debugloop.debug_problems is 'The distinct requests (by fingerprint) with an embedding, for finding similar problems. Filled by a trigger on attempts.';
create index debug_problems_embedding_idx on debugloop.debug_problems using hnsw (embedding halfvec_cosine_ops);

-- The attempts recorded before this migration. util_embed exists in a database that
-- has attempts (the code of 0005 is loaded); a fresh one has none, and the function
-- is only created after the migrations, so the statement runs only when needed.
do $$
begin
    if exists (select from debugloop.debug_execution_attempts) then
        execute $q$
            insert into debugloop.debug_problems (user_request_hash, user_request, problem_category, embedding, first_seen_at)
            select distinct on (a.user_request_hash) a.user_request_hash, a.user_request, a.problem_category,
                   debugloop.util_embed(a.user_request)::halfvec, a.started_at
              from debugloop.debug_execution_attempts a
             order by a.user_request_hash, a.started_at
        $q$;
    end if;
end
$$;

-- Estimates now take the similar problems' fingerprints (found once, through
-- debug_problems) instead of searching the attempts by trigram.
drop function if exists debugloop._attempt_estimate(text, text, text);

-- A proven solution: a successful attempt, nominated by hand or by the thresholds,
-- then approved or rejected by an admin. The seed's columns, plus the approval
-- status, the embedding of the problem, who solved it and for how much, the
-- evidence that the automatic nomination weighed, and reuse outcomes.
create table debugloop.debug_golden_states (
    golden_state_id      uuid primary key default gen_random_uuid(),

    -- the successful attempt
    execution_attempt_id uuid not null constraint debug_golden_states_attempt_fkey
                         references debugloop.debug_execution_attempts (attempt_id)
                         constraint debug_golden_states_attempt_key unique,
    correlation_id       uuid not null,
    agent_name           text,

    -- the problem solved
    problem_description  text not null,
    problem_category     text,
    problem_hash         text not null,   -- the request fingerprint
    embedding            halfvec(256),    -- debugloop.util_embed(problem_description)

    -- the solution
    solution_summary     text not null constraint debug_golden_states_summary_nonempty check (btrim(solution_summary) <> ''),
    stf_ids              uuid[] not null default '{}',
    tools_used           jsonb,
    model_used           text,
    cost_usd             numeric,

    -- quality, each 0..1
    quality_score        numeric(3, 2) not null,
    complexity_score     numeric(3, 2),
    reusability_score    numeric(3, 2),

    -- nomination and approval
    nomination           text not null default 'manual'
                         constraint debug_golden_states_nomination_known check (nomination in ('manual', 'automatic')),
    nomination_evidence  jsonb,
    nominated_by         text,
    nominated_at         timestamptz not null default now(),
    approval_status      text not null default 'pending'
                         constraint debug_golden_states_approval_known check (approval_status in ('pending', 'approved', 'rejected')),
    approved_by          text,
    approved_at          timestamptz,
    approval_notes       text,

    -- reuse
    reuse_count          integer not null default 0,
    reuse_success_count  integer not null default 0,
    reuse_failure_count  integer not null default 0,
    last_reused_at       timestamptz,

    created_at           timestamptz not null default now(),
    updated_at           timestamptz not null default now(),

    constraint debug_golden_states_scores_range check (
        quality_score between 0 and 1 and coalesce(complexity_score, 0) between 0 and 1
        and coalesce(reusability_score, 0) between 0 and 1),
    constraint debug_golden_states_reuse_counts check (
        reuse_success_count >= 0 and reuse_failure_count >= 0
        and reuse_count = reuse_success_count + reuse_failure_count)
);
comment on table debugloop.debug_golden_states is 'Proven solutions: successful attempts nominated (by hand or by thresholds) and reviewed by an admin.';

create index debug_golden_states_category_idx on debugloop.debug_golden_states (problem_category);
create index debug_golden_states_quality_idx on debugloop.debug_golden_states (quality_score desc);
create index debug_golden_states_reuse_idx on debugloop.debug_golden_states (reuse_count desc);
create index debug_golden_states_problem_hash_idx on debugloop.debug_golden_states (problem_hash);
create index debug_golden_states_correlation_idx on debugloop.debug_golden_states (correlation_id);
create index debug_golden_states_status_idx on debugloop.debug_golden_states (approval_status, nominated_at desc);
create index debug_golden_states_embedding_idx on debugloop.debug_golden_states using hnsw (embedding halfvec_cosine_ops);

-- Approvals, rejections and reopenings: who, when, why.
create table debugloop.debug_golden_reviews (
    review_id       bigint generated always as identity primary key,
    golden_state_id uuid not null constraint debug_golden_reviews_golden_state_fkey
                    references debugloop.debug_golden_states (golden_state_id),
    decision        text not null constraint debug_golden_reviews_decision_known check (decision in ('approved', 'rejected', 'pending')),
    reviewed_by     text not null,
    notes           text,
    reviewed_at     timestamptz not null default now()
);
create index debug_golden_reviews_golden_state_idx on debugloop.debug_golden_reviews (golden_state_id, reviewed_at);
comment on table debugloop.debug_golden_reviews is 'The review history of golden states (debugloop itself for automatic decisions).';

-- A reuse of a golden state by an attempt, and whether that attempt succeeded.
create table debugloop.debug_golden_reuses (
    reuse_id        bigint generated always as identity primary key,
    golden_state_id uuid not null constraint debug_golden_reuses_golden_state_fkey
                    references debugloop.debug_golden_states (golden_state_id),
    attempt_id      uuid not null constraint debug_golden_reuses_attempt_fkey
                    references debugloop.debug_execution_attempts (attempt_id),
    success         boolean not null,
    reused_at       timestamptz not null default now(),
    constraint debug_golden_reuses_once unique (golden_state_id, attempt_id)
);
comment on table debugloop.debug_golden_reuses is 'Reuses of golden states by attempts, with their outcome.';

-- By attempt: the STFs an attempt used (metrics, golden states) and produced.
create index debug_stf_uses_attempt_idx on debugloop.debug_stf_uses (attempt_id);
create index debug_stf_provenance_attempt_idx on debugloop.debug_stf_provenance (attempt_id) where attempt_id is not null;

-- STF usage statistics for DBAs, kept by debugloop.analytics_refresh() (concurrently:
-- readers are never blocked). Computed from the uses, not the counters on the STF.
create materialized view debugloop.mv_stf_usage_stats as
select f.stf_id, f.stf_name, f.stf_language, f.problem_category, f.approval_status, f.quality_score,
       f.discovered_at,
       count(u.use_id) as uses,
       count(u.use_id) filter (where u.success) as successful_uses,
       count(u.use_id) filter (where not u.success) as failed_uses,
       round(count(u.use_id) filter (where u.success)::numeric / nullif(count(u.use_id), 0), 4) as success_rate,
       count(distinct u.correlation_id) as tasks,
       count(distinct a.agent_name) as agents,
       max(u.used_at) as last_used_at,
       coalesce(sum(a.cost_usd), 0) as cost_of_using_attempts_usd,
       avg(a.cost_usd) as avg_cost_of_using_attempt_usd,
       (select count(*) from debugloop.debug_stf_provenance p where p.stf_id = f.stf_id) as producers
  from debugloop.debug_transform_functions f
  left join debugloop.debug_stf_uses u on u.stf_id = f.stf_id
  left join debugloop.debug_execution_attempts a on a.attempt_id = u.attempt_id
 group by f.stf_id;
create unique index mv_stf_usage_stats_stf_idx on debugloop.mv_stf_usage_stats (stf_id);
create index mv_stf_usage_stats_uses_idx on debugloop.mv_stf_usage_stats (uses desc);
comment on materialized view debugloop.mv_stf_usage_stats is 'STF usage: uses, outcomes, tasks, agents, cost of the attempts that used it. Refreshed by debugloop.analytics_refresh().';

insert into debugloop.settings (key, value, value_type, overridable, min_value, max_value, description) values
    ('problem_min_similarity', '0.3', 'numeric', false, 0, 1,
     'Two requests are similar problems when the cosine similarity of their embeddings reaches this.'),
    ('problem_similar_limit', '20', 'integer', false, 1, 40,
     'How many similar problems (distinct requests) known failures, estimates, nomination and the manifest look at (at most hnsw.ef_search, 40).'),
    ('golden_min_quality', '0.8', 'numeric', false, 0, 1,
     'A successful attempt is nominated automatically only at this quality_score or above.'),
    ('golden_max_cost_ratio', '2', 'numeric', false, 1, 1000,
     'A nominee may cost at most this multiple of the median cost of successful attempts at similar problems.'),
    ('golden_cost_min_samples', '3', 'integer', false, 1, 1000,
     'The cost test needs at least this many priced successes at similar problems; with fewer it is not applied.'),
    ('golden_auto_approve_quality', '0.9', 'numeric', false, 0, 1,
     'A nominee at this quality or above with enough independent successes is approved automatically.'),
    ('golden_auto_approve_min_successes', '2', 'integer', false, 1, 1000,
     'Successes at the same or similar problems in other retry chains that automatic approval needs.'),
    ('manifest_stf_min_similarity', '0.15', 'numeric', false, 0, 1,
     'The manifest lists an STF only when its embedding similarity to the problem reaches this (stf_match itself has no floor).'),
    ('manifest_min_model_attempts', '3', 'integer', false, 1, 1000,
     'A model is compared in the manifest''s cost block only with at least this many attempts at similar problems.'),
    ('manifest_cheaper_max_rate_drop', '0.05', 'numeric', false, 0, 1,
     'A cheaper model is offered when its success rate at similar problems is at most this much below the given model''s.');
