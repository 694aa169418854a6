"""``territorial import``, ``territorial export`` and ``territorial field``: data in and out."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, get_args

import typer
from rich.markup import escape

from territorial.cli._common import message, progress, render, workspace
from territorial.cli._help import choices
from territorial.core.fields import FieldType, RecordKind
from territorial.services import exports, fields, imports, links

import_app = typer.Typer(
    help="Import records and assignments from CSV or Parquet files.", no_args_is_help=True
)
export_app = typer.Typer(
    help="Export records and assignments to CSV or Parquet files.", no_args_is_help=True
)
field_app = typer.Typer(help="List and declare custom fields.", no_args_is_help=True)

FileArg = Annotated[Path, typer.Argument(help="A .csv (UTF-8) or .parquet file.")]
CreateFields = Annotated[
    bool,
    typer.Option("--create-fields", help="Declare unknown columns as custom fields."),
]
IgnoreUnknown = Annotated[
    bool,
    typer.Option(
        "--ignore-unknown",
        help="Skip columns that are not Territorial fields (listed in one warning).",
    ),
]
ModelOpt = Annotated[str, typer.Option("--model", "-m", help="Model developer name or label.")]
ExportModelOpt = Annotated[
    str | None,
    typer.Option("--model", "-m", help="Model developer name or label (default: the active one)."),
]
OutOpt = Annotated[Path, typer.Option("--output", "-o", help="Output file (.csv or .parquet).")]
SfNames = Annotated[
    bool, typer.Option("--salesforce-names", help="Write Salesforce API column names.")
]

BIG_FILE_BYTES = 5_000_000


@contextmanager
def _progress_for(path: Path) -> Iterator[imports.OnProgress | None]:
    """A progress bar for files big enough to take a while."""
    if not path.is_file() or path.stat().st_size < BIG_FILE_BYTES:
        yield None
        return
    with progress() as bar:
        task = bar.add_task(f"Writing {path.name}", total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update


def _records(
    ctx: typer.Context,
    run: Callable[..., imports.ImportResult],
    path: Path,
    **options: bool,
) -> None:
    with _progress_for(path) as on_progress:
        result = run(workspace(ctx), path, on_progress=on_progress, **options)
    for warning in result.warnings:
        message(f"[yellow]Warning:[/yellow] {escape(warning)}")
    message(result.summary())


@import_app.command("accounts")
def import_accounts(
    ctx: typer.Context,
    file: FileArg,
    create_fields: CreateFields = False,
    ignore_unknown: IgnoreUnknown = False,
    assign: Annotated[
        bool,
        typer.Option(
            "--assign/--no-assign",
            help="Assign the imported accounts at once in the active model.",
        ),
    ] = True,
) -> None:
    """Insert or update accounts by id (Salesforce column names accepted); they are
    assigned in the active model at once, in the same transaction.

    Example: territorial import accounts accounts.csv --create-fields
    """
    _records(
        ctx,
        imports.import_accounts,
        file,
        create_fields=create_fields,
        ignore_unknown=ignore_unknown,
        assign=assign,
    )


@import_app.command("opportunities")
def import_opportunities(
    ctx: typer.Context,
    file: FileArg,
    create_fields: CreateFields = False,
    ignore_unknown: IgnoreUnknown = False,
    assign: Annotated[
        bool,
        typer.Option(
            "--assign/--no-assign",
            help="Give new and changed open opportunities their territory in the active model.",
        ),
    ] = True,
) -> None:
    """Insert or update opportunities by id; account_id must name an imported account.
    New and changed open opportunities get their territory in the active model at once,
    in the same transaction.

    Example: territorial import opportunities Opportunity_extract.csv --ignore-unknown
    """
    _records(
        ctx,
        imports.import_opportunities,
        file,
        create_fields=create_fields,
        ignore_unknown=ignore_unknown,
        assign=assign,
    )


@import_app.command("users")
def import_users(
    ctx: typer.Context,
    file: FileArg,
    create_fields: CreateFields = False,
    ignore_unknown: IgnoreUnknown = False,
) -> None:
    """Insert or update sales users by id.

    Example: territorial import users User_extract.csv --ignore-unknown
    """
    _records(
        ctx, imports.import_users, file, create_fields=create_fields, ignore_unknown=ignore_unknown
    )


@import_app.command("user-territories")
def import_user_territories(ctx: typer.Context, file: FileArg, model: ModelOpt) -> None:
    """Assign users to territories with a role (columns user, territory, role).

    Example: territorial import user-territories UserTerritory2Association.csv --model FY27
    """
    message(links.import_user_territories(workspace(ctx), file, model=model).summary())


@import_app.command("assignments")
def import_assignments(ctx: typer.Context, file: FileArg, model: ModelOpt) -> None:
    """Add manual account assignments (columns account, territory; rule rows are skipped).

    Example: territorial import assignments manual.csv --model FY27
    """
    message(links.import_assignments(workspace(ctx), file, model=model).summary())


@export_app.command("accounts")
def export_accounts(ctx: typer.Context, output: OutOpt, salesforce_names: SfNames = False) -> None:
    """Write every account, custom fields included.

    Example: territorial export accounts -o accounts.parquet
    """
    ws = workspace(ctx)
    message(exports.export_accounts(ws, output, salesforce_names=salesforce_names).summary())


@export_app.command("opportunities")
def export_opportunities(
    ctx: typer.Context, output: OutOpt, salesforce_names: SfNames = False
) -> None:
    """Write every opportunity.

    Example: territorial export opportunities -o opportunities.csv
    """
    ws = workspace(ctx)
    result = exports.export_opportunities(ws, output, salesforce_names=salesforce_names)
    message(result.summary())


@export_app.command("users")
def export_users(ctx: typer.Context, output: OutOpt, salesforce_names: SfNames = False) -> None:
    """Write every sales user.

    Example: territorial export users -o users.csv --salesforce-names
    """
    ws = workspace(ctx)
    message(exports.export_users(ws, output, salesforce_names=salesforce_names).summary())


@export_app.command("user-territories")
def export_user_territories(
    ctx: typer.Context,
    output: OutOpt,
    model: ExportModelOpt = None,
    salesforce_names: SfNames = False,
) -> None:
    """Write a model's user assignments (user, territory, territory_name, role).

    The active model unless --model names another.

    Example: territorial export user-territories --model FY27 -o users-territories.csv
    """
    result = exports.export_user_territories(
        workspace(ctx), output, model=model, salesforce_names=salesforce_names
    )
    message(result.summary())


@export_app.command("assignments")
def export_assignments(
    ctx: typer.Context,
    output: OutOpt,
    model: ExportModelOpt = None,
    salesforce_names: SfNames = False,
) -> None:
    """Write a model's account assignments (account, territory, label, cause, rule).

    The active model unless --model names another. The rule of a rule assignment is the
    one its run recorded: the rule that sets the territory apart from its siblings
    ('territorial run --help').

    Example: territorial export assignments --model FY27 -o assignments.csv
    """
    result = exports.export_assignments(
        workspace(ctx), output, model=model, salesforce_names=salesforce_names
    )
    message(result.summary())


@export_app.command("exclusions")
def export_exclusions(
    ctx: typer.Context,
    output: OutOpt,
    model: ExportModelOpt = None,
    salesforce_names: SfNames = False,
) -> None:
    """Write a model's exclusions: accounts kept out of a territory's rules.

    Columns account, account_name, territory, territory_name; the active model unless
    --model names another. 'territorial salesforce dataloader' writes them for Salesforce
    as Territory2ObjectExclusion rows.

    Example: territorial export exclusions --model FY28_West -o exclusions.csv
    """
    result = exports.export_exclusions(
        workspace(ctx), output, model=model, salesforce_names=salesforce_names
    )
    message(result.summary())


ObjectOpt = Annotated[
    str,
    typer.Option(
        "--object", metavar=choices(get_args(RecordKind)), help="account, opportunity or user."
    ),
]


@field_app.command("list")
def field_list(ctx: typer.Context, object_: ObjectOpt = "account") -> None:
    """List the standard and custom fields of an object.

    Example: territorial field list --object opportunity
    """
    rows = [
        {
            "name": f.name,
            "salesforce_name": f.salesforce_name,
            "type": f.type.value,
            "custom": f.custom,
            "label": f.label,
            "values": ";".join(f.picklist_values),
        }
        for f in fields.list_fields(workspace(ctx), object_)
    ]
    render(ctx, rows, title=f"Fields of {object_}")


@field_app.command("add")
def field_add(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Letters, digits and underscores (Tier__c).")],
    type_: Annotated[
        str,
        typer.Option(
            "--type",
            metavar=choices(t.value for t in FieldType),
            help="text, number, date, boolean, picklist or multipicklist.",
        ),
    ],
    object_: ObjectOpt = "account",
    label: Annotated[str | None, typer.Option("--label", help="Label for people.")] = None,
    values: Annotated[
        str | None, typer.Option("--values", help="Picklist values, comma-separated.")
    ] = None,
) -> None:
    """Declare a custom field so imports and rules know its type.

    Example: territorial field add Tier__c --type picklist --values Gold,Silver,Bronze
    """
    picklist = values.split(",") if values else None
    field = fields.add_field(
        workspace(ctx), object_, name, type_, label=label, picklist_values=picklist
    )
    message(f"Added {field.type.value} field {field.name!r} to {object_}.")


def register(app: typer.Typer) -> None:
    """Add the import, export and field groups to the root app."""
    app.add_typer(import_app, name="import")
    app.add_typer(export_app, name="export")
    app.add_typer(field_app, name="field")


__all__ = ["export_app", "field_app", "import_app", "register"]
