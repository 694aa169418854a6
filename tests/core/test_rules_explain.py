"""Explanations: case tables written by hand, and agreement with the reference evaluator."""

from __future__ import annotations

from itertools import product
from typing import Any

import polars as pl
import pytest
from hypothesis import given, settings
from rules_helpers import CATALOG, one_rule_model
from rules_strategies import accounts, exclusions, models

from territorial.core.model import Rule, RuleCombination, RuleItem
from territorial.core.rules.compile import CompiledModel, ModelInput, TerritoryNode, compile_model
from territorial.core.rules.explain import (
    Reason,
    explain_account,
    explain_rule,
    format_value,
)
from territorial.core.rules.filter import and_all, evaluate_filter
from territorial.core.rules.reference import evaluate, rule_matches

# -- one rule: which items are blamed ------------------------------------------------------

ITEMS = [
    ("BillingStateCode", "equals", "CA,NV"),
    ("AnnualRevenue", "lessThan", "500000000"),
    ("BillingPostalCode", "startsWith", "90,91,92"),
]


@pytest.mark.parametrize(
    ("boolean_filter", "account", "passed", "failed"),
    [
        # no filter: items ANDed, the first failing item is named
        (
            None,
            {"billing_state_code": "NV", "annual_revenue": 2.5e6, "billing_postal_code": "90210"},
            True,
            [],
        ),
        (
            None,
            {"billing_state_code": "CA", "annual_revenue": 2.5e6, "billing_postal_code": "94105"},
            False,
            [3],
        ),
        (
            None,
            {"billing_state_code": "TX", "annual_revenue": 9e9, "billing_postal_code": "94105"},
            False,
            [1],
        ),
        # empty values never satisfy an item
        (
            None,
            {"billing_state_code": " ", "annual_revenue": 1.0, "billing_postal_code": "90"},
            False,
            [1],
        ),
        (None, {"billing_state_code": "CA", "billing_postal_code": "90"}, False, [2]),
        # OR false: every part is to blame
        ("1 OR 2 OR 3", {"billing_state_code": "TX", "annual_revenue": 9e9}, False, [1, 2, 3]),
        ("1 OR 2 OR 3", {"billing_postal_code": "92101"}, True, []),
        # AND of an OR: the first false part, which is the whole OR
        (
            "1 AND (2 OR 3)",
            {"billing_state_code": "CA", "annual_revenue": 9e9, "billing_postal_code": "1"},
            False,
            [2, 3],
        ),
        ("(2 OR 3) AND 1", {"billing_state_code": "TX", "annual_revenue": 1.0}, False, [1]),
        # NOT: the item that matched is what made the filter false
        (
            "NOT 1 AND 2 AND 3",
            {"billing_state_code": "ca", "annual_revenue": 1.0, "billing_postal_code": "90"},
            False,
            [1],
        ),
        ("NOT (1 OR 2) AND 3", {"billing_state_code": "TX", "annual_revenue": 1.0}, False, [2]),
        (
            "not (1 and 2) and 3",
            {"billing_state_code": "TX", "billing_postal_code": "91"},
            True,
            [],
        ),
    ],
)
def test_failed_items(
    boolean_filter: str | None, account: dict[str, Any], passed: bool, failed: list[int]
) -> None:
    compiled = one_rule_model(ITEMS, boolean_filter)
    verdict = explain_rule(compiled.rules[1], account)
    assert verdict.passed is passed
    assert [i.number for i in verdict.failed_items] == failed
    assert [i.number for i in verdict.items] == [1, 2, 3]


def test_items_report_what_was_asked_and_what_the_account_has() -> None:
    compiled = one_rule_model(ITEMS)
    account = {"billing_state_code": "NV", "annual_revenue": 2.5e6, "billing_postal_code": None}
    verdict = explain_rule(compiled.rules[1], account)
    assert [(i.description, i.value_seen, i.passed) for i in verdict.items] == [
        ("billing_state_code equals CA,NV", "NV", True),
        ("annual_revenue lessThan 500000000", 2.5e6, True),
        ("billing_postal_code startsWith 90,91,92", None, False),
    ]
    assert str(verdict.items[1]) == "annual_revenue lessThan 500000000 — account has 2,500,000 ✓"
    assert verdict.summary() == (
        "rule R failed at item 3: billing_postal_code startsWith 90,91,92 — account has no value ✗"
    )


