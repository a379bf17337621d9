-- Triggers of debugloop.debug_execution_attempts.
--
-- Each trigger function tests only which event this is (TG_OP, and the status the
-- attempt moves to: it finishes when its status leaves 'running', or when it is
-- inserted finished, as importers do) and hands the row to one domain function,
-- which holds the rule: flags, thresholds and formulas live there. A BEFORE
-- trigger's function takes the row and returns it completed.

-- tg_debug_execution_attempts__recorded_by: who recorded a new attempt is the
-- calling role, whatever the insert says (debugloop._attempt_set_recorded_by).
-- Locks: none.
create or replace function debugloop.tg_debug_execution_attempts__recorded_by()
returns trigger
language plpgsql
as $$
begin
    return debugloop._attempt_set_recorded_by(new);
end
$$;

create or replace trigger _003_recorded_by
    before insert on debugloop.debug_execution_attempts
    for each row execute function debugloop.tg_debug_execution_attempts__recorded_by();

-- tg_debug_execution_attempts__redact: secrets in the attempt's texts are
-- redacted before anything is computed from them (debugloop._attempt_redact); the
-- first trigger, so the fingerprint and the error signature see the redacted
-- texts. Locks: none.
create or replace function debugloop.tg_debug_execution_attempts__redact()
returns trigger
language plpgsql
as $$
begin
    return debugloop._attempt_redact(new);
end
$$;

create or replace trigger _005_redact
    before insert or update of user_request, approach_description, error_type, error_message, error_stacktrace, artifacts
    on debugloop.debug_execution_attempts
    for each row execute function debugloop.tg_debug_execution_attempts__redact();

-- tg_debug_execution_attempts__fingerprint: the request fingerprint and the
-- approach hash follow their texts (debugloop._attempt_set_fingerprint). Locks: none.
create or replace function debugloop.tg_debug_execution_attempts__fingerprint()
returns trigger
language plpgsql
as $$
begin
    return debugloop._attempt_set_fingerprint(new);
end
$$;

create or replace trigger _010_fingerprint
    before insert or update of user_request, approach_description on debugloop.debug_execution_attempts
    for each row execute function debugloop.tg_debug_execution_attempts__fingerprint();

-- tg_debug_execution_attempts__problem: a request enters debug_problems the first
-- time an attempt names it (debugloop._attempt_add_problem). Locks: none.
create or replace function debugloop.tg_debug_execution_attempts__problem()
returns trigger
language plpgsql
as $$
begin
    perform debugloop._attempt_add_problem(new);
    return null;
end
$$;

create or replace trigger _015_problem
    after insert or update of user_request on debugloop.debug_execution_attempts
    for each row execute function debugloop.tg_debug_execution_attempts__problem();

-- tg_debug_execution_attempts__estimate: an attempt that starts gets its estimated
-- cost (debugloop._attempt_set_estimate). An attempt inserted already finished (an
-- import) ran before debugloop saw it: no estimate is made for it. Locks: none.
create or replace function debugloop.tg_debug_execution_attempts__estimate()
returns trigger
language plpgsql
as $$
begin
    if new.status = 'running' then
        return debugloop._attempt_set_estimate(new);
    end if;
    return new;
end
$$;

create or replace trigger _020_estimate
    before insert on debugloop.debug_execution_attempts
    for each row execute function debugloop.tg_debug_execution_attempts__estimate();

-- tg_debug_execution_attempts__finish: an attempt that finishes gets its
-- completion time, duration, canonical usage and cost
-- (debugloop._attempt_set_completion); a running one whose usage is recorded or
-- grows holds the cost so far (debugloop._attempt_set_usage_so_far). Raises DL005
-- or DL045 for bad usage. Locks: none (reads the price catalog).
create or replace function debugloop.tg_debug_execution_attempts__finish()
returns trigger
language plpgsql
as $$
begin
    if new.status <> 'running' and (tg_op = 'INSERT' or old.status = 'running') then
        return debugloop._attempt_set_completion(new);
    elsif new.status = 'running' and new.usage_raw is not null
          and (tg_op = 'INSERT' or new.usage_raw is distinct from old.usage_raw) then
        return debugloop._attempt_set_usage_so_far(new);
    end if;
    return new;
end
$$;

create or replace trigger _030_finish
    before insert or update of status, usage_raw on debugloop.debug_execution_attempts
    for each row execute function debugloop.tg_debug_execution_attempts__finish();

-- tg_debug_execution_attempts__touch: stamp updated_at. Locks: none.
create or replace function debugloop.tg_debug_execution_attempts__touch()
returns trigger
language plpgsql
as $$
begin
    new.updated_at := now();
    return new;
end
$$;

create or replace trigger _040_touch
    before update on debugloop.debug_execution_attempts
    for each row execute function debugloop.tg_debug_execution_attempts__touch();

-- tg_debug_execution_attempts__error_signature: an attempt that fails (error or
-- timeout) is linked to its error signature (debugloop._error_set_signature).
-- Locks: the signature's row.
create or replace function debugloop.tg_debug_execution_attempts__error_signature()
returns trigger
language plpgsql
as $$
begin
    if new.status in ('error', 'timeout') and (tg_op = 'INSERT' or old.status = 'running') then
        return debugloop._error_set_signature(new);
    end if;
    return new;
end
$$;

create or replace trigger _050_error_signature
    before insert or update of status on debugloop.debug_execution_attempts
    for each row execute function debugloop.tg_debug_execution_attempts__error_signature();

-- tg_debug_execution_attempts__error_mappings: an attempt that finishes maps the
-- errors met earlier in its chain to its approach, or counts a failure against the
-- mappings that recommended it (debugloop._error_map_outcome). Locks: the
-- mappings' rows.
create or replace function debugloop.tg_debug_execution_attempts__error_mappings()
returns trigger
language plpgsql
as $$
begin
    if new.status <> 'running' and (tg_op = 'INSERT' or old.status = 'running') then
        perform debugloop._error_map_outcome(new);
    end if;
    return null;
end
$$;

create or replace trigger _060_error_mappings
    after insert or update of status on debugloop.debug_execution_attempts
    for each row execute function debugloop.tg_debug_execution_attempts__error_mappings();

-- tg_debug_execution_attempts__extract_stfs: an attempt that succeeds has the code
-- of its artefacts registered as STFs (debugloop._stf_extract_attempt). Locks: the
-- STF rows it registers.
create or replace function debugloop.tg_debug_execution_attempts__extract_stfs()
returns trigger
language plpgsql
as $$
begin
    if new.status = 'success' and (tg_op = 'INSERT' or old.status = 'running') then
        perform debugloop._stf_extract_attempt(new);
    end if;
    return null;
end
$$;

create or replace trigger _070_extract_stfs
    after insert or update of status on debugloop.debug_execution_attempts
    for each row execute function debugloop.tg_debug_execution_attempts__extract_stfs();

-- tg_debug_execution_attempts__golden: an attempt that finishes is weighed for a
-- golden state, or withdraws the pending automatic nominations of its chain when
-- it failed (debugloop._golden_consider). Runs after STF extraction (_070), so a
-- golden state lists the STFs extracted from its attempt. Locks: the golden state
-- rows.
create or replace function debugloop.tg_debug_execution_attempts__golden()
returns trigger
language plpgsql
as $$
begin
    if new.status <> 'running' and (tg_op = 'INSERT' or old.status = 'running') then
        perform debugloop._golden_consider(new);
    end if;
    return null;
end
$$;

create or replace trigger _080_golden
    after insert or update of status on debugloop.debug_execution_attempts
    for each row execute function debugloop.tg_debug_execution_attempts__golden();
