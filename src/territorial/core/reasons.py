"""Which rules to name when saying why an account is in a territory.

A run stores one rule per rule assignment: the lowest-pk effective rule the account
satisfied (``engine.matcher``), which is an accident of creation order. With rules AND-ed
together it is usually a rule every territory around shares (``US_Accounts``), not the one
that puts the account here rather than in the next territory. Reports name instead the
rule that sets the territory apart from its **siblings** (the territories with the same
parent; top-level territories are siblings of each other):

* of the rules the account satisfied (all the territory's effective rules when a model
  requires all of them; those the account matches when it requires any), the one that no
  sibling has among its effective rules — a carved territory's ``<Territory>_Carve`` postal
  rule, not the ``US_Accounts`` and ``Commercial_Revenue`` rules every carved territory
  shares;
* when no single rule does (none, or several), every rule the account satisfied.

A stored rule that is no longer among the territory's effective rules (the rules changed
since the last run) is named alone, as the run recorded it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Mapping, Sequence

import polars as pl


def sibling_rules(
    parents: Mapping[int, int | None], effective: Mapping[int, Sequence[int]]
) -> dict[int, frozenset[int]]:
    """Per territory, those of its effective rules that a sibling territory has too.

    Examples
    --------
    >>> parents = {1: None, 2: 1, 3: 1, 4: 1}
    >>> effective = {2: (10, 11, 20), 3: (10, 11, 30), 4: (10, 40)}
    >>> {t: sorted(r) for t, r in sibling_rules(parents, effective).items()}
    {1: [], 2: [10, 11], 3: [10, 11], 4: [10]}
    """
    families: dict[int | None, list[int]] = {}
    for pk, parent in parents.items():
        families.setdefault(parent if parent in parents else None, []).append(pk)
    shared: dict[int, frozenset[int]] = {}
    for members in families.values():
        holders = Counter(rule for pk in members for rule in set(effective.get(pk, ())))
        for pk in members:
            shared[pk] = frozenset(r for r in effective.get(pk, ()) if holders[r] > 1)
    return shared


def deciding_rules(matched: Sequence[int], shared: Collection[int]) -> tuple[int, ...]:
    """The one matched rule that ``shared`` (the siblings' rules) lacks, or else every
    matched rule.

    Examples
    --------
    >>> deciding_rules((10, 11, 20), shared={10, 11, 30})
    (20,)
    >>> deciding_rules((10, 20, 21), shared={10})  # two set it apart: name them all
    (10, 20, 21)
    >>> deciding_rules((10, 11), shared={10, 11})
    (10, 11)
    """
    apart = [rule for rule in matched if rule not in shared]
    return (apart[0],) if len(apart) == 1 else tuple(matched)


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
    ...     "cause": ["rule", "rule", "manual"], "rule_pk": [10, 10, None]})
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
    combos = matched.select("key", "territory_pk", "matched").unique("key")
    decided = pl.DataFrame(
        {
            "key": combos["key"],
            "rules": [
                sorted(names.get(r, "?") for r in deciding_rules(rs, shared.get(t, frozenset())))
                for t, rs in combos.select("territory_pk", "matched").iter_rows()
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
    """``territory:rule,rule`` — one text per distinct (territory, matched rules)."""
    return (
        pl.col("territory_pk").cast(pl.String)
        + ":"
        + pl.col("matched").list.eval(pl.element().cast(pl.String)).list.join(",")
    )


__all__ = ["deciding_rules", "rule_reasons", "sibling_rules"]
