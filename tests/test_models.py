"""The pydantic models agree with the SQL relations they mirror, field for field."""

import inspect
import types
import typing
from datetime import datetime
from decimal import Decimal
from uuid import UUID

import pytest

from debugloop import models

PG_TO_PYTHON = {
    "text": str, "varchar": str, "name": str,
    "bool": bool,
    "int2": int, "int4": int, "int8": int,
    "numeric": Decimal, "float8": float,
    "timestamptz": datetime,
    "uuid": UUID,
    "jsonb": typing.Any, "json": typing.Any,
}  # fmt: skip

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


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_model_fields_match_relation_columns(conn, model):
    relation = model.__relation__
    cur = conn.execute(f"select * from {relation} limit 0")
    columns = {
        col.name: conn.adapters.types.get(col.type_code).name for col in cur.description
    }
    fields = {name: _python_type(f.annotation) for name, f in model.model_fields.items()}
    assert set(fields) == set(columns), relation
    for name, pg_type in columns.items():
        assert PG_TO_PYTHON[pg_type] == fields[name], f"{relation}.{name}: {pg_type} vs {fields[name]}"
