"""Carve a territory's accounts into balanced territories, written as a new planning model.

``carve_model`` loads the accounts assigned under ``parent`` in the base model, groups them
into items (accounts or postal units), carves them (``territorial.core.carve``), clones the
base model and writes the carved territories under ``parent``: one postal-prefix rule per
territory for units, manual assignments for single accounts (account carving, locked
named accounts, accounts without a postal code). The usual run → compare → activate
lifecycle then applies to the new model.

From scratch, the parent's descendants are replaced by ``territories`` new ones. With
``rebalance``, the parent's current leaf territories are kept (plus new ones up to
``territories``) and accounts move between them only where balance needs it.

With ``reps`` (and/or ``reps_role``), one territory is carved per rep: centred on the rep's
home (a fixed centre), sized by the rep's capacity share, and the rep is its
'Territory Owner' in the new model.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import polars as pl
from scipy.optimize import linear_sum_assignment
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from territorial.core import tree
from territorial.core.carve import (
    BalanceReport,
    CarveProblem,
    Contiguity,
    balance_report,
    carve,
    compactness,
    compile_formula,
    contiguity,
    disruption,
    formula_fields,
    kmeans_reference,
    to_latlon,
    to_xyz,
    unit_graph,
)
from territorial.core.carve.units import build_items, rule_items
from territorial.errors import ValidationError
from territorial.io.tabular import fail, read_table
from territorial.services import audit, fields, lookup, models
from territorial.services.workspace import Workspace
from territorial.store import bulk, frames
from territorial.store.schema import (
    AccountAssignmentRow,
    ExclusionRow,
    RuleAssociationRow,
    RuleItemRow,
    RuleRow,
    SalesUser,
    TerritoryModelRow,
    TerritoryRow,
    UserAssignmentRow,
)

MEASURES = ("potential", "accounts", "workload")
DEFAULT_POTENTIAL = "annual_revenue"
DEFAULT_WORKLOAD = "1 + number_of_employees / 1000"
STAGES = ("load", "carve", "quality", "write")
OWNER_ROLE = "Territory Owner"


@dataclass(frozen=True)
class Rep:
    """A rep to carve a territory for; missing values come from the user's record."""

    user: str
    """User id, email or exact name."""
    home_latitude: float | None = None
    home_longitude: float | None = None
    capacity: float | None = None


@dataclass(frozen=True)
class TerritoryLoad:
    """One carved territory: what it holds and how far from target (relative)."""

    developer_name: str
    name: str
    accounts: int
    measures: dict[str, float]
    deviations: dict[str, float]
    new: bool
    owner: str | None = None
    """User id of the rep who owns the territory (carving for reps)."""
    users_from: str | None = None
    """The replaced territory whose users this one took over (carving from scratch)."""


@dataclass(frozen=True)
class CarveQuality:
    """Every quality figure of a plan (see docs/carving.md)."""

    balance: BalanceReport
    compactness_km: float
    kmeans_km: float
    contiguity: Contiguity | None
    disruption: dict[str, float]

    @property
    def compactness_ratio(self) -> float:
        return self.compactness_km / self.kmeans_km if self.kmeans_km > 0 else 1.0


@dataclass(frozen=True)
class CarveResult:
    """The model written, its territories, the quality report and the plan per account."""

    model: models.ModelInfo
    territories: list[TerritoryLoad]
    quality: CarveQuality
    plan: pl.DataFrame
    """account_id, latitude, longitude, territory, before (developer names)."""
    centres: pl.DataFrame
    """territory, latitude, longitude."""
    seconds: float
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Scope:
    accounts: pl.DataFrame  # account_pk, id, fields..., current (territory pk or null), named
    leaves: list[TerritoryRow]
    parent: TerritoryRow
    subtree: list[int]


@dataclass(frozen=True)
class _Rep:
    pk: int
    id: str
    latitude: float
    longitude: float
    capacity: float


