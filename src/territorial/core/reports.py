"""Territory reports computed on frames: roll-ups through the hierarchy, pipeline, revenue.

Pure functions, frames in and frames out; the services load the frames. The shapes:

``territories``
    ``territory_pk``, ``parent_pk`` (null for a root), ``territory`` (developer name),
    ``name`` (label).
``links``
    Account assignments: ``account_pk``, ``territory_pk`` (a pair may repeat with
    different causes).
``accounts``
    ``account_pk`` and ``potential`` (the measure summed as potential; null counts 0).
``opportunities``
    ``opportunity_pk``, ``account_pk``, ``territory_pk`` (the opportunity's territory in
    the model, null when it has none), ``amount``, ``probability`` (percent),
    ``close_date``, ``is_closed``, ``is_won``.
``users``
    User assignments: ``territory_pk``, ``user_pk``, ``user`` (display name), ``role``.

Roll-ups count *distinct* accounts in a territory's subtree: an account assigned to a
territory and to its child counts once for the parent. Each opportunity has one territory
per model, so opportunity figures roll up by plain sums.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import polars as pl

MONEY = ("pipeline", "weighted", "won_12m")
"""Opportunity figures of the summary, each with an ``_subtree`` twin."""


def closure(territories: pl.DataFrame) -> pl.DataFrame:
    """Every (territory, ancestor-or-self) pair: ``territory_pk``, ``ancestor_pk``.

    Examples
    --------
    >>> t = pl.DataFrame({"territory_pk": [1, 2, 3], "parent_pk": [None, 1, 2]})
    >>> sorted(closure(t).rows())
    [(1, 1), (2, 1), (2, 2), (3, 1), (3, 2), (3, 3)]
    """
    parents = dict(
        zip(territories["territory_pk"].to_list(), territories["parent_pk"].to_list(), strict=True)
    )
    pairs: list[tuple[int, int]] = []
    for pk in parents:
        node: int | None = pk
        seen: set[int] = set()
        while node is not None and node not in seen:
            seen.add(node)
            pairs.append((pk, node))
            node = parents.get(node)
    return pl.DataFrame(
        pairs, schema={"territory_pk": pl.Int64, "ancestor_pk": pl.Int64}, orient="row"
    )


def tree_order(territories: pl.DataFrame) -> pl.DataFrame:
    """``territory_pk``, ``depth`` and ``order`` (depth-first, siblings by developer name).

    Examples
    --------
    >>> t = pl.DataFrame({"territory_pk": [1, 2, 3], "parent_pk": [None, 1, 1],
    ...     "territory": ["NA", "West", "East"]})
    >>> tree_order(t).sort("order").rows()
    [(1, 0, 0), (3, 1, 1), (2, 1, 2)]
    """
    rows = territories.select("territory_pk", "parent_pk", "territory").rows()
    known = {pk for pk, _, _ in rows}
    children: dict[int | None, list[tuple[str, int]]] = {}
    for pk, parent, name in rows:
        children.setdefault(parent if parent in known else None, []).append((name, pk))
    out: list[tuple[int, int, int]] = []
    stack = [(pk, 0) for _, pk in sorted(children.get(None, []), reverse=True)]
    while stack:
        pk, depth = stack.pop()
        out.append((pk, depth, len(out)))
        stack.extend((c, depth + 1) for _, c in sorted(children.get(pk, []), reverse=True))
    return pl.DataFrame(
        out, schema={"territory_pk": pl.Int64, "depth": pl.Int64, "order": pl.Int64}, orient="row"
    )


def _year_before(day: date) -> date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)


def opportunity_figures(opportunities: pl.DataFrame, *, as_of: date) -> pl.DataFrame:
    """Per opportunity: ``pipeline`` (amount if open), ``weighted`` (amount × probability /
    100 if open) and ``won_12m`` (amount if won with a close date in the 12 months up to and
    including ``as_of``); other columns kept.

    Examples
    --------
    >>> o = pl.DataFrame({"amount": [100.0, 50.0], "probability": [20.0, 100.0],
    ...     "close_date": [date(2026, 9, 1), date(2026, 3, 1)], "is_closed": [False, True],
    ...     "is_won": [False, True]})
    >>> opportunity_figures(o, as_of=date(2026, 6, 30)).select(MONEY).rows()
    [(100.0, 20.0, 0.0), (0.0, 0.0, 50.0)]
    """
    amount = pl.col("amount").fill_null(0.0)
    is_open = ~pl.col("is_closed").fill_null(False)
    won = (
        pl.col("is_won").fill_null(False)
        & (pl.col("close_date") > _year_before(as_of))
        & (pl.col("close_date") <= as_of)
    ).fill_null(False)
    return opportunities.with_columns(
        pipeline=pl.when(is_open).then(amount).otherwise(0.0),
        weighted=pl.when(is_open)
        .then(amount * pl.col("probability").fill_null(0.0) / 100.0)
        .otherwise(0.0),
        won_12m=pl.when(won).then(amount).otherwise(0.0),
    )


def account_pairs(account_pk: pl.Series, key: pl.Series, size: int) -> pl.DataFrame:
    """Distinct ``(account_pk, key)`` pairs, sorted by account then key; nulls dropped.

    ``key`` is a small integer in ``[0, size)`` (a territory or user index). The pairs are
    packed into one integer, sorted and de-duplicated against the previous row: no hash
    table over the wide frame.

    Examples
    --------
    >>> account_pairs(pl.Series([9, 7, 9, 7, 7]), pl.Series([1, 1, 1, 0, None]), 2).rows()
    [(7, 0), (7, 1), (9, 1)]
    """
    frame = pl.DataFrame(
        [account_pk.cast(pl.Int64).alias("account_pk"), key.cast(pl.Int64).alias("key")]
    ).drop_nulls()
    packed = packed_pairs(frame, size)
    if packed is None:
        return frame.unique().sort("account_pk", "key")
    keys, bits = packed
    return pl.DataFrame({"account_pk": keys // (1 << bits), "key": keys % (1 << bits)})


def packed_pairs(frame: pl.DataFrame, size: int) -> tuple[pl.Series, int] | None:
    """Distinct ``account_pk * 2**bits + key`` of a frame without nulls, sorted, and
    ``bits``; None when the accounts do not fit beside the key in 63 bits."""
    bits = max(size - 1, 1).bit_length()
    low, high = frame["account_pk"].min(), frame["account_pk"].max()
    if frame.height == 0 or not (
        isinstance(low, int) and isinstance(high, int) and low >= 0 and high < 1 << (62 - bits)
    ):
        return None
    packed = (frame["account_pk"] * (1 << bits) + frame["key"]).sort()
    return packed.filter(packed.ne_missing(packed.shift(1))), bits


def account_values(accounts: pl.DataFrame, column: str, account_pk: pl.Series) -> pl.Series:
    """``accounts[column]`` for each of ``account_pk`` as floats: 0.0 where the account is
    missing or the value null.

    A lookup array indexed by ``account_pk`` when the keys are dense (database keys are),
    else a binary search over the sorted keys: several times faster than a hash join of a
    million rows.

    Examples
    --------
    >>> a = pl.DataFrame({"account_pk": [1, 2, 3], "potential": [10.0, None, 5.0]})
    >>> account_values(a, "potential", pl.Series([3, 2, 4, 1])).to_list()
    [5.0, 0.0, 0.0, 10.0]
    """
    table = accounts.select(
        pl.col("account_pk").cast(pl.Int64), pl.col(column).cast(pl.Float64).fill_null(0.0)
    ).drop_nulls("account_pk")
    wanted = account_pk.cast(pl.Int64).fill_null(-1).to_numpy()
    if table.height == 0:
        return pl.Series(column, np.zeros(len(wanted)), dtype=pl.Float64)
    keys, values = table["account_pk"].to_numpy(), table[column].to_numpy()
    low, high = int(keys.min()), int(keys.max())
    if low >= 0 and high <= 4 * len(keys) + 1024:
        # Dense primary keys (the usual case): a lookup array indexed by the key.
        dense = np.zeros(high + 2)
        dense[keys] = values
        return pl.Series(
            column, dense[np.where((wanted >= 0) & (wanted <= high), wanted, high + 1)]
        )
    if not table["account_pk"].is_sorted():
        order = np.argsort(keys, kind="stable")
        keys, values = keys[order], values[order]
    at = np.searchsorted(keys, wanted).clip(0, len(keys) - 1)
    found = keys[at] == wanted
    return pl.Series(column, np.where(found, values[at], 0.0), dtype=pl.Float64)


def distinct_totals(pairs: pl.DataFrame, members: pl.DataFrame) -> pl.DataFrame:
    """Distinct accounts, and the sum of their ``value``, per group of keys.

    Parameters
    ----------
    pairs
        ``account_pk``, ``key``, ``value`` (the account's value, repeated on each of its
        rows): distinct pairs sorted by ``account_pk``, as :func:`account_pairs` makes.
    members
        ``group``, ``key``: the keys each group covers (a territory's subtree, a user's
        territories), distinct.

    Returns
    -------
    polars.DataFrame
        ``group``, ``n`` (accounts with at least one key in the group), ``value``; groups
        without accounts are left out.

    Accounts with one key are summed per key, then per group. Accounts with several are
    grouped by their *set* of keys, so only the distinct sets (few, in practice) are
    spread over the groups and de-duplicated, never the accounts themselves. Keys that no
    group covers are dropped first.

    Examples
    --------
    >>> pairs = pl.DataFrame({"account_pk": [7, 7, 8], "key": [0, 1, 1],
    ...     "value": [10.0, 10.0, 5.0]})
    >>> members = pl.DataFrame({"group": [0, 0, 1], "key": [0, 1, 1]})
    >>> distinct_totals(pairs, members).sort("group").rows()
    [(0, 2, 15.0), (1, 2, 15.0)]
    """
    account = pl.col("account_pk")
    several = ((account == account.shift(1)) | (account == account.shift(-1))).fill_null(False)
    flagged = pairs.select("account_pk", "key", "value", several=several)
    # Keys that no group covers count for nothing: without them, fewer accounts have several.
    multi = flagged.filter(pl.col("several")).filter(
        pl.col("key").is_in(members["key"].unique().implode())
    )
    multi = multi.with_columns(several=several)
    single = (
        pl.concat([flagged.filter(~pl.col("several")), multi.filter(~pl.col("several"))])
        .group_by("key")
        .agg(n=pl.len().cast(pl.Int64), value=pl.col("value").sum())
        .join(members, on="key")
        .select("group", "n", "value")
    )
    sets = (
        multi.filter(pl.col("several"))
        .group_by("account_pk")
        .agg(pl.col("key"), pl.col("value").first())
        .group_by("key")
        .agg(n=pl.len().cast(pl.Int64), value=pl.col("value").sum())
        .with_row_index("set")
    )
    several_groups = (
        sets.select("set", "key")
        .explode("key")
        .join(members, on="key")
        .select("set", "group")
        .unique()
        .join(sets.select("set", "n", "value"), on="set")
        .select("group", "n", "value")
    )
    return (
        pl.concat([single, several_groups])
        .group_by("group")
        .agg(pl.col("n").sum(), pl.col("value").sum())
    )


def _account_rollup(
    links: pl.DataFrame, accounts: pl.DataFrame, order: pl.DataFrame, up: pl.DataFrame
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(own, subtree) accounts and potential per territory, distinct accounts.

    Territories are numbered by their tree order (territories outside the tree are left
    out, as the summary leaves them out); accounts are counted on those small keys.
    """
    index = order.select("territory_pk", key="order")
    keyed = links.select("account_pk", "territory_pk").join(index, on="territory_pk")
    pairs = account_pairs(keyed["account_pk"], keyed["key"], max(order.height, 1))
    pairs = pairs.with_columns(value=account_values(accounts, "potential", pairs["account_pk"]))
    own = pairs.group_by("key").agg(
        accounts=pl.len().cast(pl.Int64), potential=pl.col("value").sum()
    )
    members = up.join(index, on="territory_pk").join(
        index.rename({"territory_pk": "ancestor_pk", "key": "group"}), on="ancestor_pk"
    )
    subtree = distinct_totals(pairs, members.select("group", "key")).rename(
        {"group": "key", "n": "accounts_subtree", "value": "potential_subtree"}
    )
    own = own.join(index, on="key").drop("key")
    subtree = subtree.join(index, on="key").drop("key")
    return own, subtree


