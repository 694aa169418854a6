"""Opportunity territory assignment: ETM's priority rule and ties, other policies, scope."""

from __future__ import annotations

import json
from datetime import date

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from opportunity_helpers import add_deals, in_model, realign_deals
from territorial.cli.app import app
from territorial.errors import ValidationError
from territorial.services import assignments, audit, hierarchy, models
from territorial.services.opportunities import assign_model_opportunities
from territorial.services.workspace import Workspace
from territorial.store.schema import (
    Opportunity,
    OpportunityTerritoryRow,
    TerritoryRow,
)


@pytest.fixture
def deals(org: Workspace) -> Workspace:
    return add_deals(org)


def territories(ws: Workspace, model: str = "Base") -> dict[str, str | None]:
    with ws.session() as s:
        rows = s.execute(
            select(Opportunity.id, TerritoryRow.developer_name)
            .join(OpportunityTerritoryRow, OpportunityTerritoryRow.opportunity_pk == Opportunity.pk)
            .outerjoin(TerritoryRow, TerritoryRow.pk == OpportunityTerritoryRow.territory_pk)
        )
        return {opp: terr for opp, terr in rows}


def test_priority_policy_picks_greatest_priority_and_leaves_ties_unassigned(
    deals: Workspace,
) -> None:
    result = assign_model_opportunities(deals, "Base")
    assert territories(deals) == {"006A": "West", "006B": "West", "006D": "West"}
    assert (result.in_scope, result.skipped_excluded, result.newly_assigned) == (4, 1, 3)
    assert result.unchanged == 1  # 006C: tie, stays without a territory


def test_correct_opportunities_are_left_untouched(deals: Workspace) -> None:
    assign_model_opportunities(deals, "Base")
    again = assign_model_opportunities(deals, "Base")
    assert (again.changed, again.unchanged) == (0, 4)


def test_deepest_policy(deals: Workspace) -> None:
    hierarchy.move_territory(deals, "Base", "Fin", "West")  # Fin is now deeper than Health
    assign_model_opportunities(deals, "Base", policy="deepest")
    assert territories(deals)["006C"] == "Fin"


def test_keep_policy_keeps_a_still_valid_territory(deals: Workspace) -> None:
    with deals.session() as s:
        model_pk = s.scalar(select(TerritoryRow.model_pk))
        health = s.scalar(select(TerritoryRow.pk).where(TerritoryRow.developer_name == "Health"))
        opp = s.scalar(select(Opportunity.pk).where(Opportunity.id == "006B"))
        s.add(OpportunityTerritoryRow(model_pk=model_pk, opportunity_pk=opp, territory_pk=health))
    assign_model_opportunities(deals, "Base", policy="keep")
    assert territories(deals)["006B"] == "Health"
    assign_model_opportunities(deals, "Base", policy="priority")
    assert territories(deals)["006B"] == "West"


def test_moved_and_unassigned_are_counted(deals: Workspace) -> None:
    assign_model_opportunities(deals, "Base")
    assignments.unassign_account(deals, "Base", "001A", "West")
    result = assign_model_opportunities(deals, "Base")
    assert (result.unassigned, result.moved) == (2, 0)
    assert set(result.changes["opportunity"].to_list()) == {"006A", "006D"}


def test_open_only_and_close_date_scope(deals: Workspace) -> None:
    result = assign_model_opportunities(deals, "Base", open_only=True)
    assert result.in_scope == 3 and "006D" not in territories(deals)
    result = assign_model_opportunities(
        deals, "Base", close_from=date(2027, 2, 1), close_to=date(2027, 4, 30), preview=True
    )
    assert result.in_scope == 1 and result.changes["opportunity"].to_list() == []
    with pytest.raises(ValidationError, match="range is empty"):
        assign_model_opportunities(
            deals, "Base", close_from=date(2027, 5, 1), close_to=date(2027, 1, 1)
        )


def test_preview_writes_nothing(deals: Workspace) -> None:
    result = assign_model_opportunities(deals, "Base", preview=True)
    assert result.newly_assigned == 3 and territories(deals) == {}


def test_activation_assigns_opportunities(deals: Workspace) -> None:
    models.activate_model(deals, "Base")
    assert territories(deals)["006A"] == "West"


@pytest.fixture
def realign(deals: Workspace) -> Workspace:
    return realign_deals(deals)


