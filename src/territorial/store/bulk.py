"""Bulk writes and reads of Polars frames, inside the caller's transaction.

Columns move, not ORM objects:

* SQLite: ``executemany`` on the session's own DBAPI connection, in batches of
  :data:`BATCH_ROWS`, with ``INSERT … ON CONFLICT (key) DO UPDATE``.
* PostgreSQL: ``COPY`` (CSV written by Polars) into a temporary staging table, then one
  ``INSERT … SELECT … ON CONFLICT (key) DO UPDATE``.

Both run on the connection the session already holds, so the caller's transaction
covers them: an error anywhere rolls every batch back. JSON columns named in
``merge_json`` are merged key by key on update (a JSON ``null`` removes the key), so an
import that carries only some custom fields keeps the others. A row whose values would
not change is not rewritten, and :func:`upsert` returns how many rows it inserted or
really changed; :func:`upsert_changed` returns their keys (the frame is staged first,
then written by one ``INSERT … SELECT … RETURNING``, on both databases).

>>> upsert_sql("sqlite", "account", ["id", "name"], key=["id"], update=["name"])
... # doctest: +NORMALIZE_WHITESPACE
'INSERT INTO account (id, name) VALUES (?, ?) ON CONFLICT (id) DO UPDATE SET name = excluded.name
 WHERE account.name IS NOT excluded.name'
"""

from __future__ import annotations

import io
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import polars as pl
from sqlalchemy.orm import Session

BATCH_ROWS = 50_000
"""Rows per ``executemany`` (SQLite) or per ``COPY`` chunk (PostgreSQL)."""

Schema = Mapping[str, pl.DataType | type[pl.DataType]]
"""Column names and Polars types of a frame read from the database."""

Progress = Callable[[int], None]
"""Called with the number of rows just written."""


def dialect(session: Session) -> str:
    """``sqlite`` or ``postgresql``."""
    return session.get_bind().dialect.name


def _raw(session: Session) -> Any:
    """The DBAPI connection under the session's current transaction."""
    return session.connection().connection.driver_connection


def _stored_json(dialect_name: str, table: str, column: str) -> str:
    """The stored JSON object without null members (an inserted row may carry some)."""
    if dialect_name == "sqlite":
        return f"json_patch('{{}}', coalesce({table}.{column}, '{{}}'))"
    return f"jsonb_strip_nulls(coalesce({table}.{column}, '{{}}'::jsonb))"


def _new_value(dialect_name: str, table: str, column: str, merge_json: Sequence[str]) -> str:
    if column not in merge_json:
        return f"excluded.{column}"
    stored = _stored_json(dialect_name, table, column)
    if dialect_name == "sqlite":
        return f"json_patch({stored}, excluded.{column})"
    return f"jsonb_strip_nulls({stored} || excluded.{column})"


def _old_value(dialect_name: str, table: str, column: str, merge_json: Sequence[str]) -> str:
    if column not in merge_json:
        return f"{table}.{column}"
    return _stored_json(dialect_name, table, column)


def _set_clause(
    dialect_name: str,
    table: str,
    update: Sequence[str],
    merge_json: Sequence[str],
    touch: str | None,
) -> str:
    """``SET`` of the updated columns, ``WHERE`` one of them actually changes.

    Unchanged rows are not rewritten (no new row version, no index or WAL traffic, and
    ``touch`` keeps the time of the last real change). Merged JSON is compared without
    null members: a missing key and a null value are the same.
    """
    values = {c: _new_value(dialect_name, table, c, merge_json) for c in update}
    parts = [f"{column} = {value}" for column, value in values.items()]
    if touch:
        parts.append(f"{touch} = CURRENT_TIMESTAMP")
    distinct = "IS NOT" if dialect_name == "sqlite" else "IS DISTINCT FROM"
    changed = " OR ".join(
        f"{_old_value(dialect_name, table, c, merge_json)} {distinct} {v}"
        for c, v in values.items()
    )
    return ", ".join(parts) + (f" WHERE {changed}" if changed else "")


def upsert_sql(
    dialect_name: str,
    table: str,
    columns: Sequence[str],
    *,
    key: Sequence[str],
    update: Sequence[str],
    merge_json: Sequence[str] = (),
    touch: str | None = None,
    source: str | None = None,
    returning: Sequence[str] = (),
) -> str:
    """The ``INSERT … ON CONFLICT`` statement for one table (``source``: a staging table;
    ``returning``: columns to return of the rows inserted or changed)."""
    names = ", ".join(columns)
    if source is None:
        body = f"VALUES ({', '.join('?' for _ in columns)})"
    else:
        # WHERE true: SQLite would otherwise read ON CONFLICT as part of the SELECT.
        body = f"SELECT {names} FROM {source} WHERE true"
    conflict = f" ON CONFLICT ({', '.join(key)}) DO "
    if update or touch:
        conflict += "UPDATE SET " + _set_clause(dialect_name, table, update, merge_json, touch)
    else:
        conflict += "NOTHING"
    tail = f" RETURNING {', '.join(returning)}" if returning else ""
    return f"INSERT INTO {table} ({names}) {body}{conflict}{tail}"


