"""The reference evaluator: plain Python, one account and one item at a time.

It is the oracle the fast engine and the online index are tested against, so it favours
being obviously right over being fast. It is also what ``explain`` uses.

Semantics (DESIGN.md section 3):

* Text is compared lower-cased; account values are not trimmed, but a value made only of
  whitespace (``BLANK_CHARS``) is empty.
* An empty field never satisfies an item, whatever the operator; a boolean field is never
  empty (missing means false). A number that is NaN counts as empty.
* A multi-picklist value is split on ``;``, each part trimmed and lower-cased.

>>> from territorial.core.fields import FieldCatalog
>>> from territorial.core.model import Rule, RuleItem
>>> from territorial.core.rules.compile import compile_rule
>>> rule = compile_rule(Rule("CA", (RuleItem(1, "BillingStateCode", "equals", "CA"),)),
...                     FieldCatalog.standard("account"))
>>> rule_matches(rule, {"billing_state_code": "ca"}), rule_matches(rule, {})
(True, False)
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import Any

import polars as pl

from territorial.core.fields import FieldCatalog, FieldType
from territorial.core.rules.compile import (
    CompiledItem,
    CompiledModel,
    CompiledRule,
    ModelInput,
    compile_model,
)
from territorial.core.rules.deciding import recorded_rule
from territorial.core.rules.filter import evaluate_lazy
from territorial.core.rules.operators import Operator, great_circle_km, parse_boolean

# Unicode White_Space, spelled out so Python and Polars agree on what "blank" means.
BLANK_CHARS = (
    "\t\n\x0b\x0c\r \x85\xa0\u1680"
    "\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u2028\u2029\u202f\u205f\u3000"
)

Account = Mapping[str, Any]


def is_blank(text: str) -> bool:
    """True for an empty or whitespace-only string.

    >>> is_blank(" \\t"), is_blank(" x ")
    (True, False)
    """
    return text.strip(BLANK_CHARS) == ""


def multipicklist_parts(text: str) -> set[str]:
    """The lower-cased, trimmed, non-blank parts of a ``;``-separated value.

    >>> sorted(multipicklist_parts("Gold; silver;;"))
    ['gold', 'silver']
    """
    return {p.strip(BLANK_CHARS).lower() for p in text.split(";") if not is_blank(p)}


def account_value(item: CompiledItem, account: Account) -> Any:
    """The value an item reads from the account (a ``(lat, lon)`` pair for ``within``)."""
    if item.operator is Operator.WITHIN:
        return (account.get("latitude"), account.get("longitude"))
    return account.get(item.field)


def _number(value: Any) -> float | None:
    if value is None:
        return None
    number = float(value)
    return None if math.isnan(number) else number


def _date(value: Any) -> date | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, str):
        return date.fromisoformat(value) if value.strip() else None
    if isinstance(value, date):
        return value
    raise TypeError(f"{value!r} is not a date")


def as_boolean(value: Any) -> bool:
    """A checkbox value: None and blank are false; strings like true/no are parsed."""
    if value is None:
        return False
    if isinstance(value, str):
        return parse_boolean(value) if value.strip() else False
    return bool(value)


def _compare(op: Operator, value: Any, values: Sequence[Any]) -> bool:
    if op is Operator.EQUALS:
        return any(value == v for v in values)
    if op is Operator.NOT_EQUAL:
        return all(value != v for v in values)
    (bound,) = values
    if op is Operator.LESS_THAN:
        return bool(value < bound)
    if op is Operator.GREATER_THAN:
        return bool(value > bound)
    if op is Operator.LESS_OR_EQUAL:
        return bool(value <= bound)
    if op is Operator.GREATER_OR_EQUAL:
        return bool(value >= bound)
    raise ValueError(f"{op.value} does not compare values")


def _text(op: Operator, raw: str, values: Sequence[Any]) -> bool:
    if op is Operator.INCLUDES:
        return bool(multipicklist_parts(raw) & set(values))
    if op is Operator.EXCLUDES:
        return not (multipicklist_parts(raw) & set(values))
    text = raw.lower()
    if op is Operator.CONTAINS:
        return any(v in text for v in values)
    if op is Operator.NOT_CONTAIN:
        return all(v not in text for v in values)
    if op is Operator.STARTS_WITH:
        return any(text.startswith(v) for v in values)
    return _compare(op, text, values)


def item_matches(item: CompiledItem, account: Account) -> bool:
    """Whether the account satisfies one compiled item."""
    value = account_value(item, account)
    if item.operator is Operator.WITHIN:
        lat, lon = _number(value[0]), _number(value[1])
        if lat is None or lon is None or item.within is None:
            return False
        clat, clon, radius = item.within
        return great_circle_km(lat, lon, clat, clon) <= radius
    if item.type is FieldType.BOOLEAN:
        return _compare(item.operator, as_boolean(value), item.values)
    if item.type is FieldType.NUMBER:
        number = _number(value)
        return number is not None and _compare(item.operator, number, item.values)
    if item.type is FieldType.DATE:
        day = _date(value)
        return day is not None and _compare(item.operator, day, item.values)
    if value is None:
        return False
    text = value if isinstance(value, str) else str(value)
    return not is_blank(text) and _text(item.operator, text, item.values)


def rule_matches(rule: CompiledRule, account: Account) -> bool:
    """Whether the account satisfies the rule (False for a rule with no items or inactive)."""
    if not rule.active or not rule.items:
        return False
    by_number = {it.number: it for it in rule.items}
    if rule.filter is None:
        return all(item_matches(it, account) for it in rule.items)
    return evaluate_lazy(rule.filter, lambda n: item_matches(by_number[n], account))


def _rows(accounts: pl.DataFrame | Iterable[Account]) -> Sequence[Account]:
    if isinstance(accounts, pl.DataFrame):
        return accounts.to_dicts()
    return list(accounts)


def _excluded_pairs(exclusions: pl.DataFrame | Iterable[tuple[int, int]] | None) -> set[Any]:
    if exclusions is None:
        return set()
    if isinstance(exclusions, pl.DataFrame):
        return set(zip(exclusions["territory_pk"], exclusions["account_pk"], strict=True))
    return set(exclusions)


def assign_account(account: Account, compiled: CompiledModel) -> list[tuple[int, int]]:
    """``(territory_pk, rule_pk)`` for every territory the rules put the account in,
    ignoring exclusions; ``rule_pk`` is the satisfied effective rule a run records: the
    first in the territory's rule order (``rules.deciding``)."""
    if as_boolean(account.get("excluded_from_realign")):
        return []
    matched = {pk: rule_matches(r, account) for pk, r in compiled.rules.items()}
    result = []
    for territory_pk, rule_pks in sorted(compiled.effective.items()):
        hits = {pk for pk in rule_pks if matched[pk]}
        if (compiled.combination == "all" and len(hits) == len(rule_pks)) or (
            compiled.combination == "any" and hits
        ):
            result.append((territory_pk, recorded_rule(compiled.rule_order[territory_pk], hits)))
    return result


