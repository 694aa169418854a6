"""The carve: a balanced seed, a few location–allocation rounds, then repair.

1. Check what can be proved infeasible (an item heavier than a territory may hold, locked
   items overloading their territory, fewer items than territories).
2. Seed: the current plan when rebalancing, otherwise a recursive bisection on a weight
   combining every measure (matched to fixed centres, when reps' homes are given).
3. Rounds: centres at the territories' centroids (or fixed), allocation by linear
   programme over each item's nearest centres, contiguity restored on a unit graph, then
   repair moves until every tolerance is met or no move helps.
4. Polish: batches of moves and exchanges that pull territories near a tolerance's edge
   back towards target, so load spreads out of over-full regions.
5. Re-optimise (geographic units only): an exact local programme over the region around
   each territory still outside a tolerance.
"""

from __future__ import annotations

import time

import numpy as np
import scipy.sparse as sp
from scipy.optimize import linear_sum_assignment

from territorial.core.carve.allocate import allocate, candidates
from territorial.core.carve.graph import merge_fragments
from territorial.core.carve.polish import Moves, polish
from territorial.core.carve.prices import allocate_by_prices
from territorial.core.carve.problem import (
    CarveInfeasible,
    CarvePlan,
    CarveProblem,
    FloatArray,
    IntArray,
    Seed,
    as_generator,
)
from territorial.core.carve.reoptimise import reoptimise
from territorial.core.carve.repair import repair
from territorial.core.carve.seed import bisect, centroids, combined_weight
from territorial.core.text import amount


def check_feasible(problem: CarveProblem) -> None:
    """Raise :class:`CarveInfeasible` naming the binding constraint when a plan within the
    tolerances provably cannot exist.

    Examples
    --------
    >>> p = CarveProblem(np.zeros((3, 2)), [[1.0], [1.0], [9.0]], 2, names=("potential",))
    >>> check_feasible(p)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    territorial.core.carve.problem.CarveInfeasible: item 2 has potential 9, more than a ...
    """
    if problem.n < problem.k:
        raise CarveInfeasible(
            f"Only {problem.n} items for {problem.k} territories.",
            constraint="territories",
            hint="Carve fewer territories or smaller units (e.g. zip5 or accounts).",
        )
    _lower, upper = problem.bounds()
    targets = problem.targets()
    locks = problem.locked()
    free = locks < 0
    for j, name in enumerate(problem.names):
        w = problem.measures[:, j]
        heavy = np.flatnonzero(free & (w > upper[:, j].max() + 1e-9))
        if len(heavy):
            i = int(heavy[np.argmax(w[heavy])])
            t = int(np.argmax(upper[:, j]))
            raise CarveInfeasible(
                f"{problem.label(i)} has {name} {amount(w[i])}, more than a territory may hold "
                f"({amount(upper[t, j])} = target {amount(targets[t, j])} + "
                f"{problem.tolerance[j]:.0%}).",
                constraint="item_exceeds_target",
                measure=name,
                item=problem.label(i),
                hint=f"Give it a territory of its own (lock it, or leave it out of the carve), "
                f"widen the tolerance on {name}, or carve fewer territories.",
            )
        locked_load = np.bincount(locks[~free], weights=w[~free], minlength=problem.k)
        over = np.flatnonzero(locked_load > upper[:, j] + 1e-9)
        if len(over):
            t = int(over[0])
            raise CarveInfeasible(
                f"Locked items give {problem.territory(t)} {name} {amount(locked_load[t])}, "
                f"more than its maximum {amount(upper[t, j])} (locked items: "
                f"{int(((locks == t) & ~free).sum())}).",
                constraint="locked_load",
                measure=name,
                territory=problem.territory(t),
                hint="Unlock some of its accounts or widen the tolerance.",
            )


