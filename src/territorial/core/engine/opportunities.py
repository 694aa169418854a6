"""Opportunity territory assignment, vectorised, with Salesforce's default policy and two more.

Candidates are the territories of the opportunity's account in the model.

``priority`` (Salesforce's filter)
    One candidate: it. Several: the one whose territory type priority is numerically
    greatest; if the greatest is shared, the opportunity is left without a territory.
``deepest``
    The deepest candidate in the hierarchy; among equally deep ones the greatest type
    priority; still tied: no territory.
``keep``
    The current territory when it is still a candidate, otherwise as ``priority``.

An account with no territory gives its opportunities no territory.
"""

from __future__ import annotations

from typing import Literal

import polars as pl

OpportunityPolicy = Literal["priority", "deepest", "keep"]
POLICIES: tuple[OpportunityPolicy, ...] = ("priority", "deepest", "keep")


def _pick_unique_best(candidates: pl.DataFrame, keys: list[str]) -> pl.DataFrame:
    """Per opportunity, the candidate best by ``keys`` (descending) when it is unique."""
    best = candidates
    for key in keys:
        best = best.filter(pl.col(key) == pl.col(key).max().over("opportunity_pk"))
    return (
        best.group_by("opportunity_pk")
        .agg(pl.col("territory_pk").first(), pl.len().alias("tied"))
        .filter(pl.col("tied") == 1)
        .drop("tied")
    )


def assign_opportunities(
    opportunities: pl.DataFrame,
    account_territories: pl.DataFrame,
    territories: pl.DataFrame,
    *,
    policy: OpportunityPolicy = "priority",
) -> pl.DataFrame:
    """The territory each opportunity should have.

    Parameters
    ----------
    opportunities
        ``opportunity_pk``, ``account_pk`` and ``current_territory_pk`` (nullable).
    account_territories
        ``account_pk``, ``territory_pk``: the model's account assignments (any cause).
    territories
        ``territory_pk``, ``priority`` (type priority) and ``depth``.
    policy
        ``priority`` (default, Salesforce), ``deepest`` or ``keep``.

    Returns
    -------
    polars.DataFrame
        ``opportunity_pk``, ``territory_pk`` (null: no territory), one row per opportunity,
        in the input's order.

    Examples
    --------
    >>> opps = pl.DataFrame({"opportunity_pk": [1, 2, 3], "account_pk": [10, 20, 30],
    ...                      "current_territory_pk": [None, None, 7]})
    >>> links = pl.DataFrame({"account_pk": [10, 20, 20, 30, 30],
    ...                       "territory_pk": [5, 6, 7, 6, 7]})
    >>> terr = pl.DataFrame({"territory_pk": [5, 6, 7], "priority": [1, 3, 3],
    ...                      "depth": [1, 1, 2]})
    >>> assign_opportunities(opps, links, terr).rows()
    [(1, 5), (2, None), (3, None)]
    >>> assign_opportunities(opps, links, terr, policy="keep").rows()
    [(1, 5), (2, None), (3, 7)]
    >>> assign_opportunities(opps, links, terr, policy="deepest").rows()
    [(1, 5), (2, 7), (3, 7)]
    """
    if policy not in POLICIES:
        raise ValueError(f"unknown policy {policy!r}; use one of {', '.join(POLICIES)}")
    candidates = (
        opportunities.select("opportunity_pk", "account_pk")
        .join(account_territories.select("account_pk", "territory_pk").unique(), on="account_pk")
        .join(
            territories.select("territory_pk", "priority", "depth"), on="territory_pk", how="left"
        )
        .with_columns(pl.col("priority").fill_null(0), pl.col("depth").fill_null(0))
    )
    keys = ["depth", "priority"] if policy == "deepest" else ["priority"]
    chosen = _pick_unique_best(candidates, keys)
    if policy == "keep":
        kept = opportunities.join(
            candidates.select("opportunity_pk", "territory_pk"),
            left_on=["opportunity_pk", "current_territory_pk"],
            right_on=["opportunity_pk", "territory_pk"],
            how="semi",
        ).select("opportunity_pk", pl.col("current_territory_pk").alias("territory_pk"))
        chosen = pl.concat([kept, chosen.join(kept, on="opportunity_pk", how="anti")])
    return opportunities.select("opportunity_pk").join(
        chosen, on="opportunity_pk", how="left", maintain_order="left"
    )


CHANGES = ("assigned", "moved", "cleared")
"""What a territory change is: none before; another before; none after."""


def territory_changes(before: pl.DataFrame, after: pl.DataFrame) -> pl.DataFrame:
    """The opportunities of ``after`` whose territory is not the one of ``before``.

    Parameters
    ----------
    before
        ``opportunity``, ``territory``: what is held now (an opportunity missing from it,
        or with a null territory, has none).
    after
        ``opportunity``, ``territory`` and any other columns: the opportunities in scope
        with the territory they should have (null: none). Opportunities only in
        ``before`` are out of scope and left alone.

    Returns
    -------
    polars.DataFrame
        The changed rows of ``after`` with ``from_territory`` and ``change``
        (``assigned``, ``moved`` or ``cleared``, see :data:`CHANGES`), sorted by
        opportunity.

    Examples
    --------
    >>> before = pl.DataFrame({"opportunity": ["a", "b", "c", "z"],
    ...                        "territory": ["West", "West", "East", "East"]})
    >>> after = pl.DataFrame({"opportunity": ["a", "b", "c", "d"],
    ...                       "territory": ["West", "East", None, "North"]})
    >>> changes = territory_changes(before, after)
    >>> changes.select("opportunity", "change").rows()
    [('b', 'moved'), ('c', 'cleared'), ('d', 'assigned')]
    >>> changes.row(0)
    ('b', 'East', 'West', 'moved')
    """
    held = before.select("opportunity", from_territory="territory").unique("opportunity")
    was, now = pl.col("from_territory"), pl.col("territory")
    return (
        after.join(held, on="opportunity", how="left")
        .filter(now.ne_missing(was))
        .with_columns(
            change=pl.when(was.is_null())
            .then(pl.lit("assigned"))
            .when(now.is_null())
            .then(pl.lit("cleared"))
            .otherwise(pl.lit("moved"))
        )
        .sort("opportunity")
    )


__all__ = [
    "CHANGES",
    "POLICIES",
    "OpportunityPolicy",
    "assign_opportunities",
    "territory_changes",
]
