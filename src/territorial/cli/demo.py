"""``territorial demo``: a realistic organisation with an active territory model."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from territorial.cli._common import (
    OutputFormat,
    console,
    message,
    plural,
    progress,
    render,
    state,
    workspace,
)
from territorial.services import demo as demo_service
from territorial.services.overview import Overview, model_overview


def demo(
    ctx: typer.Context,
    accounts: Annotated[int, typer.Option(min=10, help="Number of accounts to generate.")] = 25_000,
    seed: Annotated[int, typer.Option(help="Random seed; the same seed gives the same org.")] = 0,
    reset: Annotated[
        bool, typer.Option("--reset", help="Replace everything already in the database.")
    ] = False,
) -> None:
    """Generate a demo organisation and make its territory model active.

    Accounts at real US ZIP codes and abroad, opportunities, sixty-odd sales users and a
    starter model (regions, areas, segments, geo territories, an industry overlay and
    named accounts), loaded through the normal import paths and assigned by its rules.

    Example: territorial demo --accounts 50000 --seed 7 --reset
    """
    ws = workspace(ctx)
    with progress() as bar:
        task = bar.add_task("Building the demo", total=len(demo_service.STAGES))

        def on_stage(name: str) -> None:
            bar.update(task, description=name, completed=demo_service.STAGES.index(name))

        demo_service.load_demo(ws, accounts=accounts, seed=seed, replace=reset, on_stage=on_stage)
    show_overview(ctx, model_overview(ws))
    message(f"Database: {ws.db.url}. Next: 'territorial territory tree', 'territorial model list'.")


def show_overview(ctx: typer.Context, overview: Overview) -> None:
    """Print a model's overview: a headline and one row per top-level territory."""
    rows = [
        {
            "territory": b.territory,
            "name": b.name,
            "territories": b.territories,
            "accounts": b.accounts,
            "users": b.users,
        }
        for b in overview.branches
    ]
    if state(ctx).format is not OutputFormat.table:
        render(ctx, rows)
        return
    console.print(
        f"[bold]Model {overview.model}[/bold] ({overview.state}): "
        f"{plural(overview.territories, 'territory', 'territories')}, "
        f"{overview.accounts_assigned:,} of {plural(overview.accounts_total, 'account')} "
        f"assigned ({overview.accounts_unassigned:,} unassigned), "
        f"{overview.users_assigned:,} of {plural(overview.users_total, 'user')} on territories."
    )
    table = Table(title="Accounts per top-level territory", title_justify="left")
    for column in ("territory", "name", "territories", "accounts", "users"):
        table.add_column(column, justify="right" if column not in ("territory", "name") else "left")
    for r in rows:
        table.add_row(
            str(r["territory"]),
            str(r["name"]),
            str(r["territories"]),
            f"{r['accounts']:,}",
            str(r["users"]),
        )
    console.print(table)
