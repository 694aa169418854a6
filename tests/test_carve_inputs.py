"""What `territorial carve` refuses before carving, and how it says so; its output formats."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import select, update
from typer.testing import CliRunner, Result

from territorial.cli.app import app
from territorial.services import lookup
from territorial.services.demo import load_demo
from territorial.services.workspace import Workspace
from territorial.settings import Settings
from territorial.store import frames
from territorial.store.schema import Account, SalesUser, TerritoryRow, UserAssignmentRow

BASE = "FY2027_Territories"


@pytest.fixture
def demo(ws: Workspace) -> Workspace:
    load_demo(ws, accounts=3000, seed=3)
    return ws


def _carve(db_url: str, *options: str, fmt: str = "table", name: str = "Carved") -> Result:
    """A carve of NA_West through the command line."""
    return CliRunner().invoke(
        app,
        ["--database", db_url, "--format", fmt, "carve", BASE, "--parent", "NA_West",
         "--name", name, *options],
    )  # fmt: skip


def _error(db_url: str, *options: str) -> str:
    """The one-line error of a carve that must fail, checking nothing was written."""
    out = _carve(db_url, *options)
    output = out.output
    assert out.exit_code == 1, output
    lines = output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), output
    assert "Traceback" not in output
    listed = CliRunner().invoke(app, ["--database", db_url, "--format", "csv", "model", "list"])
    assert "Carved" not in listed.output
    return lines[0]


def test_numeric_options_out_of_range_are_refused(demo: Workspace, db_url: str) -> None:
    demo.close()
    k3 = ("--territories", "3")
    assert "--seed must be a whole number of 0 or more, not -1" in _error(
        db_url, *k3, "--seed", "-1"
    )
    assert "--keep must be 0 or more, not -1" in _error(db_url, *k3, "--keep", "-1")
    assert "--keep must be 0 or more, not nan" in _error(db_url, *k3, "--keep", "nan")
    error = _error(db_url, *k3, "--max-distance", "-5")
    assert "--max-distance must be a number of kilometres above 0, not -5" in error
    error = _error(db_url, *k3, "--tolerance", "potential=1.5")
    assert "--tolerance potential=1.5 is out of range: a tolerance is above 0 and below 1" in error
    assert "--tolerance 0 is out of range" in _error(db_url, *k3, "--tolerance", "0")


def test_tolerance_for_unknown_or_unbalanced_measures_is_refused(
    demo: Workspace, db_url: str
) -> None:
    demo.close()
    k3 = ("--territories", "3")
    error = _error(db_url, *k3, "--tolerance", "potential=0.05,bogus=0.1")
    assert "--tolerance names unknown measure 'bogus'" in error
    assert "The measures are potential, accounts, workload" in error
    error = _error(db_url, *k3, "--tolerance", "potential=0.05,acounts=0.1")
    assert "Did you mean 'accounts'?" in error
    error = _error(db_url, *k3, "--balance", "accounts", "--tolerance", "potential=0.05")
    assert "--tolerance gives a tolerance for 'potential', which is not balanced" in error
    assert "Add potential to --balance, or drop it from --tolerance" in error
    error = _error(db_url, *k3, "--tolerance", "accounts=0.1,accounts=0.2")
    assert "--tolerance gives 'accounts' twice" in error


@pytest.mark.parametrize(
    ("option", "formula", "what"),
    [
        ("--potential", "annual_revenue/0", "a value that is not a finite number"),
        ("--workload", "log(0)", "a value that is not a finite number"),
        ("--potential", "annual_revenue ** 50", "a value that is not a finite number"),
        ("--potential", "-annual_revenue", "a negative value"),
    ],
)
def test_formula_giving_bad_values_names_option_formula_and_an_account(
    demo: Workspace, db_url: str, option: str, formula: str, what: str
) -> None:
    with demo.session() as session:
        model = lookup.model(session, BASE)
        parent = lookup.territory(session, model, "NA_West")
        ids = set(frames.load_assignments(session, model.pk)["account_pk"])
        names = dict(
            session.execute(select(Account.id, Account.name).where(Account.pk.in_(ids))).all()
        )
    assert parent.developer_name == "NA_West"
    demo.close()
    error = _error(db_url, "--territories", "3", option, formula)
    assert f"{option} formula {formula!r}: " in error
    assert f"accounts under NA_West get {what}" in error and ", e.g. account " in error
    example = error.split("e.g. account ")[1].split(" ")[0]
    assert example in names and repr(names[example]) in error
    assert "max(" in error  # how to guard the formula


def _in_scope(ws: Workspace) -> list[str]:
    """Ids of accounts assigned under NA_West (the carve's scope), by id."""
    with ws.session() as session:
        model = lookup.model(session, BASE)
        parent = lookup.territory(session, model, "NA_West")
        rows = session.execute(select(TerritoryRow.pk, TerritoryRow.parent_pk)).all()
        under = {parent.pk}
        for _ in range(5):
            under |= {pk for pk, up in rows if up in under}
        pks = frames.load_assignments(session, model.pk, territory_pks=sorted(under))["account_pk"]
        return sorted(session.scalars(select(Account.id).where(Account.pk.in_(set(pks)))))


def test_accounts_without_coordinates(demo: Workspace, db_url: str) -> None:
    """Placed at their ZIP code's location (US), else at their postal code's accounts when
    some have coordinates; refused, naming one, when neither places them."""
    lone, placed = _in_scope(demo)[:2]
    with demo.session() as session:
        session.execute(
            update(Account)
            .where(Account.id.in_([lone, placed]))
            .values(latitude=None, longitude=None)
        )
        session.execute(
            update(Account).where(Account.id == lone).values(billing_postal_code="00001")
        )
    demo.close()
    error = _error(db_url, "--territories", "3")
    assert "1 account under NA_West has no coordinates" in error
    assert f"e.g. account {lone} " in error and "(postal code 00001)" in error
    assert "territorial account set ID BillingLatitude=LAT BillingLongitude=LON" in error
    with _workspace(db_url) as ws, ws.session() as session:
        session.execute(
            update(Account).where(Account.id == lone).values(latitude=100.0, longitude=0.0)
        )
    error = _error(db_url, "--territories", "3")
    assert f"1 account under NA_West has coordinates out of range, e.g. account {lone} " in error
    assert "latitude 100, longitude 0" in error
    with _workspace(db_url) as ws, ws.session() as session:
        session.execute(
            update(Account).where(Account.id == lone).values(latitude=37.0, longitude=-120.0)
        )
    out = _carve(
        db_url, "--territories", "3", "--balance", "accounts", "--tolerance", "0.2", fmt="json"
    )
    assert out.exit_code == 0, out.output
    warnings = json.loads(out.stdout)["warnings"]
    # A US account at a known ZIP code takes the ZIP code's location from the shipped table.
    assert any("1 US account at its ZIP code's location" in w for w in warnings), warnings


@contextmanager
def _workspace(db_url: str) -> Iterator[Workspace]:
    ws = Workspace(Settings(database_url=db_url, actor="tester"))
    try:
        yield ws
    finally:
        ws.close()


def _owners(ws: Workspace, count: int) -> list[tuple[str, str]]:
    """(id, email) of the first ``count`` users owning a territory, by id."""
    with ws.session() as session:
        rows = session.execute(
            select(SalesUser.id, SalesUser.email)
            .join(UserAssignmentRow, UserAssignmentRow.user_pk == SalesUser.pk)
            .where(UserAssignmentRow.role == "Territory Owner", SalesUser.email.is_not(None))
            .distinct()
            .order_by(SalesUser.id)
        ).all()
    return [(u, e) for u, e in rows][:count]


def test_reps_file_columns_emails_and_rows(demo: Workspace, db_url: str, tmp_path: Path) -> None:
    (a, a_email), (b, b_email) = _owners(demo, 2)
    demo.close()
    reps = tmp_path / "reps.csv"

    def refused(text: str) -> str:
        reps.write_text(text)
        return _error(db_url, "--reps", str(reps))

    error = refused(f"user,capcity,home_lat\n{a},0.5,\n{b},3,\n")
    assert f"{reps}: row 1: unknown columns 'capcity', 'home_lat'" in error
    assert "did you mean 'capacity' for 'capcity', 'home_latitude' for 'home_lat'?" in error
    assert "the columns are user, home_latitude, home_longitude, capacity" in error
    error = refused(f"user,capacity\n{a_email.upper()},1\nnobody@example.com,1\n")
    assert f"{reps}: row 3, column 'user': user 'nobody@example.com' not found" in error
    error = refused(f"user,capacity\n{a_email.upper()},1\n{b},1\n{a},2\n")
    assert f"row 4, column 'user': rep {a!r} is listed twice: row 2 names the same user" in error
    assert "capacity 0 is not above 0" in refused(f"user,capacity\n{a},0\n{b},1\n")
    assert "row 2, column 'home_latitude': 91 is out of range" in refused(
        f"user,home_latitude\n{a},91\n{b},\n"
    )
    # Emails match in any case; the capacities in the file size the territories.
    reps.write_text(f"User,Capacity\n{a_email.upper()},1\n{b_email.title()},3\n")
    out = _carve(
        db_url, "--reps", str(reps), "--balance", "accounts", "--tolerance", "0.1", fmt="json"
    )
    assert out.exit_code == 0, out.output
    document = json.loads(out.stdout)
    accounts = {t["owner id"]: t["accounts"] for t in document["territories"]}
    assert accounts[b] / accounts[a] == pytest.approx(3, rel=0.25)


def test_output_formats_and_tight_tolerances(demo: Workspace, db_url: str) -> None:
    demo.close()
    options = ("--territories", "3", "--balance", "accounts,potential", "--seed", "1")
    tight = ("--tolerance", "accounts=0.001,potential=0.2")
    runner = CliRunner()
    out = runner.invoke(
        app,
        ["--database", db_url, "--format", "json", "carve", BASE, "--parent", "NA_West",
         "--name", "Json", *options, *tight],
    )  # fmt: skip
    assert out.exit_code == 0, out.output
    document = json.loads(out.stdout)  # one JSON document on stdout
    assert document["model"] == "Json"
    assert [t["territory"] for t in document["territories"]] == [
        "NA_West_01", "NA_West_02", "NA_West_03",
    ]  # fmt: skip
    balance = {m["measure"]: m for m in document["quality"]["balance"]}
    assert balance["accounts"]["tolerance"] == pytest.approx(0.001)
    assert 0 <= document["quality"]["disruption"]["accounts"] <= 1
    outside = [w for w in document["warnings"] if w.startswith("accounts: ")]
    assert outside and "outside ±0.1% (worst " in outside[0], document["warnings"]
    out = runner.invoke(
        app,
        ["--database", db_url, "--format", "csv", "carve", BASE, "--parent", "NA_West",
         "--name", "Csv", *options],
    )  # fmt: skip
    assert out.exit_code == 0, out.output
    lines = out.stdout.strip().splitlines()  # one table: a header and one row per territory
    assert lines[0].split(",")[:3] == ["territory", "new", "accounts"]
    assert len(lines) == 4 and all(line.startswith("NA_West_0") for line in lines[1:])
    assert "Wrote planning model Csv" in out.stderr
