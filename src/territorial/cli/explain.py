"""``territorial explain``: why an account is in its territories, or not in another one."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape

from territorial.cli._common import OutputFormat, console, render, state, workspace
from territorial.core.rules.explain import FAIL_MARK, PASS_MARK
from territorial.services import explain as service

_COLUMNS = [
    "account",
    "territory",
    "territory_name",
    "assigned",
    "assigned_by",
    "reason",
    "rule",
    "recorded",
    "inherited_from",
    "rule_passed",
    "item",
    "condition",
    "value_seen",
    "item_passed",
    "caused_failure",
]


def _styled(line: str) -> str:
    text = escape(line)
    text = text.replace(PASS_MARK, f"[green]{PASS_MARK}[/green]")
    text = text.replace(FAIL_MARK, f"[red]{FAIL_MARK}[/red]")
    if line.startswith("In "):
        return f"[bold green]{text}[/bold green]"
    if line.startswith("Not in "):
        return f"[bold red]{text}[/bold red]"
    if line.lstrip().startswith("Note:"):
        return f"[yellow]{text}[/yellow]"
    return text


def explain(
    ctx: typer.Context,
    account: Annotated[str, typer.Argument(help="Account id as imported (or its exact name).")],
    model: Annotated[
        str | None, typer.Option("--model", "-m", help="Model (default: the active one).")
    ] = None,
    territory: Annotated[
        str | None,
        typer.Option("--territory", "-t", help="Explain why the account is or is not here."),
    ] = None,
) -> None:
    """Explain why an account is in its territories, or why it is not in one.

    For each territory the account is in: the rules and items that put it there, with the
    account's values (the rule the last run recorded first, marked '← recorded by the last
    run': the rule exports, compare and report multi name), or that it was assigned by
    hand. With --territory, explain that one territory: if the account is not in it, each
    effective rule and the item that failed, with the value the account has (or the
    exclusion that keeps it out). --format csv/json gives one row per territory, rule and
    item (with 'recorded').

    Example: territorial explain 001A000001 --model FY27_Plan --territory CA_South
    """
    result = service.explain(workspace(ctx), account, model=model, territory=territory)
    if state(ctx).format is not OutputFormat.table:
        render(ctx, result.rows(), columns=_COLUMNS)
        return
    for line in result.lines():
        console.print(_styled(line), highlight=False, soft_wrap=True)
