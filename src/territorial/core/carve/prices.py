"""Allocation by prices, for many items: a Lagrangian relaxation of the allocation
programme.

Every territory has a price per measure. An item goes to the candidate territory where
distance plus the price of what it brings is least; a territory above its upper bound
raises its price, one below its lower bound lowers it. Prices move by per-price steps that
grow while the sign of the imbalance holds and halve when it flips (as in Rprop), which
stops the oscillation of plain subgradient steps. Each step is one vectorised pass over a
dense ``(items, candidates)`` table; the repair step finishes what prices leave.
"""

from __future__ import annotations

import numpy as np

from territorial.core.carve.allocate import Candidates, nearest_distance
from territorial.core.carve.problem import CarveProblem, FloatArray, IntArray


def dense(
    cands: Candidates, n: int, values: FloatArray, fill: float
) -> tuple[IntArray, FloatArray]:
    """Candidates as an ``(n, width)`` table of territories and of ``values`` (padding:
    the item's first territory with value ``fill``)."""
    indptr = cands.of_items(n)
    counts = np.diff(indptr)
    width = int(counts.max(initial=1))
    col = np.arange(len(cands.item)) - np.repeat(indptr[:-1], counts)
    terr = np.repeat(cands.territory[indptr[:-1]][:, None], width, axis=1)
    vals = np.full((n, width), fill)
    terr[cands.item, col] = cands.territory
    vals[cands.item, col] = values
    return terr.astype(np.int64), vals


def allocate_by_prices(
    problem: CarveProblem,
    cands: Candidates,
    *,
    steps: int = 400,
    slack: float = 0.7,
    prices: FloatArray | None = None,
) -> tuple[IntArray, FloatArray]:
    """Labels from price iterations, and the final prices (to warm-start the next round)."""
    n, k = problem.n, problem.k
    m = problem.measures.shape[1]
    lower, upper = problem.bounds(slack)
    mean = problem.measures.mean(axis=0)
    unit = problem.measures / np.where(mean > 0, mean, 1.0)  # about one per item
    mean_distance = float(np.mean(cands.distance)) or 1.0
    base = cands.distance / mean_distance
    bonus = problem.stay_bonus()
    if bonus is not None:  # in territory radii, as in the allocation programme
        assert problem.current is not None
        stays = problem.current[cands.item] == cands.territory
        radius = nearest_distance(cands, n)
        base = base - stays * bonus[cands.item] * radius / mean_distance
    terr, cost0 = dense(cands, n, base, np.inf)
    price = np.zeros((k, m)) if prices is None else prices.copy()
    step = np.full((k, m), 0.05)
    last = np.zeros((k, m))
    rows = np.arange(n)
    labels = terr[:, 0]
    for _ in range(steps):
        cost = cost0.copy()
        for j in range(m):
            cost += price[terr, j] * unit[:, j, None]
        labels = terr[rows, np.argmin(cost, axis=1)]
        loads = np.column_stack(
            [np.bincount(labels, weights=problem.measures[:, j], minlength=k) for j in range(m)]
        )
        sign = np.sign(np.maximum(loads - upper, 0.0) - np.maximum(lower - loads, 0.0))
        if not sign.any():
            break
        flipped = sign * last < 0
        step = np.where(
            flipped, step * 0.5, np.where(sign * last > 0, np.minimum(step * 1.2, 2.0), step)
        )
        price += sign * step
        last = sign
    return labels, price


__all__ = ["allocate_by_prices", "dense"]
