"""Running a model plan on an account frame: anchor lookups, scans, residual checks.

``matching_pairs`` returns, as NumPy arrays, every (row, cid) where the row satisfies the
conjunction. The work is a few vectorized passes whatever the number of rules:

* text columns are dictionary-encoded once per match (prefix columns are cut to the
  prefix length first), so lower-casing and key lookups run on the distinct values only;
* an anchor group (conjunctions with the same anchor) turns each row's key values, and
  the *cell* of its ranged value among the group's sorted bounds (``cell_bounds``), into
  a slot of a CSR table built once per model (``model_tables``) whose entries are the
  conjunctions with that key and cell; the (row, cid) candidates are the CSR rows
  expanded (or, when every slot has one conjunction, read from the dense table);
* a row's cell is found once per ranged field by a table lookup on the top bits of the
  value (``CellFinder``); only values near a bound are searched among the bounds;
* the key columns and cells are computed on a few threads, then the groups' lookups;
  rows excluded from realignment get no key value and no cell, so no candidate;
* residual ranges on numbers and dates compare the candidate's value with per-cid bound
  arrays; any other residual is evaluated once per distinct literal, on the distinct
  values of a text field or on all rows otherwise, and gathered;
* scans (no anchor) are one Polars expression each, over all rows.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import numpy as np
import polars as pl
import pyarrow.compute as pc

from territorial.core.engine.expressions import item_expr
from territorial.core.engine.plan import (
    Anchor,
    ConjunctionPlan,
    Interval,
    ModelPlan,
    interval,
    is_range,
    signature,
)
from territorial.core.fields import FieldType
from territorial.core.rules.compile import CompiledItem, CompiledModel
from territorial.core.rules.operators import Operator

Ints = np.ndarray[Any, np.dtype[np.int64]]
Floats = np.ndarray[Any, np.dtype[np.float64]]
Bools = np.ndarray[Any, np.dtype[np.bool_]]
Index = np.ndarray[Any, np.dtype[np.signedinteger[Any]]]
"""Int32 or int64: lookup tables and what they give."""
DENSE_KEYS = 1 << 22
"""Largest composite key space looked up through a dense array (else by binary search)."""


@dataclass
class Csr:
    """Values (conjunction ids, territory ranks) by slot: ``values[offsets[s]:offsets[s+1]]``."""

    offsets: Ints
    values: Ints
    max_degree: int
    one_each: bool = False
    """Every slot has exactly one value (``values[slot]``)."""

    @classmethod
    def build(cls, slots: Iterable[int], values: Iterable[int], n_slots: int) -> Csr:
        slot_array = np.fromiter(slots, dtype=np.int64)
        value_array = np.fromiter(values, dtype=np.int64, count=slot_array.size)
        order = np.lexsort((value_array, slot_array))
        counts = np.bincount(slot_array, minlength=n_slots)
        offsets = np.concatenate(([0], np.cumsum(counts))).astype(np.int64)
        one_each = bool(np.all(counts == 1))
        return cls(offsets, value_array[order], int(counts.max(initial=0)), one_each)

    def expand(self, rows: Ints, slots: Ints) -> tuple[Ints, Ints]:
        """(row, value) for every row and every value of its slot."""
        if self.one_each:
            return rows, self.values[slots]
        start = self.offsets[slots]
        if self.max_degree <= 1:
            has = self.offsets[slots + 1] > start
            return rows[has], self.values[start[has]]
        degree = self.offsets[slots + 1] - start
        out_rows = np.repeat(rows, degree)
        ends = np.cumsum(degree)
        shift = np.repeat(start - (ends - degree), degree)
        return out_rows, self.values[shift + np.arange(out_rows.size, dtype=np.int64)]


@dataclass
class AnchorGroup:
    """The conjunctions with the same anchor, by composite key.

    The composite key of a row is the sum over key columns of (1 + value id) times the
    column's stride, then times ``width`` plus the cell of the ranged field, if any; a
    value id of 0 (a value no key has) or the cell ``width - 1`` (empty) is in no key.
    """

    anchor: Anchor
    values: list[pl.Series]
    """Per key column, the distinct key values; a value's position is its id."""
    strides: list[int]
    bounds: Floats
    """The sorted distinct bounds of the ranged field (``cell_bounds``)."""
    width: int
    """The number of cells of the ranged field plus one (empty), or 1."""
    keys: Ints
    """Sorted composite keys that some conjunction has."""
    space: int
    """The number of composite keys (``dense`` entries if dense)."""
    dense: Index | None
    """Composite key → slot (-1 for none), when the key space is small enough; → its
    only conjunction directly when every key has one (``csr.one_each``)."""
    csr: Csr
    shared: CellFinder | None = None
    """The bounds of the ranged field over all groups (``share_bounds``)."""
    cell_map: Index = field(default_factory=lambda: np.zeros(2, np.int32))
    """1 + cell among ``shared`` (0: empty) → cell among ``bounds`` (``width - 1``: empty)."""

    @classmethod
    def build(cls, anchor: Anchor, plans: list[ConjunctionPlan]) -> AnchorGroup:
        n = len(anchor.columns)
        distinct = [sorted({key[j] for p in plans for key in p.keys}) for j in range(n)]
        index = [{v: i + 1 for i, v in enumerate(values)} for values in distinct]
        strides = [prod_int(len(v) + 1 for v in distinct[j + 1 :]) for j in range(n)]
        bounds = sorted({b for p in plans if p.interval for b in interval_bounds(p.interval)})
        width = 2 * len(bounds) + 2 if anchor.ranged else 1
        composite: list[int] = []
        cids: list[int] = []
        for plan in plans:
            first, last = cell_range(bounds, plan.interval) if plan.interval else (0, 0)
            for key in plan.keys:
                base = sum(index[j][key[j]] * strides[j] for j in range(n)) * width
                composite.extend(range(base + first, base + last + 1))
                cids.extend([plan.cid] * max(0, last - first + 1))
        keys = np.unique(np.array(composite, dtype=np.int64))
        space = prod_int(len(v) + 1 for v in distinct) * width
        csr = Csr.build(np.searchsorted(keys, composite).tolist(), cids, keys.size)
        dense = None
        if space <= DENSE_KEYS:
            dense = np.full(space, -1, dtype=np.int32)
            dense[keys] = csr.values if csr.one_each else np.arange(keys.size)
        series = [pl.Series(values, dtype=pl.String) for values in distinct]
        array = np.array(bounds, dtype=np.float64)
        return cls(anchor, series, strides, array, width, keys, space, dense, csr)

    def pairs(self, cols: Columns) -> tuple[Ints, Ints]:
        """(row, cid) for the kept rows and the conjunctions of their key and cell."""
        # Two buffers for all the steps: fresh memory costs more than the work here.
        dtype = np.int32 if self.space < 1 << 31 else np.int64
        composite: Index = np.empty(cols.height, dtype=dtype)
        scratch: Index | None = None
        parts = zip(self.anchor.columns, self.values, self.strides, strict=True)
        for j, ((name, length), values, stride) in enumerate(parts):
            if j == 0:
                cols.value_ids(name, length, values, stride * self.width, composite)
                continue
            scratch = np.empty_like(composite) if scratch is None else scratch
            ids = cols.value_ids(name, length, values, stride * self.width, scratch)
            np.add(composite, ids, out=composite)
        if self.anchor.ranged is not None:
            assert self.shared is not None
            cells = cols.cells(*self.anchor.ranged, self.shared)
            cell_map = self.cell_map.astype(dtype, copy=False)
            if self.anchor.columns:
                scratch = np.empty_like(composite) if scratch is None else scratch
                np.take(cell_map, cells, out=scratch, mode="clip")
                np.add(composite, scratch, out=composite)
            else:
                np.take(cell_map, cells, out=composite, mode="clip")
        del scratch
        found = self._lookup(composite)
        rows = np.flatnonzero(found >= 0)
        if self.dense is not None and self.csr.one_each:
            return rows, found[rows]
        return self.csr.expand(rows, found[rows])

    def _lookup(self, found: Index) -> Index:
        """The slots (or cids) of the composite keys; ``found`` is overwritten."""
        if self.dense is not None and self.dense.dtype == found.dtype:
            # mode="clip" (keys are in range) writes ``out`` directly, each element after
            # reading its index.
            return np.take(self.dense, found, out=found, mode="clip")
        if self.dense is not None:
            return self.dense[found]
        if not self.keys.size:
            return np.full(found.size, -1, dtype=np.int64)
        slots = np.searchsorted(self.keys, found)
        slots[slots == self.keys.size] = 0
        found_slots: Ints = np.where(self.keys[slots] == found, slots, -1)
        return found_slots


