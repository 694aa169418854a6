"""Case tables for every operator decision of DESIGN.md section 3 (reference and engine)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from rules_helpers import matches_both, one_rule_model

SF = "37.7749,-122.4194"
LA = {"latitude": 34.05, "longitude": -118.24}
OAKLAND = {"latitude": 37.80, "longitude": -122.27}

CASES: list[tuple[str, str, str, dict[str, Any], bool]] = [
    # equals: whole value, case-insensitive, list = any
    ("BillingStateCode", "equals", "CA", {"billing_state_code": "CA"}, True),
    ("BillingStateCode", "equals", "ca", {"billing_state_code": "Ca"}, True),
    ("BillingStateCode", "equals", "CA", {"billing_state_code": "CAL"}, False),
    ("BillingStateCode", "equals", "CA, NV ,OR", {"billing_state_code": "nv"}, True),
    ("BillingStateCode", "equals", "CA,NV", {"billing_state_code": "WA"}, False),
    ("BillingStateCode", "equals", "CA", {"billing_state_code": " CA"}, False),
    # notEqual: list = none; empty never satisfies
    ("BillingStateCode", "notEqual", "CA,NV", {"billing_state_code": "WA"}, True),
    ("BillingStateCode", "notEqual", "CA,NV", {"billing_state_code": "nv"}, False),
    ("BillingStateCode", "notEqual", "CA", {"billing_state_code": None}, False),
    ("BillingStateCode", "notEqual", "CA", {"billing_state_code": "   "}, False),
    ("BillingStateCode", "notEqual", "CA", {"billing_state_code": ""}, False),
    ("BillingStateCode", "notEqual", "CA", {}, False),
    # contains / notContain: substring
    ("BillingCountryCode", "contains", "US", {"billing_country_code": "aus"}, True),
    ("BillingCountryCode", "contains", "xx,US", {"billing_country_code": "US"}, True),
    ("BillingCountryCode", "contains", "US", {"billing_country_code": "UK"}, False),
    ("BillingCountryCode", "notContain", "US,CA", {"billing_country_code": "UK"}, True),
    ("BillingCountryCode", "notContain", "US,CA", {"billing_country_code": "ca"}, False),
    ("BillingCountryCode", "notContain", "US", {"billing_country_code": None}, False),
    # startsWith: prefix, list = any, case-insensitive
    ("BillingPostalCode", "startsWith", "941,950", {"billing_postal_code": "95014"}, True),
    ("BillingPostalCode", "startsWith", "941", {"billing_postal_code": "94"}, False),
    ("BillingPostalCode", "startsWith", "sw1", {"billing_postal_code": "SW1A 1AA"}, True),
    ("BillingPostalCode", "startsWith", "9", {"billing_postal_code": " 9"}, False),
    # text ranges compare as text
    ("BillingPostalCode", "greaterThan", "80000", {"billing_postal_code": "9"}, True),
    ("BillingPostalCode", "lessThan", "80000", {"billing_postal_code": "100000"}, True),
    ("BillingPostalCode", "lessOrEqual", "ABC", {"billing_postal_code": "abc"}, True),
    ("BillingPostalCode", "greaterOrEqual", "b", {"billing_postal_code": "A"}, False),
    ("BillingPostalCode", "greaterThan", "0", {"billing_postal_code": " "}, False),
    # numbers compare as numbers
    ("AnnualRevenue", "greaterThan", "80000", {"annual_revenue": 9.0}, False),
    ("AnnualRevenue", "greaterThan", "80000", {"annual_revenue": 80000.0}, False),
    ("AnnualRevenue", "greaterOrEqual", "80000", {"annual_revenue": 80000.0}, True),
    ("AnnualRevenue", "lessThan", "1e6", {"annual_revenue": -5.0}, True),
    ("AnnualRevenue", "lessOrEqual", "10", {"annual_revenue": 10.0}, True),
    ("AnnualRevenue", "lessThan", "10", {"annual_revenue": None}, False),
    ("AnnualRevenue", "lessThan", "10", {"annual_revenue": float("nan")}, False),
    ("NumberOfEmployees", "equals", "10, 20", {"number_of_employees": 20.0}, True),
    ("NumberOfEmployees", "equals", "10.0", {"number_of_employees": 10.0}, True),
    ("NumberOfEmployees", "notEqual", "10,20", {"number_of_employees": 30.0}, True),
    ("NumberOfEmployees", "notEqual", "10,20", {"number_of_employees": 10.0}, False),
    ("NumberOfEmployees", "notEqual", "10", {"number_of_employees": None}, False),
    # dates compare as dates
    ("Renewal__c", "lessThan", "2026-07-01", {"Renewal__c": date(2026, 6, 30)}, True),
    ("Renewal__c", "lessThan", "2026-07-01", {"Renewal__c": date(2026, 7, 1)}, False),
    ("Renewal__c", "greaterOrEqual", "2026-07-01", {"Renewal__c": date(2027, 1, 1)}, True),
    ("Renewal__c", "equals", "2026-01-01,2026-02-01", {"Renewal__c": date(2026, 2, 1)}, True),
    ("Renewal__c", "notEqual", "2026-01-01", {"Renewal__c": None}, False),
    # booleans: never empty, missing = false, many spellings
    ("Strategic__c", "equals", "true", {"Strategic__c": True}, True),
    ("Strategic__c", "equals", "YES", {"Strategic__c": True}, True),
    ("Strategic__c", "equals", "1", {"Strategic__c": False}, False),
    ("Strategic__c", "equals", "False", {"Strategic__c": None}, True),
    ("Strategic__c", "equals", "no", {}, True),
    ("Strategic__c", "notEqual", "true", {"Strategic__c": None}, True),
    ("Strategic__c", "notEqual", "0", {"Strategic__c": True}, True),
    ("Strategic__c", "equals", "true,false", {"Strategic__c": None}, True),
    # picklists are textual
    ("Tier__c", "equals", "gold", {"Tier__c": "Gold"}, True),
    ("Industry", "startsWith", "tech", {"industry": "Technology"}, True),
    # multi-picklists: includes any / excludes none, on ;-separated values
    ("Tags__c", "includes", "B", {"Tags__c": "a;b;c"}, True),
    ("Tags__c", "includes", "x, c", {"Tags__c": "A; C "}, True),
    ("Tags__c", "includes", "ab", {"Tags__c": "a;b"}, False),
    ("Tags__c", "excludes", "x,y", {"Tags__c": "a;b"}, True),
    ("Tags__c", "excludes", "x,b", {"Tags__c": "a;b"}, False),
    ("Tags__c", "excludes", "x", {"Tags__c": None}, False),
    ("Tags__c", "excludes", "x", {"Tags__c": " "}, False),
    ("Tags__c", "excludes", "x", {"Tags__c": ";"}, True),
    ("Tags__c", "equals", "a;b", {"Tags__c": "A;B"}, True),
    # within: great-circle distance from the account's coordinates
    ("BillingAddress", "within", f"{SF},50", OAKLAND, True),
    ("BillingLatitude", "within", f"{SF},50", LA, False),
    ("BillingAddress", "within", f"{SF},600", LA, True),
    ("BillingAddress", "within", f"{SF},0", {"latitude": 37.7749, "longitude": -122.4194}, True),
    ("BillingAddress", "within", "0,0,100000", {"latitude": None, "longitude": 1.0}, False),
    # operator names are case-insensitive
    ("billingstatecode", "EQUALS", "CA", {"billing_state_code": "CA"}, True),
    ("Account.BillingStateCode", "notequal", "CA", {"billing_state_code": "NV"}, True),
]  # fmt: skip


@pytest.mark.parametrize(("field", "operator", "value", "account", "expected"), CASES)
def test_operator_case(
    field: str, operator: str, value: str, account: dict[str, Any], expected: bool
) -> None:
    compiled = one_rule_model([(field, operator, value)])
    assert matches_both(compiled, account) is expected


def test_long_value_list_of_postal_codes() -> None:
    codes = ",".join(f"{9400 + i:05d}" for i in range(170))  # about 1,000 characters
    assert len(codes) > 1000
    compiled = one_rule_model([("BillingPostalCode", "startsWith", codes)])
    assert matches_both(compiled, {"billing_postal_code": "09569-1234"})
    assert not matches_both(compiled, {"billing_postal_code": "09570"})


def acct(state: str | None, revenue: float | None, industry: str | None) -> dict[str, Any]:
    return {"billing_state_code": state, "annual_revenue": revenue, "industry": industry}


# items: 1 = state equals CA, 2 = revenue > 10, 3 = industry equals tech
FILTERS: list[tuple[str | None, dict[str, Any], bool]] = [
    (None, acct("CA", 5.0, "x"), False),
    (None, acct("CA", 50.0, "Tech"), True),
    ("1 and (2 or 3)", acct("CA", 5.0, "Tech"), True),
    ("1 AND (2 OR 3)", acct("NV", 50.0, "Tech"), False),
    ("1 or 2 and 3", acct("CA", 5.0, None), True),
    ("(1 or 2) and 3", acct("CA", 5.0, None), False),
    ("not 1 and 2 and 3", acct("NV", 50.0, "tech"), True),
    ("NOT (1 OR 2) AND 3", acct(None, 5.0, "tech"), True),
    ("Not(1) and ((2) or (3))", acct(None, None, "tech"), True),
    ("not 1 and not 2 and not 3", acct(None, None, None), True),
]


@pytest.mark.parametrize(("boolean_filter", "account", "expected"), FILTERS)
def test_boolean_filter(
    boolean_filter: str | None, account: dict[str, Any], expected: bool
) -> None:
    compiled = one_rule_model(
        [
            ("BillingStateCode", "equals", "CA"),
            ("AnnualRevenue", "greaterThan", "10"),
            ("Industry", "equals", "tech"),
        ],
        boolean_filter,
    )
    assert matches_both(compiled, account) is expected


def test_inactive_rule_never_matches() -> None:
    compiled = one_rule_model([("BillingStateCode", "equals", "CA")], active=False)
    assert compiled.effective == {}
    assert not matches_both(compiled, {"billing_state_code": "CA"})


def test_rule_without_items_matches_nothing_and_warns() -> None:
    compiled = one_rule_model([])
    assert [w.message for w in compiled.warnings] == ["has no items, so it matches no account."]
    assert not matches_both(compiled, {"billing_state_code": "CA"})
