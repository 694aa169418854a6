"""Reports and model comparison over 1,000,000 demo accounts: the compute after loading.

Data: ``territorial.demo.generate`` (accounts, opportunities, users, the starter model's
hierarchy). Assignments are built synthetically from the frames: every account in one leaf
territory, a fifth also in an overlay root; the "after" model moves 5 % of the accounts to
another leaf. The demo's opportunities (about 85,000 for a million accounts) are topped up
to ``TERRITORIAL_BENCH_OPPORTUNITIES`` (default 30 % of the accounts: 300,000) by copying
random ones onto random accounts, vectorised. Opportunities take their account's leaf.

Measured: ``core.reports.summary`` (roll-up with distinct accounts per subtree) and
``core.compare.compare_sides``. Baseline, in the same run: the straightforward Python loop
over the same rows (dicts and sets), as one would write it without columns.

Size: ``TERRITORIAL_BENCH_ACCOUNTS`` (default 1,000,000). Each step runs
``TERRITORIAL_BENCH_REPEATS`` times (default 3); the median is reported, the runs beside it.
"""

from __future__ import annotations

import os
import statistics
import time
from collections import defaultdict
from collections.abc import Callable
from datetime import date

import numpy as np
import polars as pl

from territorial.core import reports
from territorial.core.compare import Side, compare_sides
from territorial.demo import generate

