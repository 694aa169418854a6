"""Repair: single-item moves that bring every territory back within its tolerances.

After allocation, rounding and the programme's slack can leave a few territories just
outside their bounds. Repeatedly take the territory furthest outside, and make the move of
one item into or out of it that reduces the total violation most (ties: the least added
distance). With a unit graph, an item may only move to a territory it touches, and only
if its own territory stays in one piece.
"""

from __future__ import annotations

import itertools

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from territorial.core.carve.allocate import Candidates
from territorial.core.carve.graph import stays_connected, territory_adjacency
from territorial.core.carve.problem import CarveProblem, FloatArray, IntArray


def violation(
    loads: FloatArray, lower: FloatArray, upper: FloatArray, scale: FloatArray
) -> FloatArray:
    """Per row of ``loads``, the total relative amount outside ``[lower, upper]``.

    >>> lo, hi, target = np.array([[9.0]]), np.array([[11.0]]), np.array([[10.0]])
    >>> violation(np.array([[12.0], [9.0]]), lo, hi, target).tolist()
    [0.1, 0.0]
    """
    over = np.maximum(loads - upper, 0.0) + np.maximum(lower - loads, 0.0)
    return np.asarray((over / scale).sum(axis=-1), dtype=np.float64)


def loads_of(measures: FloatArray, labels: IntArray, k: int) -> FloatArray:
    """``(k, m)`` total of every measure in every territory.

    >>> loads_of(np.array([[1.0], [2.0], [4.0]]), np.array([0, 1, 1]), 2).tolist()
    [[1.0], [6.0]]
    """
    out = np.zeros((k, measures.shape[1]))
    np.add.at(out, labels, measures)
    return out


def added_distance(
    points: FloatArray, centres: FloatArray, item: IntArray, source: IntArray, target: IntArray
) -> FloatArray:
    """How much further each ``item`` is from the centre of ``target`` than of ``source``.

    >>> c = np.array([[0.0], [10.0]])
    >>> added_distance(np.array([[2.0]]), c, np.array([0]), np.array([0]), np.array([1])).tolist()
    [6.0]
    """
    pts = points[item]
    out = np.linalg.norm(pts - centres[target], axis=1) - np.linalg.norm(
        pts - centres[source], axis=1
    )
    return np.asarray(out, dtype=np.float64)


def repair(
    problem: CarveProblem,
    labels: IntArray,
    centres: FloatArray,
    *,
    cands: Candidates | None = None,
    graph: sp.csr_matrix | None = None,
    max_moves: int = 20_000,
    passes: int = 3,
) -> tuple[IntArray, int]:
    """Move items until every territory is within tolerance or no move helps.

    Returns the new labels and the number of moves made. Allowed moves come from ``cands``
    (an item's candidate territories) or, with ``graph``, from the territories of its
    neighbours.
    """
    labels = labels.copy()
    k, w = problem.k, problem.measures
    lower, upper = problem.bounds()
    scale = np.where(problem.targets() > 0, problem.targets(), 1.0)
    loads = loads_of(w, labels, k)
    locks = problem.locked()
    if graph is not None:
        coo = graph.tocoo()
        pair_item, pair_terr = coo.row.astype(np.int64), coo.col.astype(np.int64)
    else:
        assert cands is not None
        pair_item, pair_terr = cands.item, cands.territory
    moves = 0
    for _ in range(passes):
        stuck: set[int] = set()
        banned: set[tuple[int, int]] = set()
        made = 0
        while moves < max_moves:
            viol = violation(loads, lower, upper, scale)
            viol[list(stuck)] = 0.0
            worst = int(np.argmax(viol))
            if viol[worst] <= 1e-12:
                break
            item, target = _moves_touching(worst, labels, locks, pair_item, pair_terr, graph)
            best = _best_move(
                problem, item, target, labels, loads, centres, lower, upper, scale, banned
            )
            if best is None:
                chain = 0
                if graph is not None:
                    chain = push_chain(problem, graph, labels, loads, worst, lower, upper, scale)
                if not chain:
                    stuck.add(worst)
                moves += chain
                made += chain
                continue
            i, b = best
            if graph is not None and not stays_connected(graph, labels, i):
                banned.add((i, b))
                continue
            loads[labels[i]] -= w[i]
            loads[b] += w[i]
            labels[i] = b
            moves += 1
            made += 1
        if not made:
            break
    return labels, moves