def carve_model(
    ws: Workspace,
    base: str,
    *,
    parent: str,
    name: str,
    territories: int | None = None,
    balance: Sequence[str] = MEASURES,
    tolerance: float | dict[str, float] = 0.05,
    units: str = "account",
    rebalance: bool = False,
    lock_named: bool = False,
    potential: str = DEFAULT_POTENTIAL,
    workload: str = DEFAULT_WORKLOAD,
    keep: float = 1.0,
    max_distance: float | None = None,
    seed: int | None = None,
    developer_name: str | None = None,
    reps: Sequence[Rep] | None = None,
    reps_role: str | None = None,
    on_stage: Callable[[str], None] | None = None,
) -> CarveResult:
    """Carve the accounts under ``parent`` in ``base`` into a new planning model ``name``.

    Parameters
    ----------
    territories
        Number of territories (required from scratch; with ``rebalance``, at least the
        current leaves, new ones are added up to it).
    balance
        Measures to balance: ``potential``, ``accounts``, ``workload``.
    tolerance
        Relative tolerance, one for all or per measure (``{"potential": 0.05}``).
    units
        ``account``, ``zip3`` or ``zip5``.
    lock_named
        Keep named accounts (those with a manual assignment in the base model) in their
        current territory (rebalance) or together (from scratch).
    potential, workload
        Formulas over account number fields (docs/carving.md).
    keep
        Weight for keeping an account in its current territory (rebalance).
    max_distance
        Most kilometres from an account to its territory's centre.
    seed
        Same seed, same plan.
    reps, reps_role
        Carve one territory per rep instead of ``territories``: the listed reps and/or
        every user holding ``reps_role`` on a territory under ``parent`` in ``base``.
        Each territory is centred on its rep's home, sized by the rep's capacity share
        (1.0 when unknown), and the rep is its 'Territory Owner' in the new model.
    """
    import time

    started = time.perf_counter()
    stage = on_stage or (lambda _s: None)
    wanted = _measures(balance)
    tolerances = _tolerances(tolerance, wanted)
    carving_for_reps = reps is not None or reps_role is not None
    if carving_for_reps:
        _check_rep_options(territories, rebalance)
    stage("load")
    with ws.session() as session:
        base_row = lookup.model(session, base)
        owners = (
            _resolve_reps(session, base_row, parent, reps or (), reps_role)
            if carving_for_reps
            else []
        )
        scope = _load_scope(session, base_row, parent, potential, workload)
    k, names, labels_new = _territory_names(
        scope, len(owners) if owners else territories, rebalance
    )
    items = build_items(
        scope.accounts, units, [*MEASURES, "revenue"], alone=pl.col("named") if lock_named else None
    )
    current, locks = _current_and_locks(scope, items, rebalance, lock_named)
    revenue = items.frame["revenue"].to_numpy() if "revenue" in items.frame.columns else None
    problem = CarveProblem(
        items.points,
        items.frame.select(wanted).to_numpy().astype(np.float64),
        k,
        names=tuple(wanted),
        tolerance=np.array([tolerances[m] for m in wanted]),
        locks=locks,
        current=current if rebalance else None,
        keep=keep if rebalance else 0.0,
        move_cost=None if revenue is None else 0.5 + 0.5 * revenue / max(revenue.mean(), 1e-9),
        size=items.frame["size"].to_numpy().astype(np.float64),
        max_distance=max_distance,
        labels=tuple(_item_label(key) for key in items.frame["key"]),
        territory_names=tuple(names),
        shares=np.array([r.capacity for r in owners]) if owners else None,
        centres=to_xyz([r.latitude for r in owners], [r.longitude for r in owners])
        if owners
        else None,
    )
    stage("carve")
    graph = unit_graph(items.points) if units != "account" else None
    plan = carve(problem, seed=seed, graph=graph)
    stage("quality")
    account_item = items.accounts["item"].to_numpy()
    after = plan.assignment[account_item]
    quality = _quality(problem, plan.assignment, graph, seed, items.accounts, current, after, k)
    warnings = _warnings(quality, problem)
    # From scratch without reps, each replaced leaf's users go to the territory succeeding it.
    carrying = not rebalance and not owners
    successors = _successor_names(scope, current[account_item], after, names) if carrying else {}
    stage("write")
    info = models.clone_model(ws, base, name, developer_name=developer_name)
    with ws.session() as session:
        model_row = lookup.model(session, info.developer_name)
        carried, dropped = (
            _users_to_carry(session, model_row, scope, successors) if carrying else ([], [])
        )
        pks = _write_plan(session, model_row, scope, names, labels_new, rebalance)
        _write_rules_and_assignments(session, model_row, items, plan.assignment, pks, names)
        session.add_all(
            UserAssignmentRow(territory_pk=pks[n], user_pk=r.pk, role=OWNER_ROLE)
            for n, r in zip(names, owners, strict=False)
        )
        session.add_all(
            UserAssignmentRow(territory_pk=pks[n], user_pk=user_pk, role=role)
            for n, user_pk, role in carried
        )
        if dropped:
            warnings.append(
                f"{len(dropped)} territor{'y' if len(dropped) == 1 else 'ies'} replaced with "
                f"no successor ({', '.join(dropped[:5])}{', ...' if len(dropped) > 5 else ''}):"
                " their users were not carried over; assign them with 'territorial user "
                "assign' or carve more territories."
            )
        audit.record(
            session,
            actor=ws.actor,
            action="model.carve",
            entity="model",
            key=model_row.developer_name,
            model_pk=model_row.pk,
            after={
                "base": base,
                "parent": parent,
                "territories": k,
                "units": units,
                "seed": seed,
                "rebalance": rebalance,
                "reps": {n: r.id for n, r in zip(names, owners, strict=False)} or None,
            },
        )
        info = models.model_info(session, model_row)
    return _result(
        info,
        problem,
        items,
        plan,
        names,
        labels_new,
        quality,
        scope,
        after,
        time.perf_counter() - started,
        warnings,
        [r.id for r in owners],
        successors,
    )


