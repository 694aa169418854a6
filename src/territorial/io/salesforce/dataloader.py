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

from collections.abc import Mapping
from pathlib import Path

import polars as pl

from territorial.errors import InputFileError, Problem
from territorial.io.tabular import read_table

MANUAL = "Territory2Manual"
BY_NAME = "Territory2.DeveloperName"
_ID_HEADERS = ("id", "territory2id")
_NAME_HEADERS = ("developername", "territory2developername", "developer_name", "territory")


def _squash(header: str) -> str:
    return "".join(ch for ch in header.lower() if ch.isalnum() or ch == "_").replace("_", "")


def read_id_map(path: Path | str) -> dict[str, str]:
    """Territory developer name → ``Territory2Id`` from a CSV (``Id``, ``DeveloperName``).

    The file is read like every other input file (:func:`~territorial.io.tabular.read_table`),
    so a territory named ``NA`` stays ``NA``.
    """
    table = read_table(path)
    header = {_squash(name): name for name in table.frame.columns}
    id_col = next((header[h] for h in _ID_HEADERS if h in header), None)
    name_col = next((header[_squash(h)] for h in _NAME_HEADERS if _squash(h) in header), None)
    if id_col is None or name_col is None:
        missing = [n for n, c in (("Id", id_col), ("DeveloperName", name_col)) if c is None]
        raise InputFileError(
            str(path),
            [
                Problem(
                    f"has no {' or '.join(missing)} column",
                    row=1,
                    hint="Export SELECT Id, DeveloperName FROM Territory2 "
                    "WHERE Territory2ModelId=...",
                )
            ],
        )
    pairs = table.frame.select(
        pl.col(name_col).str.strip_chars().alias("name"),
        pl.col(id_col).str.strip_chars().alias("id"),
    )
    result: dict[str, str] = {}
    problems: list[Problem] = []
    for index, (name, ident) in enumerate(pairs.iter_rows()):
        if not name and not ident:
            continue
        if not name or not ident:
            problems.append(
                Problem("needs both an Id and a DeveloperName", row=table.rows([index])[0])
            )
        elif name in result and result[name] != ident:
            message = f"{name!r} appears twice with different ids"
            problems.append(Problem(message, row=table.rows([index])[0], column=id_col))
        else:
            result[name] = ident
    if problems:
        raise InputFileError(str(path), problems)
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
