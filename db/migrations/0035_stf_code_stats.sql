-- 0035 code stats: what STF scoring counts in an STF's code (issue 17). An STF's
-- code, language and parameters never change after it is registered, so the
-- counts its generality, size and complexity scores come from are read from its
-- tokens once (_stf_code_stats) and kept here; rescoring (every time the same
-- code is produced again, or reused) then reads this row instead of lexing.
create table debugloop.debug_stf_code_stats (
    stf_id      uuid primary key
                constraint debug_stf_code_stats_stf_fkey references debugloop.debug_transform_functions (stf_id),
    lines       integer not null,  -- lines of code (_stf_lines), at least 1
    literals    integer not null,  -- path or URL string literals
    credentials integer not null,  -- credential-like strings (or util_redact's marker)
    magic       integer not null,  -- numbers other than 0, 1, 2, 10, 100, 0.0, 1.0, 0.5
    branches    integer not null,  -- if, for, while, except, case, and, or, &&, ||, ?, ??
    params      integer not null   -- parameters (from stf_parameters, else the definition)
);
comment on table debugloop.debug_stf_code_stats is
    'Counts in each STF''s code that its generality, size and complexity scores come from; computed once.';

grant insert on debugloop.debug_stf_code_stats to debugloop_owner;
