-- Every statement that the Python layer sends to PostgreSQL. Each is a call of a
-- public function of the SQL API or a read of a v_* view (what a psql user can
-- send too), except the migration runner's and the embedded server's own
-- bookkeeping (tests/test_sql_api.py names those and checks the rest).

-- name: version
select debugloop.version() as version

-- name: info
select component, version from debugloop.info()

-- name: api
select kind, name, arguments, returns, summary, security_definer from debugloop.v_api order by kind, name, arguments

-- name: settings_get
select debugloop.settings_get(%(key)s) as value

-- name: settings
select key, value, effective_value, value_type, overridable, min_value, max_value,
       description, updated_at, updated_by
  from debugloop.v_settings
 where %(key)s::text is null or key = %(key)s
 order by key

-- name: settings_set
select key from debugloop.settings_set(%(key)s, %(value)s)

-- name: migrate_lock
-- held until the migrator's connection closes
select pg_advisory_lock(hashtext('debugloop.migrate'))

-- name: schema_exists
select to_regclass('debugloop.schema_state') is not null as exists

-- name: schema_state
select version, code_checksum, migrated_at from debugloop.schema_state

-- name: schema_state_record
update debugloop.schema_state
   set version = %(version)s, code_checksum = %(code_checksum)s, migrated_at = now()

-- name: code_functions
-- the schema's own functions (not those of extensions) with the version of their catalog row
select p.oid::regprocedure::text as signature, p.oid, p.xmin::text as xmin
  from pg_proc p
 where p.pronamespace = 'debugloop'::regnamespace
   and not exists (select from pg_depend d
                    where d.classid = 'pg_proc'::regclass and d.objid = p.oid and d.deptype = 'e')

-- name: search_path_pin
-- the migrations and the reload of the code, until their transaction ends: no schema others may create in
select set_config('search_path', 'debugloop, pg_catalog, pg_temp', true)

-- name: search_path_reset
reset search_path

-- name: code_secure
-- after a reload: definer functions to debugloop_owner, search paths pinned
select debugloop._meta_secure()

-- name: semantic_backfill
-- after a reload: what was stored before a semantic embedding existed gets one
select debugloop._stf_semantic_backfill()

-- name: applied_migrations
select migration_id from _yoyo_migration order by applied_at_utc, migration_id

-- name: database_exists
select exists (select from pg_database where datname = %(name)s) as exists

-- name: create_database
create database {name}

-- name: drop_database
-- the demo's own database, recreated on every run
drop database if exists {name} with (force)

-- name: server_version
select current_setting('server_version') as version

-- name: attempt_start
select debugloop.attempt_start(
    agent_name => %(agent_name)s, user_request => %(user_request)s, model => %(model)s,
    correlation_id => %(correlation_id)s, parent_attempt_id => %(parent_attempt_id)s,
    agent_type => %(agent_type)s, problem_category => %(problem_category)s,
    approach_description => %(approach_description)s, execution_id => %(execution_id)s,
    tools_used => %(tools_used)s, stf_ids => %(stf_ids)s, started_at => %(started_at)s,
    estimate_usd => %(estimate_usd)s) as attempt_id

-- name: attempt_record_usage
select * from debugloop.attempt_record_usage(%(attempt_id)s, %(usage)s)

-- name: attempt_finish
select * from debugloop.attempt_finish(
    attempt_id => %(attempt_id)s, status => %(status)s, usage => %(usage)s,
    error_type => %(error_type)s, error_message => %(error_message)s, error_stacktrace => %(error_stacktrace)s,
    quality_score => %(quality_score)s, artifacts => %(artifacts)s, model => %(model)s,
    completed_at => %(completed_at)s, confidence_score => %(confidence_score)s, tools_used => %(tools_used)s)

-- name: attempt_get
select * from debugloop.attempt_get(%(attempt_id)s::text)

-- name: attempt_list
select * from debugloop.attempt_list(%(status)s, %(agent_name)s, %(model)s, %(correlation_id)s::text, %(limit)s)

-- name: attempt_chain
select * from debugloop.attempt_chain(%(correlation_id)s::text)

-- name: price_usage_normalize
select debugloop.price_usage_normalize(%(usage)s) as usage

-- name: price_cost
select debugloop.price_cost(%(model)s, %(usage)s, coalesce(%(at)s::timestamptz, now()), %(provider)s) as cost

