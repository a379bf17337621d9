"""How the command line shows things, in one place: tables that fit the terminal,
money, times, ids, code, and the machine formats (JSON, CSV, exports).

Tables are declared once as a :class:`TableSpec` (registered in ``TABLES``), and
laid out by :func:`layout` to the console's width: an id or a number is never
wrapped or cut. When a table is too wide, ids are shortened to their first 8 hex
digits first (every command accepts such a prefix back), then the columns marked
droppable go, least important first; text columns fold.

``--json`` prints the rows as the SQL API returns them (the models' fields),
``--csv`` the same rows as CSV. Decimals stay exact in both: a JSON number is
written with all its digits.
"""

from __future__ import annotations

import csv
import json
import math
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import Enum, StrEnum
from pathlib import Path
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel
from rich.console import Console
from rich.panel import Panel
from rich.progress import Progress, SpinnerColumn, TextColumn
from rich.syntax import Syntax
from rich.table import Table

from ..errors import ConfigurationError

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

SHORT_ID = 8  # hex digits of an id shown when the full one does not fit; accepted back as a prefix
TEXT_MIN = 20  # the narrowest a text column may become before columns are dropped

# -- values as text ---------------------------------------------------------------------


def usd(value: Decimal | None) -> str:
    """Dollars with up to 6 decimals, exact digits, no trailing zeros: $0.0135, $2.5, $0."""
    if value is None:
        return "-"
    if not value:
        return "$0"
    text = f"${value:,.6f}".rstrip("0").rstrip(".")
    return text if text not in ("$0", "-$0") else f"${value:,f}"


def when(value: datetime | None) -> str:
    return "-" if value is None else f"{value:%Y-%m-%d %H:%M:%S}"


