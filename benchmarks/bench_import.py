"""Import 1,000,000 accounts from CSV into SQLite and PostgreSQL, and re-import them.

The baseline, measured in the same run, is what a straightforward ORM importer does:
``csv.DictReader``, Python-side parsing, one ``SELECT`` by id per row, then an ORM insert
or update, one commit at the end. It runs on a 20,000-row sample and is extrapolated.

PostgreSQL: ``TERRITORIAL_BENCH_PG_URL`` (default
``postgresql://postgres@127.0.0.1:5432/territorial_bench``); the database is created when
missing and its tables are dropped and recreated, so test databases are never touched.
The generated CSV is cached under ``bench-data/`` (git-ignored).
"""

from __future__ import annotations

import csv
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import polars as pl
from sqlalchemy import select, text

from benchmarks._databases import DATA, fresh_postgresql, fresh_sqlite
from territorial.services.imports import import_accounts
from territorial.services.workspace import Workspace
from territorial.settings import Settings
from territorial.store.schema import Account

ROWS = 1_000_000
SAMPLE = 20_000
STATES = ["CA", "NY", "TX", "FL", "WA", "IL", "MA", "GA", "CO", "OR", "NV", "AZ"]
CITIES = ["San Francisco", "New York", "Austin", "Miami", "Seattle", "Chicago", "Boston"]
INDUSTRIES = ["Technology", "Retail", "Healthcare", "Finance", "Manufacturing", "Energy"]
TYPES = ["Customer", "Prospect", "Partner"]
TIERS = ["Gold", "Silver", "Bronze"]


def generate(rows: int, path: Path, *, seed: int = 7) -> Path:
    """A realistic account CSV with ``rows`` rows (vectorised; cached at ``path``)."""
    if path.exists():
        return path
    rng = np.random.default_rng(seed)
    index = pl.int_range(rows, eager=True)

    def pick(values: list[str]) -> pl.Series:
        return pl.Series(values).gather(rng.integers(0, len(values), rows))

    frame = pl.DataFrame(
        {
            "Id": pl.Series(["001"] * rows) + index.cast(pl.String).str.zfill(9),
            "Name": pl.Series(["Company "] * rows) + index.cast(pl.String),
            "BillingCountryCode": pl.Series(["US"] * rows),
            "BillingStateCode": pick(STATES),
            "BillingCity": pick(CITIES),
            "BillingPostalCode": pl.Series(rng.integers(501, 99950, rows))
            .cast(pl.String)
            .str.zfill(5),
            "BillingLatitude": np.round(rng.uniform(25, 49, rows), 5),
            "BillingLongitude": np.round(rng.uniform(-124, -67, rows), 5),
            "Industry": pick(INDUSTRIES),
            "Type": pick(TYPES),
            "AnnualRevenue": np.round(rng.lognormal(15, 2, rows), 2),
            "NumberOfEmployees": rng.integers(1, 50_000, rows),
            "OwnerId": pl.Series(["005"] * rows)
            + pl.Series(rng.integers(0, 60, rows)).cast(pl.String),
            "Tier__c": pick(TIERS),
            "Strategic__c": pl.Series(rng.random(rows) < 0.1).cast(pl.String),
        }
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.write_csv(path)
    return path


def _timed(label: str, rows: int, work: Callable[[], object]) -> float:
    started = time.perf_counter()
    work()
    seconds = time.perf_counter() - started
    print(f"  {label:<38} {seconds:8.2f} s  {rows / seconds:>12,.0f} rows/s", flush=True)
    return seconds


def _orm_baseline(ws: Workspace, sample: Path) -> float:
    """Seconds for the naive ORM importer on ``sample``."""
    numbers = ("BillingLatitude", "BillingLongitude", "AnnualRevenue", "NumberOfEmployees")
    names = {
        "Name": "name",
        "BillingCountryCode": "billing_country_code",
        "BillingStateCode": "billing_state_code",
        "BillingCity": "billing_city",
        "BillingPostalCode": "billing_postal_code",
        "BillingLatitude": "latitude",
        "BillingLongitude": "longitude",
        "Industry": "industry",
        "Type": "type",
        "AnnualRevenue": "annual_revenue",
        "NumberOfEmployees": "number_of_employees",
        "OwnerId": "owner_id",
    }

    def run() -> None:
        with ws.session() as session, sample.open(newline="", encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                values: dict[str, object] = {
                    names[k]: (float(v) if k in numbers and v else v or None)
                    for k, v in row.items()
                    if k in names
                }
                values["custom"] = {
                    "Tier__c": row["Tier__c"],
                    "Strategic__c": row["Strategic__c"] == "true",
                }
                account = session.scalar(select(Account).where(Account.id == row["Id"]))
                if account is None:
                    session.add(Account(id=row["Id"], excluded_from_realign=False, **values))
                else:
                    for key, value in values.items():
                        setattr(account, key, value)
                session.flush()

    started = time.perf_counter()
    run()
    return time.perf_counter() - started


def changed_copy(path: Path, target: Path) -> Path:
    """The same accounts with a new revenue and tier on every row (cached)."""
    if not target.exists():
        frame = pl.read_csv(path, infer_schema=False)
        frame.with_columns(
            (pl.col("AnnualRevenue").cast(pl.Float64) * 1.1).round(2),
            pl.col("Tier__c").replace({"Gold": "Silver", "Silver": "Bronze", "Bronze": "Gold"}),
        ).write_csv(target)
    return target


def _bench(label: str, url: str, path: Path, sample: Path) -> None:
    print(f"{label}: {url}", flush=True)
    ws = Workspace(Settings(database_url=url, actor="bench"))
    try:
        ws.init()
        first = _timed(
            "import 1,000,000 (all inserts)",
            ROWS,
            lambda: import_accounts(ws, path, create_fields=True),
        )
        _timed("re-import, nothing changed", ROWS, lambda: import_accounts(ws, path))
        changed = changed_copy(path, DATA / "accounts_1m_changed.csv")
        _timed("re-import, every row changed", ROWS, lambda: import_accounts(ws, changed))
        with ws.db.engine.begin() as conn:
            conn.execute(text("DELETE FROM account"))
        baseline = _orm_baseline(ws, sample) * ROWS / SAMPLE
        print(
            f"  {'baseline: ORM row by row (extrapolated)':<38} {baseline:8.2f} s  "
            f"{ROWS / baseline:>12,.0f} rows/s   -> import is {baseline / first:.0f}x faster",
            flush=True,
        )
    finally:
        ws.close()


def main() -> None:
    """Generate (or reuse) the data, then run the SQLite and PostgreSQL imports."""
    started = time.perf_counter()
    path = generate(ROWS, DATA / "accounts_1m.csv")
    changed_copy(path, DATA / "accounts_1m_changed.csv")
    sample = DATA / "accounts_20k.csv"
    if not sample.exists():
        pl.read_csv(path, n_rows=SAMPLE, infer_schema=False).write_csv(sample)
    print(
        f"data: {path} ({path.stat().st_size / 1e6:.0f} MB, "
        f"ready in {time.perf_counter() - started:.1f} s)"
    )
    _bench("SQLite", fresh_sqlite(), path, sample)
    pg = fresh_postgresql()
    if pg:
        _bench("PostgreSQL", pg, path, sample)


if __name__ == "__main__":
    main()