-- name: price_lookup
select * from debugloop.price_lookup(%(model)s, coalesce(%(at)s::timestamptz, now()), %(provider)s) p
 where p.catalog_id is not null

-- name: price_versions
select * from debugloop.price_versions(%(provider)s, %(model_name)s)

-- name: price_list
select * from debugloop.v_prices
 where (%(provider)s::text is null or provider = %(provider)s)
   and (%(search)s::text is null or model_name ilike '%%' || %(search)s || '%%')
 order by provider, model_name

-- name: price_set
select * from debugloop.price_set(
    provider => %(provider)s, model_name => %(model_name)s,
    input_price_per_million => %(input_price_per_million)s, output_price_per_million => %(output_price_per_million)s,
    cache_read_price_per_million => %(cache_read_price_per_million)s,
    cache_write_price_per_million => %(cache_write_price_per_million)s,
    cache_write_1h_price_per_million => %(cache_write_1h_price_per_million)s,
    reasoning_price_per_million => %(reasoning_price_per_million)s,
    long_context_threshold => %(long_context_threshold)s,
    long_context_input_price_per_million => %(long_context_input_price_per_million)s,
    long_context_output_price_per_million => %(long_context_output_price_per_million)s,
    batch_discount => %(batch_discount)s, aliases => %(aliases)s, name_pattern => %(name_pattern)s,
    effective_from => coalesce(%(effective_from)s::timestamptz, now()), source => %(source)s,
    context_window => %(context_window)s, max_output_tokens => %(max_output_tokens)s)

-- name: price_import
select * from debugloop.price_import(%(doc)s, %(source)s, coalesce(%(effective_from)s::timestamptz, now()), %(providers)s)

-- name: price_reprice
select * from debugloop.price_reprice(%(since)s, %(include_priced)s)

-- name: price_estimate
select debugloop.price_estimate(%(model)s, %(input_tokens)s, %(output_tokens)s) as cost

-- name: attempt_estimate
select * from debugloop.attempt_estimate(%(user_request)s, %(model)s)

-- name: cost_breakdown
select * from debugloop.v_cost_breakdown where dimension = %(dimension)s order by total_cost_usd desc, attempts desc

-- name: costliest_attempts
select * from debugloop.v_costliest_attempts order by cost_rank limit %(limit)s

-- name: cost_per_success
select * from debugloop.v_cost_per_success order by solved_at desc nulls last limit %(limit)s

-- name: error_describe
select * from debugloop.error_describe(%(error_type)s, %(message)s, %(stacktrace)s)

-- name: error_fixes
select * from debugloop.error_fixes(%(message)s, %(error_type)s, %(stacktrace)s, %(k)s)

-- name: error_top
select * from debugloop.error_top(%(category)s, %(limit)s)

-- name: error_get
select * from debugloop.error_get(%(signature)s)

-- name: error_mappings
select * from debugloop.error_mappings(%(signature)s)

-- name: error_known_failures
select * from debugloop.error_known_failures(%(user_request)s, %(k)s)

-- name: stf_register
select debugloop.stf_register(name => %(name)s, code => %(code)s, language => %(language)s,
    description => %(description)s, problem_category => %(problem_category)s,
    source_attempt_id => %(source_attempt_id)s, contributor => %(contributor)s,
    parameters => %(parameters)s, docstring => %(docstring)s, repository => %(repository)s,
    branch => %(branch)s, commit_sha => %(commit_sha)s, file_path => %(file_path)s,
    line_start => %(line_start)s, line_end => %(line_end)s) as stf_id

-- name: stf_get
select * from debugloop.stf_get(%(stf_id)s::text)

-- name: stf_list
select * from debugloop.stf_list(%(status)s, %(language)s, %(attempt_id)s::text, %(limit)s)

-- name: stf_provenance
select * from debugloop.v_stf_provenance where stf_id = %(stf_id)s order by registered_at

-- name: stf_to_embed
select stf_id, search_text from debugloop.stf_embedding_queue(%(model)s, %(after)s, %(limit)s)

-- name: stf_to_embed_count
select count(*) from debugloop.stf_embedding_queue(%(model)s)

-- name: stf_export
select * from debugloop.stf_export(%(status)s, %(language)s)

-- name: stf_match
select * from debugloop.stf_match(%(problem)s, %(k)s, %(language)s, %(problem_category)s, %(approved_only)s,
                                  %(query_embedding)s::debugloop.vector, %(embedding_model)s)

