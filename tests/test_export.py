"""Exports write what imports read back: round trips for each kind, CSV and Parquet."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal
from typer.testing import CliRunner

from data_helpers import make_model, write
from territorial.cli.app import app
from territorial.errors import InputFileError
from territorial.services import assignments, exports, hierarchy, imports, links, models
from territorial.services.fields import add_field
from territorial.services.workspace import Workspace
from territorial.settings import Settings

ACCOUNTS = (
    "Id,Name,BillingCity,BillingPostalCode,AnnualRevenue,ExcludedFromRealign,Tier__c,"
    "Since__c,Vip__c,Score__c\n"
    "A1,Åcme “Ltd”,Zürich,08001,1250000.5,true,Gold,2024-01-31,yes,1e20\n"
    'A2,"Comma, Inc",,,,,,,,\n'
    "A3,北京公司,北京,100000,0,false,Silver,2025-12-31,no,-3.25\n"
)


@pytest.fixture
def filled(ws: Workspace, tmp_path: Path) -> Workspace:
    add_field(ws, "account", "Tier__c", "picklist", picklist_values=["Gold", "Silver"])
    add_field(ws, "account", "Score__c", "number")  # 1e20: a declared number takes exponents
    imports.import_accounts(ws, write(tmp_path, "a.csv", ACCOUNTS), create_fields=True)
    imports.import_users(ws, write(tmp_path, "u.csv", "id,name,email\nU1,Ann,a@x.io\nU2,Bø,\n"))
    imports.import_opportunities(
        ws,
        write(
            tmp_path,
            "o.csv",
            "id,account_id,name,amount,close_date,is_won\nO1,A1,Deal,10.5,2026-03-01,true\n"
            "O2,A3,Other,,,\n",
        ),
    )
    make_model(ws)
    links.import_user_territories(
        ws, write(tmp_path, "ut.csv", "user,territory,role\nU1,West,AE\nU2,East,\n"), model="FY27"
    )
    links.import_assignments(
        ws, write(tmp_path, "m.csv", "account,territory\nA1,West\nA2,East\n"), model="FY27"
    )
    return ws


RECORDS = [
    ("account", exports.export_accounts, imports.import_accounts),
    ("opportunity", exports.export_opportunities, imports.import_opportunities),
    ("user", exports.export_users, imports.import_users),
]


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
@pytest.mark.parametrize("salesforce_names", [False, True])
@pytest.mark.parametrize(("kind", "export", "import_"), RECORDS, ids=[r[0] for r in RECORDS])
def test_records_round_trip(
    filled: Workspace,
    tmp_path: Path,
    kind: str,
    export: Callable[..., exports.ExportResult],
    import_: Callable[..., imports.ImportResult],
    suffix: str,
    salesforce_names: bool,
) -> None:
    out = tmp_path / f"out{suffix}"
    assert export(filled, out, salesforce_names=salesforce_names).rows > 0
    result = import_(filled, out)
    # Nothing changed, so nothing is rewritten and the summary says so.
    assert (result.inserted, result.updated, result.unchanged) == (0, 0, result.rows)
    assert f"0 inserted, 0 updated, {result.rows} unchanged" in result.summary()
    again = tmp_path / f"again{suffix}"
    export(filled, again, salesforce_names=salesforce_names)
    read = pl.read_csv if suffix == ".csv" else pl.read_parquet
    assert_frame_equal(read(out), read(again))


def test_account_export_values(filled: Workspace, tmp_path: Path) -> None:
    out = tmp_path / "a.parquet"
    exports.export_accounts(filled, out)
    frame = pl.read_parquet(out)
    assert frame.columns[-4:] == ["Tier__c", "Score__c", "Since__c", "Vip__c"]
    a1, a2, a3 = frame.rows(named=True)
    assert (a1["name"], a1["billing_postal_code"], a1["excluded_from_realign"]) == (
        "Åcme “Ltd”",
        "08001",
        True,
    )
    assert (a1["Tier__c"], str(a1["Since__c"]), a1["Vip__c"], a1["Score__c"]) == (
        "Gold",
        "2024-01-31",
        True,
        1e20,
    )
    assert a2["name"] == "Comma, Inc" and a2["billing_city"] is None and a2["Tier__c"] is None
    assert a3["billing_city"] == "北京" and a3["annual_revenue"] == 0


def test_round_trip_into_a_fresh_database(filled: Workspace, tmp_path: Path) -> None:
    for kind, export, _ in RECORDS:
        export(filled, tmp_path / f"{kind}.csv")
    fresh = Workspace(Settings(database_url=f"sqlite:///{tmp_path / 'fresh.db'}", actor="t"))
    try:
        fresh.init()
        imports.import_accounts(fresh, tmp_path / "account.csv", create_fields=True)
        imports.import_users(fresh, tmp_path / "user.csv")
        imports.import_opportunities(fresh, tmp_path / "opportunity.csv")
        for kind, export, _ in RECORDS:
            export(fresh, tmp_path / f"{kind}-2.csv")
            before = pl.read_csv(tmp_path / f"{kind}.csv", infer_schema=False)
            after = pl.read_csv(tmp_path / f"{kind}-2.csv", infer_schema=False)
            if kind == "account":  # inferred types: Tier__c text instead of picklist
                assert before.columns == after.columns
            assert_frame_equal(before, after)
    finally:
        fresh.close()


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
@pytest.mark.parametrize("salesforce_names", [False, True])
def test_user_territories_round_trip(
    filled: Workspace, tmp_path: Path, suffix: str, salesforce_names: bool
) -> None:
    out = tmp_path / f"ut{suffix}"
    exports.export_user_territories(filled, out, model="FY27", salesforce_names=salesforce_names)
    frame = pl.read_csv(out) if suffix == ".csv" else pl.read_parquet(out)
    expected = ["UserId", "Territory2Id", "Territory2.Name", "RoleInTerritory2"]
    assert frame.columns == (
        expected if salesforce_names else ["user", "territory", "territory_name", "role"]
    )
    assert frame.height == 2
    result = links.import_user_territories(filled, out, model="FY27")
    assert (result.inserted, result.updated, result.unchanged) == (0, 0, 2)


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
@pytest.mark.parametrize("salesforce_names", [False, True])
def test_assignments_round_trip(
    filled: Workspace, tmp_path: Path, suffix: str, salesforce_names: bool
) -> None:
    out = tmp_path / f"m{suffix}"
    exports.export_assignments(filled, out, model="FY27", salesforce_names=salesforce_names)
    frame = pl.read_csv(out) if suffix == ".csv" else pl.read_parquet(out)
    cause = "Territory2Manual" if salesforce_names else "manual"
    assert frame.rows()[0] == ("A1", "West", "West Coast", cause, None)
    result = links.import_assignments(filled, out, model="FY27")
    assert (result.rows, result.inserted, result.updated, result.unchanged) == (2, 0, 0, 2)


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
@pytest.mark.parametrize("salesforce_names", [False, True])
def test_exclusions_list_accounts_and_territories_by_name(
    filled: Workspace, tmp_path: Path, suffix: str, salesforce_names: bool
) -> None:
    assignments.exclude_account(filled, "FY27", "A3", "West")
    assignments.exclude_account(filled, "FY27", "A1", "East")
    out = tmp_path / f"x{suffix}"
    result = exports.export_exclusions(
        filled, out, model="FY 27", salesforce_names=salesforce_names
    )
    assert result.summary() == f"{out}: 2 exclusion rows written."
    frame = pl.read_csv(out) if suffix == ".csv" else pl.read_parquet(out)
    assert frame.columns == (
        ["ObjectId", "Object.Name", "Territory2Id", "Territory2.Name"]
        if salesforce_names
        else ["account", "account_name", "territory", "territory_name"]
    )
    assert frame.rows() == [
        ("A1", "Åcme “Ltd”", "East", "East Coast"),
        ("A3", "北京公司", "West", "West Coast"),
    ]


runner = CliRunner()


def _export(db_url: str, *args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["--database", db_url, "export", *args])
    return result.exit_code, " ".join(result.output.split())


@pytest.mark.parametrize("kind", ["assignments", "exclusions", "user-territories"])
def test_model_exports_default_to_the_active_model(
    filled: Workspace, db_url: str, tmp_path: Path, kind: str
) -> None:
    assignments.exclude_account(filled, "FY27", "A3", "West")
    out = tmp_path / f"{kind}.csv"
    code, text = _export(db_url, kind, "-o", str(out))
    assert code == 1 and not out.exists()
    assert text == (
        "Error: No model is active. Name one with --model, or activate one with "
        "'territorial model activate M' (see 'territorial model list')."
    )
    models.activate_model(filled, "FY27")
    code, text = _export(db_url, kind, "-o", str(out))
    assert code == 0, text
    default = pl.read_csv(out, infer_schema=False)
    code, _ = _export(db_url, kind, "--model", "FY27", "-o", str(tmp_path / "named.csv"))
    assert code == 0
    assert default.height > 0
    assert_frame_equal(default, pl.read_csv(tmp_path / "named.csv", infer_schema=False))


def test_unsupported_output_type(filled: Workspace, tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match="xlsx"):
        exports.export_accounts(filled, tmp_path / "a.xlsx")


NA_ACCOUNTS = (
    "Id,Name,BillingCountry,BillingCountryCode,BillingState,BillingCity,Industry\n"
    "NAM1,None,Namibia,NA,N/A,null,NaN\n"
    "NAM2,Empty,Namibia,NA,,,\n"
)


@pytest.fixture
def namibia(ws: Workspace, tmp_path: Path) -> Workspace:
    """Values that other tools read as missing: a territory 'NA' and Namibia's code 'NA'."""
    imports.import_accounts(ws, write(tmp_path, "a.csv", NA_ACCOUNTS))
    imports.import_users(ws, write(tmp_path, "u.csv", "id,name\nU1,Ann\n"))
    make_model(ws)
    hierarchy.add_territory(ws, "FY27", "North America", developer_name="NA", type="Geo")
    links.import_user_territories(
        ws, write(tmp_path, "ut.csv", "user,territory,role\nU1,NA,N/A\n"), model="FY27"
    )
    links.import_assignments(
        ws, write(tmp_path, "m.csv", "account,territory\nNAM1,NA\n"), model="FY27"
    )
    return ws


