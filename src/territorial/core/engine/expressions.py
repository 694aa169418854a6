"""Rule items as vectorized Polars expressions, with exactly the reference semantics.

Every expression is null-free (an empty field gives False, never null), so a negated
literal of a boolean filter is simply ``~expr``. ``within`` is not an expression: its
distance test is computed by ``within_column`` (NumPy, with boundary cases re-checked by
the reference formula so both evaluators agree to the last bit) and added to the frame
as a column named by ``within_column_name``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence

import numpy as np
import polars as pl

from territorial.core.fields import FieldType
from territorial.core.rules.compile import CompiledItem, CompiledRule, Scalar
from territorial.core.rules.filter import Conjunction
from territorial.core.rules.operators import EARTH_RADIUS_KM, Operator, great_circle_km
from territorial.core.rules.reference import BLANK_CHARS

DTYPES: dict[FieldType, pl.DataType] = {
    FieldType.TEXT: pl.String(),
    FieldType.PICKLIST: pl.String(),
    FieldType.MULTIPICKLIST: pl.String(),
    FieldType.NUMBER: pl.Float64(),
    FieldType.DATE: pl.Date(),
    FieldType.BOOLEAN: pl.Boolean(),
}


def within_column_name(item: CompiledItem) -> str:
    """The frame column holding the precomputed ``within`` test of this item."""
    assert item.within is not None
    lat, lon, radius = item.within
    return f"__within_{lat!r}_{lon!r}_{radius!r}"


def lower(name: str) -> pl.Expr:
    """The lower-cased text of a column."""
    return pl.col(name).str.to_lowercase()


def not_blank(name: str) -> pl.Expr:
    """True where a text column is neither null nor whitespace-only (null where null)."""
    return pl.col(name).str.strip_chars(BLANK_CHARS) != ""


def prefix_in(text: pl.Expr, prefixes: Iterable[str]) -> pl.Expr:
    """``text`` starts with any of ``prefixes``: one hash lookup per distinct length."""
    by_length: dict[int, list[str]] = defaultdict(list)
    for p in prefixes:
        by_length[len(p)].append(p)
    tests = [text.str.slice(0, n).is_in(sorted(ps)) for n, ps in sorted(by_length.items())]
    return pl.any_horizontal(tests)


def _range(column: pl.Expr, op: Operator, bound: Scalar) -> pl.Expr:
    value = pl.lit(bound)
    if op is Operator.LESS_THAN:
        return column < value
    if op is Operator.GREATER_THAN:
        return column > value
    if op is Operator.LESS_OR_EQUAL:
        return column <= value
    return column >= value


def _any_equal(column: pl.Expr, values: Sequence[Scalar]) -> pl.Expr:
    return pl.any_horizontal([column == pl.lit(v) for v in values])


def _text(item: CompiledItem) -> pl.Expr:
    op, values = item.operator, [str(v) for v in item.values]
    if op in (Operator.INCLUDES, Operator.EXCLUDES):
        parts = (
            pl.col(item.field)
            .str.split(";")
            .list.eval(pl.element().str.strip_chars(BLANK_CHARS).str.to_lowercase().is_in(values))
        )
        hit = parts.list.any()
        return hit if op is Operator.INCLUDES else ~hit
    text = lower(item.field)
    if op is Operator.EQUALS:
        return text.is_in(values)
    if op is Operator.NOT_EQUAL:
        return ~text.is_in(values)
    if op is Operator.CONTAINS:
        return text.str.contains_any(values)
    if op is Operator.NOT_CONTAIN:
        return ~text.str.contains_any(values)
    if op is Operator.STARTS_WITH:
        return prefix_in(text, values)
    return _range(text, op, values[0])


def _ordered(item: CompiledItem, column: pl.Expr) -> pl.Expr:
    op, values = item.operator, item.values
    if op is Operator.EQUALS:
        return _any_equal(column, values)
    if op is Operator.NOT_EQUAL:
        return ~_any_equal(column, values)
    return _range(column, op, values[0])


def item_expr(item: CompiledItem) -> pl.Expr:
    """A null-free boolean expression: does each row satisfy the item?"""
    if item.operator is Operator.WITHIN:
        return pl.col(within_column_name(item))
    if item.type is FieldType.BOOLEAN:
        return _ordered(item, pl.col(item.field).fill_null(False))
    if item.type is FieldType.NUMBER:
        column = pl.col(item.field)
        test = column.is_not_null() & column.is_not_nan() & _ordered(item, column)
    elif item.type is FieldType.DATE:
        test = pl.col(item.field).is_not_null() & _ordered(item, pl.col(item.field))
    else:
        test = not_blank(item.field) & _text(item)
    return test.fill_null(False)


def conjunction_expr(rule: CompiledRule, conj: Conjunction) -> pl.Expr:
    """AND of the conjunction's literals (negated literals are ``~item``)."""
    parts = []
    for number, negated in conj:
        expr = item_expr(rule.item(number))
        parts.append(~expr if negated else expr)
    return pl.all_horizontal(parts)


