"""The pydantic models agree with the SQL relations they mirror, field for field."""

import inspect
import types
import typing
from datetime import datetime, timedelta
from decimal import Decimal
from uuid import UUID

import pytest

from debugloop import models

PG_TO_PYTHON = {
    "text": str,
    "varchar": str,
    "name": str,
    "bool": bool,
    "int2": int,
    "int4": int,
    "int8": int,
    "numeric": Decimal,
    "float8": float,
    "float4": float,
    "timestamptz": datetime,
    "interval": timedelta,
    "uuid": UUID,
    "jsonb": typing.Any,
    "json": typing.Any,
    "text[]": list[str],
    "uuid[]": list[UUID],
    "vector": typing.Any,
}

MODELS = [
    cls
    for _, cls in inspect.getmembers(models, inspect.isclass)
    if issubclass(cls, models.Row) and cls is not models.Row
]


def _python_type(annotation):
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        assert len(args) == 1, annotation
        return args[0]
    return annotation


def test_every_model_names_its_relation():
    assert MODELS and all(getattr(cls, "__relation__", None) for cls in MODELS)


def _columns(conn, relation: str) -> dict[str, str]:
    """Column name -> type name of a table or view, or of the rows a function returns
    (named by its signature), read from the catalog without running anything. A
    domain's column has its base type."""
    if relation.endswith(")"):
        return dict(
            conn.execute(
                """select coalesce(a.name, t.attname), format_type(debugloop_base.oid, null)
                 from pg_proc p
                 left join lateral unnest(p.proargnames, p.proallargtypes::oid[], p.proargmodes::text[])
                      as a(name, type, mode) on a.mode in ('o', 't')
                 left join pg_type rt on rt.oid = p.prorettype and p.proallargtypes is null
                 left join pg_attribute t on t.attrelid = rt.typrelid and t.attnum > 0 and not t.attisdropped
                 cross join lateral (select coalesce(nullif(d.typbasetype, 0), d.oid) as oid from pg_type d
                                      where d.oid = coalesce(a.type, t.atttypid)) debugloop_base
                where p.oid = %s::regprocedure and coalesce(a.name, t.attname) is not null""",
                (relation,),
            ).fetchall()
        )
    return dict(
        conn.execute(
            """select attname, format_type(coalesce(nullif(d.typbasetype, 0), d.oid), null)
                 from pg_attribute join pg_type d on d.oid = atttypid
                where attrelid = %s::regclass and attnum > 0 and not attisdropped""",
            (relation,),
        ).fetchall()
    )


PG_NAMES = {
    "text": "text",
    "character varying": "text",
    "name": "text",
    "boolean": "bool",
    "smallint": "int2",
    "integer": "int4",
    "bigint": "int8",
    "numeric": "numeric",
    "double precision": "float8",
    "real": "float4",
    "timestamp with time zone": "timestamptz",
    "interval": "interval",
    "uuid": "uuid",
    "jsonb": "jsonb",
    "json": "json",
    "text[]": "text[]",
    "uuid[]": "uuid[]",
    "vector": "vector",
    "halfvec": "vector",
    "sparsevec": "vector",
    "tsvector": "vector",
    # pgvector's types live in schema debugloop, which format_type names when it is not on the path
    "debugloop.vector": "vector",
    "debugloop.halfvec": "vector",
    "debugloop.sparsevec": "vector",
}


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_model_fields_match_relation_columns(conn, model):
    relation = model.__relation__
    columns = {name: PG_NAMES[pg] for name, pg in _columns(conn, relation).items()}
    assert columns, relation
    fields = {name: _python_type(f.annotation) for name, f in model.model_fields.items()}
    assert set(fields) == set(columns), relation
    for name, pg_type in columns.items():
        assert PG_TO_PYTHON[pg_type] == fields[name], f"{relation}.{name}: {pg_type} vs {fields[name]}"
