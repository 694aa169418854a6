"""Data Loader files: full and delta, by developer name and by Territory2Id."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from opportunity_helpers import add_deals, realign_deals
from territorial.cli.app import app
from territorial.errors import InputFileError, ValidationError
from territorial.io.salesforce.dataloader import read_id_map
from territorial.services import assignments, models, rules, runs
from territorial.services.compare import compare_models
from territorial.services.dataloader import export_dataloader_files
from territorial.services.workspace import Workspace

runner = CliRunner()


def read(folder: Path, name: str) -> list[tuple[str, ...]]:
    return [tuple(r) for r in pl.read_csv(folder / name, infer_schema=False).iter_rows()]


@pytest.fixture
def plan(org: Workspace) -> Workspace:
    """Base: a rule puts CA in West; 001B is in East by hand; Ana owns West.
    Plan (a clone): 001B moves to West by hand, Bo joins East, the CA rule is gone."""
    rules.add_rule(org, "Base", "CA", items=["BillingStateCode equals CA"])
    rules.attach_rule(org, "Base", "CA", "West")
    runs.run_rules(org, "Base")
    assignments.assign_account(org, "Base", "001B", "East")
    assignments.assign_user(org, "Base", "005A", "West", role="Territory Owner")
    models.clone_model(org, "Base", "Plan")
    assignments.unassign_account(org, "Plan", "001B", "East")
    assignments.assign_account(org, "Plan", "001B", "West")
    assignments.assign_user(org, "Plan", "005B", "East", role="AE")
    rules.remove_rule(org, "Plan", "CA")
    runs.run_rules(org, "Plan")
    return org


def test_full_files_by_developer_name(plan: Workspace, tmp_path: Path) -> None:
    result = export_dataloader_files(plan, "Base", tmp_path)
    names = {Path(f.path).name: f.rows for f in result.files}
    assert names["ObjectTerritory2Association-insert-by-name.csv"] == 1
    assert read(tmp_path, "ObjectTerritory2Association-insert-by-name.csv") == [
        ("001B", "East", "Territory2Manual")
    ]
    assert read(tmp_path, "UserTerritory2Association-insert-by-name.csv") == [
        ("005A", "West", "Territory Owner")
    ]
    header = pl.read_csv(tmp_path / "ObjectTerritory2Association-insert-by-name.csv").columns
    assert header == ["ObjectId", "Territory2.DeveloperName", "AssociationCause"]
    assert any(n.startswith("1 rule assignment to add and 0 to remove") for n in result.notes)


def test_delta_with_id_map(plan: Workspace, tmp_path: Path) -> None:
    ids = tmp_path / "ids.csv"
    ids.write_text('"ID","DEVELOPERNAME"\n"0MI1","NA"\n"0MI2","West"\n"0MI3","East"\n')
    out = tmp_path / "load"
    result = export_dataloader_files(plan, "Plan", out, against="Base", id_map=ids)
    assert read(out, "ObjectTerritory2Association-insert.csv") == [
        ("001B", "0MI2", "Territory2Manual")
    ]
    assert read(out, "ObjectTerritory2Association-delete.csv") == [
        ("001B", "0MI3", "Territory2Manual")
    ]
    assert read(out, "UserTerritory2Association-insert.csv") == [("005B", "0MI3", "AE")]
    assert read(out, "UserTerritory2Association-delete.csv") == []
    assert read(out, "ObjectTerritory2Association-insert-by-name.csv") == [
        ("001B", "West", "Territory2Manual")
    ]
    # The CA rule's assignment of 001A to West is removed by Salesforce's own rule run...
    assert any("0 rule assignments to add and 1 to remove" in n for n in result.notes)
    # ... unless asked for.
    export_dataloader_files(
        plan, "Plan", out, against="Base", id_map=ids, include_rule_assignments=True
    )
    assert ("001A", "0MI2", "Territory2Manual") in read(
        out, "ObjectTerritory2Association-delete.csv"
    )


def test_id_map_must_cover_every_territory(plan: Workspace, tmp_path: Path) -> None:
    ids = tmp_path / "ids.csv"
    ids.write_text("Id,DeveloperName\n0MI2,West\n")
    with pytest.raises(ValidationError, match="1 territory is not in the id map: East"):
        export_dataloader_files(plan, "Plan", tmp_path / "out", against="Base", id_map=ids)
    ids.write_text("Name\nWest\n")
    with pytest.raises(InputFileError, match="has no Id or DeveloperName column"):
        export_dataloader_files(plan, "Plan", tmp_path / "out", id_map=ids)


def test_opportunity_updates_from_the_model(org: Workspace, tmp_path: Path) -> None:
    from territorial.services import opportunities
    from territorial.store.schema import Account, Opportunity

    with org.session() as s:
        acct = s.query(Account).filter_by(id="001A").one()
        s.add(Opportunity(id="006A", account_pk=acct.pk, name="Deal"))
    assignments.assign_account(org, "Base", "001A", "West")
    opportunities.assign_model_opportunities(org, "Base")
    export_dataloader_files(org, "Base", tmp_path)
    assert read(tmp_path, "Opportunity-update-by-name.csv") == [("006A", "West")]
    models.clone_model(org, "Base", "Plan")
    assignments.unassign_account(org, "Plan", "001A", "West")
    assignments.assign_account(org, "Plan", "001A", "East")
    opportunities.assign_model_opportunities(org, "Plan")
    export_dataloader_files(org, "Plan", tmp_path / "d", against="Base")
    assert read(tmp_path / "d", "Opportunity-update-by-name.csv") == [("006A", "East")]


def test_cli_dataloader(plan: Workspace, db_url: str, tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        [
            "--database",
            db_url,
            "--format",
            "csv",
            "salesforce",
            "dataloader",
            "Plan",
            str(tmp_path),
            "--against",
            "Base",
        ],
    )
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "file,object,operation,rows"
    wanted = "insert-by-name.csv,ObjectTerritory2Association,insert,1"
    assert any(line.endswith(wanted) for line in lines)
    assert (tmp_path / "UserTerritory2Association-delete-by-name.csv").is_file()


def test_opportunity_delta_is_open_opportunities_as_activation_sets_them(
    org: Workspace, tmp_path: Path
) -> None:
    realign_deals(add_deals(org))
    planned = compare_models(org, "Plan").summary["open_opportunities_changed"]
    before = export_dataloader_files(org, "Plan", tmp_path / "before", against="Base")
    rows = read(tmp_path / "before", "Opportunity-update-by-name.csv")
    # 006A moves; 006B ties in Plan and loses West: a deliberate blank. The closed 006D
    # and the excluded 006E are not written; 006C ties in both models: no change.
    assert rows == [("006A", "East"), ("006B", None)]
    assert len(rows) == planned == before.opportunities.changed  # type: ignore[union-attr]
    delta = before.opportunities
    assert delta is not None and (delta.cleared, delta.cleared_by_tie) == (1, 1)
    assert (delta.closed_skipped, delta.excluded_skipped) == (1, 1)
    assert any(
        "1 Opportunity rows clear the territory (an empty territory cell): 1 because the "
        "account's top territories tie on type priority" in n
        for n in before.notes
    )
    assert "1 left without one, 1 of them by a priority tie" in before.summary()
    # Activated, the plan gives the same delta.
    models.activate_model(org, "Plan")
    export_dataloader_files(org, "Plan", tmp_path / "after", against="Base")
    assert read(tmp_path / "after", "Opportunity-update-by-name.csv") == rows


def test_a_territory_is_cleared_when_the_account_has_none(org: Workspace, tmp_path: Path) -> None:
    realign_deals(add_deals(org))
    assignments.unassign_account(org, "Plan", "001A", "East")
    result = export_dataloader_files(org, "Plan", tmp_path, against="Base")
    assert read(tmp_path, "Opportunity-update-by-name.csv") == [("006A", None), ("006B", None)]
    (note,) = [n for n in result.notes if "clear the territory" in n]
    assert "1 because the account is in no territory of the model" in note


def test_closed_opportunities_on_request(org: Workspace, tmp_path: Path) -> None:
    realign_deals(add_deals(org))
    result = export_dataloader_files(org, "Plan", tmp_path, against="Base", include_closed=True)
    assert read(tmp_path, "Opportunity-update-by-name.csv") == [
        ("006A", "East"),
        ("006B", None),
        ("006D", "East"),
    ]
    assert result.opportunities is not None and result.opportunities.closed_skipped == 0


def test_full_opportunity_file_writes_no_blanks(org: Workspace, tmp_path: Path) -> None:
    realign_deals(add_deals(org))
    result = export_dataloader_files(org, "Plan", tmp_path)
    assert read(tmp_path, "Opportunity-update-by-name.csv") == [("006A", "East")]
    assert any(
        "2 opportunities in scope get no territory (2 by a priority tie)" in n for n in result.notes
    )


def test_cli_dataloader_reports_counts_and_keeps_json(
    org: Workspace, db_url: str, tmp_path: Path
) -> None:
    realign_deals(add_deals(org))
    result = runner.invoke(
        app,
        ["--database", db_url, "--format", "json", "salesforce", "dataloader", "Plan",
         str(tmp_path), "--against", "Base"],
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    files = {Path(f["file"]).name: f["rows"] for f in json.loads(result.stdout)}
    assert files["Opportunity-update-by-name.csv"] == 2
    err = " ".join(result.stderr.split())
    assert "Plan against Base: 2 account assignments added and 2 removed" in err
    assert "2 of 3 open opportunities change territory from Base" in err
    assert "1 Opportunity rows clear the territory" in err
    assert "pass --include-closed to update the 1 closed opportunities too" in err


def test_rule_assignment_turned_manual_is_loaded(plan: Workspace, tmp_path: Path) -> None:
    """001A was in West by the CA rule; the plan keeps it there by hand (the rule is gone):
    Salesforce's rule run will drop the rule association, so the manual one must be loaded."""
    assignments.assign_account(plan, "Plan", "001A", "West")
    out = tmp_path / "load"
    export_dataloader_files(plan, "Plan", out, against="Base")
    assert ("001A", "West", "Territory2Manual") in read(
        out, "ObjectTerritory2Association-insert-by-name.csv"
    )


