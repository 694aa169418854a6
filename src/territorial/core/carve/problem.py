"""What a carve takes and gives: the problem, the plan, the seed helper, the infeasible error.

A *problem* is a set of items (accounts, or geographic units aggregated from accounts) with
coordinates in kilometres and one column per measure to balance (potential, accounts,
workload...), the number of territories, a relative tolerance per measure, and options:
target shares (rep capacities), locked items, the current assignment with a weight for
keeping it, fixed centres (rep home locations) and a maximum distance to a centre.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from territorial.errors import ValidationError

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
Seed = int | np.random.Generator | None


def as_generator(seed: Seed) -> np.random.Generator:
    """The one place a ``seed`` becomes a random generator (None: fresh entropy).

    >>> bool(as_generator(7).integers(0, 100) == as_generator(7).integers(0, 100))
    True
    >>> g = np.random.default_rng(1); as_generator(g) is g
    True
    """
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.default_rng(seed)


class CarveInfeasible(ValidationError):
    """No plan can meet the constraints; ``constraint`` names the binding one."""

    code = "carve_infeasible"

    def __init__(
        self,
        message: str,
        *,
        constraint: str,
        measure: str | None = None,
        item: str | None = None,
        territory: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.constraint = constraint
        self.measure = measure
        self.item = item
        self.territory = territory
        super().__init__(message, hint=hint)

    def to_dict(self) -> dict[str, Any]:
        return {
            **super().to_dict(),
            "constraint": self.constraint,
            "measure": self.measure,
            "item": self.item,
            "territory": self.territory,
        }


@dataclass
class CarveProblem:
    """Items to carve into ``k`` territories balanced on every measure.

    Parameters
    ----------
    points
        ``(n, d)`` coordinates in kilometres (see :func:`~territorial.core.carve.geo.to_xyz`).
    measures
        ``(n, m)`` non-negative amounts to balance, one column per name in ``names``.
    k
        Number of territories.
    names
        Measure names, e.g. ``("potential", "accounts", "workload")``.
    tolerance
        Relative tolerance per measure (0.05 is ±5 % of the territory's target).
    shares
        Each territory's share of every measure (rep capacities); equal when None.
    locks
        Per item, the territory it must stay in, or -1.
    current
        Per item, its territory now (rebalancing), or -1.
    keep
        Weight for keeping the current territory, in units of the mean distance to a centre.
    move_cost
        Per item, how costly a move is relative to others (e.g. by revenue); 1 when None.
    centres
        ``(k, d)`` fixed centres (rep home locations); a row of NaN (or None for all) is a
        free centre, moved to its territory's centroid.
    max_distance
        No item further than this (km) from its territory's centre, when given.
    size
        Accounts in every item (weights of centroids and compactness); 1 when None.
    labels
        Item names used in error messages (account ids, postal prefixes).
    territory_names
        Territory names used in error messages.
    """

    points: FloatArray
    measures: FloatArray
    k: int
    names: tuple[str, ...] = ()
    tolerance: FloatArray = field(default_factory=lambda: np.zeros(0))
    shares: FloatArray | None = None
    locks: IntArray | None = None
    current: IntArray | None = None
    keep: float = 0.0
    move_cost: FloatArray | None = None
    centres: FloatArray | None = None
    max_distance: float | None = None
    size: FloatArray | None = None
    labels: tuple[str, ...] | None = None
    territory_names: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        self.points = np.asarray(self.points, dtype=np.float64)
        self.measures = np.asarray(self.measures, dtype=np.float64).reshape(len(self.points), -1)
        if self.centres is not None:
            self.centres = np.asarray(self.centres, dtype=np.float64)
        m = self.measures.shape[1]
        if not self.names:
            self.names = tuple(f"measure_{j}" for j in range(m))
        tol = np.asarray(self.tolerance, dtype=np.float64).ravel()
        self.tolerance = np.full(m, float(tol[0])) if tol.size == 1 else tol
        if self.tolerance.size == 0:
            self.tolerance = np.full(m, 0.05)
        self._validate()

    def _validate(self) -> None:
        n, m = self.measures.shape
        problems = []
        if self.k < 1:
            problems.append(f"k must be at least 1, not {self.k}")
        if len(self.names) != m or self.tolerance.shape != (m,):
            problems.append(f"{m} measures need {m} names and tolerances")
        if not np.isfinite(self.points).all() or not np.isfinite(self.measures).all():
            problems.append("coordinates and measures must be finite")
        if (self.measures < 0).any():
            problems.append("measures must not be negative")
        for name in ("locks", "current"):
            arr = getattr(self, name)
            if arr is not None and (
                len(arr) != n or arr.min(initial=-1) < -1 or arr.max(initial=-1) >= self.k
            ):
                problems.append(f"{name} must give, per item, a territory in 0..k-1 or -1")
        if self.shares is not None and (len(self.shares) != self.k or (self.shares <= 0).any()):
            problems.append("shares must give a positive share per territory")
        if self.centres is not None and (
            self.centres.shape != (self.k, self.points.shape[1])
            or not (self.fixed_centres() | np.isnan(self.centres).all(axis=1)).all()
        ):
            problems.append("centres must be a (k, d) array of finite rows or NaN (free) rows")
        if problems:
            raise ValidationError("Invalid carve problem: " + "; ".join(problems) + ".")

    @property
    def n(self) -> int:
        return int(self.points.shape[0])

    def targets(self) -> FloatArray:
        """``(k, m)`` target amount of every measure in every territory."""
        shares = np.full(self.k, 1.0 / self.k) if self.shares is None else self.shares
        return np.outer(shares / shares.sum(), self.measures.sum(axis=0))

    def bounds(self, slack: float = 1.0) -> tuple[FloatArray, FloatArray]:
        """Lower and upper bounds per territory and measure (tolerance times ``slack``)."""
        targets = self.targets()
        return targets * (1 - self.tolerance * slack), targets * (1 + self.tolerance * slack)

    def stay_bonus(self) -> FloatArray | None:
        """Per item, the bonus for staying in its current territory (``keep`` times its
        move cost), or None when the problem does not rebalance a current plan."""
        if self.current is None or self.keep <= 0:
            return None
        cost = np.ones(self.n) if self.move_cost is None else self.move_cost
        return np.asarray(self.keep * cost, dtype=np.float64)

    def fixed_centres(self) -> npt.NDArray[np.bool_]:
        """Per territory, whether its centre is fixed (given in ``centres``)."""
        if self.centres is None:
            return np.zeros(self.k, dtype=bool)
        return np.asarray(np.isfinite(self.centres).all(axis=1))

    def sizes(self) -> FloatArray:
        return np.ones(self.n) if self.size is None else self.size

    def locked(self) -> IntArray:
        return np.full(self.n, -1, dtype=np.int64) if self.locks is None else self.locks

    def label(self, i: int) -> str:
        return self.labels[i] if self.labels is not None else f"item {i}"

    def territory(self, j: int) -> str:
        return self.territory_names[j] if self.territory_names is not None else f"territory {j}"


@dataclass(frozen=True)
class CarvePlan:
    """A carve's result: the territory of every item, the centres, and how it got there."""

    assignment: IntArray
    centres: FloatArray
    iterations: int
    moves_repaired: int = 0
    timings: dict[str, float] = field(default_factory=dict)


__all__ = [
    "CarveInfeasible",
    "CarvePlan",
    "CarveProblem",
    "FloatArray",
    "IntArray",
    "Seed",
    "as_generator",
]
