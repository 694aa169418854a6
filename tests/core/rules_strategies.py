"""Hypothesis strategies: random rules (every operator, lists, filters), models and accounts."""

from __future__ import annotations

from datetime import date
from typing import Any

import polars as pl
from hypothesis import strategies as st
from rules_helpers import frame

from territorial.core.model import Rule, RuleCombination, RuleItem
from territorial.core.rules.compile import ModelInput, TerritoryNode

# Small alphabets so that random values collide with rule values often.
TEXTS = [
    "a",
    "A",
    "ab",
    "Ab ",
    "b",
    "9",
    "80000",
    "941",
    "94105",
    "é",
    "É",
    "ß",
    "ΣΑΣ",
    "İs",
    " ",
    "",
]
TAGS = ["a", "b", "A;b", "a; B ;c", ";", " ;a", "c"]
NUMBERS = [-1.0, 0.0, 1.0, 1.5, 10.0, 1e6, float("nan")]
DATES = [date(2025, 12, 31), date(2026, 1, 1), date(2026, 6, 30)]
POINTS = [(37.77, -122.42), (37.80, -122.27), (34.05, -118.24), (0.0, 0.0)]

TEXT_FIELDS = ["BillingStateCode", "BillingPostalCode", "Industry"]
TEXT_OPS = ["equals", "notEqual", "contains", "notContain", "startsWith"]
RANGE_OPS = ["lessThan", "greaterThan", "lessOrEqual", "greaterOrEqual"]

text_value = st.sampled_from([t for t in TEXTS if t.strip()])


