"""``territorial run``: evaluate a model's rules and write the assignments."""

from __future__ import annotations

from typing import Annotated

import typer

from territorial.cli._common import message, plural, progress, report, workspace
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
    Each rule assignment records the rule that put the account there: of the rules it
    satisfied, the oldest that no sibling territory has (a carved territory's postal rule,
    not the rules all carved territories share), or the oldest if siblings have them all.

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
    scope = ", ".join(f"{k} {v}" for k, v in result.scope.items() if k != "model")
    head = "Preview, nothing written" if preview else f"Run {result.run_id}"
    report(
        ctx,
        f"{head}: {result.model} ({scope or 'whole model'}): "
        f"{plural(result.accounts_evaluated, 'account')} evaluated, "
        f"{plural(result.rule_assignments, 'rule assignment')}; "
        f"{result.added:,} {'would be ' if preview else ''}added, "
        f"{result.removed:,} {'would be ' if preview else ''}removed "
        f"in {result.duration_ms / 1000:.2f} s.",
        {
            "model": result.model,
            "scope": scope or "whole model",
            "preview": preview,
            "accounts": result.accounts_evaluated,
            "rule_assignments": result.rule_assignments,
            "added": result.added,
            "removed": result.removed,
            "seconds": round(result.duration_ms / 1000, 3),
            "run": result.run_id,
        },
    )
