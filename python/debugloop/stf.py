"""STFs (reusable functions): splitting code into units, and the registry's SQL API.

Python's part is only what SQL cannot do well: splitting Python source into
function-level units with ``ast`` (functions and methods, with their parameters as
the STF's parameter schema). Hashing, deduplication, trivial-unit rules, scoring,
embedding and matching are SQL (functions/40_stf.sql).
"""

from __future__ import annotations

import ast
import textwrap
from pathlib import PurePosixPath
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any
from uuid import UUID

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from ._manager import Manager
from .errors import InvalidParameter, wrap_exceptions
from .models import Stf, StfExtraction, StfMatch, StfProvenance, StfSummary
from .queries import Q

if TYPE_CHECKING:
    from .neural import NeuralEmbedder

PYTHON_SUFFIXES = (".py", ".pyi")


def _parameters(node: ast.FunctionDef | ast.AsyncFunctionDef) -> list[dict[str, Any]]:
    """The parameter schema of a function: name, kind, annotation and default, as source."""
    args = node.args
    positional = [*args.posonlyargs, *args.args]
    defaults: list[ast.expr | None] = [None] * (len(positional) - len(args.defaults)) + list(args.defaults)
    schema: list[dict[str, Any]] = []

    def add(arg: ast.arg, kind: str, default: ast.expr | None = None) -> None:
        if arg.arg in ("self", "cls") and kind == "positional" and not schema:
            return
        schema.append({
            "name": arg.arg,
            "kind": kind,
            "annotation": ast.unparse(arg.annotation) if arg.annotation is not None else None,
            "default": ast.unparse(default) if default is not None else None,
        })  # fmt: skip

    for arg, default in zip(positional, defaults):
        add(arg, "positional", default)
    if args.vararg:
        add(args.vararg, "var_positional")
    for arg, default in zip(args.kwonlyargs, args.kw_defaults):
        add(arg, "keyword", default)
    if args.kwarg:
        add(args.kwarg, "var_keyword")
    return schema


def split_python(source: str, path: str | None = None) -> list[dict[str, Any]] | None:
    """The functions and methods of Python source as units, or None when it does not
    parse (the caller then keeps the source whole). Nested functions stay inside
    their enclosing function."""
    try:
        tree = ast.parse(textwrap.dedent(source))
    except (SyntaxError, ValueError):
        return None
    text = textwrap.dedent(source)
    lines = text.splitlines(keepends=True)
    units: list[dict[str, Any]] = []

    def visit(body: list[ast.stmt], owner: str | None) -> None:
        for node in body:
            if isinstance(node, ast.ClassDef):
                visit(node.body, f"{owner}.{node.name}" if owner else node.name)
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                start = min([d.lineno for d in node.decorator_list] + [node.lineno]) - 1
                code = textwrap.dedent("".join(lines[start : node.end_lineno]))
                units.append({
                    "name": f"{owner}.{node.name}" if owner else node.name,
                    "code": code,
                    "language": "python",
                    "path": path,
                    "parameters": _parameters(node),
                    "docstring": ast.get_docstring(node),
                })  # fmt: skip

    visit(tree.body, None)
    return units


def split_artifacts(artifacts: dict[str, Any]) -> list[dict[str, Any]]:
    """Function-level units of an attempt's artefacts: Python files and snippets are
    split with ``ast``; other languages, and Python that does not parse, stay whole.
    A unified diff contributes the lines it adds, per file."""
    units: list[dict[str, Any]] = []

    def add(code: str, path: str | None, language: str | None, name: str) -> None:
        is_python = language == "python" or (language is None and path is not None and path.endswith(PYTHON_SUFFIXES))
        split = split_python(code, path) if is_python else None
        if split is not None:
            units.extend(split)
        else:
            units.append({"name": name, "code": code, "language": language, "path": path})

    files = artifacts.get("files")
    if isinstance(files, dict):
        for path, content in files.items():
            if isinstance(content, str):
                add(content, path, None, PurePosixPath(path).name)
    snippets = artifacts.get("snippets")
    if isinstance(snippets, list):
        for i, snippet in enumerate(snippets, 1):
            if isinstance(snippet, dict) and isinstance(snippet.get("code"), str):
                language = snippet.get("language") or (None if snippet.get("path") else "python")
                add(snippet["code"], snippet.get("path"), language, snippet.get("name") or f"snippet {i}")
    diff = artifacts.get("diff")
    if isinstance(diff, str):
        for path, added in _diff_added(diff).items():
            add(added, path, None, f"{PurePosixPath(path).name} (diff)")
    for unit in units:
        if unit.get("language") is None and unit.get("path"):
            unit.pop("language")  # SQL names the language from the path
    return units


def _diff_added(diff: str) -> dict[str, str]:
    added: dict[str, list[str]] = {}
    path = None
    for line in diff.splitlines():
        if line.startswith("+++ "):
            path = line[4:].split("\t")[0].removeprefix("b/")
            path = None if path == "/dev/null" else path
        elif line.startswith("+") and path is not None:
            added.setdefault(path, []).append(line[1:])
    return {p: "\n".join(lines) + "\n" for p, lines in added.items()}


def with_units(artifacts: Any) -> Any:
    """Artefacts with the units the Python client split them into, under "units"
    (stf_extract then registers those rather than whole files)."""
    if not isinstance(artifacts, dict) or "units" in artifacts:
        return artifacts
    units = split_artifacts(artifacts)
    return {**artifacts, "units": units} if units else artifacts


