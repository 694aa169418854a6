"""Import links between records and territories of a model: users on territories with
their roles, and manual account assignments.

Like every import, the whole file is validated first (every problem listed with its row
and column) and written in one transaction with one audit entry.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
from sqlalchemy.orm import Session

from territorial.core.fields import squash
from territorial.errors import InputFileError, Problem
from territorial.io.tabular import MAX_PROBLEMS, Table, bad_rows, read_table
from territorial.services import lookup
from territorial.services.import_checks import duplicate_rows
from territorial.services.import_result import ImportResult, audit_import
from territorial.services.imports import SYSTEM_COLUMNS, resolve_accounts
from territorial.services.workspace import Workspace
from territorial.store import bulk

_LINK_COLUMNS: dict[str, dict[str, str]] = {
    "user_territory": {
        **dict.fromkeys(("user", "userid", "useremail", "email"), "user"),
        **dict.fromkeys(("role", "roleinterritory", "roleinterritory2"), "role"),
    },
    "assignment": {
        **dict.fromkeys(("account", "accountid", "objectid"), "account"),
        **dict.fromkeys(("cause", "associationcause"), "cause"),
    },
}
_TERRITORY_COLUMNS = (
    "territory",
    "territoryid",
    "territory2id",
    "territorydevelopername",
    "territory2developername",
    "developername",
)
# Informative columns our exports write beside the keys (labels, rule, association id).
_LINK_IGNORED = (
    frozenset(
        {
            "id",
            "territoryname",
            "territory2name",
            "rule",
            "ruledevelopername",
            "sobjecttype",
            "isactive",
        }
    )
    | SYSTEM_COLUMNS
)
_MANUAL = ("manual", "territory2manual")
_RULE = ("rule", "territory2assignmentrule")


def _link_columns(table: Table, kind: str, required: tuple[str, ...]) -> dict[str, str]:
    """Map the file's headers to link roles (user/account, territory, role/cause)."""
    aliases = {**_LINK_COLUMNS[kind], **dict.fromkeys(_TERRITORY_COLUMNS, "territory")}
    found: dict[str, str] = {}
    problems = []
    for header in table.frame.columns:
        role = aliases.get(squash(header.replace("Territory2.", "Territory")))
        if role is None and squash(header) in _LINK_IGNORED:
            continue
        if role is None:
            problems.append(
                Problem(
                    "unknown column",
                    row=1,
                    column=header,
                    hint=f"expected columns: {', '.join(required)}",
                )
            )
        elif role in found:
            problems.append(
                Problem(
                    f"means the same as column {found[role]!r}",
                    row=1,
                    column=header,
                    hint="keep one of the two columns",
                )
            )
        else:
            found[role] = header
    problems += [
        Problem(f"missing required column {role!r}", row=1, hint=f"add a column named {role}")
        for role in required
        if role not in found
    ]
    if problems:
        raise InputFileError(table.name, problems)
    return found


def _link_frame(table: Table, columns: dict[str, str]) -> pl.DataFrame:
    return table.frame.select(
        pl.col(header).str.strip_chars().replace("", None).alias(role)
        for role, header in columns.items()
    )


def _lookup(values: pl.Series, *maps: dict[str, int]) -> pl.Series:
    """Map text keys to pks: exact keys first, then lower-cased ones, in order."""
    result = pl.Series(values.name, [None] * len(values), dtype=pl.Int64)
    for mapping in maps:
        lowered = {k.lower(): v for k, v in mapping.items()}
        exact = values.replace_strict(mapping, default=None, return_dtype=pl.Int64)
        loose = values.str.to_lowercase().replace_strict(
            lowered, default=None, return_dtype=pl.Int64
        )
        result = result.fill_null(exact).fill_null(loose)
    return result


def _territory_pks(
    session: Session, table: Table, frame: pl.DataFrame, label: str, model_pk: int
) -> tuple[pl.Series, list[Problem]]:
    rows = bulk.read_frame(
        session,
        f"SELECT developer_name, name, pk FROM territory WHERE model_pk = {model_pk}",
        {"developer_name": pl.String, "name": pl.String, "pk": pl.Int64},
    )
    by_dev = dict(zip(rows["developer_name"], rows["pk"], strict=True))
    unique = rows.filter(pl.col("name").str.to_lowercase().is_unique())
    by_label = dict(zip(unique["name"], unique["pk"], strict=True))
    pks = _lookup(frame["territory"], by_dev, by_label)
    missing = pks.is_null() & frame["territory"].is_not_null()
    problems = (
        bad_rows(
            table,
            frame,
            missing,
            "territory",
            label,
            "territory {value!r} not found in the model",
            "use the territory's developer name",
        )
        if missing.any()
        else []
    )
    return pks, problems


def _empty_problems(
    table: Table, frame: pl.DataFrame, columns: dict[str, str], roles: tuple[str, ...]
) -> list[Problem]:
    problems: list[Problem] = []
    for role in roles:
        mask = frame[role].is_null()
        if mask.any():
            problems += bad_rows(
                table, frame, mask, role, columns[role], "is empty", f"every row needs a {role}"
            )
    return problems


