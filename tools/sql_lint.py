"""The SQL linter of `make lint`: PostgreSQL's own parser on every SQL file, and on
every function body inside them, plus the project's rules. Configured in
pyproject.toml, [tool.sql-lint].

    .venv/bin/python tools/sql_lint.py [PATH ...]    (default: the configured paths)

Why not sqlfluff: its postgres dialect reads a function body as one string literal,
so it checks none of the PL/pgSQL and SQL-language bodies that hold the logic
here, and most of what it reports on the rest is layout that fights the style
of these files. pglast wraps libpg_query, PostgreSQL's own parser (the version
of the server this project runs), including the PL/pgSQL compiler's grammar with
the SQL statements and expressions inside a body; on that tree the rules below
are a few lines each.

Rules (ignore some with `ignore`, or per file with `per-file-ignores`):
  SQL001  the file parses with PostgreSQL's grammar
  SQL002  every function body parses: PL/pgSQL with the SQL inside it, SQL, DO blocks
  SQL003  RAISE EXCEPTION names its SQLSTATE (USING ERRCODE, a condition or SQLSTATE):
          a business error without one is P0001 and escapes the error registry
  SQL004  every declared PL/pgSQL variable is used
  SQL005  a code file (reloaded after every migrate) only creates or replaces
          functions, views and triggers, and comments and grants them (the loader
          hands SECURITY DEFINER functions to their owner role): tables, drops,
          owners and signature changes belong in db/migrations
  SQL006  what a code file creates is named with the project's schema
  SQL007  a SECURITY DEFINER function pins search_path to the project's schema,
          pg_catalog and pg_temp, in that order (no schema others may create in;
          pg_temp last, so that no temporary object stands in for another)
"""

from __future__ import annotations

import re
import sys
import time
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pglast
from pglast import ast
from pglast.parser import ParseError

ROOT = Path(__file__).resolve().parent.parent
ERROR_LEVEL = 21  # elog_level of RAISE EXCEPTION in libpg_query's PL/pgSQL tree
RAISE_OPTION_ERRCODE = 0  # opt_type of USING ERRCODE
IMPLICIT_VARIABLES = {"sqlstate", "sqlerrm"}  # what an EXCEPTION clause declares


@dataclass(frozen=True)
class Finding:
    path: str
    line: int
    rule: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.rule} {self.message}"


@dataclass(frozen=True)
class Config:
    paths: tuple[str, ...]
    code_paths: tuple[str, ...]
    schema: str
    ignore: frozenset[str]
    per_file_ignores: dict[str, frozenset[str]]

    @classmethod
    def load(cls, pyproject: Path = ROOT / "pyproject.toml") -> Config:
        table = tomllib.loads(pyproject.read_text(encoding="utf-8")).get("tool", {}).get("sql-lint", {})
        return cls(
            paths=tuple(table.get("paths", ["."])),
            code_paths=tuple(table.get("code-paths", [])),
            schema=table.get("schema", "public"),
            ignore=frozenset(table.get("ignore", [])),
            per_file_ignores={k: frozenset(v) for k, v in table.get("per-file-ignores", {}).items()},
        )


def _values(setting: ast.VariableSetStmt) -> list[str]:
    """The values of a SET clause (`SET search_path = a, b`: ['a', 'b'])."""
    return [getattr(a.val, "sval", None) for a in setting.args or ()]


def _walk(node) -> Iterator[tuple[str, dict]]:
    """Every (kind, fields) of a PL/pgSQL tree as libpg_query gives it (JSON)."""
    if isinstance(node, dict):
        for key, value in node.items():
            if isinstance(value, dict) and key[:1].isupper():
                yield key, value
            yield from _walk(value)
    elif isinstance(node, list):
        for item in node:
            yield from _walk(item)


def _location(exc: ParseError) -> int:
    """Where libpg_query found a syntax error, in characters (0 when it does not say)."""
    return exc.args[1] if len(exc.args) > 1 and isinstance(exc.args[1], int) else 0


def _option(stmt: ast.CreateFunctionStmt, name: str):
    return next((o.arg for o in stmt.options or () if o.defname == name), None)


