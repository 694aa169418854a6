"""Reports on a hand-built organisation: every expected number computed by hand below.

Base: NA > East, West. Revenue: 001A 10, 001B 20, 001C 5. 001A in NA and West (manual),
001B in East, 001C nowhere. Ana is AE on West, Bo Manager on NA. Opportunities (as of
2026-06-30): 006A 001A/West open 100 at 50 %, close 2026-08-01; 006B 001B/East open 200 at
10 %, close 2026-11-15; 006C 001A/West won 300 on 2026-03-01; 006D 001A/West won 400 on
2025-05-01 (more than 12 months before).
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import polars as pl
import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from territorial.errors import FormulaError
from territorial.services import assignments, hierarchy, lookup, models, reports, rules, runs
from territorial.services.workspace import Workspace
from territorial.store.schema import (
    Account,
    AccountAssignmentRow,
    Opportunity,
    OpportunityTerritoryRow,
    RuleRow,
    TerritoryRow,
)

AS_OF = date(2026, 6, 30)


def build(org: Workspace) -> Workspace:
    for account, territory in [("001A", "NA"), ("001A", "West"), ("001B", "East")]:
        assignments.assign_account(org, "Base", account, territory)
    assignments.assign_user(org, "Base", "005A", "West", role="Account Executive")
    assignments.assign_user(org, "Base", "005B", "NA", role="Manager")
    with org.session() as s:
        accounts = {a.id: a for a in s.scalars(select(Account))}
        for key, revenue in [("001A", 10.0), ("001B", 20.0), ("001C", 5.0)]:
            accounts[key].annual_revenue = revenue
        model = lookup.model(s, "Base")
        terr = {t.developer_name: t.pk for t in s.scalars(select(TerritoryRow))}
        deals = [
            ("006A", "001A", "West", 100.0, 50.0, date(2026, 8, 1), False, False),
            ("006B", "001B", "East", 200.0, 10.0, date(2026, 11, 15), False, False),
            ("006C", "001A", "West", 300.0, 100.0, date(2026, 3, 1), True, True),
            ("006D", "001A", "West", 400.0, 100.0, date(2025, 5, 1), True, True),
        ]
        for oid, acc, where, amount, prob, close, closed, won in deals:
            opp = Opportunity(
                id=oid,
                account_pk=accounts[acc].pk,
                name=oid,
                amount=amount,
                probability=prob,
                close_date=close,
                is_closed=closed,
                is_won=won,
            )
            s.add(opp)
            s.flush()
            s.add(
                OpportunityTerritoryRow(
                    model_pk=model.pk, opportunity_pk=opp.pk, territory_pk=terr[where]
                )
            )
    return org


@pytest.fixture
def base(org: Workspace) -> Workspace:
    return build(org)


def test_summary_rolls_up_distinct_accounts_and_opportunities(base: Workspace) -> None:
    frame = reports.territory_summary(base, "Base", as_of=AS_OF)
    rows = {r["territory"]: r for r in frame.to_dicts()}
    assert frame["territory"].to_list() == ["NA", "East", "West"]
    na, east, west = rows["NA"], rows["East"], rows["West"]
    assert (na["accounts"], na["accounts_subtree"]) == (1, 2)  # 001A counted once
    assert (na["potential"], na["potential_subtree"]) == (10.0, 30.0)
    assert (na["pipeline"], na["pipeline_subtree"]) == (0.0, 300.0)
    assert na["weighted_subtree"] == pytest.approx(70.0)
    assert na["won_12m_subtree"] == 300.0
    assert (na["users"], na["users_subtree"], na["roles"]) == (1, 2, "Manager: Bo Chen")
    assert (west["pipeline"], west["weighted"], west["won_12m"]) == (100.0, 50.0, 300.0)
    assert (east["accounts"], east["potential"], east["weighted"], east["users"]) == (
        1, 20.0, 20.0, 0,
    )  # fmt: skip
    assert (east["parent"], east["depth"]) == ("NA", 1)


def test_summary_table_shows_subtree_figures_as_its_title_says(
    base: Workspace, db_url: str
) -> None:
    from territorial.cli.app import app

    out = CliRunner().invoke(app, ["--database", db_url, "report", "summary", "-m", "Base"])
    assert out.exit_code == 0, out.output
    lines = out.stdout.splitlines()
    assert lines[0].startswith("Territory summary: subtree totals")
    header = next(line for line in lines if "territory" in line and "users" in line)
    columns = [c.strip() for c in header.split("┃")[1:-1]]
    na = next(line for line in lines if line.startswith("│ NA "))
    row = dict(zip(columns, (c.strip() for c in na.split("│")[1:-1]), strict=True))
    # NA holds 001A itself and Bo; West below it has 001A again, East 001B, and Ana.
    assert (row["accounts"], row["own_accounts"], row["users"]) == ("2", "1", "2")
    assert (row["potential"], row["pipeline"]) == ("30", "300")


def test_closed_won_window_follows_as_of(base: Workspace) -> None:
    frame = reports.territory_summary(base, "Base", as_of=date(2026, 4, 30))
    west = frame.filter(pl.col("territory") == "West").row(0, named=True)
    assert west["won_12m"] == 700.0  # 006D (2025-05-01) is inside the year to 2026-04-30


def test_unassigned_multi_users_empty(base: Workspace) -> None:
    assert reports.unassigned_accounts(base, "Base")["account"].to_list() == ["001C"]
    multi = reports.multi_territory_accounts(base, "Base")
    assert multi.rows() == [("001A", "Acme", 2, "NA (manual); West (manual)")]
    users = reports.users_report(base, "Base")
    assert users.select("territory", "user", "role").rows() == [
        ("NA", "005B", "Manager"),
        ("West", "005A", "Account Executive"),
    ]
    assert reports.empty_territories(base, "Base")["territory"].to_list() == ["East"]


def test_users_without_territories_are_listed(org: Workspace) -> None:
    users = reports.users_report(org, "Base")
    assert users.filter(pl.col("territory").is_null())["user"].to_list() == ["005A", "005B"]


def test_counts_read_in_the_singular_for_one(org: Workspace, db_url: str) -> None:
    from territorial.cli.app import app

    assignments.assign_user(org, "Base", "005A", "West", role="Account Executive")
    out = CliRunner().invoke(app, ["--database", db_url, "report", "users", "-m", "Base"])
    assert out.exit_code == 0, out.output
    assert "1 user holds no territory in this model." in out.stderr


def test_revenue_by_quarter(base: Workspace) -> None:
    frame = reports.revenue_report(base, "Base")
    assert frame.columns == [
        "territory", "name", "opportunities", "pipeline", "expected", "2026-Q3", "2026-Q4",
    ]  # fmt: skip
    assert frame.rows() == [
        ("East", "East", 1, 200.0, 20.0, 0.0, 20.0),
        ("West", "West", 1, 100.0, 50.0, 50.0, 0.0),
    ]


def test_balance_of_siblings_and_users(base: Workspace) -> None:
    result = reports.balance_report(base, "Base", parent="NA")
    assert result.units.select("unit", "value").rows() == [("East", 20.0), ("West", 10.0)]
    # mean 15, deviations ±1/3, CV 5/15, Gini |20-10|·2 / (2·4·15)
    assert result.stats.mean == 15.0
    assert result.stats.cv == pytest.approx(1 / 3)
    assert result.stats.gini == pytest.approx(1 / 6)
    assert result.stats.within_15 == 0.0
    assert result.lorenz["value_share"].to_list() == pytest.approx([0.0, 1 / 3, 1.0])
    by_users = reports.balance_report(base, "Base", level="users", measure="pipeline")
    assert by_users.units.select("unit", "value").rows() == [("005A", 100.0)]  # not Bo
    managers = reports.balance_report(base, "Base", level="users", roles="manager")
    assert managers.units.select("unit", "value").rows() == [("005B", 30.0)]
    leaves = reports.balance_report(base, "Base", level="leaves", measure="accounts")
    assert leaves.units["value"].to_list() == [1.0, 1.0]


def test_cli_reports(base: Workspace, db_url: str, tmp_path: Path) -> None:
    from territorial.cli.app import app

    runner = CliRunner()
    args = ["--database", db_url]
    out = runner.invoke(app, [*args, "--format", "csv", "report", "summary", "-m", "Base"])
    assert out.exit_code == 0, out.output
    assert out.output.splitlines()[0].startswith("territory,name,parent,depth,accounts")
    chart, lorenz = tmp_path / "b.svg", tmp_path / "l.png"
    out = runner.invoke(
        app,
        [*args, "report", "balance", "-m", "Base", "--parent", "NA", "--chart", str(chart),
         "--lorenz", str(lorenz)],
    )  # fmt: skip
    assert out.exit_code == 0, out.output
    assert chart.read_text().startswith("<?xml") and lorenz.read_bytes()[:4] == b"\x89PNG"
    target = tmp_path / "multi.parquet"
    out = runner.invoke(app, [*args, "report", "multi", "-m", "Base", "-o", str(target)])
    assert out.exit_code == 0 and pl.read_parquet(target).height == 1
    out = runner.invoke(app, [*args, "--format", "json", "report", "balance", "-m", "Base"])
    assert '"gini"' in out.output


def test_balance_chart_reads_as_people_talk(base: Workspace, db_url: str, tmp_path: Path) -> None:
    from territorial.cli.app import app

    chart = tmp_path / "users.svg"
    args = ["--database", db_url, "report", "balance", "-m", "Base", "--level", "users"]
    out = CliRunner().invoke(app, [*args, "--chart", str(chart)])
    assert out.exit_code == 0, out.output
    assert out.stdout.startswith("annual_revenue per user (Base)")
    svg = chart.read_text()
    assert "annual_revenue per user (Base)" in svg and "(top level)" not in svg
    assert "Ana Lima" in svg and "005A" not in svg  # bars named after people, not ids
    by_parent = reports.balance_report(base, "Base", parent="NA", measure="pipeline")
    assert by_parent.title == "open pipeline per child of NA (Base)"
    assert by_parent.labels == ["East", "West"]


def test_demo_organisation_reports_agree(ws: Workspace) -> None:
    from territorial.services.demo import load_demo

    load_demo(ws, accounts=600, seed=3)
    summary = reports.territory_summary(ws)
    unassigned = reports.unassigned_accounts(ws)
    roots = summary.filter(pl.col("depth") == 0)
    assert roots["accounts_subtree"].sum() >= 600 - unassigned.height
    assert (summary["accounts_subtree"] >= summary["accounts"]).all()
    assert summary["pipeline_subtree"].sum() > 0
    balance = reports.balance_report(ws, level="users", measure="accounts")
    assert 0 <= balance.stats.gini < 1 and balance.units.height > 10


def _overlapping_rules(org: Workspace, model: str, attach: list[tuple[str, str]]) -> None:
    """Rules created in this order, so US_Accounts has the lowest pk: recording the lowest
    pk would name it for every territory that has it. Acme (001A) is a US public-sector account in
    CA, Globex (001B) a US account in OR."""
    items = {
        "US_Accounts": "BillingCountryCode equals US",
        "West_Carve": "BillingStateCode equals CA",
        "Pacific": "BillingStateCode equals CA,OR",
        "East_Carve": "BillingStateCode equals NY",
        "Gov_Rule": "Industry equals Government",
    }
    for name, item in items.items():
        rules.add_rule(org, model, name, items=[item])
    for rule, territory in attach:
        rules.attach_rule(org, model, rule, territory)
    with org.session() as s:
        accounts = {a.id: a for a in s.scalars(select(Account))}
        accounts["001A"].billing_country_code = "US"
        accounts["001A"].industry = "Government"
        accounts["001B"].billing_country_code = "US"
        accounts["001B"].billing_state_code = "OR"


def _stored_rule(org: Workspace, model: str, account: str, territory: str) -> str | None:
    with org.session() as s:
        row = lookup.model(s, model)
        return s.scalar(
            select(RuleRow.developer_name)
            .join(AccountAssignmentRow, AccountAssignmentRow.rule_pk == RuleRow.pk)
            .join(Account, Account.pk == AccountAssignmentRow.account_pk)
            .where(
                AccountAssignmentRow.model_pk == row.pk,
                AccountAssignmentRow.territory_pk == lookup.territory(s, row, territory).pk,
                Account.id == account,
            )
        )


def test_multi_names_the_rule_that_sets_each_territory_apart(org: Workspace) -> None:
    # NA > West (US_Accounts AND West_Carve), East (US_Accounts AND East_Carve); Gov
    # (US_Accounts AND Gov_Rule) and Named at the top level. Acme is in West and Gov by
    # rule, and in Named by hand.
    hierarchy.add_territory(org, "Base", "Public Sector", developer_name="Gov", type="Overlay")
    hierarchy.add_territory(org, "Base", "Named", type="Overlay")
    _overlapping_rules(
        org,
        "Base",
        [("US_Accounts", "West"), ("West_Carve", "West"), ("US_Accounts", "East"),
         ("East_Carve", "East"), ("US_Accounts", "Gov"), ("Gov_Rule", "Gov")],
    )  # fmt: skip
    assignments.assign_account(org, "Base", "001A", "Named")
    runs.run_rules(org, "Base")
    assert _stored_rule(org, "Base", "001A", "West") == "West_Carve"  # what the run keeps
    # Both of Gov's rules set it apart; its own (Gov_Rule) is the more specific.
    assert _stored_rule(org, "Base", "001A", "Gov") == "Gov_Rule"
    multi = reports.multi_territory_accounts(org, "Base")
    # West: East shares US_Accounts, so West_Carve sets it apart. Gov: its siblings (NA,
    # Named) have no rules, so both its rules do, and both are named.
    assert multi.rows() == [
        ("001A", "Acme", 3,
         "Gov (rules Gov_Rule + US_Accounts); Named (manual); West (rule West_Carve)"),
    ]  # fmt: skip


def test_multi_names_the_rules_an_account_matched_when_any_rule_will_do(org: Workspace) -> None:
    # Any rule assigns: both US accounts land in West and East through US_Accounts.
    models.create_model(org, "Any", rule_combination="any")
    hierarchy.add_territory(org, "Any", "West", type="Geo")
    hierarchy.add_territory(org, "Any", "East", type="Geo")
    _overlapping_rules(
        org,
        "Any",
        [("US_Accounts", "West"), ("West_Carve", "West"), ("Pacific", "West"),
         ("US_Accounts", "East"), ("East_Carve", "East")],
    )  # fmt: skip
    runs.run_rules(org, "Any")
    detail = dict(reports.multi_territory_accounts(org, "Any").select("account", "detail").rows())
    assert detail == {
        # Acme (CA) matches both West_Carve and Pacific, which East lacks: no single rule
        # sets West apart, so every rule it matched is named.
        "001A": "East (rule US_Accounts); West (rules Pacific + US_Accounts + West_Carve)",
        # Globex (OR) matches Pacific but not West_Carve.
        "001B": "East (rule US_Accounts); West (rule Pacific)",
    }


def test_balance_of_a_formula_as_carve_writes_it(base: Workspace) -> None:
    # Revenue: 001A 10 (West), 001B 20 (East).
    result = reports.balance_report(base, "Base", parent="NA", measure="1 + annual_revenue / 10")
    assert result.units.select("unit", "value").rows() == [("East", 3.0), ("West", 2.0)]
    assert result.title == "(1 + annual_revenue / 10) per child of NA (Base)"
    # Field names in any spelling the catalog accepts, in a formula or alone.
    for measure in ("sqrt(AnnualRevenue)", "Account.AnnualRevenue"):
        units = reports.balance_report(base, "Base", parent="NA", measure=measure).units
        expected = [20.0**0.5, 10.0**0.5] if "sqrt" in measure else [20.0, 10.0]
        assert units["value"].to_list() == pytest.approx(expected)


@pytest.mark.parametrize(
    ("measure", "message"),
    [
        ("1 +* annual_revenue", "Formula '1 +* annual_revenue', at character 4 ('*'): invalid"),
        ("sqrt(annual_revenue", "at character 5 ('('): '(' was never closed."),
        ("1 + annual_revenu", "at character 5 ('a'): unknown field 'annual_revenu'. Did you mean"),
        ("industry / 2", "at character 1 ('i'): field 'industry' is a picklist, not a number."),
        ("annual_revenue > 5", "at character 1 ('a'): 'annual_revenue > 5' is not allowed."),
        ("median(annual_revenue)", "at character 1 ('m'): unknown function 'median'."),
    ],
)  # fmt: skip
def test_balance_formula_errors_say_what_and_where(
    base: Workspace, measure: str, message: str
) -> None:
    with pytest.raises(FormulaError) as caught:
        reports.balance_report(base, "Base", measure=measure)
    assert message in str(caught.value)


def test_cli_balance_of_a_workload_formula(base: Workspace, db_url: str) -> None:
    from territorial.cli.app import app

    args = ["--database", db_url, "report", "balance", "-m", "Base", "--parent", "NA"]
    out = CliRunner().invoke(app, [*args, "--measure", "1 + number_of_employees / 1000"])
    assert out.exit_code == 0, out.output
    assert out.stdout.startswith("(1 + number_of_employees / 1000) per child of NA (Base)")
    assert "mean 1," in out.stderr  # no employees recorded: 1 per account, a whole number
    out = CliRunner().invoke(app, [*args, "--measure", "1 + number_of_employes / 1000"])
    assert out.exit_code != 0
    assert "unknown field 'number_of_employes'" in out.output


def _table_rows(text: str) -> dict[str, list[str]]:
    """The cells of a printed table by their first cell."""
    rows = [
        [c.strip() for c in line.strip("│┃ ").split("│" if "│" in line else "┃")]
        for line in text.splitlines()
        if line.startswith(("│", "┃"))
    ]
    return {r[0]: r[1:] for r in rows}


def test_cli_balance_table_reads_as_percentages_and_files_keep_fractions(
    base: Workspace, db_url: str
) -> None:
    from territorial.cli.app import app

    args = ["report", "balance", "-m", "Base", "--parent", "NA"]
    out = CliRunner().invoke(app, ["--database", db_url, *args])
    assert out.exit_code == 0, out.output
    # Revenue East 20, West 10: shares 2/3 and 1/3, mean 15, deviations ±1/3.
    table = _table_rows(out.stdout)
    assert table["unit"] == ["name", "value", "share %", "deviation %", "within ±10 %"]
    assert table["East"][1:] == ["20", "66.7", "+33.3", "no"]
    assert table["West"][1:] == ["10", "33.3", "-33.3", "no"]
    assert "mean 15," in out.stderr
    # Amounts that are not whole keep two decimals.
    out = CliRunner().invoke(app, ["--database", db_url, *args, "--measure", "annual_revenue / 3"])
    assert _table_rows(out.stdout)["East"][1:3] == ["6.67", "66.7"]
    # CSV and JSON keep fractions and raw numbers for machines.
    out = CliRunner().invoke(app, ["--database", db_url, "--format", "csv", *args])
    header, east_row = out.stdout.splitlines()[:2]
    assert header == "unit,name,value,share,deviation,within_10"
    assert east_row == "East,East,20.0,0.666667,0.333333,false"  # 6 decimals, like files
    out = CliRunner().invoke(app, ["--database", db_url, "--format", "json", *args])
    east = json.loads(out.stdout)["units"][0]
    assert (east["share"], east["within_10"]) == (0.666667, False)


def test_balance_csv_on_stdout_is_the_csv_file(
    base: Workspace, db_url: str, tmp_path: Path
) -> None:
    from territorial.cli.app import app

    file = tmp_path / "balance.csv"
    args = ["--database", db_url, "--format", "csv", "report", "balance", "-m", "Base"]
    out = CliRunner().invoke(app, [*args, "--parent", "NA"])
    assert out.exit_code == 0, out.output
    written = CliRunner().invoke(app, [*args, "--parent", "NA", "-o", str(file)])
    assert written.exit_code == 0, written.output
    assert out.stdout == file.read_text(encoding="utf-8")


def _won(ws: Workspace, model: str) -> dict[str, float]:
    frame = reports.territory_summary(ws, model, as_of=AS_OF)
    return dict(zip(frame["territory"], frame["won_12m_subtree"], strict=True))


@pytest.fixture
def activated(base: Workspace) -> Workspace:
    """Base is live; Plan, its clone with 001A only in West (not also in NA, which ties
    with West on priority), is activated the usual way: open opportunities only."""
    models.activate_model(base, "Base")
    models.clone_model(base, "Base", "Plan")
    assignments.unassign_account(base, "Plan", "001A", "NA")
    models.activate_model(base, "Plan")
    return base


def test_closed_won_stays_visible_after_activation(activated: Workspace) -> None:
    assert _won(activated, "Plan") == {"NA": 300.0, "East": 0.0, "West": 300.0}
    balance = reports.balance_report(activated, "Plan", measure="won_12m", parent="NA", as_of=AS_OF)
    assert balance.units.select("unit", "value").rows() == [("East", 0.0), ("West", 300.0)]
    users = reports.balance_report(activated, "Plan", measure="won_12m", level="users", as_of=AS_OF)
    assert users.units.select("unit", "value").rows() == [("005A", 300.0)]
    # Attributed when reported, not written: the closed deals keep their old territory.
    with activated.session() as s:
        plan = lookup.model(s, "Plan")
        stored = select(OpportunityTerritoryRow.opportunity_pk).filter_by(model_pk=plan.pk)
        ids = set(s.scalars(select(Opportunity.id).filter(Opportunity.pk.in_(stored))))
    assert ids == {"006A", "006B"}


def test_a_closed_deal_own_territory_in_the_model_comes_first(activated: Workspace) -> None:
    with activated.session() as s:
        plan = lookup.model(s, "Plan")
        east = s.scalars(select(TerritoryRow).filter_by(model_pk=plan.pk, developer_name="East"))
        deal = s.scalars(select(Opportunity).filter_by(id="006C")).one()
        s.add(
            OpportunityTerritoryRow(
                model_pk=plan.pk, opportunity_pk=deal.pk, territory_pk=east.one().pk
            )
        )
    assert _won(activated, "Plan") == {"NA": 300.0, "East": 300.0, "West": 0.0}


def test_a_plan_shows_closed_won_history_before_it_is_run_for_opportunities(
    base: Workspace,
) -> None:
    models.clone_model(base, "Base", "Plan")
    assignments.unassign_account(base, "Plan", "001A", "NA")
    assert _won(base, "Plan") == {"NA": 300.0, "East": 0.0, "West": 300.0}
    # Where the account's territories tie on type priority, ETM's policy picks none.
    assert _won(base, "Base") == {"NA": 300.0, "East": 0.0, "West": 300.0}  # stored: West
    models.clone_model(base, "Base", "Tied")
    assert _won(base, "Tied") == {"NA": 0.0, "East": 0.0, "West": 0.0}
