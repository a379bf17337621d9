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

from pydantic import AliasChoices, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from .errors import ConfigurationError
from .paths import default_home

#: The feature flags a process may override for its own sessions. A test checks
#: that these are exactly the session-overridable boolean keys of debugloop.settings.
FLAGS = (
    "enable_stf_extraction",
    "enable_cost_tracking",
    "enable_golden_states",
    "import_defer_learning",
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

    kafka_bootstrap: str | None = Field(
        default=None,
        description="Kafka bootstrap servers (host:port, comma-separated) for the outbox relay; unset: the outbox fills.",
    )
    valkey_url: str | None = Field(
        default=None,
        description="The Valkey/Redis of the balance cache (redis://host:port/db); unset: balances come from PostgreSQL.",
    )
    topic_transactions: str = Field(
        default="token.transactions.v1", pattern=r"^[A-Za-z0-9._-]{1,249}$", description="The transactions topic."
    )
    topic_balances: str = Field(
        default="token.balances.v1", pattern=r"^[A-Za-z0-9._-]{1,249}$", description="The compacted balances topic."
    )
    topic_alerts: str = Field(
        default="spend.alerts.v1", pattern=r"^[A-Za-z0-9._-]{1,249}$", description="The topic of spending alerts."
    )
    topic_partitions: int = Field(default=10, ge=1, le=10000, description="Partitions of each topic.")
    topic_replication: int = Field(default=1, ge=1, le=100, description="Replication factor of topics it creates.")
    relay_batch_size: int = Field(default=2000, ge=1, le=100000, description="Events the relay sends per batch.")
    relay_poll_interval: float = Field(
        default=0.01, gt=0, le=60, description="Seconds the relay waits when the outbox has nothing pending."
    )
    relay_flush_timeout: float = Field(
        default=30, gt=0, le=600, description="Seconds the relay waits for a batch's acks before it backs off."
    )
    relay_learn_rows: int = Field(
        default=100,
        ge=0,
        le=100000,
        description="Queued attempts the relay learns per transaction between batches (learn_pending); 0: none.",
    )
    relay_prune_interval: float = Field(
        default=60, gt=0, le=86400, description="Seconds between the relay's prunes of published outbox events."
    )
    cache_ttl: int = Field(default=3600, ge=1, description="Seconds a cached balance lives in Valkey.")

    enable_stf_extraction: bool | None = _flag_field("enable_stf_extraction")
    enable_cost_tracking: bool | None = _flag_field("enable_cost_tracking")
    enable_golden_states: bool | None = _flag_field("enable_golden_states")
    import_defer_learning: bool | None = _flag_field("import_defer_learning")

    @field_validator("kafka_bootstrap")
    @classmethod
    def _bootstrap(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        for server in value.split(","):
            host, _, port = server.strip().rpartition(":")
            if not host or not port.isdigit() or not 0 < int(port) < 65536:
                raise ValueError(f"expected host:port[,host:port...], got {server.strip()!r}")
        return value.strip()

    @field_validator("valkey_url")
    @classmethod
    def _valkey(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        if not value.startswith(("redis://", "rediss://", "unix://", "valkey://", "valkeys://")):
            raise ValueError("expected a redis://, rediss:// or unix:// URL")
        return value.strip()

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
