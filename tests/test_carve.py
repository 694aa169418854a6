"""Carving a demo organisation into a planning model: run, compare, activate; CLI."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from scipy.optimize import linear_sum_assignment
from sqlalchemy import or_, select
from typer.testing import CliRunner

from territorial.cli import carve as carve_cli
from territorial.cli.app import app
from territorial.core.carve import CarveInfeasible, is_partition
from territorial.core.carve.coverage import us_zip_table
from territorial.errors import (
    Conflict,
    InputFileError,
    NotFound,
    TerritorialError,
    ValidationError,
)
from territorial.services import carve as carve_service
from territorial.services import exports, lookup
from territorial.services.assignments import assign_account, exclude_account
from territorial.services.audit import log as audit_log
from territorial.services.carve import OWNER_ROLE, CarveResult, Rep, carve_model, read_reps
from territorial.services.compare import compare_models
from territorial.services.demo import load_demo
from territorial.services.hierarchy import add_territory
from territorial.services.models import activate_model, clone_model, list_models
from territorial.services.online import save_account
from territorial.services.reports import multi_territory_accounts
from territorial.services.rules import add_rule, attach_rule
from territorial.services.runs import run_rules
from territorial.services.workspace import Workspace
from territorial.store import frames
from territorial.store.schema import (
    Account,
    RuleAssociationRow,
    RuleItemRow,
    RuleRow,
    SalesUser,
    TerritoryRow,
    UserAssignmentRow,
)

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


def _assert_run_matches_plan(ws: Workspace, model: str, result: CarveResult) -> pl.DataFrame:
    """The carved territories' assignments after a run (account_id, territory, cause...),
    checked to hold every planned account in its planned territory and in no other carved
    territory. (A named account kept by hand may also match its territory's postal rule:
    two causes, one territory.)"""
    carved = _assignments(ws, model, [t.developer_name for t in result.territories])
    with ws.session() as session:
        ids = session.execute(select(Account.pk, Account.id)).all()
    run = carved.join(pl.DataFrame(ids, schema=["account_pk", "account_id"], orient="row"),
                      on="account_pk")  # fmt: skip
    run = run.unique(["account_pk", "territory"], keep="first", maintain_order=True)
    assert run["account_pk"].is_unique().all()
    planned = run.join(result.plan, on="account_id", suffix="_plan")
    assert planned.height == result.plan.height
    assert (planned["territory"] == planned["territory_plan"]).all()
    return run


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
    # The run puts every carved account where the plan says...
    run = _assert_run_matches_plan(demo, "FY28_West", result)
    with demo.session() as session:
        base = frames.load_assignments(session, lookup.model(session, BASE).pk)
    # ...mostly by the carved postal rules (manual assignments are the exceptions), and
    # the only other accounts the rules claim had no territory in the base model.
    assert result.manual_assignments < 0.25 * result.plan.height
    extra = run.filter(~pl.col("account_id").is_in(result.plan["account_id"].implode()))
    assert extra["account_pk"].is_in(base["account_pk"].implode()).sum() == 0
    activate_model(demo, "FY28_West")
    # A new account in a carved postal code is assigned by rule at once.
    by_rule = run.filter(pl.col("cause") == "rule").row(0, named=True)
    with demo.session() as session:
        postal = session.get(Account, by_rule["account_pk"]).billing_postal_code  # type: ignore[union-attr]
    saved = save_account(
        demo, "001NEWCARVED0001", {"name": "Newco", "billing_country_code": "US",
                                    "billing_postal_code": postal},
    )  # fmt: skip
    assert by_rule["territory"] in saved.territories["FY28_West"]


def test_runs_record_the_carve_rule_that_exports_compare_and_reports_name(
    demo: Workspace, tmp_path: Path
) -> None:
    # Each carved territory needs US_Accounts and Commercial_Revenue, which its siblings
    # have too, and its own postal rule: the run records the postal rule.
    result = carve_model(demo, BASE, parent="NA_West_Commercial", name="Plan", territories=3,
                         seed=7)  # fmt: skip
    carved = [t.developer_name for t in result.territories]
    run_rules(demo, "Plan")

    def recorded(where: Path) -> pl.DataFrame:
        exports.export_assignments(demo, where, model="Plan")
        return pl.read_csv(where).filter(
            pl.col("territory").is_in(carved) & (pl.col("cause") == "rule")
        )

    exported = recorded(tmp_path / "assignments.csv")
    assert exported.height > 100
    assert (exported["rule"] == exported["territory"] + "_Carve").all()
    # compare: every carved territory a moved account lands in is named by its postal rule.
    moved = compare_models(demo, "Plan").tables()["accounts"]["to_detail"].str.join("; ")
    causes = re.findall(r"(NA_West_Commercial_\d+) \(((?:manual, )?rule [^)]*)\)", moved.item())
    assert len(causes) > 100
    assert {cause.removeprefix("manual, ") for _, cause in causes} == {
        f"rule {t}_Carve" for t, _ in causes
    }
    # report multi names the same rule.
    detail = multi_territory_accounts(demo, "Plan")["detail"].str.join("; ").item()
    assert re.search(r"NA_West_Commercial_\d+ \(rule US_Accounts\)", detail) is None
    assert re.search(r"NA_West_Commercial_\d+ \(rule NA_West_Commercial_\d+_Carve\)", detail)
    # A run of one carved territory (its siblings out of scope) records the same rules.
    scoped = run_rules(demo, "Plan", territory=carved[0])
    assert (scoped.added, scoped.removed) == (0, 0)
    # So does an account assigned at once when it is saved.
    postal = result.plan.join(exported, left_on="account_id", right_on="account")
    first = postal.row(0, named=True)
    with demo.session() as session:
        code = session.scalar(select(Account.billing_postal_code).where(
            Account.id == first["account_id"]))  # fmt: skip
    save_account(
        demo, "001NEWCARVED0002", {"name": "Newco", "billing_country_code": "US",
                                    "billing_postal_code": code, "annual_revenue": 5e6},
        models=["Plan"],
    )  # fmt: skip
    new = recorded(tmp_path / "again.csv").filter(pl.col("account") == "001NEWCARVED0002")
    assert new.select("territory", "rule").rows() == [
        (first["territory"], f"{first['territory']}_Carve")
    ]


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
    # A's carved exceptions are assigned by hand: named accounts the rebalance kept in place.
    assert again.named_locked >= a.manual_assignments > 0
    assert all(not t.new for t in again.territories)
    # The rebalanced model, run, puts every account where its plan says.
    run_rules(demo, "C")
    _assert_run_matches_plan(demo, "C", again)


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
         "--seed", "7", "--chart", str(tmp_path / "c.png"), "--map", str(tmp_path / "m.png"),
         "--plan", str(tmp_path / "plan.csv")],
    )  # fmt: skip
    assert out.exit_code == 0, out.output
    assert (tmp_path / "c.png").stat().st_size > 1000
    assert (tmp_path / "m.png").stat().st_size > 1000
    assert '"model": "Cli_West"' in out.output
    plan = pl.read_csv(tmp_path / "plan.csv", infer_schema=False)
    assert plan.columns == ["account_id", "latitude", "longitude", "territory", "before"]
    assert plan["account_id"].is_unique().all()
    assert set(plan["territory"]) == {"NA_West_01", "NA_West_02", "NA_West_03"}


def _west_owners(ws: Workspace, base: str = BASE) -> list[str]:
    """Users who are 'Territory Owner' on a territory under NA_West."""
    with ws.session() as session:
        model = lookup.model(session, base)
        parent = lookup.territory(session, model, "NA_West")
        leaves = set(
            session.scalars(
                select(TerritoryRow.pk).where(
                    TerritoryRow.model_pk == model.pk,
                    TerritoryRow.parent_pk.in_(
                        select(TerritoryRow.pk).where(
                            or_(TerritoryRow.pk == parent.pk, TerritoryRow.parent_pk == parent.pk)
                        )
                    ),
                )
            )
        )
        rows = session.execute(
            select(SalesUser.id, UserAssignmentRow.territory_pk)
            .join(UserAssignmentRow, UserAssignmentRow.user_pk == SalesUser.pk)
            .where(UserAssignmentRow.role == OWNER_ROLE)
            .order_by(SalesUser.id)
        ).all()
    return sorted({u for u, t in rows if t in leaves})


def _owners_of(ws: Workspace, model: str) -> dict[str, list[str]]:
    with ws.session() as session:
        row = lookup.model(session, model)
        found = session.execute(
            select(SalesUser.id, TerritoryRow.developer_name)
            .join(UserAssignmentRow, UserAssignmentRow.user_pk == SalesUser.pk)
            .join(TerritoryRow, TerritoryRow.pk == UserAssignmentRow.territory_pk)
            .where(TerritoryRow.model_pk == row.pk, UserAssignmentRow.role == OWNER_ROLE)
        ).all()
    out: dict[str, list[str]] = {}
    for user, territory in found:
        out.setdefault(user, []).append(territory)
    return out


def test_carve_for_reps_by_capacity(demo: Workspace, db_url: str, tmp_path: Path) -> None:
    reps = _west_owners(demo)[:3]
    assert len(reps) == 3
    file = tmp_path / "reps.csv"
    file.write_text(
        "user,capacity\n" + "".join(f"{u},{c}\n" for u, c in zip(reps, (1, 1, 2), strict=True))
    )
    result = carve_model(
        demo, BASE, parent="NA_West", name="Reps", reps=read_reps(file), balance=["potential"],
        potential=POTENTIAL, tolerance=0.05, seed=3,
    )  # fmt: skip
    assert result.quality.balance.ok, result.quality.balance.measures
    loads = {t.owner: t.measures["potential"] for t in result.territories}
    total = sum(loads.values())
    assert loads[reps[2]] / total == pytest.approx(0.5, rel=0.05)
    assert loads[reps[0]] / total == pytest.approx(0.25, rel=0.05)
    assert loads[reps[2]] / loads[reps[1]] == pytest.approx(2.0, rel=0.11)
    # Among the carved territories, each rep owns exactly theirs and each has one owner.
    carved = {t.developer_name for t in result.territories}
    owners = {u: [t for t in ts if t in carved] for u, ts in _owners_of(demo, "Reps").items()}
    territory_of = {t.owner: t.developer_name for t in result.territories}
    assert {u: owners.get(u) for u in reps} == {u: [territory_of[u]] for u in reps}
    assert sorted(t for ts in owners.values() for t in ts) == sorted(carved)
    # The CLI: every owner under NA_West, from their stored homes and capacities.
    demo.close()
    out = CliRunner().invoke(
        app,
        ["--database", db_url, "--format", "json", "carve", BASE, "--parent", "NA_West",
         "--reps-from-users", OWNER_ROLE, "--balance", "accounts", "--tolerance", "0.2",
         "--name", "Cli Reps", "--seed", "1"],
    )  # fmt: skip
    assert out.exit_code == 0, out.output
    assert '"model": "Cli_Reps"' in out.output


def test_carve_for_reps_bad_input(demo: Workspace, db_url: str, tmp_path: Path) -> None:
    reps = _west_owners(demo)[:3]
    with demo.session() as session:
        session.add(SalesUser(id="005NOHOME", name="No Home"))

    def fails(error: type[Exception], text: str, **options: object) -> None:
        with pytest.raises(error) as info:
            carve_model(demo, BASE, parent="NA_West", name="Bad", **options)  # type: ignore[arg-type]
        assert isinstance(info.value, TerritorialError)
        assert text in str(info.value)

    fails(
        NotFound,
        "user 'nobody@example.com' not found",
        reps=[Rep("nobody@example.com"), *map(Rep, reps)],
    )
    fails(
        ValidationError,
        "'005NOHOME' (No Home) has no home location",
        reps=[Rep("005NOHOME"), *map(Rep, reps)],
    )
    fails(
        ValidationError,
        "capacity 0; it must be positive",
        reps=[Rep(reps[0], capacity=0), Rep(reps[1])],
    )
    fails(
        ValidationError,
        "capacity -1; it must be positive",
        reps=[Rep(reps[0]), Rep(reps[1], capacity=-1)],
    )
    fails(ValidationError, "needs at least 2 reps, not 1", reps=[Rep(reps[0])])
    fails(
        ValidationError,
        "cannot be combined with --territories",
        reps=list(map(Rep, reps)),
        territories=3,
    )
    fails(ValidationError, "No user holds role 'Astronaut'", reps_role="Astronaut")
    file = tmp_path / "reps.csv"
    file.write_text(f"user,capacity\n{reps[0]},x\n")
    with pytest.raises(InputFileError, match="'x' is not a number"):
        read_reps(file)
    file.write_text("user,capacity\n")  # a header only: not a plain rebalance in disguise
    with pytest.raises(InputFileError, match="lists no reps"):
        read_reps(file)
    demo.close()
    file.write_text(f"user\n{reps[0]}\n{reps[1]}\n")
    out = CliRunner().invoke(
        app,
        ["--database", db_url, "carve", BASE, "--parent", "NA_West", "--reps", str(file),
         "--territories", "2", "--name", "Bad"],
    )  # fmt: skip
    assert out.exit_code != 0
    assert "cannot be combined with --territories" in out.output


def test_from_scratch_carries_users_to_successor_territories(demo: Workspace) -> None:
    result = carve_model(
        demo, BASE, parent="NA_West", name="Heirs", territories=12, seed=3,
        potential=POTENTIAL, workload=WORKLOAD, tolerance=TOLERANCE,
    )  # fmt: skip
    replaced = set(result.plan["before"].drop_nulls())
    owned = [(u, t) for u, ts in _owners_of(demo, BASE).items() for t in ts if t in replaced]
    assert owned
    heirs = {t.users_from: t.developer_name for t in result.territories if t.users_from}
    # Every replaced leaf with users has exactly one successor (more territories than
    # leaves), and only leaves with users are named...
    assert {t for _, t in owned} == set(heirs)
    assert len(set(heirs.values())) == len(heirs) < 12
    # ...which its users now hold, with their role.
    after = _owners_of(demo, "Heirs")
    for user, leaf in owned:
        assert heirs[leaf] in after[user], (user, leaf)
    assert not any("no successor" in w for w in result.warnings)

    fewer = carve_model(
        demo, BASE, parent="NA_West", name="Fewer", territories=2, seed=3,
        balance=["accounts"], tolerance=0.5,
    )  # fmt: skip
    assert sum(1 for t in fewer.territories if t.users_from) == 2
    assert any("no successor" in w for w in fewer.warnings)


def test_rebalance_for_reps_part_time_and_new_hire(
    demo: Workspace, db_url: str, tmp_path: Path
) -> None:
    """A rep goes half-time and a new rep is hired: the rebalance keeps every leaf and its
    owner, shrinks the half-time rep's leaf, and carves the hire a territory at home."""
    before = _owners_of(demo, BASE)
    part_time = _west_owners(demo)[0]
    with demo.session() as session:
        session.add(SalesUser(id="005HIRE", name="New Hire", home_latitude=39.74,
                              home_longitude=-104.99))  # fmt: skip
    result = carve_model(
        demo, BASE, parent="NA_West", name="Hire", rebalance=True, seed=3,
        reps=[Rep(part_time, capacity=0.5), Rep("005HIRE")],
        potential=POTENTIAL, workload=WORKLOAD, tolerance=TOLERANCE,
    )  # fmt: skip
    assert result.quality.balance.ok, result.quality.balance.measures
    new = [t for t in result.territories if t.new]
    assert [(t.developer_name, t.owner) for t in new] == [("NA_West_01", "005HIRE")]
    centre = result.centres.filter(pl.col("territory") == "NA_West_01").row(0, named=True)
    assert (centre["latitude"], centre["longitude"]) == pytest.approx((39.74, -104.99))
    # The half-time rep's leaf holds about half of a full-time leaf's potential.
    loads = {t.owner: t.measures["potential"] for t in result.territories}
    full = [v for o, v in loads.items() if o not in (part_time, None)]
    assert loads[part_time] / (sum(full) / len(full)) == pytest.approx(0.5, rel=0.11)
    # Existing leaves keep their owners; the hire owns the new territory.
    after = _owners_of(demo, "Hire")
    assert after.pop("005HIRE") == ["NA_West_01"]
    assert after == before
    # The CLI: owners of the current leaves, from their stored capacities.
    demo.close()
    out = CliRunner().invoke(
        app,
        ["--database", db_url, "--format", "json", "carve", BASE, "--parent", "NA_West",
         "--rebalance", "--reps-from-users", OWNER_ROLE, "--balance", "accounts",
         "--tolerance", "0.2", "--name", "Cli Rebalance", "--seed", "1"],
    )  # fmt: skip
    assert out.exit_code == 0, out.output
    assert f'"owner id": "{part_time}"' in out.output
    out = CliRunner().invoke(
        app,
        ["--database", db_url, "carve", BASE, "--parent", "NA_West", "--rebalance",
         "--reps-from-users", "Astronaut", "--name", "Bad"],
    )  # fmt: skip
    assert out.exit_code != 0
    assert "No user holds role 'Astronaut' on a leaf territory being rebalanced" in out.output


