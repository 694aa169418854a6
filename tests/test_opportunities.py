"""Opportunity territory assignment: ETM's priority rule and ties, other policies, scope."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from territorial.errors import ValidationError
from territorial.services import assignments, hierarchy, models
from territorial.services.opportunities import assign_model_opportunities
from territorial.services.workspace import Workspace
from territorial.store.schema import Account, Opportunity, OpportunityTerritoryRow, TerritoryRow


@pytest.fixture
def deals(org: Workspace) -> Workspace:
    """Base: NA > West, East (Geo, priority 10) plus roots Health and Fin (Overlay, 5).

    001A in West only; 001B in West and Health (priorities 10 vs 5); 001C in Health and Fin
    (a tie at 5) and, for 'deepest', West too. Opportunities: one per account plus a
    closed one and an excluded one on 001A.
    """
    hierarchy.add_territory(org, "Base", "Health", type="Overlay")
    hierarchy.add_territory(org, "Base", "Fin", type="Overlay")
    for account, territory in [
        ("001A", "West"),
        ("001B", "West"),
        ("001B", "Health"),
        ("001C", "Health"),
        ("001C", "Fin"),
    ]:
        assignments.assign_account(org, "Base", account, territory)
    with org.session() as s:
        pks = {a.id: a.pk for a in s.scalars(select(Account))}
        s.add_all(
            [
                Opportunity(
                    id="006A", account_pk=pks["001A"], name="A", close_date=date(2027, 1, 15)
                ),
                Opportunity(
                    id="006B", account_pk=pks["001B"], name="B", close_date=date(2027, 3, 1)
                ),
                Opportunity(
                    id="006C", account_pk=pks["001C"], name="C", close_date=date(2027, 6, 1)
                ),
                Opportunity(
                    id="006D",
                    account_pk=pks["001A"],
                    name="D",
                    is_closed=True,
                    close_date=date(2026, 6, 1),
                ),
                Opportunity(
                    id="006E", account_pk=pks["001A"], name="E", excluded_from_territory_filter=True
                ),
            ]
        )
    return org


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
