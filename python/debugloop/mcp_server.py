"""``debugloop mcp``: the read side of the SQL API as MCP tools, over stdio, with
the official ``mcp`` Python SDK (``pip install 'debugloop[mcp]'``).

Each tool is one manager call and returns what it returns (the SQL API's rows as
the models of ``debugloop.models``, whose JSON Schemas are the tools' output
schemas; amounts are exact decimal strings): ``manifest``, ``error_fixes``,
``known_failures``, ``stf_search``, ``golden_search``, ``cost_estimate``; with
``write``, also ``attempt_start`` and ``attempt_finish`` for agents that record
themselves. The server holds no rule of its own.

Who is who: every call records the agent (``agent_name``, else the client's own
name from the MCP handshake, else ``mcp``), this server's session and the project
(the working directory) with ``agent_session_record``. The database is reached
as the command line reaches it (DEBUGLOOP_DATABASE_URL, else the running embedded
server), on the first call; the server starts without it.
"""

import getpass
import os
import sys
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Annotated, Any, Literal

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import ToolAnnotations
from pydantic import BaseModel, Field

from . import __version__, db
from .client import Client
from .config import load_settings
from .errors import DebugloopError
from .models import Attempt, CostEstimate, ErrorFix, GoldenMatch, KnownFailure, Manifest, StfMatch

INSTRUCTIONS = (
    "debugloop is the memory of a team of coding agents. Before you work on a task, call `manifest` with it: "
    "reusable functions, proven solutions, approaches that already failed, errors you may meet and their fixes, "
    "and the cost. When a command or test fails, call `error_fixes` with the error message."
)
READ = ToolAnnotations(readOnlyHint=True, idempotentHint=True, openWorldHint=False)
WRITE = ToolAnnotations(readOnlyHint=False, destructiveHint=False, idempotentHint=False, openWorldHint=False)

Problem = Annotated[str, Field(min_length=1, description="The task or problem, in the words of the request.")]
K = Annotated[int, Field(ge=1, le=20, description="How many items at most (per section for the manifest).")]


class AttemptStarted(BaseModel):
    """What ``attempt_start`` returns: the new attempt's id (pass it to ``attempt_finish``)."""

    attempt_id: uuid.UUID


class _Backend:
    """The client, made on the first call (the server starts without a database),
    and the who-is-who record of each call."""

    def __init__(self, agent_name: str | None) -> None:
        self.agent_name = agent_name
        self.session_key = str(uuid.uuid4())
        self.project = os.getcwd()
        self._client: Client | None = None
        self._lock = threading.Lock()

    def client(self) -> Client:
        with self._lock:
            if self._client is None:
                settings = load_settings()
                self._client = Client(db.resolve(settings), settings)
            return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()

    @staticmethod
    def _client_info(ctx: Context | None) -> tuple[str | None, str | None]:
        try:
            info = ctx.session.client_params.client_info
            return info.name, f"{info.name} {info.version}".strip()
        except AttributeError:
            return None, None

    def agent(self, ctx: Context | None) -> str:
        return self.agent_name or self._client_info(ctx)[0] or "mcp"

    @contextmanager
    def call(self, ctx: Context | None, tool: str) -> Iterator[Client]:
        """The client for one tool call, after recording the call for the agent's
        session (a record that fails, for another role's session, does not fail the
        call); an error of debugloop's or the SQL API's becomes the tool's error,
        with its message."""
        try:
            yield self._recorded(ctx, tool)
        except DebugloopError as exc:
            raise ToolError(str(exc)) from exc

    def _recorded(self, ctx: Context | None, tool: str) -> Client:
        dl = self.client()
        try:
            dl.agents.record(
                self.agent(ctx),
                self.session_key,
                "mcp",
                tool,
                project=self.project,
                os_user=_os_user(),
                client=self._client_info(ctx)[1],
            )
        except DebugloopError as exc:
            print(f"debugloop mcp: the call was not recorded: {exc}", file=sys.stderr)
        return dl


def _os_user() -> str | None:
    try:
        return getpass.getuser()
    except Exception:  # no user name is no reason to fail a call
        return None


