"""The ``territorial`` command: global options and the command groups."""

from __future__ import annotations

from typing import Annotated

import typer

from territorial.cli._common import CliState, OutputFormat, TerritorialGroup, message, workspace

app = typer.Typer(
    name="territorial",
    cls=TerritorialGroup,
    help="Sales territory management: model, assign, carve, compare and activate territories.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


@app.callback()
def _global(
    ctx: typer.Context,
    database: Annotated[
        str | None,
        typer.Option(
            "--database",
            envvar="TERRITORIAL_DATABASE_URL",
            help="Database URL (default: sqlite:///territorial.db in the working directory).",
            show_default=False,
        ),
    ] = None,
    fmt: Annotated[
        OutputFormat, typer.Option("--format", help="Output format for listings and reports.")
    ] = OutputFormat.table,
) -> None:
    """Territorial: open-source sales territory management.

    Example: territorial --database postgresql://me@db/territories model list
    """
    ctx.obj = CliState(database=database, format=fmt)


@app.command()
def init(ctx: typer.Context) -> None:
    """Create the database, or upgrade it to the newest schema. Safe to run again.

    Example: territorial init
    """
    ws = workspace(ctx)
    ws.init()
    message(f"Database ready: {ws.db.url}")


def _register() -> None:
    from territorial.cli import registry

    registry.register(app)


_register()


def main() -> None:
    """Console-script entry point."""
    app(prog_name="territorial")


__all__ = ["app", "main"]