-- name: stf_hash
select debugloop.stf_hash(%(code)s, %(language)s) as hash

-- name: stf_record_use
select * from debugloop.stf_record_use(%(stf_id)s, %(attempt_id)s, %(success)s)

-- name: stf_extract
select * from debugloop.stf_extract(%(attempt_id)s)

-- name: stf_approve
select * from debugloop.stf_approve(%(stf_id)s, %(by)s, %(notes)s)

-- name: stf_reject
select * from debugloop.stf_reject(%(stf_id)s, %(by)s, %(notes)s)

-- name: stf_reopen
select * from debugloop.stf_reopen(%(stf_id)s, %(by)s, %(notes)s)

-- name: stf_set_neural_embedding
select debugloop.stf_set_embedding(%(stf_id)s, %(embedding)s::debugloop.vector, %(model)s)

-- name: attempt_similar_problems
select * from debugloop.attempt_similar_problems(%(problem)s, %(k)s)

-- name: error_likely_fixes
select * from debugloop.error_likely_fixes(%(problem)s, %(k)s)

-- name: golden_nominate
select debugloop.golden_nominate(%(attempt_id)s, %(nominated_by)s, %(solution_summary)s, %(quality_score)s,
                                 %(problem_category)s) as golden_state_id

-- name: golden_get
select * from debugloop.golden_get(%(golden_state_id)s::text)

-- name: golden_list
select * from debugloop.golden_list(%(status)s, %(limit)s)

-- name: golden_match
select * from debugloop.golden_match(%(problem)s, %(k)s, %(approved_only)s)

-- name: golden_reviews
select * from debugloop.golden_reviews(%(golden_state_id)s)

-- name: golden_approve
select * from debugloop.golden_approve(%(golden_state_id)s, %(by)s, %(notes)s)

-- name: golden_reject
select * from debugloop.golden_reject(%(golden_state_id)s, %(by)s, %(notes)s)

-- name: golden_reopen
select * from debugloop.golden_reopen(%(golden_state_id)s, %(by)s, %(notes)s)

-- name: golden_record_reuse
select * from debugloop.golden_record_reuse(%(golden_state_id)s, %(attempt_id)s, %(success)s)

-- name: golden_export
select * from debugloop.golden_export(%(status)s)

-- name: manifest
select debugloop.manifest(%(problem)s, %(agent_name)s, %(model)s, %(k)s)::text as manifest

-- name: manifest_markdown
select debugloop.manifest_markdown(%(problem)s, %(agent_name)s, %(model)s, %(k)s, %(max_chars)s) as markdown

-- name: manifest_context
select debugloop.manifest_context(%(problem)s, %(agent_name)s, %(model)s, %(k)s, %(max_chars)s) as context

-- name: manifest_for_error
select debugloop.manifest_for_error(%(message)s, %(error_type)s, %(stacktrace)s, %(user_request)s, %(k)s,
                                    %(max_chars)s) as context

-- name: agent_session_record
select debugloop.agent_session_record(
    agent_name => %(agent_name)s, session_key => %(session_key)s, via => %(via)s, event => %(event)s,
    project => %(project)s, transcript_path => %(transcript_path)s, model => %(model)s, prompt => %(prompt)s,
    os_user => %(os_user)s, client => %(client)s) as events

-- name: agent_session_prompt
select debugloop.agent_session_prompt(%(agent_name)s, %(session_key)s) as prompt

-- name: agent_session_list
select * from debugloop.agent_session_list(%(agent_name)s, %(project)s, %(limit)s)

-- name: analytics_costs_by_period
select * from debugloop.analytics_costs_by_period(%(period)s, %(since)s, %(until)s, %(timezone)s, %(breakdown)s)

-- name: analytics_refresh
select * from debugloop.analytics_refresh()

-- name: analytics_metrics
select * from debugloop.analytics_metrics(%(since)s)

-- name: quality_summary
select * from debugloop.v_quality_summary

-- name: stf_quality
select * from debugloop.v_stf_quality order by stfs desc, stf_language, problem_category nulls last

-- name: analytics_stf_usage
select * from debugloop.analytics_stf_usage(%(limit)s)

-- name: import_units
select inserted, finished, duplicates
  from debugloop.import_units(%(source)s, %(run_id)s, %(sessions)s, %(units)s, %(file)s)

