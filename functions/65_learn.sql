-- learn: the learning of imported attempts, taken out of the insert transaction.
--
-- What a successful attempt teaches (its code as STFs, their provenance and
-- scores; rewards follow from them) is done by the attempts' trigger at once for
-- a single attempt_finish. An import (import_units, with import_defer_learning
-- on) queues it instead in debug_learn_queue, in the same transaction as the
-- attempt, and learn_pending(max_rows) does it later, in queue order, a batch per
-- transaction: the import command drains the queue itself while it inserts (a
-- second connection), `debugloop learn` and the relay drain what is left. A batch
-- writes each STF it touched once, at its end (its new successes and scores),
-- instead of twice per new producer. A crash loses nothing (the queue rows commit with the attempts, and
-- are deleted with the learning they stand for), and no reader sees an attempt
-- half learned: its STFs, provenance and scores commit together.
--
-- Golden states are not queued: their evidence is the world when the attempt is
-- recorded (a later failure in its chain, other peers' successes), and weighing
-- them later would change which exist. So an attempt that may be nominated (it
-- has a quality_score) has its STFs extracted at once too, for its golden state
-- to list them; imported attempts have none, and are all queued.

-- debugloop._learn_deferred(attempt): whether the learning of an attempt that
-- finishes in this transaction is queued rather than done at once: import_units
-- sets debugloop.learn_deferred, and the attempt may not be nominated as a golden
-- state (it has no quality_score), which would list its STFs.
create or replace function debugloop._learn_deferred(attempt debugloop.debug_execution_attempts)
returns boolean
language sql
stable
as $$
    select coalesce(current_setting('debugloop.learn_deferred', true), '') = 'on' and attempt.quality_score is null
$$;

-- debugloop._learn_enqueue(attempt): queue the learning of a successful
-- attempt (once). Locks: the attempt's queue row.
create or replace function debugloop._learn_enqueue(attempt debugloop.debug_execution_attempts)
returns void
language sql
volatile
as $$
    insert into debugloop.debug_learn_queue (attempt_id) values (attempt.attempt_id)
    on conflict on constraint debug_learn_queue_attempt_key do nothing
$$;

-- debugloop._learn_batching(): whether _stf_add_provenance leaves the success
-- count and the scores of an STF to the end of the batch (learn_pending sets it).
create or replace function debugloop._learn_batching()
returns boolean
language sql
stable
as $$
    select coalesce(current_setting('debugloop.learn_batch', true), '') = 'on'
$$;

-- debugloop._learn_count_success(stf_id): one more success of an STF, counted
-- for the end of the batch (a list of ids in debugloop.learn_successes). Locks:
-- none.
create or replace function debugloop._learn_count_success(stf_id uuid)
returns void
language sql
volatile
as $$
    select set_config('debugloop.learn_successes',
                      coalesce(current_setting('debugloop.learn_successes', true), '') || stf_id || ',', true)
$$;

-- debugloop.learn_pending(max_rows): learn from up to `max_rows` queued attempts,
-- oldest first, and return how many were learned. Each row's attempt has its code
-- extracted as STFs (stf_extract), as the attempts' trigger would have done when
-- it was recorded; then the STFs the batch touched are rescored once each, and
-- the rows are deleted, all in the caller's transaction. Rows another session is
-- learning are skipped (FOR UPDATE SKIP LOCKED), and so is every row after them:
-- attempts are learned in the order they were queued, whoever drains, so the
-- first to register a code is its STF's source as it would have been at once. A
-- second drainer never waits: it returns 0 while the first holds the oldest rows.
-- Raises DL070 when max_rows is not in 1..100,000. Locks: the queue rows it
-- takes, and the STF rows stf_extract locks.
create or replace function debugloop.learn_pending(max_rows integer default 1000)
returns integer
language plpgsql
volatile
security definer
set search_path = debugloop, pg_catalog, pg_temp
as $$
declare
    q debugloop.debug_learn_queue;
    learned uuid[] := '{}';
    batching text := current_setting('debugloop.learn_batch', true);
    s record;
begin
    if max_rows is null or max_rows < 1 or max_rows > 100000 then
        raise exception 'max_rows must be between 1 and 100000, got %', coalesce(max_rows::text, 'NULL')
            using errcode = 'DL070', column = 'max_rows';
    end if;
    perform set_config('debugloop.learn_batch', 'on', true);
    perform set_config('debugloop.learn_successes', '', true);
    for q in
        select * from debugloop.debug_learn_queue l order by l.seq limit max_rows for update skip locked
    loop
        -- an earlier row still queued is another session's (ours are deleted): the rest waits for it
        exit when exists (select from debugloop.debug_learn_queue e where e.seq < q.seq);
        perform debugloop.stf_extract(q.attempt_id);
        delete from debugloop.debug_learn_queue l where l.seq = q.seq;
        learned := learned || q.attempt_id;
    end loop;
    perform set_config('debugloop.learn_batch', coalesce(batching, ''), true);
    -- each STF touched (locked by _stf_add_provenance already): its new successes, then its scores
    for s in
        select t.stf_id, coalesce(c.n, 0) as n
          from (select distinct p.stf_id from debugloop.debug_stf_provenance p where p.attempt_id = any(learned)) t
          left join (select x::uuid as stf_id, count(*) as n
                       from unnest(string_to_array(current_setting('debugloop.learn_successes', true), ',')) x
                      where x <> '' group by 1) c using (stf_id)
         order by t.stf_id
    loop
        if s.n > 0 then
            update debugloop.debug_transform_functions f set success_count = f.success_count + s.n
             where f.stf_id = s.stf_id;
        end if;
        perform debugloop._stf_rescore(s.stf_id);
    end loop;
    perform set_config('debugloop.learn_successes', '', true);
    return cardinality(learned);
end
$$;
comment on function debugloop.learn_pending(integer)
    is 'Learn from up to max_rows queued attempts (STF extraction), oldest first; returns how many.';
revoke execute on function debugloop.learn_pending(integer) from public;
grant execute on function debugloop.learn_pending(integer) to debugloop_agent, debugloop_admin;

-- debugloop.learn_queued(): how many attempts wait for their learning
-- (learn_pending). Locks: none.
create or replace function debugloop.learn_queued()
returns bigint
language sql
stable
security definer
set search_path = debugloop, pg_catalog, pg_temp
as $$
    select count(*) from debugloop.debug_learn_queue
$$;
comment on function debugloop.learn_queued() is 'How many attempts wait for their learning (learn_pending).';
revoke execute on function debugloop.learn_queued() from public;
grant execute on function debugloop.learn_queued() to debugloop_agent, debugloop_admin, debugloop_reader;
