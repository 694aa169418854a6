"""``territorial type`` and ``territorial territory``: types and the hierarchy."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

import typer
from rich.tree import Tree

from territorial.cli._common import OutputFormat, console, message, render, state, workspace
from territorial.cli._help import choices
from territorial.services import hierarchy

types_app = typer.Typer(help="Territory types and their priorities.", no_args_is_help=True)
territory_app = typer.Typer(help="Territories of a model: the hierarchy.", no_args_is_help=True)

ModelArg = Annotated[str, typer.Argument(help="Model (developer name or label).")]
TerritoryArg = Annotated[str, typer.Argument(help="Territory (developer name or label).")]


@types_app.command("add")
def type_add(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Label, e.g. 'Geo'.")],
    priority: Annotated[int, typer.Option(help="Greater wins opportunity ties.")],
    developer_name: Annotated[str | None, typer.Option(help="API name.")] = None,
    description: Annotated[str, typer.Option(help="Free text.")] = "",
) -> None:
    """Add a territory type. Priorities may repeat.

    Example: territorial type add Geo --priority 10
    """
    info = hierarchy.add_type(
        workspace(ctx),
        name,
        priority=priority,
        developer_name=developer_name,
        description=description,
    )
    message(f"Added type {info.developer_name} (priority {info.priority}).")


@types_app.command("list")
def type_list(ctx: typer.Context) -> None:
    """List territory types, highest priority first.

    Example: territorial type list
    """
    render(ctx, [asdict(t) for t in hierarchy.list_types(workspace(ctx))], title="Types")


@territory_app.command("add")
def territory_add(
    ctx: typer.Context,
    model: ModelArg,
    name: Annotated[str, typer.Argument(help="Label of the new territory.")],
    type: Annotated[str, typer.Option("--type", help="Territory type.")],
    parent: Annotated[str | None, typer.Option(help="Parent territory (default: a root).")] = None,
    developer_name: Annotated[str | None, typer.Option(help="API name.")] = None,
    description: Annotated[str, typer.Option(help="Free text.")] = "",
    account_access: Annotated[
        str | None,
        typer.Option(metavar=choices(["Read", "Edit", "All"]), help="Read, Edit or All."),
    ] = None,
    opportunity_access: Annotated[
        str | None,
        typer.Option(metavar=choices(["None", "Read", "Edit"]), help="None, Read or Edit."),
    ] = None,
) -> None:
    """Add a territory to a model.

    Example: territorial territory add FY27_Plan "West 3" --parent NA_West --type Geo
    """
    levels = {
        k: v for k, v in {"account": account_access, "opportunity": opportunity_access}.items() if v
    }
    node = hierarchy.add_territory(
        workspace(ctx),
        model,
        name,
        type=type,
        parent=parent,
        developer_name=developer_name,
        description=description,
        access_levels=levels,
    )
    message(f"Added territory {node.developer_name} under {node.parent or '(root)'}.")


@territory_app.command("rename")
def territory_rename(
    ctx: typer.Context,
    model: ModelArg,
    territory: TerritoryArg,
    name: Annotated[str, typer.Argument(help="New label.")],
    developer_name: Annotated[str | None, typer.Option(help="New API name too.")] = None,
) -> None:
    """Rename a territory.

    Example: territorial territory rename FY27_Plan West_3 "Pacific Northwest"
    """
    hierarchy.rename_territory(
        workspace(ctx), model, territory, name, developer_name=developer_name
    )
    message(f"Renamed {territory} to {name!r}.")


@territory_app.command("move")
def territory_move(
    ctx: typer.Context,
    model: ModelArg,
    territory: TerritoryArg,
    parent: Annotated[str | None, typer.Option(help="New parent.")] = None,
    root: Annotated[bool, typer.Option("--root", help="Make it a root territory.")] = False,
) -> None:
    """Move a territory and its subtree under another parent (cycles are refused).

    Example: territorial territory move FY27_Plan Nevada --parent NA_West
    """
    if (parent is None) == (not root):
        raise typer.BadParameter("Give either --parent P or --root.")
    hierarchy.move_territory(workspace(ctx), model, territory, None if root else parent)
    message(f"Moved {territory} under {parent or '(root)'}.")


@territory_app.command("remove")
def territory_remove(
    ctx: typer.Context,
    model: ModelArg,
    territory: TerritoryArg,
    subtree: Annotated[bool, typer.Option(help="Remove its descendants too.")] = False,
) -> None:
    """Remove a territory (refused when it has children, unless --subtree).

    Example: territorial territory remove FY27_Plan West_3
    """
    removed = hierarchy.remove_territory(workspace(ctx), model, territory, subtree=subtree)
    message(f"Removed {removed} territor{'y' if removed == 1 else 'ies'}.")


@territory_app.command("tree")
def territory_tree(
    ctx: typer.Context,
    model: Annotated[str | None, typer.Argument(help="Model (default: the active one).")] = None,
) -> None:
    """Show the hierarchy with accounts, users and rules per territory.

    Example: territorial territory tree FY27_Plan
    """
    nodes = hierarchy.tree(workspace(ctx), model)
    if state(ctx).format is not OutputFormat.table:
        render(ctx, [asdict(n) for n in nodes])
        return
    root = Tree(f"[bold]{model or 'active model'}[/bold]")
    branches: dict[str, Tree] = {}
    for n in nodes:
        label = (
            f"{n.developer_name} [dim]({n.type})[/dim]  "
            f"accounts {n.accounts:,} · users {n.users} · rules {n.rules}"
        )
        parent = branches.get(n.parent, root) if n.parent else root
        branches[n.developer_name] = parent.add(label)
    console.print(root)
