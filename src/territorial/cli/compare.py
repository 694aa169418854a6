"""``territorial compare``: what would change between two models."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from territorial.cli._common import message, plural, render, workspace
from territorial.cli._help import choices
from territorial.services import compare as service
from territorial.services import packets

SHOWN = ("summary", *service.TABLES)
SINGULAR = {
    "accounts": "account",
    "territories": "territory",
    "users": "user",
    "opportunities": "opportunity",
}


def compare(
    ctx: typer.Context,
    a: Annotated[str, typer.Argument(help="The model before (or, alone, the plan).")],
    b: Annotated[
        str | None, typer.Argument(help="The model after (default: compare the active one with A).")
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", metavar="DIR", help="Folder for the detail tables (CSV)."),
    ] = None,
    by_manager: Annotated[
        Path | None,
        typer.Option(
            "--by-manager", metavar="DIR", help="Folder for one HTML + CSV packet per manager."
        ),
    ] = None,
    manager_role: Annotated[
        list[str] | None,
        typer.Option(
            "--manager-role",
            help="Role that makes a manager (repeatable; default: roles with the word "
            "Manager, VP, Vice President, Director, Head or Chief, but not individual "
            "contributors' titles such as Account Manager or Customer Success Manager).",
        ),
    ] = None,
    measure: Annotated[
        str,
        typer.Option(
            "--measure",
            help="Potential: a numeric account field, or a formula of numeric fields like "
            "carve's --potential.",
        ),
    ] = "annual_revenue",
    show: Annotated[
        str,
        typer.Option(
            "--show",
            metavar=choices(SHOWN),
            help="What to print: the summary, or a table of the accounts, territories, users "
            "or opportunities that change.",
        ),
    ] = "summary",
    all_: Annotated[
        bool,
        typer.Option(
            "--all",
            help="Also list territories and users with no change, and write a packet for "
            "every manager, changed or not.",
        ),
    ] = False,
) -> None:
    """Compare two models: accounts and open opportunities that change territory, gains and
    losses per territory and per user; 'compare PLAN' compares the active model with PLAN.
    A model whose rules were never run is refused: run it first ('territorial run PLAN');
    one whose last run is older than later account imports or rule changes gets a warning.

    Example: territorial compare FY2028_Plan --output impact/ --by-manager packets/
    """
    ws = workspace(ctx)
    result = service.compare_models(ws, a, b, measure=measure)
    for warning in result.warnings:
        message(f"[yellow]Warning:[/yellow] {escape(warning)}")
    tables = result.tables(unchanged=all_)
    if show == "summary":
        rows = [{"measure": k, "value": v} for k, v in result.summary.items()]
        render(ctx, rows, title=f"{result.before} → {result.after}")
    elif show in tables:
        render(ctx, tables[show], title=f"{show}: {result.before} → {result.after}")
        hidden = result.tables()[show].height - tables[show].height
        if hidden:
            message(
                f"{plural(hidden, SINGULAR[show], show)} without changes not shown "
                "(--all lists them)."
            )
    else:
        raise typer.BadParameter(f"use summary or one of {', '.join(tables)}", param_hint="--show")
    if output is not None:
        paths = service.write_comparison(result, output)
        message(f"Wrote {plural(len(paths), 'table')} to {output}.")
    if by_manager is not None:
        done = packets.write_packets(
            ws,
            a,
            b,
            folder=by_manager,
            manager_roles=manager_role,
            comparison=result,
            unchanged=all_,
        )
        skipped = (
            f"; skipped {plural(len(done.unchanged), 'manager')} whose area has no change"
            if done.unchanged
            else ""
        )
        message(f"Wrote {plural(len(done.written), 'manager packet')} to {by_manager}{skipped}.")
