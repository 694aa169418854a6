"""Carve a territory's accounts into balanced territories, written as a new planning model.

``carve_model`` loads the accounts assigned under ``parent`` in the base model, groups them
into items (accounts or postal units), carves them (``territorial.core.carve``), clones the
base model and writes the carved territories under ``parent``: one postal-prefix rule per
territory (its units, or the 5-character postal codes where it holds most of the accounts
carved one by one, and the US ZIP codes without accounts nearest to them in the 3-digit
areas the carve covers and in the other 3-digit areas of its states that no other region
holds, ``carve_cover``) and manual assignments for the exceptions (accounts carved away from
their postal code's territory, locked named accounts, accounts without a postal code).
The usual run → compare → activate lifecycle then applies to the new model.

From scratch, the parent's descendants are replaced by ``territories`` new ones. With
``rebalance``, the parent's current leaf territories are kept (plus new ones up to
``territories``) and accounts move between them only where balance needs it.

With ``reps`` (and/or ``reps_role``), one territory is carved per rep: centred on the rep's
home (a fixed centre), sized by the rep's capacity share, and the rep is its
'Territory Owner' in the new model. With ``rebalance`` too, the current leaves are sized
by their owners' capacities and each listed rep owning none gets a new territory.

The reps live in ``carve_reps``; loading the scope and writing the plan in ``carve_plan``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace

import numpy as np
import polars as pl

from territorial.core.carve import (
    BalanceReport,
    CarveProblem,
    Contiguity,
    balance_report,
    carve,
    compactness,
    contiguity,
    disruption,
    kmeans_reference,
    to_latlon,
    to_xyz,
    unit_graph,
)
from territorial.core.carve.coverage import locate_by_zip
from territorial.core.carve.units import build_items
from territorial.core.text import percent, plural
from territorial.errors import ValidationError
from territorial.services import audit, fields, lookup, models, runs
from territorial.services.carve_cover import kept_out
from territorial.services.carve_inputs import (
    check_locations,
    check_measures,
    check_options,
)
from territorial.services.carve_inputs import tolerances as carve_tolerances
from territorial.services.carve_plan import (
    Scope,
    current_and_locks,
    held_by_others,
    item_label,
    load_scope,
    matched,
    mixed_branches,
    mostly_named,
    named_accounts,
    successor_names,
    territory_names,
    users_to_carry,
    without_owner,
    write_plan,
)
from territorial.services.carve_reps import (
    OWNER_ROLE,
    Rep,
    RepPlan,
    check_rep_options,
    plan_from_scratch,
    plan_rebalance,
    read_reps,
)
from territorial.services.carve_rules import write_rules_and_assignments
from territorial.services.workspace import Workspace
from territorial.store.schema import UserAssignmentRow

MEASURES = ("potential", "accounts", "workload")
DEFAULT_POTENTIAL = "annual_revenue"
DEFAULT_WORKLOAD = "1 + number_of_employees / 1000"
STAGES = ("load", "carve", "quality", "write")


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
    """User id(s) of the rep(s) who own the territory (carving for reps), comma-separated."""
    owner_name: str | None = None
    """Their names, comma-separated."""
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
    """account_id, latitude, longitude, territory, before (developer names), region (a US
    state's code, else the country: what a map names remote accounts by)."""
    centres: pl.DataFrame
    """territory, latitude, longitude."""
    seconds: float
    warnings: list[str] = field(default_factory=list)
    manual_assignments: int = 0
    """Accounts assigned by hand in the new model; the others by its postal rules."""
    named_locked: int = 0
    """Named accounts ``lock_named`` kept in place (rebalance) or by hand (from scratch)."""


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
    before_commit: Callable[[CarveResult], None] | None = None,
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
        (1.0 when unknown), and the rep is its 'Territory Owner' in the new model. With
        ``rebalance``, ``reps_role`` (default 'Territory Owner') names each current leaf's
        owners, whose capacity sizes it, and a listed rep owning no leaf gets a new
        territory at home (``carve_reps.plan_rebalance``).
        Without reps, a carve from scratch gives the users of every replaced leaf to the
        carved territory that keeps most of its accounts (``TerritoryLoad.users_from``).
    before_commit
        Called with the result once the new model is written, before it is committed: an
        exception there leaves nothing written (the CLI writes its chart, map and plan
        files here, under temporary names).

    The base model must have been run (its rule assignments are the scope), and ``name``
    (or ``developer_name``) must be free; both are checked before anything is computed.
    The clone and the carve are written in one transaction: a failure or an interruption
    leaves no model behind.
    """
    import time

    started = time.perf_counter()
    stage = on_stage or (lambda _s: None)
    wanted = _measures(balance)
    check_options(keep=keep, max_distance=max_distance, seed=seed)
    tolerances = carve_tolerances(tolerance, wanted, MEASURES)
    carving_for_reps = reps is not None or reps_role is not None
    if carving_for_reps:
        check_rep_options(territories)
    stage("load")
    with ws.session() as session:
        base_row = lookup.model(session, base)
        models.check_new_model_name(session, name, developer_name)
        runs.require_run(
            session,
            base_row,
            why="a carve would see only the accounts assigned by hand",
            then="carve again",
        )
        scope = load_scope(session, base_row, parent, potential, workload)
        located, by_zip = locate_by_zip(scope.accounts)  # US accounts without coordinates
        scope = replace(scope, accounts=located)
        held = held_by_others(session, base_row, scope)
        where = scope.parent.developer_name
        formulas = {"potential": potential, "workload": workload}
        check_measures(
            scope.accounts,
            {m: f for m, f in formulas.items() if m in wanted},
            fields.catalog(session, "account"),
            where=where,
        )
        unlocated = check_locations(scope.accounts, where=where)
        owners: RepPlan | None = None
        if carving_for_reps and rebalance:
            owners = plan_rebalance(session, scope.leaves, reps or (), reps_role)
        elif carving_for_reps:
            owners = plan_from_scratch(session, base_row, parent, reps or (), reps_role)
    k, names, labels_new = territory_names(
        scope, owners.count if owners else territories, rebalance
    )
    items = build_items(
        scope.accounts, units, [*MEASURES, "revenue"], alone=pl.col("named") if lock_named else None
    )
    current, locks = current_and_locks(scope, items, rebalance, lock_named)
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
        labels=tuple(item_label(key) for key in items.frame["key"]),
        territory_names=tuple(names),
        shares=np.array(owners.shares) if owners else None,
        centres=_centres(owners.homes) if owners else None,
    )
    stage("carve")
    graph = unit_graph(items.points) if units != "account" else None
    plan = carve(problem, seed=seed, graph=graph)
    stage("quality")
    account_item = items.accounts["item"].to_numpy()
    after = plan.assignment[account_item]
    quality = _quality(problem, plan.assignment, graph, seed, items.accounts, current, after, k)
    named_locked, none_named = named_accounts(scope, lock_named)
    warnings = (
        _warnings(quality, problem)
        + mixed_branches(scope, rebalance)
        + mostly_named(scope, lock_named)
        + none_named
        + _unlocated(by_zip, unlocated)
    )
    # From scratch without reps, each replaced leaf's users go to the territory succeeding it.
    carrying = not rebalance and not owners
    successors = successor_names(scope, current[account_item], after, names) if carrying else {}
    stage("write")
    with ws.session() as session:  # the clone and the carve commit together or not at all
        source = lookup.model(session, base)
        model_row = models.clone(
            session, source, name, actor=ws.actor, developer_name=developer_name
        )
        carried, dropped = (
            users_to_carry(session, model_row, scope, successors) if carrying else ([], [])
        )
        kept = kept_out(session, source, scope)  # before the clone's exclusions go
        pks = write_plan(session, model_row, scope, names, labels_new, rebalance)
        manual, too_long = write_rules_and_assignments(
            session, model_row, items, plan.assignment, pks, names,
            pinned=pl.col("named") if lock_named else None, held=held,
            parent=scope.parent.developer_name, kept=kept,
        )  # fmt: skip
        if owners:  # each new territory's rep is its owner
            session.add_all(
                UserAssignmentRow(territory_pk=pks[n], user_pk=r.pk, role=OWNER_ROLE)
                for n, r in zip(labels_new, owners.new_owners, strict=True)
            )
        session.add_all(
            UserAssignmentRow(territory_pk=pks[n], user_pk=user_pk, role=role)
            for n, user_pk, role in carried
        )
        warnings.extend(too_long)
        if dropped:
            warnings.append(
                f"{len(dropped)} territor{'y' if len(dropped) == 1 else 'ies'} replaced with "
                f"no successor ({', '.join(dropped[:5])}{', ...' if len(dropped) > 5 else ''}):"
                " their users were not carried over; assign them with 'territorial user "
                "assign' or carve more territories."
            )
        warnings.extend(without_owner(session, model_row, pks, names, OWNER_ROLE))
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
                "balance": wanted,
                "tolerance": tolerances,
                "potential": potential,
                "workload": workload,
                "lock_named": lock_named,
                "keep": keep,
                "max_distance": max_distance,
                "reps_role": reps_role,
                "reps_listed": [_rep_entry(r) for r in reps] if reps is not None else None,
                "reps": dict(zip(names, owners.owners, strict=True)) if owners else None,
            },
        )
        session.flush()
        info = models.model_info(session, model_row)
        heirs = {heir for heir, _user, _role in carried}  # leaves whose users were carried
        result = _result(
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
            (owners.owners, owners.owner_names) if owners else ([], []),
            {n: leaf for n, leaf in successors.items() if n in heirs},
        )
        result = replace(result, manual_assignments=manual, named_locked=named_locked)
        if before_commit is not None:
            before_commit(result)
    return result


def _centres(homes: Sequence[tuple[float, float] | None]) -> np.ndarray:
    """Fixed centres at the given homes; NaN rows (free centres) for None."""
    lat = [h[0] if h is not None else np.nan for h in homes]
    lon = [h[1] if h is not None else np.nan for h in homes]
    return to_xyz(lat, lon)


def _measures(balance: Sequence[str]) -> list[str]:
    unknown = [m for m in balance if m not in MEASURES]
    if unknown or not balance:
        raise ValidationError(
            f"Unknown measure(s) to balance: {', '.join(unknown) or '(none)'}.",
            hint="Use potential, accounts and/or workload.",
        )
    return list(dict.fromkeys(balance))


def _rep_entry(rep: Rep) -> dict[str, object]:
    """What the audit keeps of a listed rep: what shapes the plan, not where it was read."""
    entry = asdict(rep)
    return {key: entry[key] for key in ("user", "home_latitude", "home_longitude", "capacity")}


def _unlocated(by_zip: int, by_area: int) -> list[str]:
    """A warning counting the accounts without coordinates and how they were placed."""
    parts = []
    if by_zip:
        parts.append(
            f"{plural(by_zip, 'US account')} at {'its' if by_zip == 1 else 'their'} "
            "ZIP code's location"
        )
    if by_area:
        parts.append(
            f"{plural(by_area, 'account')} at the centre of the accounts in "
            f"{'its' if by_area == 1 else 'their'} postal code (or 3-character area)"
        )
    if not parts:
        return []
    return [
        f"Accounts without coordinates were placed by postal code: {'; '.join(parts)}. Set "
        "their coordinates to carve them where they are ('territorial account set ID "
        "BillingLatitude=LAT BillingLongitude=LON')."
    ]


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
    before = before_item if problem.current is not None else matched(before_item, after, k)
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


def _warnings(quality: CarveQuality, problem: CarveProblem) -> list[str]:
    out = []
    for m in quality.balance.measures:
        if m.within_tolerance < 1.0:
            outside = round((1 - m.within_tolerance) * problem.k)
            out.append(
                f"{m.name}: {outside} of {problem.k} territories outside ±{percent(m.tolerance)}"
                f" (worst {percent(m.max_deviation, sign=True)}); the binding constraint is the "
                f"{m.name} tolerance: widen it, use smaller units, or unlock accounts."
            )
    if quality.contiguity is not None and not quality.contiguity.contiguous:
        out.append(f"{quality.contiguity.fragments} territory piece(s) are not contiguous.")
    return out


def _result(
    info: models.ModelInfo,
    problem: CarveProblem,
    items: object,
    plan: object,
    names: list[str],
    new: list[str],
    quality: CarveQuality,
    scope: Scope,
    after: np.ndarray,
    seconds: float,
    warnings: list[str],
    owners: tuple[list[str | None], list[str | None]],
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
            owner=owners[0][j] if owners[0] else None,
            owner_name=owners[1][j] if owners[1] else None,
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
        region=_region(),
    )
    latlon = to_latlon(plan.centres)
    centres = pl.DataFrame(
        {"territory": names, "latitude": latlon[:, 0], "longitude": latlon[:, 1]}
    )
    return CarveResult(info, territories, quality, plan_frame, centres, seconds, warnings)


def _region() -> pl.Expr:
    """What a map names remote accounts by: a US state's code, else the country."""
    state = pl.col("billing_state_code").str.strip_chars().str.to_uppercase()
    country = pl.col("billing_country").str.strip_chars()
    code = pl.col("billing_country_code")
    return (
        pl.when(code.is_null() | code.is_in(["", "US", "USA"]))
        .then(state.replace("", None))
        .otherwise(pl.coalesce(country.replace("", None), code.replace("", None)))
    )


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