def read_reps(path: Path | str) -> list[Rep]:
    """Reps from a CSV or Parquet file: ``user`` (id or email), optional ``home_latitude``,
    ``home_longitude`` and ``capacity`` (empty: taken from the user's record)."""
    table = read_table(path)
    frame = table.frame
    if "user" not in frame.columns:
        raise fail(path, "missing column 'user'", hint="name each rep by user id or email")
    numbers = ("home_latitude", "home_longitude", "capacity")
    out = []
    for i, row in enumerate(frame.iter_rows(named=True)):
        user = (row["user"] or "").strip()
        if not user:
            raise fail(path, "empty user", row=table.rows([i])[0], column="user")
        values: dict[str, float | None] = {}
        for column in numbers:
            text = (row.get(column) or "").strip()
            try:
                values[column] = float(text) if text else None
            except ValueError:
                raise fail(
                    path, f"{text!r} is not a number", row=table.rows([i])[0], column=column
                ) from None
        out.append(Rep(user, **values))
    return out


def _check_rep_options(territories: int | None, rebalance: bool) -> None:
    if territories is not None:
        raise ValidationError(
            "--reps and --reps-from-users carve one territory per rep; "
            "they cannot be combined with --territories.",
            hint="Drop --territories (or the reps).",
        )
    if rebalance:
        raise ValidationError(
            "Carving for reps starts from scratch; it cannot be combined with --rebalance.",
            hint="Drop --rebalance (or the reps).",
        )