def _plain(frame: pl.DataFrame) -> pl.DataFrame:
    """Dates as ISO text (what SQLAlchemy stores on SQLite and PostgreSQL reads)."""
    return frame.with_columns(
        pl.col(name).dt.to_string("%Y-%m-%d")
        for name, dtype in frame.schema.items()
        if dtype == pl.Date
    )


def upsert(
    session: Session,
    table: str,
    frame: pl.DataFrame,
    *,
    key: Sequence[str] = ("id",),
    update: Sequence[str] | None = None,
    merge_json: Sequence[str] = (),
    touch: str | None = None,
    on_rows: Progress | None = None,
) -> int:
    """Insert the rows of ``frame`` into ``table``, updating those whose ``key`` exists;
    return how many rows were inserted or really changed.

    Parameters
    ----------
    frame
        One column per table column to write; the key must be unique within it.
    update
        Columns to overwrite on conflict (default: every non-key column); empty means
        ``DO NOTHING``.
    merge_json
        JSON text columns merged into the stored object instead of replacing it.
    touch
        A timestamp column set to the current time on update.
    """
    if frame.is_empty():
        return 0
    if update is None:
        update = [c for c in frame.columns if c not in key]
    frame = _plain(frame)
    if dialect(session) == "postgresql":
        return _upsert_postgresql(session, table, frame, key, update, merge_json, touch, on_rows)
    sql = upsert_sql(
        "sqlite",
        table,
        frame.columns,
        key=key,
        update=update,
        merge_json=merge_json,
        touch=touch,
    )
    return _executemany(session, sql, frame, on_rows)


def insert(
    session: Session, table: str, frame: pl.DataFrame, *, on_rows: Progress | None = None
) -> None:
    """Insert rows known to be new: ``COPY`` on PostgreSQL, batched ``executemany`` on
    SQLite. A row that already exists violates its unique key and fails the transaction."""
    if frame.is_empty():
        return
    frame = _plain(frame)
    if dialect(session) == "postgresql":
        copy_into(session, table, frame, on_rows)
        return
    marks = ", ".join("?" for _ in frame.columns)
    sql = f"INSERT INTO {table} ({', '.join(frame.columns)}) VALUES ({marks})"
    _executemany(session, sql, frame, on_rows)


def _executemany(session: Session, sql: str, frame: pl.DataFrame, on_rows: Progress | None) -> int:
    """Run ``sql`` for every row in batches; the number of rows it inserted or changed."""
    cursor = _raw(session).cursor()
    written = 0
    try:
        for start in range(0, frame.height, BATCH_ROWS):
            batch = frame.slice(start, BATCH_ROWS)
            cursor.executemany(sql, batch.iter_rows())
            written += max(cursor.rowcount, 0)
            if on_rows:
                on_rows(batch.height)
    finally:
        cursor.close()
    return written


def copy_into(
    session: Session, table: str, frame: pl.DataFrame, on_rows: Progress | None = None
) -> None:
    """PostgreSQL ``COPY`` of ``frame`` (CSV made by Polars) into ``table``."""
    columns = ", ".join(frame.columns)
    with (
        _raw(session).cursor() as cursor,
        cursor.copy(f"COPY {table} ({columns}) FROM STDIN (FORMAT csv)") as copy,
    ):
        for start in range(0, frame.height, BATCH_ROWS):
            batch = frame.slice(start, BATCH_ROWS)
            buffer = io.BytesIO()
            batch.write_csv(buffer, include_header=False, null_value="")
            copy.write(buffer.getvalue())
            if on_rows:
                on_rows(batch.height)


def _stage(session: Session, table: str, frame: pl.DataFrame, on_rows: Progress | None) -> str:
    """A temporary copy of ``frame`` with the column types of ``table``; its name."""
    stage = f"_stage_{table}_{uuid.uuid4().hex[:8]}"
    columns = ", ".join(frame.columns)
    postgresql = dialect(session) == "postgresql"
    suffix = " ON COMMIT DROP" if postgresql else ""
    tail = " WITH NO DATA" if postgresql else " WHERE 0"
    cursor = _raw(session).cursor()
    try:
        cursor.execute(f"CREATE TEMP TABLE {stage}{suffix} AS SELECT {columns} FROM {table}{tail}")
    finally:
        cursor.close()
    if postgresql:
        copy_into(session, stage, frame, on_rows)
    else:
        marks = ", ".join("?" for _ in frame.columns)
        _executemany(session, f"INSERT INTO {stage} VALUES ({marks})", frame, on_rows)
    return stage


