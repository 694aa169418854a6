"""Differences between two sets of assignments (two models, or a model before and after).

Models have their own territory keys, so assignments are compared by what users see: the
record's external id and the territory's developer name. ``compare_sides`` builds the
tables of a :class:`Comparison` step by step from the two sides, once lined up by
``core.compare_pairs`` (where :class:`Side` is defined); ``core.compare_scope`` restricts a
comparison to a manager's territories.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import polars as pl

from territorial.core.compare_area import (
    AreaChanges,
    area_changes,
    area_figures,
    expand_held,
    regrouped_opportunities,
    regrouped_rows,
)
from territorial.core.compare_pairs import (
    PairChanges,
    Side,
    pair_changes,
    tkey_column,
    with_names,
)
from territorial.core.reports import distinct_totals


def assignment_delta(
    before: pl.DataFrame,
    after: pl.DataFrame,
    *,
    keys: Sequence[str] = ("account", "territory"),
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Rows to insert and rows to delete to turn ``before`` into ``after``.

    Parameters
    ----------
    before, after
        Assignments with at least the ``keys`` columns (other columns are carried along
        from the side they come from).
    keys
        Columns that identify one assignment.

    Returns
    -------
    tuple of polars.DataFrame
        ``(inserts, deletes)``: rows of ``after`` missing from ``before``, and rows of
        ``before`` missing from ``after``; each unique on ``keys`` and sorted by them.

    Examples
    --------
    >>> old = pl.DataFrame({"account": ["a", "b"], "territory": ["West", "West"]})
    >>> new = pl.DataFrame({"account": ["a", "b"], "territory": ["West", "East"]})
    >>> inserts, deletes = assignment_delta(old, new)
    >>> inserts.rows(), deletes.rows()
    ([('b', 'East')], [('b', 'West')])
    """
    key_list = list(keys)
    before = before.unique(subset=key_list, maintain_order=True)
    after = after.unique(subset=key_list, maintain_order=True)
    inserts = after.join(before.select(key_list), on=key_list, how="anti", nulls_equal=True)
    deletes = before.join(after.select(key_list), on=key_list, how="anti", nulls_equal=True)
    return inserts.sort(key_list), deletes.sort(key_list)


@dataclass(frozen=True)
class Comparison:
    """What changes from a ``before`` model to an ``after`` model."""

    accounts: pl.DataFrame
    """Accounts whose territories change: ``account``, ``name``, ``change`` (moved |
    assigned | unassigned), ``from``, ``to`` (developer names, ``; ``-separated),
    ``from_detail``, ``to_detail`` (with causes), ``potential``, ``pipeline``, and
    ``account_pk``."""
    territories: pl.DataFrame
    """Per territory of either model: ``territory``, ``in_before``, ``in_after``,
    ``accounts_before``, ``accounts_after``, ``gained``, ``lost``, ``potential_gained``,
    ``potential_lost``, ``pipeline_gained``, ``pipeline_lost`` (its own accounts), then
    ``area_before``, ``area_after``, ``area_gained``, ``area_lost`` (the accounts of its
    subtree in each model)."""
    users: pl.DataFrame
    """Per user holding a territory in either model: ``user_pk``, ``accounts_before``,
    ``accounts_after``, ``gained``, ``lost`` and potential and pipeline gained and lost,
    where a user's accounts are those of the subtrees of the territories they hold."""
    opportunities: pl.DataFrame
    """Open opportunities whose territory changes: ``opportunity_pk``, ``from``, ``to``."""
    summary: dict[str, float | int]
    pairs_before: pl.DataFrame = field(repr=False)
    """``account_pk``, ``territory`` before of the changed and regrouped accounts (for
    scoping)."""
    pairs_after: pl.DataFrame = field(repr=False)
    user_territories: pl.DataFrame = field(repr=False)
    """``user_pk``, ``territory``, ``role``, ``side`` (before | after)."""
    area_accounts: pl.DataFrame = field(repr=False, default_factory=pl.DataFrame)
    """Accounts whose own territories stay but change branch (a territory moved in the
    hierarchy): the columns of ``accounts``, ``change`` = regrouped, details naming the
    territory's parent on each side."""
    area_opportunities: pl.DataFrame = field(repr=False, default_factory=pl.DataFrame)
    """Open opportunities that stay on a regrouped territory: the columns of
    ``opportunities``, ``from`` = ``to``."""


