"""Running a plan on an account frame: anchor joins, scans, residual checks.

The result of ``rule_pairs`` is a frame of unique ``(row, rule_pk)``: the rows of the
prepared account frame that satisfy each rule. Residual literals are checked in classes,
so the work is a handful of vectorized operations whatever the number of rules:

* positive range literals (``lessThan``... on numbers, dates, text): one join of the
  pairs with a ``(cid, bound)`` table per (field, operator), then one comparison;
* positive ``equals`` on text: one left join with the exploded ``(literal, value)`` table;
* anything else: the item is evaluated once over the whole frame per distinct condition
  (same field, operator, values), and the pairs gather from that column.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl

from territorial.core.engine.expressions import item_expr, lower, not_blank
from territorial.core.engine.plan import Anchor, ConjunctionPlan
from territorial.core.fields import FieldType
from territorial.core.rules.compile import CompiledItem
from territorial.core.rules.operators import Operator

PAIRS = {"row": pl.UInt32, "cid": pl.UInt32}
RULE_PAIRS = {"row": pl.UInt32, "rule_pk": pl.Int64}


@dataclass
class Columns:
    """Per-frame caches: lower-cased text columns and evaluated conditions."""

    frame: pl.DataFrame
    lowered: dict[str, pl.Series] = field(default_factory=dict)
    conditions: dict[Hashable, pl.Series] = field(default_factory=dict)

    def lower(self, name: str) -> pl.Series:
        if name not in self.lowered:
            self.lowered[name] = self.frame.select(lower(name)).to_series()
        return self.lowered[name]

    def nonempty(self, name: str, ftype: FieldType) -> pl.Series:
        """True where the column has a value a rule can test (see ``rules.reference``)."""
        key = ("__nonempty__", name)
        if key not in self.conditions:
            column = pl.col(name)
            if ftype is FieldType.NUMBER:
                test = column.is_not_null() & column.is_not_nan()
            elif ftype.is_textual:
                test = not_blank(name)
            else:
                test = column.is_not_null()
            self.conditions[key] = self.frame.select(test.fill_null(False)).to_series()
        return self.conditions[key]

    def condition(self, item: CompiledItem, negated: bool) -> pl.Series:
        key = _signature(item, negated)
        if key not in self.conditions:
            expr = ~item_expr(item) if negated else item_expr(item)
            self.conditions[key] = self.frame.select(expr.alias("ok")).to_series()
        return self.conditions[key]


def _signature(item: CompiledItem, negated: bool) -> Hashable:
    return (item.field, item.type, item.operator, item.values, item.within, negated)


def _empty(schema: Mapping[str, type[pl.DataType]]) -> pl.DataFrame:
    return pl.DataFrame(schema=schema)


def anchor_pairs(cols: Columns, plans: list[ConjunctionPlan]) -> pl.DataFrame:
    """(row, cid) for every row whose anchor key is one of its conjunction's keys."""
    by_anchor: dict[Anchor, list[ConjunctionPlan]] = defaultdict(list)
    for plan in plans:
        if plan.anchor is not None:
            by_anchor[plan.anchor].append(plan)
    parts = []
    for anchor, group in by_anchor.items():
        names = [f"k{i}" for i in range(len(anchor.columns))]
        data: dict[str, list[Any]] = {name: [] for name in names}
        data["cid"] = []
        for plan in group:
            for key in plan.keys:
                for name, value in zip(names, key, strict=True):
                    data[name].append(value)
                data["cid"].append(plan.cid)
        schema = {**dict.fromkeys(names, pl.String), "cid": pl.UInt32}
        table = pl.DataFrame(data, schema=schema)
        left = {}
        for name, (field_name, length) in zip(names, anchor.columns, strict=True):
            keys = cols.lower(field_name)
            left[name] = keys.str.slice(0, length) if length else keys
        frame = pl.DataFrame(left).with_row_index("row")
        parts.append(frame.join(table, on=names).select("row", "cid"))
    return pl.concat(parts) if parts else _empty(PAIRS)


def scan_pairs(cols: Columns, plans: list[ConjunctionPlan]) -> pl.DataFrame:
    """(row, cid) for conjunctions without an anchor: one expression each, over all rows."""
    scans = [p for p in plans if p.anchor is None]
    if not scans or cols.frame.height == 0:
        return _empty(PAIRS)
    exprs = []
    for plan in scans:
        parts = [~item_expr(it) if neg else item_expr(it) for it, neg in plan.residuals]
        exprs.append(pl.all_horizontal(parts).alias(str(plan.cid)))
    flags = cols.frame.select(exprs)
    parts_out = []
    for plan in scans:
        rows = flags[str(plan.cid)].arg_true().cast(pl.UInt32)
        if rows.len():
            cid = pl.Series("cid", [plan.cid], dtype=pl.UInt32).new_from_index(0, rows.len())
            parts_out.append(pl.DataFrame({"row": rows, "cid": cid}))
    return pl.concat(parts_out) if parts_out else _empty(PAIRS)


ResidualClass = tuple[str, str, FieldType, Operator]


def _residual_class(item: CompiledItem, negated: bool) -> ResidualClass:
    if not negated and item.operator.is_range:
        return ("range", item.field, item.type, item.operator)
    if not negated and item.type.is_textual and item.operator is Operator.EQUALS:
        return ("equals", item.field, item.type, item.operator)
    return ("condition", "", item.type, item.operator)


def _compare(value: pl.Expr, op: Operator, bound: pl.Expr) -> pl.Expr:
    if op is Operator.LESS_THAN:
        return value < bound
    if op is Operator.GREATER_THAN:
        return value > bound
    if op is Operator.LESS_OR_EQUAL:
        return value <= bound
    return value >= bound


