"""The carved territories' rules in the new model: one postal-code rule per territory
(its units and the postal codes it holds most of, US ZIP codes without accounts filled in,
compacted to shared prefixes), manual assignments and exclusions for the exceptions, and
the warnings about what the rules leave out or overlap.
"""

from __future__ import annotations

import numpy as np
import polars as pl
from sqlalchemy import select
from sqlalchemy.orm import Session

from territorial.core.carve.coverage import fill_coverage
from territorial.core.carve.units import compact_prefixes, postal_code, rule_items
from territorial.core.model import RULE_ITEM_LIMIT
from territorial.core.text import plural
from territorial.services.carve_cover import overlap_warning, unclaimed_warning
from territorial.store import bulk
from territorial.store.schema import (
    RuleAssociationRow,
    RuleItemRow,
    RuleRow,
    TerritoryModelRow,
)


def write_rules_and_assignments(
    session: Session,
    model: TerritoryModelRow,
    items: object,
    labels: np.ndarray,
    pks: dict[str, int],
    names: list[str],
    pinned: pl.Expr | None = None,
    held: pl.DataFrame | None = None,
    parent: str = "the parent",
    kept: pl.DataFrame | None = None,
) -> tuple[int, list[str]]:
    """One postal rule per carved territory, manual assignments for the rest; returns the
    number of manual assignments written and warnings (rules too long for Salesforce, ZIP3
    areas of the carved states left to the territories in ``held``).

    A territory's rule lists its postal units and, for accounts carved one by one, the
    5-character postal codes where it holds most of the carved accounts (its *coverage*), so
    new accounts there are assigned by rule. A US ZIP code without carved accounts, in a
    3-digit area that has some, goes to the territory of the nearest carved ZIP codes
    (``fill_coverage``), and so does a US ZIP3 area without carved accounts in a state that
    has some, unless ``held`` (``zip3, territory, accounts``: see ``held_by_others``) names
    it. Postal codes that all go to one territory are written as their
    shared 3- or 4-character prefix. An account not covered by its own territory's
    rule — its postal code went mostly elsewhere, it has none, or ``pinned`` marks it (named
    accounts kept by hand) — gets a manual assignment, and an exclusion from the territory
    whose rule covers its postal code. So does an account outside the carve that a planner
    had excluded from a territory under the parent (``kept``, see ``carve_cover.kept_out``).
    """
    from territorial.core.carve.units import Items

    assert isinstance(items, Items)
    frame = items.frame.with_columns(territory=pl.Series(labels, dtype=pl.Int64))
    units = frame.filter(pl.col("prefix").is_not_null()).select("country", "prefix", "territory")
    singles = items.accounts.join(frame.select("item", "territory", "prefix"), on="item").filter(
        pl.col("prefix").is_null()
    )
    singles = singles.with_columns(
        pinned=pinned if pinned is not None else pl.lit(False),
        zip5=postal_code().str.slice(0, 5),
    )
    coverage = _coverage(singles)
    carved = pl.concat([units, coverage.select("country", "prefix", "territory")])
    zip3s = held["zip3"].unique() if held is not None else None
    filled = fill_coverage(
        carved.join(_places(items.accounts), on=["country", "prefix"], how="left"), held=zip3s
    )
    rules = compact_prefixes(pl.concat([carved, filled]))
    long = _write_rules(session, model, rules, pks, names)
    covered = singles.join(
        coverage.select(
            pl.col("country").alias("billing_country_code"),
            pl.col("prefix").alias("zip5"),
            pl.col("territory").alias("covering"),
        ),
        on=["billing_country_code", "zip5"],
        how="left",
    )
    manual = covered.filter(
        pl.col("pinned")
        | pl.col("covering").is_null()
        | (pl.col("covering") != pl.col("territory"))
    )
    pk_of = pl.Series([pks[n] for n in names])
    bulk.upsert(
        session,
        "account_assignment",
        manual.select(
            model_pk=pl.lit(model.pk, pl.Int64),
            territory_pk=pk_of.gather(manual["territory"]),
            account_pk=pl.col("account_pk"),
            cause=pl.lit("manual"),
        ),
        key=("territory_pk", "account_pk", "cause"),
        update=[],
    )
    _exclusions(session, manual, rules, pks, names)
    carried = 0
    if kept is not None and not kept.is_empty():
        carried = _exclusions(session, kept, rules, pks, names)
    warnings = (
        [
            f"The postal rule of {', '.join(long[:5])}{' and others' if len(long) > 5 else ''} "
            f"has more than {RULE_ITEM_LIMIT} items, more than Salesforce allows in one rule: "
            "carve smaller territories (more of them) before exporting the model to Salesforce."
        ]
        if long
        else []
    )
    if carried:
        warnings.append(
            f"{plural(carried, 'account')} outside the carve that "
            f"{'were' if carried != 1 else 'was'} excluded from a territory under {parent} "
            f"{'are' if carried != 1 else 'is'} excluded from the carved territory whose postal "
            f"rule covers {'them' if carried != 1 else 'it'}, so the exclusion still holds "
            "('territorial export exclusions' lists them)."
        )
    if held is not None:
        warnings += unclaimed_warning(carved, held, parent)
        warnings += overlap_warning(rules, held)
    return manual.height, warnings