def _text(pairs: pl.DataFrame, alias: str) -> pl.DataFrame:
    return (
        pairs.select("account_pk", "territory")
        .sort("account_pk", "territory")
        .group_by("account_pk", maintain_order=True)
        .agg(pl.col("territory"))
        .select("account_pk", pl.col("territory").list.join("; ").alias(alias))
    )


def _detail(links: pl.DataFrame, alias: str) -> pl.DataFrame:
    why = (
        pl.when(pl.col("cause") == "rule")
        .then(pl.lit("rule ") + pl.col("rule").fill_null("?"))
        .otherwise(pl.col("cause"))
    )
    # Lists are gathered whole (a fast aggregation) and joined afterwards.
    return (
        links.select("account_pk", "territory", why=why)
        .unique()
        .sort("account_pk", "territory", "why")
        .group_by("account_pk", "territory", maintain_order=True)
        .agg(pl.col("why"))
        .select(
            "account_pk",
            text=pl.col("territory") + " (" + pl.col("why").list.join(", ") + ")",
        )
        .group_by("account_pk", maintain_order=True)
        .agg(pl.col("text"))
        .select("account_pk", pl.col("text").list.join("; ").alias(alias))
    )


def _figures(frame: pl.DataFrame, values: pl.DataFrame, by: str, suffix: str) -> pl.DataFrame:
    return (
        frame.join(values, on="account_pk", how="left")
        .group_by(by)
        .agg(
            pl.len().alias(suffix),
            pl.col("potential").fill_null(0.0).sum().alias(f"potential_{suffix}"),
            pl.col("pipeline").fill_null(0.0).sum().alias(f"pipeline_{suffix}"),
        )
    )


def _account_values(
    accounts: pl.DataFrame, open_: pl.DataFrame, account_pk: pl.Series
) -> pl.DataFrame:
    """``account_pk``, ``potential``, ``pipeline`` (open amounts) of the given accounts."""
    wanted = account_pk.unique().sort().to_frame("account_pk")
    pipeline = (
        open_.join(wanted, on="account_pk", how="semi")
        .group_by("account_pk")
        .agg(pipeline=pl.col("amount").fill_null(0.0).sum())
    )
    return (
        accounts.select("account_pk", "potential")
        .filter(pl.col("account_pk").is_in(wanted["account_pk"].implode()))
        .join(pipeline, on="account_pk", how="left")
        .with_columns(pl.col("potential").fill_null(0.0), pl.col("pipeline").fill_null(0.0))
    )


def _held(users: pl.DataFrame, up: pl.DataFrame) -> pl.DataFrame:
    """``user_pk``, ``tkey``: the territories in the subtrees of those each user holds."""
    return expand_held(users.select("user_pk", "tkey").drop_nulls().unique(), up)


def _user_counts(pairs: pl.DataFrame, held: pl.DataFrame, alias: str) -> pl.DataFrame:
    """``user_pk`` and, as ``alias``, the number of distinct accounts in the user's territories."""
    totals = distinct_totals(
        pairs.select("account_pk", key="tkey", value=pl.lit(0.0)),
        held.select(group="user_pk", key="tkey"),
    )
    return totals.select(user_pk="group", **{alias: "n"})


def _reached(
    pairs: pl.DataFrame, held: pl.DataFrame, changed: pl.DataFrame, moved_users: pl.DataFrame
) -> pl.DataFrame:
    """(``user_pk``, ``account_pk``) of one side that a gain or loss can come from: the
    changed accounts in the users' territories, and every account in a territory held by a
    user who took or gave up a territory (``moved_users``)."""
    moved = held.join(moved_users, on="user_pk", how="semi")
    return (
        pl.concat(
            [
                pairs.join(changed, on="account_pk", how="semi").join(held, on="tkey"),
                pairs.join(moved.select("tkey").unique(), on="tkey", how="semi").join(
                    moved, on="tkey"
                ),
            ]
        )
        .select("user_pk", "account_pk")
        .unique()
    )