def _range_failures(
    cols: Columns, pairs: pl.DataFrame, key: ResidualClass, lits: list[tuple[int, CompiledItem]]
) -> list[pl.Series]:
    """Failing pids of a (field, operator) range class, without a join: the bound of each
    conjunction is gathered by cid (one layer per repeat of a cid in the class)."""
    _, name, ftype, op = key
    textual = ftype.is_textual
    dtype = pl.String if textual else cols.frame.schema[name]
    n_cids = max(max(c for c, _ in lits), pairs.select(pl.col("cid").max()).item() or 0) + 1
    layers: list[dict[int, Any]] = []
    for cid, item in lits:
        layer = next((d for d in layers if cid not in d), None)
        if layer is None:
            layer = {}
            layers.append(layer)
        layer[cid] = item.values[0]
    column = cols.lower(name) if textual else cols.frame[name]
    value = column.gather(pairs["row"])
    nonempty = cols.nonempty(name, ftype).gather(pairs["row"])
    failures = []
    for layer in layers:
        by_cid = [layer.get(c) for c in range(n_cids)]
        bound = pl.Series("bound", by_cid, dtype=dtype).gather(pairs["cid"])
        checked = pl.DataFrame({"pid": pairs["pid"], "v": value, "ne": nonempty, "b": bound})
        ok = pl.col("b").is_null() | (pl.col("ne") & _compare(pl.col("v"), op, pl.col("b")))
        failures.append(checked.filter(~ok.fill_null(False))["pid"])
    return failures


def _equals_failures(
    cols: Columns, pairs: pl.DataFrame, name: str, lits: list[tuple[int, CompiledItem]]
) -> pl.Series:
    lit_table = pl.DataFrame(
        {"cid": [c for c, _ in lits], "lit": list(range(len(lits)))},
        schema={"cid": pl.UInt32, "lit": pl.UInt32},
    )
    values = pl.DataFrame(
        {
            "lit": [i for i, (_, it) in enumerate(lits) for _ in set(it.values)],
            "key": [str(v) for _, it in lits for v in set(it.values)],
            "ok": True,
        },
        schema={"lit": pl.UInt32, "key": pl.String, "ok": pl.Boolean},
    )
    sub = pairs.join(lit_table, on="cid")
    sub = sub.with_columns(key=cols.lower(name).gather(sub["row"]))
    checked = sub.join(values, on=["lit", "key"], how="left")
    return checked.filter(pl.col("ok").is_null())["pid"]


def _condition_failures(
    cols: Columns, pairs: pl.DataFrame, lits: list[tuple[int, CompiledItem, bool]]
) -> list[pl.Series]:
    by_signature: dict[Hashable, list[int]] = defaultdict(list)
    first: dict[Hashable, tuple[CompiledItem, bool]] = {}
    for cid, item, negated in lits:
        key = _signature(item, negated)
        by_signature[key].append(cid)
        first.setdefault(key, (item, negated))
    failures = []
    for key, cids in by_signature.items():
        sub = pairs.filter(pl.col("cid").is_in(cids))
        ok = cols.condition(*first[key]).gather(sub["row"])
        failures.append(sub["pid"].filter(~ok))
    return failures


def residual_failures(
    cols: Columns, pairs: pl.DataFrame, plans: list[ConjunctionPlan]
) -> np.ndarray:
    """Boolean mask over ``pairs`` (with a ``pid`` column): True where a residual fails."""
    classes: dict[ResidualClass, list[tuple[int, CompiledItem, bool]]] = defaultdict(list)
    for plan in plans:
        if plan.anchor is None:
            continue
        for item, negated in plan.residuals:
            classes[_residual_class(item, negated)].append((plan.cid, item, negated))
    failed = np.zeros(pairs.height, dtype=bool)
    for key, lits in classes.items():
        kind = key[0]
        if kind == "range":
            found = _range_failures(cols, pairs, key, [(c, it) for c, it, _ in lits])
        elif kind == "equals":
            found = [_equals_failures(cols, pairs, key[1], [(c, it) for c, it, _ in lits])]
        else:
            found = _condition_failures(cols, pairs, lits)
        for pids in found:
            failed[pids.to_numpy()] = True
    return failed


def rule_pairs(frame: pl.DataFrame, plans: list[ConjunctionPlan]) -> pl.DataFrame:
    """Unique (row, rule_pk) for every row of ``frame`` satisfying each planned rule."""
    if not plans or frame.height == 0:
        return _empty(RULE_PAIRS)
    cols = Columns(frame)
    anchored = anchor_pairs(cols, plans).with_row_index("pid")
    if anchored.height:
        failed = residual_failures(cols, anchored, plans)
        anchored = anchored.filter(pl.Series(~failed))
    pairs = pl.concat([anchored.select("row", "cid"), scan_pairs(cols, plans)])
    rule_of = pl.Series([p.rule_pk for p in plans], dtype=pl.Int64)
    result = pl.DataFrame({"row": pairs["row"], "rule_pk": rule_of.gather(pairs["cid"])})
    multi = _rules_with_many_conjunctions(plans)
    if not multi:
        return result
    is_multi = pl.col("rule_pk").is_in(sorted(multi))
    return pl.concat([result.filter(~is_multi), result.filter(is_multi).unique()])


def _rules_with_many_conjunctions(plans: list[ConjunctionPlan]) -> set[int]:
    count: dict[int, int] = defaultdict(int)
    for plan in plans:
        count[plan.rule_pk] += 1
    return {pk for pk, n in count.items() if n > 1}


__all__ = ["Columns", "anchor_pairs", "residual_failures", "rule_pairs", "scan_pairs"]