def _upsert_staged(
    session: Session,
    table: str,
    frame: pl.DataFrame,
    sql: Callable[[str], str],
    on_rows: Progress | None,
) -> tuple[int, list[Any]]:
    """Stage ``frame`` and run ``sql(stage)`` from it: (rows written, rows returned)."""
    stage = _stage(session, table, frame, on_rows)
    cursor = _raw(session).cursor()
    try:
        cursor.execute(sql(stage))
        rows = list(cursor.fetchall()) if cursor.description else []
        written = len(rows) if cursor.description else max(cursor.rowcount, 0)
        cursor.execute(f"DROP TABLE {stage}")
    finally:
        cursor.close()
    return written, rows


def _upsert_postgresql(
    session: Session,
    table: str,
    frame: pl.DataFrame,
    key: Sequence[str],
    update: Sequence[str],
    merge_json: Sequence[str],
    touch: str | None,
    on_rows: Progress | None,
) -> int:
    def sql(stage: str) -> str:
        return upsert_sql(
            "postgresql",
            table,
            frame.columns,
            key=key,
            update=update,
            merge_json=merge_json,
            touch=touch,
            source=stage,
        )

    return _upsert_staged(session, table, frame, sql, on_rows)[0]


def upsert_changed(
    session: Session,
    table: str,
    frame: pl.DataFrame,
    *,
    key: Sequence[str] = ("id",),
    update: Sequence[str] | None = None,
    merge_json: Sequence[str] = (),
    touch: str | None = None,
    on_rows: Progress | None = None,
) -> pl.DataFrame:
    """:func:`upsert`, returning the ``key`` columns of the rows inserted or changed.

    Rows whose stored values already equal the file's are neither rewritten nor
    returned, so ``frame.height`` minus the result's height is the number unchanged.
    """
    keys = list(key)
    schema = {k: frame.schema[k] for k in keys}
    if frame.is_empty():
        return pl.DataFrame(schema=schema)
    if update is None:
        update = [c for c in frame.columns if c not in keys]
    plain = _plain(frame)
    name = dialect(session)

    def sql(stage: str) -> str:
        return upsert_sql(
            name,
            table,
            plain.columns,
            key=keys,
            update=update,
            merge_json=merge_json,
            touch=touch,
            source=stage,
            returning=keys,
        )

    rows = _upsert_staged(session, table, plain, sql, on_rows)[1]
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in keys]
    return pl.DataFrame(
        [pl.Series(k, list(v), dtype=schema[k]) for k, v in zip(keys, columns, strict=True)]
    )


def _coerce(frame: pl.DataFrame, schema: Schema) -> pl.DataFrame:
    exprs = []
    for name, dtype in schema.items():
        column = pl.col(name)
        source = frame.schema[name]
        if dtype == pl.Boolean and source == pl.String:
            flag = column.str.to_lowercase().is_in(["t", "true", "1"])
            exprs.append(pl.when(column.is_null()).then(None).otherwise(flag).alias(name))
        elif dtype == pl.Date and source == pl.String:
            exprs.append(column.str.slice(0, 10).str.to_date("%Y-%m-%d").alias(name))
        else:
            exprs.append(column.cast(dtype).alias(name))
    return frame.select(exprs)


def read_frame(session: Session, sql: str, schema: Schema) -> pl.DataFrame:
    """Run a plain ``SELECT`` (no parameters) and return its columns typed by ``schema``.

    The select list must produce the columns of ``schema`` in order. PostgreSQL streams
    it with ``COPY … TO STDOUT``; SQLite fetches rows from its DBAPI cursor.
    """
    names = list(schema)
    if dialect(session) == "postgresql":
        buffer = io.BytesIO()
        with (
            _raw(session).cursor() as cursor,
            cursor.copy(f"COPY ({sql}) TO STDOUT (FORMAT csv)") as copy,
        ):
            for chunk in copy:
                buffer.write(chunk)
        if buffer.tell() == 0:
            return pl.DataFrame(schema=schema)
        text = pl.read_csv(
            buffer.getvalue(), has_header=False, new_columns=names, infer_schema=False
        )
        return _coerce(text, schema)
    cursor = _raw(session).cursor()
    try:
        cursor.execute(sql)
        rows = cursor.fetchall()
    finally:
        cursor.close()
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in names]
    raw = pl.DataFrame(
        [
            pl.Series(name, list(values), strict=False)
            for name, values in zip(names, columns, strict=True)
        ]
    )
    raw = raw.with_columns(pl.col(n).cast(pl.String) for n in names if raw.schema[n] == pl.Null)
    return _coerce(raw, schema)


__all__ = [
    "BATCH_ROWS",
    "Progress",
    "Schema",
    "copy_into",
    "dialect",
    "read_frame",
    "upsert",
    "upsert_changed",
    "upsert_sql",
]
