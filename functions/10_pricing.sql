-- pricing: usage in canonical form, the price catalog, exact cost, estimates, the
-- cost of each finished attempt and repricing.
--
-- Canonical usage is one JSON object of disjoint counts, so that their sum is every
-- token billed and no cached or reasoning token is counted twice:
--   input_tokens           prompt tokens neither read from nor written to a cache
--   output_tokens          completion tokens other than reasoning
--   cache_read_tokens      prompt tokens read from a cache
--   cache_write_tokens     prompt tokens written to a cache (5-minute / default TTL)
--   cache_write_1h_tokens  prompt tokens written to a 1-hour cache
--   reasoning_tokens       reasoning ("thinking") tokens
--   batch                  true when the request went through a batch API

--
-- Every count lies in [0, 10^15) (a million billion tokens), in each request and
-- summed over an attempt's requests, so that sums and costs stay exact bigint and
-- numeric arithmetic: DL005 otherwise.

-- debugloop._usage_int(obj, path, label): a token count at `path` of `obj`: 0 when
-- missing or null, else a whole number from 0 to 10^15 - 1, else DL005 naming
-- `label`.
create or replace function debugloop._usage_int(obj jsonb, path text[], label text)
returns bigint
language plpgsql
immutable
as $$
declare
    v jsonb := obj #> path;
begin
    if v is null or jsonb_typeof(v) = 'null' then
        return 0;
    end if;
    if jsonb_typeof(v) <> 'number' or v::numeric <> trunc(v::numeric) or v::numeric < 0 or v::numeric >= 1e15 then
        raise exception 'usage field % must be a non-negative whole number below 10^15, got %', label, left(v::text, 100)
            using errcode = 'DL005', column = 'usage', detail = format('%s = %s', label, left(v::text, 100));
    end if;
    return v::bigint;
end
$$;

-- debugloop._usage_check_total(usage): a canonical usage (of one request, or of an
-- attempt: its requests summed), or DL005 when a count reaches 10^15 tokens. Why:
-- each field a provider sends is bounded, and so must be what is computed from
-- them (Gemini's two spellings added, an attempt's requests summed). Locks: none.
create or replace function debugloop._usage_check_total(usage jsonb)
returns jsonb
language plpgsql
immutable
as $$
declare
    kind text;
begin
    for kind in select k from jsonb_object_keys(usage) k where k like '%\_tokens' loop
        if (usage ->> kind)::numeric >= 1e15 then
            raise exception 'usage: % (%) reaches 10^15 tokens', kind, usage ->> kind
                using errcode = 'DL005', column = 'usage', detail = 'each count, and each sum over an attempt''s requests, lies in [0, 10^15)';
        end if;
    end loop;
    return usage;
end
$$;

-- debugloop._usage_invalid(message): raise DL005 with `message` (for use inside
-- expressions, where RAISE cannot stand).
create or replace function debugloop._usage_invalid(message text)
returns boolean
language plpgsql
immutable
as $$
begin
    raise exception '%', message using errcode = 'DL005', column = 'usage';
end
$$;