def _user_impact(
    changes: PairChanges,
    area: AreaChanges,
    users: tuple[pl.DataFrame, pl.DataFrame],
    accounts: pl.DataFrame,
    open_: pl.DataFrame,
) -> pl.DataFrame:
    """Per user: distinct accounts of their subtrees before and after, gained and lost.

    Counts use :func:`~territorial.core.reports.distinct_totals` (no per-account join with
    the users). An account a user gains or loses either changed territories or sits in a
    territory the user took or gave up (a subtree's territories change when one moves in
    the hierarchy), so only those (user, account) pairs are built.
    """
    users_b, users_a = users
    held_b, held_a = _held(users_b, area.closure_b), _held(users_a, area.closure_a)
    moved_users = pl.concat(
        [
            held_b.join(held_a, on=["user_pk", "tkey"], how="anti"),
            held_a.join(held_b, on=["user_pk", "tkey"], how="anti"),
        ]
    ).select("user_pk")
    pairs_b, pairs_a = changes.pairs_b, changes.pairs_a
    before = _reached(pairs_b, held_b, changes.changed, moved_users)
    after = _reached(pairs_a, held_a, changes.changed, moved_users)
    gained = after.join(before, on=["user_pk", "account_pk"], how="anti")
    lost = before.join(after, on=["user_pk", "account_pk"], how="anti")
    values = _account_values(accounts, open_, pl.concat([gained["account_pk"], lost["account_pk"]]))
    everyone = pl.concat([users_b.select("user_pk"), users_a.select("user_pk")]).unique()
    frame = everyone
    for part in (
        _user_counts(pairs_b, held_b, "accounts_before"),
        _user_counts(pairs_a, held_a, "accounts_after"),
        _figures(gained, values, "user_pk", "gained"),
        _figures(lost, values, "user_pk", "lost"),
    ):
        frame = frame.join(part, on="user_pk", how="left")
    return _filled(frame).sort("user_pk")


def _filled(frame: pl.DataFrame) -> pl.DataFrame:
    counts = [c for c in ("accounts_before", "accounts_after", "gained", "lost") if c in frame]
    sums = [c for c in frame.columns if c.startswith(("potential_", "pipeline_"))]
    return frame.with_columns(
        pl.col(counts).fill_null(0).cast(pl.Int64), pl.col(sums).fill_null(0.0)
    )


_ACCOUNT_COLUMNS = (
    "account",
    "name",
    "change",
    "from",
    "to",
    "from_detail",
    "to_detail",
    "potential",
    "pipeline",
    "account_pk",
)
_OPPORTUNITY_COLUMNS = (
    "opportunity",
    "name",
    "account",
    "amount",
    "stage",
    "close_date",
    "from",
    "to",
    "opportunity_pk",
)


def _account_rows(
    before: Side, after: Side, changes: PairChanges, accounts: pl.DataFrame, values: pl.DataFrame
) -> pl.DataFrame:
    """``Comparison.accounts``: the changed accounts' territories on each side (with their
    causes), potential and pipeline."""
    changed = changes.changed["account_pk"].implode()

    def links_of(side: Side, mapping: dict[int, int]) -> pl.DataFrame:
        frame = side.links.filter(pl.col("account_pk").is_in(changed))
        return with_names(frame.with_columns(tkey_column(mapping)).drop_nulls("tkey"), changes.keys)

    frame = changes.changed
    for part in (
        accounts.select("account_pk", "account", "name").filter(
            pl.col("account_pk").is_in(changed)
        ),
        _text(changes.moved_b, "from"),
        _text(changes.moved_a, "to"),
        _detail(links_of(before, changes.map_b), "from_detail"),
        _detail(links_of(after, changes.map_a), "to_detail"),
        values,
    ):
        frame = frame.join(part, on="account_pk", how="left")
    change = (
        pl.when(pl.col("from").is_null())
        .then(pl.lit("assigned"))
        .when(pl.col("to").is_null())
        .then(pl.lit("unassigned"))
        .otherwise(pl.lit("moved"))
    )
    return frame.with_columns(change=change).sort("account").select(_ACCOUNT_COLUMNS)


def _regrouped_accounts(
    before: Side, after: Side, area: AreaChanges, accounts: pl.DataFrame, open_: pl.DataFrame
) -> pl.DataFrame:
    """``Comparison.area_accounts``: the regrouped accounts with their values."""
    wanted = area.accounts["account_pk"]
    frame = regrouped_rows(before, after, area)
    for part in (
        accounts.select("account_pk", "account", "name").filter(
            pl.col("account_pk").is_in(wanted.implode())
        ),
        _account_values(accounts, open_, wanted),
    ):
        frame = frame.join(part, on="account_pk", how="left")
    return frame.with_columns(change=pl.lit("regrouped")).sort("account").select(_ACCOUNT_COLUMNS)


