"""The local re-solve around territories outside tolerance, on a unit graph."""

from __future__ import annotations

import numpy as np

from territorial.core.carve import CarveProblem, balance_report, contiguity, unit_graph
from territorial.core.carve.reoptimise import reoptimise
from territorial.core.carve.repair import loads_of, violation
from territorial.core.carve.seed import bisect, centroids


def _lumpy_grid(seed: int, locks: bool = False) -> tuple[CarveProblem, np.ndarray]:
    """A 14 x 14 grid of units with heavy-tailed potential, and a contiguous start that
    balances only the unit count (so potential is off in several territories)."""
    rng = np.random.default_rng(seed)
    xs, ys = np.meshgrid(np.arange(14.0), np.arange(14.0))
    points = np.column_stack([xs.ravel(), ys.ravel()]) * 10 + rng.normal(0, 0.5, (196, 2))
    potential = rng.lognormal(0.0, 0.8, 196)
    measures = np.column_stack([potential, np.ones(196)])
    start = bisect(points, np.ones(196), np.ones(7))
    locked = np.where(rng.random(196) < 0.05, start, -1) if locks else None
    problem = CarveProblem(
        points, measures, 7, names=("potential", "accounts"), tolerance=np.array([0.05, 0.15]),
        locks=locked,
    )  # fmt: skip
    return problem, start


def _outside(problem: CarveProblem, labels: np.ndarray) -> int:
    lower, upper = problem.bounds()
    viol = violation(loads_of(problem.measures, labels, problem.k), lower, upper, problem.targets())
    return int((viol > 1e-12).sum())


def test_brings_lumpy_territories_within_tolerance_and_keeps_them_whole() -> None:
    problem, start = _lumpy_grid(4)
    graph = unit_graph(problem.points)
    assert _outside(problem, start) >= 3
    labels, moved = reoptimise(problem, graph, start, centroids(problem.points, start, 7))
    assert moved > 0
    report = balance_report(labels, problem.measures, 7, tolerance=problem.tolerance)
    assert report.ok, report.measures
    assert contiguity(graph, labels, 7).contiguous
    # Only what balance needs moves: most units stay.
    assert (labels != start).mean() < 0.35


def test_respects_locks_and_never_leaves_more_territories_outside() -> None:
    for seed in range(3):
        problem, start = _lumpy_grid(seed, locks=True)
        graph = unit_graph(problem.points)
        labels, _ = reoptimise(problem, graph, start, centroids(problem.points, start, 7))
        locks = problem.locked()
        assert (labels[locks >= 0] == locks[locks >= 0]).all()
        assert _outside(problem, labels) <= _outside(problem, start)
        assert contiguity(graph, labels, 7).contiguous


def test_same_input_same_plan() -> None:
    problem, start = _lumpy_grid(4)
    graph = unit_graph(problem.points)
    centres = centroids(problem.points, start, 7)
    first, _ = reoptimise(problem, graph, start, centres)
    second, _ = reoptimise(problem, graph, start, centres)
    assert np.array_equal(first, second)