def test_carving_across_branches_warns(demo: Workspace) -> None:
    """NA_West holds a Commercial and an Enterprise segment: carving it whole says so."""
    options = dict(territories=3, balance=["accounts"], tolerance=0.2, seed=1)
    whole = carve_model(demo, BASE, parent="NA_West", name="Whole", **options)  # type: ignore[arg-type]
    warning = next(w for w in whole.warnings if "branches" in w)
    assert "NA_West_Commercial (6)" in warning and "NA_West_Enterprise (2)" in warning
    assert "--parent BRANCH" in warning
    one = carve_model(demo, BASE, parent="NA_West_Commercial", name="One", **options)  # type: ignore[arg-type]
    assert not any("branches" in w for w in one.warnings)


def test_carved_segment_keeps_the_rules_that_define_it(demo: Workspace) -> None:
    """Every Commercial leaf has the Commercial and US rules besides its own geography:
    the carved territories keep them with their postal rule, so Enterprise accounts in the
    same postal codes stay with the Enterprise territories."""
    result = carve_model(
        demo, BASE, parent="NA_West_Commercial", name="Comm", territories=4,
        balance=["accounts"], tolerance=0.2, seed=1,
    )  # fmt: skip
    run = run_rules(demo, "Comm")
    assert not any("same type" in w for w in run.warnings), run.warnings
    _assert_run_matches_plan(demo, "Comm", result)
    with demo.session() as session:
        model = lookup.model(session, "Comm")
        attached = session.execute(
            select(TerritoryRow.developer_name, RuleRow.developer_name)
            .join(RuleAssociationRow, RuleAssociationRow.territory_pk == TerritoryRow.pk)
            .join(RuleRow, RuleRow.pk == RuleAssociationRow.rule_pk)
            .where(TerritoryRow.model_pk == model.pk)
        ).all()
        rules = set(
            session.scalars(select(RuleRow.developer_name).where(RuleRow.model_pk == model.pk))
        )
    for t in result.territories:
        mine = {r for n, r in attached if n == t.developer_name}
        assert mine == {"Commercial_Revenue", "US_Accounts", f"{t.developer_name}_Carve"}
    # The replaced leaves' own geography rules went with them.
    assert "CA_Bay_Area_Rule" not in rules and "West_Ent_Pacific_Rule" in rules
    # Accounts also in an overlay: the report names the postal rule that sets each carved
    # territory apart (the rule the run records), not US_Accounts (the lowest-pk rule).
    multi = multi_territory_accounts(demo, "Comm")
    carved = [t.developer_name for t in result.territories]
    named = [
        part.strip()
        for detail in multi["detail"]
        for part in detail.split(";")
        if part.strip().split(" ")[0] in carved
    ]
    assert len(named) > 10
    for part in named:
        territory = part.split(" ")[0]
        assert part in (f"{territory} (rule {territory}_Carve)", f"{territory} (manual)"), part
    # Postal codes that all went one way are written as their 3- or 4-digit prefix, and
    # every value fits Salesforce's 1,000 characters.
    with demo.session() as session:
        values = session.scalars(
            select(RuleItemRow.value)
            .join(RuleRow, RuleRow.pk == RuleItemRow.rule_pk)
            .where(RuleRow.model_pk == model.pk, RuleRow.developer_name.endswith("_Carve"))
        ).all()
    prefixes = [p for v in values for p in v.split(",") if p.isdigit()]
    assert any(len(p) < 5 for p in prefixes) and max(map(len, values)) <= 1000


