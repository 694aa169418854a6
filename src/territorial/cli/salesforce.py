"""``territorial salesforce``: Territory2 metadata in and out, and Data Loader files."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from territorial.cli._common import message, render, workspace
from territorial.services import dataloader, salesforce

app = typer.Typer(
    help="Salesforce Enterprise Territory Management: import and export Territory2 metadata "
    "(source or Metadata API format), and write Data Loader files for assignments "
    "and exclusions.",
    no_args_is_help=True,
)


class Format(StrEnum):
    sfdx = "sfdx"
    mdapi = "mdapi"


def _warn(warnings: tuple[str, ...]) -> None:
    for w in warnings:
        message(f"[yellow]Warning:[/yellow] {w}")


@app.command("import")
def import_metadata(
    ctx: typer.Context,
    folder: Annotated[
        Path,
        typer.Argument(
            help="The metadata folder (force-app/main/default, an unzipped mdapi retrieve) "
            "or a folder above it, such as the sfdx project root."
        ),
    ],
    name: Annotated[
        str | None,
        typer.Option("--name", help="Label of the new model (e.g. when the name is taken)."),
    ] = None,
    model: Annotated[
        str | None, typer.Option("--model", help="Which model, when the folder holds several.")
    ] = None,
    map_field: Annotated[
        list[str] | None,
        typer.Option("--map-field", help="OLD=NEW: read rule field OLD as NEW (repeatable)."),
    ] = None,
    create_fields: Annotated[
        bool,
        typer.Option("--create-fields", help="Declare unknown rule fields as custom fields."),
    ] = False,
) -> None:
    """Create a planning model from Territory2 metadata: types, territories, rules.

    Every problem in the folder is listed at once, and nothing is written unless all is well.
    In an sfdx project, the metadata is looked for below the packageDirectories of
    sfdx-project.json.

    Example: territorial salesforce import my-sfdx-project --name "FY27 from Salesforce"
    """
    result = salesforce.import_salesforce_metadata(
        workspace(ctx),
        folder,
        name=name,
        model=model,
        map_fields=map_field or [],
        create_fields=create_fields,
    )
    _warn(result.warnings)
    message(result.summary())


@app.command("export")
def export_metadata(
    ctx: typer.Context,
    model: Annotated[str, typer.Argument(help="Model (developer name or label).")],
    folder: Annotated[Path, typer.Argument(help="Folder to write (new or empty).")],
    format: Annotated[
        Format, typer.Option("--format", help="sfdx (source project) or mdapi.")
    ] = Format.sfdx,
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="Update an earlier export in FOLDER.")
    ] = False,
) -> None:
    """Write a model as Territory2 metadata with package.xml, ready to deploy.

    Example: territorial salesforce export FY2028_Plan out/fy28 --format mdapi
    """
    result = salesforce.export_salesforce_metadata(
        workspace(ctx), model, folder, layout=format.value, overwrite=overwrite
    )
    _warn(result.warnings)
    message(result.summary())


@app.command("dataloader")
def dataloader_files(
    ctx: typer.Context,
    model: Annotated[str, typer.Argument(help="The model Salesforce should hold.")],
    folder: Annotated[Path, typer.Argument(help="Folder for the CSV files.")],
    against: Annotated[
        str | None,
        typer.Option("--against", help="The model Salesforce holds now: write only the delta."),
    ] = None,
    id_map: Annotated[
        Path | None,
        typer.Option("--id-map", help="CSV of Territory2 Id, DeveloperName (after deploy)."),
    ] = None,
    include_rule_assignments: Annotated[
        bool,
        typer.Option(
            "--include-rule-assignments",
            help="Also load rule assignments (as Territory2Manual).",
        ),
    ] = False,
    opportunities: Annotated[
        bool | None,
        typer.Option(
            "--opportunities/--no-opportunities",
            help="Write the Opportunity Territory2Id updates (default: unless the model's "
            "opportunity filter is off).",
        ),
    ] = None,
    include_closed: Annotated[
        bool,
        typer.Option(
            "--include-closed",
            help="Update closed opportunities too (default: open ones only, as activation).",
        ),
    ] = False,
) -> None:
    """Write Data Loader CSV files for territories of accounts, users, opportunities.

    Exclusions (accounts kept out of a territory's rules) are written as
    Territory2ObjectExclusion rows, to load before Salesforce's rule run.

    With --against, only rows to insert and rows to delete are written, and only the open
    opportunities whose territory changes. The counts and notes go to stderr.

    Example: territorial salesforce dataloader FY28_Plan load --against FY27 --id-map ids.csv
    """
    result = dataloader.export_dataloader_files(
        workspace(ctx),
        model,
        folder,
        against=against,
        id_map=id_map,
        include_rule_assignments=include_rule_assignments,
        opportunities=opportunities,
        include_closed=include_closed,
    )
    render(
        ctx,
        [
            {"file": f.path, "object": f.object, "operation": f.operation, "rows": f.rows}
            for f in result.files
        ],
        title=f"Data Loader files for {result.model}"
        + (f" against {result.against}" if result.against else ""),
    )
    message(result.summary())
    for note in result.notes:
        message(f"Note: {note}.")
