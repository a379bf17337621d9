-- analytics: views for DBAs and BI tools. Sums are exact numeric USD; an
-- attempt without a price adds nothing to a cost and is counted as unpriced.

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
       count(*) filter (where a.cost_status = 'priced') as priced_attempts,
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

-- debugloop.v_costliest_attempts: priced attempts ranked by cost (1 = costliest).
create or replace view debugloop.v_costliest_attempts as
select rank() over (order by a.cost_usd desc) as cost_rank,
       a.attempt_id, a.correlation_id, a.agent_name, a.model_used, a.status, a.started_at,
       a.tokens_input, a.tokens_output, a.cost_usd, left(a.user_request, 200) as user_request
  from debugloop.debug_execution_attempts a
 where a.cost_status = 'priced';
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
comment on view debugloop.v_unpriced_attempts is 'Attempts whose model had no price; debugloop.prices_reprice prices them once one exists.';
