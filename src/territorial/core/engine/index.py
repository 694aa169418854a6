"""Online assignment: an in-memory index that assigns ONE account in microseconds.

Built from the same plan as the vectorized engine: each anchored conjunction is filed in a
hash table under its keys (lower-cased value, or prefix of a given length); assigning an
account looks up its own keys, then checks the few candidates' residual items with the
reference evaluator. Scan conjunctions (no anchor) are checked for every account.
Agrees with ``rules.reference`` (property-tested).

>>> from territorial.core.fields import FieldCatalog
>>> from territorial.core.model import Rule, RuleItem
>>> from territorial.core.rules.compile import ModelInput, TerritoryNode, compile_model
>>> model = ModelInput(
...     [TerritoryNode(1), TerritoryNode(2, 1)],
...     [Rule("Bay", (RuleItem(1, "BillingPostalCode", "startsWith", "940,941"),), id=3)],
...     [(3, 1, True)],
... )
>>> index = OnlineIndex.build(compile_model(model, FieldCatalog.standard("account")))
>>> index.assign({"billing_postal_code": "94105"})
[(1, 3), (2, 3)]
>>> index.assign({"billing_postal_code": "10001"})
[]
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from territorial.core.engine.plan import Anchor, ConjunctionPlan, plan_rules
from territorial.core.rules.compile import CompiledModel, effective_rule_pks
from territorial.core.rules.reference import as_boolean, is_blank, item_matches


@dataclass
class OnlineIndex:
    """Hash tables of anchored conjunctions, the scan conjunctions, and the territories."""

    anchors: dict[Anchor, dict[tuple[str, ...], list[ConjunctionPlan]]]
    scans: list[ConjunctionPlan]
    territories_of_rule: dict[int, list[int]]
    effective: dict[int, tuple[int, ...]]
    combination: str

    @classmethod
    def build(cls, compiled: CompiledModel) -> OnlineIndex:
        """Index the effective rules of a compiled model."""
        rules = [compiled.rules[pk] for pk in sorted(effective_rule_pks(compiled))]
        anchors: dict[Anchor, dict[tuple[str, ...], list[ConjunctionPlan]]] = defaultdict(dict)
        scans: list[ConjunctionPlan] = []
        for plan in plan_rules(rules):
            if plan.anchor is None:
                scans.append(plan)
                continue
            table = anchors[plan.anchor]
            for key in plan.keys:
                table.setdefault(key, []).append(plan)
        territories: dict[int, list[int]] = defaultdict(list)
        for territory_pk, pks in sorted(compiled.effective.items()):
            for pk in pks:
                territories[pk].append(territory_pk)
        return cls(
            dict(anchors), scans, dict(territories), compiled.effective, compiled.combination
        )

    def matching_rules(self, account: Mapping[str, Any]) -> set[int]:
        """Pks of the effective rules the account satisfies."""
        matched: set[int] = set()
        for anchor, table in self.anchors.items():
            key = _key(anchor, account)
            if key is None:
                continue
            for plan in table.get(key, ()):
                if plan.rule_pk not in matched and _residuals_hold(plan, account):
                    matched.add(plan.rule_pk)
        for plan in self.scans:
            if plan.rule_pk not in matched and _residuals_hold(plan, account):
                matched.add(plan.rule_pk)
        return matched

    def assign(self, account: Mapping[str, Any]) -> list[tuple[int, int]]:
        """``(territory_pk, rule_pk)`` for every territory the rules put the account in,
        sorted; ``rule_pk`` is the lowest-pk satisfied effective rule. Exclusions of single
        (territory, account) pairs are the caller's business."""
        if as_boolean(account.get("excluded_from_realign")):
            return []
        matched = self.matching_rules(account)
        candidates = {t for pk in matched for t in self.territories_of_rule.get(pk, ())}
        result = []
        for territory_pk in sorted(candidates):
            pks = self.effective[territory_pk]
            hits = [pk for pk in pks if pk in matched]
            if self.combination == "any" or len(hits) == len(pks):
                result.append((territory_pk, hits[0]))
        return result


def _key(anchor: Anchor, account: Mapping[str, Any]) -> tuple[str, ...] | None:
    parts = []
    for name, length in anchor.columns:
        value = account.get(name)
        if value is None:
            return None
        text = value if isinstance(value, str) else str(value)
        if is_blank(text):
            return None
        lowered = text.lower()
        parts.append(lowered[:length] if length else lowered)
    return tuple(parts)


def _residuals_hold(plan: ConjunctionPlan, account: Mapping[str, Any]) -> bool:
    return all(item_matches(item, account) != negated for item, negated in plan.residuals)


__all__ = ["OnlineIndex"]
