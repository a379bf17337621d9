"""The review commands (approve, reject, reopen), made once for every kind of item
that has a review workflow: STFs and golden states today, quorum decisions later.

No `from __future__ import annotations` here: the commands' annotations name the
kind of item, so they must be evaluated where the command is made."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

import typer

from .common import AS_JSON, NOTES, REVIEWER, client
from .render import dumps, say

VERBS = {
    "approve": "Approve a pending {noun}{approve} (needs debugloop_admin).",
    "reject": "Reject a pending or approved {noun}{reject} (needs debugloop_admin).",
    "reopen": "Put a decided {noun} back to pending (needs debugloop_admin).",
}


@dataclass(frozen=True)
class Reviewable:
    """How the review commands reach one kind of item."""

    noun: str  # "STF", "golden state"
    manager: Callable[[Any], Any]  # the client's manager of the items: get(id) and review(id, decision, by, notes)
    id_of: Callable[[Any], Any]  # an item's full id
    label: Callable[[Any], str]  # how an item is named in the one-line answer
    list_command: str  # the command whose ids are accepted
    approve: str = ""  # what approval does, for the help
    reject: str = ""


def add_review_commands(app: typer.Typer, kind: Reviewable) -> None:
    for decision, text in VERBS.items():
        _add(app, kind, decision, text.format(noun=kind.noun, approve=kind.approve, reject=kind.reject))


def _add(app: typer.Typer, kind: Reviewable, decision: str, help_text: str) -> None:
    def command(
        item_id: Annotated[
            str,
            typer.Argument(
                metavar="ID",
                show_default=False,
                help=f"The {kind.noun}'s id, or its first 8+ hex digits as `{kind.list_command}` prints them.",
            ),
        ],
        by: REVIEWER = None,
        notes: NOTES = None,
        as_json: AS_JSON = False,
    ) -> None:
        with client() as dl:
            manager = kind.manager(dl)
            item = manager.get(item_id)
            decided = manager.review(kind.id_of(item), decision, by, notes)
        if as_json:
            print(dumps(decided))
        else:
            say(f"{kind.label(decided)} is now {decided.approval_status}")

    command.__doc__ = help_text
    app.command(decision)(command)
