-- 0038 spending: LLM calls paid in tokens (1 token = $0.001). Each peer's
-- fractional remainder of a token (the exact conversion carries it), its debt (what
-- a call that cost more than its hold and the balance could not pay), the
-- reservations made before a call and the charges settled after it. The functions
-- are in functions/76_spending.sql; only they write these tables.

-- Per peer: remainder is the part of a token charged but not yet posted, in [0, 1):
-- Σ posted tokens + remainder = Σ cost / $0.001 exactly. debt is the tokens a peer
-- owes (spent beyond its hold and its balance); it blocks new reservations until
-- it is repaid.
create table debugloop.spend_accounts (
    peer_id    text primary key constraint spend_accounts_peer_fkey references debugloop.peers (peer_id),
    remainder  numeric not null default 0
               constraint spend_accounts_remainder_range check (remainder >= 0 and remainder < 1),
    debt       bigint not null default 0 constraint spend_accounts_debt_not_negative check (debt >= 0),
    charged    numeric not null default 0,   -- Σ cost / $0.001 of every charge, exact
    updated_at timestamptz not null default now()
);
comment on table debugloop.spend_accounts is 'Per peer: the carried fraction of a token, the debt of overdrawn calls, the exact sum charged.';

-- One reservation per LLM call: the ledger hold it made (same id), how its amount
-- was estimated, and what became of it.
create table debugloop.spend_reservations (
    hold_id       uuid primary key,
    peer_id       text not null constraint spend_reservations_peer_fkey references debugloop.peers (peer_id),
    model         text,
    attempt_id    uuid,
    basis         text not null constraint spend_reservations_basis_known check (basis in ('caller', 'p90', 'max_output')),
    estimate_usd  numeric not null constraint spend_reservations_estimate_not_negative check (estimate_usd >= 0),
    hold_tokens   bigint not null constraint spend_reservations_hold_positive check (hold_tokens > 0),
    status        text not null default 'active'
                  constraint spend_reservations_status_known check (status in ('active', 'settled', 'released')),
    cost_usd      numeric,
    exact_tokens  numeric,   -- cost_usd / 0.001
    posted_tokens bigint,    -- whole tokens charged for it (the carried remainder taken into account)
    excess_tokens bigint,    -- of those, beyond the hold, paid from the balance
    debt_tokens   bigint,    -- of those, beyond the hold and the balance: owed
    remainder_after numeric,
    created_by    text not null,
    created_at    timestamptz not null default now(),
    resolved_at   timestamptz
);
create index spend_reservations_peer_idx on debugloop.spend_reservations (peer_id, created_at);
create index spend_reservations_attempt_idx on debugloop.spend_reservations (attempt_id) where attempt_id is not null;
comment on table debugloop.spend_reservations is 'A reservation (ledger hold) per LLM call, its estimate and its settlement.';

grant insert, update on debugloop.spend_accounts, debugloop.spend_reservations to debugloop_owner;

insert into debugloop.settings (key, value, value_type, overridable, min_value, max_value, description) values
    ('spend_default_max_output_tokens', '4096', 'integer', false, 1, 10000000,
     'Output tokens a reservation assumes for a model without max_output_tokens in the catalog, when nothing else is known.');
