"""Which rules to name when saying why an account is in a territory.

A run records one rule per rule assignment: of the rules the account satisfied, the one
that sets the territory apart from its **siblings** (``rules.deciding``): a carved
territory's ``<Territory>_Carve`` postal rule, not the ``US_Accounts`` and
``Commercial_Revenue`` rules every carved territory shares. Exports and comparisons show
that rule; ``report multi`` names it too, alone, when it is the only rule the account
satisfied that no sibling has. Otherwise — several rules set the territory apart, or none
does, or the run recorded another rule (a run before the rule order existed, or the
hierarchy changed since) — it names every rule the account satisfied: all the territory's
effective rules when the model requires all of them; those the account matches when it
requires any.

A stored rule that is no longer among the territory's effective rules (the rules changed
since the last run) is named alone, as the run recorded it.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

import polars as pl

from territorial.core.rules.deciding import sibling_rules


def named_rules(
    stored: int | None, matched: Sequence[int], shared: Collection[int]
) -> tuple[int, ...]:
    """The ``stored`` rule alone when it is the only ``matched`` rule that ``shared`` (the
    siblings' rules) lacks, or else every matched rule (None: the rule was deleted).

    Examples
    --------
    >>> named_rules(20, (10, 11, 20), shared={10, 11, 30})
    (20,)
    >>> named_rules(20, (10, 20, 21), shared={10})  # two set it apart: name them all
    (10, 20, 21)
    >>> named_rules(10, (10, 11), shared={10, 11})
    (10, 11)
    >>> named_rules(10, (10, 11, 20), shared={10, 11})  # recorded by an older run
    (10, 11, 20)
    """
    apart = [rule for rule in matched if rule not in shared]
    return (apart[0],) if apart == [stored] else tuple(matched)


def rule_reasons(
    links: pl.DataFrame,
    parents: Mapping[int, int | None],
    effective: Mapping[int, Sequence[int]],
    names: Mapping[int, str],
    *,
    satisfied: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """The rules to name for each rule assignment.

    Parameters
    ----------
    links
        Account assignments: ``account_pk``, ``territory_pk``, ``cause`` (rule | manual),
        ``rule_pk`` (the rule the run stored); other columns kept.
    parents
        Every territory's parent pk (None for a top-level territory).
    effective
        Each territory's effective active rule pks.
    names
        Rule developer names by pk.
    satisfied
        ``account_pk``, ``rule_pk``: the rules each account satisfies, for a model whose
        territories need *any* of their rules; None when they need all of them (every
        effective rule of a territory was satisfied).

    Returns
    -------
    polars.DataFrame
        ``links`` (same rows, same order) with ``rules``, a list of rule developer names
        (sorted; empty for a manual assignment, and for a rule assignment whose rule was
        deleted).

    Examples
    --------
    >>> links = pl.DataFrame({"account_pk": [7, 7, 7], "territory_pk": [2, 3, 5],
    ...     "cause": ["rule", "rule", "manual"], "rule_pk": [20, 30, None]})
    >>> parents = {1: None, 2: 1, 3: 1, 5: None}
    >>> effective = {2: (10, 11, 20), 3: (10, 11, 30)}
    >>> names = {10: "US", 11: "Commercial", 20: "West_Carve", 30: "East_Carve"}
    >>> rule_reasons(links, parents, effective, names)["rules"].to_list()
    [['West_Carve'], ['East_Carve'], []]
    """
    shared = sibling_rules(parents, effective)
    stored = (
        links.filter(pl.col("cause") == "rule")
        .select("account_pk", "territory_pk", "rule_pk")
        .unique()
    )
    matched = _matched(stored, effective, satisfied).with_columns(key=_key())
    combos = matched.select("key", "territory_pk", "rule_pk", "matched").unique("key")
    decided = pl.DataFrame(
        {
            "key": combos["key"],
            "rules": [
                sorted(names.get(r, "?") for r in named_rules(kept, rs, shared.get(t, ())))
                for t, kept, rs in combos.select("territory_pk", "rule_pk", "matched").iter_rows()
            ],
        },
        schema={"key": pl.String, "rules": pl.List(pl.String)},
    )
    found = matched.join(decided, on="key").select("account_pk", "territory_pk", "rule_pk", "rules")
    keys = ["account_pk", "territory_pk", "rule_pk"]
    return links.join(
        found, on=keys, how="left", nulls_equal=True, maintain_order="left"
    ).with_columns(
        rules=pl.when(pl.col("cause") == "rule")
        .then(pl.col("rules"))
        .otherwise(pl.lit([], pl.List(pl.String)))
    )


def _matched(
    stored: pl.DataFrame, effective: Mapping[int, Sequence[int]], satisfied: pl.DataFrame | None
) -> pl.DataFrame:
    """``stored`` with ``matched``: the effective rules the account satisfied (sorted), or
    the stored rule alone when the territory no longer has it (none when it was deleted)."""
    pairs = pl.DataFrame(
        [(t, r) for t, rs in effective.items() for r in rs],
        schema={"territory_pk": pl.Int64, "effective_pk": pl.Int64},
        orient="row",
    )
    candidates = stored.join(pairs, on="territory_pk")
    if satisfied is not None:
        candidates = candidates.join(
            satisfied.select("account_pk", effective_pk="rule_pk"),
            on=["account_pk", "effective_pk"],
            how="semi",
        )
    current = candidates.filter(pl.col("effective_pk") == pl.col("rule_pk"))
    matched = (
        candidates.join(current, on=["account_pk", "territory_pk"], how="semi")
        .group_by("account_pk", "territory_pk")
        .agg(pl.col("effective_pk").sort().alias("matched"))
    )
    alone = pl.concat_list(pl.col("rule_pk")).list.drop_nulls()
    return stored.join(matched, on=["account_pk", "territory_pk"], how="left").with_columns(
        matched=pl.coalesce(pl.col("matched"), alone)
    )


def _key() -> pl.Expr:
    """``territory:stored:rule,rule`` — one text per distinct (territory, stored rule,
    matched rules)."""
    return (
        pl.col("territory_pk").cast(pl.String)
        + ":"
        + pl.col("rule_pk").cast(pl.String).fill_null("")
        + ":"
        + pl.col("matched").list.eval(pl.element().cast(pl.String)).list.join(",")
    )


__all__ = ["named_rules", "rule_reasons"]
