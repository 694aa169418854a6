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

The per-match derived columns (``Columns``) and the cells (``cell_bounds``,
``CellFinder``, ``cell_range``) are in ``engine.columns``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial

import numpy as np
import polars as pl

from territorial.core.engine.columns import (
    Bools,
    CellFinder,
    Columns,
    Condition,
    Floats,
    Index,
    Ints,
    cell_bounds,
    cell_range,
    interval_bounds,
)
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
    "Csr",
    "ModelTables",
    "build_tables",
    "matching_pairs",
    "model_tables",
    "scan_pairs",
]
