"""``territorial run``: evaluate a model's rules and write the assignments."""

from __future__ import annotations

from typing import Annotated

import typer

from territorial.cli._common import message, progress, render, workspace
from territorial.services import runs


def run(
    ctx: typer.Context,
    model: Annotated[str, typer.Argument(help="Model whose rules to run.")],
    territory: Annotated[
        str | None, typer.Option(help="Only this territory and its descendants.")
    ] = None,
    account: Annotated[
        list[str] | None, typer.Option("--account", help="Only this account id (repeatable).")
    ] = None,
    preview: Annotated[
        bool, typer.Option("--preview", help="Compute and report; write nothing.")
    ] = False,
) -> None:
    """Run a model's assignment rules; rule assignments in the scope are replaced.

    Manual assignments are kept and exclusions are respected. Only what changed is written.

    Example: territorial run FY27_Plan --territory NA_West --preview
    """
    ws = workspace(ctx)
    with progress() as bar:
        task = bar.add_task("Running rules", total=len(runs.STAGES))

        def on_stage(name: str) -> None:
            bar.update(
                task, description=f"Running rules: {name}", completed=runs.STAGES.index(name)
            )

        result = runs.run_rules(
            ws, model, territory=territory, account_ids=account, preview=preview, on_stage=on_stage
        )
    for warning in result.warnings:
        message(f"[yellow]Warning:[/yellow] {warning}")
    verb = "would add" if preview else "added"
    render(
        ctx,
        [
            {
                "model": result.model,
                "scope": ", ".join(f"{k}={v}" for k, v in result.scope.items() if k != "model")
                or "whole model",
                "accounts": result.accounts_evaluated,
                "rule_assignments": result.rule_assignments,
                verb: result.added,
                "would remove" if preview else "removed": result.removed,
                "seconds": round(result.duration_ms / 1000, 2),
                "run": result.run_id,
            }
        ],
        title="Preview (nothing written)" if preview else "Run",
    )