def test_carve_refuses_what_it_cannot_carve_before_writing(
    demo: Workspace, db_url: str, tmp_path: Path
) -> None:
    def fails(text: str, **options: object) -> None:
        with pytest.raises(ValidationError, match=text):
            carve_model(demo, BASE, name="Bad", **options)  # type: ignore[arg-type]

    fails("'CA_South' has no territories under it", parent="CA_South", territories=3)
    fails("--parent NA_West_Commercial --rebalance", parent="CA_South", territories=3)
    fails("at least 2 to carve, not 1", parent="NA_West", territories=1)
    fails("at least 2 to carve, not 0", parent="NA_West", territories=0)
    fails(
        r"Formula 'industry / 2', at character 1 \('i'\): field 'industry' is a picklist",
        parent="NA_West", territories=3, workload="industry / 2",
    )  # fmt: skip
    fails(r"Formula '1 \+\* 2', at character 4 \('\*'\): invalid syntax", parent="NA_West",
          territories=3, potential="1 +* 2")  # fmt: skip
    demo.close()
    out = CliRunner().invoke(
        app,
        ["--database", db_url, "carve", BASE, "--parent", "NA_West", "--territories", "3",
         "--name", "Jpeg", "--map", str(tmp_path / "map.jpg")],
    )  # fmt: skip
    assert out.exit_code != 0 and "Cannot draw a chart as '.jpg'" in out.output
    listed = CliRunner().invoke(app, ["--database", db_url, "--format", "csv", "model", "list"])
    assert "Jpeg" not in listed.output  # nothing was written


