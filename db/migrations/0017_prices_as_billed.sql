-- 0017 prices as billed: what LiteLLM's current price list says beyond a flat
-- price (service tiers, off-peak windows, successors, deployment uplifts), which
-- entry of the list a version came from (a bare name is LiteLLM's own provider for
-- it), and running attempts that hold the cost of the responses recorded so far.
--
-- Every new column is null for the versions that exist: they keep their prices.

alter table debugloop.model_price_catalog
    -- the key of the entry in the imported document (gpt-4o, azure/gpt-4o); null for a custom price
    add column source_key text,
    -- the model that replaces this one (LiteLLM's successor_model), for the manifest's advice
    add column successor_model text,
    -- prices by prompt size where one long-context tier does not say it (LiteLLM's tiered_pricing
    -- ranges, several *_above_<N>k_tokens thresholds): [{"above": 32000, "input": 0.5, "output": 2.5,
    -- "cache_read": 0.12, "cache_write": 0.5}, ...]; a request whose prompt exceeds `above` takes the
    -- last such tier, every token of it
    add column context_tiers jsonb,
    -- prices of the priority, flex and batch service tiers, USD per million tokens:
    -- {"priority": {"input": 2.5, "output": 20, "cache_read": 0.25, "long_input": ...}, ...};
    -- a kind a tier does not name costs what the standard tier charges for it
    add column service_tiers jsonb,
    -- a lower price in given UTC hours and weekdays: {"windows": [{"hours": ["16:30-00:30"],
    -- "weekdays": [1, 2, 3, 4, 5]}], "weekday_timezone": null, "input": 0.15, "output": 0.6, ...}
    add column off_peak jsonb,
    -- multipliers for deployments debugloop does not model ({"fedramp": 1.1, "regional_eu": 1.1,
    -- "regional_endpoint": 1.1}): kept, applied only where the setting price_uplifts names them
    add column uplifts jsonb,
    add constraint model_price_catalog_service_tiers_object
        check (service_tiers is null or jsonb_typeof(service_tiers) = 'object'),
    add constraint model_price_catalog_off_peak_object
        check (off_peak is null or (jsonb_typeof(off_peak) = 'object' and jsonb_typeof(off_peak -> 'windows') = 'array')),
    add constraint model_price_catalog_context_tiers_array
        check (context_tiers is null or jsonb_typeof(context_tiers) = 'array'),
    add constraint model_price_catalog_uplifts_object check (uplifts is null or jsonb_typeof(uplifts) = 'object');

-- a running attempt holds the cost of the responses recorded so far: 'priced_so_far'
alter table debugloop.debug_execution_attempts
    drop constraint debug_execution_attempts_cost_status_known,
    add constraint debug_execution_attempts_cost_status_known
        check (cost_status in ('priced', 'priced_so_far', 'unpriced', 'untracked', 'no_usage')),
    drop constraint debug_execution_attempts_priced_has_cost,
    add constraint debug_execution_attempts_priced_has_cost check (
        (cost_status in ('priced', 'priced_so_far')) = (cost_usd is not null and price_catalog_id is not null)),
    add constraint debug_execution_attempts_so_far_is_running check (
        cost_status is distinct from 'priced_so_far' or status = 'running');

insert into debugloop.settings (key, value, value_type, overridable, description) values
    ('price_uplifts', '""', 'text', true,
     'The price-list uplifts this deployment pays, comma-separated (fedramp, regional_eu, regional_us, regional_endpoint); none by default.');

-- signatures that change: the request time and the provider reach the price
drop function if exists debugloop._price_request(debugloop.model_price_catalog, jsonb);
drop function if exists debugloop._price_usage(debugloop.model_price_catalog, jsonb);
drop function if exists debugloop.price_lookup(text, timestamptz);
drop function if exists debugloop.price_cost(text, jsonb, timestamptz);
drop function if exists debugloop._price_require(text, timestamptz);