class FileLinter:
    def __init__(self, path: Path, config: Config) -> None:
        self.path = path
        self.name = path.relative_to(ROOT).as_posix() if path.is_relative_to(ROOT) else str(path)
        self.config = config
        self.source = path.read_text(encoding="utf-8")
        self.is_code = any(self.name.startswith(p.rstrip("/") + "/") for p in config.code_paths)
        self.findings: list[Finding] = []

    def line_at(self, offset: int) -> int:
        return self.source.count("\n", 0, offset) + 1

    def report(self, offset_or_line: int, rule: str, message: str, *, is_line: bool = False) -> None:
        line = offset_or_line if is_line else self.line_at(offset_or_line)
        self.findings.append(Finding(self.name, line, rule, message))

    def lint(self) -> list[Finding]:
        try:
            statements = pglast.parse_sql(self.source)
        except ParseError as exc:
            self.report(_location(exc), "SQL001", str(exc.args[0]))
            return self.findings
        for raw in statements:
            text = (
                self.source[raw.stmt_location : raw.stmt_location + raw.stmt_len]
                if raw.stmt_len
                else (self.source[raw.stmt_location :])
            )
            stmt = raw.stmt
            if self.is_code:
                self.check_code_statement(stmt, raw.stmt_location)
            if isinstance(stmt, ast.CreateFunctionStmt):
                self.check_function(stmt, text, raw.stmt_location)
            elif isinstance(stmt, ast.DoStmt):
                body = next(o.arg.sval for o in stmt.args if o.defname == "as")
                wrapped = f"create function pg_temp.do_block() returns void language plpgsql as $lint${body}$lint$"
                self.check_plpgsql(wrapped, body, self.source.index(body, raw.stmt_location), "DO block")
        return self.findings

    def check_code_statement(self, stmt, offset: int) -> None:
        schema = self.config.schema
        if isinstance(stmt, ast.CreateFunctionStmt | ast.ViewStmt | ast.CreateTrigStmt):
            if not stmt.replace:
                self.report(offset, "SQL005", "a code file is reloaded after every migrate: use CREATE OR REPLACE")
            if isinstance(stmt, ast.CreateFunctionStmt):
                qualified = len(stmt.funcname) == 2 and stmt.funcname[0].sval == schema
                name = ".".join(n.sval for n in stmt.funcname)
            elif isinstance(stmt, ast.ViewStmt):
                qualified, name = stmt.view.schemaname == schema, stmt.view.relname
            else:
                qualified = stmt.relation.schemaname == schema and stmt.funcname[0].sval == schema
                name = stmt.trigname
            if not qualified:
                self.report(offset, "SQL006", f"{name}: name what it creates and uses with the schema ({schema}.)")
        elif not isinstance(stmt, ast.CommentStmt | ast.GrantStmt):
            kind = type(stmt).__name__.removesuffix("Stmt")
            self.report(
                offset, "SQL005", f"{kind} in a code file: tables, drops and signature changes go in db/migrations"
            )

    def check_function(self, stmt: ast.CreateFunctionStmt, text: str, offset: int) -> None:
        name = ".".join(n.sval for n in stmt.funcname)
        language = _option(stmt, "language")
        body_parts = _option(stmt, "as")
        if _option(stmt, "security") is not None and _option(stmt, "security").boolval:
            settings = [o.arg for o in stmt.options if o.defname == "set"]
            pinned = [self.config.schema, "pg_catalog", "pg_temp"]
            if not any(s.name == "search_path" and _values(s) == pinned for s in settings):
                self.report(offset, "SQL007", f"{name} is SECURITY DEFINER: pin SET search_path = {', '.join(pinned)}")
        if body_parts is None or language is None:
            return  # BEGIN ATOMIC bodies are parsed with the statement itself
        body = body_parts[0].sval
        body_offset = self.source.index(body, offset)
        if language.sval == "plpgsql":
            self.check_plpgsql(text, body, body_offset, name)
        elif language.sval == "sql":
            try:
                pglast.parse_sql(body)
            except ParseError as exc:
                self.report(body_offset + _location(exc), "SQL002", f"{name}: {exc.args[0]}")

    def check_plpgsql(self, text: str, body: str, body_offset: int, name: str) -> None:
        first_line = self.line_at(body_offset)
        # libpg_query compiles PL/pgSQL without a catalog: a type named with a schema
        # other than public (a table's row type, debugloop.settings) is not found
        # there, so the schema is read as public, and an array of such a type (a
        # record array to libpg_query, which it refuses) as text[]; types are all
        # it resolves
        schema = re.escape(self.config.schema)
        text = re.sub(rf"\b{schema}\.\w+\[\]", "text[]", text)
        text = re.sub(rf"\b{schema}\.", "public.", text)
        try:
            tree = pglast.parse_plpgsql(text)
        except ParseError as exc:
            self.report(body_offset, "SQL002", f"{name}: PL/pgSQL: {exc.args[0]}")
            return
        for kind, fields in _walk(tree):
            if kind == "PLpgSQL_stmt_raise" and fields.get("elog_level") == ERROR_LEVEL:
                named = fields.get("condname") or any(
                    o["PLpgSQL_raise_option"]["opt_type"] == RAISE_OPTION_ERRCODE for o in fields.get("options", [])
                )
                if not named and ("message" in fields or fields.get("options")):  # a bare RAISE re-raises
                    self.report(
                        first_line + fields["lineno"] - 1,
                        "SQL003",
                        f"{name}: RAISE EXCEPTION {fields.get('message', '')!r} without an ERRCODE",
                        is_line=True,
                    )
        declared = [
            fields
            for kind, fields in _walk(tree[0]["PLpgSQL_function"]["datums"])
            if kind in ("PLpgSQL_var", "PLpgSQL_rec")
            and "lineno" in fields
            and fields["refname"] not in IMPLICIT_VARIABLES
        ]
        for variable in declared:
            uses = len(re.findall(rf"(?<![\w.$]){re.escape(variable['refname'])}(?!\w)", body, re.IGNORECASE))
            if uses < 2:  # the declaration itself is one
                self.report(
                    first_line + variable["lineno"] - 1,
                    "SQL004",
                    f"{name}: variable {variable['refname']} is declared but never used",
                    is_line=True,
                )


def files(config: Config, args: list[str]) -> list[Path]:
    found: list[Path] = []
    for arg in args or config.paths:
        path = (ROOT / arg) if not Path(arg).is_absolute() else Path(arg)
        found += sorted(path.rglob("*.sql")) if path.is_dir() else [path]
    return found


def lint(paths: list[Path], config: Config) -> list[Finding]:
    findings = []
    for path in paths:
        linter = FileLinter(path, config)
        ignored = config.ignore | config.per_file_ignores.get(linter.name, frozenset())
        findings += [f for f in linter.lint() if f.rule not in ignored]
    return findings


def main(argv: list[str]) -> int:
    config = Config.load()
    started = time.perf_counter()
    paths = files(config, argv)
    findings = lint(paths, config)
    for finding in findings:
        print(finding)
    print(
        f"sql-lint: {len(paths)} files, {len(findings)} findings, {time.perf_counter() - started:.1f} s",
        file=sys.stderr,
    )
    return 1 if findings else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
