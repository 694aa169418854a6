"""Online assignment: a saved account lands in its territories at once."""

from __future__ import annotations

from pathlib import Path

import pytest

from territorial.core.model import (
    ModelSpec,
    Rule,
    RuleAssociation,
    RuleItem,
    Territory,
    TerritoryType,
)
from territorial.errors import ValidationError
from territorial.services import assignments, models, online, rules, specs
from territorial.services.workspace import Workspace


@pytest.fixture
def live(org: Workspace) -> Workspace:
    """'Live' (active): West = CA/OR, South = TX/FL, Big = revenue ≥ 1M; plus planning 'Next'."""
    spec = ModelSpec(
        "Live",
        types=[TerritoryType("Geo", 10)],
        territories=[Territory("West", "Geo"), Territory("South", "Geo"), Territory("Big", "Geo")],
        rules=[
            Rule("West", (RuleItem(1, "BillingStateCode", "equals", "CA,OR"),)),
            Rule("South", (RuleItem(1, "BillingStateCode", "equals", "TX,FL"),)),
            Rule("Big", (RuleItem(1, "AnnualRevenue", "greaterOrEqual", "1000000"),)),
        ],
        associations=[
            RuleAssociation("West", "West"),
            RuleAssociation("South", "South"),
            RuleAssociation("Big", "Big"),
        ],
    )
    specs.create_model_from_spec(org, spec)
    models.activate_model(org, "Live")
    models.clone_model(org, "Live", "Next")
    return org


def test_changed_account_moves_at_once_in_the_active_model(live: Workspace) -> None:
    saved = online.save_account(
        live, "001A", {"BillingStateCode": "FL", "AnnualRevenue": "2500000"}
    )
    assert saved.territories == {"Live": ["Big", "South"]}
    assert (saved.created, saved.added, saved.removed) == (False, 2, 1)


def test_planning_models_on_request(live: Workspace) -> None:
    saved = online.save_account(live, "001A", {"billing_state_code": "TX"}, models=["Next"])
    assert saved.territories == {"Live": ["South"], "Next": ["South"]}


def test_archived_model_is_refused_with_advice_that_exists(live: Workspace, db_url: str) -> None:
    from typer.testing import CliRunner

    from territorial.cli.app import app

    models.archive_model(live, "Next")
    out = CliRunner().invoke(
        app,
        ["--database", db_url, "account", "set", "001A", "BillingStateCode=TX", "--model", "Next"],
    )
    assert out.exit_code == 1
    error = " ".join(out.stderr.split())
    assert "Model 'Next' is archived" in error and "--preview" not in error
    assert "'territorial model clone Next NEW_NAME'" in error
    assert online.save_account(live, "001A", {}).territories == {"Live": ["West"]}  # unchanged


def test_new_account_is_created_and_assigned(live: Workspace) -> None:
    saved = online.save_account(live, "001Z", {"Name": "Zeta", "BillingStateCode": "or"})
    assert saved.created and saved.territories == {"Live": ["West"]}
    with pytest.raises(ValidationError, match="needs a name"):
        online.save_account(live, "001Y", {"BillingStateCode": "CA"})


def test_bad_values_are_all_listed_and_nothing_changes(live: Workspace) -> None:
    with pytest.raises(ValidationError) as err:
        online.save_account(live, "001A", {"Planet__c": "Mars", "AnnualRevenue": "lots"})
    assert "unknown field 'Planet__c'" in str(err.value)
    assert "AnnualRevenue: 'lots' is not a valid number" in str(err.value)
    assert online.save_account(live, "001A", {}).territories == {"Live": ["West"]}


def test_exclusions_and_manual_assignments_are_respected(live: Workspace) -> None:
    assignments.exclude_account(live, "Live", "001A", "West")
    assignments.assign_account(live, "Live", "001A", "South")
    saved = online.save_account(live, "001A", {"BillingStateCode": "OR"})
    assert saved.territories == {"Live": ["South"]}  # manual kept, West excluded


def test_index_is_rebuilt_when_the_model_changes(live: Workspace) -> None:
    online.save_account(live, "001A", {"BillingStateCode": "NV"})
    rules.update_rule(live, "Live", "West", items=["BillingStateCode equals CA,OR,NV"])
    saved = online.save_account(live, "001A", {"BillingStateCode": "NV"})
    assert saved.territories == {"Live": ["West"]}


def test_imported_accounts_are_assigned_at_once_in_the_active_model(
    live: Workspace, tmp_path: Path
) -> None:
    from territorial.services import imports

    path = tmp_path / "accounts.csv"
    path.write_text("Id,Name,BillingStateCode\n001A,Acme,TX\n001N,Newco,OR\n", encoding="utf-8")
    result = imports.import_accounts(live, path)
    assert (result.assigned_in, result.assignments_added, result.assignments_removed) == (
        "Live",
        2,
        1,
    )
    assert "assigned in Live: 2 added, 1 removed" in result.summary()
    assert online.save_account(live, "001N", {}).territories == {"Live": ["West"]}
    skipped = imports.import_accounts(live, path, assign=False)
    assert skipped.assigned_in is None
