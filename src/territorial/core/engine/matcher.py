"""The vectorized assignment engine: accounts × compiled model → assignments.

``match`` finds, for each effective rule, the account rows that satisfy it (see
``engine.plan`` for how), then combines them per territory: under ``all`` (ETM) an
account lands in a territory when it satisfies every effective rule, under ``any`` when it
satisfies one. Exclusions and ``excluded_from_realign`` win over rules.

The result has one row per (account, territory) with ``rule_pk`` = the lowest pk among
the territory's effective rules that the account satisfies, sorted by account_pk then
territory_pk. It agrees exactly with ``rules.reference.evaluate`` (property-tested).
"""

from __future__ import annotations

import polars as pl

from territorial.core.engine.execute import rule_pairs
from territorial.core.engine.expressions import literal_types, prepare, rule_expr
from territorial.core.engine.plan import plan_rules
from territorial.core.rules.compile import CompiledModel, CompiledRule, effective_rule_pks
from territorial.core.rules.reference import RESULT_SCHEMA

PAIR_SCHEMA = {"row": pl.UInt32, "rule_pk": pl.Int64}


def empty_result() -> pl.DataFrame:
    """An assignment frame with no rows."""
    return pl.DataFrame(schema=RESULT_SCHEMA)


def rule_pairs_by_scan(frame: pl.DataFrame, rules: list[CompiledRule]) -> pl.DataFrame:
    """(row, rule_pk) for every row satisfying each rule, one expression per rule."""
    if not rules or frame.height == 0:
        return pl.DataFrame(schema=PAIR_SCHEMA)
    flags = frame.select([rule_expr(r).alias(str(r.pk)) for r in rules])
    parts = []
    for rule in rules:
        rows = flags[str(rule.pk)].arg_true()
        if rows.len():
            parts.append(
                pl.DataFrame({"row": rows.cast(pl.UInt32), "rule_pk": rule.pk}, schema=PAIR_SCHEMA)
            )
    return pl.concat(parts) if parts else pl.DataFrame(schema=PAIR_SCHEMA)