-- name: learn_pending
select debugloop.learn_pending(%(max_rows)s) as learned

-- name: learn_queued
select debugloop.learn_queued() as queued

-- name: import_file_position
select byte_offset, line_number, head_md5, state from debugloop.import_file_position(%(source)s, %(path)s)

-- name: import_report
select * from debugloop.import_report(%(run_id)s)

-- name: import_sessions
select * from debugloop.import_sessions(%(source)s, %(limit)s)

-- name: import_cost_differences
select * from debugloop.import_cost_differences(%(source)s)

-- name: import_fixes
select * from debugloop.import_fixes(%(source)s, %(limit)s)

-- name: peer_create
select * from debugloop.peer_create(
    peer_id => %(peer_id)s, kind => %(kind)s, display_name => %(display_name)s,
    agent_names => %(agent_names)s, metadata => %(metadata)s)

-- name: peer_get
select * from debugloop.peer_get(%(peer)s)

-- name: peer_list
select * from debugloop.peer_list(kind => %(kind)s, status => %(status)s, "limit" => %(limit)s)

-- name: peer_summary
select v.* from debugloop.peer_get(%(peer)s) p join debugloop.v_peers v on v.peer_id = p.peer_id

-- name: peer_set_status
select * from debugloop.peer_set_status(%(peer)s, %(status)s, %(memo)s)

-- name: peer_bind_role
select * from debugloop.peer_bind_role(%(peer)s, %(role_name)s)

-- name: peer_unbind_role
select * from debugloop.peer_unbind_role(%(role_name)s)

-- name: peer_map_agent
select * from debugloop.peer_map_agent(%(agent_name)s, %(peer)s)

-- name: peer_agent_list
select * from debugloop.peer_agent_list(unmapped_only => %(unmapped_only)s, "limit" => %(limit)s)

-- name: peer_adopt_agents
select * from debugloop.peer_adopt_agents(%(kind)s)

-- name: peer_current
select * from debugloop.peer_current()

-- name: ledger_balance
select * from debugloop.ledger_balance(%(peer)s)

-- name: ledger_balances
-- several peers' balances (a cache's misses); an unknown peer raises DL032
select b.* from unnest(%(peers)s::text[]) p cross join lateral debugloop.ledger_balance(p) b

-- name: ledger_history
select * from debugloop.ledger_history(%(peer)s, before => %(before)s, "limit" => %(limit)s)

-- name: ledger_balance_at
select * from debugloop.ledger_balance_at(%(peer)s, at => %(at)s, version => %(version)s)

-- name: ledger_balances_at
select * from debugloop.ledger_balances_at(%(at)s)

-- name: ledger_transfer
select * from debugloop.ledger_transfer(
    transfer_id => %(transfer_id)s, from_peer_id => %(from_peer_id)s, to_peer_id => %(to_peer_id)s,
    amount => %(amount)s, transaction_type => %(transaction_type)s, reason => %(reason)s, memo => %(memo)s,
    quality_score => %(quality_score)s, novelty_score => %(novelty_score)s,
    contribution_hash => %(contribution_hash)s, metadata => %(metadata)s)

-- name: ledger_transfers
select * from debugloop.ledger_transfers(%(transfers)s)

-- name: ledger_grant
select * from debugloop.ledger_grant(%(transfer_id)s, %(peer)s, %(amount)s, memo => %(memo)s, reason => %(reason)s)

-- name: ledger_adjust
select * from debugloop.ledger_adjust(%(transfer_id)s, %(peer)s, %(amount)s, %(memo)s)

-- name: ledger_get
select * from debugloop.ledger_get(%(transfer_id)s)

-- name: ledger_hold
select * from debugloop.ledger_hold(
    %(hold_id)s, %(peer)s, %(amount)s, expires_in => %(expires_in)s, reason => %(reason)s, metadata => %(metadata)s)

-- name: ledger_settle
select * from debugloop.ledger_settle(%(hold_id)s, %(amount)s, metadata => %(metadata)s)

-- name: ledger_release
select * from debugloop.ledger_release(%(hold_id)s)

-- name: ledger_expire_holds
select * from debugloop.ledger_expire_holds(%(limit)s)

-- name: ledger_hold_get
select * from debugloop.ledger_hold_get(%(hold_id)s)

-- name: ledger_hold_list
select * from debugloop.ledger_hold_list(peer => %(peer)s, status => %(status)s, "limit" => %(limit)s)