def test_exclusions_are_written_by_name_and_by_id(plan: Workspace, tmp_path: Path) -> None:
    none = export_dataloader_files(plan, "Plan", tmp_path / "none")
    assert read(tmp_path / "none", "Territory2ObjectExclusion-insert-by-name.csv") == []
    assert not any("Territory2ObjectExclusion" in n for n in none.notes)
    assignments.exclude_account(plan, "Plan", "001C", "West")
    assignments.exclude_account(plan, "Plan", "001A", "East")
    ids = tmp_path / "ids.csv"
    ids.write_text("Id,DeveloperName\n0MI1,NA\n0MI2,West\n0MI3,East\n")
    out = tmp_path / "load"
    result = export_dataloader_files(plan, "Plan", out, id_map=ids)
    assert pl.read_csv(out / "Territory2ObjectExclusion-insert-by-name.csv").columns == [
        "ObjectId",
        "Territory2.DeveloperName",
    ]
    assert read(out, "Territory2ObjectExclusion-insert-by-name.csv") == [
        ("001A", "East"),
        ("001C", "West"),
    ]
    assert read(out, "Territory2ObjectExclusion-insert.csv") == [("001A", "0MI3"), ("001C", "0MI2")]
    assert read(out, "Territory2ObjectExclusion-delete.csv") == []
    assert (result.exclusions_added, result.exclusions_removed) == (2, 0)
    assert result.counts()["exclusions_added"] == 2
    assert "2 exclusions added and 0 removed" in result.summary()
    assert any(
        n.startswith("load the 2 Territory2ObjectExclusion rows") and "before running" in n
        for n in result.notes
    )