ACCOUNTS = int(os.environ.get("TERRITORIAL_BENCH_ACCOUNTS", "1000000"))
OPPORTUNITIES = int(os.environ.get("TERRITORIAL_BENCH_OPPORTUNITIES", str(ACCOUNTS * 3 // 10)))
AS_OF = date(2026, 6, 30)
REPEATS = int(os.environ.get("TERRITORIAL_BENCH_REPEATS", "3"))


def _more_opportunities(
    opportunities: pl.DataFrame, accounts: int, total: int, rng: np.random.Generator
) -> pl.DataFrame:
    """``opportunities`` topped up to ``total`` rows, vectorised: the extra rows copy random
    existing ones (amount, stage, probability, open/closed/won) onto random accounts, with
    close dates shifted by up to ±90 days and ids of their own."""
    extra = total - opportunities.height
    if extra <= 0 or opportunities.height == 0:
        return opportunities
    start = opportunities.height + 1
    copies = opportunities[pl.Series(rng.integers(0, opportunities.height, extra))]
    copies = copies.with_columns(
        opportunity_pk=pl.int_range(start, start + extra, dtype=pl.Int64),
        opportunity=pl.format("006BENCH{}", pl.int_range(start, start + extra).cast(pl.String)),
        account_pk=pl.Series(rng.integers(1, accounts + 1, extra), dtype=pl.Int64),
        close_date=pl.col("close_date")
        + pl.duration(days=pl.lit(pl.Series(rng.integers(-90, 91, extra), dtype=pl.Int64))),
    )
    return pl.concat([opportunities, copies.select(opportunities.columns)])


def _frames() -> dict[str, pl.DataFrame]:
    org = generate(ACCOUNTS, seed=1)
    names = [t.developer_name for t in org.model.territories]
    pk = {n: i + 1 for i, n in enumerate(names)}
    territories = pl.DataFrame(
        {
            "territory_pk": [pk[t.developer_name] for t in org.model.territories],
            "parent_pk": [pk.get(t.parent) if t.parent else None for t in org.model.territories],
            "territory": names,
            "name": [t.label for t in org.model.territories],
        },
        schema={"territory_pk": pl.Int64, "parent_pk": pl.Int64, "territory": pl.String,
                "name": pl.String},
    )  # fmt: skip
    parents = set(territories["parent_pk"].drop_nulls().to_list())
    leaves = np.array([p for p in territories["territory_pk"].to_list() if p not in parents])
    roots = territories.filter(pl.col("parent_pk").is_null())["territory_pk"].to_numpy()
    rng = np.random.default_rng(1)
    n = org.accounts.height
    account_pk = np.arange(1, n + 1)
    leaf = leaves[rng.integers(0, len(leaves), n)]
    overlay = rng.random(n) < 0.2
    links_b = pl.DataFrame(
        {
            "account_pk": np.concatenate([account_pk, account_pk[overlay]]),
            "territory_pk": np.concatenate(
                [leaf, roots[rng.integers(0, len(roots), overlay.sum())]]
            ),
        }
    ).with_columns(cause=pl.lit("rule"), rule=pl.lit("R"))
    moved = rng.random(n) < 0.05
    leaf_after = np.where(moved, leaves[rng.integers(0, len(leaves), n)], leaf)
    links_a = links_b.with_columns(
        territory_pk=pl.Series(np.concatenate([leaf_after, links_b["territory_pk"][n:].to_numpy()]))
    )
    accounts = pl.DataFrame(
        {"account_pk": account_pk, "account": org.accounts["id"], "name": org.accounts["name"],
         "potential": org.accounts["annual_revenue"]}
    )  # fmt: skip
    ids = dict(zip(org.accounts["id"].to_list(), account_pk.tolist(), strict=True))
    opp_account = org.opportunities["account_id"].replace_strict(ids, return_dtype=pl.Int64)
    opportunities = org.opportunities.select(
        opportunity_pk=pl.int_range(1, pl.len() + 1, dtype=pl.Int64),
        opportunity="id", name="name", amount="amount", probability="probability",
        stage="stage", close_date="close_date", is_closed="is_closed", is_won="is_won",
    ).with_columns(account_pk=opp_account)  # fmt: skip
    opportunities = _more_opportunities(opportunities, n, OPPORTUNITIES, rng)
    leaf_of = pl.DataFrame({"account_pk": account_pk, "b": leaf, "a": leaf_after})
    opp_t = opportunities.join(leaf_of, on="account_pk", how="left")
    users = pl.DataFrame(
        {"territory_pk": leaves, "user_pk": np.arange(1, len(leaves) + 1),
         "user": [f"rep {i}" for i in range(len(leaves))], "role": "Account Executive"}
    )  # fmt: skip
    return {
        "territories": territories,
        "links_b": links_b,
        "links_a": links_a,
        "accounts": accounts,
        "opportunities": opportunities.with_columns(territory_pk=opp_t["b"]),
        "opp_b": opp_t.select("opportunity_pk", territory_pk="b"),
        "opp_a": opp_t.select("opportunity_pk", territory_pk="a"),
        "users": users,
    }


def _loop_summary(f: dict[str, pl.DataFrame]) -> dict[int, tuple[int, float]]:
    parent = dict(f["territories"].select("territory_pk", "parent_pk").iter_rows())
    potential = dict(f["accounts"].select("account_pk", "potential").iter_rows())
    seen: dict[int, set[int]] = defaultdict(set)
    for account, territory in f["links_b"].select("account_pk", "territory_pk").iter_rows():
        node = territory
        while node is not None:
            seen[node].add(account)
            node = parent[node]
    return {t: (len(a), sum(potential[x] or 0.0 for x in a)) for t, a in seen.items()}


def _loop_compare(f: dict[str, pl.DataFrame]) -> tuple[int, int]:
    def sets(frame: pl.DataFrame) -> dict[int, set[int]]:
        out: dict[int, set[int]] = defaultdict(set)
        for account, territory in frame.select("account_pk", "territory_pk").iter_rows():
            out[account].add(territory)
        return out

    before, after = sets(f["links_b"]), sets(f["links_a"])
    changed = [a for a in before.keys() | after.keys() if before.get(a) != after.get(a)]
    ob = dict(f["opp_b"].iter_rows())
    opps = sum(1 for o, t in f["opp_a"].iter_rows() if ob.get(o) != t)
    return len(changed), opps


def _timed(label: str, fn: Callable[[], object]) -> float:
    runs = []
    for _ in range(max(REPEATS, 1)):
        started = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - started)
    seconds = statistics.median(runs)
    each = ", ".join(f"{r:.2f}" for r in runs)
    print(f"  {label:<44} {seconds:7.2f} s  (median of {each})")
    return seconds


def main() -> None:
    print(f"Reports and compare, {ACCOUNTS:,} accounts")
    f = _frames()
    print(
        f"  links: {f['links_b'].height:,} per model, {f['opportunities'].height:,} opportunities"
    )
    side_b = Side(f["territories"], f["links_b"], f["users"], f["opp_b"])
    side_a = Side(f["territories"], f["links_a"], f["users"], f["opp_a"])
    users = f["users"].select("territory_pk", "user_pk", "user", "role")
    summary = _timed(
        "summary (core.reports.summary)",
        lambda: reports.summary(
            f["territories"], f["links_b"], f["accounts"], f["opportunities"], users, as_of=AS_OF
        ),
    )
    base_summary = _timed("baseline: Python loop, accounts per subtree", lambda: _loop_summary(f))
    result = compare_sides(side_b, side_a, f["accounts"], f["opportunities"])
    compare = _timed(
        "compare (core.compare.compare_sides)",
        lambda: compare_sides(side_b, side_a, f["accounts"], f["opportunities"]),
    )
    base_compare = _timed("baseline: Python loop, changed accounts+opps", lambda: _loop_compare(f))
    print(
        f"  changed: {result.summary['accounts_changed']:,} accounts, "
        f"{result.summary['open_opportunities_changed']:,} open opportunities"
    )
    print(
        f"  summary {summary:.2f} s (target ≤ 2 s, {base_summary / summary:.1f}x the loop); "
        f"compare {compare:.2f} s (target ≤ 2 s, {base_compare / compare:.1f}x the loop)"
    )


if __name__ == "__main__":
    main()
