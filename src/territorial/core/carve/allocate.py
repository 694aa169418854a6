"""Allocation step of location–allocation: with the centres fixed, give every item a
territory so that the total distance is least and every measure stays within its bounds.

Solved as a linear programme with HiGHS over each item's few nearest centres (plus its
current and locked territory). Per territory and measure a penalised slack keeps the
programme feasible, so a violation is small and visible instead of an error; the repair
step removes what rounding and slack leave. The few items the programme splits between
territories go where most of them went.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.optimize import linprog
from scipy.spatial import cKDTree

from territorial.core.carve.problem import CarveInfeasible, CarveProblem, FloatArray, IntArray


@dataclass(frozen=True)
class Candidates:
    """Allowed (item, territory) pairs, sorted by item, with their distances."""

    item: IntArray
    territory: IntArray
    distance: FloatArray

    def of_items(self, n: int) -> IntArray:
        """``indptr`` of a CSR by item: pairs of item ``i`` are ``indptr[i]:indptr[i+1]``."""
        return np.asarray(np.searchsorted(self.item, np.arange(n + 1)), dtype=np.int64)


def candidates(
    problem: CarveProblem, centres: FloatArray, count: int, previous: IntArray | None = None
) -> Candidates:
    """Every item's ``count`` nearest centres, its current and ``previous`` territory and,
    for a locked item, only its lock; pairs further than ``max_distance`` are left out
    (except current/lock). The previous territory keeps a remote territory (an island) able
    to hold what it held before."""
    n, k = problem.n, problem.k
    count = min(count, k)
    _, near = cKDTree(centres).query(problem.points, count)
    near = np.asarray(near, dtype=np.int64).reshape(n, count)
    item = np.repeat(np.arange(n, dtype=np.int64), count)
    terr = near.ravel()
    keep_mask = np.ones(len(item), dtype=bool)
    forced = np.zeros(len(item), dtype=bool)
    locks = problem.locked()
    if problem.current is not None:
        has = (problem.current >= 0) & (locks < 0)
        item = np.r_[item, np.flatnonzero(has)]
        terr = np.r_[terr, problem.current[has]]
        keep_mask = np.r_[keep_mask, np.ones(int(has.sum()), dtype=bool)]
        forced = np.r_[forced, np.ones(int(has.sum()), dtype=bool)]
    if previous is not None:
        item = np.r_[item, np.arange(n, dtype=np.int64)]
        terr = np.r_[terr, previous]
        keep_mask = np.r_[keep_mask, np.ones(n, dtype=bool)]
        forced = np.r_[forced, np.zeros(n, dtype=bool)]
    is_locked = locks[item] >= 0
    keep_mask &= ~is_locked
    locked_items = np.flatnonzero(locks >= 0)
    item = np.r_[item[keep_mask], locked_items]
    terr = np.r_[terr[keep_mask], locks[locked_items]]
    forced = np.r_[forced[keep_mask], np.ones(len(locked_items), dtype=bool)]
    dist = np.linalg.norm(problem.points[item] - centres[terr], axis=1)
    if problem.max_distance is not None:
        ok = forced | (dist <= problem.max_distance)
        item, terr, dist, forced = item[ok], terr[ok], dist[ok], forced[ok]
    order = np.lexsort((terr, item))
    item, terr, dist = item[order], terr[order], dist[order]
    first = np.r_[True, (item[1:] != item[:-1]) | (terr[1:] != terr[:-1])][: len(item)]
    item, terr, dist = item[first], terr[first], dist[first]
    missing = np.setdiff1d(np.arange(n), item)
    if len(missing):
        raise CarveInfeasible(
            f"{problem.label(int(missing[0]))} is further than {problem.max_distance:g} km "
            f"from every territory centre ({len(missing)} item(s) are).",
            constraint="max_distance",
            item=problem.label(int(missing[0])),
            hint="Raise the maximum distance or add a territory (rep) nearer to it.",
        )
    return Candidates(item, terr, dist)


def allocate(
    problem: CarveProblem,
    cands: Candidates,
    *,
    slack: float = 0.8,
    time_limit: float = 60.0,
) -> IntArray:
    """The territory of every item from the allocation programme (see module docstring).

    ``slack`` scales the tolerances inside the programme, leaving room for rounding.
    """
    n, k = problem.n, problem.k
    m = problem.measures.shape[1]
    targets = problem.targets()
    safe = np.where(targets > 0, targets, 1.0)
    lower, upper = problem.bounds(slack)
    cost = _costs(problem, cands)
    pairs = len(cands.item)
    rows = []
    for j in range(m):
        values = problem.measures[cands.item, j] / safe[cands.territory, j]
        rows.append(sp.csr_matrix((values, (cands.territory, np.arange(pairs))), shape=(k, pairs)))
    load = sp.vstack(rows).tocsr()
    eye = sp.identity(k * m, format="csr")
    a_ub = sp.vstack(
        [
            sp.hstack([load, -eye, sp.csr_matrix((k * m, k * m))]),
            sp.hstack([-load, sp.csr_matrix((k * m, k * m)), -eye]),
        ]
    ).tocsr()
    b_ub = np.r_[(upper / safe).T.ravel(), -(lower / safe).T.ravel()]
    a_eq = sp.hstack(
        [
            sp.csr_matrix((np.ones(pairs), (cands.item, np.arange(pairs))), shape=(n, pairs)),
            sp.csr_matrix((n, 2 * k * m)),
        ]
    ).tocsr()
    penalty = 1e3 * max(1.0, float(np.abs(cost).max(initial=1.0))) * max(1.0, n / k)
    c = np.r_[cost, np.full(2 * k * m, penalty)]
    result = linprog(
        c,
        A_ub=a_ub,
        b_ub=b_ub,
        A_eq=a_eq,
        b_eq=np.ones(n),
        bounds=(0, None),
        method="highs",
        options={"time_limit": time_limit, "presolve": True},
    )
    if result.x is None:
        raise CarveInfeasible(
            f"The allocation programme failed: {result.message}",
            constraint="solver",
            hint="Try fewer measures or wider tolerances.",
        )
    return _round(cands, np.asarray(result.x[:pairs]), n)


def nearest_distance(cands: Candidates, n: int) -> float:
    """Mean distance from an item to its nearest candidate centre, about a territory's
    radius: the unit of the bonus for staying (as in polish and re-optimise)."""
    first = cands.of_items(n)[:-1]
    return float(np.minimum.reduceat(cands.distance, first).mean()) or 1.0


def _costs(problem: CarveProblem, cands: Candidates) -> FloatArray:
    """Squared distance (round, convex territories that stay in one piece), scaled to a mean
    of about one, less the bonus for staying where it is. The bonus counts in squared
    territory radii: with ``keep`` 1 an account leaves its territory for one whose centre is
    at most about 1.4 radii further, however far the other candidates are."""
    squared = cands.distance**2
    mean = float(np.mean(squared)) or 1.0
    cost = squared / mean
    bonus = problem.stay_bonus()
    if bonus is not None:
        assert problem.current is not None
        stays = problem.current[cands.item] == cands.territory
        radius = nearest_distance(cands, problem.n)
        cost = cost - stays * bonus[cands.item] * radius**2 / mean
    return np.asarray(cost, dtype=np.float64)


def _round(cands: Candidates, x: FloatArray, n: int) -> IntArray:
    """Each item to the territory holding the largest part of it."""
    order = np.lexsort((-x, cands.item))
    first = np.r_[True, cands.item[order][1:] != cands.item[order][:-1]]
    out = np.full(n, -1, dtype=np.int64)
    out[cands.item[order][first]] = cands.territory[order][first]
    return out


__all__ = ["Candidates", "allocate", "candidates", "nearest_distance"]
