"""Which geo leaf each demo account belongs to, by the demo model's own rules.

This is a small vectorised matcher for the few operators the demo's geo rules use, so the
generator can give each account a plausible owner. It is not the product's rule engine.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from territorial.core.fields import Field, FieldCatalog, FieldType
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


def _field(item: RuleItem, catalog: FieldCatalog) -> Field:
    field = catalog.resolve(item.field)
    if field is None:
        raise ValueError(f"unknown field {item.field!r}")
    return field


def _item_expression(item: RuleItem, catalog: FieldCatalog) -> pl.Expr:
    """The item as an expression over the prepared frame (text columns already lower case)."""
    field = _field(item, catalog)
    column = pl.col(field.name)
    if field.type is FieldType.NUMBER:
        number = float(item.value)
        numeric = {"lessThan": column < number, "greaterOrEqual": column >= number}
        return numeric[item.operator]
    values = [v.strip().lower() for v in item.value.split(",")]
    if item.operator == "startsWith":
        return pl.any_horizontal(column.str.starts_with(v) for v in values)
    textual = {"equals": column.is_in(values), "notEqual": ~column.is_in(values)}
    return textual[item.operator]


def rule_expression(rule: Rule, catalog: FieldCatalog) -> pl.Expr:
    """True where an account satisfies ``rule`` (all items; boolean filters unsupported)."""
    if rule.boolean_filter or not rule.items:
        raise ValueError(f"the demo matcher cannot evaluate rule {rule.developer_name}")
    items = [_item_expression(item, catalog).fill_null(False) for item in rule.items]
    return pl.all_horizontal(items)


def _prepared(accounts: pl.DataFrame, rules: list[Rule], catalog: FieldCatalog) -> pl.DataFrame:
    """The columns the rules read, text in lower case, each computed once.

    Text read only by whole-value operators becomes categorical, so list tests compare codes.
    """
    items = [item for rule in rules for item in rule.items]
    prefixed = {_field(i, catalog).name for i in items if i.operator == "startsWith"}
    columns = []
    for field in {_field(i, catalog) for i in items}:
        column = pl.col(field.name)
        if field.type.is_textual:
            column = column.str.to_lowercase()
            if field.name not in prefixed:
                column = column.cast(pl.Categorical)
        columns.append(column)
    return accounts.select(columns)


def leaf_index(
    accounts: pl.DataFrame,
    leaves: list[str],
    territories: list[Territory],
    rules: list[Rule],
    associations: list[RuleAssociation],
) -> pl.Series:
    """Position in ``leaves`` of the first leaf each account matches (null when none)."""
    catalog = FieldCatalog.standard("account")
    effective = [effective_rules(leaf, territories, rules, associations) for leaf in leaves]
    used = {r.developer_name: r for found in effective for r in found}
    frame = _prepared(accounts, list(used.values()), catalog)
    matched = frame.select(
        rule_expression(rule, catalog).alias(name) for name, rule in used.items()
    )
    flags = matched.to_numpy()
    column = {name: i for i, name in enumerate(used)}
    hits = np.stack(
        [flags[:, [column[r.developer_name] for r in found]].all(axis=1) for found in effective],
        axis=1,
    )
    first = hits.argmax(axis=1).astype(np.int32)
    return pl.Series("leaf", first).set(pl.Series(~hits.any(axis=1)), None)


__all__ = ["effective_rules", "leaf_index", "rule_expression"]
