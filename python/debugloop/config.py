"""All of debugloop's configuration, read from ``DEBUGLOOP_*`` environment variables.

Feature flags also live in the database table ``debugloop.settings`` so that
clients that only speak SQL obey them. A flag left unset here defers to that
table; a flag set here (``DEBUGLOOP_ENABLE_STF_EXTRACTION=false``, or the bare
``ENABLE_STF_EXTRACTION=false``) overrides it for this process's sessions only,
through the custom setting ``debugloop.<flag>`` that the SQL function
``debugloop.settings_get`` reads first.
"""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import AliasChoices, Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from .errors import ConfigurationError
from .paths import default_home

#: The feature flags a process may override for its own sessions. A test checks
#: that these are exactly the session-overridable boolean keys of debugloop.settings.
FLAGS = (
    "enable_stf_extraction",
    "enable_cost_tracking",
    "enable_golden_states",
)


def _flag_field(name: str):
    env = name.upper()
    return Field(
        default=None,
        validation_alias=AliasChoices(f"DEBUGLOOP_{env}", env),
        description=f"Override the database flag {name} for this process (unset: the database decides).",
    )


class Settings(BaseSettings):
    """Process-wide settings. Every field is read from ``DEBUGLOOP_<FIELD>``."""

    model_config = SettingsConfigDict(env_prefix="DEBUGLOOP_", extra="ignore", populate_by_name=True)

    database_url: str | None = Field(
        default=None,
        description="A PostgreSQL >= 16 with pgvector to use instead of the embedded server.",
    )
    home: Path = Field(
        default_factory=default_home,
        description="Where the embedded server keeps its data directory and log.",
    )
    connect_timeout: int = Field(default=10, ge=1, description="Seconds to wait for a connection.")
    pool_size: int = Field(default=4, ge=1, description="Connections a client may hold at once.")

    enable_stf_extraction: bool | None = _flag_field("enable_stf_extraction")
    enable_cost_tracking: bool | None = _flag_field("enable_cost_tracking")
    enable_golden_states: bool | None = _flag_field("enable_golden_states")

    def flag_overrides(self) -> dict[str, bool]:
        """The flags this process sets explicitly, keyed by their database name."""
        return {name: value for name in FLAGS if (value := getattr(self, name)) is not None}


def _variable_name(loc: tuple) -> str:
    """The environment variable behind a validation error's location."""
    field = str(loc[0]).upper() if loc else "?"
    field = field.removeprefix("DEBUGLOOP_")
    prefixed = f"DEBUGLOOP_{field}"
    if field.lower() in FLAGS and prefixed not in os.environ and field in os.environ:
        return field  # the bare flag name was the one given
    return prefixed


def load_settings(**overrides) -> Settings:
    """Read the environment; a bad value becomes a ConfigurationError naming its variable."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise ConfigurationError(
            f"{_variable_name(first['loc'])}: {first['msg']} (got {first.get('input')!r})"
        ) from None
