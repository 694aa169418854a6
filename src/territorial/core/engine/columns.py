"""The account rows as the engine reads them: the *cells* of ranged values, ``Columns`` (the
per-match cache of derived columns), and the engine's NumPy array aliases (``Ints``,
``Floats``, ``Bools``, ``Index``).

* ``cell_bounds`` numbers the cells of a field's sorted distinct bounds: ``2i`` strictly
  between ``b[i-1]`` and ``b[i]``, ``2i+1`` equal to ``b[i]``. ``CellFinder`` finds a
  row's cell mostly by one table lookup on the top bits of the value; ``cell_range`` gives
  the cells an interval covers (``interval_bounds``: its bound values).
* ``Columns`` holds the account frame and the rows to assign, and caches what matching
  derives from them: dictionary codes of text columns, numbers and dates as floats, cells,
  and the truths of residual literals (``Condition``).
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl
import pyarrow.compute as pc

from territorial.core.engine.expressions import item_expr
from territorial.core.engine.plan import Interval, signature
from territorial.core.fields import FieldType
from territorial.core.rules.compile import CompiledItem
from territorial.core.rules.operators import Operator

Ints = np.ndarray[Any, np.dtype[np.int64]]
Floats = np.ndarray[Any, np.dtype[np.float64]]
Bools = np.ndarray[Any, np.dtype[np.bool_]]
Index = np.ndarray[Any, np.dtype[np.signedinteger[Any]]]
"""Int32 or int64: lookup tables and what they give."""


def cell_bounds(bounds: Floats, value: Floats) -> Ints:
    """The cell of each value among sorted distinct bounds ``b``: ``2i`` strictly between
    ``b[i-1]`` and ``b[i]``, ``2i+1`` equal to ``b[i]``; values must not be NaN."""
    if not bounds.size:
        return np.zeros(value.size, dtype=np.int64)
    i = np.searchsorted(bounds, value)
    at = bounds[np.minimum(i, bounds.size - 1)] == value
    cells: Ints = 2 * i.astype(np.int64) + at
    return cells


BUCKET_BITS = 20
"""``CellFinder`` buckets values by the top bits of their order-preserving 64-bit image."""


def float_order(values: Floats) -> Ints:
    """Integers that order like the floats (not NaN); -0.0 and 0.0 map to 0."""
    bits = (values + 0.0).view(np.int64)  # + 0.0 turns -0.0 into 0.0
    order: Ints = bits ^ ((bits >> 63) & np.int64(0x7FFFFFFFFFFFFFFF))
    return order


@dataclass
class CellFinder:
    """``cell_bounds`` for one set of bounds, mostly by one table lookup per value.

    The order-preserving images of the floats (``float_order``) are split into
    ``2**BUCKET_BITS`` buckets by their top bits. A bucket holding no bound maps every
    value in it to the same cell, kept in ``table``; only the values in a bucket holding
    a bound (``table`` -1) are searched among the bounds.
    """

    bounds: Floats
    table: Index

    @classmethod
    def build(cls, bounds: Floats) -> CellFinder:
        shift = 64 - BUCKET_BITS
        half = 1 << (BUCKET_BITS - 1)
        starts = (np.arange(1 << BUCKET_BITS, dtype=np.int64) - half) << shift
        orders = float_order(bounds)
        table = (2 * np.searchsorted(orders, starts)).astype(np.int32)
        table[(orders >> shift) + half] = -1
        return cls(bounds, table)

    def cells(self, values: Floats) -> Index:
        """``cell_bounds(self.bounds, values)`` (some cell for NaN)."""
        if not self.bounds.size:
            return np.zeros(values.size, dtype=np.int32)
        buckets = float_order(values) >> (64 - BUCKET_BITS)
        cells: Index = self.table[buckets + (1 << (BUCKET_BITS - 1))]
        near = np.flatnonzero(cells < 0)
        cells[near] = cell_bounds(self.bounds, values[near])
        return cells


def cell_range(bounds: list[float], allowed: Interval) -> tuple[int, int]:
    """The first and last cell of an interval (first > last when it is empty)."""
    first, last = 0, 2 * len(bounds)
    if allowed.low is not None:
        k = bounds.index(allowed.low[0])
        first = 2 * k + (2 if allowed.low[1] else 1)
    if allowed.high is not None:
        k = bounds.index(allowed.high[0])
        last = 2 * k + (0 if allowed.high[1] else 1)
    return first, last


def interval_bounds(allowed: Interval) -> list[float]:
    """The bound values of an interval."""
    return [b[0] for b in (allowed.low, allowed.high) if b is not None]


@dataclass
class Condition:
    """A residual literal checked by evaluating it (see ``Columns.truth``)."""

    item: CompiledItem
    negated: bool


@dataclass
class Columns:
    """The account frame, the rows to assign, and per-match caches of derived columns."""

    frame: pl.DataFrame
    keep: Bools
    codes: dict[tuple[str, int], tuple[Index, pl.Series, pl.Series]] = field(default_factory=dict)
    ordinal: dict[str, Floats] = field(default_factory=dict)
    cell: dict[str, Index] = field(default_factory=dict)
    truths: dict[Hashable, Bools] = field(default_factory=dict)
    _dropped: Ints | None = None

    @property
    def height(self) -> int:
        return self.frame.height

    @property
    def dropped(self) -> Ints:
        """The rows not to assign."""
        if self._dropped is None:
            self._dropped = np.flatnonzero(~self.keep)
        return self._dropped

    def text_codes(self, name: str, length: int) -> tuple[Index, pl.Series, pl.Series]:
        """Per row, the index of its value among the distinct values (-1 when null or the
        row is not kept); the distinct values as they are and lower-cased, cut to
        ``length`` chars if given."""
        if (name, length) not in self.codes:
            column = self.frame[name]
            codes, raw = _factorize(column.str.slice(0, length) if length else column)
            if length and raw.str.contains("Σ", literal=True).any():
                # A final sigma lower-cases by what follows it: lower-case before cutting.
                codes, raw = _factorize(column.str.to_lowercase().str.slice(0, length))
            codes[self.dropped] = -1
            lowered = raw.str.to_lowercase()
            self.codes[(name, length)] = (
                codes,
                raw,
                lowered.str.slice(0, length) if length else lowered,
            )
        return self.codes[(name, length)]

    def value_ids(self, name: str, length: int, values: pl.Series, scale: int, out: Index) -> Index:
        """Per row, into ``out``: ``scale`` times 1 + the position in ``values`` of its
        lower-cased key (0 for none or a row not kept)."""
        codes, _, lowered = self.text_codes(name, length)
        positions = pl.Series(np.arange(1, values.len() + 1, dtype=np.int64) * scale)
        mapped = lowered.replace_strict(values, positions, default=0, return_dtype=pl.Int64)
        by_code = np.append(mapped.to_numpy(), 0).astype(out.dtype)
        found: Index = np.take(by_code, codes, out=out, mode="wrap")  # code -1: the last
        return found

    def ordinals(self, name: str, ftype: FieldType) -> Floats:
        """A number or date column as floats ordered like ``plan.ordinal``; NaN when empty."""
        if name not in self.ordinal:
            column = self.frame[name]
            if ftype is FieldType.DATE:
                column = column.to_physical()
            values = column.cast(pl.Float64).fill_null(float("nan")).to_numpy()
            self.ordinal[name] = np.asarray(values, dtype=np.float64)
        return self.ordinal[name]

    def cells(self, name: str, ftype: FieldType, finder: CellFinder) -> Index:
        """1 + each row's cell among ``finder.bounds`` (the same ones for a field), 0 when
        empty or the row is not kept."""
        if name not in self.cell:
            value = self.ordinals(name, ftype)
            empty = np.isnan(value)
            cells = finder.cells(value)  # any cell for NaN: set to 0 below
            cells += 1
            cells[empty] = 0
            cells[self.dropped] = 0
            self.cell[name] = cells
        return self.cell[name]

    def truth(self, condition: Condition) -> tuple[Bools, Index | None]:
        """The literal's truth per distinct text value (with the per-row codes) or per row."""
        item, negated = condition.item, condition.negated
        key = signature(item, negated)
        textual = item.type.is_textual and item.operator is not Operator.WITHIN
        if key not in self.truths:
            expr = ~item_expr(item) if negated else item_expr(item)
            if textual:
                raw = self.text_codes(item.field, 0)[1]
                found = pl.DataFrame({item.field: raw}).select(expr).to_series().to_numpy()
                self.truths[key] = np.append(found, negated)
            else:
                self.truths[key] = self.frame.select(expr).to_series().to_numpy()
        return self.truths[key], self.text_codes(item.field, 0)[0] if textual else None


def _factorize(column: pl.Series) -> tuple[Index, pl.Series]:
    """Per row an index into the distinct values (-1 for null), and those values."""
    array = column.rechunk().to_arrow(compat_level=pl.CompatLevel.newest())
    encoded = pc.dictionary_encode(array)
    codes = pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False).astype(np.int32)
    return codes, pl.Series(encoded.dictionary, dtype=pl.String)


__all__ = [
    "Bools",
    "CellFinder",
    "Columns",
    "Condition",
    "Floats",
    "Index",
    "Ints",
    "cell_bounds",
    "cell_range",
    "interval_bounds",
]
