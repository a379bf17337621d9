-- 0004 errors: error signatures, every failed attempt linked to its signature, and
-- error->success mappings with their confidence.

create table debugloop.debug_error_signatures (
    signature           text primary key,      -- hex SHA-256, see debugloop.error_signature
    error_type          text,
    normalized_message  text not null,
    frames              text[] not null default '{}',  -- the application frames, "file:function", innermost last
    category            text not null
                        constraint debug_error_signatures_category_known check (category in (
                            'syntax', 'import', 'type', 'attribute', 'key_index', 'value', 'assertion', 'timeout',
                            'network', 'permission', 'rate_limit', 'context_length', 'tool', 'other')),
    occurrences         bigint not null default 0,
    first_seen_at       timestamptz not null default now(),
    last_seen_at        timestamptz not null default now(),
    example_message     text,
    example_stacktrace  text,
    example_attempt_id  uuid
);
comment on table debugloop.debug_error_signatures is 'One row per error signature: its normalised form, category, how often and when it was seen, an example.';

create index debug_error_signatures_last_seen_idx on debugloop.debug_error_signatures (last_seen_at desc);
create index debug_error_signatures_occurrences_idx on debugloop.debug_error_signatures (occurrences desc);

alter table debugloop.debug_execution_attempts
    add column error_signature text constraint debug_execution_attempts_error_signature_fkey
        references debugloop.debug_error_signatures (signature);
create index debug_execution_attempts_error_signature_idx on debugloop.debug_execution_attempts (error_signature)
    where error_signature is not null;

-- An error (by signature) and an approach that fixed it in a retry chain. The seed's
-- columns, plus the signature, the approach key that identifies "the same fix", and
-- a Wilson lower bound kept beside the seed's confidence for ranking.
create table debugloop.debug_error_success_mappings (
    mapping_id            uuid primary key default gen_random_uuid(),
    signature             text not null constraint debug_error_success_mappings_signature_fkey
                          references debugloop.debug_error_signatures (signature),
    error_type            text not null,
    error_pattern         text not null,        -- the normalised message of the signature
    pattern_embedding     halfvec(256),         -- debugloop.util_embed(error_pattern) in half precision, set by a trigger
    error_context         jsonb,
    approach_key          text not null,        -- the fix's approach hash, or 'attempt:<id>' when it had none
    successful_attempt_id uuid not null constraint debug_error_success_mappings_successful_attempt_fkey
                          references debugloop.debug_execution_attempts (attempt_id),
    successful_stf_ids    uuid[],
    successful_approach   text,
    failed_attempt_ids    uuid[] not null default '{}',
    confidence_score      numeric(3, 2) not null default 0.10,
    wilson_lower_bound    numeric(5, 4) not null default 0,
    success_count         integer not null default 1
                          constraint debug_error_success_mappings_success_count_nonnegative check (success_count >= 0),
    failure_count         integer not null default 0
                          constraint debug_error_success_mappings_failure_count_nonnegative check (failure_count >= 0),
    last_success_at       timestamptz default now(),
    last_failure_at       timestamptz,
    created_at            timestamptz not null default now(),
    updated_at            timestamptz not null default now(),
    constraint debug_error_success_mappings_signature_approach_key unique (signature, approach_key)
);
comment on table debugloop.debug_error_success_mappings is 'Errors and the approaches that fixed them, with success and failure counts and confidence.';

create index debug_error_success_mappings_confidence_idx on debugloop.debug_error_success_mappings (confidence_score desc);
create index debug_error_success_mappings_wilson_idx on debugloop.debug_error_success_mappings (signature, wilson_lower_bound desc);
create index debug_error_success_mappings_approach_idx on debugloop.debug_error_success_mappings (approach_key);
-- nearest error patterns (cosine distance of their embeddings), for fixes of errors never seen exactly
create index debug_error_success_mappings_pattern_embedding_idx on debugloop.debug_error_success_mappings
    using hnsw (pattern_embedding halfvec_cosine_ops);
