-- manifest: what the next agent is told before it runs. One document (jsonb,
-- versioned) assembled from the other domains: STFs (stf_match), golden states
-- (_golden_similar), known failures (_error_known_failures), likely errors and their
-- fixes (_error_likely_fixes) and a cost block, all for the same problem and its
-- similar problems (_problem_neighbours, found once). manifest_markdown renders it
-- for a prompt within a size budget. Reads only.

-- debugloop._manifest_cost(model, fingerprint, similar): the manifest's cost
-- block, from the latest 100 finished attempts at the problem and at each similar
-- one (null when there is nothing to say):
--   estimate       p50/p90 tokens and cost of the problem with `model` (_attempt_estimate)
--   similar_solved tasks (retry chains) that succeeded, and their mean cost, retries included
--   models         per model: attempts, successes, success rate, mean cost of a priced
--                  attempt, cost per success; models with manifest_min_model_attempts or more
--   cheaper_models the models of that list other than `model` whose mean cost is below
--                  the model's (its own mean when it has enough attempts, else the p50
--                  estimate) and whose success rate is at most
--                  manifest_cheaper_max_rate_drop below the model's (else below the
--                  success rate of all those attempts), not deprecated by the price
--                  list now, cheapest first, at most 3
--   deprecation    the deprecation date and successor model the price list gives
--                  `model` (LiteLLM's deprecation_date, successor_model), when it gives one
-- Locks: none.
create or replace function debugloop._manifest_cost(model text, fingerprint text, similar_hashes text[])
returns jsonb
language sql
stable
as $$
    with related as materialized (
        select r.* from debugloop._related_attempts(fingerprint || similar_hashes, 100) r where r.status <> 'running'
    ), settings as (
        select debugloop._settings_number('manifest_min_model_attempts')::integer as min_attempts,
               debugloop._settings_number('manifest_cheaper_max_rate_drop') as max_drop
    ), chains as (
        select r.correlation_id, sum(r.cost_usd) as cost, bool_and(r.cost_status = 'priced') as priced
          from related r
         group by r.correlation_id
        having bool_or(r.status = 'success')
    ), models_used as (
        select r.model_used as model, count(*) as attempts, count(*) filter (where r.status = 'success') as successes,
               round(count(*) filter (where r.status = 'success')::numeric / count(*), 4) as success_rate,
               round(avg(r.cost_usd), 8) as avg_cost_usd,
               round(sum(r.cost_usd) / nullif(count(*) filter (where r.status = 'success'), 0), 8) as cost_per_success_usd
          from related r, settings st
         where r.model_used is not null
         group by r.model_used, st.min_attempts
        having count(*) >= st.min_attempts
    ), models as (
        -- the price list's deprecation date and successor of each (advice never names a retired model)
        select m.*, p.deprecated_at, p.successor_model
          from models_used m
          left join lateral debugloop.price_lookup(m.model, now()) p on true
    ), estimate as (
        select e.* from debugloop._attempt_estimate(_manifest_cost.model, fingerprint, similar_hashes) e
         where _manifest_cost.model is not null
    ), base as (
        select coalesce(g.success_rate,
                        (select round(count(*) filter (where r.status = 'success')::numeric / nullif(count(*), 0), 4)
                           from related r)) as success_rate,
               coalesce(g.avg_cost_usd, (select e.cost_p50_usd from estimate e)) as avg_cost_usd
          from (select 1) one
          left join models g on lower(g.model) = lower(_manifest_cost.model)
    ), cheaper as (
        select m.*
          from models m, base b, settings st
         where _manifest_cost.model is not null and lower(m.model) <> lower(_manifest_cost.model)
           and m.avg_cost_usd < b.avg_cost_usd and m.success_rate >= b.success_rate - st.max_drop
           and (m.deprecated_at is null or m.deprecated_at > now())
         order by m.avg_cost_usd, m.success_rate desc, m.model
         limit 3
    ), block as (
        select jsonb_strip_nulls(jsonb_build_object(
            'model', _manifest_cost.model,
            'estimate', (select jsonb_build_object('basis', e.basis, 'samples', e.samples,
                                                   'input_tokens_p50', e.input_tokens_p50, 'input_tokens_p90', e.input_tokens_p90,
                                                   'output_tokens_p50', e.output_tokens_p50, 'output_tokens_p90', e.output_tokens_p90,
                                                   'cost_p50_usd', e.cost_p50_usd, 'cost_p90_usd', e.cost_p90_usd)
                           from estimate e where e.samples > 0),
            'similar_solved', (select jsonb_build_object('tasks', count(*), 'avg_cost_usd', round(avg(c.cost), 8))
                                 from chains c where c.priced having count(*) > 0),
            'models', (select jsonb_agg(to_jsonb(m) order by m.attempts desc, m.model) from models m),
            'cheaper_models', (select jsonb_agg(to_jsonb(c) order by c.avg_cost_usd, c.success_rate desc, c.model) from cheaper c),
            'deprecation', (select jsonb_build_object('deprecated_at', p.deprecated_at, 'successor_model', p.successor_model)
                              from debugloop.price_lookup(_manifest_cost.model, now()) p
                             where _manifest_cost.model is not null
                               and (p.deprecated_at is not null or p.successor_model is not null))
        )) as doc
    )
    select case when doc - 'model' <> '{}'::jsonb then doc end from block
$$;

-- debugloop._manifest_stf_sources(stf_id): where an STF's code came from, as the
-- manifest lists it: the first three distinct code pointers of its producers
-- (repository, branch, commit_sha, file_path, line_start, line_end; unknown
-- parts left out), oldest first, or null when none says. Reads at most 20
-- provenance rows (debug_stf_provenance_pointer_idx), whatever the number of
-- producers. Locks: none.
create or replace function debugloop._manifest_stf_sources(stf_id uuid)
returns jsonb
language sql
stable
as $$
    select jsonb_agg(d.src order by d.first)
      from (select x.src, min(x.provenance_id) as first
              from (select p.provenance_id,
                           jsonb_strip_nulls(jsonb_build_object(
                               'repository', p.repository, 'branch', p.branch, 'commit_sha', p.commit_sha,
                               'file_path', p.file_path, 'line_start', p.line_start, 'line_end', p.line_end)) as src
                      from debugloop.debug_stf_provenance p
                     where p.stf_id = _manifest_stf_sources.stf_id
                       and (p.file_path is not null or p.repository is not null or p.commit_sha is not null)
                     order by p.provenance_id
                     limit 20) x
             group by x.src
             order by first
             limit 3) d
$$;

-- debugloop._manifest_source(source): one code pointer of a manifest's STF as a
-- line of text: `repository@branch commit file:start-end`, unknown parts left
-- out, the commit cut to 12 digits. Locks: none.
create or replace function debugloop._manifest_source(source jsonb)
returns text
language sql
immutable
as $$
    select concat_ws(' ',
                     nullif(concat(source ->> 'repository', '@' || (source ->> 'branch')), ''),
                     left(source ->> 'commit_sha', 12),
                     (source ->> 'file_path')
                         || coalesce(':' || (source ->> 'line_start') || coalesce('-' || (source ->> 'line_end'), ''), ''))
$$;

-- debugloop.manifest(problem, agent_name, model, k): what the next agent should
-- know before it works on `problem`, as a versioned document (manifest_version 1;
-- README, "The manifest"):
--   stfs            the k best STFs (stf_match) at manifest_stf_min_similarity or more:
--                   id, name, confidence, counts, code, and where the code came from
--                   (sources: _manifest_stf_sources)
--   golden_states   the k best golden states for similar problems (_golden_similar)
--   known_failures  approaches that failed here and never succeeded, with their errors
--   error_fixes     errors met at the problem or similar ones that have a fix, with the best fix
--   cost            estimate for `model`, mean cost of similar solved tasks, cheaper models,
--                   and `spend`: the tokens of a similar request and the caller's available
--                   balance (_spending_manifest)
--   agent           this agent's attempts and successes at the problem and similar ones
-- A section is absent when it has nothing to say, or when its flag is off for the
-- session: stfs with enable_stf_extraction, golden_states with
-- enable_golden_states, cost with enable_cost_tracking. Raises DL001 for an empty
-- problem or k outside 1..20. Locks: none.
create or replace function debugloop.manifest(problem text, agent_name text default null, model text default null,
                                              k integer default 5)
returns jsonb
language plpgsql
stable
as $$
declare
    n record;
    doc jsonb;
    section jsonb;
    who text := nullif(btrim(agent_name), '');
    model_name text := nullif(btrim(model), '');
begin
    perform debugloop._util_check_problem(problem, k, 20);
    select * into n from debugloop._problem_neighbours(problem);
    doc := jsonb_build_object(
        'manifest_version', 1, 'generated_at', now(), 'problem', problem, 'fingerprint', n.fingerprint,
        'agent_name', who, 'model', model_name, 'k', k, 'similar_problems', cardinality(n.similar_hashes));

    if debugloop.settings_flag('enable_stf_extraction') then
        select jsonb_agg(jsonb_strip_nulls(jsonb_build_object(
                   'stf_id', m.stf_id, 'name', m.stf_name, 'language', m.stf_language, 'confidence', m.confidence,
                   'similarity', round(m.similarity::numeric, 3), 'quality_score', m.quality_score,
                   'approval_status', m.approval_status, 'usage_count', m.usage_count, 'success_count', m.success_count,
                   'failure_count', m.failure_count, 'success_rate', m.success_rate,
                   'description', coalesce(m.stf_description, m.docstring), 'code', m.stf_code,
                   'sources', debugloop._manifest_stf_sources(m.stf_id))) order by m.score desc)
          into section
          from debugloop.stf_match(problem, k) m
         where m.similarity >= debugloop._settings_number('manifest_stf_min_similarity')::real;
        doc := doc || jsonb_build_object('stfs', section);
    end if;

    if debugloop.settings_flag('enable_golden_states') then
        select jsonb_agg(jsonb_strip_nulls(jsonb_build_object(
                   'golden_state_id', g.golden_state_id, 'similarity', round(g.similarity::numeric, 3),
                   'approval_status', g.approval_status, 'problem', g.problem_description,
                   'solution_summary', g.solution_summary, 'model_used', g.model_used, 'agent_name', g.agent_name,
                   'tools_used', g.tools_used, 'stf_ids', to_jsonb(g.stf_ids), 'quality_score', g.quality_score,
                   'cost_usd', g.cost_usd, 'reuse_count', g.reuse_count, 'reuse_success_count', g.reuse_success_count))
                   order by g.score desc)
          into section
          from debugloop._golden_similar(n.probe, k, false) g;
        doc := doc || jsonb_build_object('golden_states', section);
    end if;

    select jsonb_agg(jsonb_build_object(
               'approach', f.approach_description, 'failures', f.failures, 'match', f.match,
               'last_failed_at', f.last_failed_at, 'errors', f.errors) order by f.ordinality)
      into section
      from debugloop._error_known_failures(n.fingerprint, n.similar_hashes, k) with ordinality f;
    doc := doc || jsonb_build_object('known_failures', section);

    select jsonb_agg(jsonb_strip_nulls(jsonb_build_object(
               'signature', e.signature, 'error_type', e.error_type, 'error_pattern', e.error_pattern,
               'category', e.category, 'seen', e.seen, 'fix', e.successful_approach, 'model_used', e.model_used,
               'confidence', e.confidence_score, 'wilson_lower_bound', e.wilson_lower_bound,
               'success_count', e.success_count, 'failure_count', e.failure_count, 'mapping_id', e.mapping_id))
               order by e.ordinality)
      into section
      from debugloop._error_likely_fixes(n.fingerprint || n.similar_hashes, k) with ordinality e;
    doc := doc || jsonb_build_object('error_fixes', section);

    if debugloop.settings_flag('enable_cost_tracking') then
        doc := doc || jsonb_build_object('cost', debugloop._spending_manifest(
                          debugloop._manifest_cost(model_name, n.fingerprint, n.similar_hashes), who));
    end if;

    if who is not null then
        select jsonb_build_object('agent_name', who, 'attempts', count(*), 'successes', count(*) filter (where r.status = 'success'))
          into section
          from debugloop._related_attempts(n.fingerprint || n.similar_hashes, 100) r
         where r.agent_name = who
        having count(*) > 0;
        doc := doc || jsonb_build_object('agent', section);
    end if;
    -- a section with nothing to say is absent, not null (so are agent_name and model when not given)
    return (select jsonb_object_agg(e.key, e.value) from jsonb_each(doc) e where jsonb_typeof(e.value) <> 'null');
end
$$;
comment on function debugloop.manifest(text, text, text, integer)
    is 'What the next agent should know: STFs, golden states, known failures, likely errors and fixes, cost (versioned jsonb).';

-- debugloop._manifest_usd(amount): an amount of USD for people: $ and at most 4
-- decimals (6 below one cent). Locks: none.
create or replace function debugloop._manifest_usd(amount numeric)
returns text
language sql
immutable
as $$
    select case when amount is null then 'n/a'
                else '$' || trim_scale(round(amount, case when abs(amount) < 0.01 then 6 else 4 end))::text end
$$;

-- debugloop._manifest_times(n): "once", "twice" or "n times", for people.
-- Locks: none.
create or replace function debugloop._manifest_times(n bigint)
returns text
language sql
immutable
as $$ select case n when 0 then 'never' when 1 then 'once' when 2 then 'twice' else n || ' times' end $$;

-- debugloop._manifest_failure_item(failure): one approach known to fail, as a
-- Markdown list item: the approach, how often it failed and where (match), and
-- the errors it met. `failure` is an item of the manifest's known_failures
-- ({approach, failures, match, errors}). Why apart: the manifest and
-- manifest_for_error say it the same way. Locks: none.
create or replace function debugloop._manifest_failure_item(failure jsonb)
returns text
language sql
immutable
as $$
    select format('- "%s" failed %s (%s)%s', failure ->> 'approach', debugloop._manifest_times((failure ->> 'failures')::bigint),
                  failure ->> 'match',
                  coalesce(': ' || (select string_agg(coalesce(e ->> 'error_type', 'error') || ': '
                                                      || left(coalesce(e ->> 'message', ''), 120), '; ')
                                      from jsonb_array_elements(failure -> 'errors') e), ''))
$$;

-- debugloop._manifest_assemble(header, titles, taken, nothing, left_out, max_chars):
-- a Markdown prompt block from its parts: the header, then each section that took
-- items (its title and its items), else `nothing`, and a last line saying how many
-- items were left out to fit max_chars. Why apart: the manifest and
-- manifest_for_error end the same way. Locks: none.
create or replace function debugloop._manifest_assemble(header text, titles text[], taken text[], nothing text,
                                                        left_out integer, max_chars integer)
returns text
language sql
immutable
as $$
    select header
           || coalesce((select string_agg(E'\n' || titles[i] || E'\n' || taken[i], '' order by i)
                          from generate_subscripts(taken, 1) i
                         where taken[i] <> ''), nothing)
           || case when left_out > 0 then format(E'\n(%s more items left out to fit %s characters)\n', left_out, max_chars)
                   else '' end
$$;

-- debugloop._manifest_render(doc, max_chars): a manifest document (manifest())
-- as Markdown for a prompt, at most max_chars characters. Sections in order:
-- golden states, STFs, known failures, error fixes, cost. When everything does
-- not fit, items are taken by rank across sections (every section's first item,
-- then every second one, ...); an STF whose code does not fit is shown without it;
-- a last line says how many items were left out. Code is cut at 60 lines. Why
-- apart: manifest_markdown and manifest_context render the same document.
-- Locks: none.
create or replace function debugloop._manifest_render(doc jsonb, max_chars integer)
returns text
language plpgsql
stable
as $$
declare
    titles text[] := array[
        '## Proven solutions to similar problems (golden states)',
        '## Reusable functions (STFs): call them instead of writing new code',
        '## Approaches that already failed here: do not repeat them',
        '## Errors you may meet, and what fixed them',
        '## Cost'];
    header text;
    taken text[] := array['', '', '', '', ''];
    used integer;
    left_out integer := 0;
    footer_room constant integer := 60;
    item record;
    body text;
    heading integer;
begin
    header := format(E'# What debugloop knows (manifest v%s)\nProblem: %s\n', doc ->> 'manifest_version',
                     left(regexp_replace(doc ->> 'problem', '\s+', ' ', 'g'), 160));
    used := length(header);
    for item in
        with items as (
            select 1 as section, g.ord,
                   format('- %s (for "%s", similarity %s, %s; model %s, quality %s%s)', g.x ->> 'solution_summary',
                          left(g.x ->> 'problem', 120), g.x ->> 'similarity', g.x ->> 'approval_status',
                          coalesce(g.x ->> 'model_used', 'unknown'), g.x ->> 'quality_score',
                          case when (g.x ->> 'reuse_count')::integer > 0
                               then format(', reused %s, %s succeeded', debugloop._manifest_times((g.x ->> 'reuse_count')::bigint),
                                           g.x ->> 'reuse_success_count')
                               else '' end) as body,
                   null::text as code
              from jsonb_array_elements(doc -> 'golden_states') with ordinality g(x, ord)
            union all
            select 2, s.ord,
                   format('- `%s` (%s, id %s): confidence %s, quality %s, %s; reused %s, %s succeeded, %s failed%s',
                          s.x ->> 'name', s.x ->> 'language', left(s.x ->> 'stf_id', 8), s.x ->> 'confidence',
                          coalesce(s.x ->> 'quality_score', 'n/a'), s.x ->> 'approval_status',
                          debugloop._manifest_times((s.x ->> 'usage_count')::bigint),
                          s.x ->> 'success_count', s.x ->> 'failure_count',
                          coalesce(': ' || left(split_part(s.x ->> 'description', E'\n', 1), 160), ''))
                   || coalesce((select E'\n  from ' || string_agg(debugloop._manifest_source(src), '; ' order by n)
                                  from jsonb_array_elements(s.x -> 'sources') with ordinality c(src, n)), ''),
                   format(E'\n  ```%s\n%s\n  ```', s.x ->> 'language',
                          (select string_agg('  ' || l, E'\n' order by i)
                             from unnest(string_to_array(rtrim(s.x ->> 'code', E'\n'), E'\n')) with ordinality c(l, i) where i <= 60)
                          || case when cardinality(string_to_array(s.x ->> 'code', E'\n')) > 60 then E'\n  # ... (cut)' else '' end)
              from jsonb_array_elements(doc -> 'stfs') with ordinality s(x, ord)
            union all
            select 3, f.ord, debugloop._manifest_failure_item(f.x), null
              from jsonb_array_elements(doc -> 'known_failures') with ordinality f(x, ord)
            union all
            select 4, e.ord,
                   format('- %s: %s (seen %s) -> fix: %s (confidence %s; %s succeeded, %s failed)',
                          e.x ->> 'error_type', left(e.x ->> 'error_pattern', 160), debugloop._manifest_times((e.x ->> 'seen')::bigint),
                          coalesce(e.x ->> 'fix', 'the retry that succeeded (no approach recorded)'), e.x ->> 'confidence',
                          e.x ->> 'success_count', e.x ->> 'failure_count'),
                   null
              from jsonb_array_elements(doc -> 'error_fixes') with ordinality e(x, ord)
            union all
            select 5, c.ord, c.line, null
              from unnest(array[
                       (select format('- Estimate with %s: p50 %s, p90 %s (%s past attempts, %s)', doc #>> '{cost,model}',
                                      debugloop._manifest_usd((doc #>> '{cost,estimate,cost_p50_usd}')::numeric),
                                      debugloop._manifest_usd((doc #>> '{cost,estimate,cost_p90_usd}')::numeric),
                                      doc #>> '{cost,estimate,samples}', doc #>> '{cost,estimate,basis}')
                         where doc #> '{cost,estimate}' is not null),
                       (select format('- In tokens ($0.001 each): %s%s%s',
                                      coalesce('a similar request costs ' || (doc #>> '{cost,spend,tokens_p50}')
                                               || ' (p90 ' || (doc #>> '{cost,spend,tokens_p90}') || ')', 'no estimate'),
                                      '; ' || (doc #>> '{cost,spend,available_tokens}') || ' available to you',
                                      ', ' || (doc #>> '{cost,spend,budget_remaining_tokens}') || ' left under your budget')
                         where doc #> '{cost,spend}' is not null),
                       (select format('- Similar solved tasks cost %s on average, retries included (%s tasks)',
                                      debugloop._manifest_usd((doc #>> '{cost,similar_solved,avg_cost_usd}')::numeric),
                                      doc #>> '{cost,similar_solved,tasks}')
                         where doc #> '{cost,similar_solved}' is not null),
                       (select format('- Cheaper models that solved similar problems as often: %s',
                                      string_agg(format('%s (%s%% success, %s per attempt)', m ->> 'model',
                                                        round((m ->> 'success_rate')::numeric * 100),
                                                        debugloop._manifest_usd((m ->> 'avg_cost_usd')::numeric)), '; '))
                          from jsonb_array_elements(doc #> '{cost,cheaper_models}') m
                        having count(*) > 0),
                       (select format('- %s %s%s', doc #>> '{cost,model}',
                                      case when (doc #>> '{cost,deprecation,deprecated_at}')::timestamptz <= now() then 'is retired since '
                                           else 'is deprecated from ' end
                                      || to_char((doc #>> '{cost,deprecation,deprecated_at}')::timestamptz, 'YYYY-MM-DD'),
                                      coalesce('; its successor is ' || (doc #>> '{cost,deprecation,successor_model}'), ''))
                         where doc #>> '{cost,deprecation,deprecated_at}' is not null)]) with ordinality c(line, ord)
             where c.line is not null
        )
        select * from items order by ord, section
    loop
        body := item.body || coalesce(item.code, '');
        -- a section's title counts with its first item
        heading := (select length(titles[item.section]) + 2 where taken[item.section] = '');
        if used + coalesce(heading, 0) + length(body) + 1 > max_chars - footer_room then
            body := item.body;  -- an STF without its code
        end if;
        if used + coalesce(heading, 0) + length(body) + 1 > max_chars - footer_room then
            left_out := left_out + 1;
            continue;
        end if;
        used := used + coalesce(heading, 0) + length(body) + 1;
        taken[item.section] := taken[item.section] || body || E'\n';
    end loop;
    return debugloop._manifest_assemble(header, titles, taken, E'\nNothing is known yet about this problem or similar ones.\n',
                                        left_out, max_chars);
end
$$;
-- debugloop._manifest_check_budget(max_chars): DL001 unless max_chars is at least
-- 300 (room for the header and one item). Locks: none.
create or replace function debugloop._manifest_check_budget(max_chars integer)
returns void
language plpgsql
immutable
as $$
begin
    if max_chars is null or max_chars < 300 then
        raise exception 'max_chars must be at least 300, got %', coalesce(max_chars::text, 'NULL')
            using errcode = 'DL001', column = 'max_chars';
    end if;
end
$$;

-- debugloop.manifest_markdown(problem, agent_name, model, k, max_chars): the
-- manifest rendered as Markdown for a prompt (_manifest_render), at most max_chars
-- characters (at least 300); when nothing is known it says so. Raises DL001 as
-- manifest does, and for max_chars below 300. Locks: none.
create or replace function debugloop.manifest_markdown(problem text, agent_name text default null, model text default null,
                                                       k integer default 5, max_chars integer default 6000)
returns text
language plpgsql
stable
as $$
begin
    perform debugloop._manifest_check_budget(max_chars);
    return debugloop._manifest_render(debugloop.manifest(problem, agent_name, model, k), max_chars);
end
$$;
comment on function debugloop.manifest_markdown(text, text, text, integer, integer)
    is 'The manifest as Markdown for a prompt, within max_chars characters (items ranked across sections).';

-- debugloop.manifest_context(problem, agent_name, model, k, max_chars): what an
-- agent's context gets before it works on `problem` (a Claude Code prompt hook
-- adds it): the manifest as Markdown within max_chars, as manifest_markdown
-- renders it, or null when the manifest has none of the sections it renders
-- (golden states, STFs, known failures, error fixes, cost), so that nothing is
-- added for a problem unlike anything known. Raises DL001 as manifest_markdown
-- does. Locks: none.
create or replace function debugloop.manifest_context(problem text, agent_name text default null, model text default null,
                                                      k integer default 5, max_chars integer default 4000)
returns text
language plpgsql
stable
as $$
declare
    doc jsonb;
begin
    perform debugloop._manifest_check_budget(max_chars);
    doc := debugloop.manifest(problem, agent_name, model, k);
    if not doc ?| array['golden_states', 'stfs', 'known_failures', 'error_fixes', 'cost'] then
        return null;
    end if;
    return debugloop._manifest_render(doc, max_chars);
end
$$;
comment on function debugloop.manifest_context(text, text, text, integer, integer)
    is 'The manifest as Markdown for an agent''s context, or null when nothing is known about the problem.';

-- debugloop.manifest_for_error(error_message, error_type, stacktrace,
-- user_request, k, max_chars): what an agent is told right after a tool call
-- failed, as Markdown within max_chars characters (at least 300): the fixes that
-- worked for this error (error_fixes: exact signature first, then similar
-- errors) and, when the request it works on is given, the approaches that failed
-- for it or similar requests and never succeeded (error_known_failures). Null
-- when neither knows anything. Items that do not fit are left out, fixes first
-- kept; a last line says how many. Raises DL001 for an empty message, k outside
-- 1..20, or max_chars below 300. Locks: none.
create or replace function debugloop.manifest_for_error(error_message text, error_type text default null,
                                                        stacktrace text default null, user_request text default null,
                                                        k integer default 3, max_chars integer default 2000)
returns text
language plpgsql
stable
as $$
declare
    titles text[] := array[
        '## Fixes that worked for this error',
        '## Approaches that already failed for this request: do not repeat them'];
    taken text[] := array['', ''];
    header text;
    request text := nullif(btrim(user_request), '');
    item record;
    heading integer;
    used integer;
    left_out integer := 0;
    footer_room constant integer := 60;
begin
    if error_message is null or btrim(error_message) = '' then
        raise exception 'error_message must not be empty' using errcode = 'DL001', column = 'error_message';
    end if;
    if k is null or k < 1 or k > 20 then
        raise exception 'k must be between 1 and 20, got %', coalesce(k::text, 'NULL') using errcode = 'DL001', column = 'k';
    end if;
    perform debugloop._manifest_check_budget(max_chars);
    header := format(E'# What debugloop knows about this error\nError: %s\n',
                     left(regexp_replace(btrim(error_message), '\s+', ' ', 'g'), 160));
    used := length(header);
    for item in
        select 1 as section, f.rank::bigint as ord,
               format('- %s (%s match, confidence %s; %s succeeded, %s failed; for %s: %s)',
                      coalesce(f.successful_approach, 'the retry that succeeded (no approach recorded)'), f.match,
                      f.confidence_score, f.success_count, f.failure_count, coalesce(f.mapped_error_type, 'error'),
                      left(f.error_pattern, 160)) as line
          from debugloop.error_fixes(error_message, error_type, stacktrace, k) f
        union all
        select 2, f.ord,
               debugloop._manifest_failure_item(jsonb_build_object('approach', f.approach_description, 'failures', f.failures,
                                                                   'match', f.match, 'errors', f.errors))
          from debugloop.error_known_failures(request, k) with ordinality f(approach_description, approach_hash, failures,
                                                                             last_failed_at, match, errors, ord)
         where request is not null
         order by section, ord
    loop
        -- a section's title counts with its first item; fixes come first
        heading := case when taken[item.section] = '' then length(titles[item.section]) + 2 else 0 end;
        if used + heading + length(item.line) + 1 > max_chars - footer_room then
            left_out := left_out + 1;
            continue;
        end if;
        used := used + heading + length(item.line) + 1;
        taken[item.section] := taken[item.section] || item.line || E'\n';
    end loop;
    if taken = array['', ''] and left_out = 0 then
        return null;
    end if;
    return debugloop._manifest_assemble(header, titles, taken, '', left_out, max_chars);
end
$$;
comment on function debugloop.manifest_for_error(text, text, text, text, integer, integer)
    is 'What an agent is told after a tool call failed: fixes for the error, approaches that failed for its request (Markdown, or null).';
