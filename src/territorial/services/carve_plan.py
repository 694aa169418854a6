"""A carve's scope and its plan in the new model: loading the accounts under the parent
(``load_scope``), naming the carved territories, the current territory of each item, the
successor of each replaced leaf (whose users it takes over) and writing the carved
territories, rules, manual assignments and exclusions into the cloned model.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np
import polars as pl
from scipy.optimize import linear_sum_assignment
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from territorial.core import tree
from territorial.core.carve.coverage import fill_coverage
from territorial.core.carve.units import compact_prefixes, postal_code, rule_items
from territorial.core.formula import compile_formula, formula_columns
from territorial.core.model import RULE_ITEM_LIMIT
from territorial.errors import ValidationError
from territorial.services import fields, lookup
from territorial.services.carve_cover import held_areas, overlap_warning, unclaimed_warning
from territorial.store import bulk, frames
from territorial.store.schema import (
    AccountAssignmentRow,
    ExclusionRow,
    RuleAssociationRow,
    RuleItemRow,
    RuleRow,
    TerritoryModelRow,
    TerritoryRow,
    UserAssignmentRow,
)


@dataclass(frozen=True)
class Scope:
    """The accounts under the carve's parent, its leaf territories and its subtree."""

    accounts: pl.DataFrame  # account_pk, id, fields..., current (territory pk or null), named
    leaves: list[TerritoryRow]
    parent: TerritoryRow
    subtree: list[int]
    inner: list[TerritoryRow]
    """The parent and the territories between it and the leaves."""


def load_scope(
    session: Session, model: TerritoryModelRow, parent: str, potential: str, workload: str
) -> Scope:
    parent_row = lookup.territory(session, model, parent)
    rows = list(
        session.scalars(
            select(TerritoryRow).where(TerritoryRow.model_pk == model.pk).order_by(TerritoryRow.pk)
        )
    )
    under = tree.subtree({r.pk: r.parent_pk for r in rows}, parent_row.pk) - {parent_row.pk}
    if not under:
        above = next((r.developer_name for r in rows if r.pk == parent_row.parent_pk), None)
        raise ValidationError(
            f"{parent_row.developer_name!r} has no territories under it to carve into.",
            hint=(
                f"To split it, rebalance its parent with more territories: --parent {above} "
                "--rebalance --territories N."
                if above
                else "Carve a territory that has territories under it."
            ),
        )
    subtree = [parent_row.pk, *sorted(under)]
    parents = {r.parent_pk for r in rows}
    leaves = [r for r in rows if r.pk in under and r.pk not in parents]
    assigned = frames.load_assignments(session, model.pk, territory_pks=subtree)
    if assigned.is_empty():
        raise ValidationError(
            f"No account is assigned under {parent_row.developer_name!r} in "
            f"{model.developer_name!r}.",
            hint=f"Run the model first: 'territorial run {model.developer_name}'.",
        )
    catalog = fields.catalog(session, "account")
    potential_columns = formula_columns(potential, catalog)
    workload_columns = formula_columns(workload, catalog)
    numeric = {*potential_columns.values(), *workload_columns.values()}
    wanted = {
        "id",
        "name",
        "latitude",
        "longitude",
        "billing_country",
        "billing_country_code",
        "billing_state_code",
        "billing_postal_code",
        "annual_revenue",
        *numeric,
    }
    scope_sql = "account.pk IN (SELECT account_pk FROM account_assignment aa WHERE " + (
        f"aa.model_pk = {int(model.pk)} AND {frames.in_list('aa.territory_pk', subtree)})"
    )
    accounts = frames.load_accounts(session, catalog, wanted, where=scope_sql)
    leaf_pks = [r.pk for r in leaves]
    current = (
        assigned.filter(pl.col("territory_pk").is_in(leaf_pks))
        .group_by("account_pk")
        .agg(pl.col("territory_pk").min().alias("current"))
    )
    manual = frames.load_assignments(session, model.pk, cause="manual")["account_pk"].unique()
    pipeline = bulk.read_frame(
        session,
        "SELECT account_pk, SUM(amount) FROM opportunity WHERE is_closed = "
        f"{'false' if bulk.dialect(session) == 'postgresql' else '0'} AND account_pk IN "
        f"(SELECT account.pk FROM account WHERE {scope_sql}) GROUP BY account_pk",
        {"account_pk": pl.Int64(), "pipeline": pl.Float64()},
    )
    frame = (
        accounts.rename({"pk": "account_pk"})
        .join(current, on="account_pk", how="left")
        .join(pipeline, on="account_pk", how="left")
        .with_columns(
            potential=compile_formula(potential, fields=potential_columns),
            accounts=pl.lit(1.0),
            workload=compile_formula(workload, fields=workload_columns),
            revenue=pl.col("annual_revenue").fill_null(0.0),
            pipeline=pl.col("pipeline").fill_null(0.0),
            named=pl.col("account_pk").is_in(manual.implode()),
            # Rules compare text ignoring case: 'us' and 'US' are one country to them.
            billing_country_code=pl.col("billing_country_code")
            .str.strip_chars()
            .str.to_uppercase(),
        )
    )
    inner = [r for r in rows if r.pk in subtree and r.pk in parents]
    return Scope(frame, leaves, parent_row, subtree, inner)