def score(value: Decimal | float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def rate(value: Decimal | float | None) -> str:
    return "-" if value is None else f"{value:.0%}"


def count(value: int | None) -> str:
    return "-" if value is None else f"{value:,}"


def short(value: UUID | str | None) -> str:
    return "-" if value is None else str(value)[:SHORT_ID]


def code_pointer(where: Any) -> str:
    """Where code came from, as one line: ``repository@branch commit file:start-end``, the
    parts not known left out, the commit cut to 12 digits; "-" when nothing is known. `where`
    has the attributes of a code pointer (a provenance row, a manifest's source)."""
    place = (where.repository or "") + (f"@{where.branch}" if where.branch else "")
    file = where.file_path or ""
    if file and where.line_start is not None:
        file += f":{where.line_start}" + (f"-{where.line_end}" if where.line_end is not None else "")
    return " ".join(p for p in (place, (where.commit_sha or "")[:12], file) if p) or "-"


def clip(text: str | None, limit: int) -> str:
    """At most ``limit`` characters of ``text`` on one line."""
    if not text:
        return ""
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


# -- tables ---------------------------------------------------------------------------

Kind = Literal["text", "id", "num", "time", "key"]


@dataclass(frozen=True)
class Col:
    """A column: its header, the text of its cell for a row, what kind of value it
    holds (an ``id``, a ``num``, a ``time`` or a ``key`` such as a setting's name or
    a model is never wrapped; ``text`` folds), and ``drop``: 0 for
    a column that always stays, else the larger the number, the sooner it goes when
    the table is too wide."""

    header: str
    value: Callable[[Any], Any]
    kind: Kind = "text"
    drop: int = 0


@dataclass(frozen=True)
class TableSpec:
    name: str
    columns: tuple[Col, ...]


TABLES: dict[str, TableSpec] = {}


def table_spec(name: str, *columns: Col) -> TableSpec:
    """Declare a table; every declared table is checked at 80 columns by a test."""
    if name in TABLES:
        raise ValueError(f"table {name!r} is declared twice")
    spec = TableSpec(name, columns)
    TABLES[name] = spec
    return spec


def _unbreakable(kind: Kind) -> bool:
    return kind != "text"


def _width(col: Col, texts: list[str], short_ids: bool) -> int:
    """The narrowest ``col`` may be: the longest value (and header) of an id,
    number or time; a text column can fold down to TEXT_MIN."""
    if col.kind == "id" and short_ids:
        texts = [t[:SHORT_ID] for t in texts]
    longest = max([len(t) for t in texts] or [0])
    if _unbreakable(col.kind):
        return max(longest, len(col.header))
    return min(max(longest, len(col.header)), TEXT_MIN)


def fit(spec: TableSpec, cells: list[list[str]], width: int) -> tuple[list[int], bool]:
    """Which columns of ``spec`` to show in ``width`` columns, and whether ids are
    shortened: whole ids when everything fits, then short ids, then the droppable
    columns go, the largest ``drop`` first."""
    columns = list(range(len(spec.columns)))
    by_column = [[row[i] for row in cells] for i in columns]

    def needed(active: list[int], short_ids: bool) -> int:
        return sum(_width(spec.columns[i], by_column[i], short_ids) for i in active) + 3 * len(active) + 1

    short_ids = needed(columns, False) > width
    droppable = sorted((i for i in columns if spec.columns[i].drop), key=lambda i: (-spec.columns[i].drop, -i))
    while needed(columns, short_ids) > width and droppable:
        columns.remove(droppable.pop(0))
    return columns, short_ids


def layout(spec: TableSpec, cells: list[list[str]], width: int, title: str | None = None) -> Table:
    """A rich table of ``cells`` (one list of texts per row, in the spec's column
    order) that fits ``width`` columns without wrapping an id or a number."""
    columns, short_ids = fit(spec, cells, width)
    table = Table(title=title, show_header=True)
    for i in columns:
        col = spec.columns[i]
        if _unbreakable(col.kind):
            texts = [row[i] for row in cells]
            table.add_column(
                col.header,
                no_wrap=True,
                min_width=_width(col, texts, short_ids),
                justify="right" if col.kind == "num" else "left",
            )
        else:
            table.add_column(col.header, overflow="fold")
    for row in cells:
        table.add_row(*(row[i][:SHORT_ID] if short_ids and spec.columns[i].kind == "id" else row[i] for i in columns))
    return table


CELL_MAX = 2000  # characters of one cell in a table; --json has all of it


def _cell(value: Any) -> str:
    text = "-" if value is None else str(value)
    if len(text) <= CELL_MAX:
        return text
    return f"{text[:CELL_MAX]}… ({len(text) - CELL_MAX:,} more characters: --json shows them all)"


def cells_of(spec: TableSpec, rows: Iterable[Any]) -> list[list[str]]:
    return [[_cell(col.value(row)) for col in spec.columns] for row in rows]


def print_table(spec: TableSpec, rows: Iterable[Any], title: str | None = None) -> None:
    out.print(layout(spec, cells_of(spec, rows), out.width, title))


# -- machine formats --------------------------------------------------------------------


def _plain(value: Any) -> Any:
    """``value`` with models as dicts, for the JSON and CSV writers."""
    if isinstance(value, BaseModel):
        return value.model_dump()
    return value


def dumps(value: Any, indent: int | None = 2) -> str:
    """JSON text of rows, models and what psycopg returns. A Decimal is a JSON number
    with every digit (``0.000123``, never a float's approximation); UUIDs and times
    are strings (ISO 8601)."""
    chunks: list[str] = []
    write = chunks.append
    pad = "" if indent is None else "\n"

    def encode(v: Any, depth: int) -> None:
        v = _plain(v)
        if v is None or isinstance(v, (bool, str, int)):
            write(json.dumps(v, ensure_ascii=False))
        elif isinstance(v, Decimal):
            write(format(v, "f") if v.is_finite() else json.dumps(str(v)))
        elif isinstance(v, float):
            write(repr(v) if math.isfinite(v) else json.dumps(str(v)))
        elif isinstance(v, (datetime, date)):
            write(json.dumps(v.isoformat()))
        elif isinstance(v, (UUID, Path, Enum)):
            write(json.dumps(str(v.value if isinstance(v, Enum) else v)))
        elif isinstance(v, dict):
            items = list(v.items())
            if not items:
                write("{}")
                return
            inner = pad + " " * ((depth + 1) * (indent or 0))
            write("{")
            for n, (key, item) in enumerate(items):
                write(("," if n else "") + inner + json.dumps(str(key), ensure_ascii=False) + ": ")
                encode(item, depth + 1)
            write(pad + " " * (depth * (indent or 0)) + "}")
        elif isinstance(v, (list, tuple, set, frozenset)):
            items = list(v)
            if not items:
                write("[]")
                return
            inner = pad + " " * ((depth + 1) * (indent or 0))
            write("[")
            for n, item in enumerate(items):
                write(("," if n else "") + inner)
                encode(item, depth + 1)
            write(pad + " " * (depth * (indent or 0)) + "]")
        else:
            write(json.dumps(str(v), ensure_ascii=False))

    encode(value, 0)
    return "".join(chunks)


def _csv_cell(value: Any) -> Any:
    value = _plain(value)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list, tuple)):
        return dumps(value, indent=None)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    return value


