-- analytics: views for DBAs and BI tools. Sums are exact numeric USD; an
-- attempt without a price adds nothing to a cost and is counted as unpriced; a
-- running one counts (as priced) with the cost of the responses recorded so far.

-- debugloop.v_cost_breakdown: attempts, outcomes, tokens and cost grouped three
-- ways (dimension 'agent', 'category' or 'model'); the v_cost_by_* views below
-- read one dimension each.
create or replace view debugloop.v_cost_breakdown as
select case when grouping(a.agent_name) = 0 then 'agent'
            when grouping(a.problem_category) = 0 then 'category'
            else 'model' end as dimension,
       a.agent_type, a.agent_name, a.problem_category, a.model_used,
       count(*) as attempts,
       count(*) filter (where a.status = 'success') as successes,
       count(*) filter (where a.status in ('error', 'timeout')) as failures,
       count(*) filter (where a.cost_status in ('priced', 'priced_so_far')) as priced_attempts,
       count(*) filter (where a.cost_status = 'unpriced') as unpriced_attempts,
       coalesce(sum(a.cost_usd), 0) as total_cost_usd,
       avg(a.cost_usd) as avg_cost_usd,
       coalesce(sum(a.tokens_input), 0)::bigint as tokens_input,
       coalesce(sum(a.tokens_output), 0)::bigint as tokens_output,
       coalesce(sum(a.cache_read_tokens), 0)::bigint as cache_read_tokens
  from debugloop.debug_execution_attempts a
 group by grouping sets ((a.agent_type, a.agent_name), (a.problem_category), (a.model_used));
comment on view debugloop.v_cost_breakdown is 'Attempts, outcomes, tokens and exact cost by agent, by problem category and by model.';

create or replace view debugloop.v_cost_by_agent as
select agent_type, agent_name, attempts, successes, failures, priced_attempts, unpriced_attempts,
       total_cost_usd, avg_cost_usd, tokens_input, tokens_output, cache_read_tokens
  from debugloop.v_cost_breakdown where dimension = 'agent';
comment on view debugloop.v_cost_by_agent is 'Cost per agent type and agent.';

create or replace view debugloop.v_cost_by_category as
select problem_category, attempts, successes, failures, priced_attempts, unpriced_attempts,
       total_cost_usd, avg_cost_usd, tokens_input, tokens_output, cache_read_tokens
  from debugloop.v_cost_breakdown where dimension = 'category';
comment on view debugloop.v_cost_by_category is 'Cost per problem category.';

create or replace view debugloop.v_cost_by_model as
select model_used, attempts, successes, failures, priced_attempts, unpriced_attempts,
       total_cost_usd, avg_cost_usd, tokens_input, tokens_output, cache_read_tokens
  from debugloop.v_cost_breakdown where dimension = 'model';
comment on view debugloop.v_cost_by_model is 'Cost per model.';

-- debugloop.v_costliest_attempts: priced attempts ranked by cost (1 = costliest),
-- running ones with the cost of their responses so far.
create or replace view debugloop.v_costliest_attempts as
select rank() over (order by a.cost_usd desc) as cost_rank,
       a.attempt_id, a.correlation_id, a.agent_name, a.model_used, a.status, a.started_at,
       a.tokens_input, a.tokens_output, a.cost_usd, left(a.user_request, 200) as user_request
  from debugloop.debug_execution_attempts a
 where a.cost_status in ('priced', 'priced_so_far');
comment on view debugloop.v_costliest_attempts is 'Priced attempts ranked by exact cost, costliest first.';

