-- 0002 attempts and prices: the effective-dated model price catalog and the
-- execution attempts, each priced by the catalog version in force when it started.

-- One row per price version. Versions are immutable (a trigger refuses UPDATE and
-- DELETE): a new price is a new row with a later effective_from. Prices are USD per
-- one million tokens; a null price of a kind falls back as documented on the column.
create table debugloop.model_price_catalog (
    catalog_id                  uuid primary key default gen_random_uuid(),
    provider                    text not null constraint model_price_catalog_provider_format check (provider ~ '^[a-z0-9][a-z0-9_.-]*$'),
    model_name                  text not null constraint model_price_catalog_model_name_nonempty check (btrim(model_name) <> ''),
    model_version               text,
    aliases                     text[] not null default '{}',
    name_pattern                text,
    origin                      text not null default 'custom'
                                constraint model_price_catalog_origin_known check (origin in ('custom', 'imported')),
    source                      text not null,
    mode                        text not null default 'chat',
    currency                    text not null default 'USD' constraint model_price_catalog_currency_usd check (currency = 'USD'),
    input_price_per_million     numeric not null,
    output_price_per_million    numeric not null,
    cache_read_price_per_million     numeric,   -- null: input price
    cache_write_price_per_million    numeric,   -- 5-minute (default) cache writes; null: input price
    cache_write_1h_price_per_million numeric,   -- 1-hour cache writes; null: the cache write price
    reasoning_price_per_million      numeric,   -- null: output price
    long_context_threshold      integer,        -- prompt tokens above which the whole request is priced at the tier
    long_context_input_price_per_million       numeric,  -- each null: the base price of its kind
    long_context_output_price_per_million      numeric,
    long_context_cache_read_price_per_million  numeric,
    long_context_cache_write_price_per_million numeric,
    long_context_cache_write_1h_price_per_million numeric,
    batch_discount              numeric,        -- fraction taken off for batch requests, 0 <= d < 1
    context_window              integer,
    max_output_tokens           integer,
    capabilities                text[] not null default '{}',
    requests_per_minute         integer,
    tokens_per_minute           integer,
    is_active                   boolean not null default true,
    deprecated_at               timestamptz,
    effective_from              timestamptz not null default now(),
    created_at                  timestamptz not null default now(),
    created_by                  text not null default current_user,
    constraint model_price_catalog_version_key unique (provider, model_name, origin, effective_from),
    constraint model_price_catalog_prices_nonnegative check (
        input_price_per_million >= 0 and output_price_per_million >= 0
        and coalesce(cache_read_price_per_million, 0) >= 0
        and coalesce(cache_write_price_per_million, 0) >= 0
        and coalesce(cache_write_1h_price_per_million, 0) >= 0
        and coalesce(reasoning_price_per_million, 0) >= 0
        and coalesce(long_context_input_price_per_million, 0) >= 0
        and coalesce(long_context_output_price_per_million, 0) >= 0
        and coalesce(long_context_cache_read_price_per_million, 0) >= 0
        and coalesce(long_context_cache_write_price_per_million, 0) >= 0
        and coalesce(long_context_cache_write_1h_price_per_million, 0) >= 0),
    constraint model_price_catalog_effective_from_finite check (isfinite(effective_from)),
    constraint model_price_catalog_batch_discount_range check (batch_discount is null or (batch_discount >= 0 and batch_discount < 1)),
    constraint model_price_catalog_long_context_threshold_positive check (long_context_threshold is null or long_context_threshold > 0),
    constraint model_price_catalog_aliases_lowercase check (aliases = lower(aliases::text)::text[])
);
comment on table debugloop.model_price_catalog is 'Effective-dated, immutable price versions per provider and model (USD per 1M tokens).';

create index model_price_catalog_name_idx on debugloop.model_price_catalog (lower(model_name), effective_from desc);
create index model_price_catalog_loose_name_idx on debugloop.model_price_catalog (translate(lower(model_name), '._', '--'));
create index model_price_catalog_aliases_idx on debugloop.model_price_catalog using gin (aliases);
create index model_price_catalog_pattern_idx on debugloop.model_price_catalog (effective_from) where name_pattern is not null;

