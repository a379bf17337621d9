-- outbox: events written in the transaction that caused them, for the relay
-- (`debugloop relay`) to publish to Kafka at least once and in order per key.
--
-- Ownership: the events are spread over 32 slots by key; a relay publishes a slot
-- only while it holds the slot's session advisory lock, so one relay at a time
-- sends a key's events, in event_id order. Relays share the slots fairly
-- (outbox_claim), each announcing itself by a second advisory lock. An event is
-- marked published after the broker acknowledged it (outbox_mark); a relay that
-- dies before that leaves it pending, and the next owner sends it again (at least
-- once; consumers dedupe by key and sequence). Marked events move to
-- outbox_published (a delete and an insert: a fifth of an update's cost), kept there
-- for outbox_retention_hours. No NOTIFY: it would serialise the commits of the
-- write path; relays poll.

-- debugloop._outbox_slots(): how many slots the outbox has (the range of
-- outbox.slot). Locks: none.
create or replace function debugloop._outbox_slots()
returns integer
language sql
immutable
as $$ select 32 $$;

-- debugloop._outbox_slot(key): the slot of an event key: every event of a key in
-- one slot, so that one relay orders them. Locks: none.
create or replace function debugloop._outbox_slot(key text)
returns smallint
language sql
immutable
as $$ select ((hashtext(key) & 2147483647) % 32)::smallint $$;

-- debugloop._outbox_lock_space(): the first key of the outbox's advisory locks
-- (a slot's lock is (space, slot), a relay's presence (space + 1, its pid)).
-- Locks: none.
create or replace function debugloop._outbox_lock_space()
returns integer
language sql
immutable
as $$ select 1868723300 $$;

-- debugloop._outbox_write(event_type, topic, key, sequence, payload): add one
-- event, in the caller's transaction. Why: the one way other domains' functions
-- publish an event ({domain}.{entity}.{action}.v{version}); set-based writers
-- (the ledger) insert with _outbox_slot themselves. Locks: none.
create or replace function debugloop._outbox_write(event_type text, topic text, key text, sequence bigint, payload jsonb)
returns bigint
language sql
volatile
as $$
    insert into debugloop.outbox (event_type, topic, key, slot, sequence, payload)
    values (event_type, topic, key, debugloop._outbox_slot(key), sequence, payload)
    returning event_id
$$;

-- debugloop._outbox_limit(value, maximum): value when it lies in 1..maximum,
-- else DL060 naming the argument `limit`. Locks: none.
create or replace function debugloop._outbox_limit(value integer, maximum integer)
returns integer
language plpgsql
immutable
as $$
begin
    if value is null or value not between 1 and maximum then
        raise exception 'limit must lie in 1..%; got %', maximum, coalesce(value::text, 'NULL')
            using errcode = 'DL060', column = 'limit';
    end if;
    return value;
end
$$;

-- debugloop._outbox_held(): the slots whose advisory locks this session holds.
-- Locks: none (reads pg_locks).
create or replace function debugloop._outbox_held()
returns smallint[]
language sql
stable
as $$
    select coalesce(array_agg(l.objid::integer::smallint order by l.objid), '{}')
      from pg_catalog.pg_locks l
     where l.locktype = 'advisory' and l.classid = debugloop._outbox_lock_space()::oid and l.objsubid = 2
       and l.pid = pg_backend_pid() and l.granted
$$;

-- debugloop.outbox_claim(): the slots this session publishes from now on: it
-- announces itself as a relay, gives up the slots above its fair share (the slots
-- divided by the relays announced) and takes free ones up to it, without waiting.
-- Call it between batches, never with events of a slot in flight. Returns the
-- slots held, in order. Locks: session advisory locks, one per slot held and one
-- for the relay's presence; they last until outbox_release or the session ends.
create or replace function debugloop.outbox_claim()
returns smallint[]
language plpgsql
volatile
security definer
set search_path = debugloop, pg_catalog, pg_temp
as $$
declare
    space integer := debugloop._outbox_lock_space();
    slots integer := debugloop._outbox_slots();
    held smallint[] := debugloop._outbox_held();
    relays integer;
    share integer;
    slot integer;
begin
    if not exists (select from pg_catalog.pg_locks l
                    where l.locktype = 'advisory' and l.classid = (space + 1)::oid and l.objid = pg_backend_pid()::oid
                      and l.objsubid = 2 and l.pid = pg_backend_pid()) then
        perform pg_advisory_lock(space + 1, pg_backend_pid());
    end if;
    select count(distinct l.pid) into relays from pg_catalog.pg_locks l
     where l.locktype = 'advisory' and l.classid = (space + 1)::oid and l.objsubid = 2 and l.granted;
    share := ceil(slots::numeric / greatest(relays, 1));
    -- above the share: give the highest slots up
    foreach slot in array coalesce(held[share + 1:], '{}') loop
        perform pg_advisory_unlock(space, slot);
    end loop;
    held := coalesce(held[1:share], '{}');
    -- below it: take free slots, starting at a place of this backend's own
    for slot in select (s + pg_backend_pid()) % slots from generate_series(0, slots - 1) s loop
        exit when cardinality(held) >= share;
        if slot <> all(held) and pg_try_advisory_lock(space, slot) then
            held := held || slot::smallint;
        end if;
    end loop;
    return array(select s from unnest(held) s order by s);
end
$$;
comment on function debugloop.outbox_claim() is 'Take this session''s fair share of the outbox slots (advisory locks) and return the slots it holds.';
revoke execute on function debugloop.outbox_claim() from public;
grant execute on function debugloop.outbox_claim() to debugloop_admin;

-- debugloop.outbox_release(): give up every slot and the relay presence of this
-- session (a relay that stops), so that another relay takes them at once. Returns
-- how many slots it held. Locks: releases the session's outbox advisory locks.
create or replace function debugloop.outbox_release()
returns integer
language plpgsql
volatile
security definer
set search_path = debugloop, pg_catalog, pg_temp
as $$
declare
    space integer := debugloop._outbox_lock_space();
    held smallint[] := debugloop._outbox_held();
    slot integer;
begin
    foreach slot in array held loop
        perform pg_advisory_unlock(space, slot);
    end loop;
    while pg_advisory_unlock(space + 1, pg_backend_pid()) loop
        null;
    end loop;
    return cardinality(held);
end
$$;
comment on function debugloop.outbox_release() is 'Give up the outbox slots this session holds (a relay that stops).';
revoke execute on function debugloop.outbox_release() from public;
grant execute on function debugloop.outbox_release() to debugloop_admin;

-- debugloop.outbox_batch(limit): the next pending events of the slots this
-- session holds (outbox_claim), in event_id order: per slot a prefix of its
-- pending events, so that a key's events go out in order. The payload as JSON
-- text, ready to send. DL060 for a limit outside 1..100,000. Locks: none; the
-- slots' advisory locks make this session the only reader of their events.
create or replace function debugloop.outbox_batch("limit" integer default 2000)
returns table (event_id bigint, event_type text, topic text, key text, sequence bigint, payload text, created_at timestamptz)
language plpgsql
stable
security definer
set search_path = debugloop, pg_catalog, pg_temp
as $$
declare
    held smallint[] := debugloop._outbox_held();
    wanted integer := debugloop._outbox_limit("limit", 100000);
    per_slot integer;
begin
    if cardinality(held) = 0 then
        return;
    end if;
    per_slot := ceil(wanted::numeric / cardinality(held));
    return query
        select o.event_id, o.event_type, o.topic, o.key, o.sequence, o.payload::text, o.created_at
          from unnest(held) s
         cross join lateral (select * from debugloop.outbox x
                              where x.slot = s and x.published_at is null
                              order by x.event_id limit per_slot) o
         order by o.event_id
         limit wanted;
end
$$;
comment on function debugloop.outbox_batch(integer) is 'The next pending outbox events of the slots this session holds, in order.';
revoke execute on function debugloop.outbox_batch(integer) from public;
grant execute on function debugloop.outbox_batch(integer) to debugloop_admin;

-- debugloop.outbox_mark(event_ids): mark events published (the broker acknowledged
-- them): they move from the outbox to outbox_published, stamped now(); returns how
-- many were pending (an event marked twice moves once). Locks: the events' rows.
create or replace function debugloop.outbox_mark(event_ids bigint[])
returns integer
language plpgsql
volatile
security definer
set search_path = debugloop, pg_catalog, pg_temp
as $$
declare
    marked integer;
begin
    with moved as (
        delete from debugloop.outbox o where o.event_id = any(event_ids) and o.published_at is null
        returning o.event_id, o.event_type, o.topic, o.key, o.slot, o.sequence, o.payload, o.created_at
    )
    insert into debugloop.outbox_published (event_id, event_type, topic, key, slot, sequence, payload, created_at,
                                            published_at)
    select m.event_id, m.event_type, m.topic, m.key, m.slot, m.sequence, m.payload, m.created_at, now()
      from moved m;
    get diagnostics marked = row_count;
    return marked;
end
$$;
comment on function debugloop.outbox_mark(bigint[]) is 'Mark outbox events published after the broker''s ack.';
revoke execute on function debugloop.outbox_mark(bigint[]) from public;
grant execute on function debugloop.outbox_mark(bigint[]) to debugloop_admin;

-- debugloop.outbox_status(): per slot, its pending events, the oldest one's time,
-- the events published and kept, and the relay that holds the slot (its backend
-- pid, null when none does). Reads the pending index and counts the published
-- rows kept (one scan of outbox_published): for operators, not a hot path.
-- Locks: none.
create or replace function debugloop.outbox_status()
returns table (slot smallint, pending bigint, oldest_pending timestamptz, published bigint, owner_pid integer)
language sql
stable
security definer
set search_path = debugloop, pg_catalog, pg_temp
as $$
    select s::smallint,
           (select count(*) from debugloop.outbox o where o.slot = s and o.published_at is null),
           (select min(o.created_at) from debugloop.outbox o where o.slot = s and o.published_at is null),
           coalesce(k.kept, 0),
           (select min(l.pid) from pg_catalog.pg_locks l
             where l.locktype = 'advisory' and l.classid = debugloop._outbox_lock_space()::oid and l.objid = s::oid
               and l.objsubid = 2 and l.granted)
      from generate_series(0, debugloop._outbox_slots() - 1) s
      left join (select p.slot, count(*) as kept from debugloop.outbox_published p group by p.slot) k on k.slot = s
     order by 1
$$;
comment on function debugloop.outbox_status() is 'Per outbox slot: pending events, the oldest pending, published ones kept, its relay.';
revoke execute on function debugloop.outbox_status() from public;
grant execute on function debugloop.outbox_status() to debugloop_admin, debugloop_reader;

-- debugloop.outbox_pending(limit): the pending events by topic and key: how many,
-- the oldest one's time, the lowest and highest sequence; the keys with the oldest
-- events first. Why: `relay status` maps keys to Kafka partitions (Kafka's
-- partitioner is the client's). DL060 for a limit outside 1..1,000,000. Locks: none.
create or replace function debugloop.outbox_pending("limit" integer default 100000)
returns table (topic text, key text, pending bigint, oldest_pending timestamptz, first_sequence bigint,
               last_sequence bigint)
language plpgsql
stable
security definer
set search_path = debugloop, pg_catalog, pg_temp
as $$
begin
    return query
        select o.topic, o.key, count(*), min(o.created_at), min(o.sequence), max(o.sequence)
          from debugloop.outbox o where o.published_at is null
         group by o.topic, o.key
         order by min(o.created_at), o.topic, o.key
         limit debugloop._outbox_limit("limit", 1000000);
end
$$;
comment on function debugloop.outbox_pending(integer) is 'The pending outbox events per topic and key (for the relay''s status).';
revoke execute on function debugloop.outbox_pending(integer) from public;
grant execute on function debugloop.outbox_pending(integer) to debugloop_admin, debugloop_reader;

-- debugloop.outbox_prune(limit): delete up to `limit` events of outbox_published
-- published longer ago than the setting outbox_retention_hours; returns how many.
-- The relay calls it now and then. DL060 for a limit outside 1..1,000,000.
-- Locks: the deleted rows.
create or replace function debugloop.outbox_prune("limit" integer default 10000)
returns integer
language plpgsql
volatile
security definer
set search_path = debugloop, pg_catalog, pg_temp
as $$
declare
    keep interval := make_interval(hours => debugloop.settings_get('outbox_retention_hours')::integer);
    wanted integer := debugloop._outbox_limit("limit", 1000000);
    pruned integer;
begin
    delete from debugloop.outbox_published p
     where p.ctid = any(array(select x.ctid from debugloop.outbox_published x
                               where x.published_at <= now() - keep limit wanted));
    get diagnostics pruned = row_count;
    return pruned;
end
$$;
comment on function debugloop.outbox_prune(integer) is 'Delete published outbox events older than outbox_retention_hours.';
revoke execute on function debugloop.outbox_prune(integer) from public;
grant execute on function debugloop.outbox_prune(integer) to debugloop_admin;