def _user_rollup(users: pl.DataFrame, up: pl.DataFrame) -> pl.DataFrame:
    own = (
        users.sort("role", "user")
        .group_by("territory_pk", "role", maintain_order=True)
        .agg(pl.col("user").unique(maintain_order=True).str.join(", "))
        .with_columns(text=pl.col("role") + ": " + pl.col("user"))
        .group_by("territory_pk")
        .agg(roles=pl.col("text").str.join("; "))
    )
    counts = users.group_by("territory_pk").agg(users=pl.col("user_pk").n_unique())
    subtree = (
        users.join(up, on="territory_pk")
        .group_by("ancestor_pk")
        .agg(users_subtree=pl.col("user_pk").n_unique())
        .rename({"ancestor_pk": "territory_pk"})
    )
    return counts.join(subtree, on="territory_pk", how="full", coalesce=True).join(
        own, on="territory_pk", how="left"
    )


def summary(
    territories: pl.DataFrame,
    links: pl.DataFrame,
    accounts: pl.DataFrame,
    opportunities: pl.DataFrame,
    users: pl.DataFrame,
    *,
    as_of: date,
) -> pl.DataFrame:
    """One row per territory, in tree order, own figures and subtree roll-ups.

    Parameters
    ----------
    territories, links, accounts, opportunities, users
        Frames shaped as the module docstring says.
    as_of
        The day that ends the 12-month closed-won window.

    Returns
    -------
    polars.DataFrame
        ``territory``, ``name``, ``parent``, ``depth``, ``accounts``,
        ``accounts_subtree``, ``potential``, ``potential_subtree``, ``pipeline``,
        ``pipeline_subtree``, ``weighted``, ``weighted_subtree``, ``won_12m``,
        ``won_12m_subtree``, ``users``, ``users_subtree``, ``roles``.

    Examples
    --------
    >>> t = pl.DataFrame({"territory_pk": [1, 2], "parent_pk": [None, 1],
    ...     "territory": ["NA", "West"], "name": ["North America", "West"]})
    >>> links = pl.DataFrame({"account_pk": [7, 7, 8], "territory_pk": [1, 2, 2]})
    >>> accounts = pl.DataFrame({"account_pk": [7, 8], "potential": [10.0, 5.0]})
    >>> opps = pl.DataFrame(schema={"opportunity_pk": pl.Int64, "account_pk": pl.Int64,
    ...     "territory_pk": pl.Int64, "amount": pl.Float64, "probability": pl.Float64,
    ...     "close_date": pl.Date, "is_closed": pl.Boolean, "is_won": pl.Boolean})
    >>> users = pl.DataFrame({"territory_pk": [2], "user_pk": [1], "user": ["Ana"],
    ...     "role": ["AE"]})
    >>> s = summary(t, links, accounts, opps, users, as_of=date(2026, 1, 1))
    >>> s.select("territory", "accounts", "accounts_subtree", "potential_subtree").rows()
    [('NA', 1, 2, 15.0), ('West', 2, 2, 15.0)]
    >>> s["roles"].to_list()
    [None, 'AE: Ana']
    """
    up = closure(territories)
    order = tree_order(territories)
    own, subtree = _account_rollup(links, accounts, order, up)
    money = (
        opportunity_figures(opportunities.filter(pl.col("territory_pk").is_not_null()), as_of=as_of)
        .group_by("territory_pk")
        .agg(pl.col(m).sum() for m in MONEY)
    )
    money_subtree = (
        money.join(up, on="territory_pk")
        .group_by("ancestor_pk")
        .agg(pl.col(m).sum().alias(f"{m}_subtree") for m in MONEY)
        .rename({"ancestor_pk": "territory_pk"})
    )
    names = dict(
        zip(territories["territory_pk"].to_list(), territories["territory"].to_list(), strict=True)
    )
    base = territories.join(order, on="territory_pk").with_columns(
        parent=pl.col("parent_pk").replace_strict(names, default=None, return_dtype=pl.String)
    )
    frame = base
    for part in (own, subtree, money, money_subtree, _user_rollup(users, up)):
        frame = frame.join(part, on="territory_pk", how="left")
    counts = ["accounts", "accounts_subtree", "users", "users_subtree"]
    sums = ["potential", "potential_subtree", *MONEY, *(f"{m}_subtree" for m in MONEY)]
    return (
        frame.sort("order")
        .with_columns(pl.col(counts).fill_null(0).cast(pl.Int64), pl.col(sums).fill_null(0.0))
        .select(
            "territory",
            "name",
            "parent",
            "depth",
            "accounts",
            "accounts_subtree",
            "potential",
            "potential_subtree",
            *(c for m in MONEY for c in (m, f"{m}_subtree")),
            "users",
            "users_subtree",
            "roles",
        )
    )


