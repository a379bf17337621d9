"""Splitting an attempt's artefacts into function-level units, before SQL registers
them as STFs.

Python's part is only what SQL cannot do well: splitting Python source into
function-level units with ``ast`` (functions and methods, with their parameters as
the STF's parameter schema). Hashing, deduplication, trivial-unit rules, scoring,
embedding and matching are SQL (functions/40_stf.sql). The attempt recorder and
the importers both send artefacts through :func:`with_units`.
"""

from __future__ import annotations

import ast
import copy
import hashlib
import re
import textwrap
from pathlib import PurePosixPath
from typing import Any

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
        schema.append(
            {
                "name": arg.arg,
                "kind": kind,
                "annotation": ast.unparse(arg.annotation) if arg.annotation is not None else None,
                "default": ast.unparse(default) if default is not None else None,
            }
        )

    for arg, default in zip(positional, defaults, strict=True):
        add(arg, "positional", default)
    if args.vararg:
        add(args.vararg, "var_positional")
    for arg, default in zip(args.kwonlyargs, args.kw_defaults, strict=True):
        add(arg, "keyword", default)
    if args.kwarg:
        add(args.kwarg, "var_keyword")
    return schema


def split_python(source: str, path: str | None = None) -> list[dict[str, Any]] | None:
    """The functions and methods of Python source as units, or None when it does not
    parse (the caller then keeps the source whole). Nested functions stay inside
    their enclosing function. The same source and path are split once per process
    (the same file is written in many sessions of a log): each call gets its own
    copy of the units."""
    key = (hashlib.blake2b(source.encode("utf-8", "surrogatepass"), digest_size=16).digest(), path)
    if key in _SPLIT_CACHE:
        units = _SPLIT_CACHE.pop(key)
    else:
        units = _split_python(source, path)
        if len(_SPLIT_CACHE) >= SPLIT_CACHE_SIZE:
            del _SPLIT_CACHE[next(iter(_SPLIT_CACHE))]  # the least recently used
    _SPLIT_CACHE[key] = units
    return copy.deepcopy(units) if units is not None else None


# split_python's results by (BLAKE2b of the source, path), least recently used first
SPLIT_CACHE_SIZE = 1024
_SPLIT_CACHE: dict[tuple[bytes, str | None], list[dict[str, Any]] | None] = {}


def _split_python(source: str, path: str | None) -> list[dict[str, Any]] | None:
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
                units.append(
                    {
                        "name": f"{owner}.{node.name}" if owner else node.name,
                        "code": code,
                        "language": "python",
                        "path": path,
                        "parameters": _parameters(node),
                        "docstring": ast.get_docstring(node),
                        # lines within `source`, 1-based and inclusive
                        "line_start": start + 1,
                        "line_end": node.end_lineno,
                    }
                )

    visit(tree.body, None)
    return units


def _first_line(value: Any) -> int | None:
    """A snippet's ``line_start`` when it is a line number (a whole number >= 1)."""
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 1 else None


def split_artifacts(artifacts: dict[str, Any]) -> list[dict[str, Any]]:
    """Function-level units of an attempt's artefacts: Python files and snippets are
    split with ``ast``; other languages, and Python that does not parse, stay whole.
    A unified diff contributes the lines it adds, per file. Each unit carries its
    lines in its file (``line_start``, ``line_end``) where they are known: a file's
    are its own, a snippet's count from its ``line_start``, a diff's are the new
    file's lines that its hunks name."""
    units: list[dict[str, Any]] = []

    def add(code: str, path: str | None, language: str | None, name: str, lines: list[int] | int | None) -> None:
        """`lines`: the file's line of each line of `code` (a list), the file's line of
        its first (an int), or None when not known."""

        def at(n: int) -> int:
            if isinstance(lines, list):
                return lines[min(n, len(lines)) - 1]
            return (lines or 1) + n - 1

        is_python = language == "python" or (language is None and path is not None and path.endswith(PYTHON_SUFFIXES))
        split = split_python(code, path) if is_python else None
        if split is None:
            split = [{"name": name, "code": code, "language": language, "path": path, "line_start": 1}]
            split[0]["line_end"] = max(1, len(code.splitlines()))
        for unit in split:
            if lines is None or not path:
                unit.pop("line_start", None)
                unit.pop("line_end", None)
            else:
                unit["line_start"], unit["line_end"] = at(unit["line_start"]), at(unit["line_end"])
        units.extend(split)

    files = artifacts.get("files")
    if isinstance(files, dict):
        for path, content in files.items():
            if isinstance(content, str):
                add(content, path, None, PurePosixPath(path).name, 1)
    snippets = artifacts.get("snippets")
    if isinstance(snippets, list):
        for i, snippet in enumerate(snippets, 1):
            if isinstance(snippet, dict) and isinstance(snippet.get("code"), str):
                language = snippet.get("language") or (None if snippet.get("path") else "python")
                first = _first_line(snippet.get("line_start"))
                add(snippet["code"], snippet.get("path"), language, snippet.get("name") or f"snippet {i}", first)
    diff = artifacts.get("diff")
    if isinstance(diff, str):
        for path, (added, numbers) in _diff_added(diff).items():
            add(added, path, None, f"{PurePosixPath(path).name} (diff)", numbers)
    for unit in units:
        if unit.get("language") is None and unit.get("path"):
            unit.pop("language")  # SQL names the language from the path
    return units


_HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+(\d+)(?:,\d+)? @@")


def _diff_added(diff: str) -> dict[str, tuple[str, list[int] | None]]:
    """Per file of a unified diff: the lines it adds, and the new file's line number
    of each (None when a hunk header did not say)."""
    added: dict[str, list[str]] = {}
    numbers: dict[str, list[int] | None] = {}
    path = None
    line_no: int | None = None
    for line in diff.splitlines():
        if line.startswith("+++ "):
            path = line[4:].split("\t")[0].removeprefix("b/")
            path = None if path == "/dev/null" else path
            line_no = None
        elif hunk := _HUNK.match(line):
            line_no = int(hunk.group(1))
        elif line.startswith("+") and path is not None:
            added.setdefault(path, []).append(line[1:])
            known = numbers.setdefault(path, [])
            if known is not None and line_no is not None:
                known.append(line_no)
            else:
                numbers[path] = None
            line_no = line_no + 1 if line_no is not None else None
        elif line.startswith(" ") and line_no is not None:
            line_no += 1
    return {p: ("\n".join(lines) + "\n", numbers.get(p)) for p, lines in added.items()}


def with_units(artifacts: Any) -> Any:
    """Artefacts with the units the Python client split them into, under "units"
    (stf_extract then registers those rather than whole files)."""
    if not isinstance(artifacts, dict) or "units" in artifacts:
        return artifacts
    units = split_artifacts(artifacts)
    return {**artifacts, "units": units} if units else artifacts
