-- 0045 the learning queue: what an attempt teaches (its code as STFs) taken out
-- of the insert transaction of an import (issue 17). import_units queues a
-- successful attempt here, in the same transaction as the attempt, when
-- import_defer_learning is on;
-- debugloop.learn_pending(max_rows) takes the oldest rows FOR UPDATE SKIP LOCKED,
-- does their learning and deletes them in one transaction, so a crash loses
-- nothing (the rows stay queued) and no reader sees an attempt half learned.
-- Whether an attempt is learned is decided when it is queued (the flags in force
-- for the importing session), not when it is drained.
create table debugloop.debug_learn_queue (
    seq             bigint generated always as identity primary key,
    attempt_id      uuid not null
                    constraint debug_learn_queue_attempt_fkey references debugloop.debug_execution_attempts (attempt_id)
                    on delete cascade,
    queued_at       timestamptz not null default now(),
    constraint debug_learn_queue_attempt_key unique (attempt_id)
);
comment on table debugloop.debug_learn_queue is
    'Attempts whose learning (STF extraction) is still to do, oldest first; drained by learn_pending.';

-- update: what FOR UPDATE needs; no column is ever updated
grant select, insert, update, delete on debugloop.debug_learn_queue to debugloop_owner;

insert into debugloop.settings (key, value, value_type, overridable, description) values
    ('import_defer_learning', 'true', 'boolean', true,
     'An import queues the learning of the attempts it records (STF extraction) for learn_pending, run by the import itself, `debugloop learn` or the relay, instead of doing it in the insert transaction.');
