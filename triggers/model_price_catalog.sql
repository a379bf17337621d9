-- Triggers of debugloop.model_price_catalog.

-- tg_model_price_catalog__immutable: a price version never changes or disappears,
-- so that every attempt keeps the price it was charged (DL009). A new price is a
-- new version. Locks: none.
create or replace function debugloop.tg_model_price_catalog__immutable()
returns trigger
language plpgsql
as $$
begin
    raise exception 'price versions are immutable: % of % % refused', lower(tg_op), old.provider, old.model_name
        using errcode = 'DL009',
              detail = format('catalog_id %s, effective from %s', old.catalog_id, old.effective_from),
              hint = 'add a new version instead (debugloop.price_set or debugloop.price_import)';
end
$$;

create or replace trigger _010_immutable
    before update or delete on debugloop.model_price_catalog
    for each row execute function debugloop.tg_model_price_catalog__immutable();