def carve(
    problem: CarveProblem,
    *,
    seed: Seed = None,
    graph: sp.csr_matrix | None = None,
    rounds: int = 3,
    neighbours: int = 8,
    exact_pairs: int = 60_000,
    polish_limit: float = 20.0,
) -> CarvePlan:
    """Carve ``problem`` into ``problem.k`` balanced, compact territories.

    Parameters
    ----------
    problem
        Items, measures, tolerances and options.
    seed
        Seed for tie-breaking (normalised by :func:`as_generator`): same seed, same plan.
    graph
        Adjacency of the items when they are geographic units: territories are kept in
        one piece and repair moves only between neighbours.
    rounds
        Location–allocation rounds at most (one when rebalancing with a keep weight).
    neighbours
        Candidate territories per item (its nearest centres).
    exact_pairs
        Up to this many (item, candidate) pairs the allocation is an exact linear
        programme (HiGHS); above it, price iterations (a Lagrangian relaxation).
    polish_limit
        Seconds at most for the final polish (:mod:`~territorial.core.carve.polish`).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> pts = rng.uniform(0, 100, size=(400, 2))
    >>> p = CarveProblem(pts, np.ones((400, 1)), 4, names=("accounts",), tolerance=[0.05])
    >>> plan = carve(p, seed=1)
    >>> from territorial.core.carve.quality import balance_report
    >>> balance_report(plan.assignment, p.measures, 4, tolerance=0.05).ok
    True
    """
    check_feasible(problem)
    timings: dict[str, float] = {}
    started = time.perf_counter()
    rng = as_generator(seed)
    jitter = problem.points + rng.normal(scale=1e-6, size=problem.points.shape)
    labels = _seed(problem, jitter)
    centres = _centres(problem, labels, None)
    timings["seed"] = time.perf_counter() - started
    rebalancing = problem.stay_bonus() is not None
    total_moves, done = 0, 0
    prices: FloatArray | None = None
    for done in range(1, (1 if rebalancing else rounds) + 1):
        tick = time.perf_counter()
        cands = candidates(problem, centres, neighbours, labels)
        if len(cands.item) <= exact_pairs:
            new = allocate(problem, cands)
        else:
            # Rebalancing starts from a plan that is nearly balanced: aim at the tolerances
            # themselves, so prices stop as soon as they hold and few accounts move.
            new, prices = allocate_by_prices(
                problem,
                cands,
                prices=prices,
                steps=300 if prices is None else 100,
                slack=0.95 if rebalancing else 0.7,
            )
        if graph is not None:
            new = merge_fragments(graph, new, problem.locked(), problem.k)
        new, moves = repair(problem, new, centres, cands=cands, graph=graph)
        total_moves += moves
        timings[f"round {done}"] = time.perf_counter() - tick
        changed = not np.array_equal(new, labels)
        labels = new
        centres = _centres(problem, labels, centres)
        if not changed:
            break
    tick = time.perf_counter()
    allowed = Moves.on_graph(graph) if graph is not None else Moves(cands.item, cands.territory)
    labels, polished = polish(problem, labels, centres, allowed, time_limit=polish_limit)
    if polished:
        centres = _centres(problem, labels, centres)
    timings["polish"] = time.perf_counter() - tick
    reoptimised = 0
    if graph is not None:
        tick = time.perf_counter()
        labels, reoptimised = reoptimise(problem, graph, labels, centres)
        timings["reoptimise"] = time.perf_counter() - tick
    if reoptimised:
        centres = _centres(problem, labels, centres)
    return CarvePlan(labels, centres, done, total_moves + polished + reoptimised, timings)


def _seed(problem: CarveProblem, points: FloatArray) -> IntArray:
    locks = problem.locked()
    if problem.current is not None and (problem.current >= 0).any():
        labels = problem.current.copy()
        missing = labels < 0
        if missing.any():
            known = centroids(problem.points, np.maximum(labels, 0), problem.k)
            dist = np.linalg.norm(problem.points[missing, None, :] - known[None], axis=2)
            labels[missing] = dist.argmin(axis=1)
    else:
        shares = np.ones(problem.k) if problem.shares is None else problem.shares
        labels = bisect(points, combined_weight(problem.measures), shares)
        if problem.centres is not None:
            parts = centroids(problem.points, labels, problem.k, problem.sizes())
            cost = np.linalg.norm(parts[:, None, :] - problem.centres[None], axis=2)
            cost[np.isnan(cost)] = 0.0  # a free centre takes any part
            rows, cols = linear_sum_assignment(cost)
            order = np.empty(problem.k, dtype=np.int64)
            order[rows] = cols
            labels = order[labels]
    return np.where(locks >= 0, locks, labels).astype(np.int64)


def _centres(problem: CarveProblem, labels: IntArray, previous: FloatArray | None) -> FloatArray:
    """Fixed centres where given, the territories' centroids elsewhere (an empty territory
    keeps its previous centre)."""
    fixed = problem.fixed_centres()
    if fixed.all():
        assert problem.centres is not None
        return problem.centres
    new = centroids(problem.points, labels, problem.k, problem.sizes())
    empty = np.bincount(labels, minlength=problem.k) == 0
    if empty.any():
        fallback = previous if previous is not None else problem.points[: problem.k]
        new[empty] = fallback[empty]
    if fixed.any():
        assert problem.centres is not None
        new[fixed] = problem.centres[fixed]
    return new


__all__ = ["carve", "check_feasible"]
