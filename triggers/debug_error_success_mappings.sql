-- Triggers of debugloop.debug_error_success_mappings.

-- tg_debug_error_success_mappings__confidence: the confidence, the Wilson lower
-- bound and the pattern's embedding follow the row, whatever client writes it
-- (debugloop._error_set_mapping_scores); an update stamps updated_at. Locks: none.
create or replace function debugloop.tg_debug_error_success_mappings__confidence()
returns trigger
language plpgsql
as $$
begin
    new := debugloop._error_set_mapping_scores(new, old);
    if tg_op = 'UPDATE' then
        new.updated_at := now();
    end if;
    return new;
end
$$;

create or replace trigger _010_confidence
    before insert or update on debugloop.debug_error_success_mappings
    for each row execute function debugloop.tg_debug_error_success_mappings__confidence();
