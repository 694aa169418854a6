"""A carve's scope and its plan in the new model: loading the accounts under the parent
(``load_scope``), naming the carved territories, the current territory of each item, the
successor of each replaced leaf (whose users it takes over) and writing the carved
territories into the cloned model (their rules: ``carve_rules``).
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
from territorial.core.formula import compile_formula, formula_columns
from territorial.errors import ValidationError
from territorial.services import fields, lookup
from territorial.services.carve_cover import held_areas
from territorial.store import bulk, frames
from territorial.store.schema import (
    AccountAssignmentRow,
    ExclusionRow,
    RuleAssociationRow,
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
]
