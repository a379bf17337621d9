-- 0034 seen code: what STF extraction learned about a piece of code, by its hash,
-- so that the same code written in many attempts (the same file written by
-- `Write` in ten sessions, a log imported from two machines) is lexed once
-- (issue 17). A row is keyed by the MD5 of the language and the code exactly as
-- the attempt's artefacts hold it (already redacted by the attempts' trigger);
-- it records the code's line count (what _stf_trivial needs) and, once the code
-- was registered, its STF. STF rows are never deleted, and stf_hash is a pure
-- function of the (redacted) code and the language, so a row never goes stale.
create table debugloop.debug_stf_seen_code (
    code_md5   uuid primary key,
    language   text not null,
    lines      integer not null constraint debug_stf_seen_code_lines check (lines >= 0),
    stf_id     uuid constraint debug_stf_seen_code_stf_fkey references debugloop.debug_transform_functions (stf_id),
    seen_at    timestamptz not null default now()
);
comment on table debugloop.debug_stf_seen_code is
    'STF extraction''s cache: code (by MD5 of language and code) seen before, its line count and the STF it became.';

grant insert, update on debugloop.debug_stf_seen_code to debugloop_owner;