def _territory_rows(changes: PairChanges, area: AreaChanges, values: pl.DataFrame) -> pl.DataFrame:
    """``Comparison.territories``: accounts per territory (own and subtree) on each side,
    gains and losses."""
    frame = changes.keys.with_columns(
        in_before=pl.col("tkey").is_in(list(changes.map_b.values())),
        in_after=pl.col("tkey").is_in(list(changes.map_a.values())),
    )
    for part in (
        changes.pairs_b.group_by("tkey").agg(accounts_before=pl.len()),
        changes.pairs_a.group_by("tkey").agg(accounts_after=pl.len()),
        _figures(changes.added, values, "tkey", "gained"),
        _figures(changes.removed, values, "tkey", "lost"),
        area_figures(changes, area),
    ):
        frame = frame.join(part, on="tkey", how="left")
    return _filled(frame).sort("territory").drop("tkey")


def _user_territories(
    keys: pl.DataFrame, users_b: pl.DataFrame, users_a: pl.DataFrame
) -> pl.DataFrame:
    """``Comparison.user_territories``: who holds which territory, on each side."""
    return pl.concat(
        [
            with_names(users_b, keys).select("user_pk", "territory", "role", side=pl.lit("before")),
            with_names(users_a, keys).select("user_pk", "territory", "role", side=pl.lit("after")),
        ]
    )


def _moving_opportunities(
    before: Side, after: Side, changes: PairChanges, open_: pl.DataFrame
) -> pl.DataFrame:
    """The open opportunities whose territory changes: their details from ``open_``, with
    the territory keys ``tkey`` (before) and ``tkey_after``."""
    # Territories of the open opportunities on both sides, on narrow frames; the details
    # are joined to the few that change.
    opp_b = before.opportunities.select("opportunity_pk", tkey_column(changes.map_b))
    opp_a = after.opportunities.select(
        "opportunity_pk", tkey_column(changes.map_a).alias("tkey_after")
    )
    if (
        opp_b["opportunity_pk"].equals(opp_a["opportunity_pk"])
        and opp_b["opportunity_pk"].is_unique().all()
    ):
        # Both sides list the same opportunities in the same order (as loaded): compare
        # the columns side by side, no join.
        moving = opp_b.with_columns(tkey_after=opp_a["tkey_after"]).filter(
            pl.col("tkey").ne_missing(pl.col("tkey_after"))
        )
        moving = moving.join(open_.select("opportunity_pk"), on="opportunity_pk", how="semi")
    else:
        moving = (
            open_.select("opportunity_pk")
            .join(opp_b, on="opportunity_pk", how="left")
            .join(opp_a, on="opportunity_pk", how="left")
            .filter(pl.col("tkey").ne_missing(pl.col("tkey_after")))
        )
    return moving.join(open_, on="opportunity_pk")


def _opportunity_rows(
    moving: pl.DataFrame, keys: pl.DataFrame, accounts: pl.DataFrame
) -> pl.DataFrame:
    """``Comparison.opportunities``: the moving opportunities with territory names and
    account ids."""
    moving_accounts = moving["account_pk"].drop_nulls().unique()
    return (
        moving.join(keys.rename({"territory": "from"}), on="tkey", how="left")
        .join(keys.rename({"territory": "to", "tkey": "tkey_after"}), on="tkey_after", how="left")
        .join(
            accounts.select("account_pk", account="account").filter(
                pl.col("account_pk").is_in(moving_accounts.implode())
            ),
            on="account_pk",
            how="left",
        )
        .sort("opportunity")
        .select(_OPPORTUNITY_COLUMNS)
    )


def _summary(
    changes: PairChanges,
    area: AreaChanges,
    values: pl.DataFrame,
    accounts: pl.DataFrame,
    account_rows: pl.DataFrame,
    user_rows: pl.DataFrame,
    opp_rows: pl.DataFrame,
) -> dict[str, float | int]:
    """``Comparison.summary``: counts and amounts of what changes."""
    return {
        "accounts": accounts.height,
        "accounts_changed": account_rows.height,
        "accounts_moved": account_rows.filter(pl.col("change") == "moved").height,
        "accounts_newly_assigned": account_rows.filter(pl.col("change") == "assigned").height,
        "accounts_unassigned": account_rows.filter(pl.col("change") == "unassigned").height,
        "territories_regrouped": area.regrouped.height,
        "accounts_regrouped": area.accounts.height,
        "assignments_added": changes.added.height,
        "assignments_removed": changes.removed.height,
        "potential_changed": float(values["potential"].sum()),
        "open_opportunities_changed": opp_rows.height,
        "pipeline_changed": float(opp_rows["amount"].fill_null(0.0).sum()),
        "users_affected": user_rows.filter((pl.col("gained") + pl.col("lost")) > 0).height,
    }


