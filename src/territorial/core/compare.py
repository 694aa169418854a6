"""Differences between two sets of assignments (two models, or a model before and after).

Models have their own territory keys, so assignments are compared by what users see: the
record's external id and the territory's developer name.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import polars as pl

from territorial.core.reports import distinct_totals, packed_pairs


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


MANAGER_ROLES = r"manager|vp|director|head"
"""Roles matching this pattern (case-insensitive) make their holder a manager of the
territory's subtree for change-impact packets."""


@dataclass(frozen=True)
class Side:
    """One model's side of a comparison, as frames.

    ``territories``: ``territory_pk``, ``parent_pk``, ``territory`` (developer name),
    ``name``. ``links``: ``account_pk``, ``territory_pk``, ``cause``, ``rule`` (developer
    name or null). ``users``: ``territory_pk``, ``user_pk``, ``role``. ``opportunities``:
    ``opportunity_pk``, ``territory_pk`` (null: none).
    """

    territories: pl.DataFrame
    links: pl.DataFrame
    users: pl.DataFrame
    opportunities: pl.DataFrame


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
    ``potential_lost``, ``pipeline_gained``, ``pipeline_lost``."""
    users: pl.DataFrame
    """Per user holding a territory in either model: ``user_pk``, ``accounts_before``,
    ``accounts_after``, ``gained``, ``lost`` and potential and pipeline gained and lost."""
    opportunities: pl.DataFrame
    """Open opportunities whose territory changes: ``opportunity_pk``, ``from``, ``to``."""
    summary: dict[str, float | int]
    pairs_before: pl.DataFrame = field(repr=False)
    """``account_pk``, ``territory`` of the changed accounts before (for scoping)."""
    pairs_after: pl.DataFrame = field(repr=False)
    user_territories: pl.DataFrame = field(repr=False)
    """``user_pk``, ``territory``, ``role``, ``side`` (before | after)."""


def _keys(before: Side, after: Side) -> tuple[pl.DataFrame, dict[int, int], dict[int, int]]:
    names = (
        pl.concat([before.territories["territory"], after.territories["territory"]]).unique().sort()
    )
    table = pl.DataFrame({"territory": names, "tkey": pl.int_range(names.len(), eager=True)})
    index = dict(zip(table["territory"].to_list(), table["tkey"].to_list(), strict=True))

    def mapping(side: Side) -> dict[int, int]:
        rows = side.territories.select("territory_pk", "territory").rows()
        return {pk: index[name] for pk, name in rows}

    return table.with_columns(pl.col("tkey").cast(pl.Int64)), mapping(before), mapping(after)


def _tkey(mapping: dict[int, int]) -> pl.Expr:
    return (
        pl.col("territory_pk")
        .replace_strict(mapping, default=None, return_dtype=pl.Int64)
        .alias("tkey")
    )


@dataclass(frozen=True)
class _Pairs:
    """Distinct (account, territory key) pairs of one side, sorted by both."""

    frame: pl.DataFrame
    """``account_pk``, ``tkey``."""
    packed: npt.NDArray[np.int64] | None
    """The same pairs as sorted integers ``account_pk * 2**bits + tkey``, or None."""


def _pairs(side: Side, mapping: dict[int, int], size: int) -> _Pairs:
    """Links to territories outside the model are left out."""
    keyed = side.links.select("account_pk", key=_tkey(mapping)).drop_nulls()
    packed = packed_pairs(keyed, size)
    if packed is None:
        frame = keyed.unique().sort("account_pk", "key").rename({"key": "tkey"})
        return _Pairs(frame, None)
    keys, bits = packed
    frame = pl.DataFrame({"account_pk": keys // (1 << bits), "tkey": keys % (1 << bits)})
    return _Pairs(frame, keys.to_numpy())


def _differences(before: _Pairs, after: _Pairs) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Pairs added (in ``after`` only) and removed (in ``before`` only)."""
    b, a = before.packed, after.packed
    if b is None or a is None:
        on = ["account_pk", "tkey"]
        return (
            after.frame.join(before.frame, on=on, how="anti", maintain_order="left"),
            before.frame.join(after.frame, on=on, how="anti", maintain_order="left"),
        )
    if len(b) == 0 or len(a) == 0:
        return after.frame, before.frame
    # One binary search of the after pairs among the before pairs answers both ways.
    at = np.searchsorted(b, a).clip(0, len(b) - 1)
    found = b[at] == a
    kept = np.zeros(len(b), dtype=np.bool_)
    kept[at[found]] = True
    return after.frame.filter(pl.Series(~found)), before.frame.filter(pl.Series(~kept))