def multi_territory(assignments: pl.DataFrame) -> pl.DataFrame:
    """Accounts in more than one territory, and why.

    Parameters
    ----------
    assignments
        ``account`` (id), ``territory`` (developer name), ``cause`` (rule | manual),
        ``rules`` (developer names of the rules to name for a rule assignment, as
        ``core.reasons.rule_reasons`` chooses them); extra columns ignored.

    Returns
    -------
    polars.DataFrame
        ``account``, ``territories`` (count) and ``detail`` such as
        ``"Named_NA (manual); West_02 (rule West_02_Carve)"`` (several rules:
        ``rules A + B``), sorted by account.

    Examples
    --------
    >>> a = pl.DataFrame({"account": ["1", "1", "1", "2"],
    ...     "territory": ["West", "Named", "Gov", "West"],
    ...     "cause": ["rule", "manual", "rule", "rule"],
    ...     "rules": [["CA"], [], ["Gov_Rule", "US"], ["CA"]]})
    >>> multi_territory(a).rows()
    [('1', 3, 'Gov (rules Gov_Rule + US); Named (manual); West (rule CA)')]
    """
    rules = pl.col("rules").fill_null([])
    why = (
        pl.when(pl.col("cause") != "rule")
        .then(pl.col("cause"))
        .when(rules.list.len() > 1)
        .then(pl.lit("rules ") + rules.list.join(" + "))
        .otherwise(pl.lit("rule ") + rules.list.first().fill_null("?"))
    )
    per_territory = (
        assignments.with_columns(why=why)
        .sort("account", "territory", "why")
        .group_by("account", "territory", maintain_order=True)
        .agg(pl.col("why").unique(maintain_order=True).str.join(", "))
        .with_columns(text=pl.col("territory") + " (" + pl.col("why") + ")")
    )
    return (
        per_territory.group_by("account", maintain_order=True)
        .agg(territories=pl.len(), detail=pl.col("text").str.join("; "))
        .filter(pl.col("territories") > 1)
        .with_columns(pl.col("territories").cast(pl.Int64))
    )


