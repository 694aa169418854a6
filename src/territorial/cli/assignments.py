"""``territorial user`` and ``territorial account``: people and accounts on territories."""

from __future__ import annotations

from dataclasses import asdict, fields
from typing import Annotated

import typer

from territorial.cli._common import OutputFormat, message, plural, render, state, workspace
from territorial.services import assignments, online

user_app = typer.Typer(help="Users on territories, with their roles.", no_args_is_help=True)
account_app = typer.Typer(
    help="Manual account assignments, exclusions and account teams.", no_args_is_help=True
)

ModelArg = Annotated[str, typer.Argument(help="Model (developer name or label).")]
TerritoryArg = Annotated[str, typer.Argument(help="Territory (developer name or label).")]
AccountArg = Annotated[str, typer.Argument(help="Account id (or its exact name).")]


@user_app.command("assign")
def user_assign(
    ctx: typer.Context,
    model: ModelArg,
    user: Annotated[str, typer.Argument(help="User id, email or name.")],
    territory: TerritoryArg,
    role: Annotated[str, typer.Option(help="Role in territory, e.g. 'Territory Owner'.")],
) -> None:
    """Put a user on a territory in a role (again: change the role).

    Example: territorial user assign FY27_Plan ana@example.com NA_West_1 --role "Territory Owner"
    """
    assignments.assign_user(workspace(ctx), model, user, territory, role=role)
    message(f"{user} works {territory} as {role}.")


@user_app.command("unassign")
def user_unassign(
    ctx: typer.Context,
    model: ModelArg,
    user: Annotated[str, typer.Argument(help="User id, email or name.")],
    territory: TerritoryArg,
) -> None:
    """Take a user off a territory.

    Example: territorial user unassign FY27_Plan ana@example.com NA_West_1
    """
    assignments.unassign_user(workspace(ctx), model, user, territory)
    message(f"{user} no longer works {territory}.")


@user_app.command("list")
def user_list(
    ctx: typer.Context,
    model: Annotated[str | None, typer.Argument(help="Model (default: the active one).")] = None,
    user: Annotated[str | None, typer.Option(help="Only this user's territories.")] = None,
) -> None:
    """List users on territories with their roles.

    Example: territorial user list FY27_Plan --user ana@example.com
    """
    rows = [asdict(r) for r in assignments.user_territories(workspace(ctx), model, user=user)]
    render(ctx, rows, title="Users on territories")


@account_app.command("assign")
def account_assign(
    ctx: typer.Context, model: ModelArg, account: AccountArg, territory: TerritoryArg
) -> None:
    """Assign an account to a territory by hand (kept by every rule run).

    Example: territorial account assign FY27_Plan 001A000001 Named_Strategic
    """
    assignments.assign_account(workspace(ctx), model, account, territory)
    message(f"Assigned {account} to {territory}.")


@account_app.command("unassign")
def account_unassign(
    ctx: typer.Context, model: ModelArg, account: AccountArg, territory: TerritoryArg
) -> None:
    """Remove a manual assignment.

    Example: territorial account unassign FY27_Plan 001A000001 Named_Strategic
    """
    assignments.unassign_account(workspace(ctx), model, account, territory)
    message(f"Unassigned {account} from {territory}.")


@account_app.command("exclude")
def account_exclude(
    ctx: typer.Context, model: ModelArg, account: AccountArg, territory: TerritoryArg
) -> None:
    """Keep an account out of one territory's rules (exclusions win over rules).

    Example: territorial account exclude FY27_Plan 001A000001 NA_West_1
    """
    assignments.exclude_account(workspace(ctx), model, account, territory)
    message(f"Excluded {account} from {territory}.")


@account_app.command("include")
def account_include(
    ctx: typer.Context, model: ModelArg, account: AccountArg, territory: TerritoryArg
) -> None:
    """Lift an exclusion.

    Example: territorial account include FY27_Plan 001A000001 NA_West_1
    """
    assignments.include_account(workspace(ctx), model, account, territory)
    message(f"{account} may be assigned to {territory} by rules again.")


@account_app.command("team")
def account_team(
    ctx: typer.Context,
    account: AccountArg,
    model: Annotated[str | None, typer.Option(help="Model (default: the active one).")] = None,
) -> None:
    """Who works this account: users of every territory it is in, with their roles.

    Example: territorial account team 001A000001
    """
    ws = workspace(ctx)
    rows = [asdict(m) for m in assignments.account_team(ws, account, model=model)]
    if rows:
        render(ctx, rows, title=f"Team on {account}")
        return
    message(_no_team(assignments.account_territories(ws, account, model=model)))
    if state(ctx).format is not OutputFormat.table:
        render(ctx, rows, columns=[f.name for f in fields(assignments.TeamMember)])


def _no_team(place: assignments.AccountPlace) -> str:
    """Why an account has nobody working it, as a sentence."""
    if not place.territories:
        return (
            f"No users: {place.account} is in no territory of {place.model} "
            f"('territorial explain {place.account}' shows why)."
        )
    which = "which has" if len(place.territories) == 1 else "which have"
    return (
        f"No users: {place.account} is in {', '.join(place.territories)}, {which} no users "
        f"assigned ('territorial user assign {place.model} USER TERRITORY --role ROLE')."
    )


@account_app.command("set")
def account_set(
    ctx: typer.Context,
    account: Annotated[str, typer.Argument(help="Account id (created when new).")],
    values: Annotated[
        list[str],
        typer.Argument(metavar="FIELD=VALUE", help="FIELD=VALUE pairs; Salesforce names work."),
    ],
    model: Annotated[
        list[str] | None,
        typer.Option("--model", help="Also reassign in this planning model (repeatable)."),
    ] = None,
) -> None:
    """Create or change an account; it is reassigned at once in the active model.

    When its territories there change, its open opportunities get their territory again by
    the model's opportunity policy (closed ones keep theirs).

    Example: territorial account set 001A000001 BillingStateCode=NV AnnualRevenue=2500000
    """
    pairs: dict[str, str] = {}
    for pair in values:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise typer.BadParameter(f"{pair!r} is not FIELD=VALUE.", param_hint="VALUES")
        pairs[name.strip()] = value
    saved = online.save_account(workspace(ctx), account, pairs, models=model or [])
    verb = "Created" if saved.created else "Updated"
    opps = plural(saved.opportunities_changed, "open opportunity", "open opportunities")
    message(
        f"{verb} {saved.id}: {plural(saved.added, 'assignment')} added, {saved.removed:,} "
        f"removed; {opps} changed territory."
    )
    render(
        ctx,
        [
            {"model": m, "territories": ", ".join(t) or "(none)"}
            for m, t in saved.territories.items()
        ],
        title=f"Territories of {saved.id}",
    )