def compare_sides(
    before: Side,
    after: Side,
    accounts: pl.DataFrame,
    opportunities: pl.DataFrame,
) -> Comparison:
    """Every account, territory, user and open opportunity that a change of model affects.

    Parameters
    ----------
    before, after
        The two models' frames (see :class:`Side`). Territories match across models by
        developer name.
    accounts
        ``account_pk``, ``account`` (id), ``name``, ``potential``.
    opportunities
        ``opportunity_pk``, ``opportunity`` (id), ``name``, ``account_pk``, ``amount``,
        ``stage``, ``close_date``, ``is_closed``.

    Returns
    -------
    Comparison
        Gains and losses count accounts that enter or leave a territory's own accounts
        (and, in the ``area_`` columns, its subtree's) or a user's (the subtrees of the
        territories they hold), with their potential and open pipeline (open opportunity
        amounts of the account). A territory that moves to another branch keeps its
        accounts, which change area: they are ``regrouped``.

    Notes
    -----
    The (account, territory) pairs of each side are packed into sorted integers and
    compared as such; everything else (names, causes, users, opportunities) is worked out
    for the changed accounts only, which are few next to the accounts of a model.

    Examples
    --------
    >>> t = pl.DataFrame({"territory_pk": [1, 2], "parent_pk": [None, None],
    ...     "territory": ["West", "East"], "name": ["West", "East"]})
    >>> def side(pairs):
    ...     links = pl.DataFrame(pairs, schema=["account_pk", "territory_pk"], orient="row")
    ...     links = links.with_columns(cause=pl.lit("rule"), rule=pl.lit("R"))
    ...     users = pl.DataFrame(schema={"territory_pk": pl.Int64, "user_pk": pl.Int64,
    ...         "role": pl.String})
    ...     opps = pl.DataFrame(schema={"opportunity_pk": pl.Int64, "territory_pk": pl.Int64})
    ...     return Side(t, links, users, opps)
    >>> accounts = pl.DataFrame({"account_pk": [1, 2], "account": ["001A", "001B"],
    ...     "name": ["Acme", "Globex"], "potential": [10.0, 20.0]})
    >>> opps = pl.DataFrame(schema={"opportunity_pk": pl.Int64, "opportunity": pl.String,
    ...     "name": pl.String, "account_pk": pl.Int64, "amount": pl.Float64,
    ...     "stage": pl.String, "close_date": pl.Date, "is_closed": pl.Boolean})
    >>> c = compare_sides(side([(1, 1), (2, 1)]), side([(1, 1), (2, 2)]), accounts, opps)
    >>> c.accounts.select("account", "change", "from", "to").rows()
    [('001B', 'moved', 'West', 'East')]
    >>> c.territories.select("territory", "gained", "lost", "potential_lost").rows()
    [('East', 1, 0, 0.0), ('West', 0, 1, 20.0)]
    """
    changes = pair_changes(before, after)
    area = area_changes(before, after, changes)
    open_ = opportunities.filter(~pl.col("is_closed").fill_null(False))
    values = _account_values(accounts, open_, changes.changed["account_pk"])
    account_rows = _account_rows(before, after, changes, accounts, values)
    users_b = before.users.with_columns(tkey_column(changes.map_b))
    users_a = after.users.with_columns(tkey_column(changes.map_a))
    user_rows = _user_impact(changes, area, (users_b, users_a), accounts, open_)
    moving = _moving_opportunities(before, after, changes, open_)
    opp_rows = _opportunity_rows(moving, changes.keys, accounts)

    def pairs(moved: pl.DataFrame, carried: pl.DataFrame) -> pl.DataFrame:
        return pl.concat([frame.select("account_pk", "territory") for frame in (moved, carried)])

    return Comparison(
        accounts=account_rows,
        territories=_territory_rows(changes, area, values),
        users=user_rows,
        opportunities=opp_rows,
        summary=_summary(changes, area, values, accounts, account_rows, user_rows, opp_rows),
        pairs_before=pairs(changes.moved_b, area.pairs_b),
        pairs_after=pairs(changes.moved_a, area.pairs_a),
        user_territories=_user_territories(changes.keys, users_b, users_a),
        area_accounts=_regrouped_accounts(before, after, area, accounts, open_),
        area_opportunities=_opportunity_rows(
            regrouped_opportunities(before, after, changes, area).join(open_, on="opportunity_pk"),
            changes.keys,
            accounts,
        ),
    )


__all__ = ["Comparison", "Side", "assignment_delta", "compare_sides"]