def test_activation_reassigns_open_opportunities_only(realign: Workspace) -> None:
    assert in_model(realign, "Base") == {"006A": "West", "006B": "West", "006D": "West"}
    result = models.activate_model(realign, "Plan")
    # Closed 006D keeps the territory it was closed in (in Base); the plan leaves it alone.
    assert in_model(realign, "Plan") == {"006A": "East"}
    assert in_model(realign, "Base")["006D"] == "West"
    opps = result.opportunities
    assert (opps.in_scope, opps.closed_skipped, opps.excluded_skipped) == (3, 1, 1)
    assert (opps.changed, opps.moved, opps.cleared, opps.cleared_by_tie) == (2, 1, 1, 1)
    with realign.session() as s:
        entries = {e.action: e.after for e in audit.entries(s, limit=3)}
    assert entries["opportunities.assign"]["open_only"] is True
    assert entries["model.activate"]["opportunities_changed"] == 2


def test_activation_with_closed_opportunities(realign: Workspace) -> None:
    result = models.activate_model(realign, "Plan", include_closed=True)
    assert in_model(realign, "Plan") == {"006A": "East", "006D": "East"}
    assert (result.opportunities.in_scope, result.opportunities.moved) == (4, 2)


def test_activation_counts_agree_with_compare(realign: Workspace) -> None:
    from territorial.services.compare import compare_models

    planned = compare_models(realign, "Plan").summary
    result = models.activate_model(realign, "Plan")
    assert result.opportunities.changed == planned["open_opportunities_changed"] == 2
    assert (result.assignments_added, result.assignments_removed) == (
        planned["assignments_added"],
        planned["assignments_removed"],
    )
    assert result.accounts_changed == planned["accounts_changed"] == 2
    assert result.archived == "Base" and result.model.state == "active"
    text = result.summary()
    assert "Model Plan is active; Base is archived" in text
    assert "2 of 3 open opportunities change territory from Base" in text
    assert "1 left without one, 1 of them by a priority tie" in text
    assert "1 closed and 1 excluded from the territory filter left as they are" in text


def test_cli_activate_reports_what_happened(realign: Workspace, db_url: str) -> None:
    result = CliRunner().invoke(
        app, ["--database", db_url, "--format", "json", "model", "activate", "Plan"]
    )
    assert result.exit_code == 0, result.stderr
    (row,) = json.loads(result.stdout)
    assert (row["model"], row["archived"], row["include_closed"]) == ("Plan", "Base", False)
    assert (row["assignments_added"], row["assignments_removed"]) == (2, 2)
    assert (row["opportunities_changed"], row["opportunities_cleared_by_tie"]) == (2, 1)
    assert row["closed_opportunities_skipped"] == 1 and row["seconds"] >= 0
    back = CliRunner().invoke(
        app, ["--database", db_url, "model", "activate", "Base", "--include-closed"]
    )
    text = " ".join(back.stdout.split())
    assert "Model Base is active; Plan is archived" in text
    assert "Compared with Plan: 2 accounts change territories" in text
    assert "3 of 4 opportunities change territory from Plan (2 assigned, 1 moved" in text


def test_preview_of_a_plan_counts_what_activation_changes(realign: Workspace) -> None:
    preview = assign_model_opportunities(realign, "Plan", open_only=True, preview=True)
    assert preview.against == "Base"
    assert (preview.changed, preview.moved, preview.unassigned) == (2, 1, 1)
    # 006B and 006C: their accounts' territories Health and Fin tie on priority.
    assert preview.tied == 2
    warning = preview.tie_warning()
    assert warning is not None and warning.startswith("2 opportunities would be left without")
    assert "opportunity 006B, account 001B in Health, Fin" in warning
    assert "different priorities" in warning and "--policy deepest" in warning
    done = models.activate_model(realign, "Plan")
    assert done.opportunities.changed == preview.changed
    assert done.opportunities.cleared_by_tie == preview.unassigned


def test_cli_preview_names_the_model_it_counts_from(realign: Workspace, db_url: str) -> None:
    args = ["--database", db_url, "opportunities", "assign", "Plan", "--open-only", "--preview"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    out = " ".join(result.stdout.split())
    assert "counted from the opportunity territories of the active model Base" in out
    assert "0 would be newly assigned, 1 would be moved, 1 would be left" in out
    assert "Warning: 2 opportunities would be left without a territory" in " ".join(
        result.stderr.split()
    )


def test_activation_counts_one_change_in_the_singular(deals: Workspace) -> None:
    models.activate_model(deals, "Base")
    models.clone_model(deals, "Base", "Plan")
    assignments.assign_account(deals, "Plan", "001A", "East")
    text = models.activate_model(deals, "Plan").summary()
    assert "1 account changes territories (1 assignment added, 0 removed)" in text
