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
-- events go to the outbox in the same transaction, so every path that posts
-- (transfers, batches, holds, settlements, expiries) writes its events and a
-- transfer that rolls back leaves none: per peer leg its token.transactions.v1
-- event (keyed by the peer, its account version as sequence), and per peer touched
-- its token.balances.v1 event after the statement (the latest version). System
-- accounts publish nothing. The transaction events are built from the statement's
-- transition table (_ledger_transaction_event), not found again through
-- v_ledger_transaction_events: that lookup was two thirds of a transfer's time. The
-- balance event is built from the peer's account row (_ledger_balance_json), one
-- per peer: a peer that is not a system peer has one account (shard 0), whose
-- figures are what ledger_balance_event sums. Why one insert in the trigger itself,
-- reading the transition table, and no function of its own taking the entries as
-- an array: 0.07 ms less of each reserved and settled LLM call (bench/RESULTS.md).
-- Locks: none.
create or replace function debugloop.tg_ledger_entries__outbox()
returns trigger
language plpgsql
as $$
begin
    insert into debugloop.outbox (event_type, topic, key, slot, sequence, payload)
    select x.event_type, x.topic, x.peer_id, debugloop._outbox_slot(x.peer_id), x.sequence, x.payload
      from (select 'ledger.transaction.posted.v1' as event_type, 'token.transactions.v1' as topic, n.peer_id,
                   n.account_version as sequence, debugloop._ledger_transaction_event(n::debugloop.ledger_entries, t, oa.system) as payload,
                   1 as kind
              from new_entries n
              join debugloop.ledger_transfers t on t.transfer_id = n.transfer_id
              join debugloop.ledger_accounts oa
                on oa.account_id = case when t.from_account_id = n.account_id then t.to_account_id
                                        else t.from_account_id end
             where not debugloop._peer_is_system(n.peer_id)
            union all
            select 'ledger.balance.changed.v1', 'token.balances.v1', a.peer_id, a.version,
                   debugloop._ledger_balance_json(a.peer_id, a.balance + a.held, a.held, a.balance, a.lifetime_earned,
                                                  a.lifetime_spent, a.version, a.last_transfer_id,
                                                  coalesce(case when a.version > 0 then a.updated_at end,
                                                           (select p.created_at from debugloop.peers p where p.peer_id = a.peer_id))),
                   2
              from debugloop.ledger_accounts a
             where a.account_id in (select n.account_id from new_entries n where not debugloop._peer_is_system(n.peer_id))) x
     order by x.peer_id, x.kind, x.sequence;
    return null;
end
$$;

create or replace trigger _020_outbox
    after insert on debugloop.ledger_entries
    referencing new table as new_entries
    for each statement execute function debugloop.tg_ledger_entries__outbox();
