"""Carving a demo organisation into a planning model: run, compare, activate; CLI."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from territorial.cli.app import app
from territorial.core.carve import CarveInfeasible, is_partition
from territorial.services import lookup
from territorial.services.carve import carve_model
from territorial.services.demo import load_demo
from territorial.services.models import activate_model
from territorial.services.runs import run_rules
from territorial.services.workspace import Workspace
from territorial.store import frames

BASE = "FY2027_Territories"
POTENTIAL = "sqrt(annual_revenue)"
WORKLOAD = "1 + min(number_of_employees, 20000) / 1000"
TOLERANCE = {"potential": 0.05, "accounts": 0.10, "workload": 0.10}


@pytest.fixture
def demo(ws: Workspace) -> Workspace:
    load_demo(ws, accounts=3000, seed=3)
    return ws


def _assignments(ws: Workspace, model: str, territories: list[str]) -> pl.DataFrame:
    with ws.session() as session:
        row = lookup.model(session, model)
        pks = {lookup.territory(session, row, t).pk: t for t in territories}
        found = frames.load_assignments(session, row.pk, territory_pks=list(pks))
    return found.with_columns(territory=pl.col("territory_pk").replace_strict(pks))


def test_carve_run_and_activate(demo: Workspace) -> None:
    result = carve_model(
        demo, BASE, parent="NA_West", name="FY28 West", territories=4, potential=POTENTIAL,
        workload=WORKLOAD, tolerance=TOLERANCE, lock_named=True, seed=7,
    )  # fmt: skip
    names = [t.developer_name for t in result.territories]
    assert result.quality.balance.ok, result.quality.balance.measures
    run_rules(demo, "FY28_West")
    carved = _assignments(demo, "FY28_West", names)
    parts = {t: g["account_pk"].to_list() for (t,), g in carved.group_by(["territory"])}
    assert is_partition(parts, carved["account_pk"].unique())
    assert carved["account_pk"].n_unique() == result.plan.height
    activate_model(demo, "FY28_West")


def test_same_seed_same_plan_and_rebalance_keeps_named(demo: Workspace) -> None:
    options = dict(territories=4, potential=POTENTIAL, workload=WORKLOAD, tolerance=TOLERANCE)
    a = carve_model(demo, BASE, parent="NA_West", name="A", seed=5, **options)  # type: ignore[arg-type]
    b = carve_model(demo, BASE, parent="NA_West", name="B", seed=5, **options)  # type: ignore[arg-type]
    assert a.plan["territory"].to_list() == b.plan["territory"].to_list()
    run_rules(demo, "A")
    activate_model(demo, "A")
    again = carve_model(
        demo, "A", parent="NA_West", name="C", rebalance=True, lock_named=True, seed=5,
        potential=POTENTIAL, workload=WORKLOAD, tolerance=TOLERANCE,
    )  # fmt: skip
    assert again.quality.disruption["accounts"] <= 0.05
    assert all(not t.new for t in again.territories)


def test_units_write_postal_rules(demo: Workspace) -> None:
    result = carve_model(
        demo, BASE, parent="NA_West", name="Units", territories=3, units="zip3",
        potential=POTENTIAL, workload=WORKLOAD, tolerance=0.5, seed=1,
    )  # fmt: skip
    assert result.quality.contiguity is not None
    run_rules(demo, "Units")
    carved = _assignments(demo, "Units", [t.developer_name for t in result.territories])
    assert carved["account_pk"].is_unique().all()


def test_infeasible_names_the_binding_constraint(demo: Workspace) -> None:
    with pytest.raises(CarveInfeasible) as info:
        carve_model(
            demo, BASE, parent="NA_West", name="X", territories=3, balance=["potential"],
            potential="(annual_revenue / 1000000) ** 4",
            tolerance=0.05,
        )  # fmt: skip
    assert info.value.constraint == "item_exceeds_target"
    assert "potential" in str(info.value)


def test_cli_carve_with_chart_and_map(demo: Workspace, db_url: str, tmp_path: Path) -> None:
    demo.close()
    out = CliRunner().invoke(
        app,
        ["--database", db_url, "--format", "json", "carve", BASE, "--parent", "NA_West",
         "--territories", "3", "--potential", POTENTIAL, "--workload", WORKLOAD,
         "--tolerance", "potential=0.05,accounts=0.1,workload=0.1", "--name", "Cli West",
         "--seed", "7", "--chart", str(tmp_path / "c.png"), "--map", str(tmp_path / "m.png")],
    )  # fmt: skip
    assert out.exit_code == 0, out.output
    assert (tmp_path / "c.png").stat().st_size > 1000
    assert (tmp_path / "m.png").stat().st_size > 1000
    assert '"model": "Cli_West"' in out.output
