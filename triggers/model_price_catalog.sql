-- Triggers of debugloop.model_price_catalog.

-- tg_model_price_catalog__immutable: an UPDATE or DELETE of a price version is
-- refused (debugloop._price_refuse_change, DL009). Locks: none.
create or replace function debugloop.tg_model_price_catalog__immutable()
returns trigger
language plpgsql
as $$
begin
    perform debugloop._price_refuse_change(tg_op, old);
    return null;
end
$$;

create or replace trigger _010_immutable
    before update or delete on debugloop.model_price_catalog
    for each row execute function debugloop.tg_model_price_catalog__immutable();
