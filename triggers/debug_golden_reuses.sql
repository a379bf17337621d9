-- Triggers of debugloop.debug_golden_reuses.

-- tg_debug_golden_reuses__bonus: a successful reuse by another peer pays the golden
-- state's contributor a reuse bonus (debugloop._reward_golden_reuse). SECURITY
-- DEFINER: the reward engine writes the ledger. Locks: as debugloop._reward_pay.
create or replace function debugloop.tg_debug_golden_reuses__bonus()
returns trigger
language plpgsql
security definer
set search_path = debugloop, pg_catalog, pg_temp
as $$
begin
    if debugloop.settings_flag('enable_token_rewards') then
        perform debugloop._reward_golden_reuse(new.golden_state_id, new.attempt_id);
    end if;
    return null;
end
$$;
revoke execute on function debugloop.tg_debug_golden_reuses__bonus() from public;

create or replace trigger _010_bonus
    after insert on debugloop.debug_golden_reuses
    for each row when (new.success)
    execute function debugloop.tg_debug_golden_reuses__bonus();
