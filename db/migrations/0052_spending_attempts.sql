-- 0052 spending wired into attempts: attempt_start takes the caller's estimate of
-- the attempt's cost (estimate_usd), which its reservation holds when token spending
-- is on (functions/76_spending.sql, _spending_attempt_start). The old signature goes;
-- functions/20_attempts.sql creates the new one.
drop function if exists debugloop.attempt_start(text, text, text, uuid, uuid, text, text, text, uuid, jsonb, uuid[], timestamptz);
