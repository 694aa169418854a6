"""Model-level semantics: inheritance, all vs any, exclusions, excluded_from_realign."""

from __future__ import annotations

import polars as pl
import pytest
from rules_helpers import CATALOG, frame, rows

from territorial.core.engine.matcher import match
from territorial.core.model import Rule, RuleCombination, RuleItem
from territorial.core.rules.compile import (
    ModelInput,
    TerritoryNode,
    compile_model,
    required_fields,
)
from territorial.core.rules.reference import evaluate
from territorial.errors import RuleError, ValidationError

US = Rule("US", (RuleItem(1, "BillingCountryCode", "equals", "US"),), id=1)
WEST = Rule("West", (RuleItem(1, "BillingStateCode", "equals", "CA,OR,WA"),), id=2)
BIG = Rule("Big", (RuleItem(1, "AnnualRevenue", "greaterOrEqual", "1000000"),), id=3)
OFF = Rule("Off", (RuleItem(1, "BillingCountryCode", "equals", "US"),), active=False, id=4)

# 10 World ─ 20 Americas ─ 30 West ─ 40 West Enterprise
#                        └ 31 Empty (no rules)        50 Inactive-only (rule 4)
TERRITORIES = [
    TerritoryNode(10),
    TerritoryNode(20, 10),
    TerritoryNode(30, 20),
    TerritoryNode(40, 30),
    TerritoryNode(31, 20),
    TerritoryNode(50),
]
ACCOUNTS = [
    {"pk": 1, "billing_country_code": "US", "billing_state_code": "CA", "annual_revenue": 2e6},
    {"pk": 2, "billing_country_code": "US", "billing_state_code": "CA", "annual_revenue": 5e5},
    {"pk": 3, "billing_country_code": "US", "billing_state_code": "NY", "annual_revenue": 2e6},
    {"pk": 4, "billing_country_code": "FR", "billing_state_code": None, "annual_revenue": 9e9},
    {
        "pk": 5,
        "billing_country_code": "US",
        "billing_state_code": "CA",
        "annual_revenue": 2e6,
        "excluded_from_realign": True,
    },
]


def run(
    associations: list[tuple[int, int, bool]],
    combination: RuleCombination = "all",
    exclusions: list[tuple[int, int]] | None = None,
) -> list[tuple[int, int, int]]:
    model = ModelInput(TERRITORIES, [US, WEST, BIG, OFF], associations, combination)
    compiled = compile_model(model, CATALOG)
    excl = pl.DataFrame(
        exclusions or [],
        schema={"territory_pk": pl.Int64, "account_pk": pl.Int64},
        orient="row",
    )
    expected = evaluate(ACCOUNTS, compiled, exclusions=excl)
    got = match(frame(ACCOUNTS), compiled, exclusions=excl)
    assert got.equals(expected)
    return rows(got)


def test_inherited_rule_applies_to_every_descendant() -> None:
    assert run([(1, 20, True)]) == [
        (1, 20, 1), (1, 30, 1), (1, 31, 1), (1, 40, 1),
        (2, 20, 1), (2, 30, 1), (2, 31, 1), (2, 40, 1),
        (3, 20, 1), (3, 30, 1), (3, 31, 1), (3, 40, 1),
    ]  # fmt: skip


def test_not_inherited_rule_stays_on_its_territory() -> None:
    assert run([(1, 20, False)]) == [(1, 20, 1), (2, 20, 1), (3, 20, 1)]


def test_all_requires_every_effective_rule() -> None:
    # 40 has US (inherited from 20) + West (inherited from 30) + Big (own)
    result = run([(1, 20, True), (2, 30, True), (3, 40, False)])
    # No sibling: its own rule, the most specific (US and West reach other territories).
    assert [r for r in result if r[1] == 40] == [(1, 40, 3)]
    # 30 has US + West; its sibling 31 has US too, so West sets 30 apart.
    assert [r for r in result if r[1] == 30] == [(1, 30, 2), (2, 30, 2)]


def test_any_needs_one_effective_rule_and_without_siblings_records_lowest_pk() -> None:
    result = run([(2, 40, False), (3, 40, False)], combination="any")
    assert result == [(1, 40, 2), (2, 40, 2), (3, 40, 3), (4, 40, 3)]