class StfManager(Manager):
    """``debugloop.stf_*``: the registry of reusable functions."""

    def register(self, name: str, code: str, *, language: str = "python", description: str | None = None,
                 problem_category: str | None = None, source_attempt_id: UUID | None = None,
                 contributor: str | None = None, parameters: Any = None, docstring: str | None = None,
                 conn: psycopg.Connection | None = None) -> UUID:  # fmt: skip
        """Register code; the same normalised code returns the existing id (adding provenance)."""
        params = {"name": name, "code": code, "language": language, "description": description,
                  "problem_category": problem_category, "source_attempt_id": source_attempt_id,
                  "contributor": contributor, "parameters": None if parameters is None else Jsonb(parameters),
                  "docstring": docstring}  # fmt: skip
        return self._value(Q.stf_register, params, conn)

    def get(self, stf_id: UUID | str, conn: psycopg.Connection | None = None) -> Stf:
        """One STF by its id or a unique prefix of at least 8 hex digits."""
        return self._model(Stf, Q.stf_get, {"stf_id": str(stf_id)}, conn)

    def list(self, *, status: str | None = None, language: str | None = None, attempt_id: UUID | None = None,
             limit: int = 50, conn: psycopg.Connection | None = None) -> list[StfSummary]:  # fmt: skip
        """STFs by quality; ``attempt_id``: only those that attempt produced."""
        params = {"status": status, "language": language, "attempt_id": attempt_id, "limit": limit}
        return self._models(StfSummary, Q.stf_list, params, conn)

    def provenance(self, stf_id: UUID, conn: psycopg.Connection | None = None) -> list[StfProvenance]:
        """Every attempt and contributor that produced this STF's code, first first."""
        return self._models(StfProvenance, Q.stf_provenance, {"stf_id": stf_id}, conn)

    def export(self, *, status: str | None = None, language: str | None = None,
               conn: psycopg.Connection | None = None) -> Iterator[dict[str, Any]]:  # fmt: skip
        """Every STF with its scores, provenance count and code, oldest first, streamed
        from a server-side cursor (one transaction)."""
        with self._client.connection(conn) as c, wrap_exceptions(), c.cursor("stf_export", row_factory=dict_row) as cur:
            cur.itersize = 500
            cur.execute(Q.stf_export, {"status": status, "language": language})
            yield from cur

    def match(self, problem: str, *, k: int = 5, language: str | None = None, problem_category: str | None = None,
              approved_only: bool = False, embedder: NeuralEmbedder | None = None,
              conn: psycopg.Connection | None = None) -> list[StfMatch]:  # fmt: skip
        """The STFs for a problem, best first. With an ``embedder`` (debugloop.neural),
        the problem is embedded by that model and compared with the STFs it embedded."""
        vector = None if embedder is None else _vector(embedder.embed([problem])[0])
        params = {"problem": problem, "k": k, "language": language, "problem_category": problem_category,
                  "approved_only": approved_only, "query_embedding": vector,
                  "embedding_model": None if embedder is None else embedder.model}  # fmt: skip
        return self._models(StfMatch, Q.stf_match, params, conn)

    def embed_neural(self, embedder: NeuralEmbedder, *, batch_size: int = 64,
                     progress: Callable[[int, int], None] | None = None) -> int:  # fmt: skip
        """Give every STF not yet embedded by ``embedder``'s model its neural embedding,
        a batch per transaction (an interruption keeps the batches done). Returns how
        many; ``progress(done, total)`` is called after each batch."""
        total = self._value(Q.stf_to_embed_count, {"model": embedder.model})
        done, after = 0, UUID(int=0)
        while True:
            rows = self._rows(Q.stf_to_embed, {"model": embedder.model, "after": after, "limit": batch_size})
            if not rows:
                return done
            vectors = embedder.embed([row["search_text"] for row in rows])
            with self._client.connection() as c, wrap_exceptions(), c.cursor() as cur:
                cur.executemany(Q.stf_set_neural_embedding, [
                    {"stf_id": row["stf_id"], "embedding": _vector(v), "model": embedder.model}
                    for row, v in zip(rows, vectors)])  # fmt: skip
            done, after = done + len(rows), rows[-1]["stf_id"]
            if progress is not None:
                progress(done, total)

    def hash(self, code: str, language: str = "python", conn: psycopg.Connection | None = None) -> str:
        return self._value(Q.stf_hash, {"code": code, "language": language}, conn)

    def record_use(self, stf_id: UUID, attempt_id: UUID, success: bool, conn: psycopg.Connection | None = None) -> Stf:
        """An attempt reused an STF; ``success`` is how that attempt ended."""
        return self._model(Stf, Q.stf_record_use, {"stf_id": stf_id, "attempt_id": attempt_id, "success": success}, conn)

    def extract(self, attempt_id: UUID, conn: psycopg.Connection | None = None) -> list[StfExtraction]:
        """Register the code of an attempt's artefacts (done by a trigger when it succeeds)."""
        return self._models(StfExtraction, Q.stf_extract, {"attempt_id": attempt_id}, conn)

    def review(self, stf_id: UUID, decision: str, by: str, notes: str | None = None,
               conn: psycopg.Connection | None = None) -> Stf:  # fmt: skip
        """``decision``: approve, reject or reopen (needs debugloop_admin)."""
        queries = {"approve": Q.stf_approve, "reject": Q.stf_reject, "reopen": Q.stf_reopen}
        return self._review(queries, Stf, {"stf_id": stf_id, "by": by, "notes": notes}, decision, conn)

    def set_neural_embedding(self, stf_id: UUID, embedding: list[float], model: str,
                             conn: psycopg.Connection | None = None) -> None:  # fmt: skip
        """Store a neural embedding of an STF computed elsewhere (384 dimensions)."""
        self._rows(Q.stf_set_neural_embedding, {"stf_id": stf_id, "embedding": _vector(embedding), "model": model}, conn)


def _vector(values: list[float]) -> str:
    """A pgvector literal."""
    return "[" + ",".join(map(str, values)) + "]"
