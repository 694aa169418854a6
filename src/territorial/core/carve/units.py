"""From accounts to carve items and back: geographic units, measures, and the rules that
describe a plan.

Items are accounts (``units="account"``) or postal units (``"zip3"``, ``"zip5"``: the
first 3 or 5 characters of the billing postal code within a country). Accounts that must
not follow their unit — locked ones, and those without a postal code — are items of their
own (``key`` starting with ``account:``); the service writes them as manual assignments
unless their postal code's rule already puts them in their territory.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from territorial.core.carve.geo import to_xyz
from territorial.core.carve.problem import FloatArray
from territorial.core.model import RULE_VALUE_LIMIT, RuleItem
from territorial.errors import ValidationError

UNITS = {"account": 0, "zip3": 3, "zip5": 5}
COUNTRY = "Account.BillingCountryCode"
POSTAL = "Account.BillingPostalCode"


@dataclass(frozen=True)
class Items:
    """Carve items built from accounts.

    ``accounts`` has one row per account with its ``item`` number; ``frame`` one row per
    item: ``key``, ``country``, ``prefix`` (null for single accounts), ``size`` and the
    measure columns.
    """

    accounts: pl.DataFrame
    frame: pl.DataFrame
    points: FloatArray

    @property
    def is_unit(self) -> pl.Series:
        return self.frame["prefix"].is_not_null()


def postal_code() -> pl.Expr:
    """The billing postal code as units and carved rules read it: trimmed, upper case."""
    return pl.col("billing_postal_code").str.strip_chars().str.to_uppercase()


def unit_key(units: str) -> pl.Expr:
    """The unit of each account: ``account:ID`` or ``COUNTRY:PREFIX``.

    >>> df = pl.DataFrame(
    ...     {"id": ["a"], "billing_country_code": ["US"], "billing_postal_code": [" 94105 "]}
    ... )
    >>> df.select(unit_key("zip3"))["key"].to_list()
    ['US:941']
    """
    if units not in UNITS:
        raise ValidationError(f"Unknown units {units!r}.", hint="Use account, zip3 or zip5.")
    single = pl.lit("account:") + pl.col("id")
    if UNITS[units] == 0:
        return single.alias("key")
    postal = postal_code()
    prefix = postal.str.slice(0, UNITS[units])
    ok = postal.str.len_chars() >= UNITS[units]
    unit = pl.col("billing_country_code").fill_null("") + pl.lit(":") + prefix
    return pl.when(ok).then(unit).otherwise(single).alias("key")


def build_items(
    accounts: pl.DataFrame, units: str, measures: list[str], *, alone: pl.Expr | None = None
) -> Items:
    """Group accounts into items and sum their measures.

    ``accounts`` needs ``id``, ``latitude``, ``longitude``, ``billing_country_code``,
    ``billing_postal_code`` and the ``measures`` columns; ``alone`` marks accounts that
    are items of their own. An account without coordinates sits at its unit's centroid,
    else at the centroid of the accounts sharing its country and 5-character postal code,
    else its 3-character postal area, else of all accounts.

    >>> df = pl.DataFrame({"id": ["a", "b", "c"], "latitude": [37.0, 37.2, None],
    ...     "longitude": [-122.0, -122.2, None], "billing_country_code": ["US"] * 3,
    ...     "billing_postal_code": ["94105", "94110", "94301"], "accounts": [1.0] * 3})
    >>> build_items(df, "zip3", ["accounts"]).frame.select("key", "size").rows()
    [('US:941', 2.0), ('US:943', 1.0)]
    """
    key = unit_key(units)
    if alone is not None:
        key = pl.when(alone).then(pl.lit("account:") + pl.col("id")).otherwise(key).alias("key")
    frame = accounts.with_columns(key)
    xyz = to_xyz(
        frame["latitude"].fill_null(np.nan).to_numpy(),
        frame["longitude"].fill_null(np.nan).to_numpy(),
    )
    frame = frame.with_columns(x=xyz[:, 0], y=xyz[:, 1], z=xyz[:, 2]).with_columns(
        pl.col(c).fill_nan(None) for c in ("x", "y", "z")
    )
    country = pl.col("billing_country_code").fill_null("") + pl.lit(":")
    areas = [country + postal_code().str.slice(0, n) for n in (5, 3)]
    frame = frame.with_columns(
        pl.col(c)
        .fill_null(pl.col(c).mean().over("key"))
        .fill_null(pl.when(areas[0].is_not_null()).then(pl.col(c).mean().over(areas[0])))
        .fill_null(pl.when(areas[1].is_not_null()).then(pl.col(c).mean().over(areas[1])))
        .fill_null(pl.col(c).mean())
        .fill_null(0.0)
        for c in ("x", "y", "z")
    )
    grouped = (
        frame.group_by("key", maintain_order=True)
        .agg(
            pl.col("billing_country_code").first().alias("country"),
            pl.len().cast(pl.Float64).alias("size"),
            *(pl.col(m).sum() for m in measures),
            *(pl.col(c).mean() for c in ("x", "y", "z")),
        )
        .sort("key")
        .with_columns(
            prefix=pl.when(pl.col("key").str.starts_with("account:"))
            .then(None)
            .otherwise(pl.col("key").str.split(":").list.get(1))
        )
    )
    numbered = grouped.with_row_index("item")
    accounts_out = frame.drop("x", "y", "z").join(
        numbered.select("key", "item"), on="key", how="left"
    )
    points = numbered.select("x", "y", "z").to_numpy().astype(np.float64)
    return Items(accounts_out, numbered.drop("x", "y", "z"), points)


def compact_prefixes(rules: pl.DataFrame) -> pl.DataFrame:
    """``(country, prefix, territory)`` rows with every 5-character prefix replaced by its
    3- or 4-character prefix where all the 5-character prefixes under it go to one
    territory. Shorter rules, which also cover postal codes no account has yet.

    >>> df = pl.DataFrame({"country": ["US"] * 4, "prefix": ["94105", "94107", "94301",
    ...     "94303"], "territory": [0, 0, 0, 1]})
    >>> compact_prefixes(df).sort("prefix").rows()
    [('US', '941', 0), ('US', '94301', 0), ('US', '94303', 1)]
    """
    five = pl.col("prefix").str.len_chars() == 5
    out = rules.filter(~five)
    rest = rules.filter(five)
    for size in (3, 4):
        head = pl.col("prefix").str.slice(0, size)
        whole = rest.with_columns(head=head).filter(
            pl.col("territory").n_unique().over("country", "head") == 1
        )
        out = pl.concat(
            [out, whole.select("country", pl.col("head").alias("prefix"), "territory").unique()]
        )
        rest = rest.join(whole.select("country", "prefix"), on=["country", "prefix"], how="anti")
    return pl.concat([out, rest]).sort("country", "prefix")


def rule_items(country_prefixes: dict[str, list[str]]) -> tuple[tuple[RuleItem, ...], str | None]:
    """Rule items (and boolean filter) matching accounts of the given postal prefixes per
    country: ``BillingCountryCode equals C AND BillingPostalCode startsWith p1,p2,...``,
    OR-ed across countries. A list longer than an item's value may hold is split over
    several items, OR-ed.

    >>> items, flt = rule_items({"US": ["940", "941"]})
    >>> [f"{i.field} {i.operator} {i.value}" for i in items], flt
    (['Account.BillingCountryCode equals US', 'Account.BillingPostalCode startsWith 940,941'], None)
    >>> rule_items({"US": ["9"], "CA": ["V6B"]})[1]
    '(1 AND 2) OR (3 AND 4)'
    >>> items, flt = rule_items({"US": [f"{n:05d}" for n in range(200)]})
    >>> len(items), max(len(i.value) for i in items) <= RULE_VALUE_LIMIT, flt
    (3, True, '1 AND (2 OR 3)')
    """
    items: list[RuleItem] = []
    groups = []
    for country in sorted(country_prefixes):
        first = len(items) + 1
        items.append(RuleItem(first, COUNTRY, "equals", country))
        numbers = []
        for chunk in _chunks(sorted(country_prefixes[country])):
            items.append(RuleItem(len(items) + 1, POSTAL, "startsWith", chunk))
            numbers.append(str(len(items)))
        postal = numbers[0] if len(numbers) == 1 else f"({' OR '.join(numbers)})"
        groups.append(f"{first} AND {postal}")
    if len(groups) == 1:
        return tuple(items), (None if len(items) == 2 else groups[0])
    return tuple(items), " OR ".join(f"({g})" for g in groups)


def _chunks(prefixes: list[str]) -> list[str]:
    """Comma-separated lists of ``prefixes``, each at most ``RULE_VALUE_LIMIT`` characters."""
    out: list[str] = []
    current = ""
    for p in prefixes:
        joined = f"{current},{p}" if current else p
        if len(joined) > RULE_VALUE_LIMIT and current:
            out.append(current)
            joined = p
        current = joined
    return [*out, current] if current else out


__all__ = [
    "UNITS",
    "Items",
    "build_items",
    "compact_prefixes",
    "postal_code",
    "rule_items",
    "unit_key",
]
