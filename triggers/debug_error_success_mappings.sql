-- Triggers of debugloop.debug_error_success_mappings.

-- tg_debug_error_success_mappings__confidence: the seed's confidence,
-- max(0.10, min(1.00, s / (s + f))), and the Wilson lower bound beside it, from
-- the counts, whatever client writes the row; and the embedding of the pattern.
-- Locks: none.
create or replace function debugloop.tg_debug_error_success_mappings__confidence()
returns trigger
language plpgsql
as $$
begin
    new.confidence_score := greatest(0.10, least(1.00,
        new.success_count::numeric / greatest(1, new.success_count + new.failure_count)));
    new.wilson_lower_bound := debugloop.error_wilson(new.success_count, new.failure_count);
    if tg_op = 'INSERT' or new.error_pattern is distinct from old.error_pattern then
        new.pattern_embedding := debugloop.util_embed(new.error_pattern)::halfvec;
    end if;
    if tg_op = 'UPDATE' then
        new.updated_at := now();
    end if;
    return new;
end
$$;

create or replace trigger _010_confidence
    before insert or update on debugloop.debug_error_success_mappings
    for each row execute function debugloop.tg_debug_error_success_mappings__confidence();
