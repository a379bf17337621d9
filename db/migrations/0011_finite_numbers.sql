-- 0011 finite numbers only, wherever money or similarity is computed: the tables
-- refuse by CHECK what the functions refuse by DL001 (functions/), so that no other
-- path (a superuser's INSERT, a client of an older version) stores a NaN or
-- infinite price, cost or time, or an embedding whose cosine similarity is NaN.
--
-- Rows that break the new rules are repaired first, so that the constraints hold
-- for every row (a fresh database has none):
--   * a price version with a price that is not a finite number from 0 to 1,000,000
--     USD per million tokens is removed (every cost computed from it was NaN or
--     infinite), and the attempts priced by it, or with such a cost, become
--     'unpriced', so that price_reprice prices them again once a good price exists;
--   * an estimate that is not finite is dropped (it is only a hint);
--   * an attempt that started at an infinite or absurd time (before 1970) starts
--     when it was recorded (created_at); one that finished at such a time gets the
--     time it was last changed, at least its start;
--   * a golden state's or an imported session's cost that is not finite is dropped;
--   * a neural embedding whose length (L2 norm) is outside [1e-6, 1e6] is dropped
--     with its model, so that the embedder computes it again;
--   * an STF's language is written the one way debugloop names it (js ->
--     javascript, ...), so that a filter by language finds it.
-- A NOTICE says how many rows each repair changed.

do $$
declare
    changed bigint;
begin
    create temporary table bad_price_versions on commit drop as
    select c.catalog_id
      from debugloop.model_price_catalog c
     where not (greatest(c.input_price_per_million, c.output_price_per_million,
                         c.cache_read_price_per_million, c.cache_write_price_per_million,
                         c.cache_write_1h_price_per_million, c.reasoning_price_per_million,
                         c.long_context_input_price_per_million, c.long_context_output_price_per_million,
                         c.long_context_cache_read_price_per_million, c.long_context_cache_write_price_per_million,
                         c.long_context_cache_write_1h_price_per_million) <= 1000000);

    update debugloop.debug_execution_attempts a
       set cost_usd = null, price_catalog_id = null, cost_status = 'unpriced', priced_at = null
     where a.price_catalog_id in (select catalog_id from bad_price_versions)
        or not (coalesce(a.cost_usd, 0) >= 0 and coalesce(a.cost_usd, 0) < 'Infinity'::numeric);
    get diagnostics changed = row_count;
    if changed > 0 then
        raise notice '0011: % attempt(s) priced by a price that is not finite are unpriced again', changed;
    end if;

    alter table debugloop.model_price_catalog disable trigger user;
    delete from debugloop.model_price_catalog c where c.catalog_id in (select catalog_id from bad_price_versions);
    get diagnostics changed = row_count;
    alter table debugloop.model_price_catalog enable trigger user;
    if changed > 0 then
        raise notice '0011: % price version(s) with a price that is not finite removed', changed;
    end if;

    update debugloop.debug_execution_attempts a
       set estimated_cost_usd = null
     where not (coalesce(a.estimated_cost_usd, 0) >= 0 and coalesce(a.estimated_cost_usd, 0) < 'Infinity'::numeric);

    update debugloop.debug_execution_attempts a
       set started_at = least(a.created_at, coalesce(a.completed_at, a.created_at))
     where not isfinite(a.started_at) or a.started_at < '1970-01-01 00:00:00+00';
    update debugloop.debug_execution_attempts a
       set completed_at = greatest(a.updated_at, a.started_at)
     where a.completed_at is not null and (not isfinite(a.completed_at) or a.completed_at < '1970-01-01 00:00:00+00');

    update debugloop.debug_golden_states g
       set cost_usd = null
     where not (coalesce(g.cost_usd, 0) >= 0 and coalesce(g.cost_usd, 0) < 'Infinity'::numeric);
    update debugloop.debug_import_sessions s
       set reported_cost_usd = null
     where not (coalesce(s.reported_cost_usd, 0) < 'Infinity'::numeric);
end
$$;

