"""Explaining an account from the database: rules, manual assignments, exclusions, CLI."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from sqlalchemy import select, update
from typer.testing import CliRunner

import territorial
from territorial.cli.app import app
from territorial.core.model import ModelSpec, Rule, RuleAssociation, RuleItem, Territory
from territorial.core.rules.explain import Reason
from territorial.errors import NotFound
from territorial.services import assignments, fields, models, runs, specs
from territorial.services.explain import AccountExplanation, TerritoryVerdict, explain
from territorial.services.workspace import Workspace
from territorial.store.schema import Account, AccountAssignmentRow, RuleRow

runner = CliRunner()


@pytest.fixture
def plan(org: Workspace) -> Workspace:
    """Plan: US (Not_NY, inherited) > West (West), South (South, Tier filter); Named."""
    fields.add_field(org, "account", "Tier__c", "picklist")
    spec = ModelSpec(
        "Plan",
        territories=[
            Territory("US", "Geo"),
            Territory("West", "Geo", parent="US", name="West Coast"),
            Territory("South", "Geo", parent="US"),
            Territory("Named", "Geo"),
        ],
        rules=[
            Rule("Not_NY", (RuleItem(1, "BillingStateCode", "notEqual", "NY"),)),
            Rule("West", (RuleItem(1, "Account.BillingStateCode", "equals", "ca, or"),)),
            Rule(
                "South",
                (
                    RuleItem(1, "BillingStateCode", "equals", "TX,FL"),
                    RuleItem(2, "Tier__c", "equals", "Gold"),
                    RuleItem(3, "AnnualRevenue", "greaterThan", "1000000"),
                ),
                boolean_filter="1 AND (2 OR 3)",
            ),
        ],
        associations=[
            RuleAssociation("Not_NY", "US", inherited=True),
            RuleAssociation("West", "West"),
            RuleAssociation("South", "South"),
        ],
    )
    specs.create_model_from_spec(org, spec)
    with org.session() as s:
        initech = s.scalar(select(Account).where(Account.id == "001C"))
        assert initech is not None
        initech.custom = {"Tier__c": "Silver"}
        initech.annual_revenue = 5e5
    runs.run_rules(org, "Plan")
    return org


def verdicts(result: AccountExplanation) -> dict[str, tuple[bool, str | None, Reason]]:
    return {v.territory: (v.assigned, v.assigned_by, v.reason) for v in result.territories}


def test_where_an_account_lands_and_by_which_rules(plan: Workspace) -> None:
    result = explain(plan, "001A", model="Plan")
    assert (result.account_id, result.account_name, result.model) == ("001A", "Acme", "Plan")
    assert verdicts(result) == {
        "US": (True, "rules", Reason.MATCHED_ALL),
        "West": (True, "rules", Reason.MATCHED_ALL),
    }
    west = next(v for v in result.territories if v.territory == "West")
    assert west.territory_name == "West Coast"
    assert dict(west.inherited_from) == {"Not_NY": "US"}
    # The rule the run recorded comes first: West, which South lacks; Not_NY both have.
    assert [(r.rule_name, r.passed) for r in west.rules] == [("West", True), ("Not_NY", True)]
    assert (west.recorded_rule, west.sets_apart) == ("West", True)
    [item] = west.rules[0].items
    assert (item.description, item.value_seen, item.passed) == (
        "Account.BillingStateCode equals ca, or",
        "CA",
        True,
    )
    assert not west.stale
    assert west.lines()[:2] == [
        "In West by rules West, Not_NY:",
        "  rule West ✓ ← recorded by the last run, as the rule that sets West apart from its "
        "siblings",
    ]
    assert "  rule Not_NY ✓ (inherited from US)" in west.lines()


def test_why_not_in_a_territory_names_the_failed_items_and_values(plan: Workspace) -> None:
    result = explain(plan, "Initech", model="Plan", territory="South")
    [south] = result.territories
    assert (south.assigned, south.reason, result.territory) == (False, Reason.FAILED, "South")
    rule = south.rules[1]
    assert rule.filter == "1 AND (2 OR 3)"
    assert [(i.number, i.value_seen) for i in rule.failed_items] == [(2, "Silver"), (3, 5e5)]
    assert south.headline() == (
        "Not in South: rule South (filter 1 AND (2 OR 3)) failed because of "
        "item 2: Tier__c equals Gold — account has 'Silver' ✗; "
        "item 3: AnnualRevenue greaterThan 1000000 — account has 500,000 ✗"
    )
    acme = explain(plan, "001A", model="Plan", territory="South")
    assert acme.territories[0].headline() == (
        "Not in South: rule South (filter 1 AND (2 OR 3)) failed because of "
        "item 1: BillingStateCode equals TX,FL — account has 'CA' ✗"
    )


def test_asking_about_a_territory_the_account_is_in_says_why(plan: Workspace) -> None:
    [west] = explain(plan, "001A", model="Plan", territory="west coast").territories
    assert (west.territory, west.assigned, west.reason) == ("West", True, Reason.MATCHED_ALL)


def test_an_account_in_no_territory(plan: Workspace) -> None:
    result = explain(plan, "001B", model="Plan")
    assert result.territories == ()
    assert "It is in no territory of Plan" in str(result)
    [us] = explain(plan, "001B", model="Plan", territory="US").territories
    assert us.headline() == (
        "Not in US: rule Not_NY failed at item 1: BillingStateCode notEqual NY — account has 'NY' ✗"
    )


def test_a_manual_assignment_is_an_explanation(plan: Workspace) -> None:
    assignments.assign_account(plan, "Plan", "001B", "Named")
    assignments.assign_account(plan, "Plan", "001A", "West")
    result = explain(plan, "001B", model="Plan")
    assert verdicts(result) == {"Named": (True, "hand", Reason.NO_RULES)}
    assert result.territories[0].headline().startswith("In Named by hand")
    both = explain(plan, "001A", model="Plan", territory="West").territories[0]
    assert both.assigned_by == "rules and hand"
    [south] = explain(plan, "001B", model="Plan", territory="South").territories
    assert not south.assigned


def test_exclusions_and_excluded_from_realign_win_over_rules(plan: Workspace) -> None:
    assignments.exclude_account(plan, "Plan", "001A", "West")
    assert verdicts(explain(plan, "001A", model="Plan")) == {
        "US": (True, "rules", Reason.MATCHED_ALL),
        "West": (False, None, Reason.EXCLUDED),
    }
    [west] = explain(plan, "001A", model="Plan", territory="West").territories
    assert west.headline() == (
        "Not in West: the account is excluded from this territory (its rules match)."
    )
    with plan.session() as s:
        acme = s.scalar(select(Account).where(Account.id == "001A"))
        assert acme is not None
        acme.excluded_from_realign = True
    result = explain(plan, "001A", model="Plan")
    assert result.excluded_from_realign
    assert {v.reason for v in result.territories} == {Reason.EXCLUDED_FROM_REALIGN}
    assert "excluded from realignment" in str(result)


def test_a_changed_rule_is_explained_as_it_is_now_with_a_note(plan: Workspace) -> None:
    from territorial.services import rules

    rules.update_rule(plan, "Plan", "West", items=["BillingStateCode equals OR"])
    [west] = explain(plan, "001A", model="Plan", territory="West").territories
    assert (west.assigned, west.stored_by_rules, west.stale) == (False, True, True)
    assert "territorial run Plan" in "\n".join(west.lines("Plan"))
    listed = explain(plan, "001A", model="Plan")
    assert "West" in {v.territory for v in listed.territories}


def test_default_model_is_the_active_one(plan: Workspace) -> None:
    with pytest.raises(NotFound, match="active"):
        explain(plan, "001A")
    models.activate_model(plan, "Plan")
    assert territorial.explain(plan, "001A").model == "Plan"


@pytest.mark.parametrize(
    ("account", "territory", "kind"),
    [("001Z", None, "account"), ("001A", "Nowhere", "territory")],
)
def test_unknown_names_are_not_found(
    plan: Workspace, account: str, territory: str | None, kind: str
) -> None:
    with pytest.raises(NotFound) as err:
        explain(plan, account, model="Plan", territory=territory)
    assert kind in str(err.value)


def test_a_shared_name_lists_the_accounts_that_have_it(plan: Workspace, db_url: str) -> None:
    with plan.session() as s:
        s.add_all(
            Account(id=f"002{n:02d}", name="Cedar Group LLC", billing_city="Austin",
                    billing_state_code="TX" if n % 2 else None, billing_country_code="US")
            for n in range(12)
        )  # fmt: skip
    result = runner.invoke(app, ["--database", db_url, "explain", "Cedar Group LLC", "-m", "Plan"])
    assert result.exit_code == 1
    error = " ".join(result.stderr.split())
    assert error.startswith("Error: 12 accounts are named 'Cedar Group LLC': 00200 (Austin, US);")
    assert "00201 (Austin, TX); " in error and "00209 (Austin, TX); and 2 more." in error
    assert "00210" not in error and "Use the account id instead of the name" in error


def test_rows_give_one_row_per_item(plan: Workspace) -> None:
    assignments.assign_account(plan, "Plan", "001A", "Named")
    rows = explain(plan, "001A", model="Plan").rows()
    assert [(r["territory"], r["rule"], r["item"], r["recorded"]) for r in rows] == [
        ("Named", None, None, None),
        ("US", "Not_NY", 1, True),
        ("West", "West", 1, True),
        ("West", "Not_NY", 1, False),
    ]
    assert rows[3]["inherited_from"] == "US"
    assert rows[2]["condition"] == "Account.BillingStateCode equals ca, or"


def test_the_recorded_rule_is_the_one_report_multi_and_exports_name(
    plan: Workspace, tmp_path: Path
) -> None:
    from territorial.services import exports, reports

    [multi] = reports.multi_territory_accounts(plan, "Plan").rows(named=True)
    assert multi["detail"] == "US (rule Not_NY); West (rule West)"
    result = explain(plan, "001A", model="Plan")
    assert {v.territory: v.recorded_rule for v in result.territories} == {
        "US": "Not_NY",
        "West": "West",
    }
    # An older run recorded Not_NY for West: explain marks what is stored, as the export
    # does, first, and does not claim it sets West apart.
    with plan.session() as s:
        pks = {name: pk for name, pk in s.execute(select(RuleRow.developer_name, RuleRow.pk))}
        s.execute(
            update(AccountAssignmentRow)
            .where(AccountAssignmentRow.rule_pk == pks["West"])
            .values(rule_pk=pks["Not_NY"])
        )
    exports.export_assignments(plan, tmp_path / "a.csv", model="Plan")
    exported = pl.read_csv(tmp_path / "a.csv").filter(pl.col("territory") == "West")
    [west] = explain(plan, "001A", model="Plan", territory="West").territories
    assert exported["rule"].to_list() == [west.recorded_rule] == ["Not_NY"]
    assert [r.rule_name for r in west.rules] == ["Not_NY", "West"] and not west.sets_apart
    assert "  rule Not_NY ✓ (inherited from US) ← recorded by the last run" in west.lines()


def test_a_recorded_rule_detached_since_is_named_in_a_note(plan: Workspace) -> None:
    from territorial.services import rules

    rules.detach_rule(plan, "Plan", "West", "West")
    [west] = explain(plan, "001A", model="Plan", territory="West").territories
    assert [r.rule_name for r in west.rules] == ["Not_NY"]
    assert (
        "  Note: the last run recorded rule West, which is no longer an effective rule of West."
    ) in west.lines("Plan")


def test_territory_verdict_without_rules_has_one_row() -> None:
    verdict = TerritoryVerdict("T", "T", False, True, Reason.NO_RULES, ())
    result = AccountExplanation("1", "A", "M", "all", False, (verdict,))
    assert [r["territory"] for r in result.rows()] == ["T"]


def test_cli_explains_why_not(plan: Workspace, db_url: str) -> None:
    args = ["--database", db_url, "explain", "001A", "--model", "Plan", "--territory", "South"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "Not in South: rule South (filter 1 AND (2 OR 3)) failed because of" in result.output
    assert "account has 'CA'" in result.output
    result = runner.invoke(app, ["--database", db_url, "--format", "json", *args[2:]])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert {(r["rule"], r["item"], r["item_passed"]) for r in rows} == {
        ("Not_NY", 1, True),
        ("South", 1, False),
        ("South", 2, False),
        ("South", 3, False),
    }


def test_cli_unknown_account_is_one_line_error(plan: Workspace, db_url: str) -> None:
    result = runner.invoke(app, ["--database", db_url, "explain", "nope", "--model", "Plan"])
    assert result.exit_code == 1
    assert "account 'nope' not found" in result.output


PREFIXES = [str(p) for p in range(920, 950)] + ["97231", "9724", "97240"]
"""A postal rule as a carve writes it: 33 prefixes; 941 is the 22nd."""


@pytest.fixture
def postal(org: Workspace) -> Workspace:
    spec = ModelSpec(
        "Zips",
        territories=[Territory("Metro", "Geo")],
        rules=[Rule("Metro_Carve", (RuleItem(1, "BillingPostalCode", "startsWith",
                                             ",".join(PREFIXES)),))],
        associations=[RuleAssociation("Metro_Carve", "Metro")],
    )  # fmt: skip
    specs.create_model_from_spec(org, spec)
    with org.session() as s:
        for account, code in [("001A", "97230"), ("001B", "94105")]:
            row = s.scalar(select(Account).where(Account.id == account))
            assert row is not None
            row.billing_postal_code = code
    runs.run_rules(org, "Zips")
    return org


def test_cli_shortens_long_value_lists_and_json_keeps_them(postal: Workspace, db_url: str) -> None:
    args = ["explain", "001A", "--model", "Zips", "--territory", "Metro"]
    result = runner.invoke(app, ["--database", db_url, *args])
    assert result.exit_code == 0, result.output
    # The first 8 prefixes, how many more, and the listed ones nearest the account's code.
    shortened = (
        "BillingPostalCode startsWith 920,921,922,923,924,925,926,927 … and 25 more — account "
        "has '97230' ✗ (none of the 33 values matches; nearest: 97231, 9724, 97240)"
    )
    assert shortened in result.output
    assert "928" not in result.output
    # The account that matches is told which listed value it matched.
    result = runner.invoke(app, ["--database", db_url, "explain", "001B", "--model", "Zips"])
    assert "… and 25 more — account has '94105', which matches 941 ✓" in result.output
    # JSON keeps every value.
    result = runner.invoke(app, ["--database", db_url, "--format", "json", *args])
    [row] = json.loads(result.output)
    assert row["condition"] == "BillingPostalCode startsWith " + ",".join(PREFIXES)
    assert (row["value_seen"], row["item_passed"]) == ("97230", False)


def test_an_archived_model_is_explained_by_what_it_stored(org: Workspace) -> None:
    from territorial.services import online, rules

    rules.add_rule(org, "Base", "California", items=["BillingStateCode equals CA"])
    rules.attach_rule(org, "Base", "California", "West")
    models.activate_model(org, "Base")
    models.clone_model(org, "Base", "Plan")
    models.activate_model(org, "Plan")  # Base is archived, its assignments frozen
    online.save_account(org, "001N", {"name": "Newco", "BillingStateCode": "CA"})
    result = explain(org, "001N", model="Base")
    assert not any(v.assigned for v in result.territories)  # as account team and exports say
    text = str(result)
    assert "Model Base is archived: its assignments are frozen" in text
    assert "It is in no territory of Base." in text
    assert "Not in West: it was not assigned here when the model was archived." in text
    assert "Note: hypothetically, by its rules as they read today" in text
    assert "In West" not in text
    stored = str(explain(org, "001A", model="Base"))
    assert "In West by rule California, as stored when the model was archived:" in stored
