-- 0063 code pointers (issue 16, item 5): each producer of an STF keeps where its
-- code came from, when the source says it: the repository (or the working
-- directory the agent ran in), the branch, the commit, the file and the lines
-- within it. Any part may be unknown (null). stf_register and attempt_finish
-- refuse bad values that a caller passes (DL050 lines, DL051 commit, DL052 the
-- texts); what an importer reads from a log is kept only where it is valid.
-- The rules are debugloop._stf_pointer_problems (functions/40_stf.sql); the
-- constraints below are their last line of defence.
create type debugloop.stf_pointer as (
    repository text,
    branch     text,
    commit_sha text,
    file_path  text,
    line_start integer,
    line_end   integer
);
comment on type debugloop.stf_pointer is 'Where a piece of code came from: repository or working directory, branch, commit, file, lines.';

alter table debugloop.debug_stf_provenance
    add column repository text,
    add column branch     text,
    add column commit_sha text,
    add column file_path  text,
    add column line_start integer,
    add column line_end   integer,
    add constraint debug_stf_provenance_commit_format check (commit_sha ~ '^[0-9a-f]{7,40}$'),
    add constraint debug_stf_provenance_lines_range check (
        case when line_start is null then line_end is null
             else line_start >= 1 and coalesce(line_end >= line_start, true) end),
    add constraint debug_stf_provenance_lines_need_file check (line_start is null or file_path is not null);

comment on column debugloop.debug_stf_provenance.repository is 'The repository (URL or owner/name) or the working directory the code was written in.';
comment on column debugloop.debug_stf_provenance.commit_sha is 'The commit (7 to 40 hex digits, lower case) the code was written on.';
comment on column debugloop.debug_stf_provenance.file_path is 'The file, relative to the repository where the source said so.';
comment on column debugloop.debug_stf_provenance.line_start is 'The first line of the code in the file (1-based); line_end its last.';

-- the manifest lists the first few pointers of each STF it recommends
create index debug_stf_provenance_pointer_idx on debugloop.debug_stf_provenance (stf_id, provenance_id)
    where file_path is not null or repository is not null or commit_sha is not null;

-- the registration functions take the pointer now; functions/40_stf.sql creates them
drop function if exists debugloop._stf_add_provenance(uuid, debugloop.debug_execution_attempts, text, boolean);
drop function if exists debugloop._stf_register(text, text, text, text, text, uuid, text, jsonb, text);
drop function if exists debugloop.stf_register(text, text, text, text, text, uuid, text, jsonb, text);
