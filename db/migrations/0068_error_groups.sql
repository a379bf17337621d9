-- 0068 error groups (issue 16, item 1): a signature that is new joins the group of a
-- known one when one message is the other cut short (the same type, and the words of
-- one start the words of the other, four telling words at least): an agent's tool
-- output is often cut. group_signature is that group (the signature itself for the
-- first of a group); group_words the words it is compared by
-- (debugloop._error_group_words). The rules are debugloop._error_group_of
-- (functions/30_errors.sql). Signatures stored before this migration are their own
-- group; their words are filled in by the post-apply step's functions on next use
-- (null words never match).
alter table debugloop.debug_error_signatures
    add column group_signature text,
    add column group_words text;
update debugloop.debug_error_signatures set group_signature = signature where group_signature is null;
alter table debugloop.debug_error_signatures alter column group_signature set not null;
comment on column debugloop.debug_error_signatures.group_signature is 'The error group: the signature of the first error of it (a cut message joins the whole one).';
comment on column debugloop.debug_error_signatures.group_words is 'The words of the group key, lower case, placeholders out: what a cut message is compared by.';
create index debug_error_signatures_group_words_idx on debugloop.debug_error_signatures (group_words text_pattern_ops);
create index debug_error_signatures_group_idx on debugloop.debug_error_signatures (group_signature);
