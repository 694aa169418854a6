"""A model at a glance: accounts and people per top-level territory."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl
from sqlalchemy import func, select

from territorial.core import tree
from territorial.services import lookup
from territorial.services.workspace import Workspace
from territorial.store import frames
from territorial.store.schema import Account, SalesUser, TerritoryRow, UserAssignmentRow


@dataclass(frozen=True)
class BranchSummary:
    """One top-level territory and everything under it."""

    territory: str
    name: str
    territories: int
    accounts: int
    users: int


@dataclass(frozen=True)
class Overview:
    model: str
    state: str
    territories: int
    accounts_total: int
    accounts_assigned: int
    users_total: int
    users_assigned: int
    branches: list[BranchSummary]

    @property
    def accounts_unassigned(self) -> int:
        return self.accounts_total - self.accounts_assigned


def model_overview(ws: Workspace, model: str | None = None) -> Overview:
    """Accounts (distinct, whole subtree) and users per top-level territory of a model."""
    with ws.session() as session:
        row = lookup.model_or_active(session, model)
        territories = list(
            session.execute(
                select(
                    TerritoryRow.pk,
                    TerritoryRow.parent_pk,
                    TerritoryRow.developer_name,
                    TerritoryRow.name,
                ).where(TerritoryRow.model_pk == row.pk)
            )
        )
        assigned = frames.load_assignments(session, row.pk).select("account_pk", "territory_pk")
        user_rows = list(
            session.execute(
                select(UserAssignmentRow.territory_pk, UserAssignmentRow.user_pk)
                .join(TerritoryRow, TerritoryRow.pk == UserAssignmentRow.territory_pk)
                .where(TerritoryRow.model_pk == row.pk)
            )
        )
        accounts_total = int(session.scalar(select(func.count()).select_from(Account)) or 0)
        users_total = int(session.scalar(select(func.count()).select_from(SalesUser)) or 0)
    roots = tree.roots({pk: parent for pk, parent, _, _ in territories})
    root_map = pl.DataFrame(
        {"territory_pk": list(roots), "root_pk": list(roots.values())},
        schema={"territory_pk": pl.Int64, "root_pk": pl.Int64},
    )
    accounts = (
        assigned.join(root_map, on="territory_pk")
        .group_by("root_pk")
        .agg(pl.col("account_pk").n_unique().alias("n"))
    )
    account_counts = dict(zip(accounts["root_pk"].to_list(), accounts["n"].to_list(), strict=True))
    users: dict[int, set[int]] = {}
    for territory_pk, user_pk in user_rows:
        users.setdefault(roots[territory_pk], set()).add(user_pk)
    sizes: dict[int, int] = {}
    for root in roots.values():
        sizes[root] = sizes.get(root, 0) + 1
    branches = [
        BranchSummary(dev, name, sizes[pk], account_counts.get(pk, 0), len(users.get(pk, ())))
        for pk, parent, dev, name in territories
        if parent is None
    ]
    return Overview(
        model=row.developer_name,
        state=row.state,
        territories=len(territories),
        accounts_total=accounts_total,
        accounts_assigned=assigned["account_pk"].n_unique(),
        users_total=users_total,
        users_assigned=len({u for _, u in user_rows}),
        branches=sorted(branches, key=lambda b: -b.accounts),
    )


__all__ = ["BranchSummary", "Overview", "model_overview"]
