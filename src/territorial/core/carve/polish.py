"""Polish: batched local search that brings every territory within its tolerances; it
stops as soon as all are.

Each territory scores its deviation from target per measure, in units of that measure's
tolerance ``x``: ``100 * max(0, |x| - 1) + max(0, |x| - band) ** 2``. The steep first
term fixes what is outside the tolerance; the gentle second one pulls territories that
are inside it but near its edge back towards the target, so load spreads across a region
of full territories instead of piling up at its edge (where no single move can help).

A batch scores every move of a border item into a neighbouring territory (score change of
both territories, plus a small cost for added distance and, when rebalancing, for leaving
the current territory) and makes the best improving moves that touch disjoint territories,
so the scores of one batch stay exact. With a unit graph, a move must keep its territory
in one piece and leave it at least one unit.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from territorial.core.carve.graph import is_connected
from territorial.core.carve.problem import CarveProblem, FloatArray, IntArray
from territorial.core.carve.repair import added_distance, loads_of

STEEP = 100.0
SWAPS = 200_000


@dataclass(frozen=True)
class Moves:
    """Where items may move: ``(item, territory)`` pairs, fixed or read off a unit graph."""

    item: IntArray
    territory: IntArray
    graph: sp.csr_matrix | None = None

    @classmethod
    def on_graph(cls, graph: sp.csr_matrix) -> Moves:
        """Moves of a unit into the territory of any of its neighbours."""
        coo = graph.tocoo()
        return cls(coo.row.astype(np.int64), coo.col.astype(np.int64), graph.tocsr())

    def pairs(self, labels: IntArray) -> tuple[IntArray, IntArray]:
        """Moves to another territory under ``labels`` (with a graph: the territory of
        a neighbouring unit; each pair once)."""
        if self.graph is None:
            other = labels[self.item] != self.territory
            return self.item[other], self.territory[other]
        target = labels[self.territory]  # with a graph, ``territory`` holds neighbour units
        cross = labels[self.item] != target
        width = int(labels.max()) + 1
        key = np.unique(self.item[cross] * width + target[cross])
        return key // width, key % width


def score(x: FloatArray, band: float) -> FloatArray:
    """Score of deviations ``x`` (in tolerances), summed over the last axis.

    >>> score(np.array([[0.2, -0.9], [1.5, 0.0]]), 0.5).round(3).tolist()
    [0.16, 51.0]
    """
    a = np.abs(x)
    out = STEEP * np.maximum(a - 1.0, 0.0) + np.maximum(a - band, 0.0) ** 2
    return np.asarray(out.sum(axis=-1), dtype=np.float64)


def polish(
    problem: CarveProblem,
    labels: IntArray,
    centres: FloatArray,
    moves: Moves,
    *,
    band: float = 0.6,
    distance_weight: float = 0.002,
    keep_weight: float = 1.0,
    max_batches: int = 3000,
    time_limit: float = 20.0,
) -> tuple[IntArray, int]:
    """Improve ``labels`` by batches of moves and exchanges; returns the new labels and the
    number of moves made.

    ``distance_weight`` prices added distance (in mean item-to-centre distances) against
    the score; ``keep_weight`` prices leaving the current territory (times the item's
    move cost) when the problem rebalances a current plan.
    """
    labels = labels.copy()
    k, w = problem.k, problem.measures
    targets = problem.targets()
    unit = targets * np.where(problem.tolerance > 0, problem.tolerance, 1e-9)
    unit = np.where(unit > 0, unit, 1.0)
    locks = problem.locked()
    movable = locks < 0
    size = problem.sizes() / max(float(problem.sizes().mean()), 1e-9)
    spread = np.linalg.norm(problem.points - centres[labels], axis=1)
    mean_distance = float((spread * size).sum() / max(size.sum(), 1e-9)) or 1.0
    bonus = problem.stay_bonus()
    keep = None if bonus is None else keep_weight * bonus
    loads = loads_of(w, labels, k)
    count = np.bincount(labels, minlength=k)
    made = 0
    banned: set[int] = set()  # item * k + territory: moves that would split a territory
    started = time.perf_counter()
    for _ in range(max_batches):
        x = loads / unit - targets / unit
        own = score(x, band)
        active = own > 0
        outside = (np.abs(x) > 1.0 + 1e-9).any()
        if not outside or time.perf_counter() - started > time_limit:
            break
        item, target = moves.pairs(labels)
        source = labels[item]
        keep_pair = movable[item] & (active[source] | active[target])
        if moves.graph is not None:
            keep_pair &= count[source] > 1
        if banned:
            keep_pair &= ~np.isin(item * k + target, np.fromiter(banned, dtype=np.int64))
        item, target, source = item[keep_pair], target[keep_pair], source[keep_pair]
        if not len(item):
            break
        extra = distance_weight * _added(
            problem, centres, item, source, target, size, mean_distance
        )
        if keep is not None:
            extra = extra + _leaving(problem, keep, item, source, target)
        delta = w[item] / unit[source], w[item] / unit[target]
        gain = (
            score(x[source] - delta[0], band)
            - own[source]
            + score(x[target] + delta[1], band)
            - own[target]
            + extra
        )
        swaps = _swaps(item, source, target, active, k)
        if len(swaps[0]):
            u, v = swaps
            a, b = labels[u], labels[v]
            change = w[v] - w[u]
            swap_added = np.zeros(len(u))
            for i, p, q in ((u, a, b), (v, b, a)):
                swap_added += distance_weight * _added(
                    problem, centres, i, p, q, size, mean_distance
                )
                if keep is not None:
                    swap_added += _leaving(problem, keep, i, p, q)
            swap_gain = (
                score(x[a] + change / unit[a], band)
                - own[a]
                + score(x[b] - change / unit[b], band)
                - own[b]
                + swap_added
            )
        else:
            u = v = a = b = np.zeros(0, dtype=np.int64)
            swap_gain = np.zeros(0)
        all_gain = np.r_[gain, swap_gain]
        better = np.flatnonzero(all_gain < -1e-9)
        if not len(better):
            break
        first = np.r_[item, u]
        second = np.r_[np.full(len(item), -1, dtype=np.int64), v]
        src, dst = np.r_[source, a], np.r_[target, b]
        chosen = _disjoint(better[np.argsort(all_gain[better], kind="stable")], src, dst, k)
        batch = 0
        for pair in chosen:
            moved = [(int(first[pair]), int(dst[pair]))]
            if second[pair] >= 0:
                moved.append((int(second[pair]), int(src[pair])))
            done = _apply(moves.graph, labels, loads, count, w, moved)
            if not done:
                banned.update(i * k + t for i, t in moved)
            batch += done
        made += batch
    return labels, made


def _added(
    problem: CarveProblem,
    centres: FloatArray,
    item: IntArray,
    source: IntArray,
    target: IntArray,
    size: FloatArray,
    mean_distance: float,
) -> FloatArray:
    """Distance added by moving ``item`` from ``source`` to ``target``, in mean distances
    and weighted by the item's size."""
    added = added_distance(problem.points, centres, item, source, target)
    return np.asarray(added * size[item] / mean_distance, dtype=np.float64)


