-- 0009 ids as the command line prints them: attempt_get, attempt_chain, attempt_list
-- (its correlation id) and stf_list (its attempt id) take an id or a prefix of at
-- least 8 of its hex digits, as text, like stf_get and golden_get already do. The
-- uuid signatures are dropped here; the reload of functions/ that follows creates
-- the text ones. No view, index or default depends on them.

drop function if exists debugloop.attempt_get(uuid);
drop function if exists debugloop.attempt_chain(uuid);
drop function if exists debugloop.attempt_list(text, text, text, uuid, integer);
drop function if exists debugloop.stf_list(text, text, uuid, integer);
