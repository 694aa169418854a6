"""Validation: every malformed rule is a RuleError naming the rule and item, saying how to fix."""

from __future__ import annotations

import pytest
from rules_helpers import CATALOG

from territorial.core.model import Rule, RuleItem
from territorial.core.rules.compile import compile_rule, validate_rules
from territorial.core.rules.filter import parse_filter, to_dnf
from territorial.errors import RuleError

BAD_ITEMS = [
    (("Nope__c", "equals", "x"), "unknown field 'Nope__c'"),
    (("BillingState", "like", "x"), "unknown operator 'like'"),
    (("Strategic__c", "lessThan", "1"), "operator lessThan does not apply to boolean"),
    (("Strategic__c", "contains", "t"), "operator contains does not apply to boolean"),
    (("BillingState", "includes", "CA"), "operator includes does not apply to text"),
    (("AnnualRevenue", "contains", "1"), "operator contains does not apply to number"),
    (("Tags__c", "lessThan", "a"), "operator lessThan does not apply to multipicklist"),
    (("AnnualRevenue", "greaterThan", "lots"), "does not fit the number field"),
    (("AnnualRevenue", "greaterThan", "1,2"), "greaterThan takes one value, not a list"),
    (("BillingPostalCode", "lessThan", "1,2"), "lessThan takes one value, not a list"),
    (("Renewal__c", "equals", "01/02/2026"), "does not fit the date field"),
    (("Strategic__c", "equals", "maybe"), "does not fit the boolean field"),
    (("BillingState", "equals", " , "), "the value is empty"),
    (("BillingAddress", "within", "1,2"), "within value '1,2' is wrong"),
    (("BillingAddress", "within", "91,2,3"), "out of range"),
    (("Industry", "within", "1,2,3"), "within applies to the account location"),
    (("AnnualRevenue", "equals", "inf"), "not a finite number"),
]


@pytest.mark.parametrize(("item", "message"), BAD_ITEMS)
def test_bad_item(item: tuple[str, str, str], message: str) -> None:
    rule = Rule("West", (RuleItem(1, "BillingCountryCode", "equals", "US"), RuleItem(2, *item)))
    with pytest.raises(RuleError) as info:
        compile_rule(rule, CATALOG)
    assert info.value.rule == "West"
    assert info.value.item == 2
    assert message in str(info.value)
    assert str(info.value).startswith("Rule 'West', item 2: ")
    assert info.value.hint


BAD_FILTERS = [
    ("1 AND 2 AND 4", 4, "names item 4, which the rule does not have"),
    ("1 AND 2", 3, "leaves out item 3"),
    ("1 AND (2 OR 3", None, "unclosed parenthesis"),
    ("1 AND OR 3", None, "where an item number or '(' was expected"),
    ("1 2 3", None, "unexpected '2'"),
    ("1 & 2 & 3", None, "unexpected character '&'"),
    ("1 XOR 2 OR 3", None, "unknown word 'XOR'"),
    ("1 AND 2 OR", None, "ends too early"),
]


@pytest.mark.parametrize(("text", "item", "message"), BAD_FILTERS)
def test_bad_filter(text: str, item: int | None, message: str) -> None:
    items = tuple(RuleItem(n, "BillingStateCode", "equals", "CA") for n in (1, 2, 3))
    with pytest.raises(RuleError) as info:
        compile_rule(Rule("East", items, boolean_filter=text), CATALOG)
    assert info.value.rule == "East"
    assert info.value.item == item
    assert message in str(info.value)
    assert info.value.hint


def test_blank_filter_means_and_of_all_items() -> None:
    items = tuple(RuleItem(n, "BillingStateCode", "equals", "CA") for n in (1, 2))
    compiled = compile_rule(Rule("R", items, boolean_filter="  "), CATALOG)
    assert compiled.filter is None
    assert compiled.dnf == (((1, False), (2, False)),)


def test_duplicate_item_numbers_are_an_error() -> None:
    items = (RuleItem(1, "Industry", "equals", "a"), RuleItem(1, "Industry", "equals", "b"))
    with pytest.raises(RuleError, match="item number 1 is used twice"):
        compile_rule(Rule("R", items), CATALOG)


def test_validate_rules_collects_every_problem() -> None:
    rules = [
        Rule("A", (RuleItem(1, "Foo__c", "equals", "x"), RuleItem(2, "Bar__c", "equals", "y"))),
        Rule("B", (RuleItem(1, "BillingState", "equals", "CA"),), boolean_filter="1 AND 2"),
        Rule("C", (RuleItem(1, "BillingState", "equals", "CA"),)),
        Rule("D"),
    ]
    report = validate_rules(rules, CATALOG)
    assert [(e.rule, e.item) for e in report.errors] == [("A", 1), ("A", 2), ("B", 2)]
    assert [c.name for c in report.compiled] == ["C", "D"]
    assert [w.rule for w in report.warnings] == ["D"]
    with pytest.raises(RuleError, match="3 problems in rules"):
        report.raise_errors()


def test_salesforce_style_field_names_resolve() -> None:
    for name in ("Account.BillingPostalCode", "BillingPostalCode", "billing_postal_code"):
        compiled = compile_rule(Rule("R", (RuleItem(1, name, "equals", "1"),)), CATALOG)
        assert compiled.items[0].field == "billing_postal_code"
    compiled = compile_rule(Rule("R", (RuleItem(1, "tier__C", "equals", "1"),)), CATALOG)
    assert compiled.items[0].field == "Tier__c"


def test_filter_too_large_is_an_error() -> None:
    text = " AND ".join(f"({2 * i + 1} OR {2 * i + 2})" for i in range(13))
    with pytest.raises(RuleError, match="expands to"):
        to_dnf(parse_filter(text), rule="Huge")