def mixed_branches(scope: Scope, rebalance: bool) -> list[str]:
    """A warning when the parent's leaves sit under several branches (segments, say):
    carving them together balances them against each other."""
    branches = Counter(leaf.parent_pk or 0 for leaf in scope.leaves)
    if len(branches) <= 1:
        return []
    names = {r.pk: r.developer_name for r in scope.inner}
    listed = ", ".join(sorted(f"{names.get(pk, '?')} ({n})" for pk, n in branches.items()))
    done = "moved accounts between them" if rebalance else "replaced them with one level"
    return [
        f"The leaves under {scope.parent.developer_name} sit under {len(branches)} branches "
        f"({listed}); the carve balanced them against each other and {done}. To keep the "
        "branches apart, carve each one (--parent BRANCH)."
    ]


def mostly_named(scope: Scope, lock_named: bool) -> list[str]:
    """A warning when most accounts in scope are assigned by hand (named accounts) and
    will become postal rules, which also take other accounts in those postal codes."""
    named = int(scope.accounts["named"].sum())
    if lock_named or named * 2 <= scope.accounts.height:
        return []
    return [
        f"{named:,} of the {scope.accounts.height:,} accounts under "
        f"{scope.parent.developer_name} are assigned by hand (named accounts); the carved "
        "postal rules will also take the other accounts in their postal codes. Pass "
        "--lock-named to keep them assigned by hand."
    ]


def named_accounts(scope: Scope, lock_named: bool) -> tuple[int, list[str]]:
    """How many named accounts ``--lock-named`` keeps (0 without it), and a warning when it
    finds none under the parent, so the option did nothing."""
    if not lock_named:
        return 0, []
    named = int(scope.accounts["named"].sum())
    if named:
        return named, []
    return 0, [
        f"--lock-named found no named accounts (accounts with a manual assignment in the "
        f"base model) among the {scope.accounts.height:,} accounts under "
        f"{scope.parent.developer_name}: it changed nothing."
    ]


def territory_names(
    scope: Scope, territories: int | None, rebalance: bool
) -> tuple[int, list[str], list[str]]:
    """(k, developer names, labels of new territories) of the carved territories."""
    prefix = scope.parent.developer_name
    existing = [r.developer_name for r in scope.leaves] if rebalance else []
    if territories is None and not rebalance:
        raise ValidationError("How many territories?", hint="Pass --territories K.")
    if territories is not None and territories < 2 and not rebalance:
        raise ValidationError(
            f"--territories must be at least 2 to carve, not {territories}.",
            hint="Pass --territories K with K of 2 or more.",
        )
    if rebalance and territories is not None and territories < len(existing):
        raise ValidationError(
            f"--rebalance keeps the {len(existing)} current territories under {prefix!r}; "
            f"--territories must be at least {len(existing)}, not {territories}.",
            hint="Pass a larger --territories, or carve from scratch without --rebalance.",
        )
    k = max(territories or 0, len(existing))
    if k < 1:
        raise ValidationError(
            f"{prefix!r} has no leaf territories to rebalance.", hint="Pass --territories K."
        )
    taken = {n.lower() for n in existing}
    new: list[str] = []
    number = 1
    while len(existing) + len(new) < k:
        candidate = f"{prefix}_{number:02d}"
        if candidate.lower() not in taken:
            new.append(candidate)
        number += 1
    return k, existing + new, new


def without_owner(
    session: Session, model: TerritoryModelRow, pks: dict[str, int], names: list[str], role: str
) -> list[str]:
    """A warning naming the carved territories where nobody holds ``role`` (the owner):
    new territories beyond the replaced leaves' successors, or a kept leaf that was vacant."""
    owned = set(
        session.scalars(
            select(UserAssignmentRow.territory_pk).where(
                UserAssignmentRow.territory_pk.in_(list(pks.values())),
                UserAssignmentRow.role == role,
            )
        )
    )
    vacant = [n for n in names if pks[n] not in owned]
    if not vacant:
        return []
    listed = ", ".join(vacant[:8]) + (", ..." if len(vacant) > 8 else "")
    one = len(vacant) == 1
    return [
        f"{len(vacant)} carved territor{'y has' if one else 'ies have'} no {role} "
        f"({listed}): assign one with 'territorial user assign {model.developer_name} USER "
        f'{vacant[0]} --role "{role}"\'.'
    ]