def share_bounds(groups: list[AnchorGroup]) -> None:
    """Give the groups ranged on the same field one set of bounds, so that each row's
    cell is found once per field (``Columns.cells``) and mapped to each group's cell."""
    by_field: dict[str, list[AnchorGroup]] = defaultdict(list)
    for group in groups:
        if group.anchor.ranged is not None:
            by_field[group.anchor.ranged[0]].append(group)
    for members in by_field.values():
        bounds = np.unique(np.concatenate([g.bounds for g in members]))
        shared = CellFinder.build(bounds)
        for group in members:
            own = np.searchsorted(group.bounds, bounds, side="right")
            cell_map = np.empty(2 * bounds.size + 2, dtype=np.int32)
            cell_map[0] = group.width - 1
            cell_map[1] = 0
            cell_map[2::2] = cell_bounds(group.bounds, bounds)
            cell_map[3::2] = 2 * own
            group.shared, group.cell_map = shared, cell_map


def prod_int(values: Iterable[int]) -> int:
    """The product of integers (1 for none)."""
    result = 1
    for v in values:
        result *= v
    return result


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
class RangeChecks:
    """Residual intervals on one field, as per-cid arrays (no interval: unbounded)."""

    field: str
    type: FieldType
    has: Bools
    low: Floats
    low_strict: Bools
    high: Floats
    high_strict: Bools

    def failures(self, cols: Columns, rows: Ints, cids: Ints) -> Ints:
        """Indices of the pairs whose value is outside their interval."""
        sel = np.flatnonzero(self.has[cids])
        value = cols.ordinals(self.field, self.type)[rows[sel]]
        c = cids[sel]
        above = (value > self.low[c]) | ((value == self.low[c]) & ~self.low_strict[c])
        below = (value < self.high[c]) | ((value == self.high[c]) & ~self.high_strict[c])
        failing: Ints = sel[~(above & below)]
        return failing


