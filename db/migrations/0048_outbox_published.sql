-- 0048 published outbox events move to a table of their own. Marking an event
-- published was an UPDATE of its outbox row: a new row version, an entry in the
-- primary key and in the published index, about 70 us a row (2000 rows took
-- 64-160 ms, the relay's largest cost in PostgreSQL once the producer was fast). A
-- DELETE of the row from the outbox and an INSERT into this table, with no B-tree
-- to maintain, takes a fifth of that. The outbox keeps the pending events only
-- (its published_at stays null: readers of `published_at is null` still read the
-- pending ones); outbox_prune deletes from here after outbox_retention_hours.

create table debugloop.outbox_published (
    event_id     bigint not null,
    event_type   text not null,
    topic        text not null,
    key          text not null,
    slot         smallint not null,
    sequence     bigint,
    payload      jsonb not null,
    created_at   timestamptz not null,
    published_at timestamptz not null
);
comment on table debugloop.outbox_published is
    'Outbox events the broker acknowledged, moved out of the outbox by outbox_mark, kept for outbox_retention_hours.';
-- rows arrive in published_at order: a BRIN index finds the old ones for pruning at
-- almost no cost to the insert
create index outbox_published_at_brin on debugloop.outbox_published using brin (published_at);

insert into debugloop.outbox_published (event_id, event_type, topic, key, slot, sequence, payload, created_at,
                                        published_at)
select event_id, event_type, topic, key, slot, sequence, payload, created_at, published_at
  from debugloop.outbox
 where published_at is not null
 order by published_at, event_id;
delete from debugloop.outbox where published_at is not null;
drop index debugloop.outbox_published_idx;
revoke update (published_at) on debugloop.outbox from debugloop_owner;

grant insert, delete on debugloop.outbox_published to debugloop_owner;