def _resolve_reps(
    session: Session,
    model: TerritoryModelRow,
    parent: str,
    reps: Sequence[Rep],
    role: str | None,
) -> list[_Rep]:
    """The reps' users with home and capacity, listed reps first, then ``role`` holders."""
    given: dict[int, tuple[SalesUser, Rep]] = {}
    for rep in reps:
        user = lookup.user(session, rep.user)
        if user.pk in given:
            raise ValidationError(f"Rep {rep.user!r} is listed twice.", hint="List each rep once.")
        given[user.pk] = (user, rep)
    if role is not None:
        parent_row = lookup.territory(session, model, parent)
        under = _descendants(session, model, parent_row.pk)
        holders = session.scalars(
            select(SalesUser)
            .join(UserAssignmentRow, UserAssignmentRow.user_pk == SalesUser.pk)
            .where(UserAssignmentRow.territory_pk.in_(under), UserAssignmentRow.role == role)
            .distinct()
            .order_by(SalesUser.id)
        )
        found = list(holders)
        if not found:
            raise ValidationError(
                f"No user holds role {role!r} on a territory under {parent_row.developer_name!r} "
                f"in {model.developer_name!r}.",
                hint="Check the role ('territorial user list MODEL') or pass --reps FILE.",
            )
        for user in found:
            given.setdefault(user.pk, (user, Rep(user.id)))
    if len(given) < 2:
        raise ValidationError(
            f"Carving for reps needs at least 2 reps, not {len(given)}.",
            hint="List more reps; to keep one territory, do not carve it.",
        )
    out = []
    for user, rep in given.values():
        lat = rep.home_latitude if rep.home_latitude is not None else user.home_latitude
        lon = rep.home_longitude if rep.home_longitude is not None else user.home_longitude
        if lat is None or lon is None:
            raise ValidationError(
                f"Rep {user.id!r} ({user.name}) has no home location.",
                hint="Give home_latitude and home_longitude in the reps file or on the user.",
            )
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise ValidationError(
                f"Rep {user.id!r} has an invalid home location ({lat}, {lon}).",
                hint="Latitude is within ±90, longitude within ±180 degrees.",
            )
        capacity = rep.capacity if rep.capacity is not None else user.capacity
        capacity = 1.0 if capacity is None else float(capacity)
        if not (math.isfinite(capacity) and capacity > 0):
            raise ValidationError(
                f"Rep {user.id!r} ({user.name}) has capacity {capacity:g}; it must be positive.",
                hint="Give a capacity above 0 (1.0 is a full-time rep).",
            )
        out.append(_Rep(user.pk, user.id, float(lat), float(lon), capacity))
    return out


def _descendants(session: Session, model: TerritoryModelRow, root: int) -> list[int]:
    rows = session.execute(
        select(TerritoryRow.pk, TerritoryRow.parent_pk).where(TerritoryRow.model_pk == model.pk)
    ).all()
    return sorted(tree.subtree({pk: parent for pk, parent in rows}, root) - {root})


def _measures(balance: Sequence[str]) -> list[str]:
    unknown = [m for m in balance if m not in MEASURES]
    if unknown or not balance:
        raise ValidationError(
            f"Unknown measure(s) to balance: {', '.join(unknown) or '(none)'}.",
            hint="Use potential, accounts and/or workload.",
        )
    return list(dict.fromkeys(balance))


def _tolerances(tolerance: float | dict[str, float], wanted: list[str]) -> dict[str, float]:
    given = tolerance if isinstance(tolerance, dict) else dict.fromkeys(wanted, tolerance)
    out = {m: float(given.get(m, 0.05)) for m in wanted}
    bad = [m for m, t in out.items() if not 0 < t < 1]
    if bad:
        raise ValidationError(
            f"Tolerance of {', '.join(bad)} must be between 0 and 1.", hint="0.05 is ±5 %."
        )
    return out


def _load_scope(
    session: Session, model: TerritoryModelRow, parent: str, potential: str, workload: str
) -> _Scope:
    parent_row = lookup.territory(session, model, parent)
    rows = list(
        session.scalars(
            select(TerritoryRow).where(TerritoryRow.model_pk == model.pk).order_by(TerritoryRow.pk)
        )
    )
    under = tree.subtree({r.pk: r.parent_pk for r in rows}, parent_row.pk) - {parent_row.pk}
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
    numeric = formula_fields(potential) | formula_fields(workload)
    unknown = sorted(f for f in numeric if f not in catalog.fields)
    if unknown:
        raise ValidationError(
            f"Unknown field(s) in the potential or workload formula: {', '.join(unknown)}.",
            hint="Use account number fields ('territorial field list').",
        )
    wanted = {
        "id",
        "latitude",
        "longitude",
        "billing_country_code",
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
            potential=compile_formula(potential),
            accounts=pl.lit(1.0),
            workload=compile_formula(workload),
            revenue=pl.col("annual_revenue").fill_null(0.0),
            pipeline=pl.col("pipeline").fill_null(0.0),
            named=pl.col("account_pk").is_in(manual.implode()),
        )
    )
    return _Scope(frame, leaves, parent_row, subtree)


