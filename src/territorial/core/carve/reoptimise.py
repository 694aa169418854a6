"""Re-optimise: an exact local re-solve around the territories polish leaves outside a
tolerance, when carving geographic units.

Around dense metros a territory holds a dozen lumpy units (one zip5 can carry a fifth of
its potential) and its neighbours are full too, so no single move or exchange helps. Here
the territory and its neighbours within a few hops on the territory adjacency form a
*region*, grown until its average load is within every tolerance. The units on the
region's inner borders then choose among their own territory and their neighbours' in a
mixed-integer programme (HiGHS through :func:`scipy.optimize.milp`): least violation of
the tolerances first, then least added distance and fewest moves (and, when rebalancing,
fewest departures from the current territory). A unit whose removal would split its
territory keeps its place; a solution that still splits or empties a territory, or does
not leave fewer territories outside tolerance (or as many, less far outside), is
discarded, and the region is tried again one hop larger.
"""

from __future__ import annotations

import time

import numpy as np
import scipy.sparse as sp
from scipy.optimize import Bounds, LinearConstraint, milp

from territorial.core.carve.graph import is_connected, stays_connected, territory_adjacency
from territorial.core.carve.problem import CarveProblem, FloatArray, IntArray
from territorial.core.carve.repair import added_distance, loads_of, violation

VIOLATION_WEIGHT = 1e3
"""Objective weight of one target's worth of violation (relative to one mean distance)."""
INSIDE = 0.98
"""The programme aims at the tolerances times this, so rounding leaves plans inside them."""
NODES = 500
"""Branch-and-bound nodes at most per programme: a limit that, unlike time, keeps plans
reproducible."""
GAP = 0.25
"""Relative gap at which a programme stops: balance comes first, the last few per cent of
distance are not worth the wait."""
GROWTHS = 3
"""Regions tried around one territory (one hop larger each time) before giving up."""
MOVE_COST = 0.05
"""Objective cost of moving a unit, in mean distances: no churn without a reason."""


def reoptimise(
    problem: CarveProblem,
    graph: sp.csr_matrix,
    labels: IntArray,
    centres: FloatArray,
    *,
    max_territories: int = 24,
    time_limit: float = 30.0,
    solve_limit: float = 10.0,
) -> tuple[IntArray, int]:
    """Re-solve regions around territories outside tolerance; returns the new labels and
    the number of units moved.

    Parameters
    ----------
    max_territories
        Most territories in one region (the region stops growing there).
    time_limit
        Seconds at most in all; ``solve_limit`` seconds at most per programme.
    """
    labels = labels.copy()
    w = problem.measures
    lower, upper = problem.bounds()
    scale = np.where(problem.targets() > 0, problem.targets(), 1.0)
    started = time.perf_counter()
    tries: dict[int, int] = {}  # territory: regions tried around it without success
    moved = 0
    while time.perf_counter() - started < time_limit:
        loads = loads_of(w, labels, problem.k)
        viol = violation(loads, lower, upper, scale)
        viol[[t for t, n in tries.items() if n >= GROWTHS]] = 0.0
        worst = int(np.argmax(viol))
        if viol[worst] <= 1e-12:
            break
        extra = tries.get(worst, 0)
        tries[worst] = extra + 1
        region = _region(graph, labels, loads, worst, lower, upper, max_territories, extra)
        limit = min(solve_limit, time_limit - (time.perf_counter() - started))
        new = _solve(problem, graph, labels, centres, region, limit)
        if new is None or not all(is_connected(graph, new, int(t)) for t in region):
            continue
        if _badness(loads_of(w, new, problem.k), lower, upper, scale, region) < _badness(
            loads, lower, upper, scale, region
        ):
            moved += int((new != labels).sum())
            labels = new
            tries.clear()  # the neighbourhood changed: every territory may be retried
    return labels, moved


def _badness(
    loads: FloatArray, lower: FloatArray, upper: FloatArray, scale: FloatArray, region: IntArray
) -> tuple[int, float]:
    """(territories outside tolerance, total violation) of the region: fewer first."""
    viol = violation(loads[region], lower[region], upper[region], scale[region])
    return int((viol > 1e-12).sum()), round(float(viol.sum()), 12)


def _region(
    graph: sp.csr_matrix,
    labels: IntArray,
    loads: FloatArray,
    start: int,
    lower: FloatArray,
    upper: FloatArray,
    limit: int,
    extra: int,
) -> IntArray:
    """Territories within growing hops of ``start`` until their total load fits between
    their total bounds on every measure, then ``extra`` hops more (at most ``limit``
    territories)."""
    adjacency = territory_adjacency(graph, labels, len(loads))
    region, ring = [start], [start]
    while ring and len(region) < limit:
        inside = np.array(region)
        total = loads[inside].sum(axis=0)
        fits = (total >= lower[inside].sum(axis=0)).all() and (
            total <= upper[inside].sum(axis=0)
        ).all()
        if len(region) > 1 and fits:
            if extra <= 0:
                break
            extra -= 1
        nxt = np.unique(adjacency[ring].indices)
        ring = [int(t) for t in nxt if t not in set(region)][: limit - len(region)]
        region.extend(ring)
    return np.array(sorted(region), dtype=np.int64)


