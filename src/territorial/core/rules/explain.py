"""Why an account is, or is not, in a territory: rule by rule, item by item.

Built on the reference evaluator (``item_matches``), so an explanation cannot disagree
with what the rules do: a territory is reported ``assigned`` exactly where
``reference.evaluate`` assigns the account (a property test holds this).

Every item of every effective rule is evaluated and reported with the value the account
has. For a rule that fails, ``failed_items`` names the items that made it fail: the
first failing item when the items are simply ANDed; with a boolean filter, the items
whose results made the filter false (for ``NOT 1`` that is item 1, which matched).

>>> from territorial.core.fields import FieldCatalog
>>> from territorial.core.model import Rule, RuleItem
>>> from territorial.core.rules.compile import ModelInput, TerritoryNode, compile_model
>>> west = Rule("West", (RuleItem(1, "BillingStateCode", "equals", "CA,NV"),
...                      RuleItem(2, "AnnualRevenue", "lessThan", "5e8")), id=1)
>>> model = compile_model(
...     ModelInput([TerritoryNode(10), TerritoryNode(11)], [west], [(1, 10, False)]),
...     FieldCatalog.standard("account"),
... )
>>> account = {"billing_state_code": "NV", "annual_revenue": 9e8}
>>> [found] = explain_account(account, model, territory_pk=10)
>>> found.assigned, found.reason.value
(False, 'failed')
>>> print(found.rules[0].summary())
rule West failed at item 2: annual_revenue lessThan 5e8 — account has 900,000,000 ✗
>>> explain_account(account, model, territory_pk=11)[0].reason.text
'the territory has no effective rules'
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from territorial.core.fields import FieldType
from territorial.core.rules.compile import CompiledItem, CompiledModel, CompiledRule
from territorial.core.rules.filter import And, FilterNode, Item, Not, Or, and_all
from territorial.core.rules.operators import Operator, split_values
from territorial.core.rules.reference import (
    Account,
    account_value,
    as_boolean,
    is_blank,
    item_matches,
)

PASS_MARK = "✓"
FAIL_MARK = "✗"


class Reason(StrEnum):
    """Why an account is or is not in one territory by rules (exclusions win over rules)."""

    MATCHED_ALL = "matched_all"
    MATCHED_ANY = "matched_any"
    NO_RULES = "no_rules"
    EXCLUDED = "excluded"
    EXCLUDED_FROM_REALIGN = "excluded_from_realign"
    FAILED = "failed"

    @property
    def text(self) -> str:
        """The reason in words."""
        return _REASON_TEXT[self]


_REASON_TEXT = {
    Reason.MATCHED_ALL: "the account satisfies every effective rule",
    Reason.MATCHED_ANY: "the account satisfies an effective rule (the model needs any one)",
    Reason.NO_RULES: "the territory has no effective rules",
    Reason.EXCLUDED: "the account is excluded from this territory",
    Reason.EXCLUDED_FROM_REALIGN: "the account is excluded from realignment (no rule applies)",
    Reason.FAILED: "the account fails the effective rules",
}
ASSIGNED_REASONS = frozenset({Reason.MATCHED_ALL, Reason.MATCHED_ANY})


def format_value(value: Any) -> str:
    """An account value as a reader should see it; empty values say so.

    >>> format_value("NV"), format_value(2.5e6), format_value(0.25), format_value(None)
    ("'NV'", '2,500,000', '0.25', 'no value')
    >>> format_value("  "), format_value(True), format_value((37.77, -122.42))
    ('no value', 'true', 'location (37.77, -122.42)')
    """
    if value is None or (isinstance(value, str) and is_blank(value)):
        return "no value"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and math.isnan(value):
        return "no value"
    if isinstance(value, int | float):
        return f"{value:,.0f}" if float(value).is_integer() else f"{value:,}"
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, tuple):
        if any(v is None or (isinstance(v, float) and math.isnan(v)) for v in value):
            return "no location"
        return "location (" + ", ".join(f"{v:g}" for v in value) + ")"
    return f"'{value}'"


LISTED = 8
"""Values of a long list an explanation shows; the full list is in the structured rows."""
NEAREST = 3
"""Listed values an explanation offers as the nearest to a value that matched none."""


@dataclass(frozen=True)
class ItemVerdict:
    """One rule item: what it asks (``field operator`` and ``value``, as written), what the
    account has, and whether it passed.

    ``hits`` are the listed values the account's value matches on its own (for ``equals``,
    ``contains``, ``startsWith``, ``includes`` and their negations): the value that let a
    ``startsWith`` pass, or the one that made a ``notEqual`` fail.
    """

    number: int
    condition: str
    value: str
    value_seen: Any
    passed: bool
    hits: tuple[str, ...] = ()
    listed: bool = False
    """The value is a list (split on commas), not a single bound or a ``within`` circle."""

    @property
    def description(self) -> str:
        """``field operator value`` in full, as written."""
        return f"{self.condition} {self.value}"

    @property
    def values(self) -> tuple[str, ...]:
        """The listed values, as written (one value unless ``listed``)."""
        return split_values(self.value) if self.listed else (self.value,)

    def text(self, *, limit: int = LISTED) -> str:
        """The item for people: a list longer than ``limit`` shortened to its first values
        (``… and 192 more``), and then which listed value the account matched, or the
        listed values nearest to its own when it matched none.

        >>> item = ItemVerdict(2, "BillingPostalCode startsWith", "940,941,942,950,951",
        ...                    "94105", True, hits=("941",), listed=True)
        >>> item.text(limit=2)
        "BillingPostalCode startsWith 940,941 … and 3 more — account has '94105', which matches 941 ✓"
        >>> miss = ItemVerdict(2, "BillingPostalCode startsWith", "940,941,972,9723,980",
        ...                    "97230", False, listed=True)
        >>> miss.text(limit=2)
        "BillingPostalCode startsWith 940,941 … and 3 more — account has '97230' ✗ (none of the 5 values matches; nearest: 9723, 972)"
        """  # noqa: E501
        mark = PASS_MARK if self.passed else FAIL_MARK
        seen = format_value(self.value_seen)
        values = self.values
        if len(values) <= limit:
            return f"{self.description} — account has {seen} {mark}"
        more = len(values) - limit
        shown = f"{self.condition} {','.join(values[:limit])} … and {more:,} more"
        if self.hits:
            which = ", ".join(self.hits[:NEAREST]) + (" …" if len(self.hits) > NEAREST else "")
            return f"{shown} — account has {seen}, which matches {which} {mark}"
        near = [] if self.passed else nearest(values, self.value_seen)
        tail = f"; nearest: {', '.join(near)}" if near else ""
        none = f"none of the {len(values):,} values matches{tail}"
        return f"{shown} — account has {seen} {mark} ({none})"

    def __str__(self) -> str:
        return self.text()


def nearest(values: Sequence[str], seen: Any, *, count: int = NEAREST) -> list[str]:
    """The listed values that share the longest beginning with the account's value (at
    least two characters, ignoring case), longest first: where a postal code would have
    fitted.

    >>> nearest(["940", "9723", "972", "98"], "97230"), nearest(["940"], "97230")
    (['9723', '972'], [])
    """
    if not isinstance(seen, str) or is_blank(seen):
        return []
    text = seen.strip().lower()

    def shared(value: str) -> int:
        pairs = zip(value.lower(), text, strict=False)
        return next((i for i, (a, b) in enumerate(pairs) if a != b), min(len(value), len(text)))

    ranked = sorted((v for v in values if shared(v) >= 2), key=lambda v: (-shared(v), v))
    return ranked[:count]


@dataclass(frozen=True)
class RuleVerdict:
    """One effective rule and every one of its items for one account.

    ``failed_items`` is empty when the rule passed; otherwise the items that made it fail.
    ``filter`` is the boolean filter (normalised), None when the items are ANDed.
    """

    rule_pk: int
    rule_name: str
    passed: bool
    items: tuple[ItemVerdict, ...]
    failed_items: tuple[ItemVerdict, ...] = ()
    filter: str | None = None

    def summary(self) -> str:
        """One line: whether the rule matched and, when not, which items made it fail."""
        if self.passed:
            return f"rule {self.rule_name} matched"
        if not self.items:
            return f"rule {self.rule_name} has no items, so it matches no account"
        if self.filter is None and len(self.failed_items) == 1:
            [item] = self.failed_items
            return f"rule {self.rule_name} failed at item {item.number}: {item}"
        blamed = "; ".join(f"item {i.number}: {i}" for i in self.failed_items)
        return f"rule {self.rule_name} (filter {self.filter}) failed because of {blamed}"


@dataclass(frozen=True)
class TerritoryExplanation:
    """Whether the rules put the account in one territory, and why.

    ``rules_matched`` tells whether the effective rules are satisfied, whatever the
    exclusions; ``assigned`` is what a run does (exclusions win over rules).
    """

    territory_pk: int
    assigned: bool
    reason: Reason
    rules: tuple[RuleVerdict, ...]
    rules_matched: bool

    @property
    def failed_rules(self) -> tuple[RuleVerdict, ...]:
        """The effective rules the account does not satisfy."""
        return tuple(r for r in self.rules if not r.passed)

    @property
    def matched_rules(self) -> tuple[RuleVerdict, ...]:
        """The effective rules the account satisfies."""
        return tuple(r for r in self.rules if r.passed)


def filter_text(node: FilterNode) -> str:
    """A boolean filter written out, parentheses around every group.

    >>> from territorial.core.rules.filter import parse_filter
    >>> filter_text(parse_filter("1 and (2 or not 3)"))
    '1 AND (2 OR NOT 3)'
    """
    if isinstance(node, Item):
        return str(node.number)
    if isinstance(node, Not):
        inner = filter_text(node.part)
        return f"NOT {inner}" if isinstance(node.part, Item | Not) else f"NOT ({inner})"
    joiner = " AND " if isinstance(node, And) else " OR "
    return joiner.join(
        filter_text(p) if isinstance(p, Item | Not) else f"({filter_text(p)})" for p in node.parts
    )


def _why(node: FilterNode, results: Mapping[int, bool]) -> tuple[bool, list[int]]:
    """The filter's value and the items that decided it.

    AND is decided by its first false part (or all parts when true); OR by its first true
    part (or all parts when false); NOT by its part.
    """
    if isinstance(node, Item):
        return results[node.number], [node.number]
    if isinstance(node, Not):
        value, items = _why(node.part, results)
        return not value, items
    deciding = isinstance(node, Or)
    outcomes = [_why(p, results) for p in node.parts]
    for value, items in outcomes:
        if value is deciding:
            return deciding, items
    return not deciding, [n for _, items in outcomes for n in items]


def value_seen(item: CompiledItem, account: Account) -> Any:
    """The account value an item compares (a checkbox is never empty: missing is false)."""
    value = account_value(item, account)
    return as_boolean(value) if item.type is FieldType.BOOLEAN else value


LIST_OPERATORS = frozenset(
    {
        Operator.EQUALS,
        Operator.NOT_EQUAL,
        Operator.CONTAINS,
        Operator.NOT_CONTAIN,
        Operator.STARTS_WITH,
        Operator.INCLUDES,
        Operator.EXCLUDES,
    }
)
"""Operators whose value is a list: any value matches (or, negated, none does)."""


def _item(item: CompiledItem, account: Account) -> ItemVerdict:
    listed = item.operator in LIST_OPERATORS
    return ItemVerdict(
        item.number,
        f"{item.field} {item.operator.value}",
        item.raw_value,
        value_seen(item, account),
        item_matches(item, account),
        hits=hits(item, account) if listed else (),
        listed=listed,
    )


def hits(item: CompiledItem, account: Account) -> tuple[str, ...]:
    """The values of a list item, as written, that the account's value matches on its own
    (a negated operator's value "matches" when it is the one the account has).

    >>> from territorial.core.fields import FieldCatalog
    >>> from territorial.core.model import RuleItem
    >>> from territorial.core.rules.compile import compile_item
    >>> item = compile_item(RuleItem(1, "BillingPostalCode", "notEqual", "940, 97230"),
    ...                     FieldCatalog.standard("account"), rule="R")
    >>> hits(item, {"billing_postal_code": "97230"})
    ('97230',)
    """
    value = account_value(item, account)
    if value is None or (isinstance(value, str) and is_blank(value)):
        return ()
    if isinstance(value, float) and math.isnan(value):
        return ()
    written = split_values(item.raw_value)
    found = []
    for text, parsed in zip(written, item.values, strict=True):
        one = replace(item, values=(parsed,))
        if item_matches(one, account) is not item.operator.is_negative:
            found.append(text)
    return tuple(found)


def explain_rule(rule: CompiledRule, account: Account) -> RuleVerdict:
    """Evaluate every item of ``rule`` for ``account`` and say which made it fail.

    >>> from territorial.core.fields import FieldCatalog
    >>> from territorial.core.model import Rule, RuleItem
    >>> from territorial.core.rules.compile import compile_rule
    >>> rule = compile_rule(
    ...     Rule("Not_retail", (RuleItem(1, "Industry", "equals", "Retail"),
    ...                         RuleItem(2, "BillingCountryCode", "equals", "US")),
    ...          boolean_filter="NOT 1 AND 2"),
    ...     FieldCatalog.standard("account"))
    >>> verdict = explain_rule(rule, {"industry": "retail", "billing_country_code": "US"})
    >>> verdict.passed, [i.number for i in verdict.failed_items]
    (False, [1])
    >>> print(verdict.summary())
    rule Not_retail (filter NOT 1 AND 2) failed because of item 1: industry equals Retail — account has 'retail' ✓
    """  # noqa: E501
    items = tuple(_item(it, account) for it in rule.items)
    shown = None if rule.filter is None else filter_text(rule.filter)
    if not items:
        return RuleVerdict(rule.pk, rule.name, False, (), (), shown)
    results = {i.number: i.passed for i in items}
    passed, deciding = _why(rule.filter or and_all(sorted(results)), results)
    passed = passed and rule.active
    by_number = {i.number: i for i in items}
    failed = () if passed else tuple(by_number[n] for n in dict.fromkeys(deciding))
    return RuleVerdict(rule.pk, rule.name, passed, items, failed, shown)


def _territory(
    account: Account,
    compiled: CompiledModel,
    territory_pk: int,
    verdicts: Mapping[int, RuleVerdict],
    excluded: Collection[int],
) -> TerritoryExplanation:
    rule_pks = compiled.effective.get(territory_pk, ())
    rules = tuple(verdicts[pk] for pk in rule_pks)
    hits = sum(r.passed for r in rules)
    every = compiled.combination == "all"
    matched = bool(rules) and (hits == len(rules) if every else hits > 0)
    if as_boolean(account.get("excluded_from_realign")):
        reason = Reason.EXCLUDED_FROM_REALIGN
    elif territory_pk in excluded:
        reason = Reason.EXCLUDED
    elif not rules:
        reason = Reason.NO_RULES
    elif not matched:
        reason = Reason.FAILED
    else:
        reason = Reason.MATCHED_ALL if every else Reason.MATCHED_ANY
    return TerritoryExplanation(territory_pk, reason in ASSIGNED_REASONS, reason, rules, matched)


def explain_account(
    account: Mapping[str, Any],
    compiled: CompiledModel,
    *,
    territory_pk: int | None = None,
    excluded_territories: Collection[int] = frozenset(),
) -> list[TerritoryExplanation]:
    """Explain where the rules put ``account`` (or, for one territory, why or why not).

    Parameters
    ----------
    account
        The account's values by canonical field name (as ``load_accounts`` reads them),
        including ``excluded_from_realign``.
    compiled
        The compiled model.
    territory_pk
        Explain only this territory, whether the account is in it or not. Without it,
        every territory whose effective rules the account satisfies is explained (those
        an exclusion keeps it out of are included, with ``assigned`` false).
    excluded_territories
        Territories this account is excluded from.

    Returns
    -------
    list of TerritoryExplanation
        Sorted by territory pk.

    Raises
    ------
    KeyError
        When ``territory_pk`` is not a territory of the model.

    Examples
    --------
    >>> from territorial.core.fields import FieldCatalog
    >>> from territorial.core.model import Rule, RuleItem
    >>> from territorial.core.rules.compile import ModelInput, TerritoryNode, compile_model
    >>> us = Rule("US", (RuleItem(1, "BillingCountryCode", "equals", "US"),), id=1)
    >>> ca = Rule("CA", (RuleItem(1, "BillingStateCode", "equals", "CA"),), id=2)
    >>> model = compile_model(
    ...     ModelInput([TerritoryNode(1), TerritoryNode(2, 1)], [us, ca],
    ...                [(1, 1, True), (2, 2, False)]),
    ...     FieldCatalog.standard("account"),
    ... )
    >>> account = {"billing_country_code": "US", "billing_state_code": "CA"}
    >>> [(e.territory_pk, e.assigned, [r.rule_name for r in e.rules])
    ...  for e in explain_account(account, model)]
    [(1, True, ['US']), (2, True, ['US', 'CA'])]
    >>> [e.reason.value for e in explain_account(account, model, excluded_territories={2})]
    ['matched_all', 'excluded']
    """
    if territory_pk is not None and territory_pk not in compiled.territories:
        raise KeyError(territory_pk)
    wanted = [territory_pk] if territory_pk is not None else sorted(compiled.effective)
    needed = {pk for t in wanted for pk in compiled.effective.get(t, ())}
    verdicts = {pk: explain_rule(compiled.rules[pk], account) for pk in sorted(needed)}
    found = [_territory(account, compiled, t, verdicts, excluded_territories) for t in wanted]
    if territory_pk is not None:
        return found
    return [e for e in found if e.rules_matched]


__all__ = [
    "FAIL_MARK",
    "LISTED",
    "LIST_OPERATORS",
    "PASS_MARK",
    "ItemVerdict",
    "Reason",
    "RuleVerdict",
    "TerritoryExplanation",
    "explain_account",
    "explain_rule",
    "filter_text",
    "format_value",
    "hits",
    "nearest",
    "value_seen",
]