def test_country_codes_in_any_case_make_one_postal_rule(demo: Workspace) -> None:
    """Rules ignore case, so an account typed 'us' joins the US rule instead of adding an
    'us' branch that would overlap another territory's."""
    with demo.session() as session:
        moved = session.scalars(
            select(Account)
            .where(Account.billing_state_code.in_(["CA", "NV", "AZ"]))
            .order_by(Account.pk)
            .limit(40)
        ).all()
        for account in moved:
            account.billing_country_code = "us"
    result = carve_model(
        demo, BASE, parent="NA_West_Commercial", name="Case", territories=4,
        balance=["accounts"], tolerance=0.2, seed=1,
    )  # fmt: skip
    with demo.session() as session:
        countries = set(
            session.scalars(
                select(RuleItemRow.value)
                .join(RuleRow, RuleRow.pk == RuleItemRow.rule_pk)
                .where(RuleRow.developer_name.endswith("_Carve"),
                       RuleItemRow.field == "Account.BillingCountryCode")
            )
        )  # fmt: skip
    assert countries == {"US"}
    run = run_rules(demo, "Case")
    assert not any("same type" in w for w in run.warnings), run.warnings
    _assert_run_matches_plan(demo, "Case", result)


def test_carving_named_accounts_warns_unless_they_stay_by_hand(demo: Workspace) -> None:
    options = dict(parent="Strategic_Accounts", territories=2, balance=["accounts"],
                   tolerance=0.5, seed=1)  # fmt: skip
    loose = carve_model(demo, BASE, name="Loose", **options)  # type: ignore[arg-type]
    assert any("assigned by hand (named accounts)" in w for w in loose.warnings)
    kept = carve_model(demo, BASE, name="Kept", lock_named=True, **options)  # type: ignore[arg-type]
    assert not any("named accounts" in w for w in kept.warnings)
    assert kept.manual_assignments == kept.plan.height  # every named account stays by hand
    assert (kept.named_locked, loose.named_locked) == (kept.plan.height, 0)


