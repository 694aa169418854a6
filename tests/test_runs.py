"""Runs: scope, replacement of rule assignments, manual ones kept, preview, run record."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from territorial.core.model import (
    ModelSpec,
    Rule,
    RuleAssociation,
    RuleItem,
    Territory,
    TerritoryType,
)
from territorial.errors import LifecycleError, RuleError
from territorial.services import assignments, models, runs, specs
from territorial.services.workspace import Workspace
from territorial.store.schema import Account, RunRow


def by_territory(ws: Workspace, model: str = "Plan") -> dict[str, list[str]]:
    """Account ids per territory, as the tree and exports would show them."""
    from territorial.services import lookup
    from territorial.store import frames
    from territorial.store.schema import TerritoryRow

    with ws.session() as s:
        m = lookup.model(s, model)
        names = {k: v for k, v in s.execute(select(TerritoryRow.pk, TerritoryRow.developer_name))}
        ids = {k: v for k, v in s.execute(select(Account.pk, Account.id))}
        rows = frames.load_assignments(s, m.pk).rows(named=True)
    out: dict[str, list[str]] = {}
    for r in sorted(rows, key=lambda r: (r["territory_pk"], r["account_pk"])):
        out.setdefault(names[r["territory_pk"]], []).append(ids[r["account_pk"]])
    return out


@pytest.fixture
def plan(org: Workspace) -> Workspace:
    spec = ModelSpec(
        "Plan",
        types=[TerritoryType("Geo", 10)],
        territories=[
            Territory("US", "Geo"),
            Territory("West", "Geo", parent="US"),
            Territory("South", "Geo", parent="US"),
        ],
        rules=[
            Rule("Not_NY", (RuleItem(1, "BillingStateCode", "notEqual", "NY"),)),
            Rule("West", (RuleItem(1, "Account.BillingStateCode", "equals", "ca, or"),)),
            Rule("South", (RuleItem(1, "BillingStateCode", "equals", "TX,FL"),)),
        ],
        associations=[
            RuleAssociation("Not_NY", "US", inherited=True),
            RuleAssociation("West", "West"),
            RuleAssociation("South", "South"),
        ],
    )
    specs.create_model_from_spec(org, spec)
    return org


def test_run_assigns_by_effective_rules_and_records_the_run(plan: Workspace) -> None:
    result = runs.run_rules(plan, "Plan")
    assert (result.accounts_evaluated, result.added, result.removed) == (3, 4, 0)
    assert by_territory(plan) == {"US": ["001A", "001C"], "West": ["001A"], "South": ["001C"]}
    with plan.session() as s:
        run = s.scalar(select(RunRow))
        assert run is not None
        assert (run.actor, run.status, run.assignments_written) == ("tester", "succeeded", 4)


def test_overlapping_territories_of_one_type_are_warned_about(plan: Workspace) -> None:
    # US holds CA accounts too, but as West's ancestor: that is the hierarchy, not overlap.
    assert runs.run_rules(plan, "Plan", preview=True).warnings == []
    assignments.assign_account(plan, "Plan", "001A", "South")  # by hand; West by rule
    warnings = runs.run_rules(plan, "Plan", preview=True).warnings
    assert warnings == [
        "1 account is in more than one territory of the same type (e.g. 001A in West, "
        "South): usually rules that overlap. List them with 'territorial report multi'."
    ]


def test_rerun_of_unchanged_model_writes_nothing(plan: Workspace) -> None:
    runs.run_rules(plan, "Plan")
    again = runs.run_rules(plan, "Plan")
    assert (again.added, again.removed, again.rule_assignments) == (0, 0, 4)


def test_preview_writes_nothing(plan: Workspace) -> None:
    result = runs.run_rules(plan, "Plan", preview=True)
    assert result.added == 4 and result.run_id is None
    assert by_territory(plan) == {}
    with plan.session() as s:
        assert s.scalar(select(RunRow)) is None


def test_changed_account_moves_and_manual_assignment_survives(plan: Workspace) -> None:
    assignments.assign_account(plan, "Plan", "001B", "West")
    runs.run_rules(plan, "Plan")
    with plan.session() as s:
        acme = s.scalar(select(Account).where(Account.id == "001A"))
        assert acme is not None
        acme.billing_state_code = "FL"
    result = runs.run_rules(plan, "Plan")
    assert (result.added, result.removed) == (1, 1)  # West → South; US unchanged
    assert by_territory(plan) == {
        "US": ["001A", "001C"],
        "West": ["001B"],
        "South": ["001A", "001C"],
    }


def test_subtree_scope_leaves_other_territories_alone(plan: Workspace) -> None:
    runs.run_rules(plan, "Plan", territory="West")
    assert by_territory(plan) == {"West": ["001A"]}


def test_account_scope(plan: Workspace) -> None:
    result = runs.run_rules(plan, "Plan", account_ids=["001C"])
    assert result.accounts_evaluated == 1
    assert by_territory(plan) == {"US": ["001C"], "South": ["001C"]}
    with pytest.raises(Exception, match="not found: 999"):
        runs.run_rules(plan, "Plan", account_ids=["999"])


def test_exclusion_wins_over_rules(plan: Workspace) -> None:
    assignments.exclude_account(plan, "Plan", "001A", "West")
    runs.run_rules(plan, "Plan")
    assert "West" not in by_territory(plan)


def test_bad_rule_stops_the_run_with_rule_and_item(plan: Workspace) -> None:
    from territorial.store.schema import RuleItemRow

    with plan.session() as s:
        item = s.scalar(select(RuleItemRow).where(RuleItemRow.value == "TX,FL"))
        assert item is not None
        item.field = "Planet__c"
    with pytest.raises(RuleError, match="South"):
        runs.run_rules(plan, "Plan")


def test_archived_models_are_frozen_but_can_be_previewed(plan: Workspace) -> None:
    models.archive_model(plan, "Plan")
    with pytest.raises(LifecycleError, match="frozen"):
        runs.run_rules(plan, "Plan")
    assert runs.run_rules(plan, "Plan", preview=True).added == 4
