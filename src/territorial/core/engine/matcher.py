"""The vectorized assignment engine: accounts × compiled model → assignments.

``match`` runs the model's plan (``engine.plan``: one target per distinct tuple of
effective rules, anchored conjunctions) with ``engine.execute`` to find the (row,
conjunction) pairs that hold, maps each conjunction to its target's territories, and sorts
the result once on a packed integer key, keeping per (account, territory) the rule that
comes first in the territory's rule order (``rules.deciding``). Territories whose ``all``
rules were too many to merge (``plan.MAX_PRODUCT``) are combined rule by rule
(``_all_rules``). Exclusions and ``excluded_from_realign`` win over rules.

The result has one row per (account, territory) with ``rule_pk`` = the rule a run records:
of the territory's effective rules that the account satisfies, the first in its rule order
(a rule that no sibling territory has, before the rules siblings share; then by pk),
sorted by account_pk then territory_pk. It agrees exactly with ``rules.reference.evaluate``
(property-tested).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import polars as pl

from territorial.core.engine.columns import Columns, Ints
from territorial.core.engine.execute import Csr, matching_pairs, model_tables
from territorial.core.engine.expressions import literal_types, prepare, rule_expr
from territorial.core.engine.plan import ModelPlan, model_plan
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


def satisfied_rules(
    accounts: pl.DataFrame, compiled: CompiledModel, rule_pks: Iterable[int]
) -> pl.DataFrame:
    """``account_pk``, ``rule_pk`` for each account and each of the active rules
    ``rule_pks`` it satisfies, one expression per rule: to say which rules matched, for a
    few accounts (``match`` keeps one rule per territory).

    ``accounts`` is shaped as for ``match``. Inactive or unknown rule pks are left out.

    Examples
    --------
    >>> from territorial.core.fields import FieldCatalog
    >>> from territorial.core.model import Rule, RuleItem
    >>> from territorial.core.rules.compile import ModelInput, TerritoryNode, compile_model
    >>> model = ModelInput(
    ...     territories=[TerritoryNode(1)],
    ...     rules=[Rule("CA", (RuleItem(1, "BillingStateCode", "equals", "CA"),), id=8),
    ...            Rule("West", (RuleItem(1, "BillingStateCode", "equals", "CA,NV"),), id=9)],
    ...     associations=[(8, 1, False), (9, 1, False)],
    ... )
    >>> compiled = compile_model(model, FieldCatalog.standard("account"))
    >>> accounts = pl.DataFrame({"pk": [1, 2], "billing_state_code": ["ca", "NV"]})
    >>> satisfied_rules(accounts, compiled, [8, 9]).sort("account_pk", "rule_pk").rows()
    [(1, 8), (1, 9), (2, 9)]
    """
    rules = [compiled.rules[pk] for pk in sorted(set(rule_pks)) if pk in compiled.rules]
    frame = prepare(accounts, rules, fields=literal_types(rules), drop_excluded=False)
    pairs = rule_pairs_by_scan(frame, rules)
    return pl.DataFrame(
        {
            "account_pk": frame["pk"].cast(pl.Int64).gather(pairs["row"]),
            "rule_pk": pairs["rule_pk"],
        }
    )


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
    """Rows satisfying every effective rule of each multi-rule territory, with the first
    rule of the territory's rule order (every one of them holds).

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
        drivers.append((driver, t, compiled.rule_order[t][0], len(rules) - 1))
        others.extend((t, pk) for pk in rules if pk != driver)
    driver_table = pl.DataFrame(
        drivers,
        schema={
            "rule_pk": pl.Int64,
            "territory_pk": pl.Int64,
            "recorded": pl.Int64,
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
    return kept.select("row", "territory_pk", pl.col("recorded").alias("rule_pk"))


def _any_rule(pairs: pl.DataFrame, compiled: CompiledModel, multi: list[int]) -> pl.DataFrame:
    """Rows satisfying some effective rule of each multi-rule territory, with the first of
    those rules in the territory's rule order."""
    ranks = pl.DataFrame(
        [(r, t, i) for t in multi for i, r in enumerate(compiled.rule_order[t])],
        schema={"rule_pk": pl.Int64, "territory_pk": pl.Int64, "rank": pl.Int64},
        orient="row",
    )
    joined = pairs.join(ranks, on="rule_pk")
    return joined.group_by("row", "territory_pk").agg(pl.col("rule_pk").sort_by("rank").first())


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
        sorted by them; ``rule_pk`` is the satisfied effective rule a run records, the first
        in the territory's rule order (``CompiledModel.rule_order``).

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
    plan = model_plan(compiled)
    if not plan.targets:
        return empty_result()
    rules = [compiled.rules[pk] for pk in sorted(effective_rule_pks(compiled))]
    frame = prepare(accounts, rules, fields=literal_types(rules), drop_excluded=False)
    excluded = frame["excluded_from_realign"].fill_null(False).to_numpy()
    cols = Columns(frame, ~np.asarray(excluded, dtype=bool))
    rows, cids = matching_pairs(cols, model_tables(compiled, plan))
    layout = _layout(compiled, plan)
    order, pk_by_order = _account_order(frame["pk"])
    assigned_rows, assigned = layout.assigned.expand(rows, cids)
    if plan.fallback:
        more_rows, more = _fallback_pairs(compiled, plan, layout, rows, cids)
        assigned_rows = np.concatenate([assigned_rows, more_rows])
        assigned = np.concatenate([assigned, more])
    ranks = assigned_rows if order is None else order[assigned_rows]
    result = _sorted_result(layout, pk_by_order, ranks, assigned, reuse=True)
    return _without_exclusions(result, exclusions)


@dataclass
class Layout:
    """Integer ranks of territories, slots of their rules, and what each conjunction
    assigns.

    Each territory's effective rules take consecutive *slots*, in the territory's rule order
    (``rules.deciding``), territory after territory in rank order. A (territory, rule)
    assignment is packed as ``territory_rank << rule_bits | slot``: of the packed values of
    one (account, territory), the lowest holds the rule a run records.
    """

    territory_pks: Ints
    rule_pks: Ints
    """The rule pk in each slot."""
    rule_starts: Ints
    """By territory rank, the territory's first slot."""
    rule_bits: int
    territory_bits: int
    cid_target: Ints
    assigned: Csr
    """Packed (territory, rule) assignments by cid: one per territory of its target."""
    repeats: bool = True
    """Some target has several conjunctions, so an account can get a territory twice."""


def _bits(count: int) -> int:
    return max(1, (count - 1).bit_length())


def _layout(compiled: CompiledModel, plan: ModelPlan) -> Layout:
    layout = compiled.engine_cache.get("layout")
    if isinstance(layout, Layout):
        return layout
    territories = sorted(compiled.effective)
    orders = [compiled.rule_order[pk] for pk in territories]
    starts = np.cumsum([0, *map(len, orders[:-1])], dtype=np.int64)
    rule_bits = _bits(int(starts[-1]) + len(orders[-1]))
    territory_rank = {pk: i for i, pk in enumerate(territories)}
    # Under ``all`` the account satisfied every rule of the territory, so the first of its
    # order is recorded (its first slot); under ``any``, the conjunction's rule.
    first = {pk: int(start) for pk, start in zip(territories, starts, strict=True)}
    slot: dict[tuple[int, int], int] = {}
    if plan.combination != "all":
        for pk, order in zip(territories, orders, strict=True):
            slot.update({(pk, rule): first[pk] + i for i, rule in enumerate(order)})
    cids, packed = [], []
    for conj in plan.conjunctions:
        for pk in plan.targets[conj.target].territories:
            cids.append(conj.cid)
            chosen = slot[pk, conj.rule_pk] if slot else first[pk]
            packed.append(territory_rank[pk] << rule_bits | chosen)
    layout = Layout(
        np.array(territories, dtype=np.int64),
        np.array([r for order in orders for r in order], dtype=np.int64),
        starts,
        rule_bits,
        _bits(len(territories)),
        np.array([c.target for c in plan.conjunctions], dtype=np.int64),
        Csr.build(cids, packed, len(plan.conjunctions)),
        any(
            count > 1 and plan.targets[target].territories
            for target, count in Counter(c.target for c in plan.conjunctions).items()
        ),
    )
    compiled.engine_cache["layout"] = layout
    return layout


def _account_order(pks: pl.Series) -> tuple[Ints | None, Ints]:
    """Each row's position in account pk order (None: the rows are in that order), and
    the pks in that order."""
    values = pks.cast(pl.Int64).to_numpy()
    if values.size < 2 or bool(np.all(values[1:] > values[:-1])):
        return None, values
    by_pk = np.argsort(values, kind="stable")
    order = np.empty(values.size, dtype=np.int64)
    order[by_pk] = np.arange(values.size)
    return order, values[by_pk]


def _fallback_pairs(
    compiled: CompiledModel, plan: ModelPlan, layout: Layout, rows: Ints, cids: Ints
) -> tuple[Ints, Ints]:
    """(row, packed assignment) of the territories combined rule by rule (every rule of
    such a territory holds, so the first of its rule order is recorded: its first slot)."""
    rule_of_target = {t: pk for pk, t in plan.rule_target.items()}
    rule_pk = np.array(
        [rule_of_target.get(t, -1) for t in range(len(plan.targets))], dtype=np.int64
    )[layout.cid_target[cids]]
    pairs = pl.DataFrame(
        {"row": rows.astype(np.uint32), "rule_pk": rule_pk}, schema=PAIR_SCHEMA
    ).filter(pl.col("rule_pk") >= 0)
    found = _all_rules(pairs.unique(), compiled, sorted(plan.fallback))
    territory = np.searchsorted(layout.territory_pks, found["territory_pk"].to_numpy())
    packed = territory << layout.rule_bits | layout.rule_starts[territory]
    return found["row"].cast(pl.Int64).to_numpy(), packed


def _sorted_result(
    layout: Layout, pk_by_order: Ints, order: Ints, assigned: Ints, *, reuse: bool = False
) -> pl.DataFrame:
    """The assignment frame, sorted, with the recorded rule per (account, territory).

    Each pair is packed in one int64 key (account rank, territory rank, rule rank), sorted
    in place (the pairs come in a few sorted runs, which a stable sort merges), and the
    columns are unpacked from it. ``reuse``: ``order`` and ``assigned`` may be overwritten.
    """
    shift = layout.territory_bits + layout.rule_bits
    if _bits(pk_by_order.size) + shift > 63:
        return _sorted_result_by_columns(layout, pk_by_order, order, assigned)
    key = order if reuse and order.dtype == np.int64 else order.astype(np.int64)
    np.left_shift(key, shift, out=key)
    np.bitwise_or(key, assigned, out=key)
    key.sort(kind="stable")
    # One spare buffer for the temporaries: fresh memory costs more than the work here.
    reusable = reuse and assigned.dtype == np.int64 and assigned.shape == key.shape
    spare = assigned if reusable else np.empty_like(key)
    if layout.repeats and key.size > 1:
        # Sorted keys of the same (account, territory) differ only in the rule bits.
        np.bitwise_xor(key[1:], key[:-1], out=spare[1:])
        first = np.empty(key.size, dtype=bool)
        first[0] = True
        np.greater_equal(spare[1:], 1 << layout.rule_bits, out=first[1:])
        count = int(np.count_nonzero(first))
        if count < key.size:
            np.compress(first, key, out=spare[:count])
            key, spare = spare[:count], key
    low = np.bitwise_and(key, (1 << shift) - 1, out=spare[: key.size])
    np.right_shift(key, shift, out=key)
    if _consecutive(pk_by_order):
        account_pks = np.add(key, pk_by_order[0], out=key)
    else:
        account_pks = pk_by_order[key]
    return _result(layout, account_pks, low)


def _consecutive(pks: Ints) -> bool:
    """The pks are first, first + 1, ... (so a rank plus the first is the pk)."""
    if not pks.size or int(pks[-1]) - int(pks[0]) != pks.size - 1:
        return False
    return pks.size < 2 or bool(np.all(pks[1:] > pks[:-1]))


def _result(layout: Layout, account_pks: Ints, assigned: Ints) -> pl.DataFrame:
    """The frame of sorted, distinct pairs; ``assigned`` is overwritten (it becomes the
    territory column)."""
    # take with mode="clip" writes ``out`` directly, each element after reading its index.
    rule_pks = np.bitwise_and(assigned, (1 << layout.rule_bits) - 1)
    np.take(layout.rule_pks, rule_pks, out=rule_pks, mode="clip")
    np.right_shift(assigned, layout.rule_bits, out=assigned)
    territory_pks = np.take(layout.territory_pks, assigned, out=assigned, mode="clip")
    return pl.DataFrame(
        {"account_pk": account_pks, "territory_pk": territory_pks, "rule_pk": rule_pks},
        schema=RESULT_SCHEMA,
    )


def _sorted_result_by_columns(
    layout: Layout, pk_by_order: Ints, order: Ints, assigned: Ints
) -> pl.DataFrame:
    """``_sorted_result`` when the order and assignment do not fit in one 63-bit key."""
    ranked = pl.DataFrame({"o": order, "a": assigned}).sort("o", "a")
    ranked = ranked.with_columns(t=pl.col("a") // (1 << layout.rule_bits))
    ranked = ranked.unique(subset=["o", "t"], keep="first", maintain_order=True)
    return _result(layout, pk_by_order[ranked["o"].to_numpy()], ranked["a"].to_numpy(writable=True))


def _without_exclusions(result: pl.DataFrame, exclusions: pl.DataFrame | None) -> pl.DataFrame:
    if exclusions is None or not exclusions.height:
        return result
    return result.join(
        exclusions.select(
            pl.col("territory_pk").cast(pl.Int64), pl.col("account_pk").cast(pl.Int64)
        ),
        on=["account_pk", "territory_pk"],
        how="anti",
        maintain_order="left",
    )


__all__ = [
    "combine",
    "empty_result",
    "match",
    "match_by_scan",
    "rule_pairs_by_scan",
    "satisfied_rules",
]