def rule_expr(rule: CompiledRule) -> pl.Expr:
    """OR of the rule's conjunctions; constant False for a rule with no items."""
    if not rule.dnf or not rule.active:
        return pl.lit(False)
    return pl.any_horizontal([conjunction_expr(rule, c) for c in rule.dnf])


def within_column(frame: pl.DataFrame, item: CompiledItem) -> pl.Series:
    """The ``within`` test of an item for every row, exactly as the reference computes it."""
    assert item.within is not None
    clat, clon, radius = item.within
    lat = frame["latitude"].cast(pl.Float64).fill_nan(None).to_numpy()
    lon = frame["longitude"].cast(pl.Float64).fill_nan(None).to_numpy()
    p1, p2 = np.radians(lat), np.radians(clat)
    dl = np.radians(clon) - np.radians(lon)
    h = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    with np.errstate(invalid="ignore"):
        dist = 2 * EARTH_RADIUS_KM * np.arcsin(np.minimum(1.0, np.sqrt(h)))
        inside = dist <= radius
        close = np.abs(dist - radius) <= 1e-6 * max(1.0, radius)
    for i in np.flatnonzero(close):
        inside[i] = great_circle_km(float(lat[i]), float(lon[i]), clat, clon) <= radius
    inside &= ~(np.isnan(lat) | np.isnan(lon))
    return pl.Series(within_column_name(item), inside, dtype=pl.Boolean)


def prepare(
    accounts: pl.DataFrame,
    rules: Iterable[CompiledRule],
    *,
    fields: dict[str, FieldType],
    drop_excluded: bool = True,
) -> pl.DataFrame:
    """The account frame with every needed column present and typed, rows excluded from
    realignment dropped (unless ``drop_excluded`` is false), and the ``within`` columns
    added.

    A missing column is treated as all empty (all false for a boolean).
    """
    frame = accounts
    columns = []
    for name, ftype in sorted(fields.items()):
        dtype = DTYPES[ftype]
        if name not in frame.columns:
            columns.append(pl.lit(None, dtype=dtype).alias(name))
        elif frame.schema[name] != dtype:
            columns.append(pl.col(name).cast(dtype))
    if columns:
        frame = frame.with_columns(columns)
    if drop_excluded and "excluded_from_realign" in frame.columns:
        frame = frame.filter(~pl.col("excluded_from_realign").fill_null(False))
    seen: set[str] = set()
    extra = []
    for rule in rules:
        for item in rule.items:
            if item.operator is Operator.WITHIN and within_column_name(item) not in seen:
                seen.add(within_column_name(item))
                extra.append(within_column(frame, item))
    return frame.with_columns(extra) if extra else frame


def literal_types(rules: Iterable[CompiledRule]) -> dict[str, FieldType]:
    """The columns the rules read, with their types."""
    types: dict[str, FieldType] = {"excluded_from_realign": FieldType.BOOLEAN}
    for rule in rules:
        for item in rule.items:
            for name in item.fields:
                types[name] = item.type
    return types


__all__ = [
    "DTYPES",
    "conjunction_expr",
    "item_expr",
    "literal_types",
    "lower",
    "not_blank",
    "prefix_in",
    "prepare",
    "rule_expr",
    "within_column",
    "within_column_name",
]