-- debugloop.v_cost_per_success: each task (correlation) whose last finished
-- attempt succeeded, with the cost of its whole retry chain: the cost of one
-- successful outcome. fully_priced is false when an attempt of it has no price.
create or replace view debugloop.v_cost_per_success as
select a.correlation_id,
       count(*) as attempts,
       count(*) filter (where a.status <> 'success') as failed_attempts,
       coalesce(sum(a.cost_usd), 0) as chain_cost_usd,
       bool_and(a.cost_status = 'priced') as fully_priced,
       min(a.started_at) as started_at,
       max(a.completed_at) as solved_at,
       (array_agg(a.model_used order by a.completed_at desc nulls last))[1] as final_model,
       (array_agg(a.agent_name order by a.completed_at desc nulls last))[1] as final_agent
  from debugloop.debug_execution_attempts a
 group by a.correlation_id
having (array_agg(a.status order by a.completed_at desc nulls last))[1] = 'success'
   and bool_and(a.status <> 'running');
comment on view debugloop.v_cost_per_success is 'Cost of each retry chain that ended in success (cost per successful outcome).';

-- debugloop.v_unpriced_attempts: finished attempts with usage but no price.
create or replace view debugloop.v_unpriced_attempts as
select a.attempt_id, a.correlation_id, a.agent_name, a.model_used, a.started_at, a.completed_at,
       a.tokens_input, a.tokens_output
  from debugloop.debug_execution_attempts a
 where a.cost_status = 'unpriced';
comment on view debugloop.v_unpriced_attempts is 'Attempts whose model had no price; debugloop.price_reprice prices them once one exists.';

-- debugloop.analytics_refresh(): refresh the materialized views of analytics
-- (mv_stf_usage_stats) concurrently, so that readers are never blocked, and report
-- each one's rows and time. Admin only (it runs as the views' owner). Locks: the
-- views (EXCLUSIVE: one refresh at a time; reads go on).
create or replace function debugloop.analytics_refresh()
returns table (view_name text, row_count bigint, duration_ms numeric)
language plpgsql
volatile
security definer
set search_path = debugloop, pg_catalog, pg_temp
as $$
declare
    started timestamptz;
begin
    -- the view's sorts and hashes in memory rather than on disk (bench/manifest.py)
    perform set_config('work_mem', '64MB', true);
    foreach view_name in array array['mv_stf_usage_stats'] loop
        started := clock_timestamp();
        execute format('refresh materialized view concurrently debugloop.%I', view_name);
        duration_ms := round(extract(epoch from clock_timestamp() - started)::numeric * 1000, 1);
        execute format('select count(*) from debugloop.%I', view_name) into row_count;
        return next;
    end loop;
end
$$;
comment on function debugloop.analytics_refresh() is 'Refresh the analytics materialized views concurrently; rows and milliseconds of each (admin).';
revoke execute on function debugloop.analytics_refresh() from public;
grant execute on function debugloop.analytics_refresh() to debugloop_admin;

-- debugloop.analytics_stf_usage(limit): the rows of mv_stf_usage_stats (as of its
-- last refresh), most used first, then by quality, ties by name (so that a
-- report reads the same twice), at most `limit` (null: all). Locks: none.
create or replace function debugloop.analytics_stf_usage("limit" integer default 20)
returns setof debugloop.mv_stf_usage_stats
language sql
stable
as $$
    select u.*
      from debugloop.mv_stf_usage_stats u
     order by u.uses desc, u.quality_score desc nulls last, u.stf_name, u.stf_id
     limit debugloop._util_limit(analytics_stf_usage."limit")
$$;
comment on function debugloop.analytics_stf_usage(integer) is 'STF usage statistics (as of the last analytics_refresh), most used first.';

