"""Import accounts, opportunities, users, user-territory and manual account assignments.

Every import reads the whole file, validates it (types, required columns and values,
duplicate ids, references), and only then writes, in one transaction with one audit
entry: a bad file or a database error leaves the data exactly as it was.

Records are upserted by their external ``id``: new ids are inserted, existing ones
updated in the columns the file has (absent columns keep their values; custom fields
are merged key by key). Column names may be snake_case or Salesforce API names
(``Id``, ``BillingPostalCode``, ``Account.AnnualRevenue``, ``Tier__c``).

Columns that are ignored on purpose (reported in :attr:`ImportResult.ignored_columns`):

* Salesforce system columns that are not business data: ``attributes``, ``CreatedDate``,
  ``CreatedById``, ``LastModifiedDate``, ``LastModifiedById``, ``SystemModstamp``,
  ``IsDeleted``, ``LastActivityDate``, ``LastViewedDate``, ``LastReferencedDate``.
  Territorial keeps its own timestamps and audit log, and a deleted record should
  simply be left out of the file.
* Columns of a related record (``Owner.Name``, ``Account.Name`` in an opportunity file).
* ``Territory2Id`` of opportunities: territories are assigned per model by
  ``territorial opportunities assign``.

Any other unknown column is an error listing them all, unless ``create_fields`` declares
them as custom fields or ``ignore_unknown`` skips them (reported in
:attr:`ImportResult.unknown_columns` and as one warning).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import polars as pl
from sqlalchemy import select
from sqlalchemy.orm import Session

from territorial.core.fields import (
    Field,
    FieldCatalog,
    FieldType,
    RecordKind,
    is_valid_custom_name,
    squash,
)
from territorial.core.model import ModelState
from territorial.errors import InputFileError, Problem, ValidationError
from territorial.io.tabular import MAX_PROBLEMS, Table, bad_rows, infer_type, parse_columns
from territorial.io.tabular import read_table as read_table
from territorial.services import opportunities, runs
from territorial.services.fields import catalog, create_field
from territorial.services.import_checks import duplicate_rows, missing_required, out_of_range
from territorial.services.import_result import ImportResult, audit_import
from territorial.services.workspace import Workspace
from territorial.store import bulk
from territorial.store.schema import TerritoryModelRow

OnProgress = Callable[[int, int], None]
"""Called with (rows written so far, rows in total) while a big file is written."""

SYSTEM_COLUMNS = frozenset(
    squash(name)
    for name in (
        "attributes",
        "CreatedDate",
        "CreatedById",
        "LastModifiedDate",
        "LastModifiedById",
        "SystemModstamp",
        "IsDeleted",
        "LastActivityDate",
        "LastViewedDate",
        "LastReferencedDate",
    )
)
_IGNORED_BY_KIND: dict[str, frozenset[str]] = {
    "opportunity": frozenset({"territory2id", "territoryid"}),
}
TABLES: dict[RecordKind, str] = {
    "account": "account",
    "opportunity": "opportunity",
    "user": "sales_user",
}
# Non-null columns without a server default, with the value a new row gets.
_INSERT_DEFAULTS: dict[RecordKind, dict[str, bool]] = {
    "account": {"excluded_from_realign": False},
    "opportunity": {"is_closed": False, "is_won": False, "excluded_from_territory_filter": False},
    "user": {},
}


@dataclass
class _Columns:
    fields: dict[str, Field]  # header -> field
    unknown: list[str]
    ignored: list[str]


def _is_ignored(header: str, kind: RecordKind) -> bool:
    key = squash(header)
    if key in SYSTEM_COLUMNS or key in _IGNORED_BY_KIND.get(kind, frozenset()):
        return True
    prefix, dot, _ = header.partition(".")
    return bool(dot) and squash(prefix) != squash(kind)


def _map_columns(table: Table, cat: FieldCatalog) -> tuple[_Columns, list[Problem]]:
    columns = _Columns({}, [], [])
    problems: list[Problem] = []
    claimed: dict[str, str] = {}
    for header in table.frame.columns:
        if _is_ignored(header, cat.kind):
            columns.ignored.append(header)
            continue
        found = cat.resolve(header)
        if found is None:
            columns.unknown.append(header)
        elif found.name in claimed:
            problems.append(
                Problem(
                    f"names the same field {found.name!r} as column {claimed[found.name]!r}",
                    row=1,
                    column=header,
                    hint="keep one of the two columns",
                )
            )
        else:
            claimed[found.name] = header
            columns.fields[header] = found
    return columns, problems


def _new_fields(table: Table, columns: _Columns, create: bool) -> tuple[list[Field], list[Problem]]:
    if not columns.unknown:
        return [], []
    if not create:
        names = ", ".join(repr(u) for u in columns.unknown)
        return [], [
            Problem(
                f"unknown column{'s' if len(columns.unknown) > 1 else ''} {names}",
                row=1,
                hint="import again with --create-fields to add them as custom fields or with "
                "--ignore-unknown to skip them, or declare each with "
                "'territorial field add NAME --type TYPE' first",
            )
        ]
    fields, problems = [], []
    for header in columns.unknown:
        name = header.partition(".")[2] if "." in header else header
        field = Field(name, infer_type(table.frame[header]), name, custom=True)
        if not is_valid_custom_name(field.name):
            problems.append(
                Problem(
                    "is not a valid custom field name",
                    row=1,
                    column=header,
                    hint="rename it with letters, digits and underscores, e.g. Segment__c",
                )
            )
        fields.append(field)
        columns.fields[header] = field
    return fields, problems


def _custom_json(typed: pl.DataFrame, custom: list[Field]) -> pl.Expr:
    values = [
        pl.col(f.name).dt.to_string("%Y-%m-%d") if f.type is FieldType.DATE else pl.col(f.name)
        for f in custom
    ]
    return pl.struct(values).struct.json_encode().alias("custom")


def _record_frame(
    kind: RecordKind, typed: pl.DataFrame, fields: list[Field]
) -> tuple[pl.DataFrame, list[str]]:
    """The frame to write and the columns to update on conflict."""
    standard = [f.name for f in fields if not f.custom]
    custom = [f for f in fields if f.custom]
    exprs: list[pl.Expr] = [pl.col(name) for name in standard]
    if custom:
        exprs.append(_custom_json(typed, custom))
    frame = typed.select(exprs)
    update = [c for c in frame.columns if c != "id"]
    defaults = {k: v for k, v in _INSERT_DEFAULTS[kind].items() if k not in frame.columns}
    if defaults:
        frame = frame.with_columns(pl.lit(v).alias(k) for k, v in defaults.items())
    return frame, update


def resolve_accounts(
    session: Session, table: Table, typed: pl.DataFrame, column: str, label: str
) -> tuple[pl.Series, list[Problem]]:
    accounts = bulk.read_frame(
        session, "SELECT id, pk FROM account", {"id": pl.String, "pk": pl.Int64}
    )
    joined = typed.select(pl.col(column)).join(
        accounts.rename({"id": column}), on=column, how="left", maintain_order="left"
    )
    missing = joined["pk"].is_null() & typed[column].is_not_null()
    problems = (
        bad_rows(
            table,
            typed,
            missing,
            column,
            label,
            "account {value!r} not found",
            "import the account first, or fix the id",
        )
        if missing.any()
        else []
    )
    return joined["pk"], problems


def _progress(total: int, on_progress: OnProgress | None) -> bulk.Progress | None:
    if on_progress is None:
        return None
    done = 0

    def step(rows: int) -> None:
        nonlocal done
        done += rows
        on_progress(done, total)

    return step


@dataclass(frozen=True)
class _Parsed:
    """A validated file: the frame to write and what the import reports about columns."""

    frame: pl.DataFrame
    update: list[str]
    new_fields: list[Field]
    ignored: tuple[str, ...]
    unknown: tuple[str, ...]


def _parse_file(
    session: Session, table: Table, kind: RecordKind, *, create_fields: bool, ignore_unknown: bool
) -> _Parsed:
    """Map, type and check every column and row of ``table``; raise every problem at once."""
    cat = catalog(session, kind)
    columns, problems = _map_columns(table, cat)
    unknown = tuple(columns.unknown) if ignore_unknown else ()
    if ignore_unknown:
        columns.unknown = []
    new_fields, more = _new_fields(table, columns, create_fields)
    problems += more
    if problems:
        raise InputFileError(table.name, problems)
    types = {h: f.type for h, f in columns.fields.items()}
    labels = {h: h for h in columns.fields}
    typed, problems = parse_columns(table.frame, types, table=table, labels=labels)
    typed = typed.rename({h: f.name for h, f in columns.fields.items()})
    labels = {f.name: h for h, f in columns.fields.items()}
    present = {f.name: header for header, f in columns.fields.items()}
    problems += missing_required(table, typed, cat, present)
    problems += out_of_range(table, typed, labels)
    if "id" in typed.columns:
        problems += duplicate_rows(table, typed, ["id"], "id")
    if kind == "opportunity" and "account_id" in typed.columns:
        account_pk, more = resolve_accounts(
            session, table, typed, "account_id", labels["account_id"]
        )
        problems += more
        typed = typed.with_columns(account_pk.alias("account_pk")).drop("account_id")
    if problems:
        raise InputFileError(table.name, problems[:MAX_PROBLEMS])
    fields = [f for f in columns.fields.values() if f.name in typed.columns or f.custom]
    if kind == "opportunity":
        fields.append(Field("account_pk", FieldType.NUMBER))
    frame, update = _record_frame(kind, typed, fields)
    return _Parsed(frame, update, new_fields, tuple(columns.ignored), unknown)


def _write(
    session: Session,
    kind: RecordKind,
    parsed: _Parsed,
    on_progress: OnProgress | None,
    *,
    keys: bool,
) -> tuple[int, pl.Series | None]:
    """Upsert the records: (rows inserted or changed, their ids when ``keys``)."""
    frame, table = parsed.frame, TABLES[kind]
    touch = "updated_at" if kind != "user" else None
    on_rows = _progress(frame.height, on_progress)
    if keys:
        ids = bulk.upsert_changed(
            session,
            table,
            frame,
            update=parsed.update,
            merge_json=("custom",),
            touch=touch,
            on_rows=on_rows,
        )["id"]
        return ids.len(), ids
    written = bulk.upsert(
        session,
        table,
        frame,
        update=parsed.update,
        merge_json=("custom",),
        touch=touch,
        on_rows=on_rows,
    )
    return written, None


def _import_records(
    ws: Workspace,
    kind: RecordKind,
    path: Path | str,
    *,
    create_fields: bool,
    ignore_unknown: bool,
    on_progress: OnProgress | None,
    assign: bool,
) -> ImportResult:
    if create_fields and ignore_unknown:
        raise ValidationError(
            "Unknown columns cannot be both created as fields and ignored.",
            hint="Choose --create-fields (keep them as custom fields) or --ignore-unknown "
            "(skip them).",
        )
    table = read_table(path)
    with ws.session() as session:
        parsed = _parse_file(
            session, table, kind, create_fields=create_fields, ignore_unknown=ignore_unknown
        )
        existing = bulk.read_frame(session, f"SELECT id FROM {TABLES[kind]}", {"id": pl.String})
        inserted = parsed.frame.join(existing, on="id", how="anti").height
        created = tuple(
            create_field(session, kind, f.name, f.type, actor=ws.actor) for f in parsed.new_fields
        )
        active = _active_model(session) if assign else None
        # Opportunities are assigned only if new or changed, so their ids are needed.
        written, changed = _write(
            session, kind, parsed, on_progress, keys=active is not None and kind == "opportunity"
        )
        result = ImportResult(
            kind,
            table.name,
            parsed.frame.height,
            inserted,
            written - inserted,
            created,
            parsed.ignored,
            parsed.unknown,
        )
        if active is not None:
            ids = parsed.frame["id"] if changed is None else changed
            result = _assign_in(session, ws, active, result, ids)
        audit_import(session, ws, result)
    return result


def _active_model(session: Session) -> TerritoryModelRow | None:
    return session.scalar(
        select(TerritoryModelRow).where(TerritoryModelRow.state == ModelState.ACTIVE)
    )


def _assign_in(
    session: Session, ws: Workspace, active: TerritoryModelRow, result: ImportResult, ids: pl.Series
) -> ImportResult:
    """Assign the imported records in the active model, in the import's transaction.

    Accounts: the model's rules run for them, and the open opportunities of those whose
    territories changed get their territory again. Opportunities (the new or changed
    ones): the open ones get their territory from their account's, by the model's policy.
    """
    if ids.is_empty():
        return result
    if result.kind == "opportunity":
        policy = opportunities.opportunity_policy(active)
        opps = opportunities.execute(
            session, active, actor=ws.actor, policy=policy, open_only=True, opportunity_ids=ids
        )
        return replace(
            result,
            assigned_in=active.developer_name,
            assignments_added=opps.newly_assigned,
            assignments_moved=opps.moved,
            assignments_removed=opps.unassigned,
            without_territory=opps.without_territory,
        )
    run = runs.execute_run(
        session, active, actor=ws.actor, account_ids=ids.to_list(), track_moves=True
    )
    assert run.moved_accounts is not None
    followed = opportunities.follow_accounts(session, active, run.moved_accounts, actor=ws.actor)
    return replace(
        result,
        assigned_in=active.developer_name,
        assignments_added=run.added,
        assignments_removed=run.removed,
        opportunities_changed=followed.changed if followed is not None else 0,
    )


def import_accounts(
    ws: Workspace,
    path: Path | str,
    *,
    create_fields: bool = False,
    ignore_unknown: bool = False,
    on_progress: OnProgress | None = None,
    assign: bool = True,
) -> ImportResult:
    """Upsert accounts from a CSV or Parquet file by their external ``id``.

    Required columns: ``id`` and ``name`` (any accepted spelling). Unknown columns are an
    error listing them all, unless ``create_fields`` declares them as custom fields with
    inferred types (number, date, boolean, else text) or ``ignore_unknown`` skips them.
    With ``assign`` (the default) the imported accounts are assigned at once in the
    active model, in the same transaction, and the open opportunities of the accounts whose
    territories changed get their territory again by the model's opportunity policy
    (:attr:`ImportResult.opportunities_changed` says how many changed).
    """
    return _import_records(
        ws,
        "account",
        path,
        create_fields=create_fields,
        ignore_unknown=ignore_unknown,
        on_progress=on_progress,
        assign=assign,
    )


def import_opportunities(
    ws: Workspace,
    path: Path | str,
    *,
    create_fields: bool = False,
    ignore_unknown: bool = False,
    on_progress: OnProgress | None = None,
    assign: bool = True,
) -> ImportResult:
    """Upsert opportunities by ``id``; ``account_id`` must name an imported account.

    Unknown columns: as for :func:`import_accounts`. With ``assign`` (the default) the
    opportunities the file inserts or changes that are open (and not excluded from the
    territory filter) get their territory in the active model at once, in the same
    transaction, by the model's opportunity policy.
    """
    return _import_records(
        ws,
        "opportunity",
        path,
        create_fields=create_fields,
        ignore_unknown=ignore_unknown,
        on_progress=on_progress,
        assign=assign,
    )


def import_users(
    ws: Workspace,
    path: Path | str,
    *,
    create_fields: bool = False,
    ignore_unknown: bool = False,
    on_progress: OnProgress | None = None,
) -> ImportResult:
    """Upsert sales users by ``id`` (required columns ``id`` and ``name``).

    Unknown columns: as for :func:`import_accounts`.
    """
    return _import_records(
        ws,
        "user",
        path,
        create_fields=create_fields,
        ignore_unknown=ignore_unknown,
        on_progress=on_progress,
        assign=False,
    )


__all__ = [
    "SYSTEM_COLUMNS",
    "ImportResult",
    "OnProgress",
    "audit_import",
    "import_accounts",
    "import_opportunities",
    "import_users",
    "resolve_accounts",
]
