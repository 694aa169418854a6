"""Opportunities on the small organisation of conftest's ``org``, shared by the tests of
opportunity assignment, activation and the Data Loader files."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from territorial.services import assignments, hierarchy, models
from territorial.services.workspace import Workspace
from territorial.store.schema import (
    Account,
    Opportunity,
    OpportunityTerritoryRow,
    TerritoryModelRow,
    TerritoryRow,
)


def add_deals(org: Workspace) -> Workspace:
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


def realign_deals(deals: Workspace) -> Workspace:
    """Base (of :func:`add_deals`) is live, its closed 006D assigned too (West). Plan: 001A
    moves from West to East (006A and the closed 006D follow), 001B leaves West for Fin
    beside Health, which tie: 006B loses its territory. 006C ties in both models."""
    models.activate_model(deals, "Base", include_closed=True)
    models.clone_model(deals, "Base", "Plan")
    assignments.unassign_account(deals, "Plan", "001A", "West")
    assignments.assign_account(deals, "Plan", "001A", "East")
    assignments.unassign_account(deals, "Plan", "001B", "West")
    assignments.assign_account(deals, "Plan", "001B", "Fin")
    return deals


def in_model(ws: Workspace, model: str) -> dict[str, str]:
    """Opportunity id → territory in one model (those without a territory left out)."""
    with ws.session() as s:
        pk = s.scalar(select(TerritoryModelRow.pk).where(TerritoryModelRow.developer_name == model))
        rows = s.execute(
            select(Opportunity.id, TerritoryRow.developer_name)
            .join(OpportunityTerritoryRow, OpportunityTerritoryRow.opportunity_pk == Opportunity.pk)
            .join(TerritoryRow, TerritoryRow.pk == OpportunityTerritoryRow.territory_pk)
            .where(OpportunityTerritoryRow.model_pk == pk)
        )
        return {opp: territory for opp, territory in rows}
