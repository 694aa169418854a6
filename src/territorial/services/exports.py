"""Export accounts, opportunities, users and a model's assignments and exclusions to CSV or
Parquet.

Every export but the exclusions can be imported again unchanged (see
:mod:`territorial.services.imports`):
records carry their custom fields as columns, territories are named by developer name
(with the label beside it), and ``salesforce_names=True`` writes Salesforce API column
names (``Id``, ``BillingPostalCode``, ``Territory2Id``...) that the importers accept too.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import polars as pl
from sqlalchemy.orm import Session

from territorial.core.fields import Field, FieldType, RecordKind
from territorial.core.text import plural
from territorial.io.tabular import write_table
from territorial.services import lookup
from territorial.services.fields import catalog
from territorial.services.imports import TABLES
from territorial.services.workspace import Workspace
from territorial.store import bulk
from territorial.store.frames import DTYPES

_LINK_NAMES = {
    "user": "UserId",
    "account": "ObjectId",
    "account_name": "Object.Name",
    "territory": "Territory2Id",
    "territory_name": "Territory2.Name",
    "role": "RoleInTerritory2",
    "cause": "AssociationCause",
    "rule": "RuleDeveloperName",
}
_SF_CAUSES = {"manual": "Territory2Manual", "rule": "Territory2AssignmentRule"}


@dataclass(frozen=True)
class ExportResult:
    """What an export wrote."""

    kind: str
    path: str
    rows: int

    def summary(self) -> str:
        """One line for people.

        >>> ExportResult("account", "out.csv", 2).summary()
        'out.csv: 2 account rows written.'
        >>> ExportResult("user", "users.csv", 1).summary()
        'users.csv: 1 user row written.'
        """
        return f"{self.path}: {plural(self.rows, self.kind + ' row')} written."


def _select(kind: RecordKind, fields: list[Field]) -> str:
    table = TABLES[kind]
    columns = ["a.id AS account_id" if f.name == "account_id" else f"r.{f.name}" for f in fields]
    columns.append("CAST(r.custom AS TEXT)")
    join = " JOIN account a ON a.pk = r.account_pk" if kind == "opportunity" else ""
    return f"SELECT {', '.join(columns)} FROM {table} r{join} ORDER BY r.pk"


def record_frame(session: Session, kind: RecordKind) -> tuple[pl.DataFrame, list[Field]]:
    """Every record of ``kind`` with its standard and custom fields as typed columns."""
    cat = catalog(session, kind)
    standard, custom = cat.standard_fields, cat.custom_fields
    schema: dict[str, pl.DataType] = {f.name: DTYPES[f.type] for f in standard}
    schema["_custom"] = pl.String()
    frame = bulk.read_frame(session, _select(kind, standard), schema)
    if custom:
        raw = pl.Struct(
            {f.name: pl.String() if f.type is FieldType.DATE else DTYPES[f.type] for f in custom}
        )
        frame = frame.with_columns(pl.col("_custom").str.json_decode(raw)).unnest("_custom")
        frame = frame.with_columns(
            pl.col(f.name).str.to_date("%Y-%m-%d", strict=False)
            for f in custom
            if f.type is FieldType.DATE
        )
    else:
        frame = frame.drop("_custom")
    return frame, [*standard, *custom]


def _write(frame: pl.DataFrame, path: Path | str, kind: str) -> ExportResult:
    write_table(frame, path)
    return ExportResult(kind, str(path), frame.height)


def _export_records(
    ws: Workspace, kind: RecordKind, path: Path | str, salesforce_names: bool
) -> ExportResult:
    with ws.session() as session:
        frame, fields = record_frame(session, kind)
    if salesforce_names:
        frame = frame.rename({f.name: f.salesforce_name for f in fields})
    return _write(frame, path, kind)


def export_accounts(
    ws: Workspace, path: Path | str, *, salesforce_names: bool = False
) -> ExportResult:
    """Write every account, custom fields included, to ``path`` (.csv or .parquet)."""
    return _export_records(ws, "account", path, salesforce_names)


def export_opportunities(
    ws: Workspace, path: Path | str, *, salesforce_names: bool = False
) -> ExportResult:
    """Write every opportunity (``account_id`` is the account's external id)."""
    return _export_records(ws, "opportunity", path, salesforce_names)


def export_users(
    ws: Workspace, path: Path | str, *, salesforce_names: bool = False
) -> ExportResult:
    """Write every sales user."""
    return _export_records(ws, "user", path, salesforce_names)


def _links(
    ws: Workspace, model: str | None, sql: str, schema: dict[str, pl.DataType]
) -> pl.DataFrame:
    with ws.session() as session:
        model_pk = lookup.model_or_active(session, model).pk
        return bulk.read_frame(session, sql.format(model_pk=int(model_pk)), schema)


def export_user_territories(
    ws: Workspace, path: Path | str, *, model: str | None = None, salesforce_names: bool = False
) -> ExportResult:
    """Write the user assignments of ``model`` (default: the active one): user id,
    territory, its label, role."""
    frame = _links(
        ws,
        model,
        "SELECT u.id, t.developer_name, t.name, ua.role FROM user_assignment ua "
        "JOIN sales_user u ON u.pk = ua.user_pk JOIN territory t ON t.pk = ua.territory_pk "
        "WHERE t.model_pk = {model_pk} ORDER BY t.developer_name, u.id",
        {
            "user": pl.String(),
            "territory": pl.String(),
            "territory_name": pl.String(),
            "role": pl.String(),
        },
    )
    if salesforce_names:
        frame = frame.rename(_LINK_NAMES, strict=False)
    return _write(frame, path, "user-territory")


def export_assignments(
    ws: Workspace, path: Path | str, *, model: str | None = None, salesforce_names: bool = False
) -> ExportResult:
    """Write the account assignments of ``model`` (default: the active one): account,
    territory, label, cause, rule."""
    frame = _links(
        ws,
        model,
        "SELECT a.id, t.developer_name, t.name, aa.cause, r.developer_name "
        "FROM account_assignment aa JOIN account a ON a.pk = aa.account_pk "
        "JOIN territory t ON t.pk = aa.territory_pk "
        "LEFT JOIN assignment_rule r ON r.pk = aa.rule_pk "
        "WHERE aa.model_pk = {model_pk} ORDER BY a.id, t.developer_name, aa.cause",
        {
            "account": pl.String(),
            "territory": pl.String(),
            "territory_name": pl.String(),
            "cause": pl.String(),
            "rule": pl.String(),
        },
    )
    if salesforce_names:
        frame = frame.with_columns(pl.col("cause").replace(_SF_CAUSES)).rename(
            _LINK_NAMES, strict=False
        )
    return _write(frame, path, "assignment")


def export_exclusions(
    ws: Workspace, path: Path | str, *, model: str | None = None, salesforce_names: bool = False
) -> ExportResult:
    """Write the exclusions of ``model`` (default: the active one), for people: account id,
    account name, territory (developer name) and its label, one row per account kept out
    of a territory's rules. ``salesforce dataloader`` writes them for Salesforce."""
    frame = _links(
        ws,
        model,
        "SELECT a.id, a.name, t.developer_name, t.name FROM exclusion e "
        "JOIN account a ON a.pk = e.account_pk JOIN territory t ON t.pk = e.territory_pk "
        "WHERE t.model_pk = {model_pk} ORDER BY t.developer_name, a.id",
        {
            "account": pl.String(),
            "account_name": pl.String(),
            "territory": pl.String(),
            "territory_name": pl.String(),
        },
    )
    if salesforce_names:
        frame = frame.rename(_LINK_NAMES, strict=False)
    return _write(frame, path, "exclusion")


__all__ = [
    "ExportResult",
    "export_accounts",
    "export_assignments",
    "export_exclusions",
    "export_opportunities",
    "export_user_territories",
    "export_users",
    "record_frame",
]