def test_cli_says_what_lock_named_kept(demo: Workspace, db_url: str) -> None:
    """The summary counts the named accounts --lock-named kept; a parent without any gets
    a warning instead of silence."""
    demo.close()
    args = ["--database", db_url, "carve", BASE, "--territories", "2", "--balance", "accounts",
            "--tolerance", "0.5", "--lock-named"]  # fmt: skip
    out = CliRunner().invoke(app, [*args, "--parent", "Strategic_Accounts", "--name", "Kept"])
    assert out.exit_code == 0, out.output
    # Every account under Strategic_Accounts is named: all are kept by hand.
    kept = re.search(r"([\d,]+) named accounts assigned by hand, outside the postal rules "
                     r"\(--lock-named\)\.", out.stdout)  # fmt: skip
    assert kept is not None, out.stdout
    assert f"0 accounts are assigned by the carved postal rules, {kept[1]} by hand." in out.stdout
    out = CliRunner().invoke(app, [*args, "--parent", "NA_West_Commercial", "--name", "None"])
    assert out.exit_code == 0, out.output
    assert "Warning: --lock-named found no named accounts" in out.stderr
    assert "NA_West_Commercial: it changed nothing." in out.stderr
    assert "(--lock-named)" not in out.stdout


def _places_by_rule(ws: Workspace, run: pl.DataFrame) -> pl.DataFrame:
    """The US accounts the carved rules assign (their postal code's territory is theirs),
    with their ZIP5, place and territory."""
    with ws.session() as session:
        rows = session.execute(
            select(Account.pk, Account.billing_country_code, Account.billing_postal_code,
                   Account.latitude, Account.longitude)
        ).all()  # fmt: skip
    columns = ["account_pk", "country", "postal", "latitude", "longitude"]
    accounts = pl.DataFrame(rows, schema=columns, orient="row")
    return (
        run.filter(pl.col("cause") == "rule")
        .join(accounts, on="account_pk")
        .filter(pl.col("country").str.to_uppercase() == "US")
        .with_columns(zip5=pl.col("postal").str.strip_chars().str.slice(0, 5))
        .with_columns(zip4=pl.col("zip5").str.slice(0, 4), zip3=pl.col("zip5").str.slice(0, 3))
    )


def _in_scope_zip3(ws: Workspace, result: CarveResult) -> pl.Series:
    """The ZIP3s of every carved account (any country)."""
    with ws.session() as session:
        rows = session.execute(select(Account.id, Account.billing_postal_code)).all()
    postal = pl.DataFrame(rows, schema=["account_id", "postal"], orient="row")
    planned = result.plan.join(postal, on="account_id")
    return planned["postal"].str.strip_chars().str.slice(0, 3).drop_nulls().unique()


def _km(lat: float, lon: float, lats: pl.Series, lons: pl.Series) -> np.ndarray:
    """Great-circle distances (km) from one place to many."""
    p1, p2 = np.radians(lat), np.radians(lats.to_numpy())
    dp, dl = p2 - p1, np.radians(lons.to_numpy() - lon)
    a = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return np.asarray(2 * 6371.0 * np.arcsin(np.sqrt(a)))


def _empty_zip_in_split_area(places: pl.DataFrame) -> tuple[str, str]:
    """A known ZIP5 without carved accounts whose ZIP4 holds accounts of several
    territories (so no carved prefix covered it before), and the territory of the accounts
    nearest to it in its ZIP3 (in its ZIP4), clearly nearer than any other territory's."""
    zips = us_zip_table().filter(pl.col("lat").is_not_null())
    split = (
        places.group_by("zip4")
        .agg(pl.col("territory").n_unique().alias("n"))
        .filter(pl.col("n") > 1)
    )
    empty = zips.filter(
        pl.col("zip_code").str.slice(0, 4).is_in(split["zip4"].implode()),
        ~pl.col("zip_code").is_in(places["zip5"].implode()),
    )
    for code, lat, lon in empty.select("zip_code", "lat", "long").iter_rows():
        area = places.filter(pl.col("zip3") == code[:3])
        far = _km(lat, lon, area["latitude"], area["longitude"])
        nearest = area["territory"][int(far.argmin())]
        others = far[(area["territory"] != nearest).to_numpy()]
        same_zip4 = area["zip4"][int(far.argmin())] == code[:4]
        if same_zip4 and others.size and others.min() > far.min() + 1.0:
            return code, nearest
    raise AssertionError("the demo has no empty ZIP5 in a split ZIP4")


@pytest.mark.parametrize("rebalance", [False, True], ids=["scratch", "rebalance"])
def test_new_account_in_empty_zip_of_split_area_lands_nearest(
    demo: Workspace, rebalance: bool
) -> None:
    """A ZIP5 with no account at carve time, where its ZIP3 is split between territories,
    goes by rule to the territory whose accounts are nearest."""
    options = dict(territories=None if rebalance else 4, rebalance=rebalance)
    result = carve_model(
        demo, BASE, parent="NA_West", name="Fill", potential=POTENTIAL, workload=WORKLOAD,
        tolerance=TOLERANCE, lock_named=True, seed=7, **options,  # type: ignore[arg-type]
    )  # fmt: skip
    run_rules(demo, "Fill")
    run = _assert_run_matches_plan(demo, "Fill", result)  # existing accounts as planned
    names = {t.developer_name for t in result.territories}
    places = _places_by_rule(demo, run)
    code, nearest = _empty_zip_in_split_area(places)
    saved = save_account(
        demo, "001NEWINSPLIT001", {"name": "Newco", "billing_country_code": "US",
                                   "billing_postal_code": code},
        models=["Fill"],
    )  # fmt: skip
    assert [t for t in saved.territories["Fill"] if t in names] == [nearest]


