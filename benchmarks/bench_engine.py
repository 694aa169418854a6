"""Benchmark of the assignment engine against two baselines, measured in the same run.

* ours: ``territorial.core.engine.matcher.match``
* (a) Polars, one filter per rule, concatenated
* (b) DuckDB, one ``SELECT ... WHERE`` per rule joined by ``UNION ALL``

The baselines take minutes at full size, so they run on every ``--baseline-step``-th rule
(all accounts) and their time is extrapolated linearly to all rules, as printed; their
result on that sub-model is checked identical to ours. Ours is timed at full size (median
of ``--runs``). Usage::

    .venv/bin/python -m benchmarks.bench_engine [--accounts N] [--rules R] [--runs K]
    .venv/bin/python -m benchmarks.bench_engine --scale      # 5M accounts x 10k rules, 3 runs

Environment variables ``BENCH_ACCOUNTS`` and ``BENCH_RULES`` set the defaults.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import polars as pl

from territorial.core.engine.execute import model_tables
from territorial.core.engine.expressions import literal_types, prepare, rule_expr
from territorial.core.engine.index import OnlineIndex
from territorial.core.engine.matcher import combine, match
from territorial.core.engine.plan import model_plan
from territorial.core.fields import FieldCatalog
from territorial.core.model import Rule, RuleItem
from territorial.core.rules.compile import (
    CompiledModel,
    ModelInput,
    TerritoryNode,
    compile_model,
)

STATES = [
    *[
        "AL",
        "AK",
        "AZ",
        "AR",
        "CA",
        "CO",
        "CT",
        "DE",
        "FL",
        "GA",
        "HI",
        "ID",
        "IL",
        "IN",
        "IA",
        "KS",
        "KY",
        "LA",
        "ME",
        "MD",
        "MA",
        "MI",
        "MN",
        "MS",
        "MO",
        "MT",
        "NE",
    ],
    *[
        "NV",
        "NH",
        "NJ",
        "NM",
        "NY",
        "NC",
        "ND",
        "OH",
        "OK",
        "OR",
        "PA",
        "RI",
        "SC",
        "SD",
        "TN",
        "TX",
        "UT",
        "VT",
        "VA",
        "WA",
        "WV",
        "WI",
        "WY",
    ],
]
COUNTRIES = ["US"] * 14 + ["CA", "GB", "DE", "FR", "JP", "AU", "BR", "IN", "MX", "NL"]
INDUSTRIES = [
    "Technology", "Finance", "Healthcare", "Retail", "Manufacturing", "Energy", "Education",
    "Government", "Media", "Telecommunications", "Transportation", "Hospitality", "Insurance",
    "Construction", "Agriculture", "Pharmaceuticals", "Real Estate", "Legal", "Utilities",
    "Nonprofit",
]  # fmt: skip
CATALOG = FieldCatalog.standard("account")


def make_accounts(n: int, seed: int = 7) -> pl.DataFrame:
    """A realistic synthetic account frame of ``n`` rows."""
    rng = np.random.default_rng(seed)
    country = rng.choice(COUNTRIES, n)
    postal = np.char.zfill(rng.integers(501, 99951, n).astype(str), 5)
    revenue = np.round(rng.lognormal(15, 2, n), 0)
    revenue[rng.random(n) < 0.05] = np.nan
    return pl.DataFrame(
        {
            "pk": np.arange(1, n + 1, dtype=np.int64),
            "billing_country_code": country,
            "billing_state_code": rng.choice(STATES, n),
            "billing_postal_code": postal,
            "industry": rng.choice(INDUSTRIES, n),
            "annual_revenue": revenue,
            "number_of_employees": np.floor(rng.pareto(1.2, n) * 20 + 1),
            "excluded_from_realign": rng.random(n) < 0.01,
        }
    ).with_columns(
        pl.col("annual_revenue").fill_nan(None),
        *(
            pl.when(pl.col("billing_country_code") == "US").then(pl.col(name)).alias(name)
            for name in ("billing_state_code", "billing_postal_code")
        ),
    )


def _item(n: int, field: str, op: str, value: str) -> RuleItem:
    return RuleItem(n, field, op, value)


def _geo_rules(rng: random.Random, n: int) -> list[tuple[RuleItem, ...]]:
    """Disjoint postal-prefix groups (3 digits, or 4 beyond 995 groups), each split into
    a mid-market and an enterprise rule."""
    groups = max(1, n // 2)
    digits = 3 if groups <= 995 else 4  # finer prefixes for very large models
    prefixes = [f"{p:0{digits}d}" for p in range(5 * 10 ** (digits - 3), 10**digits)]
    rng.shuffle(prefixes)
    rules: list[tuple[RuleItem, ...]] = []
    for g in range(groups):
        chunk = ",".join(prefixes[g::groups])
        postal = RuleItem(2, "BillingPostalCode", "startsWith", chunk)
        country = RuleItem(1, "BillingCountryCode", "equals", "US")
        rules.append((country, postal, RuleItem(3, "AnnualRevenue", "lessThan", "1e8")))
        rules.append((country, postal, RuleItem(3, "AnnualRevenue", "greaterOrEqual", "1e8")))
    return rules[:n]


def _band(low: float, ratio: float, k: int) -> tuple[str, str]:
    return str(round(low * ratio**k)), str(round(low * ratio ** (k + 1)))


def _other_rule(rng: random.Random, i: int) -> tuple[tuple[RuleItem, ...], str | None]:
    """Rule ``i`` of the non-geo kinds; each kind's territories are disjoint, as a real
    org's are, so that most accounts land in one to three territories."""
    kind, round_ = i % 10, i // 10
    if kind < 4:  # named enterprise accounts: a state pair and a revenue band
        j = 4 * round_ + kind
        pair = ",".join(STATES[(2 * j) % 50 : (2 * j) % 50 + 2])
        low, high = _band(1e9, 1.2, j // 25)
        return (
            RuleItem(1, "BillingStateCode", "equals", pair),
            RuleItem(2, "AnnualRevenue", "greaterOrEqual", low),
            RuleItem(3, "AnnualRevenue", "lessThan", high),
        ), None
    if kind < 6:  # international: a country and an employee band
        j = 2 * round_ + kind - 4
        low, high = str(5 * (j // 10) + 1), str(5 * (j // 10 + 1) + 1)
        return (
            RuleItem(1, "BillingCountryCode", "equals", COUNTRIES[14 + j % 10]),
            RuleItem(2, "NumberOfEmployees", "greaterOrEqual", low),
            RuleItem(3, "NumberOfEmployees", "lessThan", high),
        ), None
    if kind < 9:  # industry overlay in a region, with a boolean filter
        j = 3 * round_ + kind - 6
        states = ",".join(STATES[5 * ((j // 20) % 10) : 5 * ((j // 20) % 10) + 5])
        low, high = _band(1e8, 1.5, j // 200)
        return (
            RuleItem(1, "Industry", "equals", INDUSTRIES[j % 20]),
            RuleItem(2, "BillingStateCode", "equals", states),
            RuleItem(3, "AnnualRevenue", "greaterOrEqual", low),
            RuleItem(4, "AnnualRevenue", "lessThan", high),
            RuleItem(5, "NumberOfEmployees", "greaterOrEqual", "5000"),
        ), "1 AND 2 AND ((3 AND 4) OR 5)"
    low, high = _band(1e6, 1.05, round_)
    return (  # revenue band only (no text to join on): disjoint bands from 1e6 up
        RuleItem(1, "AnnualRevenue", "greaterOrEqual", low),
        RuleItem(2, "AnnualRevenue", "lessThan", high),
    ), None


def make_model(n_rules: int, seed: int = 11) -> ModelInput:
    """A realistic model: 60% geo rules under a US parent with an inherited country rule,
    the rest named accounts, international, industry overlays and a few revenue bands;
    most accounts land in two or three territories."""
    rng = random.Random(seed)
    n_geo = int(n_rules * 0.6)
    specs: list[tuple[tuple[RuleItem, ...], str | None]] = [
        (items, None) for items in _geo_rules(rng, n_geo)
    ]
    specs += [_other_rule(rng, i) for i in range(n_rules - n_geo)]
    rules = [
        Rule(f"R{pk}", items, boolean_filter=f, id=pk) for pk, (items, f) in enumerate(specs, 1)
    ]
    us = Rule("US", (RuleItem(1, "BillingCountryCode", "equals", "US"),), id=n_rules + 1)
    territories = [TerritoryNode(1), TerritoryNode(2, 1)]
    associations = [(n_rules + 1, 2, True)]
    for pk in range(1, n_rules + 1):
        territories.append(TerritoryNode(pk + 10, 2 if pk <= n_geo else 1))
        associations.append((pk, pk + 10, False))
    return ModelInput(territories, [*rules, us], associations, "all")


def baseline_polars(accounts: pl.DataFrame, compiled: CompiledModel) -> pl.DataFrame:
    """(a) one Polars filter per rule, concatenated, then the same combine step."""
    used = sorted({pk for pks in compiled.effective.values() for pk in pks})
    rules = [compiled.rules[pk] for pk in used]
    frame = prepare(accounts, rules, fields=literal_types(rules))
    indexed = frame.with_row_index("row")
    parts = [
        indexed.filter(rule_expr(r)).select(
            pl.col("row"), pl.lit(r.pk, dtype=pl.Int64).alias("rule_pk")
        )
        for r in rules
    ]
    return combine(pl.concat(parts), frame["pk"], compiled, None)


def _sql_item(item: Any) -> str:
    from territorial.core.rules.operators import Operator

    col = f'"{item.field}"'
    op = item.operator
    if item.type.is_textual:
        lc = f"lower({col})"
        vals = ", ".join("'" + str(v).replace("'", "''") + "'" for v in item.values)
        if op is Operator.EQUALS:
            return f"({lc} IN ({vals}))"
        if op is Operator.STARTS_WITH:
            return "(" + " OR ".join(f"starts_with({lc}, {v})" for v in vals.split(", ")) + ")"
    sym = {"lessThan": "<", "greaterThan": ">", "lessOrEqual": "<=", "greaterOrEqual": ">="}
    if op.value in sym:
        return f"(coalesce({col} {sym[op.value]} {item.values[0]}, false))"
    if op is Operator.EQUALS:
        return f"({col} IN ({', '.join(map(str, item.values))}))"
    raise ValueError(f"baseline has no SQL for {op.value}")


def _sql_rule(rule: Any) -> str:
    conjs = []
    for conj in rule.dnf:
        parts = [("NOT " if neg else "") + _sql_item(rule.item(n)) for n, neg in conj]
        conjs.append("(" + " AND ".join(parts) + ")")
    return " OR ".join(conjs)


def baseline_duckdb(accounts: pl.DataFrame, compiled: CompiledModel) -> pl.DataFrame:
    """(b) DuckDB: one SELECT per rule, UNION ALL, then the same combine step."""
    import duckdb

    used = sorted({pk for pks in compiled.effective.values() for pk in pks})
    rules = [compiled.rules[pk] for pk in used]
    frame = prepare(accounts, rules, fields=literal_types(rules)).with_row_index("row")
    con = duckdb.connect()
    con.register("accounts", frame.to_arrow())
    sql = " UNION ALL ".join(
        f"SELECT row, {r.pk}::BIGINT AS rule_pk FROM accounts WHERE {_sql_rule(r)}" for r in rules
    )
    pairs = con.sql(sql).pl()
    pairs = pairs.with_columns(pl.col("row").cast(pl.UInt32))
    return combine(pairs.unique(), frame["pk"], compiled, None)


def median_of(runs: int, fn: Callable[[], pl.DataFrame]) -> tuple[float, pl.DataFrame]:
    """Median wall time of ``runs`` calls and the last result."""
    times, result = [], pl.DataFrame()
    for _ in range(runs):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def sub_model(model: ModelInput, step: int) -> ModelInput:
    """Every ``step``-th rule of a model (and the inherited US rule), with the territories
    that keep a rule of their own and their ancestors."""
    last = max(r.id or 0 for r in model.rules)
    keep = {r.id for r in model.rules if r.id is not None and (r.id % step == 0 or r.id == last)}
    associations = [a for a in model.associations if a[0] in keep]
    parent = {t.pk: t.parent_pk for t in model.territories}
    used: set[int] = set()
    for _, pk, _ in associations:
        node: int | None = pk
        while node is not None and node not in used:
            used.add(node)
            node = parent.get(node)
    return ModelInput(
        [t for t in model.territories if t.pk in used],
        [r for r in model.rules if r.id in keep],
        associations,
        model.combination,
    )


def territories_per_account(result: pl.DataFrame, n_accounts: int) -> str:
    """How many accounts land in 0, 1, 2, 3 and more territories, in percent."""
    counts = result.group_by("account_pk").len()["len"].to_numpy()
    shares = [n_accounts - counts.size, *(int((counts == k).sum()) for k in (1, 2, 3))]
    shares.append(int((counts > 3).sum()))
    return " ".join(
        f"{label}:{100 * v / n_accounts:.0f}%"
        for label, v in zip(("0", "1", "2", "3", ">3"), shares, strict=True)
    )


def online_median_us(accounts: pl.DataFrame, compiled: CompiledModel, n: int = 5000) -> float:
    """Median microseconds for ``OnlineIndex.assign`` of one account dict."""
    index = OnlineIndex.build(compiled)
    rows = accounts.head(n).to_dicts()
    times = []
    for row in rows:
        start = time.perf_counter()
        index.assign(row)
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e6


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MB (Linux reports kB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_baselines(
    accounts: pl.DataFrame, model: ModelInput, ours: float, step: int, n_rules: int
) -> dict[str, float]:
    """Time both baselines on every ``step``-th rule, check our result on that sub-model is
    identical, and extrapolate their time linearly to all rules."""
    sub = compile_model(sub_model(model, step), CATALOG)
    expected = match(accounts, sub)
    figures = {}
    for name, fn in (("polars", baseline_polars), ("duckdb", baseline_duckdb)):
        took, other = median_of(1, lambda fn=fn: fn(accounts, sub))  # type: ignore[misc]
        same = other.equals(expected)
        full = took * n_rules / len(sub.rules)
        print(
            f"  baseline {name:9}: {took:8.3f} s on {len(sub.rules):,} rules, "
            f"~{full:7.1f} s for {n_rules:,} (extrapolated linearly); "
            f"ours is {full / ours:6.1f}x faster   identical={same}"
        )
        if not same:
            raise SystemExit(f"{name} baseline disagrees with the engine")
        figures[f"{name}_s"] = full
    return figures


def run(n_accounts: int, n_rules: int, runs: int, baseline_step: int) -> dict[str, float]:
    """Time ``match`` (median of ``runs``), the baselines (0: none) and the online index."""
    accounts = make_accounts(n_accounts)
    model = make_model(n_rules)
    compiled = compile_model(model, CATALOG)
    print(f"{n_accounts:,} accounts x {len(compiled.rules):,} rules, median of {runs}")
    start = time.perf_counter()
    model_tables(compiled, model_plan(compiled))
    print(f"  plan (once/model) : {time.perf_counter() - start:8.3f} s   (cached on the model)")
    rss_before = peak_rss_mb()
    ours, result = median_of(runs, lambda: match(accounts, compiled))
    print(f"  territorial match : {ours:8.3f} s   ({result.height:,} assignments)")
    print(f"  territories/account: {territories_per_account(result, n_accounts)}")
    figures = {"ours_s": ours}
    if baseline_step:
        figures |= run_baselines(accounts, model, ours, baseline_step, len(compiled.rules))
    figures["online_us"] = online_median_us(accounts, compiled)
    print(f"  online assign     : {figures['online_us']:8.1f} us/account (median)")
    print(f"  peak memory       : {peak_rss_mb():8.0f} MB (before match: {rss_before:.0f} MB)")
    return figures


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark from the command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--accounts", type=int, default=int(os.environ.get("BENCH_ACCOUNTS", 1_000_000))
    )
    parser.add_argument("--rules", type=int, default=int(os.environ.get("BENCH_RULES", 2000)))
    parser.add_argument(
        "--runs", type=int, default=None, help="timed runs (default 5, or 3 with --scale)"
    )
    parser.add_argument(
        "--baseline-step",
        type=int,
        default=10,
        help="time the baselines on every N-th rule and extrapolate (0: skip them)",
    )
    parser.add_argument(
        "--scale", action="store_true", help="5M accounts x 10k rules, no baselines"
    )
    args = parser.parse_args(argv)
    if args.scale:
        run(5_000_000, 10_000, args.runs or 3, 0)
    else:
        run(args.accounts, args.rules, args.runs or 5, args.baseline_step)


if __name__ == "__main__":
    main()
