-- Triggers of debugloop.ledger_transfers.

-- tg_ledger_transfers__append_only: an UPDATE, DELETE or TRUNCATE of the ledger is refused
-- (debugloop._ledger_refuse_change, DL038), whoever tries, superusers included; no
-- role has the privilege either. Locks: none.
create or replace function debugloop.tg_ledger_transfers__append_only()
returns trigger
language plpgsql
as $$
begin
    perform debugloop._ledger_refuse_change(tg_table_name, tg_op);
    return null;
end
$$;

create or replace trigger _010_append_only
    before update or delete on debugloop.ledger_transfers
    for each row execute function debugloop.tg_ledger_transfers__append_only();

create or replace trigger _011_append_only_truncate
    before truncate on debugloop.ledger_transfers
    for each statement execute function debugloop.tg_ledger_transfers__append_only();
