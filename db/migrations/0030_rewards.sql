-- 0030 rewards: the payments of the reward engine (functions/76_rewards.sql) and
-- the settings that hold every number of its formulas, with the seed's values as
-- defaults (changed by admins only, through settings_set, audited in
-- settings_audit). A reward is one ledger transfer from the issuance account; this
-- table names what it paid for, under the transfer's id, so that a reward is paid
-- once whatever retries, concurrent triggers or re-imports do (the insert of its
-- row comes first: a concurrent payer of the same reward waits for it and then
-- finds it).

create table debugloop.reward_payments (
    reward_id   uuid primary key,        -- = the ledger transfer's id, derived from (kind, object, reuse)
    kind        text not null
                constraint reward_payments_kind_known check (kind in (
                    'stf', 'royalty', 'golden', 'golden_reuse', 'pattern', 'reversal')),
    object_id   uuid not null,           -- the STF, golden state or error->success mapping
    reuse_key   text,                    -- the reusing attempt (royalty, golden_reuse); the reversed reward (reversal)
    peer_id     text not null,
    amount      bigint not null constraint reward_payments_amount_positive check (amount > 0),
    quality     numeric,
    novelty     numeric,
    complexity  numeric,
    factors     jsonb not null,          -- every factor of the formula, as reward_preview shows them
    source      text not null
                constraint reward_payments_source_known check (source in ('automatic', 'backfill')),
    paid_by     text not null,
    paid_at     timestamptz not null default now()
);
comment on table debugloop.reward_payments is 'Every reward the engine paid (or reversed): what for, to whom, each factor; the ledger transfer has the same id.';
-- the daily cap of a peer, and a peer's rewards for `rewards list`
create index reward_payments_peer_idx on debugloop.reward_payments (peer_id, paid_at);
-- what an object was paid so far (royalties and reuse bonuses diminish with it)
create index reward_payments_object_idx on debugloop.reward_payments (object_id, kind);

grant insert on debugloop.reward_payments to debugloop_owner;

insert into debugloop.settings (key, value, value_type, overridable, min_value, max_value, description) values
    ('reward_tier_high_quality', '0.9', 'numeric', false, 0, 1,
     'Quality from which an STF or a fix earns the high tier (seed: 0.9).'),
    ('reward_tier_high_tokens', '300', 'integer', false, 0, 1000000,
     'Base tokens of the high tier (seed: 300).'),
    ('reward_tier_mid_quality', '0.7', 'numeric', false, 0, 1,
     'Quality from which an STF or a fix earns the middle tier (seed: 0.7).'),
    ('reward_tier_mid_tokens', '150', 'integer', false, 0, 1000000,
     'Base tokens of the middle tier (seed: 150).'),
    ('reward_tier_low_quality', '0.5', 'numeric', false, 0, 1,
     'Quality from which an STF or a fix earns the low tier; below it nothing (seed: 0.5).'),
    ('reward_tier_low_tokens', '50', 'integer', false, 0, 1000000,
     'Base tokens of the low tier (seed: 50).'),
    ('reward_novelty_weight', '0.5', 'numeric', false, 0, 1,
     'Novelty multiplier = (1 - w) + w * novelty (seed: 0.5 + 0.5 * novelty).'),
    ('reward_complexity_weight', '0.3', 'numeric', false, 0, 10,
     'Complexity bonus = 1 + w * complexity (seed: 1.0 + 0.3 * complexity).'),
    ('reward_stf_cap', '500', 'integer', false, 0, 1000000,
     'Most tokens one STF earns for its contribution (seed: 500).'),
    ('reward_royalty_tokens', '10', 'integer', false, 0, 1000000,
     'Royalty of the first successful reuse of an STF by another peer.'),
    ('reward_royalty_decay', '0.8', 'numeric', false, 0, 1,
     'Each further royalty of an STF is this fraction of the one before (diminishing returns).'),
    ('reward_royalty_cap', '100', 'integer', false, 0, 1000000,
     'Most tokens of royalties one STF earns.'),
    ('reward_golden_tokens', '200', 'integer', false, 0, 1000000,
     'Base reward of an approved golden state, times the quality multiplier 1 + quality (seed: 200, 1.0 to 2.0).'),
    ('reward_golden_reuse_tokens', '50', 'integer', false, 0, 1000000,
     'Bonus of the first successful reuse of a golden state by another peer (seed: +50).'),
    ('reward_golden_reuse_decay', '0.9', 'numeric', false, 0, 1,
     'Each further reuse bonus of a golden state is this fraction of the one before (seed: diminishing returns).'),
    ('reward_golden_reuse_cap', '500', 'integer', false, 0, 1000000,
     'Most tokens of reuse bonuses one golden state earns (seed: +500).'),
    ('reward_golden_cap', '1000', 'integer', false, 0, 1000000,
     'Most tokens one golden state earns, base and bonuses (seed: 1,000).'),
    ('reward_pattern_confirmations', '2', 'integer', false, 2, 1000,
     'A fix pays once this many distinct chains succeeded with it, at least two of them recorded by different peers.'),
    ('reward_pattern_type_multiplier', '1.0', 'numeric', false, 0, 10,
     'Pattern-type multiplier of a fix (the seed''s orchestrator 1.5, effect 1.3; a fix has no type: 1.0).'),
    ('reward_pattern_cap', '500', 'integer', false, 0, 1000000,
     'Most tokens one fix earns (seed: pattern rewards 50 to 500).'),
    ('reward_daily_cap', '5000', 'integer', false, 0, 1000000000,
     'Most reward tokens a peer earns per UTC day; what exceeds it is not paid.');

-- What reward_preview shows: each factor of a reward, and what was paid. amount is
-- what a payment would post now (after the caps; 0 when why_not says why not).
create type debugloop.reward_quote as (
    kind                  text,
    object_id             uuid,
    peer_id               text,
    eligible              boolean,
    why_not               text,
    quality               numeric,
    novelty               numeric,
    complexity            numeric,
    base                  bigint,
    quality_multiplier    numeric,
    novelty_multiplier    numeric,
    complexity_multiplier numeric,
    type_multiplier       numeric,
    cap                   bigint,
    amount                bigint,
    reward_id             uuid,
    status                text,
    paid                  bigint,
    reversed              bigint,
    reuse_paid            bigint,
    contribution_hash     text,
    metadata              jsonb
);
comment on type debugloop.reward_quote is 'A reward''s factors and state, as reward_preview shows them.';
