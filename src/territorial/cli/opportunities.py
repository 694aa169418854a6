"""``territorial opportunities``: territory assignment of opportunities."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from territorial.cli._common import message, plural, report, workspace
from territorial.cli._help import choices
from territorial.io.tabular import write_table
from territorial.services import opportunities

app = typer.Typer(help="Opportunity territory assignment.", no_args_is_help=True)


@app.command("assign")
def assign(
    ctx: typer.Context,
    model: Annotated[str, typer.Argument(help="Model (developer name or label).")],
    policy: Annotated[
        str,
        typer.Option(
            metavar=choices(opportunities.POLICIES),
            help="priority: the greatest type priority, ties left unassigned (Salesforce); "
            "deepest: the deepest territory; keep: keep the current one while still valid.",
        ),
    ] = "priority",
    open_only: Annotated[
        bool, typer.Option("--open-only", help="Only open opportunities.")
    ] = False,
    close_from: Annotated[
        datetime | None, typer.Option(formats=["%Y-%m-%d"], help="Close date on or after.")
    ] = None,
    close_to: Annotated[
        datetime | None, typer.Option(formats=["%Y-%m-%d"], help="Close date on or before.")
    ] = None,
    preview: Annotated[bool, typer.Option("--preview", help="Report; write nothing.")] = False,
    changes: Annotated[
        Path | None,
        typer.Option("--changes", "-o", help="Write every change to a CSV/Parquet file."),
    ] = None,
) -> None:
    """Give each opportunity the territory its account's territories call for.

    Excluded opportunities are skipped and correct ones are left untouched. A --preview of
    a model that is not active counts changes from the active model's opportunity
    territories (what activating it would change) and warns about priority ties.

    Example: territorial opportunities assign FY27 --open-only --policy keep --preview
    """
    result = opportunities.assign_model_opportunities(
        workspace(ctx),
        model,
        policy=policy,  # type: ignore[arg-type]
        open_only=open_only,
        close_from=close_from.date() if close_from else None,
        close_to=close_to.date() if close_to else None,
        preview=preview,
    )
    row = {
        "model": result.model,
        "policy": result.policy,
        "preview": preview,
        "in_scope": result.in_scope,
        "excluded": result.skipped_excluded,
        "unchanged": result.unchanged,
        "newly_assigned": result.newly_assigned,
        "moved": result.moved,
        "unassigned": result.unassigned,
    }
    row["against"] = result.against
    row["tied"] = result.tied
    would = "would be " if preview else ""
    against = (
        f" (counted from the opportunity territories of the active model {result.against}, "
        f"which activating {result.model} would change)"
        if result.against
        else ""
    )
    report(
        ctx,
        f"{'Preview, nothing written' if preview else 'Done'}: {result.model} by {result.policy}"
        f"{against}: "
        f"{plural(result.in_scope, 'opportunity', 'opportunities')} in scope "
        f"({result.skipped_excluded:,} excluded skipped); {result.newly_assigned:,} {would}newly "
        f"assigned, {result.moved:,} {would}moved, {result.unassigned:,} {would}left without a "
        f"territory, {result.unchanged:,} unchanged.",
        row,
    )
    tie = result.tie_warning()
    if tie:
        message(f"[yellow]Warning:[/yellow] {escape(tie)}")
    if changes is not None:
        write_table(result.changes, changes)
        message(f"Wrote {plural(result.changes.height, 'change')} to {changes}.")
