-- 0050 the reward engine's hot path (functions/76_rewards.sql): what a quote and a
-- payment read, each by a key.
--
-- The approval an STF's reward rests on is its latest 'approved' review: an index
-- by STF (debug_stf_reviews had none, so each quote read every review).
create index debug_stf_reviews_stf_idx on debugloop.debug_stf_reviews (stf_id, review_id);

-- An STF's novelty weighs the STFs discovered before it: in discovery order, the
-- first of the table are compared with each earlier one (few rows pass that filter
-- inside an HNSW scan).
create index debug_transform_functions_discovered_idx on debugloop.debug_transform_functions (discovered_at, stf_id);

-- The daily cap of a peer: the tokens its rewards (reversals not deducted) were
-- paid on each UTC day, raised by the payment under the peer's reward lock, so
-- that the cap reads one row instead of summing the day's payments.
create table debugloop.reward_daily_totals (
    peer_id text not null,
    day     date not null,           -- the UTC day of reward_payments.paid_at
    tokens  bigint not null constraint reward_daily_totals_tokens_positive check (tokens > 0),
    constraint reward_daily_totals_pkey primary key (peer_id, day)
);
comment on table debugloop.reward_daily_totals is
    'The tokens each peer''s rewards were paid per UTC day (the daily cap reads it), kept by the reward engine.';
insert into debugloop.reward_daily_totals (peer_id, day, tokens)
select p.peer_id, (p.paid_at at time zone 'UTC')::date, sum(p.amount)
  from debugloop.reward_payments p
 where p.kind <> 'reversal'
 group by 1, 2;
grant insert, update on debugloop.reward_daily_totals to debugloop_owner;

-- signatures that changed: the reward settings are read once per quote and passed on
drop function if exists debugloop._reward_tier(numeric);
drop function if exists debugloop._reward_novelty_multiplier(numeric);
drop function if exists debugloop._reward_why_not(text, uuid, boolean);
drop function if exists debugloop._reward_quote_finish(debugloop.reward_quote);
drop function if exists debugloop._reward_pay(debugloop.reward_quote, text, text, text, text, text, text);
