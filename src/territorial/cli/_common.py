"""What every command shares: the workspace, output rendering, progress and errors."""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any

import polars as pl
import typer
from rich.console import Console, ConsoleDimensions
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table
from typer.core import TyperGroup

from territorial.cli import _help
from territorial.core.text import plural
from territorial.errors import TerritorialError
from territorial.io.tabular import csv_text
from territorial.services.workspace import Workspace
from territorial.settings import Settings

UNWRAPPED_WIDTH = 100_000
"""The width of output that is not a terminal: wide enough that nothing wraps."""


class CliConsole(Console):
    """A Rich console that wraps at the terminal's width, and not at all when the output is
    a pipe or a file (a table is then as wide as its content), unless ``COLUMNS`` is set."""

    @property
    def size(self) -> ConsoleDimensions:
        size = super().size
        if self._width is None and not self.is_terminal and not self._environ.get("COLUMNS"):
            return ConsoleDimensions(UNWRAPPED_WIDTH, size.height)
        return size

    @size.setter
    def size(self, new_size: tuple[int, int]) -> None:
        self._width, self._height = new_size


console = CliConsole()
err_console = CliConsole(stderr=True)


class OutputFormat(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


@dataclass
class CliState:
    database: str | None = None
    format: OutputFormat = OutputFormat.table
    _workspace: Workspace | None = None

    def workspace(self) -> Workspace:
        if self._workspace is None:
            self._workspace = Workspace(Settings.from_env(database_url=self.database))
        return self._workspace

    def close(self) -> None:
        if self._workspace is not None:
            self._workspace.close()
            self._workspace = None


def fail(text: str) -> typer.Exit:
    """Report a user mistake on one line of stderr; raise the result to exit with status 1."""
    err_console.print(f"[bold red]Error:[/bold red] {text}", highlight=False, soft_wrap=True)
    return typer.Exit(code=1)


class TerritorialGroup(TyperGroup):
    """The root command group: turns library errors into one-line CLI errors, and gives
    every command's arguments and options their placeholders in --help."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _help.tidy(self)

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except TerritorialError as err:
            raise fail(str(err)) from err


def state(ctx: typer.Context) -> CliState:
    root = ctx.find_root()
    if not isinstance(root.obj, CliState):
        root.obj = CliState()
    return root.obj


def workspace(ctx: typer.Context) -> Workspace:
    """The workspace named by the global --database option (or the environment); it is
    closed when the command ends."""
    cli_state = state(ctx)
    if cli_state._workspace is None:
        ctx.find_root().call_on_close(cli_state.close)
    return cli_state.workspace()


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def render(
    ctx: typer.Context,
    rows: pl.DataFrame | Sequence[dict[str, Any]],
    *,
    title: str | None = None,
    columns: Sequence[str] | None = None,
    formats: Mapping[str, Callable[[Any], str]] | None = None,
) -> None:
    """Print rows as a Rich table, CSV or JSON according to the global --format.

    ``formats`` writes the table's cells of some columns for people (a percentage with one
    decimal, an amount without its noise); CSV and JSON keep the values as they are."""
    records = rows.to_dicts() if isinstance(rows, pl.DataFrame) else list(rows)
    if columns is None:
        if isinstance(rows, pl.DataFrame):
            columns = rows.columns
        else:
            columns = list(records[0]) if records else []
    fmt = state(ctx).format
    if fmt is OutputFormat.json:
        data = [{c: _plain(r.get(c)) for c in columns} for r in records]
        sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")
        return
    if fmt is OutputFormat.csv and isinstance(rows, pl.DataFrame):
        sys.stdout.write(csv_text(rows.select(columns)))  # the same writer as CSV files
        return
    if fmt is OutputFormat.csv:
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(columns)
        for r in records:
            writer.writerow(["" if r.get(c) is None else _plain(r.get(c)) for c in columns])
        return
    table = Table(title=title, title_justify="left", header_style="bold")
    shown = formats or {}
    cells = [
        [_cell(v) if (v := r.get(c)) is None or c not in shown else shown[c](v) for c in columns]
        for r in records
    ]
    for c in columns:
        numeric = bool(records) and all(_is_number(r.get(c)) for r in records)
        table.add_column(c, overflow="fold", justify="right" if numeric else "left")
    for row in cells:
        table.add_row(*row)
    console.print(table)


def _is_number(value: Any) -> bool:
    return value is None or (isinstance(value, int | float) and not isinstance(value, bool))


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:,.2f}" if abs(value) < 1e15 else f"{value:.3e}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(_plain(value))


def report(ctx: typer.Context, sentence: str, row: dict[str, Any]) -> None:
    """A result: one sentence for people (table format), or one structured row (csv/json)."""
    if state(ctx).format is OutputFormat.table:
        console.print(sentence, highlight=False, soft_wrap=True)
    else:
        render(ctx, [row])


def message(text: str) -> None:
    """A status line for people (stderr, so --format csv/json output stays clean)."""
    err_console.print(text, highlight=False, soft_wrap=True)


@contextmanager
def progress() -> Iterator[Progress]:
    """A progress display on stderr for long work (hidden when stderr is not a terminal)."""
    bar = Progress(
        SpinnerColumn(),
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
        disable=not err_console.is_terminal,
    )
    with bar:
        yield bar


__all__ = [
    "CliState",
    "OutputFormat",
    "TerritorialGroup",
    "console",
    "err_console",
    "fail",
    "message",
    "plural",
    "progress",
    "render",
    "report",
    "state",
    "workspace",
]
