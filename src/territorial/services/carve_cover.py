"""Which US ZIP3 areas a carve may claim beyond the ones holding carved accounts.

A carve's postal rules cover the ZIP3 areas of the states that hold carved accounts
(``core.carve.coverage``), except the areas *held* by another part of the hierarchy: where
accounts sit in a territory of the carved leaves' type outside the carve's scope, and would
also satisfy the rules every carved territory keeps beside its postal rule (the segment's
``Commercial_Revenue`` and ``US_Accounts`` in the demo). Claiming such an area would put
those accounts in two territories of one type; an enterprise account of the same region, in
an enterprise territory the carved commercial rules never take, does not hold its area.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import polars as pl
from sqlalchemy import select
from sqlalchemy.orm import Session

from territorial.core.carve.coverage import US, open_areas
from territorial.core.carve.units import postal_code
from territorial.core.engine.expressions import literal_types, prepare, rule_expr
from territorial.core.rules.compile import compile_rule, required_fields
from territorial.core.text import plural
from territorial.services import fields
from territorial.services.runs import model_input
from territorial.store import frames
from territorial.store.schema import ExclusionRow, TerritoryModelRow, TerritoryRow

if TYPE_CHECKING:
    from territorial.services.carve_plan import Scope

EXAMPLES = 5
"""Areas named in the warning about areas left unclaimed."""


def held_areas(
    session: Session, model: TerritoryModelRow, scope: Scope, shared: set[int]
) -> pl.DataFrame:
    """``zip3, zip5, territory, accounts``: US postal codes holding accounts of territories
    of the carved leaves' type outside the scope in ``model`` that the carved territories'
    shared rules (pks in ``model``; none when it combines rules with 'any') would take."""
    empty = pl.DataFrame(
        schema={"zip3": pl.String, "zip5": pl.String, "territory": pl.String, "accounts": pl.UInt32}
    )
    rows = list(session.scalars(select(TerritoryRow).where(TerritoryRow.model_pk == model.pk)))
    types = {leaf.type_pk for leaf in scope.leaves}
    inside = set(scope.subtree)
    outside = {r.pk: r.developer_name for r in rows if r.type_pk in types and r.pk not in inside}
    if not outside:
        return empty
    assigned = frames.load_assignments(session, model.pk, territory_pks=list(outside))
    if assigned.is_empty():
        return empty
    catalog = fields.catalog(session, "account")
    rules = [
        compile_rule(rule, catalog)
        for rule in model_input(session, model).rules
        if rule.id in shared and rule.active
    ]
    wanted = {*required_fields(rules), "billing_country_code", "billing_postal_code"}
    where = frames.in_list("account.pk", assigned["account_pk"].unique().to_list())
    accounts = frames.load_accounts(session, catalog, wanted, where=where)
    accounts = prepare(accounts, rules, fields=literal_types(rules))
    taken = accounts.filter(
        pl.all_horizontal([pl.lit(True), *(rule_expr(r) for r in rules)]),
        pl.col("billing_country_code").str.strip_chars().str.to_uppercase() == US,
    ).select(account_pk="pk", zip5=postal_code().str.slice(0, 5))
    return (
        taken.filter(pl.col("zip5").str.contains(r"^[0-9]{3}"))
        .join(assigned.select("account_pk", "territory_pk"), on="account_pk")
        .with_columns(
            zip3=pl.col("zip5").str.slice(0, 3),
            territory=pl.col("territory_pk").replace_strict(outside),
        )
        .group_by("zip3", "zip5", "territory")
        .agg(accounts=pl.len())
        .sort("zip3", "zip5", "territory")
    )


def kept_out(session: Session, model: TerritoryModelRow, scope: Scope) -> pl.DataFrame:
    """Accounts outside the carve's scope that a planner excluded from a territory under its
    parent in ``model`` (``account_pk, territory, billing_country_code,
    billing_postal_code``, ``territory`` -1): they stay out of whichever carved territory's
    postal rule covers them."""
    inside = scope.accounts["account_pk"].implode()
    pks = pl.Series(
        "account_pk",
        list(
            session.scalars(
                select(ExclusionRow.account_pk)
                .where(ExclusionRow.territory_pk.in_(scope.subtree[1:]))
                .distinct()
            )
        ),
        dtype=pl.Int64,
    ).to_frame()
    pks = pks.filter(~pl.col("account_pk").is_in(inside))
    if pks.is_empty():
        return pl.DataFrame(
            schema={
                "account_pk": pl.Int64,
                "territory": pl.Int64,
                "billing_country_code": pl.String,
                "billing_postal_code": pl.String,
            }
        )
    catalog = fields.catalog(session, "account")
    where = frames.in_list("account.pk", pks["account_pk"].to_list())
    found = frames.load_accounts(
        session, catalog, ["billing_country_code", "billing_postal_code"], where=where
    )
    return found.select(
        account_pk=pl.col("pk").cast(pl.Int64),
        territory=pl.lit(-1, pl.Int64),
        billing_country_code="billing_country_code",
        billing_postal_code="billing_postal_code",
    )


def overlap_warning(rules: pl.DataFrame, held: pl.DataFrame) -> list[str]:
    """A warning counting the accounts of other territories of the carved type (``held``)
    whose postal codes the carved ``rules`` (``country, prefix, territory``) cover: a run
    puts each of them in two territories of one type."""
    us = rules.filter(pl.col("country") == US).select("prefix")
    hits = pl.concat(
        [
            held.with_columns(prefix=pl.col("zip5").str.slice(0, size)).join(us, on="prefix")
            for size in (3, 4, 5)
        ]
    ).unique(["zip5", "territory"])
    if hits.is_empty():
        return []
    per_territory = (
        hits.group_by("territory")
        .agg(pl.col("accounts").sum())
        .sort("accounts", "territory", descending=[True, False])
    )
    total = int(per_territory["accounts"].sum())
    shown = ", ".join(f"{n:,} in {t}" for t, n in per_territory.head(EXAMPLES).iter_rows())
    more = ", ..." if per_territory.height > EXAMPLES else ""
    one = total == 1
    return [
        f"{plural(total, 'account')} of territories of the same type outside the "
        f"carve ({shown}{more}) {'sits' if one else 'sit'} in postal codes the carved rules "
        f"cover, and nothing else in the carved territories' rules keeps {'it' if one else 'them'} "
        f"out: a run will put {'it' if one else 'each'} in two territories of one type. If the "
        "carved leaves lack the rule that sets their segment apart, attach it to the parent "
        "with 'apply to child territories'; if those territories' own rules reach into the "
        "carved area (a state rule over an account with another state's postal code, say), "
        "correct the accounts or exclude them. 'territorial report multi' lists them after a "
        "run."
    ]


def unclaimed_warning(carved: pl.DataFrame, held: pl.DataFrame, parent: str) -> list[str]:
    """A warning naming how many ZIP3 areas of the carved states the carved rules leave to
    other territories (``held``), with a few examples and the territories holding them."""
    areas = open_areas(carved).join(held, on="zip3")
    if areas.is_empty():
        return []
    per_area = (
        areas.group_by("zip3")
        .agg(
            pl.col("state").unique().sort().str.join("/"),
            pl.col("territory").unique().sort().str.join(", "),
            pl.col("accounts").sum(),
        )
        .sort("zip3")
    )
    states = ", ".join(sorted(areas["state"].unique()))
    shown = "; ".join(
        f"{z} ({s}: {plural(n, 'account')} in {t})"
        for z, s, t, n in per_area.head(EXAMPLES).iter_rows()
    )
    more = ", ..." if per_area.height > EXAMPLES else ""
    return [
        f"{plural(per_area.height, 'US ZIP3 area')} in the carved "
        f"states ({states}) hold{'s' if per_area.height == 1 else ''} no carved account but "
        f"accounts of territories outside {parent}, so the carved rules leave "
        f"{'it' if per_area.height == 1 else 'them'} to those territories: {shown}{more}. A new "
        "account there that belongs under the carved territories lands in none of them; "
        "add a rule by hand if it should."
    ]


__all__ = ["held_areas", "kept_out", "overlap_warning", "unclaimed_warning"]
