-- 0054 budgets and rate limits of spending (issue 22, items 5 and 6).
--
-- Budgets: a limit in tokens per period (day, week, month; periods start at 00:00
-- UTC, weeks on Monday) for a peer or for a team of peers, with a soft limit (an
-- alert, once per budget and period) and a hard limit (a reservation that would
-- cross it is refused, DL084). What a period used is a counter row per budget and
-- period, updated in the reserving transaction (never a sum over history).
--
-- Rate limits: requests and tokens per minute per peer and model; an admin's rule
-- (spend_rate_limits) before the price catalog's limits, before the settings. One
-- counter row per peer and model, for the current minute.
--
-- The functions are in functions/77_budgets.sql; only they write these tables.

create table debugloop.spend_teams (
    team_id     text primary key
                constraint spend_teams_id_format check (team_id ~ '^[a-z][a-z0-9_-]{2,62}$'),
    description text,
    created_by  text not null,
    created_at  timestamptz not null default now(),
    updated_at  timestamptz not null default now(),
    retired_at  timestamptz
);
comment on table debugloop.spend_teams is 'Teams of peers that share a spending budget.';

create table debugloop.spend_team_members (
    team_id  text not null constraint spend_team_members_team_fkey references debugloop.spend_teams (team_id),
    peer_id  text not null constraint spend_team_members_peer_fkey references debugloop.peers (peer_id),
    added_at timestamptz not null default now(),
    constraint spend_team_members_pkey primary key (team_id, peer_id)
);
create index spend_team_members_peer_idx on debugloop.spend_team_members (peer_id);
comment on table debugloop.spend_team_members is 'The peers of a team (budget_team_set replaces them).';

create table debugloop.spend_budgets (
    budget_id  uuid primary key default gen_random_uuid(),
    peer_id    text constraint spend_budgets_peer_fkey references debugloop.peers (peer_id),
    team_id    text constraint spend_budgets_team_fkey references debugloop.spend_teams (team_id),
    period     text not null constraint spend_budgets_period_known check (period in ('day', 'week', 'month')),
    soft_limit bigint constraint spend_budgets_soft_positive check (soft_limit > 0),
    hard_limit bigint constraint spend_budgets_hard_positive check (hard_limit > 0),
    created_by text not null,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    retired_at timestamptz,
    constraint spend_budgets_one_subject check ((peer_id is null) <> (team_id is null)),
    constraint spend_budgets_some_limit check (soft_limit is not null or hard_limit is not null),
    constraint spend_budgets_soft_below_hard check (soft_limit <= hard_limit)
);
-- one active budget per subject and period; the lookups of every reservation
create unique index spend_budgets_peer_active on debugloop.spend_budgets (peer_id, period)
    where retired_at is null and peer_id is not null;
create unique index spend_budgets_team_active on debugloop.spend_budgets (team_id, period)
    where retired_at is null and team_id is not null;
comment on table debugloop.spend_budgets is 'Token budgets of a peer or a team per day, week or month: soft (alert) and hard (refusal) limits.';

create table debugloop.spend_budget_usage (
    budget_id    uuid not null constraint spend_budget_usage_budget_fkey references debugloop.spend_budgets (budget_id),
    period_start timestamptz not null,
    used         bigint not null default 0,   -- tokens held by active reservations + posted by settled ones
    reservations integer not null default 0,
    alerted      boolean not null default false,
    updated_at   timestamptz not null default now(),
    constraint spend_budget_usage_pkey primary key (budget_id, period_start)
);
comment on table debugloop.spend_budget_usage is 'Tokens a budget''s period used, kept by the reserving and settling transactions.';

create table debugloop.spend_budget_alerts (
    alert_id     bigint generated always as identity primary key,
    budget_id    uuid not null constraint spend_budget_alerts_budget_fkey references debugloop.spend_budgets (budget_id),
    period_start timestamptz not null,
    peer_id      text not null,   -- whose reservation or charge crossed the soft limit
    used         bigint not null,
    soft_limit   bigint not null,
    hard_limit   bigint,
    created_at   timestamptz not null default now(),
    constraint spend_budget_alerts_once unique (budget_id, period_start)
);
comment on table debugloop.spend_budget_alerts is 'A budget''s soft limit crossed: one row per budget and period, for operators.';

-- the budgets a reservation counted against (settle and release correct their usage)
alter table debugloop.spend_reservations add column budget_ids uuid[];

create table debugloop.spend_rate_limits (
    rule_id             bigint generated always as identity primary key,
    peer_id             text constraint spend_rate_limits_peer_fkey references debugloop.peers (peer_id),
    model               text,
    requests_per_minute integer constraint spend_rate_limits_rpm_positive check (requests_per_minute > 0),
    tokens_per_minute   bigint constraint spend_rate_limits_tpm_positive check (tokens_per_minute > 0),
    set_by              text not null,
    updated_at          timestamptz not null default now(),
    constraint spend_rate_limits_subject unique nulls not distinct (peer_id, model)
);
comment on table debugloop.spend_rate_limits is
    'Admin rules of requests and tokens per minute for a peer (or every peer) and a model (or every model); null = no limit.';

create table debugloop.spend_rate_usage (
    peer_id  text not null,
    model    text not null,   -- '' for a reservation without a model
    minute   timestamptz not null,
    requests integer not null default 0,
    tokens   bigint not null default 0,
    constraint spend_rate_usage_pkey primary key (peer_id, model)
);
comment on table debugloop.spend_rate_usage is 'Requests and LLM tokens of a peer and model in its current minute.';

grant insert, update on debugloop.spend_teams, debugloop.spend_budgets, debugloop.spend_budget_usage,
    debugloop.spend_rate_usage, debugloop.spend_rate_limits to debugloop_owner;
grant delete on debugloop.spend_team_members, debugloop.spend_rate_limits to debugloop_owner;
grant insert on debugloop.spend_budget_alerts to debugloop_owner;
grant insert on debugloop.spend_team_members to debugloop_owner;

insert into debugloop.settings (key, value, value_type, overridable, min_value, max_value, description) values
    ('spend_default_requests_per_minute', '0', 'integer', false, 0, 100000000,
     'Requests per minute a peer may reserve for a model that no rule and no catalog limit covers; 0 = no limit.'),
    ('spend_default_tokens_per_minute', '0', 'integer', false, 0, 100000000000,
     'LLM tokens per minute a peer may use with a model that no rule and no catalog limit covers; 0 = no limit.');

-- spending_settle takes the call's LLM tokens (for the tokens-per-minute limits):
-- functions/76_spending.sql creates the new signature
drop function if exists debugloop.spending_settle(uuid, numeric);

-- the catalog's rows with rate limits (LiteLLM's rpm/tpm; a few dozen), by name: what a
-- reservation looks up for its model's limits (a full price_lookup costs ~0.1 ms)
create index model_price_catalog_rate_limited on debugloop.model_price_catalog (lower(model_name))
    where requests_per_minute is not null or tokens_per_minute is not null;
