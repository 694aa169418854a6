"""Balance statistics on hand-computed cases."""

from __future__ import annotations

import pytest

from territorial.core import metrics


def test_stats_of_a_small_set() -> None:
    # 80, 100, 100, 120: mean 100, population std sqrt(200) = 14.142, |dev| 0.2, 0, 0, 0.2;
    # Gini = sum |xi - xj| over ordered pairs / (2 n^2 mean) = 240 / 3200.
    s = metrics.balance_stats([80, 100, 100, 120])
    assert (s.n, s.total, s.mean, s.min, s.max) == (4, 400.0, 100.0, 80.0, 120.0)
    assert s.cv == pytest.approx(0.141421, abs=1e-6)
    assert s.max_deviation == pytest.approx(0.2)
    assert (s.within_5, s.within_10, s.within_15) == (0.5, 0.5, 0.5)
    assert s.gini == pytest.approx(0.075)


def test_bands_are_inclusive() -> None:
    s = metrics.balance_stats([90, 110, 95, 105])  # deviations 10 %, 10 %, 5 %, 5 %
    assert (s.within_5, s.within_10, s.within_15) == (0.5, 1.0, 1.0)


@pytest.mark.parametrize(
    ("values", "expected"),
    [([1, 1, 1], 0.0), ([0, 0, 9], 2 / 3), ([0, 0, 0], 0.0), ([], 0.0), ([None, 4], 0.5)],
)
def test_gini(values: list[float | None], expected: float) -> None:
    assert metrics.gini(values) == pytest.approx(expected)


def test_lorenz_curve_and_table() -> None:
    assert metrics.lorenz_curve([2, 6]).rows() == [(0.0, 0.0), (0.5, 0.25), (1.0, 1.0)]
    assert metrics.lorenz_curve([0, 0])["value_share"].to_list() == [0.0, 0.0, 0.0]
    table = metrics.balance_table(["a", "b", "c"], [80, 100, 120])
    assert table["deviation"].to_list() == pytest.approx([-0.2, 0.0, 0.2])
    assert table["share"].to_list() == [0.266667, 0.333333, 0.4]  # 6 decimals in files
    assert table["within_10"].to_list() == [False, True, False]


def test_empty_and_zero_sets_are_balanced() -> None:
    assert metrics.balance_stats([]).n == 0
    assert metrics.balance_stats([0, 0]).cv == 0.0
    assert metrics.is_balanced([0, 0]) and not metrics.is_balanced([1, 2], tolerance=0.2)
    with pytest.raises(ValueError):
        metrics.is_balanced([1], tolerance=-1)