-- debugloop.v_quality_summary: one row: STF quality and approvals, golden-state
-- approvals, and the confidence of the best error->success mappings.
create or replace view debugloop.v_quality_summary as
select s.stfs, s.avg_stf_quality, s.stfs_approved, s.stfs_pending, s.stfs_rejected,
       round(s.stfs_approved::numeric / nullif(s.stfs_approved + s.stfs_rejected, 0), 4) as stf_approval_rate,
       g.golden_states, g.golden_approved, g.golden_pending, g.golden_rejected,
       round(g.golden_approved::numeric / nullif(g.golden_approved + g.golden_rejected, 0), 4) as golden_approval_rate,
       m.mappings, m.top10_mapping_confidence
  from (select count(*) as stfs, round(avg(f.quality_score), 4) as avg_stf_quality,
               count(*) filter (where f.approval_status = 'approved') as stfs_approved,
               count(*) filter (where f.approval_status = 'pending') as stfs_pending,
               count(*) filter (where f.approval_status = 'rejected') as stfs_rejected
          from debugloop.debug_transform_functions f) s,
       (select count(*) as golden_states,
               count(*) filter (where x.approval_status = 'approved') as golden_approved,
               count(*) filter (where x.approval_status = 'pending') as golden_pending,
               count(*) filter (where x.approval_status = 'rejected') as golden_rejected
          from debugloop.debug_golden_states x) g,
       (select (select count(*) from debugloop.debug_error_success_mappings) as mappings,
               (select round(avg(t.confidence_score), 4)
                  from (select confidence_score from debugloop.debug_error_success_mappings
                         order by confidence_score desc limit 10) t) as top10_mapping_confidence) m;
comment on view debugloop.v_quality_summary is 'STF quality and approval rate, golden-state approval rate, confidence of the top 10 mappings.';

-- debugloop.v_stf_quality: STF quality per language and category: how many, the
-- mean of each quality dimension, and how reviews went.
create or replace view debugloop.v_stf_quality as
select f.stf_language, f.problem_category, count(*) as stfs,
       round(avg(f.quality_score), 4) as avg_quality, round(avg(f.evidence_score), 4) as avg_evidence,
       round(avg(f.reuse_score), 4) as avg_reuse, round(avg(f.generality_score), 4) as avg_generality,
       round(avg(f.documentation_score), 4) as avg_documentation, round(avg(f.size_score), 4) as avg_size,
       count(*) filter (where f.approval_status = 'approved') as approved,
       count(*) filter (where f.approval_status = 'rejected') as rejected,
       round(count(*) filter (where f.approval_status = 'approved')::numeric
             / nullif(count(*) filter (where f.approval_status <> 'pending'), 0), 4) as approval_rate
  from debugloop.debug_transform_functions f
 group by f.stf_language, f.problem_category;
comment on view debugloop.v_stf_quality is 'STF quality dimensions and approval rate per language and category.';

-- debugloop.analytics_metrics(since): the success metrics of the debug
-- intelligence (seed, Part 1) over the window from `since` to now, each with its
-- target and whether it is met. Rates per day and per week count a window shorter
-- than a day as one day (a week as one week):
--   stfs_extracted_per_day         STFs discovered in the window / days           > 50
--   stf_reuse_rate                 STFs reused in the window / STFs in the registry > 0.30
--   golden_states_per_week         golden states nominated / weeks                 > 10
--   mappings_per_day               error->success mappings created / days          > 20
--   avg_stf_quality                mean quality of the STFs discovered             > 0.70
--   golden_approval_rate           approved / (approved + rejected), decided in the window > 0.80
--   top10_mapping_confidence       mean confidence of the 10 most confident mappings
--                                  that succeeded in the window                    > 0.80
--   transformation_reuse_rate      finished attempts that reused an STF / finished attempts > 0.30
--   golden_approval_hours_median   median hours from an attempt's end to its golden
--                                  state's approval, approved in the window        < 1
-- value is null when there is nothing to measure. Raises DL001 for a since that
-- is null, in the future, or not a finite time from 1970. Locks: none.
create or replace function debugloop.analytics_metrics(since timestamptz)
returns table (metric text, value numeric, target numeric, comparison text, met boolean, unit text)
language plpgsql
stable
as $$
declare
    days numeric;