def quarter(column: str = "close_date") -> pl.Expr:
    """``"2026-Q3"`` for a date column (``"no date"`` when null).

    >>> pl.DataFrame({"close_date": [date(2026, 8, 1)]}).select(quarter())["quarter"].item()
    '2026-Q3'
    """
    day = pl.col(column)
    text = day.dt.year().cast(pl.String) + "-Q" + day.dt.quarter().cast(pl.String)
    return text.fill_null("no date").alias("quarter")


def expected_revenue(territories: pl.DataFrame, opportunities: pl.DataFrame) -> pl.DataFrame:
    """Open pipeline weighted by probability, per territory (own) and close quarter.

    Returns
    -------
    polars.DataFrame
        ``territory``, ``name``, ``opportunities`` (open ones), ``pipeline``, ``expected``
        (the total), then one column of expected revenue per quarter in date order.
        Territories without open opportunities are left out.

    Examples
    --------
    >>> t = pl.DataFrame({"territory_pk": [1], "parent_pk": [None], "territory": ["West"],
    ...     "name": ["West"]})
    >>> o = pl.DataFrame({"territory_pk": [1, 1], "amount": [100.0, 200.0],
    ...     "probability": [50.0, 10.0], "close_date": [date(2026, 1, 5), date(2026, 5, 1)],
    ...     "is_closed": [False, False]})
    >>> expected_revenue(t, o).rows()
    [('West', 'West', 2, 300.0, 70.0, 50.0, 20.0)]
    >>> expected_revenue(t, o).columns[-2:]
    ['2026-Q1', '2026-Q2']
    """
    open_ = opportunities.filter(
        pl.col("territory_pk").is_not_null() & ~pl.col("is_closed").fill_null(False)
    ).with_columns(
        amount=pl.col("amount").fill_null(0.0),
        expected=pl.col("amount").fill_null(0.0) * pl.col("probability").fill_null(0.0) / 100.0,
    )
    open_ = open_.with_columns(quarter(), sort_key=pl.col("close_date").fill_null(date.max))
    totals = open_.group_by("territory_pk").agg(
        opportunities=pl.len(), pipeline=pl.col("amount").sum(), expected=pl.col("expected").sum()
    )
    quarters = (
        open_.group_by("quarter").agg(pl.col("sort_key").min()).sort("sort_key")["quarter"]
    ).to_list()
    by_quarter = open_.group_by("territory_pk", "quarter").agg(pl.col("expected").sum())
    wide = (
        by_quarter.pivot("quarter", index="territory_pk", values="expected")
        if by_quarter.height
        else pl.DataFrame(schema={"territory_pk": pl.Int64})
    )
    order = tree_order(territories)
    return (
        territories.join(order, on="territory_pk")
        .join(totals, on="territory_pk")
        .join(wide, on="territory_pk", how="left")
        .sort("order")
        .with_columns(pl.col("opportunities").cast(pl.Int64), pl.col(quarters).fill_null(0.0))
        .select("territory", "name", "opportunities", "pipeline", "expected", *quarters)
    )


__all__ = [
    "MONEY",
    "account_pairs",
    "account_values",
    "closure",
    "distinct_totals",
    "expected_revenue",
    "multi_territory",
    "opportunity_figures",
    "packed_pairs",
    "quarter",
    "summary",
    "tree_order",
]
