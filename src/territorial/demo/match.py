"""Which geo leaf each demo account belongs to, by the demo model's own rules.

This is a small vectorised matcher for the few operators the demo's geo rules use, so the
generator can give each account a plausible owner. It is not the product's rule engine.
"""

from __future__ import annotations

import polars as pl

from territorial.core.fields import FieldCatalog, FieldType
from territorial.core.model import Rule, RuleAssociation, RuleItem, Territory


def effective_rules(
    territory: str,
    territories: list[Territory],
    rules: list[Rule],
    associations: list[RuleAssociation],
) -> list[Rule]:
    """A territory's own rules plus the inherited rules of its ancestors (DESIGN §3)."""
    parents = {t.developer_name: t.parent for t in territories}
    by_name = {r.developer_name: r for r in rules}
    names = [a.rule for a in associations if a.territory == territory]
    ancestor = parents[territory]
    while ancestor is not None:
        names += [a.rule for a in associations if a.territory == ancestor and a.inherited]
        ancestor = parents[ancestor]
    return [by_name[name] for name in names if by_name[name].active]


def _item_expression(item: RuleItem, catalog: FieldCatalog) -> pl.Expr:
    field = catalog.resolve(item.field)
    if field is None:
        raise ValueError(f"unknown field {item.field!r}")
    column = pl.col(field.name)
    if field.type is FieldType.NUMBER:
        number = float(item.value)
        numeric = {"lessThan": column < number, "greaterOrEqual": column >= number}
        return numeric[item.operator]
    values = [v.strip().lower() for v in item.value.split(",")]
    text = column.str.to_lowercase()
    if item.operator == "startsWith":
        return pl.any_horizontal(text.str.starts_with(v) for v in values)
    textual = {"equals": text.is_in(values), "notEqual": ~text.is_in(values)}
    return textual[item.operator]


def rule_expression(rule: Rule, catalog: FieldCatalog) -> pl.Expr:
    """True where an account satisfies ``rule`` (all items; boolean filters unsupported)."""
    if rule.boolean_filter or not rule.items:
        raise ValueError(f"the demo matcher cannot evaluate rule {rule.developer_name}")
    items = [_item_expression(item, catalog).fill_null(False) for item in rule.items]
    return pl.all_horizontal(items)


def leaf_index(
    accounts: pl.DataFrame,
    leaves: list[str],
    territories: list[Territory],
    rules: list[Rule],
    associations: list[RuleAssociation],
) -> pl.Series:
    """Position in ``leaves`` of the first leaf each account matches (null when none)."""
    catalog = FieldCatalog.standard("account")
    matches = []
    for position, leaf in enumerate(leaves):
        found = effective_rules(leaf, territories, rules, associations)
        matched = pl.all_horizontal(rule_expression(r, catalog) for r in found)
        matches.append(pl.when(matched).then(pl.lit(position, pl.Int32)))
    return accounts.select(pl.coalesce(matches).alias("leaf")).to_series()


__all__ = ["effective_rules", "leaf_index", "rule_expression"]