begin
    if since is null or since > now() then
        raise exception 'since must be a time in the past, got %', coalesce(since::text, 'NULL')
            using errcode = 'DL001', column = 'since';
    end if;
    perform debugloop._util_check_time(since, 'since');  -- '-infinity' would make every rate 0
    days := greatest(extract(epoch from now() - since)::numeric / 86400, 1);
    return query
    with m(metric, value, target, comparison, unit) as (values
        ('stfs_extracted_per_day',
         (select count(*) from debugloop.debug_transform_functions f where f.discovered_at >= since) / days,
         50::numeric, '>', 'STFs per day'),
        ('stf_reuse_rate',
         (select count(distinct u.stf_id) from debugloop.debug_stf_uses u where u.used_at >= since)
           / nullif((select count(*) from debugloop.debug_transform_functions), 0)::numeric,
         0.30, '>', 'share of STFs'),
        ('golden_states_per_week',
         (select count(*) from debugloop.debug_golden_states g where g.nominated_at >= since) / greatest(days / 7, 1),
         10, '>', 'golden states per week'),
        ('mappings_per_day',
         (select count(*) from debugloop.debug_error_success_mappings x where x.created_at >= since) / days,
         20, '>', 'mappings per day'),
        ('avg_stf_quality',
         (select avg(f.quality_score) from debugloop.debug_transform_functions f where f.discovered_at >= since),
         0.70, '>', 'quality 0..1'),
        ('golden_approval_rate',
         (select count(*) filter (where g.approval_status = 'approved')::numeric / nullif(count(*), 0)
            from debugloop.debug_golden_states g
           where g.approved_at >= since and g.approval_status in ('approved', 'rejected')),
         0.80, '>', 'share of decided golden states'),
        ('top10_mapping_confidence',
         (select avg(t.confidence_score)
            from (select x.confidence_score from debugloop.debug_error_success_mappings x
                   where x.last_success_at >= since order by x.confidence_score desc limit 10) t),
         0.80, '>', 'confidence 0..1'),
        ('transformation_reuse_rate',
         (select count(*) filter (where cardinality(a.stf_ids) > 0 or u.attempt_id is not null)::numeric
                 / nullif(count(*), 0)
            from debugloop.debug_execution_attempts a
            left join (select distinct x.attempt_id from debugloop.debug_stf_uses x) u on u.attempt_id = a.attempt_id
           where a.started_at >= since and a.status <> 'running'),
         0.30, '>', 'share of attempts'),
        ('golden_approval_hours_median',
         (select percentile_cont(0.5) within group (order by extract(epoch from g.approved_at - a.completed_at) / 3600)::numeric
            from debugloop.debug_golden_states g
            join debugloop.debug_execution_attempts a on a.attempt_id = g.execution_attempt_id
           where g.approval_status = 'approved' and g.approved_at >= since),
         1, '<', 'hours'))
    select m.metric, round(m.value, 4), m.target, m.comparison,
           case when m.value is null then null
                when m.comparison = '>' then m.value > m.target else m.value < m.target end,
           m.unit
      from m;
end
$$;
comment on function debugloop.analytics_metrics(timestamptz) is 'The success metrics of the debug intelligence since a time, with targets and whether each is met.';

-- debugloop.analytics_costs_by_period(period, since, until, timezone, breakdown):
-- tokens by kind and cost of the attempts with usage, by day, ISO week (from
-- Monday), month or session (task: correlation id), as ccusage reports Claude Code
-- logs: a day is the date of an attempt's start in `timezone` (IANA, default UTC),
-- `since` and `until` are dates in it, both inclusive (null: no bound). Running
-- attempts count with the responses recorded so far (`running` says how many of a
-- row are). With `breakdown`, one row per period and model, else one per period
-- with the models it used. input_tokens are uncached prompt tokens,
-- cache_write_tokens every cache write (5-minute and 1-hour), output_tokens include
-- reasoning. Periods in order (sessions by their last activity), models by cost.
-- Raises DL001 for another period, an unknown timezone, or until before since.
-- Locks: none.
create or replace function debugloop.analytics_costs_by_period(
    period text,
    since date default null,
    until date default null,
    timezone text default 'UTC',
    breakdown boolean default false
)
returns table (period_key text, period_start timestamptz, title text, model text, models text[], attempts bigint,
               running bigint, unpriced bigint, input_tokens bigint, output_tokens bigint, cache_write_tokens bigint,
               cache_read_tokens bigint, total_tokens bigint, cost_usd numeric, first_at timestamptz,
               last_at timestamptz)
