"""A seeded, realistic demo organisation: accounts, opportunities, users and a starter model.

Pure data, no database: the loader that writes a ``DemoOrg`` into a workspace lives
elsewhere. Everything is vectorised, so a million accounts take a few seconds, and the same
seed always gives identical frames.

>>> org = generate(500, seed=1)
>>> org.accounts.height, org.accounts["id"].str.starts_with("001").all()
(500, True)
>>> [t.developer_name for t in org.model.territories if t.parent is None]
['NA', 'EMEA', 'APAC', 'Industry_Overlay', 'Strategic_Accounts']
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import polars as pl

from territorial.core.fields import Field
from territorial.core.model import ModelSpec
from territorial.demo import model as starter
from territorial.demo.assign import first_territory
from territorial.demo.org import REFERENCE_DATE, accounts_frame, opportunities_frame
from territorial.demo.users import (
    AE,
    MANAGER,
    OWNER,
    Seat,
    owners_by_territory,
    seats,
    user_assignments,
    users_frame,
)

MODEL_NAME = "FY2027_Territories"
REGION_OF_COUNTRY = {
    **dict.fromkeys(["US", "CA"], "NA"),
    **dict.fromkeys(["GB", "IE", "DE", "AT", "CH", "FR", "BE", "NL", "LU"], "EMEA"),
    **dict.fromkeys(["SE", "NO", "DK", "FI", "IS"], "EMEA"),
    **dict.fromkeys(["AU", "NZ", "JP", "SG", "IN", "HK", "KR", "MY"], "APAC"),
}


@dataclass
class DemoOrg:
    """A demo organisation: the records of a CRM plus the territory model that covers them."""

    accounts: pl.DataFrame
    opportunities: pl.DataFrame
    users: pl.DataFrame
    model: ModelSpec
    manual_assignments: pl.DataFrame  # account_id, territory (developer name)
    custom_fields: list[Field] = field(default_factory=list)


def _rng(seed: int | None) -> np.random.Generator:
    """The one place a seed becomes a generator (None: fresh entropy)."""
    return np.random.default_rng(seed)


def _model(nodes: tuple[starter.Node, ...], users: pl.DataFrame, staff: list[Seat]) -> ModelSpec:
    rules, associations = starter.rules_and_associations(nodes)
    return ModelSpec(
        MODEL_NAME,
        name="FY2027 Territories",
        description="Demo go-to-market: regions, areas, segments, geo patches, overlays, named.",
        types=list(starter.TYPES),
        territories=starter.territories(nodes),
        rules=rules,
        associations=associations,
        user_assignments=user_assignments(users, staff),
    )


def _leaf_owners(
    nodes: tuple[starter.Node, ...], owners: dict[str, str], managers: dict[str, str]
) -> list[str]:
    """Owner of each geo leaf: its rep, or its area manager when the territory is vacant."""
    parents = {n.name: n.parent for n in nodes}
    result = []
    for node in nodes:
        if node.type != "Geo":
            continue
        area = node.parent
        while area is not None and area not in managers:
            area = parents[area]
        result.append(owners.get(node.name) or managers[str(area)])
    return result


def _assign_owners(
    rng: np.random.Generator,
    accounts: pl.DataFrame,
    spec: ModelSpec,
    nodes: tuple[starter.Node, ...],
    users: pl.DataFrame,
    staff: list[Seat],
) -> pl.DataFrame:
    """Each account owned by its geo leaf's owner, except a few stale owners left from before."""
    leaves = [n.name for n in nodes if n.type == "Geo"]
    owners = owners_by_territory(users, staff, OWNER)
    leaf_owner = pl.Series(_leaf_owners(nodes, owners, owners_by_territory(users, staff, MANAGER)))
    leaf = first_territory(accounts, spec, leaves)
    reps = users.filter(pl.col("title") == AE)["id"]
    random_rep = reps[pl.Series(rng.integers(0, len(reps), accounts.height))]
    stale = pl.Series(rng.random(accounts.height) < 0.04) | leaf.is_null()
    owner = leaf_owner[leaf.fill_null(0)].zip_with(~stale, random_rep)
    return accounts.with_columns(owner_id=owner)


def _named_accounts(accounts: pl.DataFrame, owners: dict[str, str]) -> pl.DataFrame:
    """The biggest accounts of each region, by hand in the region's named territory."""
    region = pl.col("billing_country_code").replace_strict(REGION_OF_COUNTRY, default=None)
    count = max(6, accounts.height // 1000)
    revenue = accounts["annual_revenue"].fill_null(0.0)
    floor = revenue.top_k(min(accounts.height, 2 * count)).min()
    top = (
        accounts.with_row_index("row")
        .filter(pl.col("annual_revenue") >= pl.lit(floor, pl.Float64))  # cheap pre-filter
        .with_columns(territory=pl.lit("Named_") + region)
        .filter(pl.col("territory").is_not_null())
        .sort(["annual_revenue", "row"], descending=[True, False])
        .head(count)
    )
    return top.select(
        account_id="id", territory="territory", owner=pl.col("territory").replace_strict(owners)
    )


def generate(accounts: int = 25_000, *, seed: int | None = 0) -> DemoOrg:
    """Generate a demo organisation with ``accounts`` accounts.

    Parameters
    ----------
    accounts
        Number of accounts (a few hundred for tests, up to a million for benchmarks).
    seed
        Seed of the random generator: the same seed gives identical frames; None is random.

    Returns
    -------
    DemoOrg
        Accounts (about two thirds in the US, at real ZIP codes), a few opportunities on some
        of them, about sixty users, the starter model and the named accounts.

    Examples
    --------
    >>> org = generate(300, seed=7)
    >>> org.accounts.columns[:3], org.users.height
    (['id', 'name', 'billing_street'], 63)
    >>> org.opportunities["account_id"].is_in(org.accounts["id"].implode()).all()
    True
    """
    if accounts < 0:
        raise ValueError(f"accounts must be zero or more, not {accounts}")
    rng = _rng(seed)
    nodes = starter.nodes()
    staff = seats(nodes)
    users = users_frame(rng, staff)
    spec = _model(nodes, users, staff)
    frame = _assign_owners(rng, accounts_frame(rng, accounts), spec, nodes, users, staff)
    named = _named_accounts(frame, owners_by_territory(users, staff, OWNER))
    named_owner = pl.col("id").replace_strict(
        named["account_id"], named["owner"], default=pl.col("owner_id")
    )
    frame = frame.with_columns(owner_id=named_owner)
    reps = users.filter(pl.col("title") == AE)["id"]
    return DemoOrg(
        accounts=frame,
        opportunities=opportunities_frame(rng, frame, reps),
        users=users,
        model=spec,
        manual_assignments=named.select("account_id", "territory"),
    )


__all__ = ["MODEL_NAME", "REFERENCE_DATE", "DemoOrg", "generate"]
