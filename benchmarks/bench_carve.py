"""Benchmark of carving against baselines measured in the same run (docs/carving.md).

* carve: 100,000 seeded demo US accounts into 200 territories balanced on potential
  (``sqrt(annual_revenue)``, ±5 %), accounts and workload
  (``1 + min(number_of_employees, 20000) / 1000``, ±10 % each); median of ``--runs``.
* the share of the distance due to Alaska and Hawaii, and the carve of the contiguous
  states alone (one run) with its own k-means reference.
* rebalance: every account's workload drifts by up to ±30 %; rebalance the carved plan.
* smooth density: the same measures on synthetic locations whose density varies slowly
  at the scale of a territory, where the ratio of a balanced plan's compactness to
  k-means' has a closed-form estimate (``theory_ratio``) to compare the carve with.
* baseline (a): unconstrained k-means (scikit-learn ``KMeans``, one init) on the same data:
  its compactness is the reference, its balance what ignoring balance gives.
* baseline (b): spopt ``RegionKMeansHeuristic`` (contiguous regions on a kNN graph) on a
  smaller instance it can finish, next to ours on the same instance.

Usage::

    .venv/bin/python -m benchmarks.bench_carve [--accounts N] [--territories K] [--runs R]
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import polars as pl

from territorial.core.carve import (
    CarveProblem,
    balance_report,
    carve,
    compactness,
    compile_formula,
    contiguity,
    disruption,
    to_xyz,
    unit_graph,
)
from territorial.demo import generate

POTENTIAL = "sqrt(annual_revenue)"
WORKLOAD = "1 + min(number_of_employees, 20000) / 1000"
NAMES = ("potential", "accounts", "workload")
TOLERANCE = np.array([0.05, 0.10, 0.10])


def accounts(n: int, seed: int) -> pl.DataFrame:
    """``n`` seeded demo accounts in the US (about two thirds of the demo's are)."""
    frame = generate(int(n * 1.55) + 100, seed=seed).accounts
    return frame.filter(pl.col("billing_country_code") == "US").head(n)


def problem(frame: pl.DataFrame, k: int, **options: Any) -> CarveProblem:
    measures = frame.select(
        compile_formula(POTENTIAL).alias("p"), pl.lit(1.0).alias("a"), compile_formula(WORKLOAD)
    ).to_numpy()
    points = to_xyz(frame["latitude"].to_numpy(), frame["longitude"].to_numpy())
    return CarveProblem(points, measures, k, names=NAMES, tolerance=TOLERANCE, **options)


def timed(runs: int, fn: Callable[[], Any]) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(runs):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def summary(p: CarveProblem, labels: np.ndarray) -> str:
    report = balance_report(labels, p.measures, p.k, names=p.names, tolerance=p.tolerance)
    parts = []
    for m in report.measures:
        loads = np.bincount(labels, weights=p.measures[:, NAMES.index(m.name)], minlength=p.k)
        ratio = loads.max() / max(loads.min(), 1e-9)
        parts.append(
            f"{m.name}: {m.within_tolerance:6.1%} within ±{m.tolerance:.0%}, "
            f"max dev {m.max_deviation:6.1%}, max/min {ratio:5.2f}"
        )
    return "; ".join(parts)


def kmeans(p: CarveProblem, seed: int) -> np.ndarray:
    from sklearn.cluster import KMeans

    model = KMeans(n_clusters=p.k, n_init=1, random_state=seed, max_iter=100)
    return np.asarray(model.fit_predict(p.points), dtype=np.int64)


def spopt_regions(p: CarveProblem, seed: int) -> np.ndarray:
    from libpysal.weights import W
    from spopt.region import RegionKMeansHeuristic

    graph = unit_graph(p.points)  # the same Delaunay adjacency as ours
    neighbours = {
        i: graph.indices[graph.indptr[i] : graph.indptr[i + 1]].tolist() for i in range(p.n)
    }
    w = W(neighbours, silence_warnings=True)
    # Compact contiguous regions, on the coordinates and the account column.
    model = RegionKMeansHeuristic(np.c_[p.points, p.measures[:, [1]]], p.k, w, seed=seed)
    model.solve()
    return np.asarray(model.labels_, dtype=np.int64)


def units_row(frame: pl.DataFrame, k: int, seed: int, km_c: float) -> None:
    """The same accounts carved as 5-digit ZIP units, contiguous on their Delaunay graph."""
    from territorial.core.carve.units import build_items

    measured = frame.with_columns(
        compile_formula(POTENTIAL).alias("potential"),
        pl.lit(1.0).alias("accounts"),
        compile_formula(WORKLOAD).alias("workload"),
    )
    items = build_items(measured, "zip5", list(NAMES))
    size = items.frame["size"].to_numpy().astype(np.float64)
    p = CarveProblem(items.points, items.frame.select(NAMES).to_numpy(), k, names=NAMES,
                     tolerance=TOLERANCE, size=size)  # fmt: skip
    start = time.perf_counter()
    graph = unit_graph(items.points)
    plan = carve(p, seed=seed, graph=graph)
    elapsed = time.perf_counter() - start
    pieces = contiguity(graph, plan.assignment, k)
    ratio = compactness(p.points, plan.assignment, k, weights=size) / km_c
    print(f"zip5 units: {items.frame.height:,} units -> {k} territories", flush=True)
    print(f"carve      {elapsed:7.2f} s  {summary(p, plan.assignment)}", flush=True)
    print(f"           fragments {pieces.fragments}, compactness {ratio:.2f} x k-means", flush=True)


def remote(frame: pl.DataFrame, p: CarveProblem, labels: np.ndarray, seed: int) -> None:
    """Alaska and Hawaii: their share of the distance, and the contiguous states alone."""
    from territorial.core.carve.seed import centroids

    far = frame["billing_state_code"].is_in(["AK", "HI"]).to_numpy()
    dist = np.linalg.norm(p.points - centroids(p.points, labels, p.k)[labels], axis=1)
    print(
        f"           Alaska and Hawaii: {far.mean():.1%} of accounts, "
        f"{dist[far].sum() / dist.sum():.1%} of the distance",
        flush=True,
    )
    rest = frame.filter(~pl.Series(far))
    q = problem(rest, p.k)
    start = time.perf_counter()
    ours = carve(q, seed=seed)
    elapsed = time.perf_counter() - start
    ratio = compactness(q.points, ours.assignment, q.k) / compactness(
        q.points, kmeans(q, seed), q.k
    )
    print(f"contiguous states only: {rest.height:,} accounts -> {q.k} territories", flush=True)
    print(f"carve      {elapsed:7.2f} s  {summary(q, ours.assignment)}", flush=True)
    print(f"           compactness {ratio:.2f} x k-means on the same accounts", flush=True)


# Synthetic country: a 2,000 x 1,200 km plane, 10 % of the accounts spread evenly and the
# rest in 25 metropolitan areas (Gaussian, 40 km) of Pareto-distributed sizes.
PLANE = (2000.0, 1200.0)
METROS, METRO_KM, BACKGROUND = 25, 40.0, 0.10


def metros(seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    w, h = PLANE
    centres = np.c_[rng.uniform(0.1 * w, 0.9 * w, METROS), rng.uniform(0.1 * h, 0.9 * h, METROS)]
    sizes = rng.pareto(1.2, METROS) + 1.0
    return centres, sizes / sizes.sum()


def smooth_points(n: int, seed: int) -> np.ndarray:
    """``n`` synthetic locations (``(n, 3)`` km, z = 0) drawn from the density above."""
    centres, sizes = metros(seed)
    rng = np.random.default_rng(seed + 1)
    even = int(n * BACKGROUND)
    metro = rng.choice(METROS, n - even, p=sizes)
    flat = np.r_[
        rng.uniform((0.0, 0.0), PLANE, (even, 2)),
        centres[metro] + rng.normal(0.0, METRO_KM, (n - even, 2)),
    ]
    return np.c_[flat, np.zeros(n)]


def theory_ratio(seed: int) -> float:
    """High-resolution estimate of (balanced plan's mean distance) / (k-means'), for the
    density ``f`` above: a territory's mean distance grows as the square root of its area;
    balanced territories have area proportional to ``1/f``, k-means' to ``f^(-1/2)``, which
    gives ``sqrt(∫ f^(1/2)) / ∫ f^(3/4)`` (integrals over the plane, ``∫ f = 1``)."""
    centres, sizes = metros(seed)
    w, h = PLANE
    margin = 6 * METRO_KM
    xs, ys = np.linspace(-margin, w + margin, 901), np.linspace(-margin, h + margin, 601)
    cell = (xs[1] - xs[0]) * (ys[1] - ys[0])
    x, y = np.meshgrid(xs, ys)
    f = BACKGROUND * ((x >= 0) & (x <= w) & (y >= 0) & (y <= h)) / (w * h)
    for (cx, cy), share in zip(centres, sizes, strict=True):
        gauss = np.exp(-((x - cx) ** 2 + (y - cy) ** 2) / (2 * METRO_KM**2))
        f = f + (1 - BACKGROUND) * share * gauss / (2 * np.pi * METRO_KM**2)
    f = f / (f.sum() * cell)
    return float(np.sqrt(np.sqrt(f).sum() * cell) / ((f**0.75).sum() * cell))


def smooth_row(p: CarveProblem, seed: int, runs: int) -> None:
    """The demo accounts' measures at synthetic locations of slowly varying density."""
    q = CarveProblem(smooth_points(p.n, seed), p.measures, p.k, names=NAMES,
                     tolerance=TOLERANCE)  # fmt: skip
    t, plan = timed(runs, lambda: carve(q, seed=seed))
    ratio = compactness(q.points, plan.assignment, q.k) / compactness(
        q.points, kmeans(q, seed), q.k
    )
    print(f"smooth density: {q.n:,} synthetic locations -> {q.k} territories", flush=True)
    print(f"carve      {t:7.2f} s  {summary(q, plan.assignment)}", flush=True)
    print(
        f"           compactness {ratio:.2f} x k-means (estimate for a balanced plan: "
        f"{theory_ratio(seed):.2f} x)",
        flush=True,
    )


def spopt_with_limit(p: CarveProblem, seed: int, limit: float) -> tuple[float, Any]:
    """spopt in a child process, given up after ``limit`` seconds (it can stall)."""
    import multiprocessing as mp

    with mp.get_context("fork").Pool(1) as pool:
        start = time.perf_counter()
        pending = pool.apply_async(spopt_regions, (p, seed))
        try:
            labels = pending.get(timeout=limit)
            return time.perf_counter() - start, labels
        except mp.TimeoutError:
            pool.terminate()
            return limit, None


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--territories", type=int, default=200)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--small", type=int, default=400, help="accounts for the spopt run")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--spopt-limit", type=float, default=120.0, help="seconds for spopt")
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")
    frame = accounts(args.accounts, args.seed)
    p = problem(frame, args.territories)
    print(
        f"{frame.height:,} accounts -> {args.territories} territories, median of {args.runs}",
        flush=True,
    )

    t, plan = timed(args.runs, lambda: carve(p, seed=args.seed))
    t_km, km = timed(args.runs, lambda: kmeans(p, args.seed))
    ours_c, km_c = compactness(p.points, plan.assignment, p.k), compactness(p.points, km, p.k)
    print(f"carve      {t:7.2f} s  {summary(p, plan.assignment)}", flush=True)
    print(f"           compactness {ours_c:.1f} km = {ours_c / km_c:.2f} x k-means", flush=True)
    print(f"k-means    {t_km:7.2f} s  {summary(p, km)}", flush=True)
    print(f"           compactness {km_c:.1f} km (reference)", flush=True)
    remote(frame, p, plan.assignment, args.seed)

    drift = p.measures.copy()
    drift[:, 2] *= np.random.default_rng(args.seed).uniform(0.7, 1.3, len(drift))
    revenue = frame["annual_revenue"].fill_null(0.0).to_numpy()
    move = 0.5 + 0.5 * revenue / revenue.mean()
    p2 = CarveProblem(p.points, drift, p.k, names=NAMES, tolerance=TOLERANCE,
                      current=plan.assignment, keep=1.0, move_cost=move)  # fmt: skip
    print(f"drifted    (before)   {summary(p2, plan.assignment)}", flush=True)
    t2, plan2 = timed(args.runs, lambda: carve(p2, seed=args.seed))
    moved = disruption(plan.assignment, plan2.assignment, weights={"revenue": revenue})
    print(f"rebalance  {t2:7.2f} s  {summary(p2, plan2.assignment)}", flush=True)
    print(
        f"           moved {moved['accounts']:.2%} of accounts, {moved['revenue']:.2%} of revenue"
    )

    units_row(frame, args.territories, args.seed, km_c)
    smooth_row(p, args.seed, args.runs)

    # Distinct locations: the heuristic stalls on accounts sharing coordinates.
    small = frame.unique(["latitude", "longitude"], keep="first", maintain_order=True)
    small = small.head(args.small)
    k_small = max(2, args.small // 25)
    ps = problem(small, k_small)
    graph = unit_graph(ps.points)
    t3, ours = timed(1, lambda: carve(ps, seed=args.seed, graph=graph))
    pieces = contiguity(graph, ours.assignment, k_small)
    print(
        f"small: {small.height:,} accounts -> {k_small} territories, contiguous (Delaunay)",
        flush=True,
    )
    print(
        f"carve      {t3:7.2f} s  {summary(ps, ours.assignment)}; fragments {pieces.fragments}",
        flush=True,
    )
    t4, regions = spopt_with_limit(ps, args.seed, args.spopt_limit)
    if regions is None:
        print(f"spopt RKMH did not finish within {args.spopt_limit:.0f} s", flush=True)
    else:
        pieces = contiguity(graph, regions, k_small)
        print(f"spopt RKMH {t4:7.2f} s  {summary(ps, regions)}; fragments {pieces.fragments}")


if __name__ == "__main__":
    main()
