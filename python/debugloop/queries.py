"""The named queries of ``queries.sql``: every statement that Python sends.

A block starts with ``-- name: <name>`` and runs to the next one. Look a query up
with ``Q.<name>`` (an AttributeError names a query that does not exist).
"""

from __future__ import annotations

import re
from pathlib import Path

_NAME = re.compile(r"^--\s*name:\s*([a-z_][a-z0-9_]*)\s*$", re.MULTILINE)


def parse(text: str) -> dict[str, str]:
    queries: dict[str, str] = {}
    parts = _NAME.split(text)
    for name, body in zip(parts[1::2], parts[2::2], strict=True):
        if name in queries:
            raise ValueError(f"query {name!r} is defined twice in queries.sql")
        queries[name] = body.strip().rstrip(";")
    return queries


class _Queries:
    def __init__(self, queries: dict[str, str]) -> None:
        self.__dict__.update(queries)

    def __getattr__(self, name: str) -> str:  # only called for missing names
        raise AttributeError(f"queries.sql has no query named {name!r}")


Q = _Queries(parse((Path(__file__).with_name("queries.sql")).read_text(encoding="utf-8")))