def test_na_null_and_none_are_text_not_empty(namibia: Workspace, tmp_path: Path) -> None:
    out = tmp_path / "a.csv"
    exports.export_accounts(namibia, out)
    rows = pl.read_csv(out, infer_schema=False).select(
        "id", "name", "billing_country_code", "billing_state", "billing_city", "industry"
    )
    assert rows.rows() == [
        ("NAM1", "None", "NA", "N/A", "null", "NaN"),
        ("NAM2", "Empty", "NA", None, None, None),
    ]


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_na_values_round_trip(namibia: Workspace, tmp_path: Path, suffix: str) -> None:
    steps: list[tuple[Callable[..., exports.ExportResult], Callable[..., object], dict]] = [
        (exports.export_accounts, imports.import_accounts, {}),
        (exports.export_user_territories, links.import_user_territories, {"model": "FY27"}),
        (exports.export_assignments, links.import_assignments, {"model": "FY27"}),
    ]
    for export, import_, options in steps:
        out = tmp_path / f"{export.__name__}{suffix}"
        export(namibia, out, **options)
        result = import_(namibia, out, **options)
        assert "0 inserted, 0 updated" in result.summary()  # type: ignore[attr-defined]
    ut = tmp_path / f"export_user_territories{suffix}"
    frame = pl.read_csv(ut, infer_schema=False) if suffix == ".csv" else pl.read_parquet(ut)
    assert frame.select("territory", "role").row(0) == ("NA", "N/A")
