"""The Python entry point: ``debugloop.connect()`` returns a :class:`Client`.

A client holds a small connection pool and one manager per domain. Every manager
method takes an optional ``conn``: pass your own connection to make the call part
of your transaction (you commit); leave it out and the call runs in a transaction
of its own on a pooled connection.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from uuid import UUID

import psycopg
from psycopg_pool import ConnectionPool

from . import db
from .agents import AgentsManager
from .analytics import AnalyticsManager
from .attempts import AttemptRecorder, AttemptsManager
from .budgets import BudgetsManager
from .cache import BalanceCache
from .config import Settings, load_settings
from .errors import SchemaNotMigrated, wrap_exceptions
from .errors_manager import ErrorsManager
from .golden import GoldenManager
from .importers import ImportManager
from .learning import LearningManager
from .ledger import LedgerManager
from .manifest import ManifestManager
from .meta import MetaManager
from .migrate import expected_version, migrate
from .peers import PeersManager
from .pricing import PricesManager
from .queries import Q
from .rewards import RewardsManager
from .settings import SettingsManager
from .spending import SpendingManager
from .stf import StfManager


class Client:
    """A connection to one debugloop database."""

    def __init__(self, target: db.Target, settings: Settings) -> None:
        self.target = target
        self.config = settings
        # Fail fast, with the reason, before a pool would retry in the background.
        with db.connect(target, settings) as probe:
            self._check_schema(probe)
        # Autocommit: a manager call is one statement, atomic on its own, so it needs
        # no BEGIN/COMMIT round trips; connection() opens a transaction explicitly.
        self._pool = ConnectionPool(
            target.conninfo,
            kwargs={
                "connect_timeout": settings.connect_timeout,
                "options": db.session_options(settings, target.conninfo),
                "autocommit": True,
            },
            min_size=1,
            max_size=settings.pool_size,
            open=True,
            name="debugloop",
        )
        self.meta = MetaManager(self)
        self.manifests = ManifestManager(self)
        # the calls an agent framework makes most, on the client itself
        self.manifest = self.manifests.get
        self.manifest_markdown = self.manifests.markdown
        self.version = self.meta.version
        self.settings = SettingsManager(self)
        self.attempts = AttemptsManager(self)
        self.prices = PricesManager(self)
        self.analytics = AnalyticsManager(self)
        self.errors = ErrorsManager(self)
        self.stfs = StfManager(self)
        self.golden = GoldenManager(self)
        self.imports = ImportManager(self)
        self.agents = AgentsManager(self)
        self.peers = PeersManager(self)
        self.cache = BalanceCache(settings.valkey_url, ttl=settings.cache_ttl) if settings.valkey_url else None
        self.ledger = LedgerManager(self, cache=self.cache)
        self.rewards = RewardsManager(self)
        self.learning = LearningManager(self)
        self.spending = SpendingManager(self)
        self.budgets = BudgetsManager(self)

    @staticmethod
    def _check_schema(conn: psycopg.Connection) -> None:
        with wrap_exceptions():
            if not conn.execute(Q.schema_exists).fetchone()[0]:
                raise SchemaNotMigrated("the database has no debugloop schema: run `debugloop db migrate`")
            have, need = conn.execute(Q.version).fetchone()[0], expected_version()
        if have < need:
            raise SchemaNotMigrated(
                f"the debugloop schema is at version {have}, this package needs {need}: run `debugloop db migrate`"
            )

    @contextmanager
    def connection(self, conn: psycopg.Connection | None = None) -> Iterator[psycopg.Connection]:
        """``conn`` itself when given (the caller owns the transaction), else a pooled
        connection in a transaction that commits when the block succeeds and rolls
        back when it raises. Pass it as ``conn=`` to group manager calls."""
        if conn is not None:
            yield conn
            return
        with wrap_exceptions(), self._pool.connection() as pooled, pooled.transaction():
            yield pooled

    @contextmanager
    def statement(self, conn: psycopg.Connection | None = None) -> Iterator[psycopg.Connection]:
        """For one statement: ``conn`` when given, else a pooled autocommit connection."""
        if conn is not None:
            yield conn
            return
        with wrap_exceptions(), self._pool.connection() as pooled:
            yield pooled

    def attempt(
        self, agent_name: str, user_request: str, model: str | None = None, *, fallback: bool = False, **start
    ) -> AttemptRecorder:
        """Record one attempt around a block of work::

            with dl.attempt(agent_name="fixer", user_request=task, model="gpt-4o") as a:
                response = llm.chat(...)
                a.record_usage(response)       # a response, a usage object, or several

        The start is recorded on entry. On a normal exit the attempt finishes with
        success; on an exception, with error (timeout for TimeoutError, cancelled for
        KeyboardInterrupt and task cancellation) and the exception's type, message
        and stack trace, and the exception goes on. ``start`` takes the other
        arguments of :meth:`AttemptsManager.start` (``estimate_usd`` among them).

        With ``enable_token_spending`` on, entering reserves the attempt's cost and
        the finish settles it. A balance that cannot pay raises InsufficientBalance
        on entry, before anything is recorded; with ``fallback=True`` the attempt is
        recorded on the cheaper model the refusal names instead, and ``a.model`` is
        the model to call (``a.requested_model`` the one asked for).
        """
        return AttemptRecorder(self.attempts, agent_name, user_request, model, start, fallback)

    def task(self, user_request: str, *, agent_name: str | None = None, correlation_id: UUID | None = None):
        """The LLM calls that wrapped clients or the LiteLLM callback record in this
        block (``debugloop.integrations``) become attempts at one task: one
        correlation id, this request, this agent::

            with dl.task("Fix the failing invoice test", agent_name="fixer") as t:
                client.chat.completions.create(...)    # a wrapped client
            dl.attempts.chain(t.correlation_id)
        """
        from .integrations import task  # the core never imports the integrations at load

        return task(user_request, agent_name=agent_name, correlation_id=correlation_id)

    def close(self) -> None:
        self._pool.close()
        if self.cache is not None:
            self.cache.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def connect(url: str | None = None, *, migrate_schema: bool = False, settings: Settings | None = None) -> Client:
    """Connect to debugloop.

    ``url``: any libpq connection string; default ``DEBUGLOOP_DATABASE_URL``, else the
    embedded server (started if it is not running). ``migrate_schema``: apply pending
    migrations first; otherwise an unmigrated database raises SchemaNotMigrated.
    """
    settings = settings or load_settings()
    target = db.resolve(settings, url, start=True)
    if migrate_schema:
        migrate(target.conninfo, source=target.source)
    return Client(target, settings)
