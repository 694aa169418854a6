"""Areas in a comparison: the accounts of a territory's subtree, in each model.

A territory moved to another branch keeps its own accounts, but they leave the area of
the branch it left and enter that of the branch it joined. ``area_changes`` finds such
territories (``regrouped``: in both models, with another set of ancestors) and the
accounts whose area changes; ``area_figures`` counts each territory's subtree accounts
before and after, gained and lost. Territories are keyed as in ``core.compare_pairs``.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from territorial.core.compare_pairs import PairChanges, Side, tkey_column, with_names
from territorial.core.reports import closure, distinct_totals


def keyed_closure(side: Side, mapping: dict[int, int]) -> pl.DataFrame:
    """``tkey``, ``ancestor`` (both shared territory keys): every territory of the side with
    each of its ancestors and itself."""
    up = closure(side.territories)
    return (
        up.select(
            tkey_column(mapping),
            pl.col("ancestor_pk").alias("territory_pk"),
        )
        .select("tkey", tkey_column(mapping).alias("ancestor"))
        .drop_nulls()
    )


@dataclass(frozen=True)
class AreaChanges:
    """Territories that change branch, and the accounts whose area changes only so."""

    closure_b: pl.DataFrame
    """``tkey``, ``ancestor`` before."""
    closure_a: pl.DataFrame
    regrouped: pl.DataFrame
    """``tkey``, ``territory`` of the territories in both models whose ancestors differ."""
    accounts: pl.DataFrame
    """``account_pk`` of the accounts in a regrouped territory (either side) whose own
    territories do not change, sorted."""
    pairs_b: pl.DataFrame
    """Those accounts' ``account_pk``, ``tkey``, ``territory`` before."""
    pairs_a: pl.DataFrame


def area_changes(before: Side, after: Side, changes: PairChanges) -> AreaChanges:
    """The regrouped territories and the accounts they carry to another area.

    >>> t = pl.DataFrame({"territory_pk": [1, 2, 3], "parent_pk": [None, None, 1],
    ...     "territory": ["West", "Central", "Rockies"], "name": ["W", "C", "R"]})
    >>> moved = t.with_columns(parent_pk=pl.Series([None, None, 2]))
    >>> def side(t):
    ...     return Side(t, pl.DataFrame({"account_pk": [1], "territory_pk": [3]}),
    ...                 pl.DataFrame(), pl.DataFrame())
    >>> from territorial.core.compare_pairs import pair_changes
    >>> c = pair_changes(side(t), side(moved))
    >>> a = area_changes(side(t), side(moved), c)
    >>> a.regrouped["territory"].to_list(), a.accounts["account_pk"].to_list()
    (['Rockies'], [1])
    """
    closure_b = keyed_closure(before, changes.map_b)
    closure_a = keyed_closure(after, changes.map_a)
    common = closure_b.select("tkey").unique().join(closure_a.select("tkey").unique(), on="tkey")
    differ = pl.concat(
        [
            closure_b.join(closure_a, on=["tkey", "ancestor"], how="anti"),
            closure_a.join(closure_b, on=["tkey", "ancestor"], how="anti"),
        ]
    ).select("tkey")
    regrouped = with_names(differ.join(common, on="tkey", how="semi").unique(), changes.keys)
    inside = pl.col("tkey").is_in(regrouped["tkey"].implode())
    carried = (
        pl.concat(
            [
                changes.pairs_b.filter(inside).select("account_pk"),
                changes.pairs_a.filter(inside).select("account_pk"),
            ]
        )
        .unique()
        .join(changes.changed, on="account_pk", how="anti")
        .sort("account_pk")
    )
    of_carried = pl.col("account_pk").is_in(carried["account_pk"].implode())
    return AreaChanges(
        closure_b=closure_b,
        closure_a=closure_a,
        regrouped=regrouped.sort("territory"),
        accounts=carried,
        pairs_b=with_names(changes.pairs_b.filter(of_carried), changes.keys),
        pairs_a=with_names(changes.pairs_a.filter(of_carried), changes.keys),
    )


def expand_held(held: pl.DataFrame, up: pl.DataFrame) -> pl.DataFrame:
    """``user_pk``, ``tkey``: each user with every territory under (and including) those
    they hold (``held``: ``user_pk``, ``tkey``; ``up``: a keyed closure)."""
    return (
        held.join(up, left_on="tkey", right_on="ancestor")
        .select("user_pk", tkey="tkey_right")
        .unique()
    )


def _area_pairs(pairs: pl.DataFrame, up: pl.DataFrame, accounts: pl.Series) -> pl.DataFrame:
    """(``account_pk``, ``ancestor``) of the given accounts: the subtrees they are in."""
    return (
        pairs.filter(pl.col("account_pk").is_in(accounts.implode()))
        .join(up, on="tkey")
        .select("account_pk", "ancestor")
        .unique()
    )