def _user_territories(session: Session, table: Table, model: str) -> tuple[ImportResult, int]:
    model_pk = lookup.model(session, model).pk
    columns = _link_columns(table, "user_territory", ("user", "territory"))
    frame = _link_frame(table, columns)
    if "role" not in frame.columns:
        frame = frame.with_columns(role=pl.lit(None, pl.String))
    problems = _empty_problems(table, frame, columns, ("user", "territory"))
    found = lookup.user_pks(session, frame["user"].drop_nulls().unique().to_list())
    user_pk = frame["user"].replace_strict(found, default=None, return_dtype=pl.Int64)
    missing = user_pk.is_null() & frame["user"].is_not_null()
    if missing.any():
        problems += bad_rows(
            table,
            frame,
            missing,
            "user",
            columns["user"],
            "user {value!r} not found",
            "give a user's id, email (any case) or exact name; import users first, or fix it",
        )
    territory_pk, more = _territory_pks(session, table, frame, columns["territory"], model_pk)
    links = pl.DataFrame(
        {"territory_pk": territory_pk, "user_pk": user_pk, "role": frame["role"].fill_null("")}
    )
    problems += more + duplicate_rows(table, links, ["territory_pk", "user_pk"], "user/territory")
    if problems:
        raise InputFileError(table.name, problems[:MAX_PROBLEMS])
    existing = bulk.read_frame(
        session,
        "SELECT ua.territory_pk, ua.user_pk FROM user_assignment ua JOIN territory t "
        f"ON t.pk = ua.territory_pk WHERE t.model_pk = {model_pk}",
        {"territory_pk": pl.Int64, "user_pk": pl.Int64},
    )
    inserted = links.join(existing, on=["territory_pk", "user_pk"], how="anti").height
    written = bulk.upsert(session, "user_assignment", links, key=("territory_pk", "user_pk"))
    result = ImportResult("user-territory", table.name, links.height, inserted, written - inserted)
    return result, model_pk


def _assignments(session: Session, table: Table, model: str) -> tuple[ImportResult, int]:
    model_pk = lookup.model(session, model).pk
    columns = _link_columns(table, "assignment", ("account", "territory"))
    frame = _link_frame(table, columns)
    problems = _empty_problems(table, frame, columns, ("account", "territory"))
    cause = frame["cause"].str.to_lowercase() if "cause" in frame.columns else None
    if cause is not None:
        bad = cause.is_not_null() & ~cause.is_in(_MANUAL + _RULE)
        if bad.any():
            problems += bad_rows(
                table,
                frame,
                bad,
                "cause",
                columns["cause"],
                "unknown cause {value!r}",
                "use manual (Territory2Manual); rule rows are skipped",
            )
    account_pk, more = resolve_accounts(session, table, frame, "account", columns["account"])
    territory_pk, more2 = _territory_pks(session, table, frame, columns["territory"], model_pk)
    links = pl.DataFrame({"territory_pk": territory_pk, "account_pk": account_pk})
    keep = ~cause.is_in(_RULE).fill_null(False) if cause is not None else None
    problems += more + more2
    if keep is not None:
        links = links.filter(keep)
    problems += duplicate_rows(table, links, ["territory_pk", "account_pk"], "account/territory")
    if problems:
        raise InputFileError(table.name, problems[:MAX_PROBLEMS])
    existing = bulk.read_frame(
        session,
        "SELECT territory_pk, account_pk FROM account_assignment "
        f"WHERE model_pk = {model_pk} AND cause = 'manual'",
        {"territory_pk": pl.Int64, "account_pk": pl.Int64},
    )
    present = links.join(existing, on=["territory_pk", "account_pk"], how="semi").height
    rows = links.with_columns(model_pk=pl.lit(model_pk, pl.Int64), cause=pl.lit("manual"))
    bulk.upsert(
        session, "account_assignment", rows, key=("territory_pk", "account_pk", "cause"), update=()
    )
    # A manual assignment has nothing to update: those already present are unchanged.
    result = ImportResult(
        "assignment",
        table.name,
        frame.height,
        links.height - present,
        0,
        skipped=frame.height - links.height,
    )
    return result, model_pk


def import_user_territories(ws: Workspace, path: Path | str, *, model: str) -> ImportResult:
    """Assign users to territories of ``model`` with a role (upsert by user and territory).

    Columns: ``user`` (id, email in any case or exact name, found as
    :func:`lookup.user_pks` finds them; ``UserId``), ``territory`` (developer name or
    label; ``Territory2Id`` is read as a developer name), ``role`` (``RoleInTerritory2``).
    """
    table = read_table(path)
    with ws.session() as session:
        result, model_pk = _user_territories(session, table, model)
        audit_import(session, ws, result, model_pk)
    return result


def import_assignments(ws: Workspace, path: Path | str, *, model: str) -> ImportResult:
    """Add manual account assignments to territories of ``model``.

    Columns: ``account`` (external id; ``ObjectId``/``AccountId``), ``territory``
    (developer name or label; ``Territory2Id``), optional ``cause``
    (``AssociationCause``): empty, ``manual`` or ``Territory2Manual`` rows are imported;
    ``rule``/``Territory2AssignmentRule`` rows are skipped, because rule assignments are
    recomputed by ``territorial run``; any other cause is an error.
    """
    table = read_table(path)
    with ws.session() as session:
        result, model_pk = _assignments(session, table, model)
        audit_import(session, ws, result, model_pk)
    return result


__all__ = ["import_assignments", "import_user_territories"]
