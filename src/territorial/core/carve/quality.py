"""Public checkers of a plan: partition, balance, compactness, contiguity, disruption.

Balance statistics (CV, max deviation, shares within ±5/10/15 %, Gini) are those of
:mod:`territorial.core.metrics`, taken over each territory's load divided by its target.

They take plain arrays (a territory number per item), so they check any plan, carved here
or not, and the tests use them as properties.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from territorial.core.carve.problem import FloatArray, IntArray, Seed, as_generator
from territorial.core.carve.seed import bisect, centroids
from territorial.core.metrics import BANDS, balance_stats


def is_partition(parts: Mapping[Any, Iterable[Hashable]], items: Iterable[Hashable]) -> bool:
    """Whether every item is in exactly one part, and the parts hold nothing else.

    Examples
    --------
    >>> is_partition({"A": [1, 2], "B": [3]}, [1, 2, 3])
    True
    >>> is_partition({"A": [1, 2], "B": [2, 3]}, [1, 2, 3])
    False
    """
    seen: list[Hashable] = [item for part in parts.values() for item in part]
    expected = set(items)
    return len(seen) == len(set(seen)) and set(seen) == expected


@dataclass(frozen=True)
class MeasureBalance:
    """How evenly one measure is spread: deviations are relative to each target."""

    name: str
    target: float
    max_deviation: float
    cv: float
    gini: float
    within: tuple[float, ...]
    """Share of territories within ±5, ±10 and ±15 % of target."""
    tolerance: float
    within_tolerance: float


@dataclass(frozen=True)
class BalanceReport:
    """Balance of every measure; ``ok`` when every territory is within every tolerance."""

    measures: tuple[MeasureBalance, ...]
    deviations: FloatArray = field(repr=False)
    """``(k, m)`` relative deviation of every territory from every target."""

    @property
    def ok(self) -> bool:
        return all(m.within_tolerance >= 1.0 for m in self.measures)

    def __getitem__(self, name: str) -> MeasureBalance:
        return next(m for m in self.measures if m.name == name)


def balance_report(
    labels: npt.ArrayLike,
    measures: npt.ArrayLike,
    k: int,
    *,
    names: Iterable[str] | None = None,
    tolerance: npt.ArrayLike = 0.05,
    shares: npt.ArrayLike | None = None,
) -> BalanceReport:
    """Balance statistics of a plan: per measure max deviation, CV, Gini and the share of
    territories within ±5/10/15 % and within tolerance.

    Examples
    --------
    >>> r = balance_report([0, 0, 1], [[1.0], [1.0], [2.0]], 2, names=["accounts"])
    >>> r["accounts"].max_deviation, r.ok
    (0.0, True)
    >>> balance_report([0, 0, 1], [[1.0], [1.0], [1.0]], 2).measures[0].within
    (0.0, 0.0, 0.0)
    """
    lab = np.asarray(labels, dtype=np.int64)
    w = np.asarray(measures, dtype=np.float64).reshape(len(lab), -1)
    m = w.shape[1]
    label_names = list(names) if names is not None else [f"measure_{j}" for j in range(m)]
    tol = np.broadcast_to(np.asarray(tolerance, dtype=np.float64), (m,))
    share = np.full(k, 1.0 / k) if shares is None else np.asarray(shares, dtype=np.float64)
    loads = np.zeros((k, m))
    np.add.at(loads, lab, w)
    targets = np.outer(share / share.sum(), w.sum(axis=0))
    safe = np.where(targets > 0, targets, 1.0)
    dev = np.where(targets > 0, loads / safe - 1.0, 0.0)
    stats = []
    for j in range(m):
        # Loads over targets: with equal shares, exactly metrics' deviation from the mean.
        s = balance_stats(dev[:, j] + 1.0)
        stats.append(
            MeasureBalance(
                name=label_names[j],
                target=float(targets[:, j].mean()),
                max_deviation=float(np.abs(dev[:, j]).max(initial=0.0)),
                cv=s.cv,
                gini=s.gini,
                within=(s.within_5, s.within_10, s.within_15),
                tolerance=float(tol[j]),
                within_tolerance=float((np.abs(dev[:, j]) <= tol[j] + 1e-9).mean()),
            )
        )
    return BalanceReport(tuple(stats), dev)


def compactness(
    points: FloatArray,
    labels: npt.ArrayLike,
    k: int,
    *,
    weights: FloatArray | None = None,
    centres: FloatArray | None = None,
) -> float:
    """Weighted mean distance from each item to its territory's centre (the weighted
    centroid unless ``centres`` are given); smaller is more compact.

    >>> compactness(np.array([[0.0], [2.0], [10.0]]), [0, 0, 1], 2)
    0.6666666666666666
    """
    lab = np.asarray(labels, dtype=np.int64)
    w = np.ones(len(lab)) if weights is None else weights
    c = centroids(points, lab, k, w) if centres is None else centres
    d = np.linalg.norm(points - c[lab], axis=1)
    return float((d * w).sum() / w.sum()) if w.sum() > 0 else 0.0


def kmeans_reference(
    points: FloatArray,
    k: int,
    *,
    weights: FloatArray | None = None,
    seed: Seed = None,
    iterations: int = 30,
) -> tuple[IntArray, FloatArray]:
    """Unconstrained weighted k-means (Lloyd's iterations from a balanced bisection): the
    compactness a plan would have if balance did not matter.

    >>> labels, _ = kmeans_reference(np.array([[0.0], [1.0], [10.0], [11.0]]), 2, seed=0)
    >>> sorted(np.bincount(labels).tolist())
    [2, 2]
    """
    w = np.ones(len(points)) if weights is None else weights
    rng = as_generator(seed)
    jitter = points + rng.normal(scale=1e-6, size=points.shape)
    labels = bisect(jitter, w, np.ones(k))
    centres = centroids(points, labels, k, w)
    for _ in range(iterations):
        _, new = cKDTree(centres).query(points)
        new = np.asarray(new, dtype=np.int64)
        if np.array_equal(new, labels):
            break
        labels = new
        moved = centroids(points, labels, k, w)
        filled = np.bincount(labels, minlength=k) > 0
        centres[filled] = moved[filled]
    return labels, centres


@dataclass(frozen=True)
class Contiguity:
    """Pieces of every territory on the unit graph, and how many pieces are enclaves
    (pieces other than a territory's largest that only touch one other territory)."""

    components: IntArray
    fragments: int
    enclaves: int

    @property
    def contiguous(self) -> bool:
        return self.fragments == 0


def contiguity(graph: sp.csr_matrix, labels: npt.ArrayLike, k: int) -> Contiguity:
    """Contiguity of a plan of units on their adjacency graph.

    A territory whose units span several pieces of the graph itself (islands) counts
    only the pieces beyond those.

    >>> from territorial.core.carve.graph import unit_graph
    >>> g = unit_graph(np.array([[0.0, 0], [1, 0], [2, 0], [3, 0]]), method="knn", neighbours=1)
    >>> c = contiguity(g, [0, 1, 0, 0], 2)
    >>> c.components.tolist(), c.fragments, c.enclaves
    ([2, 1], 1, 1)
    """
    lab = np.asarray(labels, dtype=np.int64)
    coo = graph.tocoo()
    same = lab[coo.row] == lab[coo.col]
    inner = sp.csr_matrix((coo.data[same], (coo.row[same], coo.col[same])), shape=graph.shape)
    _, comp = connected_components(inner, directed=False)
    _, island = connected_components(graph, directed=False)
    pieces = np.unique(np.column_stack([lab, comp]), axis=0)
    components = np.bincount(pieces[:, 0], minlength=k).astype(np.int64)
    islands = np.unique(np.column_stack([lab, island]), axis=0)
    spans = np.bincount(islands[:, 0], minlength=k)
    fragments = int(np.maximum(components - spans, 0).sum())
    return Contiguity(
        components, fragments, _enclaves(graph, lab, comp, island) if fragments else 0
    )


def _enclaves(graph: sp.csr_matrix, labels: IntArray, comp: IntArray, island: IntArray) -> int:
    size = np.bincount(comp)
    main: dict[tuple[int, int], int] = {}
    for c in np.argsort(-size, kind="stable"):
        first = int(np.flatnonzero(comp == c)[0])
        main.setdefault((int(labels[first]), int(island[first])), int(c))
    count = 0
    for c in range(len(size)):
        members = np.flatnonzero(comp == c)
        if main[(int(labels[members[0]]), int(island[members[0]]))] == c:
            continue
        around = set(labels[graph[members].indices].tolist()) - {int(labels[members[0]])}
        count += len(around) == 1
    return count


def disruption(
    before: npt.ArrayLike,
    after: npt.ArrayLike,
    *,
    weights: Mapping[str, npt.ArrayLike] | None = None,
) -> dict[str, float]:
    """Share of items (``"accounts"``) and of each weight (revenue, pipeline...) whose
    territory changes. Items without a territory before (-1 or None) do not count as moved.

    >>> disruption([0, 0, 1, -1], [0, 1, 1, 1], weights={"revenue": [1.0, 3.0, 0.0, 5.0]})
    {'accounts': 0.25, 'revenue': 0.3333333333333333}
    """
    b = np.asarray(before, dtype=np.int64)
    a = np.asarray(after, dtype=np.int64)
    moved = (b >= 0) & (b != a)
    out = {"accounts": float(moved.mean()) if len(a) else 0.0}
    for name, w in (weights or {}).items():
        arr = np.nan_to_num(np.asarray(w, dtype=np.float64))
        total = arr.sum()
        out[name] = float(arr[moved].sum() / total) if total > 0 else 0.0
    return out


__all__ = [
    "BANDS",
    "BalanceReport",
    "Contiguity",
    "MeasureBalance",
    "balance_report",
    "compactness",
    "contiguity",
    "disruption",
    "is_partition",
    "kmeans_reference",
]