def test_exclusion_territories_must_be_in_the_id_map(plan: Workspace, tmp_path: Path) -> None:
    assignments.exclude_account(plan, "Plan", "001C", "East")
    ids = tmp_path / "ids.csv"
    ids.write_text("Id,DeveloperName\n0MI2,West\n")
    with pytest.raises(ValidationError, match="1 territory is not in the id map: East"):
        export_dataloader_files(plan, "Plan", tmp_path / "out", id_map=ids)


def test_exclusion_delta_against_the_model_salesforce_holds(
    plan: Workspace, tmp_path: Path
) -> None:
    """Base keeps 001A out of West's rules; the plan lifts that and keeps 001C out of East."""
    assignments.exclude_account(plan, "Base", "001A", "West")
    assignments.exclude_account(plan, "Base", "001B", "West")
    for account, territory in (("001A", "West"), ("001B", "West")):
        assignments.exclude_account(plan, "Plan", account, territory)
    assignments.include_account(plan, "Plan", "001A", "West")
    assignments.exclude_account(plan, "Plan", "001C", "East")
    out = tmp_path / "delta"
    result = export_dataloader_files(plan, "Plan", out, against="Base")
    assert read(out, "Territory2ObjectExclusion-insert-by-name.csv") == [("001C", "East")]
    assert read(out, "Territory2ObjectExclusion-delete-by-name.csv") == [("001A", "West")]
    assert (result.exclusions_added, result.exclusions_removed) == (1, 1)
    assert any(n.startswith("Data Loader deletes by record Id") for n in result.notes)