def match_by_scan(
    accounts: pl.DataFrame,
    compiled: CompiledModel,
    *,
    exclusions: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Same as ``match``, one Polars expression per rule: simple, slower; a cross-check."""
    used = sorted(effective_rule_pks(compiled))
    if not used:
        return empty_result()
    rules = [compiled.rules[pk] for pk in used]
    frame = prepare(accounts, rules, fields=literal_types(rules))
    return combine(rule_pairs_by_scan(frame, rules), frame["pk"], compiled, exclusions)


def _effective_table(compiled: CompiledModel, territories: list[int]) -> pl.DataFrame:
    return pl.DataFrame(
        [(r, t) for t in territories for r in compiled.effective[t]],
        schema={"rule_pk": pl.Int64, "territory_pk": pl.Int64},
        orient="row",
    )


def _single_rule(pairs: pl.DataFrame, compiled: CompiledModel, single: list[int]) -> pl.DataFrame:
    table = _effective_table(compiled, single)
    return pairs.join(table, on="rule_pk").select("row", "territory_pk", "rule_pk")


def _all_rules(pairs: pl.DataFrame, compiled: CompiledModel, multi: list[int]) -> pl.DataFrame:
    """Rows satisfying every effective rule of each multi-rule territory.

    Candidates come from the territory's rule with the fewest matching rows (the driver);
    the other rules are checked by a semi-join on (row, rule_pk), so a broad inherited rule
    (country equals US on a thousand territories) costs no more than its own matches.
    """
    counts = dict(pairs.group_by("rule_pk").len().iter_rows())
    drivers: list[tuple[int, int, int, int]] = []
    others: list[tuple[int, int]] = []
    for t in multi:
        rules = compiled.effective[t]
        driver = min(rules, key=lambda pk: (counts.get(pk, 0), pk))
        drivers.append((driver, t, min(rules), len(rules) - 1))
        others.extend((t, pk) for pk in rules if pk != driver)
    driver_table = pl.DataFrame(
        drivers,
        schema={
            "rule_pk": pl.Int64,
            "territory_pk": pl.Int64,
            "min_rule": pl.Int64,
            "need": pl.UInt32,
        },
        orient="row",
    )
    other_table = pl.DataFrame(
        others, schema={"territory_pk": pl.Int64, "rule_pk": pl.Int64}, orient="row"
    )
    candidates = pairs.join(driver_table, on="rule_pk").drop("rule_pk")
    checks = candidates.join(other_table, on="territory_pk").join(
        pairs, on=["row", "rule_pk"], how="semi"
    )
    hits = checks.group_by("row", "territory_pk").agg(pl.len().alias("hits"))
    kept = candidates.join(hits, on=["row", "territory_pk"]).filter(
        pl.col("hits") == pl.col("need")
    )
    return kept.select("row", "territory_pk", pl.col("min_rule").alias("rule_pk"))


def _any_rule(pairs: pl.DataFrame, compiled: CompiledModel, multi: list[int]) -> pl.DataFrame:
    joined = pairs.join(_effective_table(compiled, multi), on="rule_pk")
    return joined.group_by("row", "territory_pk").agg(pl.col("rule_pk").min())


def combine(
    pairs: pl.DataFrame,
    account_pks: pl.Series,
    compiled: CompiledModel,
    exclusions: pl.DataFrame | None,
) -> pl.DataFrame:
    """Turn unique (row, rule_pk) pairs into the assignment frame.

    ``account_pks[row]`` is the account pk of a row.
    """
    single = sorted(t for t, rules in compiled.effective.items() if len(rules) == 1)
    multi = sorted(t for t, rules in compiled.effective.items() if len(rules) > 1)
    parts = [_single_rule(pairs, compiled, single)]
    if multi:
        many = _all_rules if compiled.combination == "all" else _any_rule
        parts.append(many(pairs, compiled, multi).select("row", "territory_pk", "rule_pk"))
    joined = pl.concat(parts)
    result = pl.DataFrame(
        {
            "account_pk": account_pks.cast(pl.Int64).gather(joined["row"]),
            "territory_pk": joined["territory_pk"],
            "rule_pk": joined["rule_pk"],
        }
    )
    if exclusions is not None and exclusions.height:
        result = result.join(
            exclusions.select(
                pl.col("territory_pk").cast(pl.Int64), pl.col("account_pk").cast(pl.Int64)
            ),
            on=["account_pk", "territory_pk"],
            how="anti",
        )
    return result.sort("account_pk", "territory_pk")


def match(
    accounts: pl.DataFrame,
    compiled: CompiledModel,
    *,
    exclusions: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Assign accounts to territories by the compiled model's rules.

    Parameters
    ----------
    accounts
        ``pk`` (Int64) and one column per field the rules read, named by the catalog's
        canonical names (see ``rules.compile.required_fields``); missing columns count as
        empty.
    compiled
        The output of ``rules.compile.compile_model``.
    exclusions
        ``territory_pk``/``account_pk`` pairs kept out of the territory's rules.

    Returns
    -------
    polars.DataFrame
        ``account_pk``, ``territory_pk``, ``rule_pk`` (Int64), unique on the first two,
        sorted by them; ``rule_pk`` is the lowest-pk satisfied effective rule.

    Examples
    --------
    >>> from territorial.core.fields import FieldCatalog
    >>> from territorial.core.model import Rule, RuleItem
    >>> from territorial.core.rules.compile import ModelInput, TerritoryNode, compile_model
    >>> model = ModelInput(
    ...     territories=[TerritoryNode(1), TerritoryNode(2, parent_pk=1)],
    ...     rules=[Rule("West", (RuleItem(1, "BillingStateCode", "equals", "CA,NV"),), id=9)],
    ...     associations=[(9, 1, True)],
    ... )
    >>> compiled = compile_model(model, FieldCatalog.standard("account"))
    >>> accounts = pl.DataFrame({"pk": [1, 2], "billing_state_code": ["ca", "NY"]})
    >>> match(accounts, compiled).rows()
    [(1, 1, 9), (1, 2, 9)]
    """
    used = sorted(effective_rule_pks(compiled))
    if not used:
        return empty_result()
    rules = [compiled.rules[pk] for pk in used]
    frame = prepare(accounts, rules, fields=literal_types(rules))
    pairs = rule_pairs(frame, plan_rules(rules))
    return combine(pairs, frame["pk"], compiled, exclusions)


__all__ = ["combine", "empty_result", "match", "match_by_scan", "rule_pairs_by_scan"]
