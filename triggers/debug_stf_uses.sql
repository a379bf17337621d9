-- Triggers of debugloop.debug_stf_uses.

-- tg_debug_stf_uses__royalty: a successful reuse pays the STF's contributor a
-- royalty when the reuse is another peer's (debugloop._reward_royalty). SECURITY
-- DEFINER: the reward engine writes the ledger. Locks: as debugloop._reward_pay.
create or replace function debugloop.tg_debug_stf_uses__royalty()
returns trigger
language plpgsql
security definer
set search_path = debugloop, pg_catalog, pg_temp
as $$
begin
    if debugloop.settings_flag('enable_token_rewards') then
        perform debugloop._reward_royalty(new.stf_id, new.attempt_id);
    end if;
    return null;
end
$$;
revoke execute on function debugloop.tg_debug_stf_uses__royalty() from public;

create or replace trigger _010_royalty
    after insert on debugloop.debug_stf_uses
    for each row when (new.success)
    execute function debugloop.tg_debug_stf_uses__royalty();
