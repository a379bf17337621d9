"""Settings, the installed components and the public SQL API."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from .base import Row


class Setting(Row):
    """A row of ``debugloop.v_settings``."""

    __relation__ = "debugloop.v_settings"

    key: str
    value: Any
    effective_value: Any
    value_type: str
    overridable: bool
    min_value: Decimal | None
    max_value: Decimal | None
    description: str
    updated_at: datetime
    updated_by: str


class ApiEntry(Row):
    """A row of ``debugloop.v_api``: one public function or view."""

    __relation__ = "debugloop.v_api"

    kind: str
    name: str
    arguments: str
    returns: str
    summary: str
    security_definer: bool


class Component(Row):
    """A row of ``debugloop.info()``."""

    __relation__ = "debugloop.info()"

    component: str
    version: str | None
