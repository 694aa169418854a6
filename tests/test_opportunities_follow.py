"""Open opportunities follow their account when an import or ``account set`` moves it to
other territories of the active model; closed ones keep the territory they closed in."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from opportunity_helpers import in_model
from territorial.cli.app import app
from territorial.core.model import ModelSpec, Rule, RuleAssociation, RuleItem, Territory
from territorial.core.model import TerritoryType as Type
from territorial.services import imports, models, online, specs
from territorial.services.workspace import Workspace
from territorial.store.schema import Account, Opportunity


@pytest.fixture
def live(org: Workspace, tmp_path: Path) -> Workspace:
    """'Live' (active): West = postal codes 9…, East = 1…, Big (an overlay, priority 5) =
    revenue ≥ 1M. 001A (94105) is in West with open 006A, closed 006D and excluded 006E;
    001B (10001) in East and Big with open 006B, which goes to East (priority 10)."""
    spec = ModelSpec(
        "Live",
        types=[Type("Geo", 10), Type("Overlay", 5)],
        territories=[
            Territory("West", "Geo"),
            Territory("East", "Geo"),
            Territory("Big", "Overlay"),
        ],
        rules=[
            Rule("West", (RuleItem(1, "BillingPostalCode", "startsWith", "9"),)),
            Rule("East", (RuleItem(1, "BillingPostalCode", "startsWith", "1"),)),
            Rule("Big", (RuleItem(1, "AnnualRevenue", "greaterOrEqual", "1000000"),)),
        ],
        associations=[RuleAssociation(r, r) for r in ("West", "East", "Big")],
    )
    specs.create_model_from_spec(org, spec)
    with org.session() as s:
        accounts = {a.id: a for a in s.scalars(select(Account))}
        accounts["001A"].billing_postal_code = "94105"
        accounts["001B"].billing_postal_code = "10001"
        accounts["001B"].annual_revenue = 5_000_000
        s.add_all(
            [
                Opportunity(id="006A", account_pk=accounts["001A"].pk, name="A"),
                Opportunity(id="006D", account_pk=accounts["001A"].pk, name="D", is_closed=True),
                Opportunity(
                    id="006E",
                    account_pk=accounts["001A"].pk,
                    name="E",
                    excluded_from_territory_filter=True,
                ),
                Opportunity(id="006B", account_pk=accounts["001B"].pk, name="B"),
            ]
        )
    models.activate_model(org, "Live", include_closed=True)
    assert in_model(org, "Live") == {"006A": "West", "006D": "West", "006B": "East"}
    return org


def _file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "accounts.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_import_moves_open_opportunities_with_their_account_and_not_closed_ones(
    live: Workspace, tmp_path: Path
) -> None:
    moved = _file(tmp_path, "Id,Name,BillingPostalCode\n001A,Acme,10005\n001B,Globex,10001\n")
    result = imports.import_accounts(live, moved)
    assert in_model(live, "Live") == {"006A": "East", "006D": "West", "006B": "East"}
    assert result.opportunities_changed == 1
    assert "; 1 open opportunity changed territory." in result.summary()


def test_import_that_moves_no_account_changes_no_opportunity(
    live: Workspace, tmp_path: Path
) -> None:
    renamed = _file(tmp_path, "Id,Name,BillingPostalCode\n001A,Acme Inc,94110\n")
    result = imports.import_accounts(live, renamed)
    assert (result.updated, result.opportunities_changed) == (1, 0)
    assert "; 0 open opportunities changed territory." in result.summary()
    assert in_model(live, "Live")["006A"] == "West"


def test_opportunities_follow_the_model_policy(live: Workspace, tmp_path: Path) -> None:
    # 001B drops out of East: Big alone is left, so 006B goes there; 001A leaves every
    # territory, so 006A is left without one.
    moved = _file(tmp_path, "Id,Name,BillingPostalCode\n001A,Acme,\n001B,Globex,50001\n")
    result = imports.import_accounts(live, moved)
    assert in_model(live, "Live") == {"006D": "West", "006B": "Big"}
    assert result.opportunities_changed == 2


def test_an_import_that_fails_late_moves_no_opportunity(
    live: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fail(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(imports, "audit_import", fail)  # the last step, after the moves
    moved = _file(tmp_path, "Id,Name,BillingPostalCode\n001A,Acme,10005\n")
    with pytest.raises(RuntimeError):
        imports.import_accounts(live, moved)
    assert in_model(live, "Live")["006A"] == "West"


def test_account_set_moves_open_opportunities(live: Workspace, db_url: str) -> None:
    saved = online.save_account(live, "001A", {"BillingPostalCode": "10005"})
    assert saved.opportunities_changed == 1
    assert in_model(live, "Live") == {"006A": "East", "006D": "West", "006B": "East"}
    out = CliRunner().invoke(
        app, ["--database", db_url, "account", "set", "001A", "BillingPostalCode=94105"]
    )
    assert out.exit_code == 0, out.output
    assert "1 open opportunity changed territory" in " ".join(out.output.split())
    assert in_model(live, "Live")["006A"] == "West"
