"""``territorial model``: list, show, create, clone, activate, archive, delete."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, get_args

import typer

from territorial.cli._common import message, plural, render, report, workspace
from territorial.cli._help import choices
from territorial.core.model import RuleCombination
from territorial.services import models

app = typer.Typer(help="Territory models and their lifecycle.", no_args_is_help=True)

LIST_COLUMNS = ["developer_name", "name", "state", "territories", "rules", "assigned_accounts"]

COMBINATIONS = choices(get_args(RuleCombination))


@app.command("list")
def list_(ctx: typer.Context) -> None:
    """List every model: the active one first, then planning, then archived.

    Example: territorial model list
    """
    rows = [asdict(m) for m in models.list_models(workspace(ctx))]
    render(ctx, rows, title="Territory models", columns=LIST_COLUMNS)


@app.command()
def show(
    ctx: typer.Context,
    model: Annotated[str | None, typer.Argument(help="Model (default: the active one).")] = None,
) -> None:
    """Show one model's state, settings and size.

    Example: territorial model show FY27_Plan
    """
    info = models.show_model(workspace(ctx), model)
    render(ctx, [{"field": k, "value": v} for k, v in asdict(info).items()], title=info.name)


@app.command()
def create(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Label of the new model.")],
    developer_name: Annotated[
        str | None, typer.Option(help="API name (default: derived from the label).")
    ] = None,
    description: Annotated[str, typer.Option(help="Free text.")] = "",
    combination: Annotated[
        str,
        typer.Option(
            metavar=COMBINATIONS,
            help="'all': accounts must meet all of a territory's rules; 'any': one of them.",
        ),
    ] = "all",
) -> None:
    """Create an empty planning model.

    Example: territorial model create "FY27 Plan"
    """
    info = models.create_model(
        workspace(ctx),
        name,
        developer_name=developer_name,
        description=description,
        rule_combination=combination,  # type: ignore[arg-type]
    )
    message(f"Created planning model {info.developer_name}.")


@app.command()
def clone(
    ctx: typer.Context,
    model: Annotated[str, typer.Argument(help="Model to copy.")],
    name: Annotated[str, typer.Argument(help="Label of the new planning model.")],
    developer_name: Annotated[str | None, typer.Option(help="API name of the copy.")] = None,
) -> None:
    """Copy a model into a new planning model (rule assignments are recomputed by a run).

    Example: territorial model clone FY26 "FY27 Plan"
    """
    info = models.clone_model(workspace(ctx), model, name, developer_name=developer_name)
    message(
        f"Cloned {info.cloned_from} into planning model {info.developer_name}: "
        f"{plural(info.territories, 'territory', 'territories')}, {plural(info.rules, 'rule')}. "
        f"Rule assignments are not copied. Next: 'territorial run "
        f"{info.developer_name}', then 'territorial compare {info.developer_name}'."
    )


@app.command()
def activate(
    ctx: typer.Context,
    model: Annotated[str, typer.Argument(help="Planning or archived model.")],
    include_closed: Annotated[
        bool,
        typer.Option(
            "--include-closed",
            help="Reassign closed opportunities too (default: open ones only; closed ones "
            "keep the territories they were closed in).",
        ),
    ] = False,
) -> None:
    """Make a model the active one; the previously active model is archived, atomically.

    Runs the model's rules, assigns its open opportunities territories by its opportunity
    policy, and reports what changed compared with the model it replaces. Activating an
    archived model rolls a realignment back.

    Example: territorial model activate FY27_Plan
    """
    result = models.activate_model(workspace(ctx), model, include_closed=include_closed)
    report(ctx, result.summary(), result.row())


@app.command()
def archive(
    ctx: typer.Context, model: Annotated[str, typer.Argument(help="Active or planning model.")]
) -> None:
    """Archive a model. Nothing is deleted; it can be activated again later.

    Example: territorial model archive FY26
    """
    info = models.archive_model(workspace(ctx), model)
    message(f"Model {info.developer_name} is archived.")


@app.command()
def delete(
    ctx: typer.Context,
    model: Annotated[str, typer.Argument(help="Planning or archived model.")],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Delete a planning or archived model and everything in it.

    Example: territorial model delete Old_Draft --yes
    """
    if not yes:
        typer.confirm(f"Delete model {model!r} and all its territories?", abort=True)
    models.delete_model(workspace(ctx), model)
    message(f"Deleted model {model}.")


@app.command()
def settings(
    ctx: typer.Context,
    model: Annotated[str, typer.Argument(help="Model to change.")],
    combination: Annotated[
        str,
        typer.Option(
            metavar=COMBINATIONS, help="'all' (Salesforce) or 'any' of a territory's rules."
        ),
    ],
) -> None:
    """Change a model's settings.

    Example: territorial model settings FY27_Plan --combination any
    """
    info = models.set_rule_combination(workspace(ctx), model, combination)  # type: ignore[arg-type]
    message(f"Model {info.developer_name}: rule combination {info.rule_combination}.")