create table debugloop.debug_execution_attempts (
    attempt_id          uuid primary key default gen_random_uuid(),

    -- correlation
    correlation_id      uuid not null,
    execution_id        uuid,
    parent_attempt_id   uuid constraint debug_execution_attempts_parent_fkey
                        references debugloop.debug_execution_attempts (attempt_id),

    -- agent context
    agent_name          text not null constraint debug_execution_attempts_agent_name_nonempty check (btrim(agent_name) <> ''),
    agent_type          text,

    -- problem
    user_request        text not null constraint debug_execution_attempts_user_request_nonempty check (btrim(user_request) <> ''),
    user_request_hash   text not null,   -- the request fingerprint: SHA-256 of the normalised request
    problem_category    text,

    -- approach
    approach_description text,
    approach_hash       text,
    stf_ids             uuid[],
    model_used          text,
    tools_used          jsonb,

    -- execution
    started_at          timestamptz not null default now(),
    completed_at        timestamptz,
    duration_ms         bigint,

    -- outcome
    status              text not null default 'running'
                        constraint debug_execution_attempts_status_known
                        check (status in ('running', 'success', 'error', 'timeout', 'cancelled')),
    error_type          text,
    error_message       text,
    error_stacktrace    text,
    artifacts           jsonb,

    -- quality
    quality_score       numeric(3, 2) constraint debug_execution_attempts_quality_range check (quality_score between 0 and 1),
    confidence_score    numeric(3, 2) constraint debug_execution_attempts_confidence_range check (confidence_score between 0 and 1),

    -- usage, canonical: disjoint counts, so their sum is every token billed
    usage_raw               jsonb,
    input_tokens            bigint,   -- uncached prompt tokens
    output_tokens           bigint,   -- completion tokens other than reasoning
    cache_read_tokens       bigint,
    cache_write_tokens      bigint,   -- 5-minute (default) cache writes
    cache_write_1h_tokens   bigint,
    reasoning_tokens        bigint,
    batch                   boolean not null default false,
    tokens_input            bigint generated always as
                            (input_tokens + cache_read_tokens + cache_write_tokens + cache_write_1h_tokens) stored,
    tokens_output           bigint generated always as (output_tokens + reasoning_tokens) stored,

    -- cost
    estimated_cost_usd  numeric,      -- p50 estimate at start, from earlier attempts with the same fingerprint
    cost_usd            numeric,
    cost_status         text constraint debug_execution_attempts_cost_status_known
                        check (cost_status in ('priced', 'unpriced', 'untracked', 'no_usage')),
    price_catalog_id    uuid constraint debug_execution_attempts_price_fkey
                        references debugloop.model_price_catalog (catalog_id),
    priced_at           timestamptz,

    -- golden state (filled by the golden-state workflow)
    is_golden_state          boolean not null default false,
    golden_state_approved_by text,
    golden_state_approved_at timestamptz,

    created_at          timestamptz not null default now(),
    updated_at          timestamptz not null default now(),

    constraint debug_execution_attempts_not_own_parent check (parent_attempt_id is distinct from attempt_id),
    constraint debug_execution_attempts_finished_consistently check (
        (status = 'running') = (completed_at is null)),
    constraint debug_execution_attempts_completed_after_start check (completed_at is null or completed_at >= started_at),
    constraint debug_execution_attempts_tokens_nonnegative check (
        coalesce(input_tokens, 0) >= 0 and coalesce(output_tokens, 0) >= 0 and coalesce(cache_read_tokens, 0) >= 0
        and coalesce(cache_write_tokens, 0) >= 0 and coalesce(cache_write_1h_tokens, 0) >= 0
        and coalesce(reasoning_tokens, 0) >= 0),
    constraint debug_execution_attempts_priced_has_cost check (
        (cost_status = 'priced') = (cost_usd is not null and price_catalog_id is not null))
);
comment on table debugloop.debug_execution_attempts is 'One row per agent attempt: request, model, outcome, usage and exact cost.';

-- Finishing an attempt changes no indexed column (status, usage and cost are not
-- indexed) and the pages keep room, so the update is HOT: no index, the trigram
-- index included, is written again.
alter table debugloop.debug_execution_attempts set (fillfactor = 85);

create index debug_execution_attempts_correlation_idx on debugloop.debug_execution_attempts (correlation_id, started_at);
create index debug_execution_attempts_execution_idx on debugloop.debug_execution_attempts (execution_id) where execution_id is not null;
create index debug_execution_attempts_parent_idx on debugloop.debug_execution_attempts (parent_attempt_id) where parent_attempt_id is not null;
create index debug_execution_attempts_fingerprint_idx on debugloop.debug_execution_attempts (user_request_hash, started_at desc);
create index debug_execution_attempts_agent_idx on debugloop.debug_execution_attempts (agent_name);
create index debug_execution_attempts_started_idx on debugloop.debug_execution_attempts (started_at desc);
create index debug_execution_attempts_golden_idx on debugloop.debug_execution_attempts (is_golden_state) where is_golden_state;
create index debug_execution_attempts_request_trgm_idx on debugloop.debug_execution_attempts using gin (user_request gin_trgm_ops);

-- What a cost estimate returns (debugloop.cost_estimate_for_request).
create type debugloop.cost_estimate_result as (
    basis             text,     -- fingerprint, similar or none
    samples           integer,
    input_tokens_p50  bigint,
    input_tokens_p90  bigint,
    output_tokens_p50 bigint,
    output_tokens_p90 bigint,
    cost_p50_usd      numeric,
    cost_p90_usd      numeric
);
