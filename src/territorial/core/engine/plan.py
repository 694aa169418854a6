"""Planning the fast engine: a compiled model → targets and anchored conjunctions.

A *target* is a distinct tuple of effective rules: every territory with that tuple gets the
same accounts. Under ``any`` a target is the OR of its rules' conjunctions (each tagged with
its rule pk); under ``all`` it is their AND, expanded into the product of the rules' DNFs
with the literals merged (so an inherited ``country equals US`` becomes part of each child
territory's own join key instead of a separate rule to intersect). When that product would
exceed ``MAX_PRODUCT`` conjunctions, the territory *falls back*: each of its rules is a
target of its own and the matcher intersects their rows.

Every conjunction gets an *anchor* that finds its candidate rows without a scan:

* its positive ``equals`` items and one ``startsWith`` item on textual fields: their
  (lower-cased) values become join keys on the account column or its first ``L``
  characters. A ``startsWith`` list with several prefix lengths splits the conjunction
  into one per length (an OR, so this is exact);
* and the interval that its positive ranges on one number or date field allow (the field
  with most such items): the engine finds the account value among the sorted bounds, so
  a "revenue at least 1e9" item narrows the candidates instead of being checked on them;
* with neither, it is a *scan*, evaluated over all rows.

The other literals are *residuals*, checked on the candidates. The plan is built once per
``CompiledModel`` (``model_plan``) and shared by ``match`` and the online index.

>>> from territorial.core.fields import FieldCatalog
>>> from territorial.core.model import Rule, RuleItem
>>> from territorial.core.rules.compile import ModelInput, TerritoryNode, compile_model
>>> bay = Rule("Bay", (
...     RuleItem(1, "BillingCountryCode", "equals", "US"),
...     RuleItem(2, "BillingPostalCode", "startsWith", "940,941,9510"),
... ), id=4)
>>> big = Rule("Big", (RuleItem(1, "AnnualRevenue", "greaterOrEqual", "1e6"),), id=5)
>>> model = ModelInput([TerritoryNode(1), TerritoryNode(2, 1)], [bay, big],
...                    [(4, 1, True), (5, 2, False)])
>>> plan = model_plan(compile_model(model, FieldCatalog.standard("account")))
>>> [(t.rules, t.territories) for t in plan.targets]
[((4,), (1,)), ((4, 5), (2,))]
>>> for c in plan.conjunctions:
...     low = c.interval.low if c.interval else None
...     print(c.target, c.anchor.columns[-1], c.keys, c.anchor.ranged is not None, low)
0 ('billing_postal_code', 3) (('us', '940'), ('us', '941')) False None
0 ('billing_postal_code', 4) (('us', '9510'),) False None
1 ('billing_postal_code', 3) (('us', '940'), ('us', '941')) True (1000000.0, False)
1 ('billing_postal_code', 4) (('us', '9510'),) True (1000000.0, False)
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from datetime import date
from itertools import product
from math import prod

from territorial.core.fields import FieldType
from territorial.core.rules.compile import CompiledItem, CompiledModel, CompiledRule
from territorial.core.rules.operators import Operator

Literal = tuple[CompiledItem, bool]
"""An item and whether it is negated."""
Bound = tuple[float, bool]
"""A range bound as an ordinal (see ``ordinal``) and whether it is strict."""
EPOCH = date(1970, 1, 1)
MAX_KEYS = 4096
MAX_PRODUCT = 64


@dataclass(frozen=True)
class Anchor:
    """Join key columns, each a lower-cased field (length 0) or its first ``length``
    chars, and optionally a number or date field whose value falls in the interval."""

    columns: tuple[tuple[str, int], ...]
    ranged: tuple[str, FieldType] | None = None


@dataclass(frozen=True)
class Interval:
    """Allowed ordinals: above ``low`` and below ``high`` (None: unbounded)."""

    low: Bound | None
    high: Bound | None


@dataclass(frozen=True)
class ConjunctionPlan:
    """One conjunction of one target: its anchor, keys or interval, and residuals."""

    cid: int
    target: int
    rule_pk: int
    """The rule pk an account matching this conjunction is assigned with."""
    anchor: Anchor | None
    keys: tuple[tuple[str, ...], ...]
    """One tuple of values per key, aligned with ``anchor.columns``."""
    interval: Interval | None
    """When ``anchor.ranged``: the interval its value must fall in."""
    residuals: tuple[Literal, ...]
    """(item, negated) literals still to check."""


@dataclass(frozen=True)
class Target:
    """A distinct tuple of effective rules and the territories that have it."""

    rules: tuple[int, ...]
    territories: tuple[int, ...]


@dataclass(frozen=True)
class ModelPlan:
    """Targets, their conjunctions (``cid`` is the list index) and fallback territories."""

    targets: tuple[Target, ...]
    conjunctions: tuple[ConjunctionPlan, ...]
    fallback: dict[int, tuple[int, ...]]
    """Territory pk → its rules, for ``all`` territories whose rules are intersected."""
    rule_target: dict[int, int]
    """Rule pk → the index of its single-rule target, for the fallback rules."""
    combination: str


def ordinal(ftype: FieldType, value: object) -> float:
    """A number or date as a float that orders like it (dates as days since 1970)."""
    if ftype is FieldType.DATE:
        assert isinstance(value, date)
        return float((value - EPOCH).days)
    assert isinstance(value, float | int)
    return float(value)


def signature(item: CompiledItem, negated: bool) -> Hashable:
    """Two literals with the same signature test the same thing."""
    return (item.field, item.type, item.operator, item.values, item.within, negated)


def _is_hash_anchor(item: CompiledItem, negated: bool) -> bool:
    return (
        not negated
        and item.type.is_textual
        and item.operator in (Operator.EQUALS, Operator.STARTS_WITH)
    )


def is_range(item: CompiledItem, negated: bool) -> bool:
    return (
        not negated and item.operator.is_range and item.type in (FieldType.NUMBER, FieldType.DATE)
    )


def _choose(literals: Iterable[Literal]) -> list[CompiledItem]:
    """Anchor items: every equals item, plus the startsWith item with the fewest values,
    dropping the items with most values while the key product exceeds ``MAX_KEYS``."""
    anchors = [it for it, neg in literals if _is_hash_anchor(it, neg)]
    equals = [it for it in anchors if it.operator is Operator.EQUALS]
    prefixes = [it for it in anchors if it.operator is Operator.STARTS_WITH]
    chosen = sorted(equals, key=lambda it: (len(it.values), it.number))
    if prefixes:
        chosen.append(min(prefixes, key=lambda it: (len(it.values), it.number)))
    while len(chosen) > 1 and prod(len(set(it.values)) for it in chosen) > MAX_KEYS:
        chosen.remove(max(chosen, key=lambda it: len(it.values)))
    return chosen


def _combinations(chosen: list[CompiledItem]) -> list[tuple[Anchor, list[tuple[str, ...]]]]:
    """Anchors and key tuples; a startsWith list with several lengths gives several anchors."""
    prefix = [it for it in chosen if it.operator is Operator.STARTS_WITH]
    equals = [it for it in chosen if it.operator is Operator.EQUALS]
    eq_columns = tuple((it.field, 0) for it in equals)
    eq_values = [sorted({str(v) for v in it.values}) for it in equals]
    if not prefix:
        return [(Anchor(eq_columns), list(product(*eq_values)))]
    by_length: dict[int, list[str]] = defaultdict(list)
    for v in sorted({str(v) for v in prefix[0].values}):
        by_length[len(v)].append(v)
    return [
        (Anchor((*eq_columns, (prefix[0].field, n))), list(product(*eq_values, values)))
        for n, values in sorted(by_length.items())
    ]


def interval(items: Iterable[CompiledItem]) -> Interval:
    """The interval allowed by positive range items on one field (their intersection)."""
    low: Bound | None = None
    high: Bound | None = None
    for item in items:
        value = ordinal(item.type, item.values[0])
        op = item.operator
        if op in (Operator.GREATER_THAN, Operator.GREATER_OR_EQUAL):
            bound = (value, op is Operator.GREATER_THAN)
            low = bound if low is None or (bound[0], bound[1]) > low else low
        else:
            bound = (value, op is Operator.LESS_THAN)
            high = bound if high is None or (-bound[0], bound[1]) > (-high[0], high[1]) else high
    return Interval(low, high)


def _range_field(literals: list[Literal]) -> tuple[tuple[str, FieldType], Interval] | None:
    """The field with the most positive range literals (ties: by name), and its interval."""
    by_field: dict[tuple[str, FieldType], list[CompiledItem]] = defaultdict(list)
    for item, negated in literals:
        if is_range(item, negated):
            by_field[(item.field, item.type)].append(item)
    if not by_field:
        return None
    ranged, items = min(by_field.items(), key=lambda kv: (-len(kv[1]), kv[0][0]))
    return ranged, interval(items)


def plan_conjunction(
    literals: list[Literal], first_cid: int, target: int, rule_pk: int
) -> list[ConjunctionPlan]:
    """The plans of one conjunction (several for prefixes of several lengths)."""
    chosen = _choose(literals)
    rest = [lit for lit in literals if not (lit[0] in chosen and not lit[1])]
    found = _range_field(rest)
    allowed = None
    if found is not None:
        ranged, allowed = found
        rest = [lit for lit in rest if not (is_range(*lit) and lit[0].field == ranged[0])]
    if not chosen and found is None:
        return [ConjunctionPlan(first_cid, target, rule_pk, None, (), None, tuple(literals))]
    combinations: list[tuple[Anchor, list[tuple[str, ...]]]] = (
        _combinations(chosen) if chosen else [(Anchor(()), [()])]
    )
    return [
        ConjunctionPlan(
            first_cid + i,
            target,
            rule_pk,
            Anchor(anchor.columns, None if found is None else found[0]),
            tuple(keys),
            allowed,
            tuple(rest),
        )
        for i, (anchor, keys) in enumerate(combinations)
    ]


def _merged(rules: list[CompiledRule], conjunctions: tuple[int, ...]) -> list[Literal]:
    """The literals of one conjunction of each rule, without repeats."""
    seen: set[Hashable] = set()
    literals = []
    for rule, index in zip(rules, conjunctions, strict=True):
        items = {it.number: it for it in rule.items}
        for number, negated in rule.dnf[index]:
            item = items[number]
            if signature(item, negated) not in seen:
                seen.add(signature(item, negated))
                literals.append((item, negated))
    return literals


def _target_conjunctions(
    compiled: CompiledModel, rules: tuple[int, ...]
) -> list[tuple[list[Literal], int]] | None:
    """(literals, rule_pk) of each conjunction of a target; None when it must fall back."""
    compiled_rules = [compiled.rules[pk] for pk in rules]
    if compiled.combination == "any" or len(rules) == 1:
        return [
            (_merged([rule], (i,)), rule.pk)
            for rule in compiled_rules
            for i in range(len(rule.dnf))
        ]
    if prod(len(rule.dnf) for rule in compiled_rules) > MAX_PRODUCT:
        return None
    ranges = [range(len(rule.dnf)) for rule in compiled_rules]
    return [(_merged(compiled_rules, combo), rules[0]) for combo in product(*ranges)]


def _build(compiled: CompiledModel) -> ModelPlan:
    by_rules: dict[tuple[int, ...], list[int]] = defaultdict(list)
    for territory_pk, rules in sorted(compiled.effective.items()):
        by_rules[rules].append(territory_pk)
    targets: dict[tuple[int, ...], tuple[int, ...]] = {}
    conjunctions: dict[tuple[int, ...], list[tuple[list[Literal], int]]] = {}
    fallback: dict[int, tuple[int, ...]] = {}
    for rules, territories in sorted(by_rules.items()):
        found = _target_conjunctions(compiled, rules)
        if found is None:
            fallback.update(dict.fromkeys(territories, rules))
            continue
        targets[rules] = tuple(territories)
        conjunctions[rules] = found
    for pk in sorted({pk for rules in fallback.values() for pk in rules}):
        if (pk,) not in targets:
            targets[(pk,)] = ()
            conjunctions[(pk,)] = _target_conjunctions(compiled, (pk,)) or []
    plans: list[ConjunctionPlan] = []
    for index, rules in enumerate(targets):
        for literals, rule_pk in conjunctions[rules]:
            plans.extend(plan_conjunction(literals, len(plans), index, rule_pk))
    order = {rules: i for i, rules in enumerate(targets)}
    return ModelPlan(
        tuple(Target(rules, territories) for rules, territories in targets.items()),
        tuple(plans),
        fallback,
        {pk: order[(pk,)] for rules in fallback.values() for pk in rules},
        compiled.combination,
    )


def model_plan(compiled: CompiledModel) -> ModelPlan:
    """The plan of a compiled model, built on first use and kept on the model."""
    plan = compiled.engine_cache.get("plan")
    if not isinstance(plan, ModelPlan):
        plan = _build(compiled)
        compiled.engine_cache["plan"] = plan
    return plan


__all__ = [
    "Anchor",
    "ConjunctionPlan",
    "Interval",
    "ModelPlan",
    "Target",
    "interval",
    "is_range",
    "model_plan",
    "ordinal",
    "plan_conjunction",
    "signature",
]
