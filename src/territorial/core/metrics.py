"""Balance of a measure across units (territories, users): pure statistics, no I/O.

Carving and reports share these: :func:`balance_stats` summarises how unequal a set of
values is, :func:`lorenz_curve` gives the data of its Lorenz curve, :func:`gini` its Gini
coefficient, :func:`deviations` each unit's distance from the mean, and
:func:`is_balanced` is the checker used to validate a partition's balance.

Conventions (each one tested on hand-computed cases):

* the coefficient of variation is the *population* standard deviation over the mean;
* deviations are relative to the mean: ``value / mean - 1`` (``0.1`` is 10 % above);
* "within ±10 %" counts units whose absolute deviation is at most 0.10 (inclusive);
* an empty set or a zero mean gives zero spread (CV, Gini and deviations are 0), so a set
  of empty territories counts as balanced rather than as an error.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass

import numpy as np
import numpy.typing as npt
import polars as pl

BANDS: tuple[float, ...] = (0.05, 0.10, 0.15)
"""Relative bands around the mean whose shares :func:`balance_stats` reports."""

Values = Sequence[float | int | None] | pl.Series | npt.NDArray[np.float64]
"""Anything that holds the measure of each unit (nulls count as 0)."""


@dataclass(frozen=True)
class BalanceStats:
    """How evenly a measure is spread over ``n`` units."""

    n: int
    total: float
    mean: float
    min: float
    max: float
    cv: float
    """Coefficient of variation: population standard deviation / mean."""
    max_deviation: float
    """Largest ``|value / mean - 1|``."""
    within_5: float
    """Share of units within ±5 % of the mean."""
    within_10: float
    within_15: float
    gini: float

    def as_dict(self) -> dict[str, float | int]:
        """The statistics as a plain dict (for JSON and one-row tables)."""
        return asdict(self)


def _array(values: Values) -> npt.NDArray[np.float64]:
    if isinstance(values, pl.Series):
        return values.cast(pl.Float64).fill_null(0.0).fill_nan(0.0).to_numpy().astype(np.float64)
    array = np.asarray([0.0 if v is None else v for v in values], dtype=np.float64)
    return np.nan_to_num(array, nan=0.0)


def gini(values: Values) -> float:
    """Gini coefficient of non-negative values: 0 when all are equal, near 1 when one unit
    holds everything.

    Parameters
    ----------
    values
        The measure of each unit; nulls count as 0.

    Returns
    -------
    float
        ``sum_i sum_j |x_i - x_j| / (2 n^2 mean)``; 0 for no units or a zero total.

    Examples
    --------
    >>> gini([5, 5, 5, 5])
    0.0
    >>> gini([0, 0, 0, 10])
    0.75
    >>> round(gini([1, 2, 3, 4]), 4)
    0.25
    """
    x = np.sort(_array(values))
    n, total = len(x), float(x.sum())
    if n == 0 or total == 0:
        return 0.0
    ranks = np.arange(1, n + 1, dtype=np.float64)
    return float(2.0 * np.dot(ranks, x) / (n * total) - (n + 1) / n)


def lorenz_curve(values: Values) -> pl.DataFrame:
    """Points of the Lorenz curve: units sorted from smallest to largest, cumulated.

    Parameters
    ----------
    values
        The measure of each unit; nulls count as 0.

    Returns
    -------
    polars.DataFrame
        ``population_share`` and ``value_share``, starting at ``(0, 0)`` and ending at
        ``(1, 1)`` (``value_share`` stays 0 when the total is 0); ``n + 1`` rows.

    Examples
    --------
    >>> lorenz_curve([3, 1]).rows()
    [(0.0, 0.0), (0.5, 0.25), (1.0, 1.0)]
    """
    x = np.sort(_array(values))
    n, total = len(x), float(x.sum())
    population = np.arange(n + 1, dtype=np.float64) / max(n, 1)
    cumulated = np.concatenate([[0.0], np.cumsum(x)])
    share = cumulated / total if total else np.zeros(n + 1)
    return pl.DataFrame({"population_share": population, "value_share": share})


def deviations(values: Values) -> npt.NDArray[np.float64]:
    """Each value's relative distance from the mean, ``value / mean - 1`` (0 if the mean is 0).

    Examples
    --------
    >>> deviations([90, 110, 100]).tolist()
    [-0.1, 0.1, 0.0]
    """
    x = _array(values)
    mean = float(x.mean()) if len(x) else 0.0
    if mean == 0:
        return np.zeros(len(x))
    return np.round(x / mean - 1.0, 12)


def balance_stats(values: Values) -> BalanceStats:
    """Mean, spread, shares within ±5/±10/±15 % of the mean and Gini of a measure.

    Parameters
    ----------
    values
        The measure of each unit (territory or user); nulls count as 0.

    Returns
    -------
    BalanceStats

    Examples
    --------
    >>> s = balance_stats([80, 100, 100, 120])
    >>> s.mean, round(s.cv, 4), s.max_deviation
    (100.0, 0.1414, 0.2)
    >>> s.within_5, s.within_10, s.within_15
    (0.5, 0.5, 0.5)
    >>> s.gini
    0.075
    """
    x = _array(values)
    n = len(x)
    if n == 0:
        return BalanceStats(0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 0.0)
    mean = float(x.mean())
    dev = np.abs(deviations(x))
    shares = [float((dev <= band + 1e-12).mean()) for band in BANDS]
    return BalanceStats(
        n=n,
        total=float(x.sum()),
        mean=mean,
        min=float(x.min()),
        max=float(x.max()),
        cv=float(x.std() / mean) if mean else 0.0,
        max_deviation=float(dev.max()),
        within_5=shares[0],
        within_10=shares[1],
        within_15=shares[2],
        gini=round(gini(x), 12),
    )


def is_balanced(values: Values, *, tolerance: float = 0.10) -> bool:
    """True when every unit is within ``tolerance`` of the mean (relative).

    Examples
    --------
    >>> is_balanced([95, 100, 105])
    True
    >>> is_balanced([80, 100, 120], tolerance=0.15)
    False
    """
    if tolerance < 0:
        raise ValueError(f"tolerance must be zero or more, not {tolerance}")
    return bool((np.abs(deviations(values)) <= tolerance + 1e-12).all())


SHARE_DECIMALS = 6
"""Decimals of the shares and deviations in :func:`balance_table`."""


def balance_table(units: Iterable[str], values: Values) -> pl.DataFrame:
    """One row per unit: ``unit``, ``value``, ``share`` of the total, ``deviation`` from the
    mean (both fractions rounded to 6 decimals, a ten-thousandth of a percent) and
    ``within_10`` (inside the ±10 % target band, decided before rounding).

    Examples
    --------
    >>> balance_table(["a", "b"], [30, 10]).rows()
    [('a', 30.0, 0.75, 0.5, False), ('b', 10.0, 0.25, -0.5, False)]
    >>> balance_table(["a", "b", "c"], [1, 1, 1])["share"].to_list()
    [0.333333, 0.333333, 0.333333]
    """
    names = list(units)
    x = _array(values)
    if len(names) != len(x):
        raise ValueError(f"{len(names)} units but {len(x)} values")
    total = float(x.sum())
    dev = deviations(x)
    return pl.DataFrame(
        {
            "unit": names,
            "value": x,
            "share": np.round(x / total, SHARE_DECIMALS) if total else np.zeros(len(x)),
            "deviation": np.round(dev, SHARE_DECIMALS),
            "within_10": np.abs(dev) <= 0.10 + 1e-12,
        },
        schema={
            "unit": pl.String,
            "value": pl.Float64,
            "share": pl.Float64,
            "deviation": pl.Float64,
            "within_10": pl.Boolean,
        },
    )


__all__ = [
    "BANDS",
    "SHARE_DECIMALS",
    "BalanceStats",
    "Values",
    "balance_stats",
    "balance_table",
    "deviations",
    "gini",
    "is_balanced",
    "lorenz_curve",
]