def _options(
    problem: CarveProblem, graph: sp.csr_matrix, labels: IntArray, region: IntArray
) -> tuple[IntArray, IntArray]:
    """(unit, territory) choices of the region's movable units: their own territory and
    the territories of their neighbours in the region. A locked unit, or one whose removal
    would split its territory, is not movable."""
    in_region = np.zeros(problem.k, dtype=bool)
    in_region[region] = True
    coo = graph.tocoo()
    border = (
        in_region[labels[coo.row]]
        & in_region[labels[coo.col]]
        & (labels[coo.row] != labels[coo.col])
        & (problem.locked()[coo.row] < 0)
    )
    unit, other = coo.row[border], labels[coo.col[border]]
    movable = [int(u) for u in np.unique(unit) if stays_connected(graph, labels, int(u))]
    keep = np.isin(unit, movable)
    unit = np.r_[unit[keep], movable].astype(np.int64)
    terr = np.r_[other[keep], labels[movable]].astype(np.int64)
    pairs = np.unique(np.column_stack([unit, terr]), axis=0)
    return pairs[:, 0], pairs[:, 1]


def _touching(
    graph: sp.csr_matrix, labels: IntArray, unit: IntArray, terr: IntArray, movers: IntArray
) -> sp.csr_matrix:
    """Rows ``x[u, t] - sum of x[v, t] over u's movable neighbours v <= 0`` for every pair
    whose unit has no neighbour staying in ``t`` for sure: a unit ends next to a unit of
    its territory (no unit cut off on its own, coming or staying)."""
    pair = {(int(u), int(t)): i for i, (u, t) in enumerate(zip(unit, terr, strict=True))}
    moving = set(movers.tolist())
    rows: list[int] = []
    cols: list[int] = []
    vals: list[float] = []
    count = 0
    for (u, t), i in pair.items():
        nbrs = graph.indices[graph.indptr[u] : graph.indptr[u + 1]].tolist()
        if any(v not in moving and labels[v] == t for v in nbrs):
            continue  # anchored by a neighbour that cannot move
        others = [pair[(v, t)] for v in nbrs if (v, t) in pair]
        rows.extend([count] * (1 + len(others)))
        cols.extend([i, *others])
        vals.extend([1.0] + [-1.0] * len(others))
        count += 1
    return sp.csr_matrix((vals, (rows, cols)), shape=(count, len(unit)))


def _solve(
    problem: CarveProblem,
    graph: sp.csr_matrix,
    labels: IntArray,
    centres: FloatArray,
    region: IntArray,
    time_limit: float,
) -> IntArray | None:
    """The region's units re-assigned by the programme, or None when it finds nothing."""
    unit, terr = _options(problem, graph, labels, region)
    if not len(unit) or time_limit <= 0:
        return None
    w = problem.measures
    m, r, pairs = w.shape[1], len(region), len(unit)
    slot = np.full(problem.k, -1, dtype=np.int64)
    slot[region] = np.arange(r)
    movers = np.unique(unit)
    fixed = np.isin(labels, region) & ~np.isin(np.arange(problem.n), movers)
    fixed_load = loads_of(w[fixed], labels[fixed], problem.k)[region]
    lower, upper = (b[region] for b in problem.bounds(INSIDE))
    scale = np.where(problem.targets()[region] > 0, problem.targets()[region], 1.0)
    # Columns: one binary per (unit, territory) pair, then over- and under-slack per
    # territory and measure (in target units).
    spread = np.linalg.norm(problem.points - centres[labels], axis=1)
    mean_distance = float(spread.mean()) or 1.0
    source = labels[unit]
    # Non-negative costs: the programme seeks balance with few, short moves, not a more
    # compact plan (proving that optimal would take far longer).
    added = added_distance(problem.points, centres, unit, source, terr) / mean_distance
    cost = (np.maximum(added, 0.0) + MOVE_COST) * (terr != source)
    bonus = problem.stay_bonus()
    if bonus is not None:
        assert problem.current is not None
        current = problem.current[unit]
        cost = cost + bonus[unit] * ((current == source) & (terr != source))
    c = np.r_[cost, np.full(2 * r * m, VIOLATION_WEIGHT)]
    rows = np.searchsorted(movers, unit)
    one_each = sp.csr_matrix((np.ones(pairs), (rows, np.arange(pairs))), shape=(len(movers), pairs))
    blocks = []
    for j in range(m):
        blocks.append(
            sp.csr_matrix(
                (w[unit, j] / scale[slot[terr], j], (slot[terr], np.arange(pairs))),
                shape=(r, pairs),
            )
        )
    load = sp.vstack(blocks).tocsr()  # rows: measure-major, then territory
    eye = sp.identity(r * m, format="csr")
    zero = sp.csr_matrix((r * m, r * m))
    touch = _touching(graph, labels, unit, terr, movers)
    a = sp.vstack(
        [
            sp.hstack([one_each, sp.csr_matrix((len(movers), 2 * r * m))]),
            sp.hstack([load, -eye, zero]),
            sp.hstack([load, zero, eye]),
            sp.hstack([touch, sp.csr_matrix((touch.shape[0], 2 * r * m))]),
        ]
    ).tocsr()
    base = (fixed_load / scale).T.ravel()
    hi = np.r_[
        np.ones(len(movers)),
        (upper / scale).T.ravel() - base,
        np.full(r * m, np.inf),
        np.zeros(touch.shape[0]),
    ]
    lo = np.r_[
        np.ones(len(movers)),
        np.full(r * m, -np.inf),
        (lower / scale).T.ravel() - base,
        np.full(touch.shape[0], -np.inf),
    ]
    integrality = np.r_[np.ones(pairs), np.zeros(2 * r * m)]
    bounds = Bounds(np.zeros(len(c)), np.r_[np.ones(pairs), np.full(2 * r * m, np.inf)])
    result = milp(
        c,
        constraints=LinearConstraint(a, lo, hi),
        integrality=integrality,
        bounds=bounds,
        options={"time_limit": time_limit, "node_limit": NODES, "disp": False, "mip_rel_gap": GAP},
    )
    if result.x is None:
        return None
    chosen = result.x[:pairs] > 0.5
    new = labels.copy()
    new[unit[chosen]] = terr[chosen]
    return new


__all__ = ["reoptimise"]