def evaluate(
    accounts: pl.DataFrame | Iterable[Account],
    model: CompiledModel | ModelInput,
    catalog: FieldCatalog | None = None,
    exclusions: pl.DataFrame | Iterable[tuple[int, int]] | None = None,
) -> pl.DataFrame:
    """Assign accounts one by one; same contract as ``engine.matcher.match``.

    ``exclusions`` are ``(territory_pk, account_pk)`` pairs or a frame with those columns.
    ``catalog`` is needed only when ``model`` is a ``ModelInput``.

    >>> from territorial.core.model import Rule, RuleItem
    >>> from territorial.core.rules.compile import TerritoryNode
    >>> model = ModelInput(
    ...     [TerritoryNode(1)],
    ...     [Rule("Big", (RuleItem(1, "AnnualRevenue", "greaterThan", "1e6"),), id=3)],
    ...     [(3, 1, False)],
    ... )
    >>> accounts = [{"pk": 10, "annual_revenue": 2e6}, {"pk": 11, "annual_revenue": None}]
    >>> evaluate(accounts, model, FieldCatalog.standard("account")).rows()
    [(10, 1, 3)]
    """
    if isinstance(model, ModelInput):
        if catalog is None:
            raise ValueError("a catalog is needed to compile a ModelInput")
        model = compile_model(model, catalog)
    excluded = _excluded_pairs(exclusions)
    rows: list[tuple[int, int, int]] = []
    for account in _rows(accounts):
        pk = int(account["pk"])
        for territory_pk, rule_pk in assign_account(account, model):
            if (territory_pk, pk) not in excluded:
                rows.append((pk, territory_pk, rule_pk))
    return result_frame(rows)


RESULT_SCHEMA = {"account_pk": pl.Int64, "territory_pk": pl.Int64, "rule_pk": pl.Int64}


def result_frame(rows: list[tuple[int, int, int]]) -> pl.DataFrame:
    """The assignment frame for ``(account_pk, territory_pk, rule_pk)`` rows, sorted."""
    frame = pl.DataFrame(rows, schema=RESULT_SCHEMA, orient="row")
    return frame.sort("account_pk", "territory_pk")


__all__ = [
    "BLANK_CHARS",
    "RESULT_SCHEMA",
    "Account",
    "as_boolean",
    "assign_account",
    "evaluate",
    "is_blank",
    "item_matches",
    "multipicklist_parts",
    "result_frame",
    "rule_matches",
]
