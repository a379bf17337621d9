"""Python values as the SQL API takes them, in one place: provider objects as JSON,
numbers as exact decimals, embeddings as pgvector literals, exceptions as the
type, message and stack trace that debugloop reads."""

from __future__ import annotations

import dataclasses
import math
import traceback
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import orjson
from psycopg.types.json import Jsonb

from .errors import InvalidParameter


def jsonable(value: Any, field: str) -> Any:
    """A provider response or usage object as plain JSON data (dicts, lists, numbers).

    Accepts dicts and lists, pydantic models (the OpenAI, Anthropic and Google SDKs'
    responses), objects with ``to_dict()``, dataclasses and plain objects.
    """
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, Decimal):  # JSON has no decimal: whole numbers stay numbers, the rest exact text
        return int(value) if value == value.to_integral_value() else str(value)
    if isinstance(value, dict):
        return {str(k): jsonable(v, field) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v, field) for v in value]
    if hasattr(value, "model_dump"):
        return jsonable(value.model_dump(mode="json"), field)
    if hasattr(value, "to_dict"):
        return jsonable(value.to_dict(), field)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return jsonable(dataclasses.asdict(value), field)
    if hasattr(value, "__dict__"):
        return jsonable({k: v for k, v in vars(value).items() if not k.startswith("_")}, field)
    raise InvalidParameter(f"{field} cannot be sent as JSON: {type(value).__name__}", field=field)


def jsonb(value: Any, field: str) -> Jsonb | None:
    """``value`` (see :func:`jsonable`) as a jsonb parameter; None stays SQL null.
    InvalidParameter names ``field`` when the value is nested too deeply to convert."""
    if value is None:
        return None
    try:
        return Jsonb(jsonable(value, field))
    except RecursionError:
        raise InvalidParameter(f"{field} is nested too deeply to be sent as JSON", field=field) from None


def jsonb_fast(value: Any) -> Jsonb:
    """Plain JSON data (dicts, lists, strings, numbers) as a jsonb parameter, dumped
    by orjson: for the importer's large batches."""
    return Jsonb(value, dumps=orjson.dumps)


def to_decimal(value: float | Decimal | None) -> Decimal | None:
    """A score as an exact decimal; through str, so that 0.9 stays 0.9 and not
    0.90000000000000002220..."""
    return None if value is None else Decimal(str(value))


def vector(values: list[float], field: str = "embedding") -> str:
    """A pgvector literal. pgvector refuses NaN and infinite components with a bare
    SQLSTATE before any debugloop function sees them, so they are refused here, as
    InvalidParameter naming ``field``; SQL checks the rest (dimensions, length)."""
    floats = [float(v) for v in values]
    if not all(map(math.isfinite, floats)):
        raise InvalidParameter(f"{field} must hold finite numbers only, not NaN or infinity", field=field)
    return "[" + ",".join(map(str, floats)) + "]"


@dataclass(frozen=True)
class ErrorText:
    """An error as debugloop reads it: its type, message and stack trace."""

    error_type: str | None
    message: str
    stacktrace: str | None = None

    @classmethod
    def of(cls, exc: BaseException) -> ErrorText:
        """From an exception object: its qualified type name, str(), and its formatted
        traceback (with the chain of causes, as Python prints it)."""
        return cls(type_name(exc), str(exc), "".join(traceback.format_exception(exc)))


def type_name(exc: BaseException) -> str:
    """``module.QualName`` of an exception's type, as Python prints it last in a
    traceback (``json.decoder.JSONDecodeError``; builtins without a module)."""
    kind = type(exc)
    return kind.__qualname__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__qualname__}"