class CsvWriter:
    """Rows (models or dicts) as CSV: a header of their field names, then one line each."""

    def __init__(self, fh) -> None:
        self._writer = csv.writer(fh)
        self._header: list[str] | None = None

    def write(self, row: Any) -> None:
        row = _plain(row)
        if self._header is None:
            self._header = list(row)
            self._writer.writerow(self._header)
        self._writer.writerow([_csv_cell(row.get(k)) for k in self._header])

    def header(self, fields: Iterable[str]) -> None:
        """Write the header alone (an empty result still says which columns it has)."""
        if self._header is None:
            self._header = list(fields)
            self._writer.writerow(self._header)


def emit(
    spec: TableSpec,
    rows: list[Any],
    *,
    as_json: bool = False,
    as_csv: bool = False,
    title: str | None = None,
    empty: str,
    fields: Iterable[str] = (),
) -> None:
    """Rows as a table (``empty`` said when there are none), JSON or CSV.
    ``fields``: the CSV header when there are no rows."""
    if as_json and as_csv:
        raise ConfigurationError("--json and --csv: choose one")
    if as_json:
        print(dumps(rows))
    elif as_csv:
        writer = CsvWriter(sys.stdout)
        for row in rows:
            writer.write(row)
        if not rows:
            writer.header(fields)
    elif not rows:
        out.print(empty, markup=False, highlight=False)
    else:
        print_table(spec, rows, title)


def emit_document(document: dict[str, Any], as_json: bool, show: Callable[[], None]) -> None:
    """A show or report command's result: ``document`` as JSON, or ``show()`` it."""
    if as_json:
        print(dumps(document))
    else:
        show()


class ExportFormat(StrEnum):
    json = "json"
    csv = "csv"


def export(rows: Iterator[dict[str, Any]], format: ExportFormat, output: Path | None, what: str) -> None:
    """Write ``rows`` as a JSON array or CSV to ``output`` or standard output, with a
    progress counter. A file is written beside ``output`` under a ``.partial`` name
    that takes ``output``'s name only when the export is complete; on any failure it
    is removed, so nothing half-written is ever left behind."""
    if output is not None and output.is_dir():
        raise ConfigurationError(f"{output}: is a folder: --output takes a file name")
    target = output.with_name(output.name + ".partial") if output is not None else None
    try:
        fh = target.open("w", encoding="utf-8", newline="") if target is not None else sys.stdout
    except OSError as exc:
        raise ConfigurationError(f"{output}: cannot write: {exc.strerror}") from None
    written = 0
    progress = Progress(
        TextColumn(f"exporting {what}"),
        SpinnerColumn(),
        TextColumn("{task.completed:,} written"),
        console=err,
        disable=target is None,
        transient=True,
    )
    try:
        with progress:
            task = progress.add_task("export", total=None)
            writer = CsvWriter(fh) if format is ExportFormat.csv else None
            if writer is None:
                fh.write("[")
            for row in rows:
                if writer is not None:
                    writer.write(row)
                else:
                    fh.write(("," if written else "") + "\n" + dumps(row, indent=None))
                written += 1
                progress.update(task, completed=written)
            if writer is None:
                fh.write("\n]\n")
        if target is not None:
            fh.close()
            target.replace(output)  # only a complete export takes the file's name
    except OSError as exc:
        raise ConfigurationError(f"{output}: cannot write: {exc.strerror}") from None
    finally:
        if target is not None:
            fh.close()
            target.unlink(missing_ok=True)  # gone once renamed; removed when the export failed
    if target is not None:
        err.print(f"{written:,} {what} written to {output}")


# -- code ---------------------------------------------------------------------------------

_LEXERS = {
    "python",
    "javascript",
    "typescript",
    "go",
    "rust",
    "java",
    "ruby",
    "c",
    "cpp",
    "csharp",
    "php",
    "swift",
    "kotlin",
    "sql",
}


def print_code(code: str, language: str, title: str) -> None:
    lexer = language if language in _LEXERS else "text"
    panel = Panel(Syntax(code.rstrip("\n"), lexer, line_numbers=True, word_wrap=True), title=title, title_align="left")
    out.print(panel, soft_wrap=False)  # long lines wrap inside the panel, never cut


def say(text: str) -> None:
    """A line of plain text: no markup, no highlighting of numbers."""
    out.print(text, markup=False, highlight=False)