-- Prices: finite, from 0 to 1,000,000 USD per million tokens ($1 per token).
-- PostgreSQL orders NaN above every number, so "<= 1000000" refuses NaN and
-- Infinity as well.
alter table debugloop.model_price_catalog
    add constraint model_price_catalog_prices_finite check (
        input_price_per_million <= 1000000 and output_price_per_million <= 1000000
        and coalesce(cache_read_price_per_million, 0) <= 1000000
        and coalesce(cache_write_price_per_million, 0) <= 1000000
        and coalesce(cache_write_1h_price_per_million, 0) <= 1000000
        and coalesce(reasoning_price_per_million, 0) <= 1000000
        and coalesce(long_context_input_price_per_million, 0) <= 1000000
        and coalesce(long_context_output_price_per_million, 0) <= 1000000
        and coalesce(long_context_cache_read_price_per_million, 0) <= 1000000
        and coalesce(long_context_cache_write_price_per_million, 0) <= 1000000
        and coalesce(long_context_cache_write_1h_price_per_million, 0) <= 1000000);

-- Costs: finite and not negative. Times: finite, from 1970 on (a "future" bound
-- would change with the clock; the functions refuse a start more than a day
-- ahead).
alter table debugloop.debug_execution_attempts
    add constraint debug_execution_attempts_costs_finite check (
        coalesce(cost_usd, 0) >= 0 and coalesce(cost_usd, 0) < 'Infinity'::numeric
        and coalesce(estimated_cost_usd, 0) >= 0 and coalesce(estimated_cost_usd, 0) < 'Infinity'::numeric),
    add constraint debug_execution_attempts_times_finite check (
        isfinite(started_at) and started_at >= '1970-01-01 00:00:00+00'
        and (completed_at is null or isfinite(completed_at)));

alter table debugloop.debug_golden_states
    add constraint debug_golden_states_cost_finite check (
        coalesce(cost_usd, 0) >= 0 and coalesce(cost_usd, 0) < 'Infinity'::numeric);

alter table debugloop.debug_import_sessions
    add constraint debug_import_sessions_reported_cost_finite check (
        coalesce(reported_cost_usd, 0) < 'Infinity'::numeric);

-- Neural embeddings: a length (L2 norm) from 1e-6 to 1e6, the rule of
-- debugloop._stf_check_embedding. vector_norm is pgvector's: its schema is read
-- from the catalog, since the extension may live elsewhere than public.
do $$
declare
    vector_schema name := (select n.nspname from pg_extension e join pg_namespace n on n.oid = e.extnamespace
                            where e.extname = 'vector');
    changed bigint;
begin
    execute format('update debugloop.debug_transform_functions f set embedding_neural = null, embedding_model = null'
                   ' where f.embedding_neural is not null and not %I.vector_norm(f.embedding_neural) between 1e-6 and 1e6',
                   vector_schema);
    get diagnostics changed = row_count;
    if changed > 0 then
        raise notice '0011: % neural embedding(s) of a length outside [1e-6, 1e6] dropped; run debugloop stf embed', changed;
    end if;
    execute format('alter table debugloop.debug_transform_functions add constraint debug_transform_functions_embedding_length'
                   ' check (embedding_neural is null or %I.vector_norm(embedding_neural) between 1e-6 and 1e6)',
                   vector_schema);
end
$$;

-- STF languages as debugloop names them (debugloop._stf_language_name).
update debugloop.debug_transform_functions f
   set stf_language = case f.stf_language
           when 'py' then 'python' when 'python3' then 'python'
           when 'js' then 'javascript' when 'jsx' then 'javascript' when 'mjs' then 'javascript'
           when 'cjs' then 'javascript' when 'node' then 'javascript'
           when 'ts' then 'typescript' when 'tsx' then 'typescript'
           when 'golang' then 'go' when 'rs' then 'rust' when 'kt' then 'kotlin' when 'h' then 'c'
           when 'c++' then 'cpp' when 'cc' then 'cpp' when 'cxx' then 'cpp' when 'hpp' then 'cpp'
           when 'c#' then 'csharp' when 'cs' then 'csharp' when 'rb' then 'ruby'
           when 'sh' then 'shell' when 'bash' then 'shell' when 'zsh' then 'shell'
       end
 where f.stf_language in ('py', 'python3', 'js', 'jsx', 'mjs', 'cjs', 'node', 'ts', 'tsx', 'golang', 'rs', 'kt', 'h',
                          'c++', 'cc', 'cxx', 'hpp', 'c#', 'cs', 'rb', 'sh', 'bash', 'zsh');