def _list(values: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.lists(values, min_size=1, max_size=3).map(", ".join)


@st.composite
def rule_items(draw: st.DrawFn) -> tuple[str, str, str]:
    kind = draw(st.sampled_from(["text", "range", "tags", "number", "date", "bool", "within"]))
    if kind == "text":
        return (
            draw(st.sampled_from(TEXT_FIELDS)),
            draw(st.sampled_from(TEXT_OPS)),
            draw(_list(text_value)),
        )
    if kind == "range":
        return (
            draw(st.sampled_from(TEXT_FIELDS)),
            draw(st.sampled_from(RANGE_OPS)),
            draw(text_value),
        )
    if kind == "tags":
        op = draw(st.sampled_from(["includes", "excludes", "equals", "contains", "startsWith"]))
        return ("Tags__c", op, draw(_list(st.sampled_from(["a", "B", "c", "d"]))))
    if kind == "number":
        op = draw(st.sampled_from(["equals", "notEqual", *RANGE_OPS]))
        numbers = st.sampled_from(["-1", "0", "1", "1.5", "10", "1e6"])
        value = draw(_list(numbers) if op in ("equals", "notEqual") else numbers)
        return (draw(st.sampled_from(["AnnualRevenue", "Score__c"])), op, value)
    if kind == "date":
        op = draw(st.sampled_from(["equals", "notEqual", *RANGE_OPS]))
        days = st.sampled_from([d.isoformat() for d in DATES])
        return ("Renewal__c", op, draw(_list(days) if op in ("equals", "notEqual") else days))
    if kind == "bool":
        words = st.sampled_from(["true", "FALSE", "1", "0", "yes", "No"])
        return ("Strategic__c", draw(st.sampled_from(["equals", "notEqual"])), draw(_list(words)))
    lat, lon = draw(st.sampled_from(POINTS))
    radius = draw(st.sampled_from([0, 10, 100, 600, 20000]))
    return ("BillingAddress", "within", f"{lat},{lon},{radius}")


@st.composite
def boolean_filters(draw: st.DrawFn, n: int) -> str | None:
    """A filter mentioning every item 1..n exactly once, or None."""
    if n == 0 or draw(st.booleans()):
        return None
    parts = [str(i) for i in draw(st.permutations(range(1, n + 1)))]
    while len(parts) > 1:
        i = draw(st.integers(0, len(parts) - 2))
        op = draw(st.sampled_from(["AND", "or", "And", "OR"]))
        parts[i : i + 2] = [f"({parts[i]} {op} {parts[i + 1]})"]
    if draw(st.booleans()):
        parts = [f"NOT {parts[0]}"]
    return parts[0]


@st.composite
def rules(draw: st.DrawFn, pk: int) -> Rule:
    items = draw(st.lists(rule_items(), min_size=0, max_size=4))
    numbered = tuple(RuleItem(i + 1, *it) for i, it in enumerate(items))
    active = draw(st.booleans().map(lambda b: b or pk % 3 != 0))
    return Rule(f"R{pk}", numbered, draw(boolean_filters(len(items))), active=active, id=pk)


@st.composite
def models(draw: st.DrawFn) -> ModelInput:
    n_territories = draw(st.integers(1, 5))
    nodes = [TerritoryNode(1)]
    for pk in range(2, n_territories + 1):
        nodes.append(TerritoryNode(pk, draw(st.one_of(st.none(), st.integers(1, pk - 1)))))
    n_rules = draw(st.integers(1, 4))
    rule_list = [draw(rules(10 + i)) for i in range(n_rules)]
    pairs = st.tuples(st.integers(10, 9 + n_rules), st.integers(1, n_territories), st.booleans())
    associations = draw(st.lists(pairs, max_size=6, unique_by=lambda a: (a[0], a[1])))
    families: dict[int | None, list[int]] = {}
    for node in nodes:
        families.setdefault(node.parent_pk, []).append(node.pk)
    siblings = [members for members in families.values() if len(members) > 1]
    if siblings and draw(st.booleans()):
        # Siblings that all have the lowest-pk rule (as carved territories share
        # US_Accounts) and maybe one of their own: a run records their own rule first.
        members = draw(st.sampled_from(siblings))
        extra = {(10, pk): False for pk in members}
        for pk in members:
            extra[draw(st.integers(10, 9 + n_rules)), pk] = draw(st.booleans())
        kept = [a for a in associations if a[:2] not in extra]
        associations = kept + [(rule, pk, inherited) for (rule, pk), inherited in extra.items()]
    combination: RuleCombination = draw(st.sampled_from(["all", "any"]))
    return ModelInput(nodes, rule_list, associations, combination)


@st.composite
def accounts(draw: st.DrawFn) -> list[dict[str, Any]]:
    result = []
    for pk in range(1, draw(st.integers(1, 8)) + 1):
        point = draw(st.one_of(st.none(), st.sampled_from(POINTS)))
        result.append(
            {
                "pk": pk,
                "billing_state_code": draw(st.one_of(st.none(), st.sampled_from(TEXTS))),
                "billing_postal_code": draw(st.one_of(st.none(), st.sampled_from(TEXTS))),
                "industry": draw(st.one_of(st.none(), st.sampled_from(TEXTS))),
                "Tags__c": draw(st.one_of(st.none(), st.sampled_from(TAGS))),
                "annual_revenue": draw(st.one_of(st.none(), st.sampled_from(NUMBERS))),
                "Score__c": draw(st.one_of(st.none(), st.floats(-2, 2, allow_nan=False))),
                "Renewal__c": draw(st.one_of(st.none(), st.sampled_from(DATES))),
                "Strategic__c": draw(st.one_of(st.none(), st.booleans())),
                "excluded_from_realign": draw(st.sampled_from([None, False, False, True])),
                "latitude": None if point is None else point[0],
                "longitude": None if point is None else point[1],
            }
        )
    return result


@st.composite
def exclusions(draw: st.DrawFn, n_accounts: int = 8, n_territories: int = 5) -> pl.DataFrame:
    pairs = draw(
        st.lists(st.tuples(st.integers(1, n_territories), st.integers(1, n_accounts)), max_size=4)
    )
    return pl.DataFrame(
        pairs, schema={"territory_pk": pl.Int64, "account_pk": pl.Int64}, orient="row"
    )


__all__ = ["accounts", "exclusions", "frame", "models", "rule_items", "rules"]
