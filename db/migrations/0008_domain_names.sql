-- 0008 every public function named <domain>_<verb>: the old names are dropped here,
-- and the reload of functions/ and triggers/ that follows every migrate creates the
-- new ones (known_failures is error_known_failures, prices_import price_import,
-- prices_reprice price_reprice, cost_estimate price_estimate,
-- cost_estimate_for_request attempt_estimate, metrics analytics_metrics,
-- usage_normalize price_usage_normalize, usage_requests price_usage_requests), and
-- so do the internal helpers that follow them (_known_failures is
-- _error_known_failures; _attempt_cost, the cost of a finishing attempt, is the
-- pricing domain's _price_attempt_cost; _util_review_check is part of
-- _util_review, the one review workflow).
-- No view, index or default depends on them; the functions that call them are
-- replaced by the same reload. A fresh database never had them.

drop function if exists debugloop.known_failures(text, integer);
drop function if exists debugloop._known_failures(text, text[], integer);
drop function if exists debugloop.prices_import(jsonb, text, timestamptz, text[]);
drop function if exists debugloop.prices_reprice(timestamptz, boolean);
drop function if exists debugloop.cost_estimate(text, bigint, bigint);
drop function if exists debugloop.cost_estimate_for_request(text, text);
drop function if exists debugloop.metrics(timestamptz);
drop function if exists debugloop.usage_normalize(jsonb);
drop function if exists debugloop.usage_requests(jsonb);
drop function if exists debugloop._attempt_cost(text, jsonb, timestamptz);
drop function if exists debugloop._util_review_check(text, uuid, text, text, text);
