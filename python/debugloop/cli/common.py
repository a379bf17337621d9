"""What the command groups share: the client, the embedded server guard, and the
options that several commands take (output formats, reviewers, ids)."""

from __future__ import annotations

from typing import Annotated

import typer

from .. import db
from ..client import Client
from ..config import load_settings
from ..embedded import EmbeddedServer
from ..errors import ConfigurationError


def client(url: str | None = None) -> Client:
    """A client on the configured database (``url`` overrides it); the command line
    never starts the embedded server by itself."""
    settings = load_settings()
    return Client(db.resolve(settings, url), settings)


def embedded_only(action: str) -> EmbeddedServer:
    """The embedded server, or a one-line error when an external database is configured."""
    settings = load_settings()
    if settings.database_url is not None:
        raise ConfigurationError(
            f"{db.ENV_URL} is set: debugloop does not {action} an external server; unset it to use the embedded one"
        )
    return EmbeddedServer(settings.home)


def group(help: str) -> typer.Typer:
    """A command group: its help, and the help printed when it is called bare."""
    return typer.Typer(help=help, no_args_is_help=True)


AS_JSON = Annotated[
    bool, typer.Option("--json", help="Print JSON (the rows of the SQL API, exact numbers) instead of a table.")
]
AS_CSV = Annotated[bool, typer.Option("--csv", help="Print CSV instead of a table.")]
LIMIT = Annotated[int, typer.Option(min=1, help="How many at most.")]
REVIEWER = Annotated[
    str | None,
    typer.Option(
        "--by", help="The person you decide for, kept as a note: the review is recorded as your database role."
    ),
]
NOTES = Annotated[str | None, typer.Option(help="Why, kept in the review log.")]
