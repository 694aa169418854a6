"""Which rule a run records for a rule assignment: the one that sets the territory apart.

An account in a territory often satisfies several of the territory's effective rules (every
one, when the model needs all of them); a run records one of them (ETM records none). The
lowest rule pk would be an accident of creation order, and usually a rule that every
territory around shares (``US_Accounts``), which says nothing about why the account is here
rather than next door. So each territory's effective rules are put in a **rule order**:

* first the rules that no **sibling** (a territory with the same parent; top-level
  territories are siblings of each other) has among its effective rules,
* then the rules a sibling has too,

each group with the most specific rule first (the one fewest territories of the model have
among their effective rules), then by pk, and a run records the first rule of that order
the account satisfied. A carved territory, which needs the ``US_Accounts`` and
``Commercial_Revenue`` rules every carved territory has plus its own ``<Territory>_Carve``
postal rule, records the postal rule. An overlay such as ``Public_Sector_US``, whose
siblings share neither its own ``Public_Sector_US_Rule`` nor the ``US_Accounts`` rule it
also needs, records its own rule: ``US_Accounts`` is needed by many territories elsewhere.
When several rules set a territory apart, ``core.reasons`` names every rule matched.

The order is computed over the whole model (``rules.compile.compile_model``), so a run
limited to a subtree records the same rules as a run of the whole model.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Mapping, Sequence


def sibling_rules(
    parents: Mapping[int, int | None], effective: Mapping[int, Sequence[int]]
) -> dict[int, frozenset[int]]:
    """Per territory, those of its effective rules that a sibling territory has too.

    Parameters
    ----------
    parents
        Every territory's parent pk (None, or a pk not in ``parents``: top level).
    effective
        Each territory's effective rule pks (territories without rules may be left out).

    Examples
    --------
    >>> parents = {1: None, 2: 1, 3: 1, 4: 1}
    >>> effective = {2: (10, 11, 20), 3: (10, 11, 30), 4: (10, 40)}
    >>> {t: sorted(r) for t, r in sibling_rules(parents, effective).items()}
    {1: [], 2: [10, 11], 3: [10, 11], 4: [10]}
    """
    families: dict[int | None, list[int]] = {}
    for pk, parent in parents.items():
        families.setdefault(parent if parent in parents else None, []).append(pk)
    shared: dict[int, frozenset[int]] = {}
    for members in families.values():
        holders = Counter(rule for pk in members for rule in set(effective.get(pk, ())))
        for pk in members:
            shared[pk] = frozenset(r for r in effective.get(pk, ()) if holders[r] > 1)
    return shared


def rule_order(
    parents: Mapping[int, int | None], effective: Mapping[int, Sequence[int]]
) -> dict[int, tuple[int, ...]]:
    """Each territory's effective rules: those no sibling has first, then the others; in
    each group the rules fewest territories of the model have first, then by pk.

    Only territories with effective rules are keys.

    Examples
    --------
    >>> parents = {1: None, 2: 1, 3: 1, 4: 1}
    >>> effective = {2: (10, 11, 20), 3: (10, 11, 30), 4: (10, 40, 41)}
    >>> rule_order(parents, effective)
    {2: (20, 11, 10), 3: (30, 11, 10), 4: (40, 41, 10)}

    Rule 5 (say ``US_Accounts``) is needed by territories elsewhere too, rule 60 by the
    overlay 6 alone: the overlay's own rule comes first although its pk is higher.

    >>> parents = {1: None, 2: 1, 3: 1, 6: None, 7: None}
    >>> rule_order(parents, {2: (5, 20), 3: (5, 30), 6: (5, 60), 7: (70,)})[6]
    (60, 5)
    """
    shared = sibling_rules(parents, effective)
    uses = Counter(rule for rules in effective.values() for rule in set(rules))
    return {
        pk: tuple(sorted(rules, key=lambda r: (r in shared.get(pk, ()), uses[r], r)))
        for pk, rules in effective.items()
        if rules
    }


def recorded_rule(order: Sequence[int], matched: Collection[int]) -> int:
    """The rule a run records: the first of the territory's ``order`` in ``matched``.

    Examples
    --------
    >>> recorded_rule((20, 10, 11), matched={10, 11, 20})
    20
    >>> recorded_rule((20, 21, 10), matched={10, 21})
    21
    """
    return next(rule for rule in order if rule in matched)


__all__ = ["recorded_rule", "rule_order", "sibling_rules"]