def test_checkbox_missing_is_false_and_location_is_a_pair() -> None:
    compiled = one_rule_model(
        [("Strategic__c", "equals", "no"), ("BillingAddress", "within", "37.77,-122.42,50")]
    )
    verdict = explain_rule(compiled.rules[1], {"latitude": 37.8, "longitude": -122.27})
    assert [(i.value_seen, i.passed) for i in verdict.items] == [
        (False, True),
        ((37.8, -122.27), True),
    ]
    assert verdict.passed
    far = explain_rule(compiled.rules[1], {"latitude": None, "longitude": 1.0})
    assert (far.passed, format_value(far.items[1].value_seen)) == (False, "no location")


def test_a_rule_with_a_filter_names_it_in_its_summary() -> None:
    compiled = one_rule_model(ITEMS, "1 or (2 and not 3)")
    verdict = explain_rule(compiled.rules[1], {"billing_state_code": "TX"})
    assert verdict.filter == "1 OR (2 AND NOT 3)"
    assert verdict.summary().startswith("rule R (filter 1 OR (2 AND NOT 3)) failed because of")


def test_a_rule_without_items_fails_and_says_so() -> None:
    compiled = one_rule_model([])
    [found] = explain_account({}, compiled, territory_pk=100)
    assert (found.assigned, found.reason) == (False, Reason.FAILED)
    assert found.rules[0].summary() == "rule R has no items, so it matches no account"


# -- territories: effective rules, combination, exclusions --------------------------------


def model(combination: RuleCombination = "all") -> CompiledModel:
    """NA (US inherited) > West (West states), East (no own rule); Named (no rule at all)."""
    rules = [
        Rule("US", (RuleItem(1, "BillingCountryCode", "equals", "US"),), id=1),
        Rule("West", (RuleItem(1, "BillingStateCode", "equals", "CA,NV"),), id=2),
        Rule("Big", (RuleItem(1, "AnnualRevenue", "greaterOrEqual", "1e6"),), id=3),
        Rule("Off", (RuleItem(1, "Industry", "equals", "x"),), active=False, id=4),
    ]
    territories = [
        TerritoryNode(1),
        TerritoryNode(2, 1),
        TerritoryNode(3, 1),
        TerritoryNode(4),
        TerritoryNode(5),
    ]
    associations = [(1, 1, True), (2, 2, False), (3, 2, False), (4, 3, False), (4, 5, False)]
    return compile_model(ModelInput(territories, rules, associations, combination), CATALOG)


WEST_SMALL = {"billing_country_code": "US", "billing_state_code": "NV", "annual_revenue": 5.0}
WEST_BIG = WEST_SMALL | {"annual_revenue": 2e6}


@pytest.mark.parametrize(
    ("combination", "account", "territory", "excluded", "reason", "rules"),
    [
        # inherited rule on its own territory and on both children
        ("all", WEST_BIG, 1, set(), Reason.MATCHED_ALL, {"US": True}),
        ("all", WEST_BIG, 2, set(), Reason.MATCHED_ALL, {"US": True, "West": True, "Big": True}),
        ("all", WEST_BIG, 3, set(), Reason.MATCHED_ALL, {"US": True}),
        # all vs any
        ("all", WEST_SMALL, 2, set(), Reason.FAILED, {"US": True, "West": True, "Big": False}),
        ("any", WEST_SMALL, 2, set(), Reason.MATCHED_ANY, {"US": True, "West": True, "Big": False}),
        (
            "any",
            {"billing_country_code": "FR"},
            2,
            set(),
            Reason.FAILED,
            {"US": False, "West": False, "Big": False},
        ),
        # no effective rules (an inactive rule does not count)
        ("all", WEST_BIG, 4, set(), Reason.NO_RULES, {}),
        ("all", WEST_BIG, 5, set(), Reason.NO_RULES, {}),
        # exclusions win over rules, whether the rules match or not
        ("all", WEST_BIG, 2, {2}, Reason.EXCLUDED, {"US": True, "West": True, "Big": True}),
        ("all", WEST_SMALL, 2, {2}, Reason.EXCLUDED, {"US": True, "West": True, "Big": False}),
        (
            "all",
            WEST_BIG | {"excluded_from_realign": True},
            1,
            set(),
            Reason.EXCLUDED_FROM_REALIGN,
            {"US": True},
        ),
        (
            "all",
            WEST_BIG | {"excluded_from_realign": "false"},
            1,
            set(),
            Reason.MATCHED_ALL,
            {"US": True},
        ),
    ],
)
def test_one_territory(
    combination: RuleCombination,
    account: dict[str, Any],
    territory: int,
    excluded: set[int],
    reason: Reason,
    rules: dict[str, bool],
) -> None:
    [found] = explain_account(
        account, model(combination), territory_pk=territory, excluded_territories=excluded
    )
    assert found.reason is reason
    assert found.assigned is (reason in (Reason.MATCHED_ALL, Reason.MATCHED_ANY))
    assert {r.rule_name: r.passed for r in found.rules} == rules


