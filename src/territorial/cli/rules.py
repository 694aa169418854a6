"""``territorial rule``: assignment rules and where they apply."""

from __future__ import annotations

from typing import Annotated

import typer

from territorial.cli._common import message, plural, render, workspace
from territorial.services import rules
from territorial.services.rules import RuleInfo

app = typer.Typer(
    help="Assignment rules: items 'FIELD OPERATOR VALUE', an optional boolean filter, and the "
    "territories they apply to. Operators: equals, notEqual, lessThan, greaterThan, "
    "lessOrEqual, greaterOrEqual, contains, notContain, startsWith, includes, excludes, "
    "within (value 'lat,lon,radius_km').",
    no_args_is_help=True,
)

ModelArg = Annotated[str, typer.Argument(help="Model (developer name or label).")]
RuleArg = Annotated[str, typer.Argument(help="Rule (developer name or label).")]
ItemOpt = Annotated[
    list[str] | None,
    typer.Option("--item", "-i", help="'FIELD OPERATOR VALUE', repeatable; numbered from 1."),
]


def _warn(info: RuleInfo) -> None:
    for w in info.warnings:
        message(f"[yellow]Warning:[/yellow] {w}")


def _rows(infos: list[RuleInfo]) -> list[dict[str, object]]:
    return [
        {
            "rule": i.developer_name,
            "name": i.name,
            "active": i.active,
            "items": i.describe_items(),
            "filter": i.boolean_filter,
            "territories": ", ".join(
                f"{t}{' (inherited)' if inh else ''}" for t, inh in i.territories
            ),
        }
        for i in infos
    ]


@app.command("add")
def add(
    ctx: typer.Context,
    model: ModelArg,
    name: Annotated[str, typer.Argument(help="Label of the rule.")],
    item: ItemOpt = None,
    filter: Annotated[
        str | None, typer.Option("--filter", help="Boolean filter, e.g. '1 AND (2 OR 3)'.")
    ] = None,
    inactive: Annotated[bool, typer.Option("--inactive", help="Save it switched off.")] = False,
    developer_name: Annotated[str | None, typer.Option(help="API name.")] = None,
) -> None:
    """Add a rule; it is checked against the field catalog when saved.

    Example: territorial rule add FY27 "West states" --item "BillingStateCode equals CA,NV,OR"
    """
    info = rules.add_rule(
        workspace(ctx),
        model,
        name,
        items=item or [],
        boolean_filter=filter,
        active=not inactive,
        developer_name=developer_name,
    )
    _warn(info)
    message(f"Added rule {info.developer_name} ({plural(len(info.items), 'item')}).")


@app.command("update")
def update(
    ctx: typer.Context,
    model: ModelArg,
    rule: RuleArg,
    item: ItemOpt = None,
    filter: Annotated[str | None, typer.Option("--filter", help="New boolean filter.")] = None,
    no_filter: Annotated[bool, typer.Option("--no-filter", help="Remove the filter.")] = False,
    active: Annotated[
        bool | None, typer.Option("--active/--inactive", help="Switch the rule on or off.")
    ] = None,
    name: Annotated[str | None, typer.Option(help="New label.")] = None,
) -> None:
    """Change a rule: --item replaces all its items; the result is checked as a whole.

    Example: territorial rule update FY27 West_states --item "BillingStateCode equals CA,NV"
    """
    kwargs: dict[str, object] = {"items": item or None, "active": active, "name": name}
    if no_filter:
        kwargs["boolean_filter"] = None
    elif filter is not None:
        kwargs["boolean_filter"] = filter
    info = rules.update_rule(workspace(ctx), model, rule, **kwargs)  # type: ignore[arg-type]
    _warn(info)
    message(f"Updated rule {info.developer_name}.")


@app.command("attach")
def attach(
    ctx: typer.Context,
    model: ModelArg,
    rule: RuleArg,
    territory: Annotated[str, typer.Argument(help="Territory to apply it to.")],
    inherited: Annotated[
        bool, typer.Option("--inherited", help="Apply it to every descendant as well.")
    ] = False,
) -> None:
    """Apply a rule to a territory (and with --inherited, to its descendants).

    Example: territorial rule attach FY27 West_states NA_West --inherited
    """
    rules.attach_rule(workspace(ctx), model, rule, territory, inherited=inherited)
    message(f"Rule {rule} applies to {territory}{' and its descendants' if inherited else ''}.")


@app.command("detach")
def detach(
    ctx: typer.Context,
    model: ModelArg,
    rule: RuleArg,
    territory: Annotated[str, typer.Argument(help="Territory.")],
) -> None:
    """Stop applying a rule to a territory.

    Example: territorial rule detach FY27 West_states NA_West
    """
    rules.detach_rule(workspace(ctx), model, rule, territory)
    message(f"Rule {rule} no longer applies to {territory}.")


@app.command("remove")
def remove(ctx: typer.Context, model: ModelArg, rule: RuleArg) -> None:
    """Delete a rule and its associations (its assignments go at the next run).

    Example: territorial rule remove FY27 Old_rule
    """
    rules.remove_rule(workspace(ctx), model, rule)
    message(f"Removed rule {rule}.")


@app.command("list")
def list_(
    ctx: typer.Context,
    model: Annotated[str | None, typer.Argument(help="Model (default: the active one).")] = None,
) -> None:
    """List a model's rules with their items and territories.

    Example: territorial rule list FY27
    """
    render(ctx, _rows(rules.list_rules(workspace(ctx), model)), title="Rules")


@app.command("show")
def show(ctx: typer.Context, model: ModelArg, rule: RuleArg) -> None:
    """Show one rule: items, filter, territories.

    Example: territorial rule show FY27 West_states
    """
    render(ctx, _rows([rules.show_rule(workspace(ctx), model, rule)]), title=rule)


@app.command("check")
def check(
    ctx: typer.Context,
    model: Annotated[str | None, typer.Argument(help="Model (default: the active one).")] = None,
) -> None:
    """Validate every rule of a model at once; list warnings, and rules attached to no
    territory (each counted as a warning).

    Exits with status 1 when a rule has an error.

    Example: territorial rule check FY27
    """
    result = rules.check_rules(workspace(ctx), model)
    for w in result.warnings:
        message(f"[yellow]Warning:[/yellow] {w}")
    if result.unattached:
        message(
            f"[yellow]Warning:[/yellow] {plural(len(result.unattached), 'rule')} attached to no "
            f"territory (assigning nothing; see 'territorial rule attach'): "
            f"{', '.join(result.unattached)}"
        )
    for e in result.errors:
        message(f"[red]Error:[/red] {e}")
    message(
        f"{plural(result.rules, 'rule')}, {len(result.errors)} with errors, "
        f"{plural(result.warning_count, 'warning')}."
    )
    if result.errors:
        raise typer.Exit(1)