def current_and_locks(
    scope: Scope, items: object, rebalance: bool, lock_named: bool
) -> tuple[np.ndarray, np.ndarray | None]:
    from territorial.core.carve.units import Items

    assert isinstance(items, Items)
    index = {r.pk: i for i, r in enumerate(scope.leaves)}
    per_item = (
        items.accounts.with_columns(
            idx=pl.col("current").replace_strict(index, default=-1, return_dtype=pl.Int64)
        )
        .group_by("item")
        .agg(pl.col("idx").mode().min())
        .sort("item")
    )
    current = per_item["idx"].fill_null(-1).to_numpy().astype(np.int64)
    if not (lock_named and rebalance):
        return current, None
    named = items.accounts.group_by("item").agg(pl.col("named").any()).sort("item")["named"]
    return current, np.where(named.to_numpy(), current, -1).astype(np.int64)


def matched(before: np.ndarray, after: np.ndarray, k: int) -> np.ndarray:
    """Old territories renumbered as the new territory that keeps most of their accounts,
    so that disruption from scratch counts the accounts that change hands. An old
    territory without a successor (fewer new territories than old) gets a number no new
    territory has (``k`` + its index): all its accounts change hands.

    >>> matched(np.array([0, 0, 1, 2, -1]), np.array([1, 1, 0, 0, 0]), 2).tolist()
    [1, 1, 0, 4, -1]
    """
    known = before >= 0
    if not known.any():
        return before
    mapping = _successors(before, after, k)
    mapping = np.where(mapping >= 0, mapping, k + np.arange(len(mapping)))
    return np.where(known, mapping[np.maximum(before, 0)], -1)


def _successors(before: np.ndarray, after: np.ndarray, k: int) -> np.ndarray:
    """For every old territory (index in ``before``), the new territory that succeeds it:
    one-to-one, keeping as many accounts together as possible; -2 when none does."""
    known = before >= 0
    width = int(before.max()) + 1 if known.any() else 0
    overlap = np.zeros((width, k))
    np.add.at(overlap, (before[known], after[known]), 1.0)
    rows, cols = linear_sum_assignment(-overlap)
    mapping = np.full(width, -2, dtype=np.int64)
    mapping[rows] = cols
    return mapping


def successor_names(
    scope: Scope, before: np.ndarray, after: np.ndarray, names: list[str]
) -> dict[str, str]:
    """New territory name -> the replaced leaf it succeeds (see :func:`_successors`)."""
    if not scope.leaves or not (before >= 0).any():
        return {}
    mapping = _successors(before, after, len(names))
    return {
        names[int(t)]: scope.leaves[i].developer_name
        for i, t in enumerate(mapping)
        if t >= 0 and i < len(scope.leaves)
    }


def users_to_carry(
    session: Session, model: TerritoryModelRow, scope: Scope, successors: dict[str, str]
) -> tuple[list[tuple[str, int, str]], list[str]]:
    """(new territory, user pk, role) for the users of replaced leaves in the clone, and
    the replaced leaves holding users that no new territory succeeds."""
    leaf_names = [r.developer_name for r in scope.leaves]
    rows = session.execute(
        select(TerritoryRow.developer_name, UserAssignmentRow.user_pk, UserAssignmentRow.role)
        .join(UserAssignmentRow, UserAssignmentRow.territory_pk == TerritoryRow.pk)
        .where(TerritoryRow.model_pk == model.pk, TerritoryRow.developer_name.in_(leaf_names))
        .order_by(TerritoryRow.developer_name, UserAssignmentRow.user_pk)
    ).all()
    heir = {old: new for new, old in successors.items()}
    carried = [(heir[t], int(u), str(r)) for t, u, r in rows if t in heir]
    dropped = sorted({str(t) for t, _u, _r in rows if t not in heir})
    return carried, dropped