def _territory_names(
    scope: _Scope, territories: int | None, rebalance: bool
) -> tuple[int, list[str], list[str]]:
    """(k, developer names, labels of new territories) of the carved territories."""
    prefix = scope.parent.developer_name
    existing = [r.developer_name for r in scope.leaves] if rebalance else []
    if territories is None and not rebalance:
        raise ValidationError("How many territories?", hint="Pass --territories K.")
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


def _current_and_locks(
    scope: _Scope, items: object, rebalance: bool, lock_named: bool
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


def _quality(
    problem: CarveProblem,
    labels: np.ndarray,
    graph: object,
    seed: int | None,
    accounts: pl.DataFrame,
    current: np.ndarray,
    after: np.ndarray,
    k: int,
) -> CarveQuality:
    size = problem.sizes()
    report = balance_report(
        labels,
        problem.measures,
        k,
        names=problem.names,
        tolerance=problem.tolerance,
        shares=problem.shares,
    )
    km_labels, _ = kmeans_reference(problem.points, k, weights=size, seed=seed)
    before_item = current[accounts["item"].to_numpy()]
    before = before_item if problem.current is not None else _matched(before_item, after, k)
    return CarveQuality(
        balance=report,
        compactness_km=compactness(problem.points, labels, k, weights=size),
        kmeans_km=compactness(problem.points, km_labels, k, weights=size),
        contiguity=contiguity(graph, labels, k) if graph is not None else None,
        disruption=disruption(
            before,
            after,
            weights={
                "revenue": accounts["revenue"].to_numpy(),
                "pipeline": accounts["pipeline"].to_numpy(),
            },
        ),
    )


def _matched(before: np.ndarray, after: np.ndarray, k: int) -> np.ndarray:
    """Old territories renumbered as the new territory that keeps most of their accounts,
    so that disruption from scratch counts the accounts that change hands."""
    known = before >= 0
    if not known.any():
        return before
    mapping = _successors(before, after, k)
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


def _successor_names(
    scope: _Scope, before: np.ndarray, after: np.ndarray, names: list[str]
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


def _users_to_carry(
    session: Session, model: TerritoryModelRow, scope: _Scope, successors: dict[str, str]
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


def _warnings(quality: CarveQuality, problem: CarveProblem) -> list[str]:
    out = []
    for m in quality.balance.measures:
        if m.within_tolerance < 1.0:
            out.append(
                f"{m.name}: {1 - m.within_tolerance:.0%} of territories outside ±{m.tolerance:.0%}"
                f" (worst {m.max_deviation:+.1%}); the binding constraint is the {m.name} "
                "tolerance: widen it, use smaller units, or unlock accounts."
            )
    if quality.contiguity is not None and not quality.contiguity.contiguous:
        out.append(f"{quality.contiguity.fragments} territory piece(s) are not contiguous.")
    return out


def _write_plan(
    session: Session,
    model: TerritoryModelRow,
    scope: _Scope,
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
    if rebalance:
        leaves = [rows[n].pk for n in names if n in rows]
        session.execute(
            delete(RuleAssociationRow).where(RuleAssociationRow.territory_pk.in_(leaves))
        )
        session.execute(
            delete(AccountAssignmentRow).where(
                AccountAssignmentRow.territory_pk.in_(clone_subtree),
                AccountAssignmentRow.account_pk.in_(scope_accounts),
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
    return {n: rows[n].pk for n in names}


def _write_rules_and_assignments(
    session: Session,
    model: TerritoryModelRow,
    items: object,
    labels: np.ndarray,
    pks: dict[str, int],
    names: list[str],
) -> None:
    from territorial.core.carve.units import Items

    assert isinstance(items, Items)
    frame = items.frame.with_columns(territory=pl.Series(labels))
    units = frame.filter(pl.col("prefix").is_not_null())
    taken = {
        r.lower()
        for r in session.scalars(select(RuleRow.developer_name).where(RuleRow.model_pk == model.pk))
    }
    unit_territory: dict[str, int] = {}
    for (t,), group in units.group_by(["territory"], maintain_order=True):
        prefixes: dict[str, list[str]] = {}
        for country, prefix, key in group.select("country", "prefix", "key").iter_rows():
            prefixes.setdefault(country or "", []).append(prefix)
            unit_territory[key] = int(t)
        rule_items_, boolean = rule_items(prefixes)
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
            RuleAssociationRow(
                rule_pk=rule.pk,
                territory_pk=pks[names[int(t)]],
                inherited=False,
            )
        )
    singles = items.accounts.join(frame.select("item", "territory", "prefix"), on="item").filter(
        pl.col("prefix").is_null()
    )
    pk_of = pl.Series([pks[n] for n in names])
    manual = singles.select(
        model_pk=pl.lit(model.pk, pl.Int64),
        territory_pk=pk_of.gather(singles["territory"]),
        account_pk=pl.col("account_pk"),
        cause=pl.lit("manual"),
    )
    bulk.upsert(
        session,
        "account_assignment",
        manual,
        key=("territory_pk", "account_pk", "cause"),
        update=[],
    )
    _exclusions(session, singles, unit_territory, pks, names)


def _exclusions(
    session: Session,
    singles: pl.DataFrame,
    unit_territory: dict[str, int],
    pks: dict[str, int],
    names: list[str],
) -> None:
    """A single account whose postal unit went elsewhere is excluded there, so the unit's
    rule does not put it in a second territory."""
    for account_pk, postal, country, t in singles.select(
        "account_pk", "billing_postal_code", "billing_country_code", "territory"
    ).iter_rows():
        if not postal:
            continue
        for size in (5, 3):
            unit = f"{country or ''}:{postal.strip().upper()[:size]}"
            other = unit_territory.get(unit)
            if other is not None and other != t:
                session.add(ExclusionRow(territory_pk=pks[names[other]], account_pk=account_pk))
                break


def _item_label(key: str) -> str:
    return f"account {key[8:]}" if key.startswith("account:") else f"unit {key}"


def _result(
    info: models.ModelInfo,
    problem: CarveProblem,
    items: object,
    plan: object,
    names: list[str],
    new: list[str],
    quality: CarveQuality,
    scope: _Scope,
    after: np.ndarray,
    seconds: float,
    warnings: list[str],
    owners: list[str],
    successors: dict[str, str],
) -> CarveResult:
    from territorial.core.carve import CarvePlan
    from territorial.core.carve.units import Items

    assert isinstance(items, Items) and isinstance(plan, CarvePlan)
    k = problem.k
    counts = np.bincount(after, minlength=k)
    loads = np.zeros((k, problem.measures.shape[1]))
    np.add.at(loads, plan.assignment, problem.measures)
    leaves = {r.pk: r.developer_name for r in scope.leaves}
    territories = [
        TerritoryLoad(
            developer_name=n,
            name=n.replace("_", " "),
            accounts=int(counts[j]),
            measures={m: float(loads[j, i]) for i, m in enumerate(problem.names)},
            deviations={
                m: float(quality.balance.deviations[j, i]) for i, m in enumerate(problem.names)
            },
            new=n in new,
            owner=owners[j] if owners else None,
            users_from=successors.get(n),
        )
        for j, n in enumerate(names)
    ]
    accounts = items.accounts
    plan_frame = accounts.select(
        account_id="id",
        latitude="latitude",
        longitude="longitude",
        territory=pl.Series([names[t] for t in after]),
        before=pl.col("current").replace_strict(leaves, default=None, return_dtype=pl.String),
    )
    latlon = to_latlon(plan.centres)
    centres = pl.DataFrame(
        {"territory": names, "latitude": latlon[:, 0], "longitude": latlon[:, 1]}
    )
    return CarveResult(info, territories, quality, plan_frame, centres, seconds, warnings)


__all__ = [
    "DEFAULT_POTENTIAL",
    "DEFAULT_WORKLOAD",
    "MEASURES",
    "OWNER_ROLE",
    "STAGES",
    "CarveQuality",
    "CarveResult",
    "Rep",
    "TerritoryLoad",
    "carve_model",
    "read_reps",
]
