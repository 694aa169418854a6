"""A comparison seen from a manager's territories: who counts as a manager
(``is_manager_role``), the territories under theirs (``subtree_names``), and the part of a
:class:`~territorial.core.compare.Comparison` that comes into, goes out of or moves within
them (``scoped``).
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass

import polars as pl

from territorial.core.compare import Comparison

MANAGER_WORDS = r"managers?|[aes]?vps?|vice[ -]presidents?|directors?|head|chief"
"""Words that make a role manager-like, as whole words: Manager, VP (SVP, EVP, AVP), Vice
President, Director, Head, Chief."""

CONTRIBUTOR_MANAGERS = (
    r"account|success|partner|channel|alliances?|product|project|program|relationship|renewals?"
)
"""Words before "Manager" in individual contributors' titles, which are not manager-like:
Account Manager (and Key or Technical Account Manager), Customer Success Manager, Partner,
Channel, Alliance, Product, Project, Program, Relationship and Renewals Manager."""

MANAGER_ROLES = rf"^(?!.*\b(?:{CONTRIBUTOR_MANAGERS})\s+managers?\b).*\b(?:{MANAGER_WORDS})\b"
"""Roles matching this pattern (a Python regular expression, searched case-insensitively)
are manager-like: their holder is a manager of the territory's subtree for change-impact
packets, and ``report balance --level users`` leaves them out by default."""


def is_manager_role(role: str, pattern: str = MANAGER_ROLES) -> bool:
    """Whether a role in territory makes its holder a manager (case-insensitive search).

    >>> is_manager_role("Regional VP"), is_manager_role("Area Manager")
    (True, True)
    >>> is_manager_role("Account Executive"), is_manager_role("Customer Success Manager")
    (False, False)
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


def _account_directions(comparison: Comparison, names: list[str], after: list[str]) -> pl.DataFrame:
    """``account_pk``, ``direction`` of the changed accounts in the scope on either side
    (``names`` before, ``after`` after)."""
    inside_b = comparison.pairs_before.filter(pl.col("territory").is_in(names))
    inside_a = comparison.pairs_after.filter(pl.col("territory").is_in(after))
    was = inside_b["account_pk"].unique().to_frame().with_columns(was=pl.lit(True))
    now = inside_a["account_pk"].unique().to_frame().with_columns(now=pl.lit(True))
    return (
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


def _scoped_opportunities(
    opportunities: pl.DataFrame, names: list[str], after: list[str]
) -> pl.DataFrame:
    """The opportunities coming from or going to the scope, with their ``direction``."""
    came_from, goes_to = pl.col("from").is_in(names), pl.col("to").is_in(after)
    return opportunities.filter(came_from.fill_null(False) | goes_to.fill_null(False)).with_columns(
        direction=pl.when(came_from.fill_null(False) & goes_to.fill_null(False))
        .then(pl.lit("within"))
        .when(goes_to.fill_null(False))
        .then(pl.lit("in"))
        .otherwise(pl.lit("out"))
    )


def _scope_summary(accounts: pl.DataFrame, opps: pl.DataFrame) -> dict[str, float | int]:
    """Accounts and opportunities (and their amounts) by direction."""

    def count(frame: pl.DataFrame, way: str) -> int:
        return frame.filter(pl.col("direction") == way).height

    def amount(frame: pl.DataFrame, column: str, way: str) -> float:
        return float(frame.filter(pl.col("direction") == way)[column].fill_null(0.0).sum())

    return {
        "accounts_in": count(accounts, "in"),
        "accounts_out": count(accounts, "out"),
        "accounts_within": count(accounts, "within"),
        "opportunities_in": count(opps, "in"),
        "opportunities_out": count(opps, "out"),
        "pipeline_in": amount(opps, "amount", "in"),
        "pipeline_out": amount(opps, "amount", "out"),
    }


def _with_area(changed: pl.DataFrame, regrouped: pl.DataFrame) -> pl.DataFrame:
    return changed if regrouped.is_empty() else pl.concat([changed, regrouped])


def scoped(
    comparison: Comparison,
    scope: Collection[str],
    after: Collection[str] | None = None,
) -> ScopedImpact:
    """Restrict a comparison to the territories named in ``scope`` (before) and ``after``
    (after; default: ``scope``), such as a manager's subtrees in each model.

    An account comes *in* when it is in the scope after but not before, goes *out* in the
    opposite case, and moves *within* when its territories change and it is in the scope
    on both sides. Accounts and open opportunities that stay on a territory moved to
    another branch (``regrouped``) come in or go out with it.

    Examples
    --------
    >>> c = Comparison(
    ...     accounts=pl.DataFrame({"account_pk": [1, 2], "pipeline": [5.0, 0.0],
    ...         "change": ["moved", "moved"]}),
    ...     territories=pl.DataFrame(), users=pl.DataFrame({"user_pk": [9]}),
    ...     opportunities=pl.DataFrame({"from": ["West"], "to": ["East"], "amount": [5.0]}),
    ...     summary={},
    ...     pairs_before=pl.DataFrame({"account_pk": [1, 2], "territory": ["West", "West"]}),
    ...     pairs_after=pl.DataFrame({"account_pk": [1, 2], "territory": ["East", "West2"]}),
    ...     user_territories=pl.DataFrame({"user_pk": [9], "territory": ["West"],
    ...         "side": ["before"]}))
    >>> s = scoped(c, {"West", "West2"})
    >>> s.accounts.select("account_pk", "direction").rows()
    [(1, 'out'), (2, 'within')]
    >>> s.summary["pipeline_out"], s.summary["opportunities_out"]
    (5.0, 1)
    """
    names = list(scope)
    names_after = names if after is None else list(after)
    direction = _account_directions(comparison, names, names_after)
    accounts = (
        _with_area(comparison.accounts, comparison.area_accounts)
        .join(direction, on="account_pk")
        .filter((pl.col("change") != "regrouped") | (pl.col("direction") != "within"))
        .sort("direction", "account_pk")
    )
    territories = comparison.user_territories
    held = territories.filter(
        pl.when(pl.col("side") == "before")
        .then(pl.col("territory").is_in(names))
        .otherwise(pl.col("territory").is_in(names_after))
    )
    users = comparison.users.join(held.select("user_pk").unique(), on="user_pk", how="semi")
    opps = _scoped_opportunities(
        _with_area(comparison.opportunities, comparison.area_opportunities), names, names_after
    ).filter(pl.col("from").ne_missing(pl.col("to")) | (pl.col("direction") != "within"))
    return ScopedImpact(accounts, users, opps, _scope_summary(accounts, opps))


__all__ = [
    "CONTRIBUTOR_MANAGERS",
    "MANAGER_ROLES",
    "MANAGER_WORDS",
    "ScopedImpact",
    "is_manager_role",
    "scoped",
    "subtree_names",
]