-- name: ledger_check
select * from debugloop.ledger_check()

-- name: ledger_balance_event
select debugloop.ledger_balance_event(%(peer)s) as event

-- name: ledger_transaction_events
-- the token.transactions.v1 events of a peer's entries, in version order
select event from debugloop.v_ledger_transaction_events
 where peer_id = %(peer)s and account_version > coalesce(%(after)s::bigint, 0)
 order by account_version
 limit %(limit)s

-- name: ledger_peer_balances
-- every peer's balance (not the system accounts'), for `debugloop cache rebuild` and the consumer's check
select peer_id, balance, held, available, lifetime_earned, lifetime_spent, version, last_transfer_id, last_transfer_at
  from debugloop.v_ledger_balances where kind <> 'system' order by peer_id

-- name: outbox_claim
select debugloop.outbox_claim() as slots

-- name: outbox_batch
select event_id, event_type, topic, key, sequence, payload, created_at from debugloop.outbox_batch(%(limit)s)

-- name: outbox_mark
select debugloop.outbox_mark(%(event_ids)s) as marked

-- name: outbox_release
select debugloop.outbox_release() as released

-- name: outbox_prune
select debugloop.outbox_prune(%(limit)s) as pruned

-- name: outbox_status
select slot, pending, oldest_pending, published, owner_pid from debugloop.outbox_status()

-- name: outbox_pending
select topic, key, pending, oldest_pending, first_sequence, last_sequence from debugloop.outbox_pending(%(limit)s)

-- name: reward_preview
select * from debugloop.reward_preview(%(kind)s, %(id)s)

-- name: reward_list
select * from debugloop.reward_list(%(peer)s, %(kind)s, "limit" => %(limit)s)

-- name: reward_backfill
select * from debugloop.reward_backfill(%(kind)s, "limit" => %(limit)s)

-- name: spending_estimate
select * from debugloop.spending_estimate(%(model)s, %(user_request)s, %(estimate_usd)s)

-- name: spending_reserve
select * from debugloop.spending_reserve(
    %(hold_id)s, %(peer)s, %(model)s, user_request => %(user_request)s, estimate_usd => %(estimate_usd)s,
    attempt_id => %(attempt_id)s, expires_in => %(expires_in)s)

-- name: spending_settle
select * from debugloop.spending_settle(%(hold_id)s, %(cost_usd)s, %(llm_tokens)s)

-- name: spending_release
select * from debugloop.spending_release(%(hold_id)s)

-- name: spending_repay
select * from debugloop.spending_repay(%(peer)s)

-- name: spending_balance
select * from debugloop.spending_balance(%(peer)s)

-- name: spending_reservation
select * from debugloop.spending_reservation(%(hold_id)s)

-- name: spending_report
select * from debugloop.spending_report(%(period)s, %(peer)s, %(model)s, %(since)s, %(until)s)

-- name: budget_set
select * from debugloop.budget_set(%(peer)s, %(team)s, %(period)s, %(soft_limit)s, %(hard_limit)s)

-- name: budget_retire
select * from debugloop.budget_retire(%(budget_id)s)

-- name: budget_team_set
select * from debugloop.budget_team_set(%(team)s, %(members)s, %(description)s)

-- name: budget_team_retire
select * from debugloop.budget_team_retire(%(team)s)

-- name: budget_status
select * from debugloop.budget_status(%(peer)s)

-- name: budget_list
select * from debugloop.v_spend_budgets
 where (%(peer)s::text is null or peer_id = %(peer)s) and (%(team)s::text is null or team_id = %(team)s)
   and (%(include_retired)s::boolean or retired_at is null)
 order by retired_at nulls first, coalesce(peer_id, team_id), period

-- name: budget_alerts
select * from debugloop.v_spend_alerts
 where %(peer)s::text is null or peer_id = %(peer)s or budget_peer_id = %(peer)s
 order by alert_id desc
 limit %(limit)s

-- name: budget_rate_limit_set
select * from debugloop.budget_rate_limit_set(%(peer)s, %(model)s, %(requests_per_minute)s, %(tokens_per_minute)s)

-- name: budget_rate_limit_remove
select debugloop.budget_rate_limit_remove(%(peer)s, %(model)s) as removed

-- name: budget_rate_status
select * from debugloop.budget_rate_status(%(peer)s, %(model)s)