def _subtree_counts(pairs: pl.DataFrame, up: pl.DataFrame, alias: str) -> pl.DataFrame:
    totals = distinct_totals(
        pairs.select("account_pk", key="tkey", value=pl.lit(0.0)),
        up.select(group="ancestor", key="tkey"),
    )
    return totals.select(tkey="group", **{alias: "n"})


def area_figures(changes: PairChanges, area: AreaChanges) -> pl.DataFrame:
    """Per territory key: ``area_before``, ``area_after`` (distinct accounts in the subtree),
    ``area_gained``, ``area_lost`` (accounts entering or leaving the subtree).

    Only accounts whose own territories change, or that sit in a regrouped territory, can
    enter or leave a subtree, so the (account, subtree) pairs are built for those alone.
    """
    candidates = pl.concat([changes.changed["account_pk"], area.accounts["account_pk"]])
    before = _area_pairs(changes.pairs_b, area.closure_b, candidates)
    after = _area_pairs(changes.pairs_a, area.closure_a, candidates)
    on = ["account_pk", "ancestor"]
    frame = changes.keys.select("tkey")
    for part in (
        _subtree_counts(changes.pairs_b, area.closure_b, "area_before"),
        _subtree_counts(changes.pairs_a, area.closure_a, "area_after"),
        after.join(before, on=on, how="anti").group_by(tkey="ancestor").agg(area_gained=pl.len()),
        before.join(after, on=on, how="anti").group_by(tkey="ancestor").agg(area_lost=pl.len()),
    ):
        frame = frame.join(part, on="tkey", how="left")
    counts = ["area_before", "area_after", "area_gained", "area_lost"]
    return frame.with_columns(pl.col(counts).fill_null(0).cast(pl.Int64))


def _placed(pairs: pl.DataFrame, side: Side, area: AreaChanges, at: str) -> pl.DataFrame:
    """``account_pk`` with its territories (``at``) and, as ``{at}_detail``, the same with
    the parent of each regrouped one: ``Rockies (under NA_Central)``."""
    territories = side.territories.with_columns(pl.col("parent_pk").cast(pl.Int64))
    parents = territories.join(
        territories.select(parent_pk="territory_pk", parent="territory"),
        on="parent_pk",
        how="left",
    ).select("territory", "parent")
    where = (
        pl.when(pl.col("parent").is_null())
        .then(pl.lit(" (top level)"))
        .otherwise(pl.lit(" (under ") + pl.col("parent") + pl.lit(")"))
    )
    detail = (
        pl.when(pl.col("territory").is_in(area.regrouped["territory"].implode()))
        .then(pl.col("territory") + where)
        .otherwise(pl.col("territory"))
    )
    return (
        pairs.join(parents, on="territory", how="left")
        .select("account_pk", "territory", detail=detail)
        .sort("account_pk", "territory")
        .group_by("account_pk", maintain_order=True)
        .agg(pl.col("territory"), pl.col("detail"))
        .select(
            "account_pk",
            pl.col("territory").list.join("; ").alias(at),
            pl.col("detail").list.join("; ").alias(f"{at}_detail"),
        )
    )


def regrouped_rows(before: Side, after: Side, area: AreaChanges) -> pl.DataFrame:
    """``account_pk``, ``from``, ``to``, ``from_detail``, ``to_detail`` of the regrouped
    accounts (their territories are the same on both sides; the details say where the
    regrouped ones sit)."""
    return _placed(area.pairs_b, before, area, "from").join(
        _placed(area.pairs_a, after, area, "to"), on="account_pk", how="full", coalesce=True
    )


def regrouped_opportunities(
    before: Side, after: Side, changes: PairChanges, area: AreaChanges
) -> pl.DataFrame:
    """``opportunity_pk``, ``tkey``, ``tkey_after`` (equal) of the opportunities that stay on
    a regrouped territory."""
    regrouped = area.regrouped["tkey"].implode()
    opp_b = before.opportunities.select("opportunity_pk", tkey_column(changes.map_b)).filter(
        pl.col("tkey").is_in(regrouped)
    )
    opp_a = after.opportunities.select(
        "opportunity_pk", tkey_column(changes.map_a).alias("tkey_after")
    ).filter(pl.col("tkey_after").is_in(regrouped))
    return opp_b.join(opp_a, on="opportunity_pk").filter(pl.col("tkey") == pl.col("tkey_after"))


__all__ = [
    "AreaChanges",
    "area_changes",
    "area_figures",
    "expand_held",
    "keyed_closure",
    "regrouped_opportunities",
    "regrouped_rows",
]
