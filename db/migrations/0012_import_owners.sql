-- 0012 imports belong to the role that made them: every imported session, unit and
-- read position records the role whose import created it (import_units sets it from
-- the caller, never from an argument), so that another agent role cannot change a
-- session's title or reported cost, finish a unit it did not import, add units to a
-- session it did not create, or move a file's read position; an admin still may.
-- Read positions are kept per role: two roles importing the same path each read it
-- from where their own last import stopped. Rows imported before this migration
-- belong to the migrating role (so only an admin changes them).

alter table debugloop.debug_import_sessions add column created_by text not null default current_user;
comment on column debugloop.debug_import_sessions.created_by is 'The role whose import created the session; only it or an admin may change it.';

alter table debugloop.debug_import_units add column created_by text not null default current_user;
comment on column debugloop.debug_import_units.created_by is 'The role whose import created the unit; only it or an admin may finish it.';

alter table debugloop.debug_import_files add column created_by text not null default current_user;
alter table debugloop.debug_import_files drop constraint debug_import_files_pkey;
alter table debugloop.debug_import_files
    add constraint debug_import_files_pkey primary key (source, path, created_by);
comment on column debugloop.debug_import_files.created_by is 'The role whose read position this is: each role reads a file from where its own last import stopped.';
