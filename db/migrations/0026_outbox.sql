-- 0026 the outbox: events written in the transaction that caused them, published
-- to Kafka by the relay (`debugloop relay`) at least once, in order per key. The
-- ledger writes one transaction event per peer leg and one balance event per peer
-- a statement touched (functions/74_outbox.sql, triggers/ledger_entries.sql);
-- later domains (rewards, golden states, STFs) add their own event types,
-- named {domain}.{entity}.{action}.v{version}, through the same table.

-- One row per event. `slot` fixes which relay publishes it (one owner per slot at
-- a time, by a session advisory lock): every event of one key has the same slot,
-- so one relay at a time sends a key's events, in event_id order, which for one
-- peer is its version order (the ledger locks the peer's account before it
-- writes). published_at is set after the broker acknowledged the event.
create table debugloop.outbox (
    event_id     bigint generated always as identity primary key,
    event_type   text not null
                 constraint outbox_event_type_format
                 check (event_type ~ '^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*\.v[0-9]+$'),
    topic        text not null constraint outbox_topic_format check (topic ~ '^[A-Za-z0-9._-]{1,249}$'),
    key          text not null,
    slot         smallint not null constraint outbox_slot_range check (slot between 0 and 31),
    sequence     bigint,
    payload      jsonb not null,
    created_at   timestamptz not null default now(),
    published_at timestamptz
) with (fillfactor = 80);
comment on table debugloop.outbox is
    'Events to publish (Kafka): written with the change that caused them, marked published after the broker''s ack, pruned after outbox_retention_hours.';
-- what the relay reads: the pending events of its slots, in order
create index outbox_pending_idx on debugloop.outbox (slot, event_id) where published_at is null;
-- what pruning reads
create index outbox_published_idx on debugloop.outbox (published_at) where published_at is not null;

grant insert on debugloop.outbox to debugloop_owner;
grant update (published_at) on debugloop.outbox to debugloop_owner;
grant delete on debugloop.outbox to debugloop_owner;

insert into debugloop.settings (key, value, value_type, overridable, min_value, max_value, description) values
    ('outbox_retention_hours', '168', 'integer', false, 0, 87600,
     'How long a published outbox event is kept before outbox_prune deletes it (0: at the next prune).');