def test_rule_pk_without_siblings_is_lowest_matching_effective_rule_under_all() -> None:
    assert run([(3, 30, False), (2, 30, False)]) == [(1, 30, 2)]


@pytest.mark.parametrize("combination", ["all", "any"])
def test_rule_pk_is_the_rule_no_sibling_has(combination: RuleCombination) -> None:
    # Siblings 30 (US + West) and 31 (US + Big) share US: West and Big set them apart.
    result = run([(1, 30, False), (2, 30, False), (1, 31, False), (3, 31, False)], combination)
    if combination == "all":
        assert result == [(1, 30, 2), (1, 31, 3), (2, 30, 2), (3, 31, 3)]
    else:  # among the rules the account satisfies; US when it is the only one
        assert result == [
            (1, 30, 2), (1, 31, 3), (2, 30, 2), (2, 31, 1), (3, 30, 1), (3, 31, 3), (4, 31, 3),
        ]  # fmt: skip


def test_territory_with_only_inactive_rules_gets_nothing() -> None:
    assert run([(4, 50, True)]) == []
    model = ModelInput(TERRITORIES, [US, OFF], [(4, 50, True), (1, 50, False)])
    assert compile_model(model, CATALOG).effective == {50: (1,)}


def test_inactive_rule_is_ignored_under_all() -> None:
    assert run([(4, 20, False), (1, 20, False)]) == [(1, 20, 1), (2, 20, 1), (3, 20, 1)]


def test_exclusions_win_over_rules() -> None:
    assert run([(1, 20, False)], exclusions=[(20, 2), (30, 1)]) == [(1, 20, 1), (3, 20, 1)]


def test_excluded_from_realign_gets_no_rule_assignment() -> None:
    result = run([(2, 30, False)], combination="any")
    assert [r[0] for r in result] == [1, 2]


def test_account_lands_in_many_territories() -> None:
    result = run([(1, 10, False), (2, 30, False), (3, 50, False)])
    assert [r for r in result if r[0] == 1] == [(1, 10, 1), (1, 30, 2), (1, 50, 3)]


def test_empty_inputs() -> None:
    assert run([]) == []
    compiled = compile_model(ModelInput(TERRITORIES, [US], [(1, 10, False)]), CATALOG)
    empty = frame([]).clear()
    assert match(empty, compiled).schema == {
        "account_pk": pl.Int64,
        "territory_pk": pl.Int64,
        "rule_pk": pl.Int64,
    }


def test_missing_columns_count_as_empty() -> None:
    compiled = compile_model(ModelInput(TERRITORIES, [BIG], [(3, 10, False)]), CATALOG)
    accounts = pl.DataFrame({"pk": [1, 2]}, schema={"pk": pl.Int64})
    assert match(accounts, compiled).height == 0


def test_required_fields() -> None:
    model = ModelInput(TERRITORIES, [US, WEST, BIG, OFF], [(1, 10, False), (4, 10, False)])
    assert required_fields(compile_model(model, CATALOG)) == {
        "billing_country_code",
        "excluded_from_realign",
    }


def test_rule_without_id_is_an_error() -> None:
    with pytest.raises(RuleError, match="has no id"):
        compile_model(ModelInput(TERRITORIES, [Rule("X")], []), CATALOG)


def test_hierarchy_cycle_is_an_error() -> None:
    nodes = [TerritoryNode(1, 2), TerritoryNode(2, 1)]
    with pytest.raises(ValidationError, match="its own ancestor"):
        compile_model(ModelInput(nodes, [US], [(1, 1, True)]), CATALOG)


def test_error_in_inactive_rule_is_only_a_warning() -> None:
    bad = Rule("Bad", (RuleItem(1, "Nope__c", "equals", "x"),), active=False, id=9)
    compiled = compile_model(ModelInput(TERRITORIES, [US, bad], [(9, 10, False)]), CATALOG)
    assert compiled.effective == {}
    assert "unknown field 'Nope__c'" in str(compiled.warnings[0])