def push_chain(
    problem: CarveProblem,
    graph: sp.csr_matrix,
    labels: IntArray,
    loads: FloatArray,
    territory: int,
    lower: FloatArray,
    upper: FloatArray,
    scale: FloatArray,
) -> int:
    """Shift load along a chain of neighbouring territories, from the over-loaded end to the
    under-loaded one, one unit per border, when no single move helps (the neighbours are
    balanced themselves). Updates ``labels`` and ``loads`` in place and returns the number
    of moves, or 0 (and changes nothing) when the chain does not reduce the violation."""
    k = problem.k
    dev = (loads / scale - 1.0).mean(axis=1)
    adjacency = territory_adjacency(graph, labels, k)
    over = dev[territory] > 0
    path = _path_to(adjacency, territory, (dev < 0) if over else (dev > 0))
    if path is None:
        return 0
    if not over:
        path = path[::-1]  # from the over-loaded end to ``territory``
    # Small steps: a unit worth about half the tightest tolerance, so the territories along
    # the chain stay within theirs while the ends move towards their targets.
    amount = min(abs(float(dev[territory])), float(problem.tolerance.min()) / 2)
    combined = (problem.measures / scale.mean(axis=0)).mean(axis=1)
    before = float(violation(loads, lower, upper, scale).sum())
    saved_labels, saved_loads = labels.copy(), loads.copy()
    locks = problem.locked()
    made = 0
    for source, target in reversed(list(itertools.pairwise(path))):
        unit = _border_unit(graph, labels, locks, source, target, combined, amount)
        if unit is None:
            break
        loads[source] -= problem.measures[unit]
        loads[target] += problem.measures[unit]
        labels[unit] = target
        made += 1
    if made == len(path) - 1 and float(violation(loads, lower, upper, scale).sum()) < before:
        return made
    labels[:], loads[:] = saved_labels, saved_loads
    return 0


def _path_to(adjacency: sp.csr_matrix, start: int, goal: npt.NDArray[np.bool_]) -> list[int] | None:
    """Shortest path (breadth first) from ``start`` to any territory where ``goal`` holds."""
    parent = {start: -1}
    frontier = [start]
    while frontier:
        nxt = []
        for u in frontier:
            for v in adjacency.indices[adjacency.indptr[u] : adjacency.indptr[u + 1]]:
                v = int(v)
                if v in parent:
                    continue
                parent[v] = u
                if goal[v]:
                    path = [v]
                    while parent[path[-1]] != -1:
                        path.append(parent[path[-1]])
                    return path[::-1]
                nxt.append(v)
        frontier = nxt
    return None


def _border_unit(
    graph: sp.csr_matrix,
    labels: IntArray,
    locks: IntArray,
    source: int,
    target: int,
    combined: FloatArray,
    amount: float,
) -> int | None:
    """The unit of ``source`` touching ``target`` whose weight is nearest ``amount`` and
    whose move keeps ``source`` in one piece."""
    coo = graph.tocoo()
    touching = (labels[coo.row] == source) & (labels[coo.col] == target) & (locks[coo.row] < 0)
    units = np.unique(coo.row[touching])
    for unit in units[np.argsort(np.abs(combined[units] - amount), kind="stable")][:20]:
        if stays_connected(graph, labels, int(unit)):
            return int(unit)
    return None


def _moves_touching(
    territory: int,
    labels: IntArray,
    locks: IntArray,
    pair_item: IntArray,
    pair_terr: IntArray,
    graph: sp.csr_matrix | None,
) -> tuple[IntArray, IntArray]:
    """(item, new territory) moves out of or into ``territory``: pairs are (item,
    candidate territory), or with a graph (unit, neighbour unit)."""
    target = labels[pair_terr] if graph is not None else pair_terr
    current = labels[pair_item]
    touching = (current != target) & ((current == territory) | (target == territory))
    touching &= locks[pair_item] < 0
    return pair_item[touching], target[touching]


def _best_move(
    problem: CarveProblem,
    item: IntArray,
    target: IntArray,
    labels: IntArray,
    loads: FloatArray,
    centres: FloatArray,
    lower: FloatArray,
    upper: FloatArray,
    scale: FloatArray,
    banned: set[tuple[int, int]],
) -> tuple[int, int] | None:
    if banned:
        keep = np.array(
            [(int(i), int(t)) not in banned for i, t in zip(item, target, strict=True)], dtype=bool
        )
        item, target = item[keep], target[keep]
    if len(item) == 0:
        return None
    w = problem.measures[item]
    src = labels[item]
    before = violation(loads[src], lower[src], upper[src], scale[src]) + violation(
        loads[target], lower[target], upper[target], scale[target]
    )
    after = violation(loads[src] - w, lower[src], upper[src], scale[src]) + violation(
        loads[target] + w, lower[target], upper[target], scale[target]
    )
    gain = after - before
    extra = added_distance(problem.points, centres, item, src, target)
    if problem.current is not None and problem.keep > 0:
        extra = (
            extra + 1e6 * (problem.current[item] == src) - 1e6 * (problem.current[item] == target)
        )
    order = np.lexsort((extra, np.round(gain, 12)))
    first = int(order[0])
    if gain[first] >= -1e-12:
        return None
    return int(item[first]), int(target[first])


__all__ = ["added_distance", "loads_of", "repair", "violation"]
