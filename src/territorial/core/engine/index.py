"""Online assignment: an in-memory index that assigns ONE account in microseconds.

Built from the same plan as the vectorized engine (``plan.model_plan``): each hash-anchored
conjunction is filed in a hash table under its keys (lower-cased value, or prefix of a
given length); each range-anchored one under the cells of its interval among the sorted
bounds of its field, found with ``bisect``. Assigning an account looks up its own keys and
cells, then checks the few candidates' residual items with the reference evaluator; only
the conjunctions with no anchor at all are checked for every account. A matched
conjunction gives its target's territories directly.
Agrees with ``rules.reference`` (property-tested).

>>> from territorial.core.fields import FieldCatalog
>>> from territorial.core.model import Rule, RuleItem
>>> from territorial.core.rules.compile import ModelInput, TerritoryNode, compile_model
>>> model = ModelInput(
...     [TerritoryNode(1), TerritoryNode(2, 1)],
...     [Rule("Bay", (RuleItem(1, "BillingPostalCode", "startsWith", "940,941"),), id=3),
...      Rule("Big", (RuleItem(1, "AnnualRevenue", "greaterThan", "1e6"),), id=4)],
...     [(3, 1, True), (4, 2, False)],
... )
>>> index = OnlineIndex.build(compile_model(model, FieldCatalog.standard("account")))
>>> index.assign({"billing_postal_code": "94105", "annual_revenue": 2e6})
[(1, 3), (2, 4)]
>>> index.assign({"billing_postal_code": "94105", "annual_revenue": 1e6})
[(1, 3)]
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from territorial.core.engine.columns import cell_range, interval_bounds
from territorial.core.engine.plan import (
    EPOCH,
    Anchor,
    ConjunctionPlan,
    Interval,
    Target,
    model_plan,
)
from territorial.core.fields import FieldType
from territorial.core.rules.compile import CompiledModel
from territorial.core.rules.deciding import recorded_rule
from territorial.core.rules.reference import as_boolean, is_blank, item_matches


@dataclass
class RangeTable:
    """Range-anchored conjunctions of one field, by cell among the sorted bounds."""

    ranged: tuple[str, FieldType]
    bounds: list[float]
    cells: list[list[ConjunctionPlan]]

    @classmethod
    def build(cls, ranged: tuple[str, FieldType], plans: list[ConjunctionPlan]) -> RangeTable:
        intervals = [(p, p.interval) for p in plans if p.interval is not None]
        bounds = sorted({b for _, i in intervals for b in interval_bounds(i)})
        cells: list[list[ConjunctionPlan]] = [[] for _ in range(2 * len(bounds) + 1)]
        for plan, allowed in intervals:
            first, last = cell_range(bounds, allowed)
            for cell in range(first, last + 1):
                cells[cell].append(plan)
        return cls(ranged, bounds, cells)

    def candidates(self, account: Mapping[str, Any]) -> list[ConjunctionPlan]:
        name, ftype = self.ranged
        value = _ordinal(ftype, account.get(name))
        if value is None:
            return []
        i = bisect_left(self.bounds, value)
        at = i < len(self.bounds) and self.bounds[i] == value
        return self.cells[2 * i + at]


@dataclass
class KeyEntry:
    """The conjunctions of one key: without a ranged field, and by cell of each one."""

    plain: list[ConjunctionPlan]
    ranges: list[RangeTable]


def _by_key(table: dict[tuple[str, ...], list[ConjunctionPlan]]) -> dict[tuple[str, ...], KeyEntry]:
    entries = {}
    for key, plans in table.items():
        by_field: dict[tuple[str, FieldType], list[ConjunctionPlan]] = defaultdict(list)
        plain = []
        for conj in plans:
            ranged = conj.anchor.ranged if conj.anchor is not None else None
            if ranged is None:
                plain.append(conj)
            else:
                by_field[ranged].append(conj)
        ranges = [RangeTable.build(f, ps) for f, ps in by_field.items()]
        entries[key] = KeyEntry(plain, ranges)
    return entries


@dataclass
class OnlineIndex:
    """Hash and range tables of anchored conjunctions, the scans, and the targets."""

    anchors: dict[Anchor, dict[tuple[str, ...], KeyEntry]]
    """Key columns → key → its conjunctions."""
    ranges: list[RangeTable]
    scans: list[ConjunctionPlan]
    targets: tuple[Target, ...]
    fallback: dict[int, tuple[int, ...]]
    """Territory pk → rules, for territories whose rules are checked one by one."""
    rule_target: dict[int, int]
    rule_order: dict[int, tuple[int, ...]]
    """Territory pk → its effective rules in the order a run records them."""
    first_rules: tuple[tuple[tuple[int, int], ...], ...] | None
    """When territories need all their rules: by target, what it assigns once matched
    (every rule holds): (territory pk, the first rule of the territory's order) pairs."""

    @classmethod
    def build(cls, compiled: CompiledModel) -> OnlineIndex:
        """Index the plan of a compiled model."""
        plan = model_plan(compiled)
        anchors: dict[Anchor, dict[tuple[str, ...], list[ConjunctionPlan]]] = defaultdict(dict)
        by_range: dict[tuple[str, FieldType], list[ConjunctionPlan]] = defaultdict(list)
        scans: list[ConjunctionPlan] = []
        for conj in plan.conjunctions:
            if conj.anchor is None:
                scans.append(conj)
            elif not conj.anchor.columns and conj.anchor.ranged is not None:
                by_range[conj.anchor.ranged].append(conj)
            else:
                table = anchors[Anchor(conj.anchor.columns)]
                for key in conj.keys:
                    table.setdefault(key, []).append(conj)
        ranges = [RangeTable.build(a, ps) for a, ps in by_range.items()]
        keyed = {anchor: _by_key(table) for anchor, table in anchors.items()}
        return cls(
            keyed,
            ranges,
            scans,
            plan.targets,
            plan.fallback,
            plan.rule_target,
            compiled.rule_order,
            _first_rules(plan.targets, compiled) if compiled.combination == "all" else None,
        )

    def matching_targets(self, account: Mapping[str, Any]) -> dict[int, set[int]]:
        """Target index → the rule pks of its conjunctions the account satisfies (under
        ``all``, one conjunction of a target with several rules: it stands for all)."""
        found: dict[int, set[int]] = {}
        lowered: dict[str, str | None] = {}
        for anchor, table in self.anchors.items():
            key = _key(anchor, account, lowered)
            entry = None if key is None else table.get(key)
            if entry is not None:
                _check(entry.plain, account, found)
                for ranges in entry.ranges:
                    _check(ranges.candidates(account), account, found)
        for ranges in self.ranges:
            _check(ranges.candidates(account), account, found)
        _check(self.scans, account, found)
        return found

    def assign(self, account: Mapping[str, Any]) -> list[tuple[int, int]]:
        """``(territory_pk, rule_pk)`` for every territory the rules put the account in,
        sorted; ``rule_pk`` is the satisfied effective rule a run records (the first in the
        territory's rule order). Exclusions of single (territory, account) pairs are the
        caller's business."""
        if as_boolean(account.get("excluded_from_realign")):
            return []
        found = self.matching_targets(account)
        if self.first_rules is not None:
            result = [pair for index in found for pair in self.first_rules[index]]
        else:
            order = self.rule_order
            result = [
                (pk, rule)
                for index, rules in found.items()
                for pk in self.targets[index].territories
                for rule in (rules if len(rules) == 1 else (recorded_rule(order[pk], rules),))
            ]
        if self.fallback:
            held = {pk for pk, target in self.rule_target.items() if target in found}
            result.extend(
                (territory_pk, self.rule_order[territory_pk][0])
                for territory_pk, rules in self.fallback.items()
                if all(pk in held for pk in rules)
            )
        result.sort()
        return result


def _first_rules(
    targets: tuple[Target, ...], compiled: CompiledModel
) -> tuple[tuple[tuple[int, int], ...], ...]:
    return tuple(tuple((pk, compiled.rule_order[pk][0]) for pk in t.territories) for t in targets)


def _check(
    candidates: list[ConjunctionPlan], account: Mapping[str, Any], found: dict[int, set[int]]
) -> None:
    for conj in candidates:
        seen = found.get(conj.target)
        if seen is not None and conj.rule_pk in seen:
            continue
        if (conj.interval is None or _inside(conj, account)) and all(
            item_matches(item, account) != negated for item, negated in conj.residuals
        ):
            if seen is None:
                found[conj.target] = {conj.rule_pk}
            else:
                seen.add(conj.rule_pk)


def _inside(conj: ConjunctionPlan, account: Mapping[str, Any]) -> bool:
    """The account's value of the conjunction's ranged field is in its interval."""
    assert conj.anchor is not None and conj.anchor.ranged is not None
    assert conj.interval is not None
    name, ftype = conj.anchor.ranged
    value = _ordinal(ftype, account.get(name))
    return value is not None and _holds(conj.interval, value)


def _holds(allowed: Interval, value: float) -> bool:
    low, high = allowed.low, allowed.high
    if low is not None and not (value > low[0] or (value == low[0] and not low[1])):
        return False
    return high is None or value < high[0] or (value == high[0] and not high[1])


def _lowered(name: str, account: Mapping[str, Any], cache: dict[str, str | None]) -> str | None:
    if name not in cache:
        value = account.get(name)
        text = None if value is None else value if isinstance(value, str) else str(value)
        cache[name] = None if text is None or is_blank(text) else text.lower()
    return cache[name]


def _key(
    anchor: Anchor, account: Mapping[str, Any], cache: dict[str, str | None]
) -> tuple[str, ...] | None:
    parts = []
    for name, length in anchor.columns:
        text = _lowered(name, account, cache)
        if text is None:
            return None
        parts.append(text[:length] if length else text)
    return tuple(parts)


def _ordinal(ftype: FieldType, value: Any) -> float | None:
    """The value as ``plan.ordinal`` orders it, None when empty (as ``rules.reference``)."""
    if value is None:
        return None
    if ftype is FieldType.DATE:
        if isinstance(value, datetime):
            value = value.date()
        elif isinstance(value, str):
            if not value.strip():
                return None
            value = date.fromisoformat(value)
        if not isinstance(value, date):
            raise TypeError(f"{value!r} is not a date")
        return float((value - EPOCH).days)
    number = float(value)
    return None if math.isnan(number) else number


__all__ = ["OnlineIndex", "RangeTable"]