def _names(frame: pl.DataFrame, keys: pl.DataFrame, column: str = "tkey") -> pl.DataFrame:
    return frame.join(keys, left_on=column, right_on="tkey", how="left")


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


def _held(users: pl.DataFrame) -> pl.DataFrame:
    return users.select("user_pk", "tkey").drop_nulls().unique()


def _user_impact(
    pairs_b: pl.DataFrame,
    pairs_a: pl.DataFrame,
    users_b: pl.DataFrame,
    users_a: pl.DataFrame,
    changed: pl.DataFrame,
    accounts: pl.DataFrame,
    open_: pl.DataFrame,
) -> pl.DataFrame:
    """Per user: distinct accounts before and after, and those gained and lost.

    Counts use :func:`~territorial.core.reports.distinct_totals` (no per-account join with
    the users). An account a user gains or loses either changed territories or sits in a
    territory the user took or gave up, so only those (user, account) pairs are built.
    """
    held_b, held_a = _held(users_b), _held(users_a)
    moved_users = pl.concat(
        [
            held_b.join(held_a, on=["user_pk", "tkey"], how="anti"),
            held_a.join(held_b, on=["user_pk", "tkey"], how="anti"),
        ]
    ).select("user_pk")

    def counts(pairs: pl.DataFrame, held: pl.DataFrame, alias: str) -> pl.DataFrame:
        totals = distinct_totals(
            pairs.select("account_pk", key="tkey", value=pl.lit(0.0)),
            held.select(group="user_pk", key="tkey"),
        )
        return totals.select(user_pk="group", **{alias: "n"})

    def reached(pairs: pl.DataFrame, held: pl.DataFrame) -> pl.DataFrame:
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

    before, after = reached(pairs_b, held_b), reached(pairs_a, held_a)
    gained = after.join(before, on=["user_pk", "account_pk"], how="anti")
    lost = before.join(after, on=["user_pk", "account_pk"], how="anti")
    values = _account_values(accounts, open_, pl.concat([gained["account_pk"], lost["account_pk"]]))
    everyone = pl.concat([users_b.select("user_pk"), users_a.select("user_pk")]).unique()
    frame = everyone
    for part in (
        counts(pairs_b, held_b, "accounts_before"),
        counts(pairs_a, held_a, "accounts_after"),
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
        Gains and losses count accounts that enter or leave a territory's (or a user's)
        own accounts, with their potential and open pipeline (open opportunity amounts
        of the account).

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
    keys, map_b, map_a = _keys(before, after)
    size = max(keys.height, 1)
    packed_b, packed_a = _pairs(before, map_b, size), _pairs(after, map_a, size)
    added, removed = _differences(packed_b, packed_a)
    pairs_b, pairs_a = packed_b.frame, packed_a.frame
    changed = pl.concat([added["account_pk"], removed["account_pk"]]).unique().sort().to_frame()
    changed_list = changed["account_pk"].implode()

    open_ = opportunities.filter(~pl.col("is_closed").fill_null(False))
    values = _account_values(accounts, open_, changed["account_pk"])
    moved_b = _names(pairs_b.filter(pl.col("account_pk").is_in(changed_list)), keys)
    moved_a = _names(pairs_a.filter(pl.col("account_pk").is_in(changed_list)), keys)

    def links_of(side: Side, mapping: dict[int, int]) -> pl.DataFrame:
        frame = side.links.filter(pl.col("account_pk").is_in(changed_list))
        return _names(frame.with_columns(_tkey(mapping)).drop_nulls("tkey"), keys)

    account_rows = (
        changed.join(
            accounts.select("account_pk", "account", "name").filter(
                pl.col("account_pk").is_in(changed_list)
            ),
            on="account_pk",
            how="left",
        )
        .join(_text(moved_b, "from"), on="account_pk", how="left")
        .join(_text(moved_a, "to"), on="account_pk", how="left")
        .join(_detail(links_of(before, map_b), "from_detail"), on="account_pk", how="left")
        .join(_detail(links_of(after, map_a), "to_detail"), on="account_pk", how="left")
        .join(values, on="account_pk", how="left")
        .with_columns(
            change=pl.when(pl.col("from").is_null())
            .then(pl.lit("assigned"))
            .when(pl.col("to").is_null())
            .then(pl.lit("unassigned"))
            .otherwise(pl.lit("moved"))
        )
        .sort("account")
        .select(
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
    )

    territory_rows = keys.with_columns(
        in_before=pl.col("tkey").is_in(list(map_b.values())),
        in_after=pl.col("tkey").is_in(list(map_a.values())),
    )
    for part in (
        pairs_b.group_by("tkey").agg(accounts_before=pl.len()),
        pairs_a.group_by("tkey").agg(accounts_after=pl.len()),
        _figures(added, values, "tkey", "gained"),
        _figures(removed, values, "tkey", "lost"),
    ):
        territory_rows = territory_rows.join(part, on="tkey", how="left")
    territory_rows = _filled(territory_rows).sort("territory").drop("tkey")

    users_b = before.users.with_columns(_tkey(map_b))
    users_a = after.users.with_columns(_tkey(map_a))
    user_rows = _user_impact(pairs_b, pairs_a, users_b, users_a, changed, accounts, open_)
    user_territories = pl.concat(
        [
            _names(users_b, keys).select("user_pk", "territory", "role", side=pl.lit("before")),
            _names(users_a, keys).select("user_pk", "territory", "role", side=pl.lit("after")),
        ]
    )

    # Territories of the open opportunities on both sides, on narrow frames; the details
    # are joined to the few that change.
    opp_b = before.opportunities.select("opportunity_pk", _tkey(map_b))
    opp_a = after.opportunities.select("opportunity_pk", _tkey(map_a).alias("tkey_after"))
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
    moving = moving.join(open_, on="opportunity_pk")
    moving_accounts = moving["account_pk"].drop_nulls().unique()
    opp_rows = (
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
        .select(
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
    )
    summary: dict[str, float | int] = {
        "accounts": accounts.height,
        "accounts_changed": account_rows.height,
        "accounts_moved": account_rows.filter(pl.col("change") == "moved").height,
        "accounts_newly_assigned": account_rows.filter(pl.col("change") == "assigned").height,
        "accounts_unassigned": account_rows.filter(pl.col("change") == "unassigned").height,
        "assignments_added": added.height,
        "assignments_removed": removed.height,
        "potential_changed": float(values["potential"].sum()),
        "open_opportunities_changed": opp_rows.height,
        "pipeline_changed": float(opp_rows["amount"].fill_null(0.0).sum()),
        "users_affected": user_rows.filter((pl.col("gained") + pl.col("lost")) > 0).height,
    }
    return Comparison(
        accounts=account_rows,
        territories=territory_rows,
        users=user_rows,
        opportunities=opp_rows,
        summary=summary,
        pairs_before=moved_b.select("account_pk", "territory"),
        pairs_after=moved_a.select("account_pk", "territory"),
        user_territories=user_territories,
    )


def is_manager_role(role: str, pattern: str = MANAGER_ROLES) -> bool:
    """Whether a role in territory makes its holder a manager (case-insensitive search).

    >>> is_manager_role("Regional VP"), is_manager_role("Account Executive")
    (True, False)
    """
    return re.search(pattern, role, flags=re.IGNORECASE) is not None


def subtree_names(territories: pl.DataFrame, roots: Collection[str]) -> set[str]:
    """Developer names of the territories under (and including) ``roots``.

    >>> t = pl.DataFrame({"territory_pk": [1, 2, 3], "parent_pk": [None, 1, None],
    ...     "territory": ["NA", "West", "EMEA"]})
    >>> sorted(subtree_names(t, {"NA"}))
    ['NA', 'West']
    """
    rows = territories.select("territory_pk", "parent_pk", "territory").rows()
    children: dict[int | None, list[int]] = {}
    name = {}
    for pk, parent, dev in rows:
        children.setdefault(parent, []).append(pk)
        name[pk] = dev
    stack = [pk for pk, _, dev in rows if dev in roots]
    seen: set[int] = set()
    while stack:
        pk = stack.pop()
        if pk not in seen:
            seen.add(pk)
            stack.extend(children.get(pk, []))
    return {name[pk] for pk in seen}


@dataclass(frozen=True)
class ScopedImpact:
    """A comparison seen from a set of territories (a manager's subtrees)."""

    accounts: pl.DataFrame
    """Changed accounts touching the scope, with ``direction``: in | out | within."""
    users: pl.DataFrame
    """Users holding a territory of the scope in either model (``user_pk`` and figures)."""
    opportunities: pl.DataFrame
    """Changed open opportunities from or to the scope, with ``direction``."""
    summary: dict[str, float | int]


def scoped(comparison: Comparison, scope: Collection[str]) -> ScopedImpact:
    """Restrict a comparison to the territories named in ``scope``.

    An account comes *in* when it is in the scope after but not before, goes *out* in the
    opposite case, and moves *within* when it is in the scope on both sides.

    Examples
    --------
    >>> c = Comparison(
    ...     accounts=pl.DataFrame({"account_pk": [1, 2], "pipeline": [5.0, 0.0]}),
    ...     territories=pl.DataFrame(), users=pl.DataFrame({"user_pk": [9]}),
    ...     opportunities=pl.DataFrame({"from": ["West"], "to": ["East"], "amount": [5.0]}),
    ...     summary={},
    ...     pairs_before=pl.DataFrame({"account_pk": [1, 2], "territory": ["West", "West"]}),
    ...     pairs_after=pl.DataFrame({"account_pk": [1, 2], "territory": ["East", "West2"]}),
    ...     user_territories=pl.DataFrame({"user_pk": [9], "territory": ["West"]}))
    >>> s = scoped(c, {"West", "West2"})
    >>> s.accounts.select("account_pk", "direction").rows()
    [(1, 'out'), (2, 'within')]
    >>> s.summary["pipeline_out"], s.summary["opportunities_out"]
    (5.0, 1)
    """
    names = list(scope)
    inside_b = comparison.pairs_before.filter(pl.col("territory").is_in(names))
    inside_a = comparison.pairs_after.filter(pl.col("territory").is_in(names))
    was = inside_b["account_pk"].unique().to_frame().with_columns(was=pl.lit(True))
    now = inside_a["account_pk"].unique().to_frame().with_columns(now=pl.lit(True))
    direction = (
        was.join(now, on="account_pk", how="full", coalesce=True)
        .with_columns(pl.col("was", "now").fill_null(False))
        .select(
            "account_pk",
            direction=pl.when(pl.col("was") & pl.col("now"))
            .then(pl.lit("within"))
            .when(pl.col("now"))
            .then(pl.lit("in"))
            .otherwise(pl.lit("out")),
        )
    )
    accounts = comparison.accounts.join(direction, on="account_pk").sort("direction", "account_pk")
    held = comparison.user_territories.filter(pl.col("territory").is_in(names))
    users = comparison.users.join(held.select("user_pk").unique(), on="user_pk", how="semi")
    opps = comparison.opportunities
    came_from, goes_to = pl.col("from").is_in(names), pl.col("to").is_in(names)
    opps = opps.filter(came_from.fill_null(False) | goes_to.fill_null(False)).with_columns(
        direction=pl.when(came_from.fill_null(False) & goes_to.fill_null(False))
        .then(pl.lit("within"))
        .when(goes_to.fill_null(False))
        .then(pl.lit("in"))
        .otherwise(pl.lit("out"))
    )

    def count(frame: pl.DataFrame, way: str) -> int:
        return frame.filter(pl.col("direction") == way).height

    def amount(frame: pl.DataFrame, column: str, way: str) -> float:
        return float(frame.filter(pl.col("direction") == way)[column].fill_null(0.0).sum())

    summary: dict[str, float | int] = {
        "accounts_in": count(accounts, "in"),
        "accounts_out": count(accounts, "out"),
        "accounts_within": count(accounts, "within"),
        "opportunities_in": count(opps, "in"),
        "opportunities_out": count(opps, "out"),
        "pipeline_in": amount(opps, "amount", "in"),
        "pipeline_out": amount(opps, "amount", "out"),
    }
    return ScopedImpact(accounts, users, opps, summary)


__all__ = [
    "MANAGER_ROLES",
    "Comparison",
    "ScopedImpact",
    "Side",
    "assignment_delta",
    "compare_sides",
    "is_manager_role",
    "scoped",
    "subtree_names",
]
