"""The bases of the models: a row of a relation of the SQL API, and a document."""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, ConfigDict


class Row(BaseModel):
    """A row that the SQL API returns. ``__relation__`` names the relation whose
    columns it mirrors; a test checks the fields' names and types against it."""

    model_config = ConfigDict(frozen=True)
    __relation__: ClassVar[str]


class Document(BaseModel):
    """A part of a jsonb document (the manifest): keys beyond the fields are kept."""

    model_config = ConfigDict(frozen=True, extra="allow")