@dataclass
class Condition:
    """A residual literal checked by evaluating it (see ``Columns.truth``)."""

    item: CompiledItem
    negated: bool


@dataclass
class ModelTables:
    """The NumPy side of a plan, built once per model."""

    groups: list[AnchorGroup]
    ranges: list[RangeChecks]
    conditions: list[Condition]
    condition_csr: Csr
    """Condition ids by cid."""
    scans: list[ConjunctionPlan]


def _range_checks(plan: ModelPlan) -> list[RangeChecks]:
    by_field: dict[tuple[str, FieldType], dict[int, Interval]] = defaultdict(dict)
    for conj in plan.conjunctions:
        if conj.anchor is None:
            continue
        items: dict[tuple[str, FieldType], list[CompiledItem]] = defaultdict(list)
        for item, negated in conj.residuals:
            if is_range(item, negated):
                items[(item.field, item.type)].append(item)
        for key, found in items.items():
            by_field[key][conj.cid] = interval(found)
    n = len(plan.conjunctions)
    checks = []
    for (name, ftype), intervals in sorted(by_field.items(), key=lambda kv: kv[0][0]):
        arrays = RangeChecks(
            name, ftype, np.zeros(n, bool), np.full(n, -np.inf), np.zeros(n, bool),
            np.full(n, np.inf), np.zeros(n, bool),
        )  # fmt: skip
        for cid, allowed in intervals.items():
            arrays.has[cid] = True
            if allowed.low is not None:
                arrays.low[cid], arrays.low_strict[cid] = allowed.low
            if allowed.high is not None:
                arrays.high[cid], arrays.high_strict[cid] = allowed.high
        checks.append(arrays)
    return checks


def _conditions(plan: ModelPlan) -> tuple[list[Condition], Csr]:
    ids: dict[Hashable, int] = {}
    conditions: list[Condition] = []
    slots: list[int] = []
    cids: list[int] = []
    for conj in plan.conjunctions:
        if conj.anchor is None:
            continue
        for item, negated in conj.residuals:
            if is_range(item, negated):
                continue
            key = signature(item, negated)
            if key not in ids:
                ids[key] = len(conditions)
                conditions.append(Condition(item, negated))
            slots.append(conj.cid)
            cids.append(ids[key])
    return conditions, Csr.build(slots, cids, len(plan.conjunctions))


def build_tables(plan: ModelPlan) -> ModelTables:
    """Group the anchored conjunctions and lay out their residual checks."""
    by_anchor: dict[Anchor, list[ConjunctionPlan]] = defaultdict(list)
    for conj in plan.conjunctions:
        if conj.anchor is not None:
            by_anchor[conj.anchor].append(conj)
    groups = [AnchorGroup.build(a, ps) for a, ps in by_anchor.items()]
    share_bounds(groups)
    conditions, condition_csr = _conditions(plan)
    scans = [c for c in plan.conjunctions if c.anchor is None]
    return ModelTables(groups, _range_checks(plan), conditions, condition_csr, scans)


