"""Importing Territory2 metadata into the store, running it, and exporting it back."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from territorial.cli.app import app
from territorial.core.fields import FieldType
from territorial.core.model import ModelSpec, Rule, RuleAssociation, RuleItem, Territory
from territorial.core.model import TerritoryType as Type
from territorial.demo.metadata import (
    CUSTOM_FIELDS,
    production_accounts,
    production_model,
    write_production_metadata,
)
from territorial.errors import Conflict, ValidationError
from territorial.io.salesforce.writer import write_metadata
from territorial.services import fields, imports, models, runs
from territorial.services.salesforce import (
    export_salesforce_metadata,
    import_salesforce_metadata,
)
from territorial.services.specs import create_model_from_spec, read_spec
from territorial.services.workspace import Workspace
from territorial.store import bulk
from territorial.store.schema import Account

from .test_salesforce_metadata import SALESFORCE, canonical, needs_fixtures

runner = CliRunner()


def plain(spec: ModelSpec) -> ModelSpec:
    """The spec without store ids, in file order."""
    return canonical(replace(spec, rules=[replace(r, id=None) for r in spec.rules]))


def assignments(ws: Workspace, model: str) -> set[tuple[str, str]]:
    with ws.session() as session:
        pk = models.lookup.model(session, model).pk
        frame = bulk.read_frame(
            session,
            "SELECT a.id, t.developer_name FROM account_assignment aa "
            "JOIN account a ON a.pk = aa.account_pk JOIN territory t ON t.pk = aa.territory_pk "
            f"WHERE aa.model_pk = {pk}",
            {"account": pl.String(), "territory": pl.String()},
        )
    return set(frame.iter_rows())


@needs_fixtures
@pytest.mark.parametrize("layout", ["sfdx", "mdapi"])
def test_fixture_import_export_import_is_identical(
    ws: Workspace, tmp_path: Path, layout: str
) -> None:
    first = import_salesforce_metadata(ws, SALESFORCE / f"scw-{layout}")
    assert (first.types, first.territories, first.rules, first.associations) == (3, 3, 1, 1)
    assert first.model.developer_name == "SCW_Territory_Model" and first.warnings == ()
    out = tmp_path / "out"
    export = export_salesforce_metadata(ws, "SCW_Territory_Model", out, layout=layout)  # type: ignore[arg-type]
    assert export.warnings == ()
    with pytest.raises(Conflict, match="--name"):
        import_salesforce_metadata(ws, out)
    with pytest.raises(Conflict):  # the developer name follows the label, taken too
        import_salesforce_metadata(ws, out, name="SCW Territory Model")
    second = import_salesforce_metadata(ws, out, name="SCW copy")
    a, b = read_spec(ws, "SCW_Territory_Model"), read_spec(ws, second.model.developer_name)
    assert plain(replace(b, developer_name=a.developer_name, name=a.name)) == plain(a)


@needs_fixtures
def test_fixture_assigns_like_the_same_rules_written_by_hand(ws: Workspace) -> None:
    with ws.session() as s:
        s.add_all(
            [
                Account(id="001A", name="Cabela's Austin", billing_state_code="TX"),
                Account(id="001B", name="cabelas outfitters"),
                Account(id="001C", name="Bass Pro Shops"),
                Account(id="001D", name="The Cabela Store"),
            ]
        )
    import_salesforce_metadata(ws, SALESFORCE / "scw-mdapi")
    hand = ModelSpec(
        "By_Hand",
        types=[Type("Country", 1), Type("State", 5), Type("City", 10)],
        territories=[
            Territory("USA", "Country"),
            Territory("Texas", "State", parent="USA"),
            Territory("Austin", "City", parent="Texas"),
        ],
        rules=[Rule("Fishing", (RuleItem(1, "Name", "startsWith", "Cabela"),))],
        associations=[RuleAssociation("Fishing", "USA", inherited=True)],
    )
    create_model_from_spec(ws, hand)
    runs.run_rules(ws, "SCW_Territory_Model")
    runs.run_rules(ws, "By_Hand")
    imported = assignments(ws, "SCW_Territory_Model")
    assert imported == assignments(ws, "By_Hand")
    assert imported == {(a, t) for a in ("001A", "001B") for t in ("USA", "Texas", "Austin")}


def _load_accounts(ws: Workspace, tmp_path: Path, n: int) -> None:
    for name, ftype in CUSTOM_FIELDS:
        fields.add_field(ws, "account", name, ftype)
    path = tmp_path / "accounts.csv"
    production_accounts(n, seed=5).write_csv(path)
    imports.import_accounts(ws, path)


def test_generated_model_imports_assigns_and_round_trips(ws: Workspace, tmp_path: Path) -> None:
    _load_accounts(ws, tmp_path, 1500)
    write_production_metadata(tmp_path / "md", seed=5)
    result = import_salesforce_metadata(ws, tmp_path / "md")
    assert (result.territories, result.rules) == (800, 900)
    text = "\n".join(result.warnings)
    assert "types sharing priority 20" in text and "rules attached to no territory" in text
    hand = replace(production_model(seed=5), developer_name="Hand", name="Hand")
    create_model_from_spec(ws, hand)
    runs.run_rules(ws, result.model.developer_name)
    runs.run_rules(ws, "Hand")
    imported = assignments(ws, result.model.developer_name)
    assert len(imported) > 3000
    assert imported == assignments(ws, "Hand")
    export_salesforce_metadata(ws, result.model.developer_name, tmp_path / "out", layout="sfdx")
    again = import_salesforce_metadata(ws, tmp_path / "out", name="Again")
    a, b = read_spec(ws, result.model.developer_name), read_spec(ws, again.model.developer_name)
    assert plain(replace(b, developer_name=a.developer_name, name=a.name)) == plain(a)


def test_unknown_fields_are_listed_at_once_then_mapped_or_created(
    ws: Workspace, tmp_path: Path
) -> None:
    tmp_path = tmp_path / "md"
    spec = production_model(seed=1)  # its area overlays and a few legacy rules
    keep = {t.developer_name for t in spec.territories if t.type in ("Region", "Area")}
    spec.territories = [t for t in spec.territories if t.developer_name in keep]
    spec.rules = [r for r in spec.rules if r.developer_name.startswith(("NA_", "Legacy_00"))]
    names = {r.developer_name for r in spec.rules}
    spec.associations = [a for a in spec.associations if a.territory in keep and a.rule in names]
    write_metadata(spec, tmp_path, layout="mdapi")
    with pytest.raises(ValidationError) as caught:
        import_salesforce_metadata(ws, tmp_path)
    message = str(caught.value)
    for name, _ in CUSTOM_FIELDS:
        assert name in message
    assert "--map-field" in message and "--create-fields" in message
    assert models.list_models(ws) == [] and all(not f.custom for f in fields.list_fields(ws))

    fields.add_field(ws, "account", "Segment_Tier", "text")
    result = import_salesforce_metadata(
        ws, tmp_path, map_fields=["Account.Tier__c=Segment_Tier"], create_fields=True
    )
    created = {f.name: f.type for f in result.created_fields}
    assert created == {"Sales_Region__c": FieldType.TEXT, "Employee_Band__c": FieldType.NUMBER}
    assert result.mapped_fields == (("Account.Tier__c", "Segment_Tier"),)
    spec = read_spec(ws, result.model.developer_name)
    assert any(i.field == "Segment_Tier" for r in spec.rules for i in r.items)


def test_a_bad_active_rule_imports_nothing(ws: Workspace, tmp_path: Path) -> None:
    spec = ModelSpec(
        "M",
        "M",
        types=[Type("Geo", 1, "Geo")],
        territories=[Territory("T", "Geo", "T")],
        rules=[
            Rule("R1", (RuleItem(1, "Account.AnnualRevenue", "contains", "1"),), name="R1"),
            Rule("R2", (RuleItem(1, "Account.Name", "equals", "x"),), "1 or 2", name="R2"),
            Rule("Old", (RuleItem(1, "Account.AnnualRevenue", "lessThan", "x"),), None, False),
        ],
    )
    write_metadata(spec, tmp_path / "md", layout="sfdx")
    with pytest.raises(ValidationError) as caught:
        import_salesforce_metadata(ws, tmp_path / "md")
    assert "'R1'" in str(caught.value) and "'R2'" in str(caught.value)
    assert "'Old'" not in str(caught.value)
    assert models.list_models(ws) == []


@needs_fixtures
def test_cli_import_export_and_errors(db_url: str, tmp_path: Path) -> None:
    tmp_path = tmp_path / "out"

    def cli(*args: str) -> tuple[int, str]:
        result = runner.invoke(app, ["--database", db_url, *args])
        return result.exit_code, " ".join((result.stderr + result.stdout).split())

    code, out = cli("salesforce", "import", str(SALESFORCE / "scw-sfdx"))
    assert code == 0 and "3 territories, 1 rule with 1 item" in out
    code, out = cli("salesforce", "import", str(SALESFORCE / "scw-sfdx"))
    assert code == 1 and "--name" in out
    code, out = cli(
        "salesforce", "export", "SCW_Territory_Model", str(tmp_path), "--format", "mdapi"
    )
    assert code == 0 and "--metadata-dir" in out
    code, out = cli("salesforce", "export", "SCW_Territory_Model", str(tmp_path))
    assert code == 1 and "not empty" in out
    (
        tmp_path / "territory2Models/SCW_Territory_Model/rules/Fishing_Stores.territory2Rule"
    ).write_text("<Territory2Rule><active>true</active>")
    code, out = cli("salesforce", "import", str(tmp_path), "--name", "Other")
    assert code == 1 and "Fishing_Stores.territory2Rule" in out and "not well-formed" in out


def test_salesforce_account_export_imports_without_hand_editing(
    ws: Workspace, tmp_path: Path
) -> None:
    header = (
        "Id,Name,BillingStreet,BillingCity,BillingState,BillingPostalCode,BillingCountry,"
        "BillingStateCode,BillingCountryCode,BillingLatitude,BillingLongitude,Industry,Type,"
        "AnnualRevenue,NumberOfEmployees,OwnerId,RecordTypeId,CreatedDate,LastModifiedDate,"
        "SystemModstamp,IsDeleted,Tier__c"
    )
    rows = [
        '"0015g00000AbCdEAAV","Cabela\'s Inc.","1 Cabela Dr","Sidney","Nebraska","69160",'
        '"United States","NE","US","41.1423","-102.9779","Retail","Customer","4000000000",'
        '"19100","0055g00000XyZaBAAV","0125g000000AbCdAAA","2021-03-04T10:11:12.000+0000",'
        '"2024-01-02T03:04:05.000+0000","2024-01-02T03:04:05.000+0000","false","A"',
        '"0015g00000AbCdFAAV","Bass Pro, LLC","2500 E Kearney\nSuite 5","Springfield",'
        '"Missouri","65898","United States","MO","US","","","Retail","Prospect","",'
        '"","0055g00000XyZaBAAV","","2021-03-04T10:11:12.000+0000",'
        '"2024-01-02T03:04:05.000+0000","2024-01-02T03:04:05.000+0000","false",""',
    ]
    path = tmp_path / "Account_extract.csv"
    path.write_text(header + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
    with pytest.raises(ValidationError) as caught:
        imports.import_accounts(ws, path)
    assert "Tier__c" in str(caught.value) and "BillingStreet" not in str(caught.value)
    result = imports.import_accounts(ws, path, create_fields=True)
    assert (result.inserted, result.updated) == (2, 0)
    assert {f.name for f in result.created_fields} == {"Tier__c"}
    with ws.session() as s:
        acct = s.query(Account).filter_by(id="0015g00000AbCdEAAV").one()
        assert (acct.billing_state_code, acct.latitude, acct.record_type) == (
            "NE",
            41.1423,
            "0125g000000AbCdAAA",
        )
        assert acct.custom == {"Tier__c": "A"}
        assert acct.billing_street == "1 Cabela Dr"