-- debugloop._usage_tier(value): a provider's name of the service tier a request
-- ran in as the catalog names it: priority (OpenAI and Anthropic priority, fast),
-- flex, batch; null for the standard tier (standard, default, auto, scale,
-- on_demand) and for a value that names none. Locks: none.
create or replace function debugloop._usage_tier(value jsonb)
returns text
language sql
immutable
as $$
    select case lower(value #>> '{}')
               when 'priority' then 'priority' when 'fast' then 'priority' when 'on_demand_priority' then 'priority'
               when 'flex' then 'flex' when 'batch' then 'batch' when 'batches' then 'batch' end
     where jsonb_typeof(value) = 'string'
$$;

-- debugloop._usage_unknown(obj, why): raise DL045: a usage object that fits no
-- format, or that carries the fields of two formats, naming the fields that carry
-- values. Why: a usage read as another format is priced wrong without a word
-- (Anthropic's model_dump() read as OpenAI Responses dropped its cache tokens).
-- Locks: none.
create or replace function debugloop._usage_unknown(obj jsonb, why text)
returns jsonb
language plpgsql
immutable
as $$
begin
    raise exception 'usage %', why
        using errcode = 'DL045', column = 'usage',
              detail = format('fields with values: %s',
                              coalesce((select string_agg(k, ', ' order by k) from jsonb_object_keys(obj) k), 'none')),
              hint = 'send the usage of OpenAI (Chat Completions or Responses), Anthropic, Gemini or LiteLLM, a whole response, or the canonical form (see the README)';
end
$$;

-- debugloop._usage_inclusive(prompt, completion, cached, created, reasoning, batch,
-- source, prompt_field, completion_field): the canonical form of an OpenAI-style
-- count, whose prompt includes its cached tokens and cache writes and whose
-- completion includes its reasoning tokens (Chat Completions and LiteLLM, and
-- Responses). Raises DL005 naming the fields when a part exceeds its whole.
-- Locks: none.
create or replace function debugloop._usage_inclusive(
    prompt bigint, completion bigint, cached bigint, created bigint, reasoning bigint, batch boolean,
    source text, prompt_field text, completion_field text)
returns jsonb
language plpgsql
immutable
as $$
begin
    if cached + created > prompt then
        raise exception 'usage: cached and cache-write tokens (%) exceed % (%)', cached + created, prompt_field, prompt
            using errcode = 'DL005', column = 'usage',
                  detail = format('%s %s include cached tokens and cache writes', source, prompt_field);
    end if;
    if reasoning > completion then
        raise exception 'usage: reasoning_tokens (%) exceed % (%)', reasoning, completion_field, completion
            using errcode = 'DL005', column = 'usage',
                  detail = format('%s %s include reasoning tokens', source, completion_field);
    end if;
    return jsonb_build_object(
        'input_tokens', prompt - cached - created, 'output_tokens', completion - reasoning,
        'cache_read_tokens', cached, 'cache_write_tokens', created, 'cache_write_1h_tokens', 0,
        'reasoning_tokens', reasoning, 'batch', batch);
end
$$;

-- debugloop._usage_request(obj): one provider usage object (or a whole response
-- that carries one) in canonical form. The format is decided by the fields that
-- carry values: null fields (an SDK's model_dump() writes every field) are
-- dropped first, at every depth. Formats: canonical; OpenAI Chat Completions and
-- LiteLLM (prompt_tokens include cached tokens and, as LiteLLM reports Anthropic
-- usage, cache writes: cache_creation_input_tokens or
-- prompt_tokens_details.cache_write_tokens; completion_tokens include reasoning;
-- DeepSeek's prompt_cache_hit_tokens are cached); OpenAI Responses
-- (input_tokens/output_tokens with *_details, cached and cache-write tokens inside
-- input_tokens); Anthropic (input_tokens exclude cache reads and writes;
-- cache_creation splits 5-minute and 1-hour writes); Gemini usageMetadata /
-- usage_metadata (promptTokenCount includes cachedContentTokenCount;
-- thoughtsTokenCount is apart). The service tier (usage.service_tier, or a whole
-- response's service_tier; Anthropic's usage.speed 'fast' is priority) is kept as
-- service_tier (priority, flex) or batch.
-- Raises DL005 for a negative or fractional count or a part larger than its
-- whole, DL045 for an object that fits no format or carries two.
create or replace function debugloop._usage_request(obj jsonb)
returns jsonb
language plpgsql
immutable
as $$
declare
    u jsonb;
    tier text;
    prompt bigint; completion bigint; cached bigint; created bigint; reasoning bigint;
    write_5m bigint; write_1h bigint; tool_prompt bigint;
    anthropic boolean; responses boolean;
    result jsonb;
begin
    if jsonb_typeof(obj) is distinct from 'object' then
        raise exception 'usage must be a JSON object (or an array of them), got %', coalesce(jsonb_typeof(obj), 'NULL')
            using errcode = 'DL005', column = 'usage';
    end if;
    u := jsonb_strip_nulls(obj);
    tier := debugloop._usage_tier(u -> 'service_tier');
    -- a whole provider response: take its usage object (the tier may be the response's)
    if jsonb_typeof(u -> 'usage') = 'object' then
        u := u -> 'usage';
    elsif jsonb_typeof(u -> 'usageMetadata') = 'object' then
        u := u -> 'usageMetadata';
    elsif jsonb_typeof(u -> 'usage_metadata') = 'object' then
        u := u -> 'usage_metadata';
    end if;
    -- Anthropic's fast mode (usage.speed 'fast') is billed as the priority tier, as LiteLLM reads it
    tier := coalesce(debugloop._usage_tier(u -> 'service_tier'), debugloop._usage_tier(u -> 'speed'), tier);

    if u ?| array['cache_read_tokens', 'cache_write_tokens', 'cache_write_1h_tokens', 'reasoning_tokens'] then
        result := jsonb_build_object(
            'input_tokens', debugloop._usage_int(u, '{input_tokens}', 'input_tokens'),
            'output_tokens', debugloop._usage_int(u, '{output_tokens}', 'output_tokens'),
            'cache_read_tokens', debugloop._usage_int(u, '{cache_read_tokens}', 'cache_read_tokens'),
            'cache_write_tokens', debugloop._usage_int(u, '{cache_write_tokens}', 'cache_write_tokens'),
            'cache_write_1h_tokens', debugloop._usage_int(u, '{cache_write_1h_tokens}', 'cache_write_1h_tokens'),
            'reasoning_tokens', debugloop._usage_int(u, '{reasoning_tokens}', 'reasoning_tokens'),
            'batch', case when u -> 'batch' is null then tier = 'batch' is true
                          when jsonb_typeof(u -> 'batch') = 'boolean' then (u ->> 'batch')::boolean
                          else debugloop._usage_invalid('batch must be true or false, got ' || (u -> 'batch')::text) end);

    elsif u ?| array['prompt_tokens', 'completion_tokens'] then
        prompt := debugloop._usage_int(u, '{prompt_tokens}', 'prompt_tokens');
        completion := debugloop._usage_int(u, '{completion_tokens}', 'completion_tokens');
        cached := greatest(debugloop._usage_int(u, '{prompt_tokens_details,cached_tokens}', 'prompt_tokens_details.cached_tokens'),
                           debugloop._usage_int(u, '{cache_read_input_tokens}', 'cache_read_input_tokens'),
                           debugloop._usage_int(u, '{prompt_cache_hit_tokens}', 'prompt_cache_hit_tokens'));
        created := greatest(debugloop._usage_int(u, '{cache_creation_input_tokens}', 'cache_creation_input_tokens'),
                            debugloop._usage_int(u, '{prompt_tokens_details,cache_write_tokens}', 'prompt_tokens_details.cache_write_tokens'));
        reasoning := debugloop._usage_int(u, '{completion_tokens_details,reasoning_tokens}', 'completion_tokens_details.reasoning_tokens');
        result := debugloop._usage_inclusive(prompt, completion, cached, created, reasoning, tier = 'batch' is true,
                                             'OpenAI-style', 'prompt_tokens', 'completion_tokens');

    elsif u ?| array['promptTokenCount', 'candidatesTokenCount', 'totalTokenCount',
                     'prompt_token_count', 'candidates_token_count', 'total_token_count'] then
        prompt := debugloop._usage_int(u, '{promptTokenCount}', 'promptTokenCount')
                + debugloop._usage_int(u, '{prompt_token_count}', 'prompt_token_count');
        completion := debugloop._usage_int(u, '{candidatesTokenCount}', 'candidatesTokenCount')
                    + debugloop._usage_int(u, '{candidates_token_count}', 'candidates_token_count');
        cached := debugloop._usage_int(u, '{cachedContentTokenCount}', 'cachedContentTokenCount')
                + debugloop._usage_int(u, '{cached_content_token_count}', 'cached_content_token_count');
        reasoning := debugloop._usage_int(u, '{thoughtsTokenCount}', 'thoughtsTokenCount')
                   + debugloop._usage_int(u, '{thoughts_token_count}', 'thoughts_token_count');
        tool_prompt := debugloop._usage_int(u, '{toolUsePromptTokenCount}', 'toolUsePromptTokenCount')
                     + debugloop._usage_int(u, '{tool_use_prompt_token_count}', 'tool_use_prompt_token_count');
        if cached > prompt then
            raise exception 'usage: cachedContentTokenCount (%) exceeds promptTokenCount (%)', cached, prompt
                using errcode = 'DL005', column = 'usage', detail = 'Gemini promptTokenCount includes cached tokens';
        end if;
        result := jsonb_build_object(
            'input_tokens', prompt - cached + tool_prompt, 'output_tokens', completion,
            'cache_read_tokens', cached, 'cache_write_tokens', 0, 'cache_write_1h_tokens', 0,
            'reasoning_tokens', reasoning, 'batch', tier = 'batch' is true);

    elsif u ?| array['input_tokens', 'output_tokens', 'cache_creation_input_tokens', 'cache_read_input_tokens',
                     'input_tokens_details', 'output_tokens_details'] then
        anthropic := u ?| array['cache_creation_input_tokens', 'cache_read_input_tokens', 'cache_creation'];
        responses := u ?| array['input_tokens_details', 'output_tokens_details'];
        if anthropic and responses then
            return debugloop._usage_unknown(u, 'carries the fields of both Anthropic Messages and OpenAI Responses');
        end if;
        if responses then
            prompt := debugloop._usage_int(u, '{input_tokens}', 'input_tokens');
            completion := debugloop._usage_int(u, '{output_tokens}', 'output_tokens');
            cached := debugloop._usage_int(u, '{input_tokens_details,cached_tokens}', 'input_tokens_details.cached_tokens');
            created := debugloop._usage_int(u, '{input_tokens_details,cache_write_tokens}', 'input_tokens_details.cache_write_tokens')
                     + debugloop._usage_int(u, '{input_tokens_details,cache_creation_tokens}', 'input_tokens_details.cache_creation_tokens');
            reasoning := debugloop._usage_int(u, '{output_tokens_details,reasoning_tokens}', 'output_tokens_details.reasoning_tokens');
            result := debugloop._usage_inclusive(prompt, completion, cached, created, reasoning, tier = 'batch' is true,
                                                 'OpenAI Responses', 'input_tokens', 'output_tokens');
        else
            created := debugloop._usage_int(u, '{cache_creation_input_tokens}', 'cache_creation_input_tokens');
            write_1h := debugloop._usage_int(u, '{cache_creation,ephemeral_1h_input_tokens}', 'cache_creation.ephemeral_1h_input_tokens');
            write_5m := debugloop._usage_int(u, '{cache_creation,ephemeral_5m_input_tokens}', 'cache_creation.ephemeral_5m_input_tokens');
            if write_5m + write_1h > created then
                if created > 0 then
                    raise exception 'usage: cache_creation splits (%) exceed cache_creation_input_tokens (%)', write_5m + write_1h, created
                        using errcode = 'DL005', column = 'usage';
                end if;
                created := write_5m + write_1h;  -- only the split was reported
            end if;
            result := jsonb_build_object(
                'input_tokens', debugloop._usage_int(u, '{input_tokens}', 'input_tokens'),
                'output_tokens', debugloop._usage_int(u, '{output_tokens}', 'output_tokens'),
                'cache_read_tokens', debugloop._usage_int(u, '{cache_read_input_tokens}', 'cache_read_input_tokens'),
                'cache_write_tokens', created - write_1h,
                'cache_write_1h_tokens', write_1h,
                'reasoning_tokens', 0,
                'batch', tier = 'batch' is true);
        end if;

    else
        return debugloop._usage_unknown(u, 'is in no known format');
    end if;
    if tier in ('priority', 'flex') then
        result := result || jsonb_build_object('service_tier', tier);
    end if;
    return debugloop._usage_check_total(result);
end
$$;

-- debugloop.price_usage_requests(usage): each request of a usage value in
-- canonical form: one for an object, one per element for an array (an attempt that
-- made several LLM calls). Why: the long-context tier and batch discounts apply per
-- request. Locks: none.
create or replace function debugloop.price_usage_requests(usage jsonb)
returns setof jsonb
language plpgsql
immutable
as $$
begin
    if usage is null or jsonb_typeof(usage) = 'null' then
        return;
    elsif jsonb_typeof(usage) = 'array' then
        return query select debugloop._usage_request(e) from jsonb_array_elements(usage) e;
    else
        return next debugloop._usage_request(usage);
    end if;
end
$$;
comment on function debugloop.price_usage_requests(jsonb) is 'Each request of a usage value (object or array) in canonical form.';

-- debugloop._usage_sum(requests): the canonical form of a usage value from its
-- canonical requests (price_usage_requests): their counts summed (batch when any
-- request was); null for no request. Why: a finishing attempt parses its usage once
-- and both sums and prices the requests (_price_set_attempt_cost). Raises DL005.
-- Locks: none.
create or replace function debugloop._usage_sum(requests jsonb[])
returns jsonb
language sql
immutable
as $$
    select case when count(*) = 0 then null else debugloop._usage_check_total(jsonb_build_object(
        'input_tokens', sum((r ->> 'input_tokens')::bigint),
        'output_tokens', sum((r ->> 'output_tokens')::bigint),
        'cache_read_tokens', sum((r ->> 'cache_read_tokens')::bigint),
        'cache_write_tokens', sum((r ->> 'cache_write_tokens')::bigint),
        'cache_write_1h_tokens', sum((r ->> 'cache_write_1h_tokens')::bigint),
        'reasoning_tokens', sum((r ->> 'reasoning_tokens')::bigint),
        'batch', bool_or((r ->> 'batch')::boolean))) end
      from unnest(requests) r
$$;

-- debugloop.price_usage_normalize(usage): the canonical form of a usage value:
-- its requests' counts summed (batch when any request was; _usage_sum). Null for
-- null and for an empty array (no request: no usage). Raises DL005. Locks: none.
create or replace function debugloop.price_usage_normalize(usage jsonb)
returns jsonb
language sql
immutable
as $$
    select debugloop._usage_sum(array(select debugloop.price_usage_requests(usage)))
$$;
comment on function debugloop.price_usage_normalize(jsonb) is 'A provider usage object (OpenAI, Anthropic, Gemini) or array of them in canonical form, nothing counted twice.';

-- debugloop._price_provider(name): the catalog's name for a provider, from the
-- names LiteLLM and model prefixes use (gemini -> google, together_ai -> together).
create or replace function debugloop._price_provider(name text)
returns text
language sql
immutable
parallel safe
as $$
    select case
        when n in ('gemini', 'google', 'google_ai_studio') then 'google'
        when n like 'vertex\_ai%' then 'vertex_ai'
        when n in ('together_ai', 'together', 'togethercomputer') then 'together'
        when n in ('openai', 'text-completion-openai') then 'openai'
        when n in ('bedrock', 'bedrock_converse') then 'bedrock'
        when n in ('cohere', 'cohere_chat') then 'cohere'
        when n in ('zai', 'z.ai', 'zhipu') then 'zai'
        else n
    end
    from (select lower(btrim(name)) as n) s
$$;

-- debugloop._price_check_model(model, field): DL001 naming `field` when a model
-- name is longer than 256 characters. Why: no provider's model name comes near
-- it, and the name is matched against every alias and pattern of the catalog.
-- Locks: none.
create or replace function debugloop._price_check_model(model text, field text)
returns void
language plpgsql
immutable
as $$
begin
    if length(model) > 256 then
        raise exception '% must be a model name of at most 256 characters, got % characters', field, length(model)
            using errcode = 'DL001', column = field;
    end if;
end
$$;

-- debugloop._price_provider_of_record(name): the provider that makes the model
-- family a bare name belongs to (claude-* Anthropic; gpt-*, o1..o9, chatgpt-*,
-- codex-* OpenAI; gemini-*, gemma-* Google AI Studio; glm-* Z.ai; grok-* xAI; ...),
-- or null for a name of no known family. Why: a bare name is priced as its own
-- provider sells it, never as a reseller or a cloud (README "Which price a model
-- name gets"). Locks: none.
create or replace function debugloop._price_provider_of_record(name text)
returns text
language sql
immutable
parallel safe
as $$
    -- prefixes tested with LIKE, not regular expressions: an attempt's patterns stay
    -- within the backend's cache of 32 (tests/test_regex_cache.py)
    select case
        when n like 'claude-%' then 'anthropic'
        when n like any (array['gpt-%', 'chatgpt-%', 'codex-%', 'computer-use-%', 'ft:gpt-%', 'davinci-%', 'babbage-%',
                               'text-embedding-%', 'omni-moderation%'])
             or (n like 'o_%' and strpos('123456789', substr(n, 2, 1)) > 0 and substr(n, 3, 1) in ('', '-')) then 'openai'
        when n like any (array['gemini-%', 'gemma-%', 'learnlm-%', 'deep-research-%']) then 'google'
        when n like 'glm-%' then 'zai'
        when n like 'grok-%' then 'xai'
        when n like 'deepseek-%' then 'deepseek'
        when n like any (array['mistral-%', 'codestral-%', 'magistral-%', 'devstral-%', 'pixtral-%', 'ministral-%',
                               'open-mistral-%', 'open-mixtral-%']) then 'mistral'
        when n like 'command-%' then 'cohere'
        when n like any (array['kimi-%', 'moonshot-%']) then 'moonshot'
        when n like 'jamba-%' then 'ai21'
        when n like 'sonar%' then 'perplexity'
    end
    from (select lower(btrim(name)) as n) s
$$;

-- debugloop.price_lookup(model, at, provider): the price version that applies to
-- `model` at time `at`, one rule for every name (README "Which price a model name
-- gets"):
--   * a name whose first "prefix/" names a provider of the catalog (azure/gpt-4o,
--     vertex_ai/gemini-2.0-flash, anthropic/claude-x) is that provider's model;
--     other prefixes (openrouter/anthropic/claude-x) are tried whole, then stripped
--     one at a time, at most 4, each stripped prefix naming the provider;
--   * the `provider` argument picks that provider whatever the name says;
--   * a bare name takes the provider that has a custom price for it, else its
--     provider of record (_price_provider_of_record), else the provider LiteLLM
--     lists the bare name under (the entry's key had no prefix), else the first
--     by name: never the newest reseller, so an import never moves it;
--   * a name with a prefix that names no provider is matched whole by its exact
--     name or an alias only, then stripped (meta_llama/x is never a reseller's
--     meta-llama/x);
--   * within the provider an exact name beats an alias, which beats the name with
--     dots and underscores read as dashes (claude-sonnet-4.5), which beats a regex
--     pattern; then a custom price beats an imported one; then the newest version
--     with effective_from <= at.
-- Null when nothing matches. Raises DL001 for a name longer than 256 characters:
-- with both bounds the work of a lookup is bounded whatever the name. Locks: none.
create or replace function debugloop.price_lookup(model text, at timestamptz default now(), provider text default null)
returns debugloop.model_price_catalog
language plpgsql
stable
as $$
declare
    name text := lower(btrim(model));
    fixed text := debugloop._price_provider(nullif(btrim(provider), ''));
    hint text := fixed;
    prefix text;
    record_of text;
    whole_only boolean;
    stripped integer := 0;
    found_row debugloop.model_price_catalog;
begin
    if name is null or name = '' then
        return null;
    end if;
    perform debugloop._price_check_model(model, 'model');
    perform debugloop._price_check_model(provider, 'provider');
    loop
        prefix := case when position('/' in name) > 0 then debugloop._price_provider(split_part(name, '/', 1)) end;
        -- a leading prefix that names a provider of the catalog is that provider, not part of a
        -- reseller's model name (within a provider, the rest of the name is that provider's)
        if hint is not null or prefix is null
           or not exists (select from debugloop.model_price_catalog c where c.provider = prefix) then
            record_of := case when hint is null then debugloop._price_provider_of_record(name) end;
            -- a name with a prefix of no provider, whole: its exact name or an alias only (no
            -- reseller's meta-llama/x for meta_llama/x)
            whole_only := hint is null and prefix is not null;
            select (r.c).* into found_row
              from (select m.c, m.kind,
                           bool_or((m.c).origin = 'custom') over w as p_custom,
                           bool_or(position('/' in coalesce((m.c).source_key, '/')) = 0) over w as p_bare,
                           min(m.kind) over w as p_kind
                      from (
                            select c, 0 as kind from debugloop.model_price_catalog c
                             where lower(c.model_name) = name and c.effective_from <= at
                            union all
                            select c, 1 from debugloop.model_price_catalog c
                             where c.aliases @> array[name] and c.effective_from <= at
                            union all
                            select c, 2 from debugloop.model_price_catalog c
                             where translate(lower(c.model_name), '._', '--') = translate(name, '._', '--') and c.effective_from <= at
                               and not whole_only
                            union all
                            select c, 3 from debugloop.model_price_catalog c
                             where c.name_pattern is not null and c.effective_from <= at and name ~* c.name_pattern
                               and not whole_only
                      ) m
                     where hint is null or (m.c).provider = hint
                    window w as (partition by (m.c).provider)) r
             order by r.p_custom desc, ((r.c).provider = record_of) is true desc, r.p_bare desc, r.p_kind,
                      (r.c).provider, r.kind, ((r.c).origin = 'custom') desc, (r.c).effective_from desc
             limit 1;
            if found then
                return found_row;
            end if;
        end if;
        exit when position('/' in name) = 0 or stripped = 4;
        hint := coalesce(fixed, prefix);
        name := substr(name, position('/' in name) + 1);
        stripped := stripped + 1;
    end loop;
    return null;
end
$$;
comment on function debugloop.price_lookup(text, timestamptz, text) is 'The price version in force for a model name at a time (its own provider for a bare name; a provider prefix or argument picks that one); null if none.';

-- debugloop._price_off_peak_open(off_peak, at): whether `at` lies in one of the
-- off-peak windows of a price (its `windows`: each `hours`, "HH:MM-HH:MM" in UTC,
-- start inclusive, end exclusive, wrapping past midnight, a start equal to its end
-- the whole day; on its `weekdays`, 1 = Monday .. 7 = Sunday, read in
-- `weekday_timezone` (default UTC), every day when absent). Why: DeepSeek and
-- others charge less at given hours; the attempt's start time decides, as LiteLLM
-- decides by the request time. Locks: none.
create or replace function debugloop._price_off_peak_open(off_peak jsonb, at timestamptz)
returns boolean
language sql
stable
as $$
    select coalesce(bool_or(
               (w -> 'weekdays' is null
                or extract(isodow from at at time zone coalesce(off_peak ->> 'weekday_timezone', 'UTC'))::integer
                   in (select d::integer from jsonb_array_elements_text(w -> 'weekdays') d))
               and case when h.start < h.stop then (at at time zone 'UTC')::time >= h.start and (at at time zone 'UTC')::time < h.stop
                        else (at at time zone 'UTC')::time >= h.start or (at at time zone 'UTC')::time < h.stop end), false)
      from jsonb_array_elements(off_peak -> 'windows') w
     cross join lateral jsonb_array_elements_text(w -> 'hours') hr
     cross join lateral (select split_part(hr, '-', 1)::time as start,
                                split_part(hr, '-', 2)::time as stop) h
     where at is not null
$$;

-- debugloop._price_request(price, request, at): the exact USD cost of one
-- canonical request made at `at`. When its prompt (input + cache reads + cache
-- writes) exceeds the long-context threshold, every token of the request is priced
-- at the tier, as providers bill; where the price has context tiers (several
-- thresholds, or ranges), the last tier whose `above` the prompt exceeds prices
-- every token of it. A request in the priority or flex tier
-- (service_tier), or a batch, takes that tier's price of each kind (of the long
-- context tier too) where the price names one; a batch without batch prices takes
-- batch_discount off. In an off-peak window at `at` the window's prices replace
-- those of the request, tier or not (as LiteLLM applies them). The uplifts that
-- the setting price_uplifts names multiply the cost. Fallbacks: cache read ->
-- input price, cache write -> input price, 1-hour write -> cache write price,
-- reasoning -> output price, a missing tier price -> the base price of its kind.
-- Locks: none.
create or replace function debugloop._price_request(price debugloop.model_price_catalog, request jsonb, at timestamptz)
returns numeric
language plpgsql
stable
as $$
declare
    input_tokens bigint := (request ->> 'input_tokens')::bigint;
    output_tokens bigint := (request ->> 'output_tokens')::bigint;
    read_tokens bigint := (request ->> 'cache_read_tokens')::bigint;
    write_tokens bigint := (request ->> 'cache_write_tokens')::bigint;
    write_1h_tokens bigint := (request ->> 'cache_write_1h_tokens')::bigint;
    reasoning_tokens bigint := (request ->> 'reasoning_tokens')::bigint;
    batch boolean := coalesce((request ->> 'batch')::boolean, false);
    tier jsonb := price.service_tiers -> coalesce(case when batch then 'batch' end, request ->> 'service_tier');
    long boolean := price.long_context_threshold is not null
                    and input_tokens + read_tokens + write_tokens + write_1h_tokens > price.long_context_threshold;
    off jsonb := case when price.off_peak is not null and debugloop._price_off_peak_open(price.off_peak, at) then price.off_peak end;
    context jsonb := (select t from jsonb_array_elements(price.context_tiers) t
                       where (t ->> 'above')::numeric < input_tokens + read_tokens + write_tokens + write_1h_tokens
                       order by (t ->> 'above')::numeric desc limit 1);
    uplift numeric := 1;
    name text;
    p_in numeric; p_out numeric; p_read numeric; p_write numeric; p_write_1h numeric; p_reason numeric;
    cost numeric;
begin
    if context is not null then
        p_in := coalesce((context ->> 'input')::numeric, price.input_price_per_million);
        p_out := coalesce((context ->> 'output')::numeric, price.output_price_per_million);
        p_read := coalesce((context ->> 'cache_read')::numeric, p_in);
        p_write := coalesce((context ->> 'cache_write')::numeric, p_in);
        p_write_1h := coalesce((context ->> 'cache_write_1h')::numeric, p_write);
    elsif long then
        p_in := coalesce((tier ->> 'long_input')::numeric, price.long_context_input_price_per_million, (tier ->> 'input')::numeric, price.input_price_per_million);
        p_out := coalesce((tier ->> 'long_output')::numeric, price.long_context_output_price_per_million, (tier ->> 'output')::numeric, price.output_price_per_million);
        p_read := coalesce((tier ->> 'long_cache_read')::numeric, price.long_context_cache_read_price_per_million,
                           (tier ->> 'cache_read')::numeric, price.cache_read_price_per_million, p_in);
        p_write := coalesce((tier ->> 'long_cache_write')::numeric, price.long_context_cache_write_price_per_million,
                            (tier ->> 'cache_write')::numeric, price.cache_write_price_per_million, p_in);
        p_write_1h := coalesce(price.long_context_cache_write_1h_price_per_million, (tier ->> 'cache_write_1h')::numeric,
                               price.cache_write_1h_price_per_million, p_write);
    else
        p_in := coalesce((tier ->> 'input')::numeric, price.input_price_per_million);
        p_out := coalesce((tier ->> 'output')::numeric, price.output_price_per_million);
        p_read := coalesce((tier ->> 'cache_read')::numeric, price.cache_read_price_per_million, p_in);
        p_write := coalesce((tier ->> 'cache_write')::numeric, price.cache_write_price_per_million, p_in);
        p_write_1h := coalesce((tier ->> 'cache_write_1h')::numeric, price.cache_write_1h_price_per_million, p_write);
    end if;
    p_reason := coalesce((tier ->> 'reasoning')::numeric, price.reasoning_price_per_million, p_out);
    if off is not null then
        p_in := coalesce((off ->> 'input')::numeric, p_in);
        p_out := coalesce((off ->> 'output')::numeric, p_out);
        p_read := coalesce((off ->> 'cache_read')::numeric, p_read);
        p_write := coalesce((off ->> 'cache_write')::numeric, p_write);
        p_reason := coalesce((off ->> 'reasoning')::numeric, case when price.reasoning_price_per_million is null then p_out end, p_reason);
    end if;
    cost := (input_tokens * p_in + output_tokens * p_out + read_tokens * p_read + write_tokens * p_write
             + write_1h_tokens * p_write_1h + reasoning_tokens * p_reason) / 1000000;
    if batch and tier is null and price.batch_discount is not null then
        cost := cost * (1 - price.batch_discount);
    end if;
    if price.uplifts is not null then
        for name in select btrim(x) from regexp_split_to_table(coalesce(debugloop.settings_get('price_uplifts') #>> '{}', ''), ',') x
                     where btrim(x) <> '' loop
            uplift := uplift * coalesce((price.uplifts ->> name)::numeric, 1);
        end loop;
        cost := cost * uplift;
    end if;
    return trim_scale(cost);
end
$$;

-- debugloop._price_requests(price, requests, at): the exact USD cost of canonical
-- requests (price_usage_requests), each made at `at`; null for none. Locks: none.
create or replace function debugloop._price_requests(price debugloop.model_price_catalog, requests jsonb[], at timestamptz)
returns numeric
language sql
stable
as $$
    select trim_scale(sum(debugloop._price_request(price, r, at))) from unnest(requests) r
$$;

-- debugloop._price_usage(price, usage, at): the exact USD cost of a usage value
-- (the sum over its requests, each made at `at`; _price_requests), or null for
-- null usage. Raises DL005 and DL045 for bad usage. Locks: none.
create or replace function debugloop._price_usage(price debugloop.model_price_catalog, usage jsonb, at timestamptz)
returns numeric
language sql
stable
as $$
    select debugloop._price_requests(price, array(select debugloop.price_usage_requests(usage)), at)
$$;

-- debugloop._price_uncached(price, input_tokens, output_tokens): the exact USD
-- cost of one request of that size, all input uncached, no reasoning, no tier, no
-- off-peak window: what _price_usage gives for {input_tokens, output_tokens,
-- cache_read_tokens: 0}, without parsing a usage object (a null count is 0, as
-- there). Why: estimates price token percentiles on every attempt_start. Locks: none.
create or replace function debugloop._price_uncached(price debugloop.model_price_catalog, input_tokens bigint, output_tokens bigint)
returns numeric
language sql
stable
as $$
    select debugloop._price_request(price, jsonb_build_object(
        'input_tokens', coalesce(input_tokens, 0), 'output_tokens', coalesce(output_tokens, 0),
        'cache_read_tokens', 0, 'cache_write_tokens', 0, 'cache_write_1h_tokens', 0, 'reasoning_tokens', 0,
        'batch', false), null)
$$;

-- debugloop._price_require(model, at, provider): price_lookup, or DL006 when no
-- price applies. Locks: none.
create or replace function debugloop._price_require(model text, at timestamptz, provider text default null)
returns debugloop.model_price_catalog
language plpgsql
stable
as $$
declare
    price debugloop.model_price_catalog := debugloop.price_lookup(model, at, provider);
begin
    if price.catalog_id is null then
        raise exception 'no price for model %', coalesce(quote_literal(model), 'NULL')
            using errcode = 'DL006', column = 'model',
                  detail = format('no catalog version matches it%s with effective_from <= %s',
                                  case when provider is not null then ' at provider ' || provider else '' end, at),
                  hint = 'import prices (debugloop prices import) or add one (debugloop prices set)';
    end if;
    return price;
end
$$;

-- debugloop.price_cost(model, usage, at, provider): the exact USD cost of `usage`
-- (any supported format, or an array of requests) for `model` (at `provider`,
-- when given) at the prices in force at `at`, its requests made at `at` (an
-- off-peak window applies by that time). Raises DL006 for a model without a
-- price, DL005 for bad counts, DL045 for usage of no known format. Locks: none.
create or replace function debugloop.price_cost(model text, usage jsonb, at timestamptz default now(), provider text default null)
returns numeric
language sql
stable
as $$
    select debugloop._price_usage(debugloop._price_require(model, at, provider), usage, at)
$$;
comment on function debugloop.price_cost(text, jsonb, timestamptz, text) is 'Exact USD cost of a usage object for a model at the prices in force at a time.';

-- debugloop._price_requests_cost(model, requests, at): the cost of canonical
-- requests (price_usage_requests) for a model at the prices in force at `at` (and
-- its off-peak windows at `at`), the catalog version used, and the cost status:
-- priced, unpriced (no price matches the model) or no_usage (no request). Why: one
-- pricing path for a finishing attempt, a running one and price_reprice; the
-- finishing attempt has parsed its usage already. Locks: none.
create or replace function debugloop._price_requests_cost(
    model text, requests jsonb[], at timestamptz,
    out cost_usd numeric, out price_catalog_id uuid, out cost_status text)
language plpgsql
stable
as $$
declare
    price debugloop.model_price_catalog;
begin
    if coalesce(cardinality(requests), 0) = 0 then
        cost_status := 'no_usage';  -- null, or an empty array: no request, no usage
        return;
    end if;
    price := debugloop.price_lookup(model, at);
    if price.catalog_id is null then
        cost_status := 'unpriced';
        return;
    end if;
    cost_usd := debugloop._price_requests(price, requests, at);
    price_catalog_id := price.catalog_id;
    cost_status := 'priced';
end
$$;

-- debugloop._price_attempt_cost(model, usage, at): _price_requests_cost of the
-- requests of a usage value (no_usage for null and an empty array). Raises DL005
-- and DL045 for bad usage. Locks: none.
create or replace function debugloop._price_attempt_cost(
    model text, usage jsonb, at timestamptz,
    out cost_usd numeric, out price_catalog_id uuid, out cost_status text)
language sql
stable
as $$
    select * from debugloop._price_requests_cost(model, array(select debugloop.price_usage_requests(usage)), at)
$$;

-- debugloop._price_set_attempt_cost(attempt): an attempt with its usage in
-- canonical form (the token columns and batch) and its cost at the price version
-- in force at its start, which it pins (_price_attempt_cost). A running attempt
-- holds the cost of the responses recorded so far: 'priced_so_far', which becomes
-- 'priced' when it finishes. With enable_cost_tracking off for the session the
-- cost is left null ('untracked'). Raises DL005 and DL045 for bad usage. Why: the
-- pricing of the finish trigger and of usage recorded while an attempt runs.
-- Locks: none (reads the price catalog).
create or replace function debugloop._price_set_attempt_cost(attempt debugloop.debug_execution_attempts)
returns debugloop.debug_execution_attempts
language plpgsql
stable
as $$
declare
    requests jsonb[] := array(select debugloop.price_usage_requests(attempt.usage_raw));  -- parsed once
    usage jsonb := debugloop._usage_sum(requests);
    priced record;
begin
    attempt.input_tokens := (usage ->> 'input_tokens')::bigint;
    attempt.output_tokens := (usage ->> 'output_tokens')::bigint;
    attempt.cache_read_tokens := (usage ->> 'cache_read_tokens')::bigint;
    attempt.cache_write_tokens := (usage ->> 'cache_write_tokens')::bigint;
    attempt.cache_write_1h_tokens := (usage ->> 'cache_write_1h_tokens')::bigint;
    attempt.reasoning_tokens := (usage ->> 'reasoning_tokens')::bigint;
    attempt.batch := coalesce((usage ->> 'batch')::boolean, false);
    if not debugloop.settings_flag('enable_cost_tracking') then
        attempt.cost_usd := null;
        attempt.price_catalog_id := null;
        attempt.cost_status := 'untracked';
    else
        select * into priced from debugloop._price_requests_cost(attempt.model_used, requests, attempt.started_at);
        attempt.cost_usd := priced.cost_usd;
        attempt.price_catalog_id := priced.price_catalog_id;
        attempt.cost_status := case when priced.cost_status = 'priced' and attempt.status = 'running'
                                    then 'priced_so_far' else priced.cost_status end;
        attempt.priced_at := case when priced.cost_status = 'priced' then now() end;
    end if;
    return attempt;
end
$$;

-- debugloop.price_estimate(model, input_tokens, output_tokens): the USD cost of a
-- request of that size at today's prices (all input uncached). Raises DL001 for a
-- count outside [0, 10^15), DL006 for an unknown model. Locks: none.
create or replace function debugloop.price_estimate(model text, input_tokens bigint, output_tokens bigint)
returns numeric
language plpgsql
stable
as $$
begin
    if input_tokens is null or input_tokens < 0 or input_tokens >= 1e15 then
        raise exception 'input_tokens must be a non-negative number below 10^15, got %', coalesce(input_tokens::text, 'NULL')
            using errcode = 'DL001', column = 'input_tokens';
    end if;
    if output_tokens is null or output_tokens < 0 or output_tokens >= 1e15 then
        raise exception 'output_tokens must be a non-negative number below 10^15, got %', coalesce(output_tokens::text, 'NULL')
            using errcode = 'DL001', column = 'output_tokens';
    end if;
    return debugloop.price_cost(model, jsonb_build_object('input_tokens', input_tokens, 'output_tokens', output_tokens,
                                                          'cache_read_tokens', 0));
end
$$;
comment on function debugloop.price_estimate(text, bigint, bigint) is 'USD cost of a request of the given size for a model at today''s prices.';

-- debugloop._price_signature(price): the fields that make two versions the same
-- price; an import writes a new version only when this differs from the last one.
create or replace function debugloop._price_signature(price debugloop.model_price_catalog)
returns jsonb
language sql
immutable
as $$
    select to_jsonb(price) - array['catalog_id', 'origin', 'source', 'source_key', 'effective_from', 'created_at', 'created_by']
$$;

-- debugloop._price_per_million(entry, field): a LiteLLM per-token cost as USD
-- per million tokens, rounded to 9 decimals (the file's floats carry binary noise,
-- e.g. 3.0000000000000004e-06); null when the field is not a number.
create or replace function debugloop._price_per_million(entry jsonb, field text)
returns numeric
language sql
immutable
as $$
    select case when jsonb_typeof(entry -> field) = 'number'
                then trim_scale(round((entry ->> field)::numeric * 1000000, 9)) end
$$;

-- debugloop._price_count(entry, field): a whole-number field of a LiteLLM entry
-- (context window, rate limits), or null when it is not a number.
create or replace function debugloop._price_count(entry jsonb, field text)
returns integer
language sql
immutable
as $$
    select case when jsonb_typeof(entry -> field) = 'number' then round((entry ->> field)::numeric)::integer end
$$;

-- debugloop._price_from_litellm(key, entry): one entry of LiteLLM's
-- model_prices_and_context_window.json as a catalog row (not inserted), or null
-- when the entry has no per-token input and output price (of its own, or of the
-- lowest of its tiered_pricing ranges). Per-token costs become
-- prices per million rounded to 9 decimals (the file's floats carry binary noise).
-- The lowest *_above_<N>k_tokens threshold of any kind (input, output, cache read,
-- cache write; not the _priority, _flex, _batches variants beside it) becomes the
-- long-context tier; the _priority, _flex and _batches prices, of the tier too,
-- become service_tiers; off_peak_pricing becomes off_peak (its hours_utc windows,
-- every day or on given weekdays, and its prices); successor_model is kept; the
-- FedRAMP and regional uplift multipliers are kept in uplifts (applied only where
-- the setting price_uplifts names them). source_key is the entry's key.
create or replace function debugloop._price_from_litellm(key text, entry jsonb)
returns debugloop.model_price_catalog
language plpgsql
immutable
as $$
declare
    r debugloop.model_price_catalog;
    provider_raw text := coalesce(entry ->> 'litellm_provider', split_part(key, '/', 1));
    tier text;
    base_input numeric;
    suffix text;
    tiers jsonb := '{}';
    prices jsonb;
    off jsonb := entry -> 'off_peak_pricing';
    lowest jsonb;
begin
    if jsonb_typeof(entry -> 'tiered_pricing') = 'array' and entry -> 'input_cost_per_token' is null then
        -- only ranges (Dashscope): the lowest priced range is the base price
        select t into lowest from jsonb_array_elements(entry -> 'tiered_pricing') t
         where jsonb_typeof(t -> 'input_cost_per_token') = 'number' and jsonb_typeof(t -> 'output_cost_per_token') = 'number'
           and jsonb_typeof(t -> 'range' -> 0) = 'number'
         order by (t -> 'range' ->> 0)::numeric limit 1;
        entry := entry || jsonb_strip_nulls(jsonb_build_object(
            'input_cost_per_token', lowest -> 'input_cost_per_token', 'output_cost_per_token', lowest -> 'output_cost_per_token'));
    end if;
    if jsonb_typeof(entry) is distinct from 'object'
       or jsonb_typeof(entry -> 'input_cost_per_token') is distinct from 'number'
       or jsonb_typeof(entry -> 'output_cost_per_token') is distinct from 'number' then
        return null;
    end if;
    r.provider := debugloop._price_provider(provider_raw);
    r.model_name := case when key like provider_raw || '/%' then substr(key, length(provider_raw) + 2)
                         -- vertex_ai/claude-x of provider vertex_ai-anthropic_models, bedrock/... of bedrock_converse
                         when position('/' in key) > 0 and debugloop._price_provider(split_part(key, '/', 1)) = r.provider
                         then substr(key, position('/' in key) + 1)
                         else key end;
    r.source_key := key;
    r.mode := coalesce(entry ->> 'mode', 'chat');
    r.aliases := '{}';
    r.currency := 'USD';
    base_input := (entry ->> 'input_cost_per_token')::numeric;
    r.input_price_per_million := debugloop._price_per_million(entry, 'input_cost_per_token');
    r.output_price_per_million := debugloop._price_per_million(entry, 'output_cost_per_token');
    r.cache_read_price_per_million := debugloop._price_per_million(entry, 'cache_read_input_token_cost');
    r.cache_write_price_per_million := debugloop._price_per_million(entry, 'cache_creation_input_token_cost');
    r.cache_write_1h_price_per_million := debugloop._price_per_million(entry, 'cache_creation_input_token_cost_above_1hr');
    r.reasoning_price_per_million := debugloop._price_per_million(entry, 'output_cost_per_reasoning_token');
    select t.tier into tier
      from (select m[2] || m[3] as tier, m[2]::bigint * case when m[3] = 'k' then 1000 else 1 end as tokens
              from jsonb_object_keys(entry) k,
                   regexp_match(k, '^(input_cost_per_token|output_cost_per_token|cache_read_input_token_cost|cache_creation_input_token_cost)_above_(\d{1,7})(k?)_tokens$') m) t
     where t.tokens between 1 and 2147483647
     order by t.tokens limit 1;
    if tier is not null then
        r.long_context_threshold := (regexp_match(tier, '^\d+'))[1]::integer * case when tier like '%k' then 1000 else 1 end;
        r.long_context_input_price_per_million :=
            debugloop._price_per_million(entry, format('input_cost_per_token_above_%s_tokens', tier));
        r.long_context_output_price_per_million :=
            debugloop._price_per_million(entry, format('output_cost_per_token_above_%s_tokens', tier));
        r.long_context_cache_read_price_per_million :=
            debugloop._price_per_million(entry, format('cache_read_input_token_cost_above_%s_tokens', tier));
        r.long_context_cache_write_price_per_million :=
            debugloop._price_per_million(entry, format('cache_creation_input_token_cost_above_%s_tokens', tier));
        r.long_context_cache_write_1h_price_per_million :=
            debugloop._price_per_million(entry, format('cache_creation_input_token_cost_above_1hr_above_%s_tokens', tier));
    end if;
    if jsonb_typeof(entry -> 'tiered_pricing') = 'array' then
        -- ranges, each billing every token of a request whose prompt lies in it; a kind a range
        -- does not price costs its input price (output: the model's own), as LiteLLM reads them
        select jsonb_agg(jsonb_strip_nulls(jsonb_build_object(
                   'above', round((t -> 'range' ->> 0)::numeric),
                   'input', debugloop._price_per_million(t, 'input_cost_per_token'),
                   'output', coalesce(debugloop._price_per_million(t, 'output_cost_per_token'), r.output_price_per_million),
                   'cache_read', coalesce(debugloop._price_per_million(t, 'cache_read_input_token_cost'),
                                          debugloop._price_per_million(t, 'input_cost_per_token')),
                   'cache_write', coalesce(debugloop._price_per_million(t, 'cache_creation_input_token_cost'),
                                           debugloop._price_per_million(t, 'input_cost_per_token'))))
                   order by (t -> 'range' ->> 0)::numeric)
          into r.context_tiers
          from jsonb_array_elements(entry -> 'tiered_pricing') t
         where jsonb_typeof(t -> 'input_cost_per_token') = 'number' and jsonb_typeof(t -> 'range' -> 0) = 'number'
           and (t -> 'range' ->> 0)::numeric between 0 and 2147483647;
    elsif (select count(distinct m[2] || m[3]) from jsonb_object_keys(entry) k,
                  regexp_match(k, '^(input_cost_per_token|output_cost_per_token|cache_read_input_token_cost|cache_creation_input_token_cost)_above_(\d{1,7})(k?)_tokens$') m) > 1 then
        -- several thresholds: the highest one a prompt exceeds applies, each kind falling back to
        -- the price below it (LiteLLM walks them in order)
        r.context_tiers := debugloop._price_context_tiers_from_litellm(entry, r);
    end if;
    foreach suffix in array array['priority', 'flex', 'batches'] loop
        prices := jsonb_strip_nulls(jsonb_build_object(
            'input', debugloop._price_per_million(entry, 'input_cost_per_token_' || suffix),
            'output', debugloop._price_per_million(entry, 'output_cost_per_token_' || suffix),
            'cache_read', debugloop._price_per_million(entry, 'cache_read_input_token_cost_' || suffix),
            'cache_write', debugloop._price_per_million(entry, 'cache_creation_input_token_cost_' || suffix),
            'cache_write_1h', debugloop._price_per_million(entry, 'cache_creation_input_token_cost_above_1hr_' || suffix),
            'long_input', debugloop._price_per_million(entry, format('input_cost_per_token_above_%s_tokens_%s', tier, suffix)),
            'long_output', debugloop._price_per_million(entry, format('output_cost_per_token_above_%s_tokens_%s', tier, suffix)),
            'long_cache_read', debugloop._price_per_million(entry, format('cache_read_input_token_cost_above_%s_tokens_%s', tier, suffix)),
            'long_cache_write', debugloop._price_per_million(entry, format('cache_creation_input_token_cost_above_%s_tokens_%s', tier, suffix))));
        if prices <> '{}' then
            tiers := tiers || jsonb_build_object(case when suffix = 'batches' then 'batch' else suffix end, prices);
        end if;
    end loop;
    r.service_tiers := nullif(tiers, '{}');
    if base_input > 0 and jsonb_typeof(entry -> 'input_cost_per_token_batches') = 'number' then
        r.batch_discount := round(1 - (entry ->> 'input_cost_per_token_batches')::numeric / base_input, 4);
        if r.batch_discount <= 0 or r.batch_discount >= 1 then
            r.batch_discount := null;
        end if;
    end if;
    if jsonb_typeof(off) = 'object' then
        r.off_peak := debugloop._price_off_peak_from_litellm(off);
    end if;
    r.uplifts := nullif(jsonb_strip_nulls(jsonb_build_object(
        'fedramp', case when jsonb_typeof(entry -> 'fedramp_uplift_multiplier') = 'number' then entry -> 'fedramp_uplift_multiplier' end,
        'regional_eu', case when jsonb_typeof(entry -> 'regional_processing_uplift_multiplier_eu') = 'number' then entry -> 'regional_processing_uplift_multiplier_eu' end,
        'regional_us', case when jsonb_typeof(entry -> 'regional_processing_uplift_multiplier_us') = 'number' then entry -> 'regional_processing_uplift_multiplier_us' end,
        'regional_endpoint', case when jsonb_typeof(entry -> 'regional_endpoint_uplift_multiplier') = 'number' then entry -> 'regional_endpoint_uplift_multiplier' end)), '{}');
    r.successor_model := case when jsonb_typeof(entry -> 'successor_model') = 'string' then left(entry ->> 'successor_model', 256) end;
    r.context_window := debugloop._price_count(entry, 'max_input_tokens');
    r.max_output_tokens := debugloop._price_count(entry, 'max_output_tokens');
    r.requests_per_minute := debugloop._price_count(entry, 'rpm');
    r.tokens_per_minute := debugloop._price_count(entry, 'tpm');
    select coalesce(array_agg(substr(k, 10) order by k), '{}') into r.capabilities
      from jsonb_each(entry) e(k, v) where k like 'supports\_%' and v = 'true'::jsonb;
    r.deprecated_at := case when entry ->> 'deprecation_date' ~ '^\d{4}-\d{2}-\d{2}$' then (entry ->> 'deprecation_date')::timestamptz end;
    r.is_active := true;
    return r;
end
$$;

-- debugloop._price_context_tiers_from_litellm(entry, base): the context tiers of
-- an entry with several *_above_<N>k_tokens thresholds, lowest first, each kind at
-- its price above that threshold or, where the entry names none, the price of the
-- tier below (the base price below the lowest). Locks: none.
create or replace function debugloop._price_context_tiers_from_litellm(entry jsonb, base debugloop.model_price_catalog)
returns jsonb
language plpgsql
immutable
as $$
declare
    tier record;
    current jsonb := jsonb_strip_nulls(jsonb_build_object(
        'input', base.input_price_per_million, 'output', base.output_price_per_million,
        'cache_read', coalesce(base.cache_read_price_per_million, base.input_price_per_million),
        'cache_write', coalesce(base.cache_write_price_per_million, base.input_price_per_million),
        'cache_write_1h', base.cache_write_1h_price_per_million));
    tiers jsonb := '[]';
begin
    for tier in
        select distinct m[2] || m[3] as name, m[2]::bigint * case when m[3] = 'k' then 1000 else 1 end as tokens
          from jsonb_object_keys(entry) k,
               regexp_match(k, '^(input_cost_per_token|output_cost_per_token|cache_read_input_token_cost|cache_creation_input_token_cost)_above_(\d{1,7})(k?)_tokens$') m
         order by 2
    loop
        current := current || jsonb_strip_nulls(jsonb_build_object(
            'above', tier.tokens,
            'input', debugloop._price_per_million(entry, format('input_cost_per_token_above_%s_tokens', tier.name)),
            'output', debugloop._price_per_million(entry, format('output_cost_per_token_above_%s_tokens', tier.name)),
            'cache_read', debugloop._price_per_million(entry, format('cache_read_input_token_cost_above_%s_tokens', tier.name)),
            'cache_write', debugloop._price_per_million(entry, format('cache_creation_input_token_cost_above_%s_tokens', tier.name)),
            'cache_write_1h', debugloop._price_per_million(entry, format('cache_creation_input_token_cost_above_1hr_above_%s_tokens', tier.name))));
        tiers := tiers || jsonb_build_array(current);
    end loop;
    return tiers;
end
$$;

-- debugloop._price_off_peak_from_litellm(off): LiteLLM's off_peak_pricing as the
-- catalog keeps it: {"windows": [{"hours": ["HH:MM-HH:MM", ...], "weekdays":
-- [1..7]}], "weekday_timezone", "input", "output", "cache_read", "cache_write",
-- "reasoning"} with prices per million. The flat hours_utc (every day) is a window
-- without weekdays; weekday names (mon, tuesday) become numbers (1 = Monday); a
-- window that is not HH:MM-HH:MM is left out, as LiteLLM ignores it; null when no
-- window is left. Locks: none.
create or replace function debugloop._price_off_peak_from_litellm(off jsonb)
returns jsonb
language sql
immutable
as $$
    with rules as (
        select off -> 'hours_utc' as hours, null::jsonb as weekdays
        union all
        select w -> 'hours_utc', w -> 'weekdays'
          from jsonb_array_elements(case when jsonb_typeof(off -> 'windows') = 'array' then off -> 'windows' else '[]' end) w
         where jsonb_typeof(w) = 'object'
    ), windows as (
        select jsonb_strip_nulls(jsonb_build_object(
                   'hours', (select jsonb_agg(h order by n)
                               from jsonb_array_elements_text(case jsonb_typeof(r.hours) when 'string' then jsonb_build_array(r.hours)
                                                                   when 'array' then r.hours else '[]' end) with ordinality x(h, n)
                              where h ~ '^\s*([01]\d|2[0-4]):[0-5]\d\s*-\s*([01]\d|2[0-4]):[0-5]\d\s*$'),
                   'weekdays', case when jsonb_typeof(r.weekdays) = 'array' then
                       (select coalesce(jsonb_agg(distinct d), '[]')
                          from (select case when jsonb_typeof(e) = 'number' and (e #>> '{}') ~ '^[1-7]$' then (e #>> '{}')::integer
                                            else case lower(btrim(e #>> '{}'))
                                                     when 'mon' then 1 when 'monday' then 1 when 'tue' then 2 when 'tues' then 2
                                                     when 'tuesday' then 2 when 'wed' then 3 when 'wednesday' then 3 when 'thu' then 4
                                                     when 'thur' then 4 when 'thurs' then 4 when 'thursday' then 4 when 'fri' then 5
                                                     when 'friday' then 5 when 'sat' then 6 when 'saturday' then 6 when 'sun' then 7
                                                     when 'sunday' then 7 end end as d
                                  from jsonb_array_elements(r.weekdays) e) days
                         where d is not null)
                   end)) as rule
          from rules r
         where r.hours is not null
    ), kept as (
        select jsonb_agg(rule) as windows from windows where rule ? 'hours'
    )
    select case when k.windows is not null then jsonb_strip_nulls(jsonb_build_object(
               'windows', k.windows,
               'weekday_timezone', case when jsonb_typeof(off -> 'weekday_timezone') = 'string'
                                         and pg_input_is_valid('2026-01-01 00:00 ' || (off ->> 'weekday_timezone'), 'timestamptz')
                                        then off ->> 'weekday_timezone' end,
               'input', debugloop._price_per_million(off, 'input_cost_per_token'),
               'output', debugloop._price_per_million(off, 'output_cost_per_token'),
               'cache_read', debugloop._price_per_million(off, 'cache_read_input_token_cost'),
               'cache_write', debugloop._price_per_million(off, 'cache_creation_input_token_cost'),
               'reasoning', debugloop._price_per_million(off, 'output_cost_per_reasoning_token'))) end
      from kept k
$$;

-- debugloop._price_litellm_problem(entry): why an entry of LiteLLM's
-- document cannot be a price version, or null: a per-token price (any *_cost_*
-- field) that is not a number from 0 to 1 USD per token, a context window, output
-- limit or rate limit that is not a number from 0 to 2147483647, a
-- deprecation_date that is not a date. Why: price_import skips such an entry with
-- the reason, rather than failing the whole document or storing a price that is
-- not finite. Locks: none.
create or replace function debugloop._price_litellm_problem(entry jsonb)
returns text
language plpgsql
immutable
as $$
declare
    field text;
    value jsonb;
begin
    if jsonb_typeof(entry) is distinct from 'object' then
        return null;  -- no price at all: _price_from_litellm says so
    end if;
    for field, value in select e.key, e.value from jsonb_each(entry) e where jsonb_typeof(e.value) = 'number' order by e.key loop
        if field ~ 'cost_per|token_cost' and (value::numeric < 0 or value::numeric > 1) then
            return format('%s must be a price from 0 to 1 USD per token, got %s', field, left(value::text, 40));
        end if;
        if field in ('max_input_tokens', 'max_output_tokens', 'rpm', 'tpm')
           and (value::numeric < 0 or round(value::numeric) > 2147483647) then
            return format('%s must be a whole number from 0 to 2147483647, got %s', field, left(value::text, 40));
        end if;
    end loop;
    for field, value in select e.key, e.value from jsonb_each(case when jsonb_typeof(entry -> 'off_peak_pricing') = 'object'
                                                              then entry -> 'off_peak_pricing' else '{}' end) e
                         where jsonb_typeof(e.value) = 'number' order by e.key loop
        if field ~ 'cost_per|token_cost' and (value::numeric < 0 or value::numeric > 1) then
            return format('off_peak_pricing.%s must be a price from 0 to 1 USD per token, got %s', field, left(value::text, 40));
        end if;
    end loop;
    for field, value in select e.key, e.value
                          from jsonb_array_elements(case when jsonb_typeof(entry -> 'tiered_pricing') = 'array'
                                                         then entry -> 'tiered_pricing' else '[]' end) t,
                               jsonb_each(case when jsonb_typeof(t) = 'object' then t else '{}' end) e
                         where jsonb_typeof(e.value) = 'number' order by 1 loop
        if field ~ 'cost_per|token_cost' and (value::numeric < 0 or value::numeric > 1) then
            return format('tiered_pricing: %s must be a price from 0 to 1 USD per token, got %s', field, left(value::text, 40));
        end if;
    end loop;
    for field, value in select k, entry -> k from unnest(array['fedramp_uplift_multiplier', 'regional_processing_uplift_multiplier_eu',
                                                               'regional_processing_uplift_multiplier_us', 'regional_endpoint_uplift_multiplier']) k
                         where jsonb_typeof(entry -> k) = 'number' loop
        if value::numeric < 0 or value::numeric > 100 then
            return format('%s must be a multiplier from 0 to 100, got %s', field, left(value::text, 40));
        end if;
    end loop;
    if entry ->> 'deprecation_date' ~ '^\d{4}-\d{2}-\d{2}$' then
        begin
            perform (entry ->> 'deprecation_date')::date;
        exception when datetime_field_overflow or invalid_datetime_format then
            return format('deprecation_date %s is not a date', entry ->> 'deprecation_date');
        end;
    end if;
    return null;
end
$$;

-- debugloop.price_import(doc, source, effective_from, providers): import a
-- document in LiteLLM's model_prices_and_context_window.json format. For each
-- entry with per-token input and output prices (of `providers` only, when given),
-- a new imported version effective from `effective_from` is written only when it
-- differs from the newest imported version of that model; importing the same
-- document twice adds nothing. An entry that is an alias (alias_of: another
-- entry's key) adds its name, without its provider prefix, to that entry's
-- aliases. Returns one row per entry: added, unchanged, alias (detail: the entry
-- it names) or skipped (with why: no per-token price, an alias of no entry, or a
-- value the catalog refuses, _price_litellm_problem). Raises DL001 for a doc that is not an object, an empty
-- source, an effective_from that is not a finite time. Admin only. Locks:
-- inserts into the catalog; concurrent imports of one model serialise on the
-- version key.
create or replace function debugloop.price_import(
    doc jsonb,
    source text,
    effective_from timestamptz default now(),
    providers text[] default null
)
returns table (provider text, model_name text, action text, detail text)
language plpgsql
volatile
security definer
set search_path = debugloop, pg_catalog, pg_temp
as $$
declare
    entry record;
    candidate debugloop.model_price_catalog;
    latest debugloop.model_price_catalog;
    seen text[] := '{}';
    wanted text[] := (select array_agg(debugloop._price_provider(p)) from unnest(providers) p);
    alias_names jsonb;
begin
    if jsonb_typeof(doc) is distinct from 'object' then
        raise exception 'doc must be a JSON object keyed by model name (LiteLLM format)'
            using errcode = 'DL001', column = 'doc';
    end if;
    -- the aliases of each entry: the alias's key, without a prefix that names the entry's provider
    select coalesce(jsonb_object_agg(t.target, t.names), '{}') into alias_names
      from (select a.value ->> 'alias_of' as target,
                   jsonb_agg(distinct lower(case when a.key like '%/%'
                                                  and debugloop._price_provider(split_part(a.key, '/', 1))
                                                    = debugloop._price_provider(coalesce(doc -> (a.value ->> 'alias_of') ->> 'litellm_provider',
                                                                                         split_part(a.value ->> 'alias_of', '/', 1)))
                                                 then substr(a.key, position('/' in a.key) + 1) else a.key end)) as names
              from jsonb_each(doc) a
             where jsonb_typeof(a.value) = 'object' and jsonb_typeof(a.value -> 'alias_of') = 'string'
               and length(a.key) <= 256 and jsonb_typeof(doc -> (a.value ->> 'alias_of')) = 'object'
             group by 1) t;
    if source is null or btrim(source) = '' then
        raise exception 'source must name where the prices come from' using errcode = 'DL001', column = 'source';
    end if;
    if effective_from is null then
        raise exception 'effective_from must be a time' using errcode = 'DL001', column = 'effective_from';
    end if;
    perform debugloop._util_check_time(effective_from, 'effective_from');
    for entry in select e.key, e.value from jsonb_each(doc) e order by e.key loop
        continue when entry.key = 'sample_spec';
        continue when wanted is not null
                  and not debugloop._price_provider(coalesce(entry.value ->> 'litellm_provider', split_part(entry.key, '/', 1))) = any(wanted);
        if jsonb_typeof(entry.value -> 'alias_of') = 'string' and entry.value -> 'input_cost_per_token' is null then
            provider := entry.value ->> 'litellm_provider'; model_name := entry.key;
            if jsonb_typeof(doc -> (entry.value ->> 'alias_of')) = 'object' then
                action := 'alias'; detail := entry.value ->> 'alias_of';
            else
                action := 'skipped'; detail := format('alias of %s, which the document does not have', entry.value ->> 'alias_of');
            end if;
            return next;
            continue;
        end if;
        detail := debugloop._price_litellm_problem(entry.value);
        if detail is null then
            candidate := debugloop._price_from_litellm(entry.key, entry.value);
            candidate.aliases := coalesce((select array_agg(n order by n) from jsonb_array_elements_text(alias_names -> entry.key) n
                                            where n <> lower(candidate.model_name)), '{}');
            detail := case when candidate.provider is null then 'no per-token input and output price'
                           when candidate.provider !~ '^[a-z0-9][a-z0-9_.-]*$'
                               then format('provider %s is not a provider name', quote_literal(candidate.provider))
                           when btrim(candidate.model_name) = '' or length(candidate.model_name) > 256
                               then 'the model name must have 1 to 256 characters' end;
        end if;
        if detail is not null then
            provider := entry.value ->> 'litellm_provider'; model_name := entry.key; action := 'skipped';
            return next;
            continue;
        end if;
        provider := candidate.provider; model_name := candidate.model_name;
        if (candidate.provider || '/' || lower(candidate.model_name)) = any(seen) then
            action := 'skipped'; detail := format('duplicate of an earlier entry for %s/%s', candidate.provider, candidate.model_name);
            return next;
            continue;
        end if;
        seen := seen || (candidate.provider || '/' || lower(candidate.model_name));
        select c.* into latest from debugloop.model_price_catalog c
         where c.provider = candidate.provider and c.model_name = candidate.model_name and c.origin = 'imported'
         order by c.effective_from desc limit 1;
        if found and debugloop._price_signature(latest) = debugloop._price_signature(candidate) then
            action := 'unchanged'; detail := null;
            return next;
            continue;
        end if;
        candidate.catalog_id := gen_random_uuid();
        candidate.origin := 'imported';
        candidate.source := price_import.source;
        candidate.effective_from := price_import.effective_from;
        candidate.created_at := now();
        candidate.created_by := session_user;
        insert into debugloop.model_price_catalog select candidate.*;
        action := 'added';
        detail := case when latest.catalog_id is null then 'first version' else 'price changed' end;
        return next;
    end loop;
end
$$;
comment on function debugloop.price_import(jsonb, text, timestamptz, text[]) is 'Import prices in LiteLLM''s JSON format; a new version only where a price changed (admin).';
revoke execute on function debugloop.price_import(jsonb, text, timestamptz, text[]) from public;
grant execute on function debugloop.price_import(jsonb, text, timestamptz, text[]) to debugloop_admin;

-- debugloop._price_check_pattern(pattern): DL001 naming name_pattern unless the
-- pattern is null or a valid regular expression of at most 256 characters that
-- matches neither the empty name, nor a one-letter one, nor an unrelated model name
-- (zz-unrelated-model-9). Why: price_lookup tries a pattern against every name no
-- exact name or alias matched, so a pattern such as '', '.*' or '.' would price
-- every unknown model. Locks: none.
create or replace function debugloop._price_check_pattern(pattern text)
returns void
language plpgsql
immutable
as $$
declare
    probe text;
begin
    if pattern is null then
        return;
    end if;
    if length(pattern) > 256 then
        raise exception 'name_pattern must be at most 256 characters' using errcode = 'DL001', column = 'name_pattern';
    end if;
    foreach probe in array array['', 'x', 'zz-unrelated-model-9'] loop
        begin
            if probe ~* pattern then
                raise exception 'name_pattern % would match any model (it matches %)', quote_literal(pattern), quote_literal(probe)
                    using errcode = 'DL001', column = 'name_pattern',
                          hint = 'anchor it and name the models it is for, e.g. ^acme-coder-v[0-9]+$';
            end if;
        exception when invalid_regular_expression then
            raise exception 'name_pattern is not a valid regular expression: %', pattern
                using errcode = 'DL001', column = 'name_pattern', detail = sqlerrm;
        end;
    end loop;
end
$$;

-- debugloop.price_set(...): add a custom price version (admin). A custom price
-- beats an imported one for the same match. Raises DL001 for a missing price, a
-- price that is not a finite number from 0 to 1,000,000 USD per million tokens
-- (NaN and infinities included: every cost computed from them would be NaN or
-- infinite, and a version is immutable), a batch discount outside [0, 1), a count
-- that is not positive, a name longer than 256 characters, an effective_from that
-- is not a finite time, and a name_pattern that is not a valid regular expression
-- or would match any model (_price_check_pattern). Locks: inserts one catalog row.
create or replace function debugloop.price_set(
    provider text,
    model_name text,
    input_price_per_million numeric,
    output_price_per_million numeric,
    cache_read_price_per_million numeric default null,
    cache_write_price_per_million numeric default null,
    cache_write_1h_price_per_million numeric default null,
    reasoning_price_per_million numeric default null,
    long_context_threshold integer default null,
    long_context_input_price_per_million numeric default null,
    long_context_output_price_per_million numeric default null,
    batch_discount numeric default null,
    aliases text[] default '{}',
    name_pattern text default null,
    effective_from timestamptz default now(),
    source text default 'custom',
    context_window integer default null,
    max_output_tokens integer default null
)
returns debugloop.model_price_catalog
language plpgsql
volatile
security definer
set search_path = debugloop, pg_catalog, pg_temp
as $$
declare
    result debugloop.model_price_catalog;
    field text;
    value numeric;
begin
    if provider is null or provider !~ '^[a-z0-9][a-z0-9_.-]*$' then
        raise exception 'provider must be a lower-case name like anthropic or openai, got %', coalesce(quote_literal(provider), 'NULL')
            using errcode = 'DL001', column = 'provider';
    end if;
    if model_name is null or btrim(model_name) = '' then
        raise exception 'model_name must not be empty' using errcode = 'DL001', column = 'model_name';
    end if;
    perform debugloop._price_check_model(model_name, 'model_name');
    for field, value in
        select * from (values
            ('input_price_per_million', input_price_per_million), ('output_price_per_million', output_price_per_million),
            ('cache_read_price_per_million', cache_read_price_per_million),
            ('cache_write_price_per_million', cache_write_price_per_million),
            ('cache_write_1h_price_per_million', cache_write_1h_price_per_million),
            ('reasoning_price_per_million', reasoning_price_per_million),
            ('long_context_input_price_per_million', long_context_input_price_per_million),
            ('long_context_output_price_per_million', long_context_output_price_per_million)) v(f, p)
    loop
        if value < 0 or (value is null and field in ('input_price_per_million', 'output_price_per_million')) then
            raise exception '% must be a non-negative price in USD per million tokens', field
                using errcode = 'DL001', column = field, detail = format('got %s', coalesce(value::text, 'NULL'));
        end if;
        perform debugloop._util_check_number(value, field, 0, 1000000);
    end loop;
    for field, value in
        select * from (values ('long_context_threshold', long_context_threshold), ('context_window', context_window),
                              ('max_output_tokens', max_output_tokens)) v(f, n)
    loop
        if value <= 0 then
            raise exception '% must be a positive token count', field using errcode = 'DL001', column = field,
                detail = format('got %s', value);
        end if;
    end loop;
    if batch_discount is not null and (batch_discount < 0 or batch_discount >= 1) then
        raise exception 'batch_discount must be a fraction in [0, 1)' using errcode = 'DL001', column = 'batch_discount',
            detail = format('got %s', batch_discount);
    end if;
    if effective_from is null then
        raise exception 'effective_from must be a time' using errcode = 'DL001', column = 'effective_from';
    end if;
    perform debugloop._util_check_time(effective_from, 'effective_from');
    if source is null or btrim(source) = '' then
        raise exception 'source must name where the price comes from' using errcode = 'DL001', column = 'source';
    end if;
    if exists (select from unnest(aliases) a where a is null or btrim(a) = '' or length(a) > 256) then
        raise exception 'aliases must be model names of 1 to 256 characters' using errcode = 'DL001', column = 'aliases';
    end if;
    perform debugloop._price_check_pattern(name_pattern);
    insert into debugloop.model_price_catalog as c (
        provider, model_name, aliases, name_pattern, origin, source,
        input_price_per_million, output_price_per_million, cache_read_price_per_million,
        cache_write_price_per_million, cache_write_1h_price_per_million, reasoning_price_per_million,
        long_context_threshold, long_context_input_price_per_million, long_context_output_price_per_million,
        batch_discount, context_window, max_output_tokens, effective_from, created_by)
    values (
        price_set.provider, btrim(price_set.model_name), (select coalesce(array_agg(lower(a)), '{}') from unnest(price_set.aliases) a),
        price_set.name_pattern, 'custom', price_set.source,
        price_set.input_price_per_million, price_set.output_price_per_million, price_set.cache_read_price_per_million,
        price_set.cache_write_price_per_million, price_set.cache_write_1h_price_per_million, price_set.reasoning_price_per_million,
        price_set.long_context_threshold, price_set.long_context_input_price_per_million,
        price_set.long_context_output_price_per_million, price_set.batch_discount, price_set.context_window,
        price_set.max_output_tokens, price_set.effective_from, session_user)
    returning c.* into result;
    return result;
end
$$;
comment on function debugloop.price_set(text, text, numeric, numeric, numeric, numeric, numeric, numeric, integer, numeric, numeric, numeric, text[], text, timestamptz, text, integer, integer)
    is 'Add a custom price version for a model (admin); it beats imported prices.';
revoke execute on function debugloop.price_set(text, text, numeric, numeric, numeric, numeric, numeric, numeric, integer, numeric, numeric, numeric, text[], text, timestamptz, text, integer, integer) from public;
grant execute on function debugloop.price_set(text, text, numeric, numeric, numeric, numeric, numeric, numeric, integer, numeric, numeric, numeric, text[], text, timestamptz, text, integer, integer) to debugloop_admin;

-- debugloop._price_refuse_change(operation, version): raise DL009: a price version
-- never changes or disappears, so that every attempt keeps the price it was
-- charged; a new price is a new version. Why: the rule of the catalog's trigger.
-- Locks: none.
create or replace function debugloop._price_refuse_change(operation text, version debugloop.model_price_catalog)
returns void
language plpgsql
immutable
as $$
begin
    raise exception 'price versions are immutable: % of % % refused', lower(operation), version.provider, version.model_name
        using errcode = 'DL009',
              detail = format('catalog_id %s, effective from %s', version.catalog_id, version.effective_from),
              hint = 'add a new version instead (debugloop.price_set or debugloop.price_import)';
end
$$;

-- debugloop.v_prices: the price version in force now for every model.
create or replace view debugloop.v_prices as
select distinct on (c.provider, lower(c.model_name)) c.*
  from debugloop.model_price_catalog c
 where c.effective_from <= now()
 order by c.provider, lower(c.model_name), (c.origin = 'custom') desc, c.effective_from desc;
comment on view debugloop.v_prices is 'The price in force now for each provider and model (custom before imported).';

-- debugloop.price_versions(provider, model_name): every price version of one
-- model (its name in any case), newest first, a custom one before an imported one
-- of the same time. Why: the history behind the price in force (v_prices). Locks:
-- none.
create or replace function debugloop.price_versions(provider text, model_name text)
returns setof debugloop.model_price_catalog
language sql
stable
as $$
    select c.*
      from debugloop.model_price_catalog c
     where c.provider = price_versions.provider and lower(c.model_name) = lower(price_versions.model_name)
     order by c.effective_from desc, c.origin
$$;
comment on function debugloop.price_versions(text, text) is 'Every price version of one model, newest first.';

-- debugloop.price_reprice(since, include_priced): price again the attempts
-- started at or after `since` that have no price (or, with include_priced, every
-- priced one too, e.g. after a back-dated correction), finished or running with
-- the usage recorded so far, each at the version in force at its start. Returns
-- what changed, old and new. Admin only. Locks: the rows it updates.
create or replace function debugloop.price_reprice(since timestamptz, include_priced boolean default false)
returns table (attempt_id uuid, model_used text, old_cost_usd numeric, new_cost_usd numeric,
               old_catalog_id uuid, new_catalog_id uuid, cost_status text)
language plpgsql
volatile
security definer
set search_path = debugloop, pg_catalog, pg_temp
as $$
declare
    attempt record;
    priced record;
begin
    if since is null then
        raise exception 'since must be a timestamp' using errcode = 'DL001', column = 'since';
    end if;
    for attempt in
        select a.attempt_id, a.model_used, a.usage_raw, a.started_at, a.cost_usd, a.price_catalog_id, a.status
          from debugloop.debug_execution_attempts a
         where a.started_at >= since
           and (a.cost_status = 'unpriced' or (include_priced and a.cost_status in ('priced', 'priced_so_far')))
         order by a.started_at
           for update
    loop
        select * into priced from debugloop._price_attempt_cost(attempt.model_used, attempt.usage_raw, attempt.started_at);
        continue when priced.price_catalog_id is not distinct from attempt.price_catalog_id
                  and priced.cost_usd is not distinct from attempt.cost_usd;
        update debugloop.debug_execution_attempts a
           set cost_usd = priced.cost_usd, price_catalog_id = priced.price_catalog_id,
               cost_status = case when priced.cost_status = 'priced' and attempt.status = 'running'
                                  then 'priced_so_far' else priced.cost_status end,
               priced_at = now()
         where a.attempt_id = attempt.attempt_id;
        attempt_id := attempt.attempt_id;
        model_used := attempt.model_used;
        old_cost_usd := attempt.cost_usd;
        new_cost_usd := priced.cost_usd;
        old_catalog_id := attempt.price_catalog_id;
        new_catalog_id := priced.price_catalog_id;
        cost_status := case when priced.cost_status = 'priced' and attempt.status = 'running'
                            then 'priced_so_far' else priced.cost_status end;
        return next;
    end loop;
end
$$;
comment on function debugloop.price_reprice(timestamptz, boolean) is 'Price unpriced attempts (optionally all) again at the versions in force at their start; reports old and new (admin).';
revoke execute on function debugloop.price_reprice(timestamptz, boolean) from public;
grant execute on function debugloop.price_reprice(timestamptz, boolean) to debugloop_admin;