def build(*, write: bool = False, agent_name: str | None = None) -> tuple[MCPServer, _Backend]:
    """The MCP server and its backend; ``write`` adds attempt_start and attempt_finish."""
    server = MCPServer(name="debugloop", title="debugloop", version=__version__, instructions=INSTRUCTIONS)
    backend = _Backend(agent_name)

    @server.tool(title="What the next agent should know", annotations=READ)
    def manifest(
        problem: Problem,
        k: K = 5,
        model: Annotated[str | None, Field(description="The model you will use, for the cost estimate.")] = None,
        ctx: Context | None = None,
    ) -> Manifest:
        """The manifest for a problem (debugloop.manifest): reusable functions (stfs, with
        code), proven solutions (golden_states), approaches that failed here and never
        succeeded (known_failures), errors met at similar problems with their best fix
        (error_fixes), and the cost (cost: estimate, cheaper models). A section is absent
        when nothing is known."""
        with backend.call(ctx, "manifest") as dl:
            return dl.manifest(problem, backend.agent(ctx), model, k)

    @server.tool(title="Fixes for an error", annotations=READ)
    def error_fixes(
        message: Annotated[str, Field(min_length=1, description="The error message, as printed.")],
        error_type: Annotated[str | None, Field(description="The exception type or the failing tool.")] = None,
        stacktrace: Annotated[str | None, Field(description="The stack trace, if any.")] = None,
        k: K = 5,
        ctx: Context | None = None,
    ) -> list[ErrorFix]:
        """The approaches that fixed this error before (debugloop.error_fixes), ranked:
        its exact signature first (match "exact"), then similar errors ("similar"), each
        with its confidence and how often it succeeded and failed."""
        with backend.call(ctx, "error_fixes") as dl:
            return dl.errors.fixes(message, error_type=error_type, stacktrace=stacktrace, k=k)

    @server.tool(title="Approaches known to fail", annotations=READ)
    def known_failures(
        request: Annotated[str, Field(min_length=1, description="The task you work on.")],
        k: K = 5,
        ctx: Context | None = None,
    ) -> list[KnownFailure]:
        """Approaches that failed for this request or similar ones and never succeeded
        (debugloop.error_known_failures), with the errors they met: do not repeat them."""
        with backend.call(ctx, "known_failures") as dl:
            return dl.errors.known_failures(request, k)

    @server.tool(title="Reusable functions for a problem", annotations=READ)
    def stf_search(
        problem: Problem,
        language: Annotated[str | None, Field(description="Only this language (python, typescript, ...).")] = None,
        k: K = 5,
        ctx: Context | None = None,
    ) -> list[StfMatch]:
        """Reusable functions (STFs) that fit a problem (debugloop.stf_match), best first,
        with similarity, confidence, quality, success rate and code."""
        with backend.call(ctx, "stf_search") as dl:
            return dl.stfs.match(problem, k=k, language=language)

    @server.tool(title="Proven solutions to similar problems", annotations=READ)
    def golden_search(problem: Problem, k: K = 5, ctx: Context | None = None) -> list[GoldenMatch]:
        """Golden states (proven solutions) of similar problems (debugloop.golden_match),
        best first, with the solution, its model, tools, STFs, quality and cost."""
        with backend.call(ctx, "golden_search") as dl:
            return dl.golden.match(problem, k=k)

    @server.tool(title="What a request will cost", annotations=READ)
    def cost_estimate(
        request: Annotated[str, Field(min_length=1, description="The task.")],
        model: Annotated[str, Field(min_length=1, description="The model, as the price catalog names it.")],
        ctx: Context | None = None,
    ) -> CostEstimate:
        """The p50 and p90 tokens and USD cost of the request with the model, from past
        attempts at the same or similar requests (debugloop.attempt_estimate); basis
        "none" and 0 samples when there are none."""
        with backend.call(ctx, "cost_estimate") as dl:
            return dl.prices.estimate_for_request(request, model)

    if write:

        @server.tool(title="Record the start of an attempt", annotations=WRITE)
        def attempt_start(
            user_request: Annotated[str, Field(min_length=1, description="The task, in the user's words.")],
            model: Annotated[str | None, Field(description="The model that works on it.")] = None,
            approach_description: Annotated[str | None, Field(description="How you will go about it.")] = None,
            correlation_id: Annotated[
                uuid.UUID | None, Field(description="The task's id, shared by its retries.")
            ] = None,
            parent_attempt_id: Annotated[uuid.UUID | None, Field(description="The attempt this one retries.")] = None,
            ctx: Context | None = None,
        ) -> AttemptStarted:
            """Record that you start an attempt at a task (debugloop.attempt_start) as this
            server's agent; a retry names the attempt it retries. Returns the attempt's id."""
            with backend.call(ctx, "attempt_start") as dl:
                attempt_id = dl.attempts.start(
                    backend.agent(ctx),
                    user_request,
                    model,
                    correlation_id=correlation_id,
                    parent_attempt_id=parent_attempt_id,
                    approach_description=approach_description,
                )
            return AttemptStarted(attempt_id=attempt_id)

        @server.tool(title="Record how an attempt ended", annotations=WRITE)
        def attempt_finish(
            attempt_id: Annotated[uuid.UUID, Field(description="What attempt_start returned.")],
            status: Literal["success", "error", "timeout", "cancelled"],
            usage: Annotated[
                dict[str, Any] | list[dict[str, Any]] | None,
                Field(description="The provider's usage object(s), one per LLM call, as the API returned them."),
            ] = None,
            error_type: str | None = None,
            error_message: str | None = None,
            error_stacktrace: str | None = None,
            quality_score: Annotated[Decimal | None, Field(ge=0, le=1)] = None,
            artifacts: Annotated[
                dict[str, Any] | None,
                Field(
                    description='What it produced: {"files": {path: content}, ...}; where the code lives, optionally:'
                    ' "repository", "branch", "commit_sha", and a snippet\'s "path" and "line_start".'
                ),
            ] = None,
            ctx: Context | None = None,
        ) -> Attempt:
            """Record how an attempt ended (debugloop.attempt_finish): its status, usage
            (priced exactly), error and artefacts (their functions become STFs). Returns
            the finished attempt with its cost."""
            with backend.call(ctx, "attempt_finish") as dl:
                return dl.attempts.finish(
                    attempt_id,
                    status,
                    usage=usage,
                    error_type=error_type,
                    error_message=error_message,
                    error_stacktrace=error_stacktrace,
                    quality_score=quality_score,
                    artifacts=artifacts,
                )

    return server, backend


def serve(*, write: bool = False, agent_name: str | None = None) -> None:
    """Run the server on standard input and output until the client closes it."""
    server, backend = build(write=write, agent_name=agent_name)
    try:
        server.run("stdio")
    finally:
        backend.close()
