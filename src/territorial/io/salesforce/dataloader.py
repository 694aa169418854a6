"""Data Loader files for Territory2 assignments and exclusions, and the territory id map
they need.

Salesforce gives territories their ``Territory2Id`` only when the metadata is deployed, so
every file is written twice: keyed by ``Territory2.DeveloperName`` (always), and by
``Territory2Id`` when an id map is given — a CSV of ``Id`` and ``DeveloperName``, for
example the result of ``SELECT Id, DeveloperName FROM Territory2 WHERE
Territory2ModelId = '0MA...'`` exported with Data Loader (its upper-case headers work).

>>> frame = pl.DataFrame({"account": ["001A"], "territory": ["West"], "cause": ["manual"]})
>>> object_associations(frame, None).columns
['ObjectId', 'Territory2.DeveloperName', 'AssociationCause']
>>> object_associations(frame, {"West": "0MI000000000001"}).row(0)
('001A', '0MI000000000001', 'Territory2Manual')
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from pathlib import Path

import polars as pl

from territorial.errors import InputFileError, Problem

MANUAL = "Territory2Manual"
BY_NAME = "Territory2.DeveloperName"
_ID_HEADERS = ("id", "territory2id")
_NAME_HEADERS = ("developername", "territory2developername", "developer_name", "territory")


def _squash(header: str) -> str:
    return "".join(ch for ch in header.lower() if ch.isalnum() or ch == "_").replace("_", "")


def read_id_map(path: Path | str) -> dict[str, str]:
    """Territory developer name → ``Territory2Id`` from a CSV (``Id``, ``DeveloperName``)."""
    source = Path(path)
    try:
        text = source.read_bytes().decode("utf-8-sig")
    except (OSError, UnicodeDecodeError) as err:
        raise InputFileError(
            str(source), [Problem(f"cannot be read: {err}", hint="Give a UTF-8 CSV file.")]
        ) from err
    rows = list(csv.reader(io.StringIO(text)))
    if not rows:
        raise InputFileError(str(source), [Problem("is empty", hint="Export Id, DeveloperName.")])
    header = [_squash(h) for h in rows[0]]
    id_col = next((header.index(h) for h in _ID_HEADERS if h in header), None)
    name_col = next((header.index(_squash(h)) for h in _NAME_HEADERS if _squash(h) in header), None)
    problems: list[Problem] = []
    if id_col is None or name_col is None:
        missing = [n for n, c in (("Id", id_col), ("DeveloperName", name_col)) if c is None]
        problems.append(
            Problem(
                f"has no {' or '.join(missing)} column",
                row=1,
                hint="Export SELECT Id, DeveloperName FROM Territory2 WHERE Territory2ModelId=...",
            )
        )
        raise InputFileError(str(source), problems)
    result: dict[str, str] = {}
    for line, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) <= max(id_col, name_col):
            problems.append(Problem("has too few values", row=line))
            continue
        name, ident = row[name_col].strip(), row[id_col].strip()
        if not name or not ident:
            problems.append(Problem("needs both an Id and a DeveloperName", row=line))
        elif name in result and result[name] != ident:
            problems.append(
                Problem(
                    f"{name!r} appears twice with different ids", row=line, column=rows[0][id_col]
                )
            )
        else:
            result[name] = ident
    if problems:
        raise InputFileError(str(source), problems)
    return result


def missing_territories(frames: list[pl.DataFrame], id_map: Mapping[str, str]) -> list[str]:
    """Territories named in ``frames`` (column ``territory``) that the id map lacks."""
    names: set[str] = set()
    for frame in frames:
        names.update(v for v in frame["territory"].unique().to_list() if v is not None)
    return sorted(names - set(id_map))


def _territory(frame: pl.DataFrame, id_map: Mapping[str, str] | None) -> pl.Expr:
    if id_map is None:
        return pl.col("territory").alias(BY_NAME)
    return pl.col("territory").replace_strict(dict(id_map), default=None).alias("Territory2Id")


def object_associations(frame: pl.DataFrame, id_map: Mapping[str, str] | None) -> pl.DataFrame:
    """``ObjectTerritory2Association`` rows: ObjectId, territory, AssociationCause.

    Every row is written with cause ``Territory2Manual``: the API inserts only manual
    associations; rule-caused ones are created by Salesforce's own rule run.
    """
    return frame.select(
        pl.col("account").alias("ObjectId"),
        _territory(frame, id_map),
        pl.lit(MANUAL).alias("AssociationCause"),
    )


def user_associations(frame: pl.DataFrame, id_map: Mapping[str, str] | None) -> pl.DataFrame:
    """``UserTerritory2Association`` rows: UserId, territory, RoleInTerritory2."""
    return frame.select(
        pl.col("user").alias("UserId"),
        _territory(frame, id_map),
        pl.col("role").alias("RoleInTerritory2"),
    )


def object_exclusions(frame: pl.DataFrame, id_map: Mapping[str, str] | None) -> pl.DataFrame:
    """``Territory2ObjectExclusion`` rows: ObjectId (the account) and the territory whose
    rules leave it out.

    >>> frame = pl.DataFrame({"account": ["001A"], "territory": ["West"]})
    >>> object_exclusions(frame, None).rows()
    [('001A', 'West')]
    >>> object_exclusions(frame, {"West": "0MI000000000001"}).columns
    ['ObjectId', 'Territory2Id']
    """
    return frame.select(pl.col("account").alias("ObjectId"), _territory(frame, id_map))


def opportunity_updates(frame: pl.DataFrame, id_map: Mapping[str, str] | None) -> pl.DataFrame:
    """Opportunity update rows: Id and the territory (blank clears it)."""
    return frame.select(pl.col("opportunity").alias("Id"), _territory(frame, id_map))


def write_csv(frame: pl.DataFrame, path: Path) -> None:
    """UTF-8 CSV with a header, as Data Loader reads it; nulls are empty cells."""
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.write_csv(path, null_value="")


__all__ = [
    "BY_NAME",
    "MANUAL",
    "missing_territories",
    "object_associations",
    "object_exclusions",
    "opportunity_updates",
    "read_id_map",
    "user_associations",
    "write_csv",
]