def _coverage(singles: pl.DataFrame) -> pl.DataFrame:
    """Per country and 5-character postal code of the accounts carved one by one (not
    pinned), the territory holding most of them (ties: the first territory)."""
    votes = singles.filter(
        ~pl.col("pinned")
        & pl.col("billing_country_code").is_not_null()
        & pl.col("zip5").str.contains(r"^[0-9A-Z]{5}$")
    )
    return (
        votes.group_by("billing_country_code", "zip5", "territory")
        .agg(pl.len().alias("n"))
        .sort(
            ["billing_country_code", "zip5", "n", "territory"],
            descending=[False, False, True, False],
        )
        .group_by("billing_country_code", "zip5", maintain_order=True)
        .first()
        .select(
            pl.col("billing_country_code").alias("country"),
            pl.col("zip5").alias("prefix"),
            "territory",
        )
    )


def _places(accounts: pl.DataFrame) -> pl.DataFrame:
    """Where the accounts of each country and 5-character postal code are (mean latitude
    and longitude): the place of a carved postal code the US ZIP table does not know."""
    return (
        accounts.with_columns(prefix=postal_code().str.slice(0, 5))
        .group_by(pl.col("billing_country_code").alias("country"), "prefix")
        .agg(pl.col("latitude").mean(), pl.col("longitude").mean())
    )


def _write_rules(
    session: Session,
    model: TerritoryModelRow,
    rules: pl.DataFrame,
    pks: dict[str, int],
    names: list[str],
) -> list[str]:
    """A rule ``TERRITORY_Carve`` per territory with its (country, prefix) pairs, attached;
    returns the territories whose rule has more items than Salesforce allows."""
    taken = {
        r.lower()
        for r in session.scalars(select(RuleRow.developer_name).where(RuleRow.model_pk == model.pk))
    }
    long: list[str] = []
    for (t,), group in rules.group_by(["territory"], maintain_order=True):
        prefixes: dict[str, list[str]] = {}
        for country, prefix in group.select("country", "prefix").iter_rows():
            prefixes.setdefault(country or "", []).append(prefix)
        rule_items_, boolean = rule_items(prefixes)
        if len(rule_items_) > RULE_ITEM_LIMIT:
            long.append(names[int(t)])
        dev = f"{names[int(t)]}_Carve"
        while dev.lower() in taken:
            dev += "_1"
        taken.add(dev.lower())
        rule = RuleRow(
            model_pk=model.pk,
            developer_name=dev,
            name=dev.replace("_", " "),
            active=True,
            boolean_filter=boolean,
        )
        session.add(rule)
        session.flush()
        session.add_all(
            RuleItemRow(
                rule_pk=rule.pk, number=i.number, field=i.field, operator=i.operator, value=i.value
            )
            for i in rule_items_
        )
        session.add(
            RuleAssociationRow(rule_pk=rule.pk, territory_pk=pks[names[int(t)]], inherited=False)
        )
    return long


def _exclusions(
    session: Session,
    manual: pl.DataFrame,
    rules: pl.DataFrame,
    pks: dict[str, int],
    names: list[str],
) -> int:
    """An account assigned by hand whose postal code a rule gives to another territory
    (its 5-character unit or coverage first, else its 3-character unit) is excluded there,
    so that rule does not claim it too; returns the number of exclusions."""
    owner = rules.select(
        key=pl.col("country").fill_null("") + ":" + pl.col("prefix"), other=pl.col("territory")
    )
    postal = postal_code()
    country = pl.col("billing_country_code").fill_null("") + ":"
    found = manual.select(
        "account_pk",
        "territory",
        key5=country + postal.str.slice(0, 5),
        key4=country + postal.str.slice(0, 4),
        key3=country + postal.str.slice(0, 3),
    )
    for size in ("key5", "key4", "key3"):
        found = found.join(
            owner.rename({"key": size, "other": f"other_{size}"}), on=size, how="left"
        )
    clash = found.with_columns(other=pl.coalesce("other_key5", "other_key4", "other_key3")).filter(
        pl.col("other").is_not_null() & (pl.col("other") != pl.col("territory"))
    )
    pk_of = pl.Series([pks[n] for n in names])
    excluded = pl.DataFrame(
        {"territory_pk": pk_of.gather(clash["other"]), "account_pk": clash["account_pk"]}
    )
    bulk.upsert(session, "exclusion", excluded, key=("territory_pk", "account_pk"), update=[])
    return excluded.height


__all__ = ["write_rules_and_assignments"]