def _leaving(
    problem: CarveProblem, keep: FloatArray, item: IntArray, source: IntArray, target: IntArray
) -> FloatArray:
    """Cost of leaving the current territory (negative: of coming back to it)."""
    assert problem.current is not None
    current = problem.current[item]
    return np.asarray(keep[item] * ((current == source) * 1.0 - (current == target)), float)


def _swaps(
    item: IntArray, source: IntArray, target: IntArray, active: npt.NDArray[np.bool_], k: int
) -> tuple[IntArray, IntArray]:
    """Exchanges of an item of an active territory ``a`` moving to ``b`` with an item of
    ``b`` moving to ``a``: every pairing of the two directions of each border (at most
    ``SWAPS`` pairings in all)."""
    out = active[source]
    key_out = source[out] * k + target[out]
    key_in = target * k + source
    order = np.argsort(key_in, kind="stable")
    sorted_in = key_in[order]
    lo = np.searchsorted(sorted_in, key_out, side="left")
    hi = np.searchsorted(sorted_in, key_out, side="right")
    counts = hi - lo
    total = int(counts.sum())
    if total == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty
    if total > SWAPS:
        counts = np.minimum(counts, max(1, SWAPS // max(1, int((counts > 0).sum()))))
    u = np.repeat(item[out], counts)
    offsets = np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
    v = item[order[np.repeat(lo, counts) + offsets]]
    return u.astype(np.int64), v.astype(np.int64)


def _apply(
    graph: sp.csr_matrix | None,
    labels: IntArray,
    loads: FloatArray,
    count: IntArray,
    w: FloatArray,
    moved: list[tuple[int, int]],
) -> int:
    """Make the moves (item, new territory) together, unless one would split a territory
    on the graph; returns the number of items moved."""
    before = [(i, int(labels[i])) for i, _ in moved]
    for i, t in moved:
        labels[i] = t
    if graph is not None and not all(is_connected(graph, labels, t) for (_, t) in before + moved):
        for i, t in before:
            labels[i] = t
        return 0
    for (i, old), (_, new) in zip(before, moved, strict=True):
        loads[old] -= w[i]
        loads[new] += w[i]
        count[old] -= 1
        count[new] += 1
    return len(moved)


def _disjoint(order: IntArray, source: IntArray, target: IntArray, k: int) -> list[int]:
    """The best moves (in ``order``) whose territories no earlier chosen move touches."""
    used = np.zeros(k, dtype=bool)
    chosen: list[int] = []
    for pair in order[: 50 * k]:
        a, b = source[pair], target[pair]
        if used[a] or used[b]:
            continue
        used[a] = used[b] = True
        chosen.append(int(pair))
    return chosen


__all__ = ["Moves", "polish", "score"]
