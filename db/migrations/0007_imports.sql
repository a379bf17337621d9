-- 0007 imports of agent logs (Claude Code, SWE-agent, OpenHands): which log units
-- became which attempts (so that importing again adds nothing), the sessions with
-- the cost their own tool reported, and how far each file has been read (so that a
-- file that grew is read from where the last import stopped).

-- One row per session or trajectory of a log: the correlation its attempts share,
-- and what the log itself says it cost (SWE-agent's instance_cost), kept beside the
-- cost debugloop computes so that differences can be reported.
create table debugloop.debug_import_sessions (
    source            text not null constraint debug_import_sessions_source_known
                      check (source in ('claude-code', 'swe-agent', 'openhands')),
    session_key       text not null,
    correlation_id    uuid not null constraint debug_import_sessions_correlation_key unique,
    path              text,
    title             text,
    model             text,
    reported_cost_usd numeric constraint debug_import_sessions_reported_cost_nonnegative check (reported_cost_usd >= 0),
    reported_usage    jsonb,
    first_imported_at timestamptz not null default now(),
    updated_at        timestamptz not null default now(),
    constraint debug_import_sessions_pkey primary key (source, session_key)
);
comment on table debugloop.debug_import_sessions is 'One row per imported session or trajectory: its correlation id and the cost its own tool reported.';

-- One row per unit of a log (an API response, a step) that became an attempt: the
-- log's own id is the key, so a unit is never imported twice.
create table debugloop.debug_import_units (
    source         text not null,
    unit_key       text not null,
    attempt_id     uuid not null constraint debug_import_units_attempt_fkey
                   references debugloop.debug_execution_attempts (attempt_id),
    correlation_id uuid not null,
    run_id         uuid not null,   -- the import run that inserted or last finished it
    imported_at    timestamptz not null default now(),
    constraint debug_import_units_pkey primary key (source, unit_key),
    constraint debug_import_units_attempt_key unique (attempt_id)
);
create index debug_import_units_run_idx on debugloop.debug_import_units (run_id);
comment on table debugloop.debug_import_units is 'Which unit of an agent log (by the log''s own id) became which attempt.';

-- How far each file has been read: the byte offset after the last line consumed,
-- its line number, an MD5 of the file's first 4 KiB (a file replaced by another is
-- read again from the start) and the importer's state at that point (the request
-- in force, failures awaiting a retry, responses awaiting tool results).
create table debugloop.debug_import_files (
    source      text not null,
    path        text not null,
    byte_offset bigint not null constraint debug_import_files_offset_nonnegative check (byte_offset >= 0),
    line_number bigint not null constraint debug_import_files_line_nonnegative check (line_number >= 0),
    head_md5    text,
    state       jsonb,
    updated_at  timestamptz not null default now(),
    constraint debug_import_files_pkey primary key (source, path)
);
comment on table debugloop.debug_import_files is 'Per imported file: how far it has been read, so that a grown file adds only its new part.';