# New commercial accounts at ZIP codes where no account was (Washoe Valley NV, Jackson WY,
# eastern Oregon, southeast Alaska, Pagosa Springs CO): the base model's state rules took them.
NEW_WEST_ZIPS = ["89704", "83001", "97911", "97918", "99827", "99901", "81147"]


def _new_account(
    ws: Workspace, key: str, zip5: str, model: str, *, state: bool = True
) -> list[str]:
    """Save a commercial US account at ``zip5`` (in its state, unless ``state`` is false);
    the territories ``model`` gives it."""
    values = {"name": f"New {key}", "billing_country_code": "US", "billing_postal_code": zip5,
              "annual_revenue": 2_000_000}  # fmt: skip
    if state:
        values["billing_state_code"] = us_zip_table().filter(pl.col("zip_code") == zip5)["state"][0]
    return save_account(ws, f"001NEW{key}", values, models=[model]).territories[model]


def test_new_accounts_in_carved_states_land_by_rule(demo: Workspace) -> None:
    """ZIP3 areas without carved accounts in the states the carve covers are claimed whole
    by the nearest carved territory, so new accounts there land as they did in the base
    model, and the carved accounts are still assigned exactly as planned."""
    result = carve_model(demo, BASE, parent="NA_West_Commercial", name="Cut", territories=8, seed=7)
    run_rules(demo, "Cut")
    _assert_run_matches_plan(demo, "Cut", result)
    assert not any("ZIP3" in w for w in result.warnings)
    names = {t.developer_name for t in result.territories}
    for zip5 in NEW_WEST_ZIPS:
        assert _new_account(demo, zip5, zip5, BASE)  # the base model's state rules
        landed = [t for t in _new_account(demo, zip5, zip5, "Cut") if t in names]
        assert len(landed) == 1, zip5
    carved = _in_scope_zip3(demo, result)
    with demo.session() as session:
        values = session.scalars(
            select(RuleItemRow.value)
            .join(RuleRow, RuleRow.pk == RuleItemRow.rule_pk)
            .where(RuleRow.developer_name.like("%_Carve"), RuleItemRow.field.like("%PostalCode"))
        ).all()
    prefixes = {p for v in values for p in v.split(",")}
    new_areas = {z[:3] for z in NEW_WEST_ZIPS} - set(carved)
    assert new_areas and new_areas <= prefixes  # each one whole, as one 3-digit prefix


def test_zip3_held_by_another_region_stays_unclaimed_and_is_reported(demo: Workspace) -> None:
    """A ZIP3 of a carved state where a commercial account sits in another region's
    territory is left to that territory, and the carve warns, naming it; another empty
    ZIP3 of the same state is claimed."""
    with demo.session() as session:
        postal = session.scalars(select(Account.billing_postal_code)).all()
    taken = {p.strip()[:3] for p in postal if p}
    nevada = us_zip_table().filter(
        pl.col("state") == "NV",
        pl.col("lat").is_not_null(),
        ~pl.col("zip_code").str.slice(0, 3).is_in(list(taken)),
    )
    held_zip = nevada["zip_code"][0]
    free_zip = nevada.filter(pl.col("zip_code").str.slice(0, 3) != held_zip[:3])["zip_code"][0]
    _new_account(demo, "HELD", held_zip, BASE, state=False)  # no state: no state rule
    assign_account(demo, BASE, "001NEWHELD", "Great_Lakes")
    result = carve_model(demo, BASE, parent="NA_West_Commercial", name="Cut", territories=8, seed=7)
    run_rules(demo, "Cut")
    names = {t.developer_name for t in result.territories}
    (warning,) = [w for w in result.warnings if "ZIP3" in w]
    assert warning.startswith("1 US ZIP3 area in the carved states")
    assert f"{held_zip[:3]} (NV: 1 account in Great_Lakes)" in warning
    assert not set(_new_account(demo, "LATER", held_zip, "Cut")) & names
    assert len(set(_new_account(demo, "FREE", free_zip, "Cut")) & names) == 1


def _models(ws: Workspace) -> list[str]:
    return [m.developer_name for m in list_models(ws)]


@pytest.mark.parametrize("failure", [RuntimeError, KeyboardInterrupt])
def test_failure_after_the_clone_leaves_no_model(
    demo: Workspace, monkeypatch: pytest.MonkeyPatch, failure: type[BaseException]
) -> None:
    """The clone and the carve are one transaction: a failure (or Ctrl-C) while writing the
    carved territories leaves no half-made model, and the same command then succeeds."""
    before = _models(demo)

    def broken(*args: object, **kwargs: object) -> None:
        raise failure("interrupted while writing")

    monkeypatch.setattr(carve_service, "write_rules_and_assignments", broken)
    options = dict(parent="NA_West", territories=3, balance=["accounts"], tolerance=0.5, seed=1)
    with pytest.raises(failure):
        carve_model(demo, BASE, name="Half", **options)  # type: ignore[arg-type]
    assert _models(demo) == before
    monkeypatch.undo()
    carve_model(demo, BASE, name="Half", **options)  # type: ignore[arg-type]
    assert _models(demo) == [*before, "Half"]


def test_carve_refuses_a_model_never_run(demo: Workspace) -> None:
    """A clone (or a carved model) has no rule assignments until it is run: carving it
    would see only the accounts assigned by hand."""
    clone_model(demo, BASE, "Unrun Clone")
    for options in ({"territories": 3}, {"rebalance": True}):
        with pytest.raises(Conflict) as info:
            carve_model(demo, "Unrun_Clone", parent="NA_West", name="X", **options)  # type: ignore[arg-type]
        assert "'Unrun_Clone' has never been run" in str(info.value)
        assert "'territorial run Unrun_Clone', then carve again" in str(info.value)
    carved = carve_model(demo, BASE, parent="NA_West", name="Carved", territories=3,
                         balance=["accounts"], tolerance=0.5, seed=1)  # fmt: skip
    with pytest.raises(Conflict, match="'territorial run Carved'"):
        carve_model(demo, "Carved", parent="NA_West", name="Again", rebalance=True)
    run_rules(demo, "Carved")
    again = carve_model(demo, "Carved", parent="NA_West", name="Again", rebalance=True,
                        balance=["accounts"], tolerance=0.5, seed=1)  # fmt: skip
    assert again.plan.height >= carved.plan.height  # every account, not only the manual ones


