"""End to end rule run for 1,000,000 demo accounts on SQLite and PostgreSQL.

A run loads the columns the rules read from the database, compiles and matches, writes
the rule assignments in bulk and records the run. Measured: the first run of a fresh model
(every assignment written) and a second run (nothing changed, nothing written).

Baseline, measured in the same run: the straightforward way — the plain-Python reference
evaluator account by account, then one ORM insert per assignment — on a 20,000-account
sample, extrapolated to the full size.

Size: ``TERRITORIAL_BENCH_ACCOUNTS`` (default 1,000,000). PostgreSQL:
``TERRITORIAL_BENCH_PG_URL`` (a dedicated database, emptied first).
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

from sqlalchemy import delete

from benchmarks._databases import fresh_postgresql, fresh_sqlite
from territorial.core.rules import reference
from territorial.demo import DemoOrg, generate
from territorial.io.tabular import write_table
from territorial.services import fields, imports, lookup, runs, specs
from territorial.services.workspace import Workspace
from territorial.settings import Settings
from territorial.store.schema import AccountAssignmentRow

ACCOUNTS = int(os.environ.get("TERRITORIAL_BENCH_ACCOUNTS", "1000000"))
SAMPLE = 20_000


def _load(ws: Workspace, org: DemoOrg) -> None:
    ws.init()
    with tempfile.TemporaryDirectory() as tmp:
        users, accounts = Path(tmp) / "users.parquet", Path(tmp) / "accounts.parquet"
        write_table(org.users, users)
        write_table(org.accounts, accounts)
        imports.import_users(ws, users)
        imports.import_accounts(ws, accounts)
    specs.create_model_from_spec(ws, org.model)


def _timed_run(ws: Workspace, model: str) -> tuple[float, runs.RunResult, dict[str, float]]:
    marks: dict[str, float] = {}
    started = time.perf_counter()

    def on_stage(name: str) -> None:
        marks[name] = time.perf_counter() - started

    result = runs.run_rules(ws, model, on_stage=on_stage)
    total = time.perf_counter() - started
    names = list(marks)
    stages = {
        name: (marks[names[i + 1]] if i + 1 < len(names) else total) - marks[name]
        for i, name in enumerate(names)
    }
    return total, result, stages


def _baseline(ws: Workspace, model: str) -> float:
    """Reference evaluator per account + one ORM insert per assignment, on a sample."""
    with ws.session() as session:
        model_row = lookup.model(session, model)
        compiled = runs.compile_stored(session, model_row)
        catalog = fields.catalog(session, "account")
        from territorial.core.rules.compile import required_fields
        from territorial.store import frames

        sample = frames.load_accounts(
            session, catalog, required_fields(compiled), where=f"account.pk <= {SAMPLE}"
        )
        # Start from an empty model, as the first run did; rolled back afterwards.
        session.execute(
            delete(AccountAssignmentRow).where(AccountAssignmentRow.model_pk == model_row.pk)
        )
        started = time.perf_counter()
        result = reference.evaluate(sample.iter_rows(named=True), compiled)
        for account_pk, territory_pk, rule_pk in result.iter_rows():
            session.add(
                AccountAssignmentRow(
                    model_pk=model_row.pk,
                    territory_pk=territory_pk,
                    account_pk=account_pk,
                    cause="rule",
                    rule_pk=rule_pk,
                )
            )
        session.flush()
        elapsed = time.perf_counter() - started
        session.rollback()
    return elapsed * ACCOUNTS / sample.height


def _bench(label: str, url: str, org: DemoOrg) -> None:
    ws = Workspace(Settings(database_url=url, actor="bench"))
    try:
        started = time.perf_counter()
        _load(ws, org)
        print(f"{label}: loaded {ACCOUNTS:,} accounts in {time.perf_counter() - started:.1f} s")
        model = org.model.developer_name
        first, result, stages = _timed_run(ws, model)
        detail = ", ".join(f"{k} {v:.2f}" for k, v in stages.items())
        print(
            f"{label}: first run {first:.2f} s for {result.accounts_evaluated:,} accounts, "
            f"{result.added:,} assignments written ({detail})"
        )
        second, again, _ = _timed_run(ws, model)
        print(f"{label}: re-run {second:.2f} s ({again.added} added, {again.removed} removed)")
        baseline = _baseline(ws, model)
        print(
            f"{label}: baseline (reference evaluator + ORM inserts, {SAMPLE:,}-account sample, "
            f"extrapolated) {baseline:.1f} s -> first run is {baseline / first:.0f}x faster; "
            f"target <= 30 s: {'met' if first <= 30 else 'NOT met'}"
        )
    finally:
        ws.close()


def main() -> None:
    started = time.perf_counter()
    org = generate(ACCOUNTS, seed=0)
    print(f"demo org of {ACCOUNTS:,} accounts generated in {time.perf_counter() - started:.1f} s")
    _bench("SQLite", fresh_sqlite("run.db"), org)
    pg = fresh_postgresql()
    if pg:
        _bench("PostgreSQL", pg, org)


if __name__ == "__main__":
    main()
