"""Comparing two models and the manager packets, on a hand-built organisation.

Base: NA > East, West; 001A in NA and West, 001B in East, 001C nowhere (revenue 10, 20,
5). Ana (005A) is AE on West, Bo (005B) Manager on NA; 006B is an open 200 deal on 001B.
Plan (a clone): 001B moves East → West and 001C is assigned to West.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from territorial.errors import Conflict
from territorial.services import (
    assignments,
    hierarchy,
    imports,
    models,
    opportunities,
    rules,
    runs,
)
from territorial.services.compare import compare_models, write_comparison
from territorial.services.packets import write_packets
from territorial.services.workspace import Workspace
from territorial.store.schema import Account, Opportunity, SalesUser


def build(org: Workspace) -> Workspace:
    for account, territory in [("001A", "NA"), ("001A", "West"), ("001B", "East")]:
        assignments.assign_account(org, "Base", account, territory)
    assignments.assign_user(org, "Base", "005A", "West", role="Account Executive")
    assignments.assign_user(org, "Base", "005B", "NA", role="Manager")
    with org.session() as s:
        accounts = {a.id: a for a in s.scalars(select(Account))}
        for key, revenue in [("001A", 10.0), ("001B", 20.0), ("001C", 5.0)]:
            accounts[key].annual_revenue = revenue
        s.add(
            Opportunity(
                id="006B",
                account_pk=accounts["001B"].pk,
                name="Globex renewal",
                amount=200.0,
                probability=10.0,
                close_date=date(2026, 11, 15),
            )
        )
    models.clone_model(org, "Base", "Plan")
    assignments.unassign_account(org, "Plan", "001B", "East")
    assignments.assign_account(org, "Plan", "001B", "West")
    assignments.assign_account(org, "Plan", "001C", "West")
    return org


def test_compare_two_models(org: Workspace) -> None:
    result = compare_models(build(org), "Base", "Plan")
    accounts = result.tables()["accounts"]
    assert accounts.select("account", "change", "from", "to", "potential", "pipeline").rows() == [
        ("001B", "moved", "East", "West", 20.0, 200.0),
        ("001C", "assigned", None, "West", 5.0, 0.0),
    ]
    assert accounts["to_detail"].to_list() == ["West (manual)", "West (manual)"]
    territories = {r["territory"]: r for r in result.tables()["territories"].to_dicts()}
    east, west, na = territories["East"], territories["West"], territories["NA"]
    assert (east["accounts_before"], east["accounts_after"], east["lost"]) == (1, 0, 1)
    assert (east["potential_lost"], east["pipeline_lost"]) == (20.0, 200.0)
    assert (west["accounts_before"], west["accounts_after"], west["gained"]) == (1, 3, 2)
    assert (west["potential_gained"], west["pipeline_gained"]) == (25.0, 200.0)
    assert (na["gained"], na["lost"]) == (0, 0)  # its own accounts: 001A stays
    # NA's area (its subtree) gains 001C; 001B moves inside it.
    area = ("area_before", "area_after", "area_gained", "area_lost")
    assert tuple(na[c] for c in area) == (2, 3, 1, 0)
    users = {r["user"]: r for r in result.tables()["users"].to_dicts()}
    assert (users["005A"]["accounts_before"], users["005A"]["gained"]) == (1, 2)
    # Bo manages NA: the accounts of its subtree are his.
    assert (users["005B"]["accounts_before"], users["005B"]["accounts_after"]) == (2, 3)
    assert (users["005B"]["gained"], users["005B"]["lost"]) == (1, 0)
    # Both models are planning: opportunity territories are computed as activation would.
    assert result.tables()["opportunities"].select("opportunity", "from", "to").rows() == [
        ("006B", "East", "West")
    ]
    s = result.summary
    assert (s["accounts_changed"], s["accounts_moved"], s["accounts_newly_assigned"]) == (2, 1, 1)
    assert (s["assignments_added"], s["assignments_removed"]) == (2, 1)
    assert (s["open_opportunities_changed"], s["pipeline_changed"]) == (1, 200.0)


def test_compare_against_the_active_model_and_write_tables(org: Workspace, tmp_path: Path) -> None:
    build(org)
    models.activate_model(org, "Base")
    result = compare_models(org, "Plan")
    assert (result.before, result.after) == ("Base", "Plan")
    assert result.summary["accounts_changed"] == 2
    written = write_comparison(result, tmp_path)
    assert sorted(p.name for p in written) == [
        "accounts.csv", "opportunities.csv", "summary.csv", "territories.csv", "users.csv",
    ]  # fmt: skip


def test_a_model_never_run_is_refused_with_the_command_to_run_it(org: Workspace) -> None:
    rules.add_rule(org, "Base", "California", items=["BillingStateCode equals CA"])
    rules.attach_rule(org, "Base", "California", "West")
    runs.run_rules(org, "Base")
    models.clone_model(org, "Base", "Plan")
    with pytest.raises(Conflict) as err:
        compare_models(org, "Base", "Plan")
    assert "'Plan' has never been run" in str(err.value)
    assert "'territorial run Plan'" in str(err.value)
    runs.run_rules(org, "Plan")
    assert compare_models(org, "Base", "Plan").summary["accounts_unassigned"] == 0


def test_manager_packet(org: Workspace, tmp_path: Path) -> None:
    packets = write_packets(build(org), "Base", "Plan", folder=tmp_path).written
    assert [(p.manager, p.territories) for p in packets] == [("005B", ["East", "NA", "West"])]
    packet = packets[0]
    # 001B moves inside Bo's area (East → West); 001C comes in.
    assert packet.summary["accounts_in"] == 1 and packet.summary["accounts_within"] == 1
    assert packet.summary["accounts_out"] == 0 and packet.summary["pipeline_in"] == 0.0
    html = packet.html.read_text(encoding="utf-8")
    assert "Territory changes for Bo Chen" in html and "<svg" in html
    assert "<link" not in html and "src=" not in html and "<script" not in html  # self-contained
    assert packet.csv.read_text().splitlines()[0].startswith("account,name,direction")
    none = write_packets(org, "Base", "Plan", folder=tmp_path / "x", manager_roles=["Owner"])
    assert none.written == [] and none.unchanged == []


def with_quiet_manager(org: Workspace) -> Workspace:
    """build(), plus Cy (005C) managing Europe, where nothing changes, and Di (005D), a
    Customer Success Manager on NA, who is no manager."""
    build(org)
    with org.session() as s:
        s.add_all([SalesUser(id="005C", name="Cy Berg"), SalesUser(id="005D", name="Di Roy")])
    for model in ("Base", "Plan"):
        hierarchy.add_territory(org, model, "Europe", type="Geo")
        assignments.assign_user(org, model, "005C", "Europe", role="Regional VP")
        assignments.assign_user(org, model, "005D", "NA", role="Customer Success Manager")
    return org


def test_managers_without_changes_get_no_packet_unless_asked(
    org: Workspace, tmp_path: Path
) -> None:
    done = write_packets(with_quiet_manager(org), "Base", "Plan", folder=tmp_path / "a")
    assert [p.manager for p in done.written] == ["005B"] and done.unchanged == ["005C"]
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == [
        "bo-chen-005b.csv", "bo-chen-005b.html",
    ]  # fmt: skip
    every = write_packets(org, "Base", "Plan", folder=tmp_path / "b", unchanged=True)
    assert [p.manager for p in every.written] == ["005B", "005C"] and every.unchanged == []
    assert every.written[1].summary["accounts_in"] == 0


def test_cli_lists_only_what_changes_unless_all(
    org: Workspace, db_url: str, tmp_path: Path
) -> None:
    from territorial.cli.app import app

    with_quiet_manager(org)
    args = ["--database", db_url, "--format", "csv", "compare", "Base", "Plan"]
    out = CliRunner().invoke(app, [*args, "--show", "territories", "--by-manager", str(tmp_path)])
    assert out.exit_code == 0, out.output
    # NA's own accounts stay, but its area gains 001C.
    assert [line.split(",")[0] for line in out.stdout.splitlines()] == [
        "territory", "East", "NA", "West",
    ]  # fmt: skip
    status = " ".join(out.stderr.split())
    assert "1 territory without changes not shown (--all lists them)." in status
    assert "Wrote 1 manager packet to" in status
    assert "skipped 1 manager whose area has no change." in status
    out = CliRunner().invoke(app, [*args, "--show", "users", "--all"])
    assert [line.split(",")[0] for line in out.stdout.splitlines()] == [
        "user", "005A", "005B", "005D",
    ]  # fmt: skip
    out = CliRunner().invoke(app, [*args, "--show", "users"])
    # Cy, on Europe, is left out; Bo and Di, on NA, gain 001C.
    assert [line.split(",")[0] for line in out.stdout.splitlines()] == [
        "user", "005A", "005B", "005D",
    ]  # fmt: skip


def test_cli_compare(org: Workspace, db_url: str, tmp_path: Path) -> None:
    from territorial.cli.app import app

    build(org)
    out = CliRunner().invoke(
        app,
        ["--database", db_url, "--format", "csv", "compare", "Base", "Plan", "--show",
         "accounts", "--by-manager", str(tmp_path)],
    )  # fmt: skip
    assert out.exit_code == 0, out.output
    assert "001B,Globex,moved,East,West" in out.output
    assert len(list(tmp_path.glob("*.html"))) == 1


@pytest.fixture
def ran_plan(org: Workspace) -> Workspace:
    """Base (West takes California by rule; Bo manages NA) is live; Plan, its clone, was
    run."""
    assignments.assign_user(org, "Base", "005B", "NA", role="Manager")
    rules.add_rule(org, "Base", "California", items=["BillingStateCode equals CA"])
    rules.attach_rule(org, "Base", "California", "West")
    models.activate_model(org, "Base")
    models.clone_model(org, "Base", "Plan")
    runs.run_rules(org, "Plan")
    return org


def test_a_plan_run_before_new_accounts_is_flagged_with_the_command_to_run(
    ran_plan: Workspace, db_url: str, tmp_path: Path
) -> None:
    from territorial.cli.app import app

    assert compare_models(ran_plan, "Plan").warnings == ()
    new = tmp_path / "new.csv"
    new.write_text("Id,Name,BillingStateCode\n001N,Newco,CA\n001M,Newer,CA\n")
    imports.import_accounts(ran_plan, new)  # assigned at once in the active Base
    result = compare_models(ran_plan, "Plan")
    assert result.summary["accounts_unassigned"] == 2  # what the stale run shows
    (warning,) = result.warnings
    assert "since then 2 accounts imported or changed" in warning
    assert warning.endswith("Run it again: 'territorial run Plan'.")
    args = ["--database", db_url, "compare", "Plan", "--by-manager", str(tmp_path / "p")]
    out = CliRunner().invoke(app, args)
    assert out.exit_code == 0, out.output
    assert "Warning: Model 'Plan' was last run at" in " ".join(out.stderr.split())
    (packet,) = (tmp_path / "p").glob("*.html")
    assert "Out of date:</strong> Model &#39;Plan&#39; was last run" in packet.read_text()
    runs.run_rules(ran_plan, "Plan")
    result = compare_models(ran_plan, "Plan")
    assert result.warnings == () and result.summary["accounts_unassigned"] == 0


def test_a_rule_changed_after_the_plan_run_is_flagged(ran_plan: Workspace) -> None:
    rules.update_rule(ran_plan, "Plan", "California", items=["BillingStateCode equals CA,NV"])
    (warning,) = compare_models(ran_plan, "Plan").warnings
    assert "since then 1 change to its rules or hierarchy" in warning
    # Territory runs cover part of the model only; a whole run clears the warning.
    runs.run_rules(ran_plan, "Plan", territory="West")
    assert compare_models(ran_plan, "Plan").warnings != ()
    runs.run_rules(ran_plan, "Plan")
    assert compare_models(ran_plan, "Plan").warnings == ()


def test_an_account_set_in_the_plan_leaves_it_up_to_date(ran_plan: Workspace) -> None:
    from territorial.services import online

    online.save_account(
        ran_plan, "001N", {"name": "Newco", "BillingStateCode": "CA"}, models=["Plan"]
    )
    assert compare_models(ran_plan, "Plan").warnings == ()
    online.save_account(ran_plan, "001N", {"BillingStateCode": "NV"})  # the plan not named
    (warning,) = compare_models(ran_plan, "Plan").warnings
    assert "since then 1 account imported or changed" in warning


def test_an_archived_model_is_said_to_be_frozen_not_to_be_run(ran_plan: Workspace) -> None:
    from territorial.services import online

    models.activate_model(ran_plan, "Plan")  # Base is archived
    online.save_account(ran_plan, "001N", {"name": "Newco", "BillingStateCode": "CA"})
    (warning,) = compare_models(ran_plan, "Base", "Plan").warnings
    assert warning.startswith("Model 'Base' is archived: its assignments are frozen")
    assert "1 account imported or changed" in warning and "territorial run" not in warning


def test_a_territory_moved_to_another_branch_carries_its_accounts_to_that_manager(
    ran_plan: Workspace, tmp_path: Path
) -> None:
    # Plan: West (with Acme, 001A, and its open 300 deal) moves from NA (Bo) to a new
    # branch Central, managed by Cy. Acme's own territory stays West.
    with ran_plan.session() as s:
        s.add(SalesUser(id="005C", name="Cy Berg"))
        acme = s.scalars(select(Account).where(Account.id == "001A")).one()
        s.add(Opportunity(id="006A", account_pk=acme.pk, name="Acme", amount=300.0))
    opportunities.assign_model_opportunities(ran_plan, "Base")  # the deal is on West
    hierarchy.add_territory(ran_plan, "Plan", "Central", type="Geo")
    assignments.assign_user(ran_plan, "Plan", "005C", "Central", role="Area Manager")
    hierarchy.move_territory(ran_plan, "Plan", "West", "Central")
    runs.run_rules(ran_plan, "Plan")
    result = compare_models(ran_plan, "Plan")
    summary = result.summary
    assert (summary["accounts_changed"], summary["open_opportunities_changed"]) == (0, 0)
    assert (summary["territories_regrouped"], summary["accounts_regrouped"]) == (1, 1)
    territories = {
        r["territory"]: r for r in result.tables(unchanged=False)["territories"].to_dicts()
    }
    area = ("area_before", "area_after", "area_gained", "area_lost")
    assert sorted(territories) == ["Central", "NA"]
    assert tuple(territories["NA"][c] for c in area) == (1, 0, 0, 1)
    assert tuple(territories["Central"][c] for c in area) == (0, 1, 1, 0)
    users = {r["user"]: r for r in result.tables(unchanged=False)["users"].to_dicts()}
    assert (users["005B"]["lost"], users["005B"]["pipeline_lost"]) == (1, 300.0)
    assert (users["005C"]["gained"], users["005C"]["pipeline_gained"]) == (1, 300.0)

    done = write_packets(ran_plan, "Plan", folder=tmp_path, comparison=result)
    packets = {p.manager: p for p in done.written}
    assert sorted(packets) == ["005B", "005C"] and done.unchanged == []
    bo, cy = packets["005B"].summary, packets["005C"].summary
    assert (bo["accounts_out"], bo["pipeline_out"], bo["accounts_in"]) == (1, 300.0, 0)
    assert (cy["accounts_in"], cy["pipeline_in"], cy["accounts_out"]) == (1, 300.0, 0)
    row = packets["005C"].csv.read_text().splitlines()[1]
    assert row.startswith("001A,Acme,in,regrouped,West,West,West (under NA),West (under Central)")
