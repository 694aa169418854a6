"""A balanced first plan by recursive bisection: fast, balanced on one combined measure,
less compact than the final plan (the location–allocation steps fix that)."""

from __future__ import annotations

import numpy as np

from territorial.core.carve.problem import FloatArray, IntArray


def combined_weight(measures: FloatArray) -> FloatArray:
    """Each item's mean share of every measure's total: one weight that balances them all
    roughly at once.

    >>> combined_weight(np.array([[1.0, 3.0], [1.0, 1.0]])).round(3).tolist()
    [0.625, 0.375]
    """
    totals = measures.sum(axis=0)
    totals[totals == 0] = 1.0
    return np.asarray((measures / totals).mean(axis=1), dtype=np.float64)


def bisect(points: FloatArray, weight: FloatArray, shares: FloatArray) -> IntArray:
    """Split items into ``len(shares)`` parts of ``weight`` proportional to ``shares`` by
    cutting along the widest principal direction, recursively.

    Parameters
    ----------
    points
        ``(n, d)`` coordinates.
    weight
        ``(n,)`` non-negative weight to balance.
    shares
        Target share of each part (any positive scale).

    Returns
    -------
    numpy.ndarray
        The part (0 to ``len(shares) - 1``) of every item.

    Examples
    --------
    >>> pts = np.array([[0.0, 0], [1, 0], [2, 0], [3, 0]])
    >>> bisect(pts, np.ones(4), np.ones(2)).tolist()
    [0, 0, 1, 1]
    """
    labels = np.zeros(len(points), dtype=np.int64)
    stack: list[tuple[IntArray, int, int]] = [(np.arange(len(points)), 0, len(shares))]
    while stack:
        idx, first, count = stack.pop()
        if count == 1 or len(idx) == 0:
            labels[idx] = first
            continue
        half = count // 2
        left_share = shares[first : first + half].sum() / shares[first : first + count].sum()
        order = idx[np.argsort(_projection(points[idx]), kind="stable")]
        cum = np.cumsum(weight[order])
        cut = _cut(cum, cum[-1] * left_share)
        stack.append((order[:cut], first, half))
        stack.append((order[cut:], first + half, count - half))
    return labels


def _cut(cum: FloatArray, goal: float) -> int:
    """How many items go left so their weight is nearest ``goal`` (each side keeps one)."""
    if len(cum) < 2:
        return len(cum)
    c = int(np.searchsorted(cum, goal))
    options = [s for s in (c, c + 1) if 1 <= s <= len(cum) - 1] or [max(1, min(c, len(cum) - 1))]
    return min(options, key=lambda s: abs(cum[s - 1] - goal))


def _projection(points: FloatArray) -> FloatArray:
    """Coordinates along the direction of greatest spread (principal axis)."""
    centred = points - points.mean(axis=0)
    if len(points) < 3:
        return np.asarray(centred[:, int(np.argmax(np.ptp(points, axis=0)))], dtype=np.float64)
    sample = centred if len(points) <= 20_000 else centred[:: len(points) // 20_000 + 1]
    _, _, vt = np.linalg.svd(sample, full_matrices=False)
    return np.asarray(centred @ vt[0], dtype=np.float64)


def centroids(
    points: FloatArray, labels: IntArray, k: int, weights: FloatArray | None = None
) -> FloatArray:
    """``(k, d)`` weighted centroid of every part (the origin for an empty part).

    >>> centroids(np.array([[0.0], [2.0], [5.0]]), np.array([0, 0, 1]), 2).tolist()
    [[1.0], [5.0]]
    """
    w = np.ones(len(points)) if weights is None else weights
    sums = np.zeros((k, points.shape[1]))
    np.add.at(sums, labels, points * w[:, None])
    mass = np.bincount(labels, weights=w, minlength=k)
    out = sums / np.where(mass > 0, mass, 1.0)[:, None]
    return np.asarray(out, dtype=np.float64)


__all__ = ["bisect", "centroids", "combined_weight"]
