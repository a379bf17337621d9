-- Triggers of debugloop.ledger_entries.

-- tg_ledger_entries__append_only: an UPDATE, DELETE or TRUNCATE of the ledger is refused
-- (debugloop._ledger_refuse_change, DL038), whoever tries, superusers included; no
-- role has the privilege either. Locks: none.
create or replace function debugloop.tg_ledger_entries__append_only()
returns trigger
language plpgsql
as $$
begin
    perform debugloop._ledger_refuse_change(tg_table_name, tg_op);
    return null;
end
$$;

create or replace trigger _010_append_only
    before update or delete on debugloop.ledger_entries
    for each row execute function debugloop.tg_ledger_entries__append_only();

create or replace trigger _011_append_only_truncate
    before truncate on debugloop.ledger_entries
    for each statement execute function debugloop.tg_ledger_entries__append_only();

-- tg_ledger_entries__outbox: after each statement that posted entries, their
-- events go to the outbox in the same transaction (debugloop._ledger_outbox): a
-- transfer that rolls back leaves no event. Locks: none.
create or replace function debugloop.tg_ledger_entries__outbox()
returns trigger
language plpgsql
as $$
begin
    perform debugloop._ledger_outbox(array(select n::debugloop.ledger_entries from new_entries n));
    return null;
end
$$;

create or replace trigger _020_outbox
    after insert on debugloop.ledger_entries
    referencing new table as new_entries
    for each statement execute function debugloop.tg_ledger_entries__outbox();
