"""The polish step: an unbalanced plan on a unit graph comes back within tolerance, in one
piece per territory, with locked units where they were."""

from __future__ import annotations

import numpy as np
import pytest

from territorial.core.carve import CarveProblem, balance_report, contiguity, unit_graph
from territorial.core.carve.polish import Moves, polish
from territorial.core.carve.seed import centroids


def _grid(side: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    xs, ys = np.meshgrid(np.arange(side, dtype=float), np.arange(side, dtype=float))
    points = np.column_stack([xs.ravel(), ys.ravel()]) * 10.0
    measures = np.column_stack([rng.uniform(0.5, 1.5, side * side), np.ones(side * side)])
    return points, measures


def _strips(points: np.ndarray, widths: list[int]) -> np.ndarray:
    """Vertical strips of the given widths (in grid columns)."""
    edges = np.cumsum(widths)[:-1] * 10.0
    return np.searchsorted(edges, points[:, 0], side="right").astype(np.int64)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_uneven_strips_come_back_within_tolerance_and_in_one_piece(seed: int) -> None:
    points, measures = _grid(20, seed)
    labels = _strips(points, [3, 5, 5, 7])  # 15 % to 35 % of the units: far off target
    problem = CarveProblem(
        points, measures, 4, names=("potential", "units"), tolerance=np.array([0.05, 0.10])
    )
    graph = unit_graph(points)
    before = balance_report(labels, measures, 4, tolerance=problem.tolerance)
    assert not before.ok

    out, made = polish(problem, labels, centroids(points, labels, 4), Moves.on_graph(graph))

    assert made > 0
    assert balance_report(out, measures, 4, tolerance=problem.tolerance).ok
    assert contiguity(graph, out, 4).fragments == 0


def test_locked_units_stay_and_no_territory_is_emptied() -> None:
    points, measures = _grid(12, 3)
    labels = _strips(points, [2, 4, 6])
    locks = np.full(len(points), -1, dtype=np.int64)
    locks[labels == 2] = 2  # the over-full strip may not give anything away...
    locks[np.flatnonzero(labels == 2)[:6]] = -1  # ...except six units
    problem = CarveProblem(
        points, measures, 3, names=("potential", "units"), tolerance=np.array([0.05, 0.1]),
        locks=locks,
    )  # fmt: skip
    graph = unit_graph(points)

    out, _ = polish(problem, labels, centroids(points, labels, 3), Moves.on_graph(graph))

    held = locks >= 0
    assert (out[held] == locks[held]).all()
    assert (np.bincount(out, minlength=3) > 0).all()
    assert contiguity(graph, out, 3).fragments == 0


def test_balanced_plan_is_left_as_it_is() -> None:
    points, measures = _grid(10, 4)
    labels = _strips(points, [5, 5])
    problem = CarveProblem(
        points, measures, 2, names=("potential", "units"), tolerance=np.array([0.2, 0.2])
    )
    assert balance_report(labels, measures, 2, tolerance=problem.tolerance).ok

    out, made = polish(
        problem, labels, centroids(points, labels, 2), Moves.on_graph(unit_graph(points))
    )

    assert made == 0
    assert np.array_equal(out, labels)
