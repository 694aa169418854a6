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
>>> for plan in plan_rules([rule]):
...     print(plan.anchor.columns, plan.keys, len(plan.residuals))
(('billing_country_code', 0), ('billing_postal_code', 3)) (('us', '940'), ('us', '941')) 0
(('billing_country_code', 0), ('billing_postal_code', 4)) (('us', '9510'),) 0
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import product
from math import prod

from territorial.core.rules.compile import CompiledItem, CompiledRule
from territorial.core.rules.operators import Operator


@dataclass(frozen=True)
class Anchor:
    """Join key columns: each a lower-cased field (length 0) or its first ``length`` chars."""

    columns: tuple[tuple[str, int], ...]


@dataclass(frozen=True)
class ConjunctionPlan:
    """One conjunction of one rule: its anchor and keys (None for a scan) and residuals."""

    cid: int
    rule_pk: int
    anchor: Anchor | None
    keys: tuple[tuple[str, ...], ...]
    """One tuple of values per key combination, aligned with ``anchor.columns``."""
    residuals: tuple[tuple[CompiledItem, bool], ...]
    """(item, negated) literals still to check."""


MAX_KEYS = 4096


def _is_anchor(item: CompiledItem, negated: bool) -> bool:
    return (
        not negated
        and item.type.is_textual
        and item.operator in (Operator.EQUALS, Operator.STARTS_WITH)
    )


def _choose(literals: list[tuple[CompiledItem, bool]]) -> list[CompiledItem]:
    """Anchor items: every equals item, plus the startsWith item with the fewest values,
    dropping the items with most values while the key product exceeds ``MAX_KEYS``."""
    equals = [it for it, neg in literals if _is_anchor(it, neg) and it.operator is Operator.EQUALS]
    prefixes = [
        it for it, neg in literals if _is_anchor(it, neg) and it.operator is Operator.STARTS_WITH
    ]
    chosen = sorted(equals, key=lambda it: (len(it.values), it.number))
    if prefixes:
        chosen.append(min(prefixes, key=lambda it: (len(it.values), it.number)))
    while len(chosen) > 1 and prod(len(set(it.values)) for it in chosen) > MAX_KEYS:
        chosen.remove(max(chosen, key=lambda it: len(it.values)))
    return chosen


def _combinations(chosen: list[CompiledItem]) -> list[tuple[Anchor, list[tuple[str, ...]]]]:
    """Anchor and key tuples; a startsWith list with several lengths gives several anchors."""
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


def plan_rule(rule: CompiledRule, first_cid: int) -> list[ConjunctionPlan]:
    """The conjunction plans of one rule, numbered from ``first_cid``."""
    plans: list[ConjunctionPlan] = []
    for conj in rule.dnf:
        literals = [(rule.item(n), neg) for n, neg in conj]
        chosen = _choose(literals)
        if not chosen:
            plans.append(
                ConjunctionPlan(first_cid + len(plans), rule.pk, None, (), tuple(literals))
            )
            continue
        rest = tuple(lit for lit in literals if not (lit[0] in chosen and not lit[1]))
        for anchor, keys in _combinations(chosen):
            cid = first_cid + len(plans)
            plans.append(ConjunctionPlan(cid, rule.pk, anchor, tuple(keys), rest))
    return plans


def plan_rules(rules: Iterable[CompiledRule]) -> list[ConjunctionPlan]:
    """Conjunction plans of all rules; ``cid`` is the index in the returned list."""
    plans: list[ConjunctionPlan] = []
    for rule in rules:
        if rule.active:
            plans.extend(plan_rule(rule, len(plans)))
    return plans


__all__ = ["Anchor", "ConjunctionPlan", "plan_rule", "plan_rules"]