def write_plan(
    session: Session,
    model: TerritoryModelRow,
    scope: Scope,
    names: list[str],
    new: list[str],
    rebalance: bool,
) -> dict[str, int]:
    """Carved territories in the clone; returns their pks by developer name."""
    rows = {
        r.developer_name: r
        for r in session.scalars(select(TerritoryRow).where(TerritoryRow.model_pk == model.pk))
    }
    parent = rows[scope.parent.developer_name]
    old = {
        r.pk: r.developer_name
        for r in session.scalars(select(TerritoryRow).where(TerritoryRow.pk.in_(scope.subtree[1:])))
    }
    clone_subtree = [rows[n].pk for n in old.values()]
    type_pk = scope.leaves[0].type_pk if scope.leaves else parent.type_pk
    scope_accounts = scope.accounts["account_pk"].to_list()
    shared = _shared_rules(session, model, rows, scope)
    leaves = [rows[n].pk for n in names if n in rows] if rebalance else clone_subtree
    used = set(
        session.scalars(
            select(RuleAssociationRow.rule_pk).where(RuleAssociationRow.territory_pk.in_(leaves))
        )
    )
    if rebalance:
        session.execute(
            delete(RuleAssociationRow).where(RuleAssociationRow.territory_pk.in_(leaves))
        )
        for decided in (AccountAssignmentRow, ExclusionRow):  # the carve decides them anew
            session.execute(
                delete(decided).where(
                    decided.territory_pk.in_(clone_subtree),
                    decided.account_pk.in_(scope_accounts),
                )
            )
    else:
        for table in (RuleAssociationRow, UserAssignmentRow, ExclusionRow, AccountAssignmentRow):
            session.execute(delete(table).where(table.territory_pk.in_(clone_subtree)))
        session.execute(
            update(TerritoryRow).where(TerritoryRow.pk.in_(clone_subtree)).values(parent_pk=None)
        )
        session.execute(delete(TerritoryRow).where(TerritoryRow.pk.in_(clone_subtree)))
    for n in new:
        row = TerritoryRow(
            model_pk=model.pk,
            developer_name=n,
            name=n.replace("_", " "),
            type_pk=type_pk,
            parent_pk=parent.pk,
            description="Carved by 'territorial carve'.",
        )
        session.add(row)
        rows[n] = row
    session.flush()
    session.add_all(
        RuleAssociationRow(rule_pk=rule_pk, territory_pk=rows[n].pk, inherited=False)
        for n in names
        for rule_pk in sorted(shared)
    )
    _drop_orphan_rules(session, used)
    return {n: rows[n].pk for n in names}


def _shared_rules(
    session: Session, model: TerritoryModelRow, rows: dict[str, TerritoryRow], scope: Scope
) -> set[int]:
    """Rules (pks in the clone) effective on every carved leaf through the carved subtree
    (attached to the leaf, or inherited from a territory between it and the parent): they
    say who belongs under the parent (a segment's revenue band, a country), so every carved
    territory keeps them beside its postal rule. Empty when the model combines rules with
    'any', where they cannot narrow a postal rule."""
    if model.rule_combination != "all" or not scope.leaves:
        return set()
    carved = [*scope.leaves, *scope.inner]
    to_clone = {r.pk: rows[r.developer_name].pk for r in carved}
    parent_of = {to_clone[r.pk]: to_clone.get(r.parent_pk or 0) for r in carved}
    parent_pk = to_clone[scope.parent.pk]
    associations = session.execute(
        select(
            RuleAssociationRow.rule_pk,
            RuleAssociationRow.territory_pk,
            RuleAssociationRow.inherited,
        ).where(RuleAssociationRow.territory_pk.in_(parent_of))
    ).all()
    shared: set[int] | None = None
    for leaf in scope.leaves:
        pk = to_clone[leaf.pk]
        chain, node = {pk}, parent_of.get(pk)
        while node is not None and node != parent_pk:
            chain.add(node)
            node = parent_of.get(node)
        effective = {
            rule for rule, territory, inherited in associations
            if territory == pk or (territory in chain and inherited)
        }  # fmt: skip
        shared = effective if shared is None else shared & effective
    return shared or set()


def held_by_others(session: Session, model: TerritoryModelRow, scope: Scope) -> pl.DataFrame:
    """The US ZIP3 areas that accounts of other territories of the carved type hold in the
    base ``model`` (``carve_cover.held_areas``): the carved rules leave them alone."""
    rows = session.scalars(select(TerritoryRow).where(TerritoryRow.model_pk == model.pk))
    shared = _shared_rules(session, model, {r.developer_name: r for r in rows}, scope)
    return held_areas(session, model, scope, shared)


def _drop_orphan_rules(session: Session, used: set[int]) -> None:
    """Delete the rules among ``used`` that no territory uses any more (the carved
    territories' own postal rules replace them)."""
    session.flush()
    still = set(
        session.scalars(
            select(RuleAssociationRow.rule_pk).where(RuleAssociationRow.rule_pk.in_(used))
        )
    )
    if used - still:
        session.execute(delete(RuleRow).where(RuleRow.pk.in_(used - still)))


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
            f"{carried:,} account{'s' if carried != 1 else ''} outside the carve that "
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


def item_label(key: str) -> str:
    return f"account {key[8:]}" if key.startswith("account:") else f"unit {key}"


__all__ = [
    "Scope",
    "current_and_locks",
    "held_by_others",
    "item_label",
    "load_scope",
    "matched",
    "mixed_branches",
    "mostly_named",
    "named_accounts",
    "successor_names",
    "territory_names",
    "users_to_carry",
    "without_owner",
    "write_plan",
    "write_rules_and_assignments",
]
