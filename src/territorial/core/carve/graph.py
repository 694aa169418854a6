"""Adjacency of geographic units, and connectedness of the territories drawn on it.

Two units are neighbours when their centroids share an edge of the Delaunay triangulation
(of the points projected on their best-fitting plane): the graph is connected, so every
territory can trade units with its neighbours (an island is adjacent to the nearest
coast); or, with ``method="knn"``, when one is among the other's nearest neighbours.
"""

from __future__ import annotations

from collections import deque

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components
from scipy.spatial import Delaunay, QhullError, cKDTree

from territorial.core.carve.problem import FloatArray, IntArray


def unit_graph(
    points: FloatArray, *, method: str = "delaunay", neighbours: int = 6
) -> sp.csr_matrix:
    """Symmetric adjacency matrix (CSR, 0/1) of the units at ``points``.

    Parameters
    ----------
    points
        ``(n, d)`` unit centroids in km.
    method
        ``"delaunay"`` (planar triangulation, connected) or ``"knn"``.
    neighbours
        Neighbours per unit for ``"knn"``.

    Examples
    --------
    >>> g = unit_graph(np.array([[0.0, 0], [1, 0], [0, 1], [1, 1]]))
    >>> g.sum(axis=1).A1.tolist()
    [3, 2, 2, 3]
    """
    n = len(points)
    if n < 2:
        return sp.csr_matrix((n, n), dtype=np.int8)
    if method == "knn" or n < 4:
        return _knn(points, neighbours)
    flat = _plane(points)
    try:
        tri = Delaunay(flat)
    except QhullError:
        return _knn(points, neighbours)
    s = tri.simplices
    a = np.r_[s[:, 0], s[:, 1], s[:, 2]]
    b = np.r_[s[:, 1], s[:, 2], s[:, 0]]
    if len(tri.coplanar):  # points left out (duplicates): joined to their nearest vertex
        a = np.r_[a, tri.coplanar[:, 0]]
        b = np.r_[b, tri.coplanar[:, 2]]
    graph = sp.csr_matrix((np.ones(len(a), dtype=np.int8), (a, b)), shape=(n, n))
    return _symmetric(graph)


def _plane(points: FloatArray) -> FloatArray:
    centred = points - points.mean(axis=0)
    if points.shape[1] <= 2:
        return np.asarray(centred, dtype=np.float64)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    return np.asarray(centred @ vt[:2].T, dtype=np.float64)


def _knn(points: FloatArray, neighbours: int) -> sp.csr_matrix:
    n = len(points)
    count = min(neighbours + 1, n)
    _, idx = cKDTree(points).query(points, count)
    idx = np.asarray(idx).reshape(n, count)
    rows = np.repeat(np.arange(n), count - 1)
    graph = sp.csr_matrix(
        (np.ones(len(rows), dtype=np.int8), (rows, idx[:, 1:].ravel())), shape=(n, n)
    )
    return _symmetric(graph)


def _symmetric(graph: sp.csr_matrix) -> sp.csr_matrix:
    sym = (graph + graph.T).tocsr()
    sym.data[:] = 1
    sym.setdiag(0)
    sym.eliminate_zeros()
    return sym.astype(np.int8).tocsr()


def territory_adjacency(graph: sp.csr_matrix, labels: IntArray, k: int) -> sp.csr_matrix:
    """``(k, k)`` adjacency of the territories: nonzero where units of two territories are
    neighbours on the unit graph.

    >>> g = unit_graph(np.array([[0.0, 0], [1, 0], [2, 0]]), method="knn", neighbours=1)
    >>> (territory_adjacency(g, np.array([0, 1, 2]), 3).toarray() > 0).astype(int).tolist()
    [[0, 1, 0], [1, 0, 1], [0, 1, 0]]
    """
    coo = graph.tocoo()
    cross = labels[coo.row] != labels[coo.col]
    return sp.csr_matrix(
        (np.ones(int(cross.sum())), (labels[coo.row][cross], labels[coo.col][cross])),
        shape=(k, k),
    )