def test_without_a_territory_every_matching_territory_is_explained() -> None:
    found = explain_account(WEST_BIG, model(), excluded_territories={3})
    assert [(e.territory_pk, e.reason) for e in found] == [
        (1, Reason.MATCHED_ALL),
        (2, Reason.MATCHED_ALL),
        (3, Reason.EXCLUDED),
    ]
    assert [r.rule_name for r in found[1].matched_rules] == ["US", "West", "Big"]
    assert found[1].failed_rules == ()


def test_excluded_from_realign_lists_where_the_rules_would_put_it() -> None:
    found = explain_account(WEST_BIG | {"excluded_from_realign": True}, model())
    assert [(e.territory_pk, e.assigned, e.rules_matched) for e in found] == [
        (1, False, True),
        (2, False, True),
        (3, False, True),
    ]


def test_unknown_territory_is_a_key_error() -> None:
    with pytest.raises(KeyError):
        explain_account(WEST_BIG, model(), territory_pk=99)


# -- properties -----------------------------------------------------------------------------


@settings(max_examples=150, deadline=None)
@given(model_input=models(), rows=accounts(), excluded=exclusions())
def test_explain_agrees_with_reference(
    model_input: ModelInput, rows: list[dict[str, Any]], excluded: pl.DataFrame
) -> None:
    compiled = compile_model(model_input, CATALOG)
    expected = {(a, t) for a, t, _ in evaluate(rows, compiled, exclusions=excluded).rows()}
    pairs = set(excluded.rows())
    got: set[tuple[int, int]] = set()
    for row in rows:
        out = {t for t, a in pairs if a == row["pk"]}
        listed = explain_account(row, compiled, excluded_territories=out)
        got |= {(row["pk"], e.territory_pk) for e in listed if e.assigned}
        for territory_pk in compiled.territories:
            [one] = explain_account(
                row, compiled, territory_pk=territory_pk, excluded_territories=out
            )
            assert one.assigned is ((row["pk"], territory_pk) in expected)
            for verdict in one.rules:
                assert verdict.passed is rule_matches(compiled.rules[verdict.rule_pk], row)
    assert got == expected


@settings(max_examples=100, deadline=None)
@given(model_input=models(), rows=accounts())
def test_failed_items_alone_decide_the_rule(
    model_input: ModelInput, rows: list[dict[str, Any]]
) -> None:
    """Whatever the other items give, the failed items keep the filter false."""
    compiled = compile_model(model_input, CATALOG)
    for rule in compiled.rules.values():
        node = rule.filter or (
            and_all(sorted(i.number for i in rule.items)) if rule.items else None
        )
        for row in rows:
            verdict = explain_rule(rule, row)
            if verdict.passed or node is None:
                assert not verdict.failed_items
                continue
            fixed = {i.number: i.passed for i in verdict.failed_items}
            free = [i.number for i in verdict.items if i.number not in fixed]
            for values in product([False, True], repeat=len(free)):
                assert not evaluate_filter(node, fixed | dict(zip(free, values, strict=True)))