def test_carved_exclusions_keep_each_account_in_one_territory(
    ws: Workspace, tmp_path: Path
) -> None:
    """After a carve, the exclusions file holds every exclusion the carve wrote, and each
    excluded account is loaded by hand into another carved territory: with both files
    loaded, Salesforce's rule run cannot put it in a second one."""
    from territorial.services.carve import carve_model
    from territorial.services.demo import load_demo
    from territorial.services.exports import export_exclusions

    load_demo(ws, accounts=1500, seed=3)
    result = carve_model(
        ws, "FY2027_Territories", parent="NA_West_Commercial", name="FY28 West",
        territories=8, seed=7,
    )  # fmt: skip
    carved = {t.developer_name for t in result.territories}
    out = tmp_path / "load"
    loaded = export_dataloader_files(ws, "FY28_West", out, against="FY2027_Territories")
    excluded = read(out, "Territory2ObjectExclusion-insert-by-name.csv")
    assert excluded and loaded.exclusions_added == len(excluded)
    export_exclusions(ws, tmp_path / "x.csv", model="FY28_West")
    listed = pl.read_csv(tmp_path / "x.csv", infer_schema=False)
    assert sorted(excluded) == sorted(listed.select("account", "territory").iter_rows())
    manual = {(a, t) for a, t, _ in read(out, "ObjectTerritory2Association-insert-by-name.csv")}
    plan = dict(result.plan.select("account_id", "territory").iter_rows())
    for account, territory in excluded:
        assert territory in carved
        assert (account, plan[account]) in manual and plan[account] != territory


def test_metadata_export_says_where_the_exclusions_are(plan: Workspace, tmp_path: Path) -> None:
    from territorial.services.salesforce import export_salesforce_metadata

    assert not export_salesforce_metadata(plan, "Plan", tmp_path / "a").warnings
    assignments.exclude_account(plan, "Plan", "001A", "West")
    (warning,) = export_salesforce_metadata(plan, "Plan", tmp_path / "b").warnings
    assert warning.startswith("1 exclusion (an account kept out of one territory's rules)")
    assert "Territory2ObjectExclusion-insert-by-name.csv" in warning
    assert "'territorial salesforce dataloader Plan DIR'" in warning
    assert "'territorial export exclusions --model Plan -o FILE'" in warning


def test_files_of_an_earlier_export_that_no_longer_apply_are_removed(
    plan: Workspace, tmp_path: Path
) -> None:
    ids = tmp_path / "ids.csv"
    ids.write_text('"ID","DEVELOPERNAME"\n"0MI1","NA"\n"0MI2","West"\n"0MI3","East"\n')
    out = tmp_path / "load"
    export_dataloader_files(plan, "Plan", out, against="Base", id_map=ids)
    assert (out / "ObjectTerritory2Association-insert.csv").exists()
    assert (out / "Territory2ObjectExclusion-insert.csv").exists()
    (out / "notes.txt").write_text("mine")
    again = export_dataloader_files(plan, "Plan", out, against="Base")  # no id map this time
    assert not (out / "ObjectTerritory2Association-insert.csv").exists()
    assert not (out / "Territory2ObjectExclusion-insert.csv").exists()
    assert (out / "ObjectTerritory2Association-insert-by-name.csv").exists()
    assert (out / "Territory2ObjectExclusion-insert-by-name.csv").exists()
    assert (out / "notes.txt").read_text() == "mine"
    assert any(
        n.startswith("removed 7 Data Loader files") and "-insert.csv, " in n for n in again.notes
    ), again.notes


def test_id_map_keeps_a_territory_named_na(tmp_path: Path) -> None:
    ids = tmp_path / "ids.csv"
    ids.write_text("ID,DEVELOPERNAME\n0MI000000000001,NA\n0MI000000000002,West\n")
    assert read_id_map(ids) == {"NA": "0MI000000000001", "West": "0MI000000000002"}
    ids.write_text("Id,DeveloperName\n0MI000000000001,NA\n,West\n")
    with pytest.raises(InputFileError, match="row 3: needs both an Id and a DeveloperName"):
        read_id_map(ids)