def test_taken_model_name_is_refused_before_carving(
    demo: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    def not_reached(*args: object, **kwargs: object) -> None:
        raise AssertionError("the carve was computed")

    monkeypatch.setattr(carve_service, "carve", not_reached)
    options = dict(parent="NA_West", territories=3)
    with pytest.raises(Conflict) as info:
        carve_model(demo, BASE, name="FY2027 Territories", **options)  # type: ignore[arg-type]
    assert "'FY2027_Territories' already exists" in str(info.value)
    assert "Choose another name or pass --developer-name" in str(info.value)
    with pytest.raises(Conflict) as info:
        carve_model(demo, BASE, name="New", developer_name="fy2027_territories", **options)  # type: ignore[arg-type]
    assert "Choose another developer name (--developer-name)." in str(info.value)
    assert "or pass --developer-name" not in str(info.value)


def test_rebalance_refuses_fewer_territories_than_it_keeps(demo: Workspace) -> None:
    with pytest.raises(ValidationError) as info:
        carve_model(demo, BASE, parent="NA_West_Commercial", name="Fewer", rebalance=True,
                    territories=4)  # fmt: skip
    assert "--rebalance keeps the 6 current territories under 'NA_West_Commercial'" in str(
        info.value
    )
    assert "at least 6, not 4" in str(info.value) and "without --rebalance" in str(info.value)
    assert "Fewer" not in _models(demo)


def test_territories_without_owner_are_named_and_the_audit_reproduces_the_carve(
    demo: Workspace,
) -> None:
    """Carving 8 territories from 6 leaves leaves some without a Territory Owner: the
    warning names exactly those. The audit entry holds every option that shaped the plan,
    so the same carve can be made again from it."""
    result = carve_model(
        demo, BASE, parent="NA_West_Commercial", name="Eight", territories=8, seed=4,
        balance=["potential", "accounts"], tolerance={"potential": 0.2, "accounts": 0.3},
        potential=POTENTIAL, workload=WORKLOAD, lock_named=True, keep=0.5, max_distance=6000,
    )  # fmt: skip
    owned = {t for ts in _owners_of(demo, "Eight").values() for t in ts}
    vacant = [t.developer_name for t in result.territories if t.developer_name not in owned]
    assert vacant
    warning = next(w for w in result.warnings if "no Territory Owner" in w)
    assert f"({', '.join(vacant)})" in warning
    assert f"'territorial user assign Eight USER {vacant[0]} --role \"Territory Owner\"'" in (
        warning
    )
    entry = next(e for e in audit_log(demo, model="Eight") if e.action == "model.carve")
    options = dict(entry.after or {})
    options.pop("reps")
    listed = options.pop("reps_listed")
    assert listed is None
    base, parent = options.pop("base"), options.pop("parent")
    again = carve_model(demo, base, parent=parent, name="Eight again", **options)
    assert again.plan["territory"].to_list() == result.plan["territory"].to_list()
    reps = _west_owners(demo)[:2]
    carve_model(
        demo, BASE, parent="NA_West", name="Two", reps=[Rep(reps[0], capacity=2), Rep(reps[1])],
        balance=["accounts"], tolerance=0.5, seed=1,
    )  # fmt: skip
    entry = next(e for e in audit_log(demo, model="Two") if e.action == "model.carve")
    assert entry.after is not None and entry.after["reps_listed"] == [
        {"user": reps[0], "home_latitude": None, "home_longitude": None, "capacity": 2},
        {"user": reps[1], "home_latitude": None, "home_longitude": None, "capacity": None},
    ]


def _carve_cli(db_url: str, name: str, *extra: str) -> object:
    return CliRunner().invoke(
        app,
        ["--database", db_url, "carve", BASE, "--parent", "NA_West", "--territories", "3",
         "--balance", "accounts", "--tolerance", "0.5", "--name", name, *extra],
    )  # fmt: skip


def test_cli_checks_output_paths_before_carving(
    demo: Workspace, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A --map, --chart or --plan path that cannot be written is refused before anything
    is computed; a file that fails to write later leaves neither the model nor any file."""
    demo.close()
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    file = out_dir / "x.db"
    file.write_text("")
    cases = {
        ("--map", str(file / "m.png")): f"--map {file / 'm.png'}: {file} is not a folder",
        ("--chart", str(out_dir / "none" / "c.png")): (
            f"folder {out_dir / 'none'} does not exist. Create the folder first"
        ),
        ("--plan", str(out_dir / "none" / "p.csv")): "Cannot write --plan",
    }  # fmt: skip
    for option, text in cases.items():
        out = _carve_cli(db_url, "Bad", *option)
        assert out.exit_code == 1 and text in " ".join(out.output.split()), out.output  # type: ignore[attr-defined]
    assert not (out_dir / "none").exists()

    def full_disk(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(carve_cli.maps, "save_map", full_disk)
    out = _carve_cli(db_url, "Full", "--map", str(out_dir / "m.png"),
                     "--plan", str(out_dir / "p.csv"))  # fmt: skip
    assert out.exit_code == 1  # type: ignore[attr-defined]
    assert "Cannot write --map" in out.output and "No space left on device" in out.output  # type: ignore[attr-defined]
    assert list(out_dir.iterdir()) == [file]  # no plan, no temporary file
    listed = CliRunner().invoke(app, ["--database", db_url, "--format", "csv", "model", "list"])
    assert "Bad" not in listed.output and "Full" not in listed.output


def test_carving_fewer_territories_counts_the_accounts_of_leaves_without_successor(
    demo: Workspace,
) -> None:
    """Re-carving a carved parent into fewer territories (names _01, _02 reused): the
    disruption is the share of accounts that the best one-to-one matching of old leaves to
    new territories cannot keep, not only the matched leaves' changes."""
    options = dict(parent="NA_West", balance=["accounts"], tolerance=0.5, seed=1)
    carve_model(demo, BASE, name="Four", territories=4, **options)  # type: ignore[arg-type]
    run_rules(demo, "Four")
    two = carve_model(demo, "Four", name="Two", territories=2, **options)  # type: ignore[arg-type]
    plan = two.plan.filter(pl.col("before").is_not_null())
    table = (
        plan.group_by("before", "territory")
        .len()
        .pivot(on="territory", index="before", values="len")
        .fill_null(0)
    )
    overlap = table.drop("before").to_numpy().astype(float)
    rows, cols = linear_sum_assignment(-overlap)
    kept = overlap[rows, cols].sum()
    assert two.quality.disruption["accounts"] == pytest.approx(1 - kept / two.plan.height)
    assert two.quality.disruption["accounts"] > 0.4  # four leaves into two: half must move


def test_carved_leaves_sharing_no_segment_rule_warn_of_overlaps(demo: Workspace) -> None:
    """A leaf added by hand with only a state rule leaves the carved territories no shared
    segment rule: the carve warns that their postal rules take accounts of another
    segment's territories of the same type, as many as the run then finds twice."""
    clone_model(demo, BASE, "Plan")
    add_territory(demo, "Plan", "Desert", parent="NA_West_Commercial", type="Geo")
    add_rule(demo, "Plan", "Desert states", items=["BillingStateCode equals AZ,NM,NV"])
    attach_rule(demo, "Plan", "Desert_states", "Desert")
    run_rules(demo, "Plan")
    result = carve_model(demo, "Plan", parent="NA_West_Commercial", name="Cut", territories=3,
                         balance=["accounts"], tolerance=0.5, seed=1)  # fmt: skip
    (warning,) = [w for w in result.warnings if "territories of the same type outside" in w]
    count = int(re.match(r"([\d,]+) accounts", warning).group(1).replace(",", ""))  # type: ignore[union-attr]
    assert count > 0 and "West_Ent_" in warning
    run_rules(demo, "Cut")
    names = {t.developer_name for t in result.territories}
    twice = multi_territory_accounts(demo, model="Cut").filter(
        pl.col("detail").str.contains("|".join(names)) & pl.col("detail").str.contains("West_Ent_")
    )
    assert twice.height == count
    # With the segment's rules shared (the demo's own leaves), no such warning.
    plain = carve_model(demo, BASE, parent="NA_West_Commercial", name="Plain", territories=3,
                        balance=["accounts"], tolerance=0.5, seed=1)  # fmt: skip
    assert not [w for w in plain.warnings if "territories of the same type outside" in w]


def test_a_planners_exclusion_under_the_parent_survives_the_carve(demo: Workspace) -> None:
    """An account the planner moved to a named territory and excluded from its geographic
    one stays out of the carved territory that now covers its postal code."""
    clone_model(demo, BASE, "Plan")
    run_rules(demo, "Plan")
    with demo.session() as session:
        model = lookup.model(session, "Plan")
        south = lookup.territory(session, model, "CA_South").pk
        pk = frames.load_assignments(session, model.pk, territory_pks=[south])["account_pk"][0]
        account = session.get(Account, int(pk))
        assert account is not None
        account_id = account.id
    assign_account(demo, "Plan", account_id, "Named_NA")
    exclude_account(demo, "Plan", account_id, "CA_South")
    run_rules(demo, "Plan")
    result = carve_model(demo, "Plan", parent="NA_West_Commercial", name="Cut", territories=3,
                         balance=["accounts"], tolerance=0.5, seed=1)  # fmt: skip
    assert any("1 account outside the carve that was excluded" in w for w in result.warnings)
    run_rules(demo, "Cut")
    carved = _assignments(demo, "Cut", [t.developer_name for t in result.territories])
    assert int(pk) not in carved["account_pk"].to_list()


def test_cli_refuses_two_outputs_in_one_file(demo: Workspace, db_url: str, tmp_path: Path) -> None:
    """--chart, --map and --plan naming the same file (the second measure's chart included)
    are refused before anything is written."""
    demo.close()
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    chart, same = out_dir / "c.png", ("--chart", "--map")
    cases = [
        ("--chart", str(chart), "--map", str(chart)),
        ("--balance", "accounts,workload", "--chart", str(chart),
         "--map", str(out_dir / "c-workload.png")),
    ]  # fmt: skip
    for extra in cases:
        out = _carve_cli(db_url, "Twice", *extra)
        text = " ".join(out.output.split())  # type: ignore[attr-defined]
        assert out.exit_code == 1 and f"{same[0]} and {same[1]} would both write" in text, text  # type: ignore[attr-defined]
    assert list(out_dir.iterdir()) == []
    listed = CliRunner().invoke(app, ["--database", db_url, "--format", "csv", "model", "list"])
    assert "Twice" not in listed.output


def test_the_guides_first_example_carves_one_branch(
    demo: Workspace, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """docs/carving.md opens with a carve that runs as written, without the warning about
    leaves under several branches (that case is explained where the warning is)."""
    demo.close()
    guide = (Path(__file__).resolve().parents[1] / "docs" / "carving.md").read_text()
    block = guide.split("```\n", 2)[1]
    command = block.split("\nterritorial run")[0].replace("\\\n", " ")
    argv = shlex.split(command)
    assert argv[:2] == ["territorial", "carve"]
    monkeypatch.chdir(tmp_path)  # the example writes its chart and map here
    out = CliRunner().invoke(app, ["--database", db_url, *argv[1:]])
    assert out.exit_code == 0, out.output
    assert "branches" not in out.stderr
    assert "Wrote planning model FY28_West" in out.stdout
    # The case of NA_West, two segments, is shown where the guide explains the warning.
    warning = guide.index("Warning: The leaves under NA_West sit under 2 branches")
    example = guide[guide.rindex("```console", 0, warning) : warning]
    assert "carve FY2027_Territories --parent NA_West --territories 8" in example
