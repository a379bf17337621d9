-- Triggers of debugloop.debug_golden_states.

-- tg_debug_golden_states__reward: an approval pays the golden state's reward, a
-- rejection reverses it (debugloop._reward_golden). SECURITY DEFINER: the reward
-- engine writes the ledger. Locks: as debugloop._reward_pay.
create or replace function debugloop.tg_debug_golden_states__reward()
returns trigger
language plpgsql
security definer
set search_path = debugloop, pg_catalog, pg_temp
as $$
begin
    if debugloop.settings_flag('enable_token_rewards') then
        perform debugloop._reward_golden(new.golden_state_id);
    end if;
    return null;
end
$$;
revoke execute on function debugloop.tg_debug_golden_states__reward() from public;

create or replace trigger _030_reward
    after update of approval_status on debugloop.debug_golden_states
    for each row when (new.approval_status in ('approved', 'rejected') and old.approval_status is distinct from new.approval_status)
    execute function debugloop.tg_debug_golden_states__reward();