def model_tables(compiled: CompiledModel, plan: ModelPlan) -> ModelTables:
    """``build_tables`` of the model's plan, built on first use and kept on the model."""
    tables = compiled.engine_cache.get("tables")
    if not isinstance(tables, ModelTables):
        tables = build_tables(plan)
        compiled.engine_cache["tables"] = tables
    return tables


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


def _condition_failures(cols: Columns, tables: ModelTables, rows: Ints, cids: Ints) -> Ints:
    """Indices of the pairs failing one of their conjunction's condition literals."""
    pair_index, condition = tables.condition_csr.expand(np.arange(rows.size), cids)
    if not pair_index.size:
        return pair_index
    order = np.argsort(condition, kind="stable")
    pair_index, condition = pair_index[order], condition[order]
    edges = np.searchsorted(condition, np.arange(len(tables.conditions) + 1))
    failures = []
    for k, cond in enumerate(tables.conditions):
        pairs = pair_index[edges[k] : edges[k + 1]]
        if not pairs.size:
            continue
        truth, codes = cols.truth(cond)
        units = rows[pairs] if codes is None else codes[rows[pairs]]
        failures.append(pairs[~truth[units]])
    return np.concatenate(failures) if failures else pair_index[:0]


def scan_pairs(cols: Columns, scans: list[ConjunctionPlan]) -> tuple[Ints, Ints]:
    """(row, cid) for conjunctions without an anchor: one expression each, over all rows."""
    if not scans or cols.height == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    exprs = []
    for plan in scans:
        parts = [~item_expr(it) if neg else item_expr(it) for it, neg in plan.residuals]
        exprs.append(pl.all_horizontal(parts).alias(str(plan.cid)))
    flags = cols.frame.select(exprs)
    rows, cids = [], []
    for plan in scans:
        found = np.flatnonzero(flags[str(plan.cid)].to_numpy() & cols.keep)
        rows.append(found)
        cids.append(np.full(found.size, plan.cid, dtype=np.int64))
    return np.concatenate(rows), np.concatenate(cids)


def _anchor_pairs(cols: Columns, groups: list[AnchorGroup]) -> list[tuple[Ints, Ints]]:
    """``AnchorGroup.pairs`` of every group, the key columns and cells first; on Polars'
    threads (NumPy, PyArrow and Polars release the GIL on whole columns)."""
    jobs: list[Callable[[], object]] = [
        partial(cols.text_codes, name, length)
        for name, length in sorted({c for g in groups for c in g.anchor.columns})
    ]
    ranged = {g.anchor.ranged: g.shared for g in groups if g.anchor.ranged is not None}
    jobs += [partial(cols.cells, *key, f) for key, f in ranged.items() if f is not None]
    workers = min(pl.thread_pool_size(), max(len(jobs), len(groups)))
    if workers <= 1:
        return [group.pairs(cols) for group in groups]
    _ = cols.dropped  # computed once, before the threads
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(lambda job: job(), jobs))
        return list(pool.map(lambda group: group.pairs(cols), groups))


def matching_pairs(cols: Columns, tables: ModelTables) -> tuple[Ints, Ints]:
    """(row, cid) for every kept row of ``cols`` and every conjunction it satisfies."""
    found = _anchor_pairs(cols, tables.groups)
    rows_parts = [rows for rows, _ in found]
    cid_parts = [cids for _, cids in found]
    del found
    rows = np.concatenate(rows_parts) if rows_parts else np.zeros(0, np.int64)
    cids = np.concatenate(cid_parts) if cid_parts else np.zeros(0, np.int64)
    if tables.ranges or tables.conditions:
        failed = [check.failures(cols, rows, cids) for check in tables.ranges]
        failed.append(_condition_failures(cols, tables, rows, cids))
        ok = np.ones(rows.size, dtype=bool)
        for indices in failed:
            ok[indices] = False
        rows, cids = rows[ok], cids[ok]
    if not tables.scans:
        return rows, cids
    scan_rows, scan_cids = scan_pairs(cols, tables.scans)
    return np.concatenate([rows, scan_rows]), np.concatenate([cids, scan_cids])


__all__ = [
    "AnchorGroup",
    "Columns",
    "ModelTables",
    "build_tables",
    "cell_bounds",
    "cell_range",
    "matching_pairs",
    "model_tables",
    "scan_pairs",
]
