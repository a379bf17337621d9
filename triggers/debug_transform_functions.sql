-- Triggers of debugloop.debug_transform_functions.

-- tg_debug_transform_functions__search: keep what a problem is matched against in
-- step with the STF: the search text, its full-text document (name words weigh
-- most, then description and documentation, then every word of the code) and its
-- SQL embedding. Locks: none.
create or replace function debugloop.tg_debug_transform_functions__search()
returns trigger
language plpgsql
as $$
begin
    new.search_text := debugloop._stf_search_text(new.stf_name, new.stf_description, new.docstring,
                                                   new.problem_category, new.stf_code);
    new.search_document :=
        setweight(to_tsvector('english', debugloop.util_words(new.stf_name)), 'A')
        || setweight(to_tsvector('english', concat_ws(' ', new.stf_description, new.docstring,
                                                      debugloop.util_words(new.problem_category))), 'B')
        || setweight(to_tsvector('english', new.search_text), 'C');
    new.embedding := debugloop.util_embed_sparse(new.search_text);
    return new;
end
$$;

create or replace trigger _010_search
    before insert or update of stf_name, stf_description, docstring, stf_code, problem_category
    on debugloop.debug_transform_functions
    for each row execute function debugloop.tg_debug_transform_functions__search();

-- tg_debug_transform_functions__touch: stamp updated_at. Locks: none.
create or replace function debugloop.tg_debug_transform_functions__touch()
returns trigger
language plpgsql
as $$
begin
    new.updated_at := now();
    return new;
end
$$;

create or replace trigger _020_touch
    before update on debugloop.debug_transform_functions
    for each row execute function debugloop.tg_debug_transform_functions__touch();
