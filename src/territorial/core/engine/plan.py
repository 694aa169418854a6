"""Planning the fast engine: rules → conjunctions with a hash-join anchor and residual checks.

Each effective rule's boolean filter is in DNF (an OR of conjunctions). For every
conjunction we pick an *anchor*: a positive ``equals`` or ``startsWith`` item on a textual
field. Its (lower-cased) values become hash-join keys: the engine joins the account
column (or its first ``L`` characters, for prefixes of length ``L``) against all anchors
of the same field and length at once. A ``startsWith`` list with several prefix lengths
splits the conjunction into one conjunction per length (an OR, so this is exact).
Conjunctions without an anchor are *scans*: evaluated as one expression over all rows.
The other literals of a conjunction are *residuals*, checked on the joined pairs.

>>> from territorial.core.fields import FieldCatalog
>>> from territorial.core.model import Rule, RuleItem
>>> from territorial.core.rules.compile import compile_rule
>>> rule = compile_rule(Rule("Bay", (
...     RuleItem(1, "BillingCountryCode", "equals", "US"),
...     RuleItem(2, "BillingPostalCode", "startsWith", "940,941,9510"),
... ), id=4), FieldCatalog.standard("account"))
>>> [(c.anchor, c.keys, len(c.residuals)) for c in plan_rules([rule])]
[(Anchor(field='billing_postal_code', length=3), ('940', '941'), 1), \
(Anchor(field='billing_postal_code', length=4), ('9510',), 1)]
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from territorial.core.rules.compile import CompiledItem, CompiledRule
from territorial.core.rules.operators import Operator

# Fields whose values few accounts share: the best anchors. Others rank after them.
_LOW_CARDINALITY = ("country", "industry", "type", "record_type", "state")


@dataclass(frozen=True)
class Anchor:
    """Join key: the lower-cased field (``length`` 0) or its first ``length`` characters."""

    field: str
    length: int = 0


@dataclass(frozen=True)
class ConjunctionPlan:
    """One conjunction of one rule: its anchor and keys (None for a scan) and residuals."""

    cid: int
    rule_pk: int
    anchor: Anchor | None
    keys: tuple[str, ...]
    residuals: tuple[tuple[CompiledItem, bool], ...]
    """(item, negated) literals still to check."""


def _is_anchor(item: CompiledItem, negated: bool) -> bool:
    return (
        not negated
        and item.type.is_textual
        and item.operator in (Operator.EQUALS, Operator.STARTS_WITH)
    )


def _cost(item: CompiledItem) -> tuple[int, int]:
    """Lower is a better anchor: selective fields, equality, few values."""
    broad = any(word in item.field.lower() for word in _LOW_CARDINALITY)
    prefix = item.operator is Operator.STARTS_WITH
    shortest = min(len(str(v)) for v in item.values)
    return (int(broad) * 2 + int(prefix and shortest < 3), len(item.values))


def _anchored(
    rule: CompiledRule, anchor_item: CompiledItem, residuals: tuple[tuple[CompiledItem, bool], ...]
) -> list[tuple[Anchor, tuple[str, ...], tuple[tuple[CompiledItem, bool], ...]]]:
    values = sorted({str(v) for v in anchor_item.values})
    if anchor_item.operator is Operator.EQUALS:
        return [(Anchor(anchor_item.field), tuple(values), residuals)]
    by_length: dict[int, list[str]] = defaultdict(list)
    for v in values:
        by_length[len(v)].append(v)
    return [
        (Anchor(anchor_item.field, length), tuple(keys), residuals)
        for length, keys in sorted(by_length.items())
    ]


def plan_rule(rule: CompiledRule, first_cid: int) -> list[ConjunctionPlan]:
    """The conjunction plans of one rule, numbered from ``first_cid``."""
    plans: list[ConjunctionPlan] = []
    for conj in rule.dnf:
        literals = [(rule.item(n), neg) for n, neg in conj]
        candidates = [lit for lit in literals if _is_anchor(*lit)]
        if not candidates:
            plans.append(
                ConjunctionPlan(first_cid + len(plans), rule.pk, None, (), tuple(literals))
            )
            continue
        best = min(candidates, key=lambda lit: _cost(lit[0]))
        rest = tuple(lit for lit in literals if lit is not best)
        for anchor, keys, residuals in _anchored(rule, best[0], rest):
            plans.append(ConjunctionPlan(first_cid + len(plans), rule.pk, anchor, keys, residuals))
    return plans


def plan_rules(rules: Iterable[CompiledRule]) -> list[ConjunctionPlan]:
    """Conjunction plans of all rules; ``cid`` is the index in the returned list."""
    plans: list[ConjunctionPlan] = []
    for rule in rules:
        if rule.active:
            plans.extend(plan_rule(rule, len(plans)))
    return plans


__all__ = ["Anchor", "ConjunctionPlan", "plan_rule", "plan_rules"]
