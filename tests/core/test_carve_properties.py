"""Properties of the carve core, checked with its own public checkers."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from territorial.core.carve import (
    CarveInfeasible,
    CarveProblem,
    balance_report,
    carve,
    contiguity,
    disruption,
    is_partition,
    unit_graph,
)
from territorial.errors import ValidationError

SETTINGS = settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _problem(seed: int, n: int, k: int, **options: object) -> CarveProblem:
    rng = np.random.default_rng(seed)
    points = rng.uniform(0, 500, size=(n, 2))
    measures = np.column_stack([rng.uniform(1, 3, n), np.ones(n), rng.uniform(0.5, 1.5, n)])
    return CarveProblem(
        points,
        measures,
        k,
        names=("potential", "accounts", "workload"),
        tolerance=np.array([0.05, 0.10, 0.10]),
        **options,  # type: ignore[arg-type]
    )


@SETTINGS
@given(seed=st.integers(0, 10_000), n=st.integers(200, 600), k=st.integers(2, 8))
def test_every_item_in_exactly_one_territory_and_tolerances_met(seed: int, n: int, k: int) -> None:
    problem = _problem(seed, n, k)
    plan = carve(problem, seed=seed)
    parts = {t: np.flatnonzero(plan.assignment == t).tolist() for t in range(k)}
    assert is_partition(parts, range(n))
    report = balance_report(plan.assignment, problem.measures, k, tolerance=problem.tolerance)
    assert report.ok, report.measures


@SETTINGS
@given(seed=st.integers(0, 10_000), k=st.integers(2, 6))
def test_locks_are_respected(seed: int, k: int) -> None:
    rng = np.random.default_rng(seed)
    locks = np.where(rng.random(300) < 0.05, rng.integers(0, k, 300), -1).astype(np.int64)
    problem = _problem(seed, 300, k, locks=locks)
    plan = carve(problem, seed=seed)
    locked = locks >= 0
    assert (plan.assignment[locked] == locks[locked]).all()


def test_same_seed_same_plan_pinned() -> None:
    problem = _problem(3, 400, 5)
    first, second = carve(problem, seed=7), carve(problem, seed=7)
    assert np.array_equal(first.assignment, second.assignment)
    assert np.bincount(first.assignment).tolist() == [79, 76, 86, 78, 81]


def test_rebalance_moves_few_items() -> None:
    problem = _problem(5, 600, 6)
    plan = carve(problem, seed=1)
    drifted = problem.measures.copy()
    drifted[:, 2] *= np.random.default_rng(2).uniform(0.7, 1.3, 600)
    again = CarveProblem(
        problem.points, drifted, 6, names=problem.names, tolerance=problem.tolerance,
        current=plan.assignment, keep=1.0,
    )  # fmt: skip
    after = carve(again, seed=1)
    assert balance_report(after.assignment, drifted, 6, tolerance=again.tolerance).ok
    assert disruption(plan.assignment, after.assignment)["accounts"] <= 0.05


def test_rebalance_adds_a_territory_at_its_fixed_centre() -> None:
    """One fixed centre among free ones: a hire's territory grows around the hire's home
    while the current territories stay where their items are."""
    problem = _problem(6, 600, 5)
    plan = carve(problem, seed=1)
    home = np.array([250.0, 250.0])
    centres = np.full((6, 2), np.nan)
    centres[5] = home
    again = CarveProblem(
        problem.points, problem.measures, 6, names=problem.names, tolerance=problem.tolerance,
        current=plan.assignment, keep=1.0, centres=centres,
    )  # fmt: skip
    after = carve(again, seed=1)
    assert balance_report(after.assignment, problem.measures, 6, tolerance=problem.tolerance).ok
    assert np.array_equal(after.centres[5], home)
    hired = problem.points[after.assignment == 5]
    others = problem.points[after.assignment != 5]
    assert (
        np.linalg.norm(hired - home, axis=1).mean() < np.linalg.norm(others - home, axis=1).mean()
    )
    # Items leave their territory only to fill the new one (and to rebalance around it).
    assert disruption(plan.assignment, after.assignment)["accounts"] <= 0.3


def test_centres_must_be_fixed_or_free_per_row() -> None:
    with pytest.raises(ValidationError, match="finite rows or NaN"):
        _problem(1, 50, 2, centres=np.array([[0.0, np.nan], [1.0, 1.0]]))


def test_heavy_item_is_named_as_the_binding_constraint() -> None:
    problem = _problem(1, 100, 4)
    problem.measures[17, 0] = problem.measures[:, 0].sum()
    with pytest.raises(CarveInfeasible) as info:
        carve(problem)
    assert info.value.constraint == "item_exceeds_target"
    assert info.value.measure == "potential" and info.value.item == "item 17"


def test_max_distance_is_a_named_constraint() -> None:
    problem = _problem(1, 100, 2, centres=np.array([[0.0, 0.0], [10.0, 0.0]]), max_distance=50.0)
    with pytest.raises(CarveInfeasible, match="further than 50 km") as info:
        carve(problem)
    assert info.value.constraint == "max_distance"


def test_unit_plans_are_contiguous() -> None:
    rng = np.random.default_rng(0)
    points = rng.uniform(0, 100, size=(300, 2))
    problem = CarveProblem(
        points, np.ones((300, 1)), 4, names=("accounts",), tolerance=np.array([0.25])
    )
    graph = unit_graph(points)
    plan = carve(problem, seed=0, graph=graph)
    assert contiguity(graph, plan.assignment, 4).contiguous


def test_a_hire_takes_the_items_near_home_not_scattered_ones() -> None:
    """With many candidates per item (few territories), moving an item across the map must
    still cost more than staying: the keep bonus counts in territory radii."""
    problem = _problem(8, 1100, 10)
    plan = carve(problem, seed=1)
    home = np.array([420.0, 420.0])
    centres = np.full((11, 2), np.nan)
    centres[10] = home
    again = CarveProblem(
        problem.points, problem.measures, 11, names=problem.names, tolerance=problem.tolerance,
        current=plan.assignment, keep=1.0, centres=centres,
    )  # fmt: skip
    after = carve(again, seed=1)
    assert balance_report(after.assignment, problem.measures, 11, tolerance=problem.tolerance).ok
    reach = np.linalg.norm(problem.points[after.assignment == 10] - home, axis=1)
    radius = np.sqrt(500.0**2 / 11 / np.pi)  # of a disk holding one territory's share
    assert np.quantile(reach, 0.9) < 2.0 * radius