language plpgsql
stable
as $$
declare
    zone text := coalesce(nullif(btrim(timezone), ''), 'UTC');
begin
    if period is null or period not in ('daily', 'weekly', 'monthly', 'session') then
        raise exception 'period must be daily, weekly, monthly or session, got %', coalesce(quote_literal(period), 'NULL')
            using errcode = 'DL001', column = 'period';
    end if;
    if length(zone) > 64 or not exists (select from pg_timezone_names z where z.name = zone) then
        raise exception 'timezone must be an IANA time zone name such as UTC or Europe/Berlin, got %', quote_literal(left(zone, 64))
            using errcode = 'DL001', column = 'timezone';
    end if;
    if since is not null and until is not null and until < since then
        raise exception 'until (%) is before since (%)', until, since using errcode = 'DL001', column = 'until';
    end if;
    return query
    with a as (
        select x.*, (x.started_at at time zone zone) as local_start,
               case period
                   when 'daily' then to_char(x.started_at at time zone zone, 'YYYY-MM-DD')
                   when 'weekly' then to_char(date_trunc('week', x.started_at at time zone zone), 'YYYY-MM-DD')
                   when 'monthly' then to_char(x.started_at at time zone zone, 'YYYY-MM')
                   else x.correlation_id::text end as key
          from debugloop.debug_execution_attempts x
         where x.usage_raw is not null and x.input_tokens is not null
           and (since is null or (x.started_at at time zone zone)::date >= since)
           and (until is null or (x.started_at at time zone zone)::date <= until)
    ), g as (
        select a.key, case when breakdown then coalesce(a.model_used, '(none)') end as m,
               array_agg(distinct coalesce(a.model_used, '(none)')) as ms,
               count(*) as n, count(*) filter (where a.status = 'running') as r,
               count(*) filter (where a.cost_status = 'unpriced') as u,
               sum(a.input_tokens)::bigint as i, sum(a.output_tokens + a.reasoning_tokens)::bigint as o,
               sum(a.cache_write_tokens + a.cache_write_1h_tokens)::bigint as w, sum(a.cache_read_tokens)::bigint as c,
               coalesce(sum(a.cost_usd), 0) as cost,
               min(a.started_at) as first_at, max(coalesce(a.completed_at, a.started_at)) as last_at,
               min(a.local_start) as local_first
          from a
         group by 1, 2
    )
    select g.key,
           case period when 'session' then g.first_at
                       when 'daily' then (g.key::date)::timestamp at time zone zone
                       when 'weekly' then (g.key::date)::timestamp at time zone zone
                       else (g.key || '-01')::date::timestamp at time zone zone end,
           case when period = 'session' then
               (select coalesce(s.title, s.session_key) from debugloop.debug_import_sessions s where s.correlation_id::text = g.key limit 1) end,
           g.m, (select array_agg(x order by x) from unnest(g.ms) x), g.n, g.r, g.u, g.i, g.o, g.w, g.c, g.i + g.o + g.w + g.c,
           g.cost, g.first_at, g.last_at
      from g
     order by case when period = 'session' then max(g.last_at) over (partition by g.key) end, g.key, g.cost desc, g.m;
end
$$;
comment on function debugloop.analytics_costs_by_period(text, date, date, text, boolean)
    is 'Tokens by kind and cost by day, ISO week, month or session (as ccusage reports), per model with breakdown.';
