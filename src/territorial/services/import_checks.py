"""Checks of imported records, each returning every problem found (capped per check):
required columns and values, values out of any sensible range, and duplicate keys."""

from __future__ import annotations

import polars as pl

from territorial.core.fields import FieldCatalog
from territorial.errors import Problem
from territorial.io.tabular import MAX_PROBLEMS, Table, bad_rows


def missing_required(
    table: Table, typed: pl.DataFrame, cat: FieldCatalog, present: dict[str, str]
) -> list[Problem]:
    """Required columns absent, and rows where a required value is empty (``present``:
    field name to the file's column)."""
    problems = []
    for f in cat.standard_fields:
        if not f.required:
            continue
        if f.name not in present:
            problems.append(
                Problem(
                    f"missing required column {f.name!r}",
                    row=1,
                    hint=f"add a column named {f.name} (or {f.salesforce_name})",
                )
            )
            continue
        mask = typed[f.name].is_null() | (typed[f.name].str.strip_chars() == "")
        if mask.any():
            problems += bad_rows(
                table,
                typed,
                mask,
                f.name,
                present[f.name],
                "is empty",
                f"every row needs a value for {f.name}",
            )
    return problems


RANGES: dict[str, tuple[float, float, bool, str]] = {
    "latitude": (-90.0, 90.0, True, "degrees between -90 and 90"),
    "longitude": (-180.0, 180.0, True, "degrees between -180 and 180"),
    "home_latitude": (-90.0, 90.0, True, "degrees between -90 and 90"),
    "home_longitude": (-180.0, 180.0, True, "degrees between -180 and 180"),
    "capacity": (0.0, float("inf"), False, "a number above 0; 1.0 is a full-time rep"),
    "number_of_employees": (0.0, float("inf"), True, "a count of 0 or more"),
}
"""Standard number fields whose values have bounds: (low, high, low allowed, as said)."""


def out_of_range(table: Table, typed: pl.DataFrame, labels: dict[str, str]) -> list[Problem]:
    """Values no record can have: a latitude of 200, a capacity of -1."""
    problems = []
    for name, (low, high, closed, wanted) in RANGES.items():
        if name not in typed.columns or not typed.schema[name].is_numeric():
            continue
        value = pl.col(name)
        below = value < low if closed else value <= low
        mask = typed.select((below | (value > high)).fill_null(False)).to_series()
        if mask.any():
            problems += bad_rows(
                table, typed, mask, name, labels[name], "{value} is out of range", f"give {wanted}"
            )
    return problems


def duplicate_rows(table: Table, typed: pl.DataFrame, keys: list[str], label: str) -> list[Problem]:
    indexed = typed.select(keys).with_row_index("_i")
    dups = (
        indexed.filter(
            pl.struct(keys).is_duplicated()
            & pl.all_horizontal(pl.col(k).is_not_null() for k in keys)
        )
        .group_by(keys, maintain_order=True)
        .agg(pl.col("_i"))
        .head(MAX_PROBLEMS)
    )
    problems = []
    for row in dups.iter_rows(named=True):
        rows = table.rows(row["_i"])
        value = "/".join(str(row[k]) for k in keys)
        problems.append(
            Problem(
                f"{label} {value!r} appears more than once, on rows "
                + ", ".join(str(r) for r in rows),
                row=rows[0],
                hint="keep one row per " + label,
            )
        )
    return problems


__all__ = ["RANGES", "duplicate_rows", "missing_required", "out_of_range"]