def territory_components(graph: sp.csr_matrix, labels: IntArray, k: int) -> IntArray:
    """Number of connected pieces of every territory on the graph (0 for an empty one).

    >>> g = unit_graph(np.array([[0.0, 0], [1, 0], [2, 0], [3, 0]]), method="knn", neighbours=1)
    >>> territory_components(g, np.array([0, 1, 0, 1]), 2).tolist()
    [2, 2]
    """
    coo = graph.tocoo()
    same = labels[coo.row] == labels[coo.col]
    inner = sp.csr_matrix((coo.data[same], (coo.row[same], coo.col[same])), shape=graph.shape)
    _, comp = connected_components(inner, directed=False)
    pieces = np.unique(np.column_stack([labels, comp]), axis=0)
    return np.bincount(pieces[:, 0], minlength=k).astype(np.int64)


def stays_connected(graph: sp.csr_matrix, labels: IntArray, item: int) -> bool:
    """Whether the territory of ``item`` is still connected without it (a breadth-first
    search over the territory's other units from one of the item's neighbours)."""
    own = labels[item]
    nbrs = [
        int(j)
        for j in graph.indices[graph.indptr[item] : graph.indptr[item + 1]]
        if labels[j] == own
    ]
    if len(nbrs) <= 1:
        return True
    targets, seen = set(nbrs), {item, nbrs[0]}
    queue = deque([nbrs[0]])
    targets.discard(nbrs[0])
    while queue and targets:
        u = queue.popleft()
        for v in graph.indices[graph.indptr[u] : graph.indptr[u + 1]]:
            v = int(v)
            if v not in seen and labels[v] == own:
                seen.add(v)
                targets.discard(v)
                queue.append(v)
    return not targets


def is_connected(graph: sp.csr_matrix, labels: IntArray, territory: int) -> bool:
    """Whether ``territory`` is in one piece on the graph (breadth first over its units)."""
    members = np.flatnonzero(labels == territory)
    if len(members) <= 1:
        return len(members) == 1
    indptr, indices = graph.indptr, graph.indices
    seen = {int(members[0])}
    queue = deque(seen)
    while queue:
        node = queue.popleft()
        for nb in indices[indptr[node] : indptr[node + 1]].tolist():
            if nb not in seen and labels[nb] == territory:
                seen.add(nb)
                queue.append(nb)
    return len(seen) == len(members)


def merge_fragments(graph: sp.csr_matrix, labels: IntArray, locks: IntArray, k: int) -> IntArray:
    """Give every piece of a territory but its largest to the neighbouring territory it
    shares most edges with (locked units stay), so each territory is one piece."""
    labels = labels.copy()
    for _ in range(10):
        coo = graph.tocoo()
        same = labels[coo.row] == labels[coo.col]
        inner = sp.csr_matrix((coo.data[same], (coo.row[same], coo.col[same])), shape=graph.shape)
        _, comp = connected_components(inner, directed=False)
        size = np.bincount(comp)
        largest = np.zeros(k, dtype=np.int64) - 1
        best = np.zeros(k, dtype=np.int64)
        for c in np.argsort(-size, kind="stable"):
            t = labels[np.flatnonzero(comp == c)[0]]
            if largest[t] < 0:
                largest[t], best[t] = c, size[c]
        fragments = [
            c for c in range(len(size)) if c != largest[labels[np.flatnonzero(comp == c)[0]]]
        ]
        if not fragments:
            break
        for c in fragments:
            members = np.flatnonzero(comp == c)
            if (locks[members] >= 0).any():
                continue
            nb = graph[members].indices
            outside = labels[nb][labels[nb] != labels[members[0]]]
            if len(outside):
                labels[members] = np.bincount(outside, minlength=k).argmax()
    return labels


__all__ = [
    "is_connected",
    "merge_fragments",
    "stays_connected",
    "territory_adjacency",
    "territory_components",
    "unit_graph",
]
