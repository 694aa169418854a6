"""Rules as users save them: validated on save, attached to territories, run."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from territorial.cli.app import app
from territorial.errors import Conflict, LifecycleError, RuleError
from territorial.services import models, rules, runs
from territorial.services.workspace import Workspace


@pytest.mark.parametrize(
    ("items", "boolean_filter", "message"),
    [
        (["Planet__c equals Mars"], None, "Rule 'Bad', item 1"),
        (["AnnualRevenue greaterThan lots"], None, "item 1"),
        (["BillingStateCode within CA"], None, "item 1"),
        (["Industry equals Retail", "BillingStateCode equals CA"], "1 AND 3", "3"),
        (["Industry equals Retail", "BillingStateCode equals CA"], "1", "2"),
        (["Industry equals Retail"], "1 AND (", "filter"),
        (["Industry"], None, "not 'FIELD OPERATOR VALUE'"),
    ],
    ids=[
        "unknown-field",
        "bad-number",
        "bad-within",
        "missing-item",
        "item-left-out",
        "bad-syntax",
        "malformed-item",
    ],
)
def test_bad_rules_are_refused_on_save_naming_rule_and_item(
    org: Workspace, items: list[str], boolean_filter: str | None, message: str
) -> None:
    with pytest.raises(RuleError) as err:
        rules.add_rule(org, "Base", "Bad", items=items, boolean_filter=boolean_filter)
    assert "Bad" in str(err.value) and message in str(err.value)
    assert rules.list_rules(org, "Base") == []


def test_rule_with_no_items_is_saved_with_a_warning(org: Workspace) -> None:
    info = rules.add_rule(org, "Base", "Placeholder")
    assert info.warnings == ("Rule 'Placeholder': has no items, so it matches no account.",)
    check = rules.check_rules(org, "Base")
    assert check.unattached == ("Placeholder",) and not check.errors


def test_rules_as_real_orgs_write_them(org: Workspace) -> None:
    postal = ", ".join(f"{n:05d}" for n in range(90000, 90170))  # ~1,000 characters
    info = rules.add_rule(
        org,
        "Base",
        "West",
        items=[
            "Account.BillingStateCode equals ca, nv",
            f"Account.BillingPostalCode startsWith {postal}",
            "Account.AnnualRevenue greaterOrEqual 1000000",
        ],
        boolean_filter="(1 or 2) and 3",
    )
    assert len(info.items[1].value) > 1000
    rules.attach_rule(org, "Base", "West", "West")
    rules.attach_rule(org, "Base", "West", "NA", inherited=True)
    assert rules.show_rule(org, "Base", "West").territories == (("NA", True), ("West", False))


def test_update_validates_the_whole_result_and_changes_assignments(org: Workspace) -> None:
    rules.add_rule(org, "Base", "West", items=["BillingStateCode equals CA"])
    rules.attach_rule(org, "Base", "West", "West")
    assert runs.run_rules(org, "Base").rule_assignments == 1
    with pytest.raises(RuleError):
        rules.update_rule(org, "Base", "West", boolean_filter="1 AND 2")
    rules.update_rule(org, "Base", "West", items=["BillingStateCode equals CA,NY"])
    assert runs.run_rules(org, "Base").rule_assignments == 2
    rules.update_rule(org, "Base", "West", active=False)
    assert runs.run_rules(org, "Base").rule_assignments == 0


def test_detach_remove_and_duplicates(org: Workspace) -> None:
    rules.add_rule(org, "Base", "West", items=["BillingStateCode equals CA"])
    with pytest.raises(Conflict, match="already has a rule"):
        rules.add_rule(org, "Base", "west")
    rules.attach_rule(org, "Base", "West", "West")
    rules.detach_rule(org, "Base", "West", "West")
    rules.remove_rule(org, "Base", "West")
    assert rules.list_rules(org, "Base") == []


def test_archived_model_rules_are_frozen(org: Workspace) -> None:
    models.archive_model(org, "Base")
    with pytest.raises(LifecycleError):
        rules.add_rule(org, "Base", "West", items=["BillingStateCode equals CA"])


def test_cli_rule_commands(org: Workspace, db_url: str) -> None:
    runner = CliRunner()

    def cli(*args: str) -> tuple[int, str]:
        result = runner.invoke(app, ["--database", db_url, *args])
        return result.exit_code, result.output

    code, out = cli("rule", "add", "Base", "West states", "--item", "BillingStateCode equals CA")
    assert code == 0, out
    assert cli("rule", "attach", "Base", "West_states", "West")[0] == 0
    code, out = cli("--format", "csv", "rule", "list", "Base")
    assert out.splitlines()[1].startswith(
        "West_states,West states,True,1. BillingStateCode equals CA"
    )
    code, out = cli("rule", "add", "Base", "Oops", "--item", "Planet__c equals Mars")
    assert code == 1
    assert "Error: Rule 'Oops', item 1" in out and "Traceback" not in out
    cli("rule", "add", "Base", "Placeholder")
    cli("rule", "add", "Base", "East states", "--item", "BillingStateCode equals NY")
    code, out = cli("rule", "check", "Base")
    out = " ".join(out.split())
    assert code == 0 and "2 rules attached to no territory" in out
    assert "East_states, Placeholder" in out
    # The empty rule's warning and one per unattached rule.
    assert out.endswith("3 rules, 0 with errors, 3 warnings.")
