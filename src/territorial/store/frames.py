"""Typed Polars frames of stored records and assignments, read in bulk.

Only the columns a computation needs are read. Custom fields are extracted from the JSON
``custom`` column inside the database (``json_extract`` on SQLite, ``->>`` on PostgreSQL).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence

import polars as pl
from sqlalchemy import text
from sqlalchemy.orm import Session

from territorial.core.fields import FieldCatalog, FieldType
from territorial.store.bulk import dialect, read_frame, upsert

DTYPES: dict[FieldType, pl.DataType] = {
    FieldType.TEXT: pl.String(),
    FieldType.PICKLIST: pl.String(),
    FieldType.MULTIPICKLIST: pl.String(),
    FieldType.NUMBER: pl.Float64(),
    FieldType.DATE: pl.Date(),
    FieldType.BOOLEAN: pl.Boolean(),
}


def quote_literal(text: str) -> str:
    """A SQL string literal (single quotes doubled).

    >>> quote_literal("O'Brien")
    "'O''Brien'"
    """
    return "'" + text.replace("'", "''") + "'"


def _column_sql(dialect_name: str, name: str, custom: bool, table: str) -> str:
    if not custom:
        return f"{table}.{name}"
    if dialect_name == "postgresql":
        return f"({table}.custom ->> {quote_literal(name)})"
    return f"json_extract({table}.custom, {quote_literal('$.' + chr(34) + name + chr(34))})"


def in_list(column: str, values: Iterable[int]) -> str:
    """``column IN (1, 2, 3)`` for integer keys (safe: ints only)."""
    return f"{column} IN ({', '.join(str(int(v)) for v in values) or 'NULL'})"


def id_table(session: Session, ids: pl.Series) -> str:
    """Put external ids in a temporary table (column ``id``) and return its name: a scope
    of any size without a giant ``IN`` list. It goes when the transaction ends
    (PostgreSQL) or the connection closes (SQLite)."""
    table = f"scope_ids_{uuid.uuid4().hex[:8]}"
    suffix = " ON COMMIT DROP" if dialect(session) == "postgresql" else ""
    session.execute(text(f"CREATE TEMPORARY TABLE {table} (id VARCHAR(64) PRIMARY KEY){suffix}"))
    upsert(session, table, pl.DataFrame({"id": ids.cast(pl.String).unique()}), update=[])
    return table


def load_accounts(
    session: Session,
    catalog: FieldCatalog,
    fields: Iterable[str],
    *,
    where: str | None = None,
) -> pl.DataFrame:
    """``pk`` plus the named account fields (canonical names), typed by the catalog.

    ``where`` is a SQL condition on the ``account`` table (built by the caller from
    integer keys or quoted literals only).
    """
    dialect_name = dialect(session)
    schema: dict[str, pl.DataType] = {"pk": pl.Int64()}
    select_list = ["account.pk"]
    for name in sorted(set(fields)):
        field = catalog.fields.get(name)
        if field is None or name == "pk":
            continue
        schema[name] = DTYPES[field.type]
        select_list.append(_column_sql(dialect_name, name, field.custom, "account"))
    sql = f"SELECT {', '.join(select_list)} FROM account"
    if where:
        sql += f" WHERE {where}"
    return read_frame(session, sql + " ORDER BY account.pk", schema)


def load_assignments(
    session: Session,
    model_pk: int,
    *,
    cause: str | None = None,
    territory_pks: Sequence[int] | None = None,
    account_where: str | None = None,
) -> pl.DataFrame:
    """Account assignments of one model: pk, account_pk, territory_pk, rule_pk, cause."""
    conditions = [f"aa.model_pk = {int(model_pk)}"]
    if cause is not None:
        conditions.append(f"aa.cause = {quote_literal(cause)}")
    if territory_pks is not None:
        conditions.append(in_list("aa.territory_pk", territory_pks))
    if account_where:
        conditions.append(
            f"aa.account_pk IN (SELECT account.pk FROM account WHERE {account_where})"
        )
    sql = (
        "SELECT aa.pk, aa.account_pk, aa.territory_pk, aa.rule_pk, aa.cause "
        "FROM account_assignment aa WHERE " + " AND ".join(conditions)
    )
    schema: dict[str, pl.DataType] = {
        "pk": pl.Int64(),
        "account_pk": pl.Int64(),
        "territory_pk": pl.Int64(),
        "rule_pk": pl.Int64(),
        "cause": pl.String(),
    }
    return read_frame(session, sql, schema)


def load_exclusions(session: Session, model_pk: int) -> pl.DataFrame:
    """Exclusions of one model: territory_pk, account_pk."""
    sql = (
        "SELECT e.territory_pk, e.account_pk FROM exclusion e "
        f"JOIN territory t ON t.pk = e.territory_pk WHERE t.model_pk = {int(model_pk)}"
    )
    return read_frame(session, sql, {"territory_pk": pl.Int64(), "account_pk": pl.Int64()})


__all__ = [
    "DTYPES",
    "in_list",
    "load_accounts",
    "load_assignments",
    "load_exclusions",
    "quote_literal",
]
