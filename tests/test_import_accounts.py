"""Importing accounts: column names, types, upsert, bad files, transactionality."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from sqlalchemy import func, select, update

from territorial.errors import InputFileError
from territorial.services.fields import add_field, list_fields
from territorial.services.imports import import_accounts
from territorial.services.workspace import Workspace
from territorial.store import bulk
from territorial.store.schema import Account, AuditRow


def write(tmp_path: Path, text: str, name: str = "accounts.csv", *, bom: bool = False) -> Path:
    path = tmp_path / name
    data = text.encode("utf-8")
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + data)
    return path


def accounts(ws: Workspace) -> dict[str, Account]:
    with ws.session() as session:
        return {a.id: a for a in session.scalars(select(Account))}


def test_salesforce_names_and_types(ws: Workspace, tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "Id,Name,BillingPostalCode,Account.BillingCity,AnnualRevenue,NumberOfEmployees,"
        "ExcludedFromRealign,CreatedDate,attributes\n"
        "001,Acme,09001,Zürich,1250000.5,250,Yes,2020-01-01T00:00:00.000+0000,x\n"
        "002,Globex,,,,,,,\n",
        bom=True,
    )
    result = import_accounts(ws, path)
    assert (result.rows, result.inserted, result.updated) == (2, 2, 0)
    assert set(result.ignored_columns) == {"CreatedDate", "attributes"}
    rows = accounts(ws)
    acme = rows["001"]
    assert acme.billing_postal_code == "09001"  # text stays text (leading zero kept)
    assert acme.billing_city == "Zürich"
    assert acme.annual_revenue == 1250000.5
    assert acme.number_of_employees == 250
    assert acme.excluded_from_realign is True
    globex = rows["002"]
    assert globex.billing_postal_code is None and globex.annual_revenue is None
    assert globex.excluded_from_realign is False  # empty boolean = false


def test_upsert_updates_present_columns_and_keeps_absent_ones(
    ws: Workspace, tmp_path: Path
) -> None:
    first = write(tmp_path, "id,name,billing_city,industry\n1,A,Paris,Tech\n2,B,Rome,Retail\n")
    import_accounts(ws, first)
    second = write(tmp_path, "id,name,billing_city\n2,B2,Milan\n3,C,Oslo\n", "second.csv")
    result = import_accounts(ws, second)
    assert (result.rows, result.inserted, result.updated) == (2, 1, 1)
    rows = accounts(ws)
    assert (rows["1"].name, rows["1"].billing_city) == ("A", "Paris")
    assert (rows["2"].name, rows["2"].billing_city, rows["2"].industry) == ("B2", "Milan", "Retail")
    assert rows["3"].industry is None


def test_custom_fields_are_merged_on_update(ws: Workspace, tmp_path: Path) -> None:
    import_accounts(
        ws, write(tmp_path, "id,name,Tier__c,Score__c\n1,A,Gold,5\n"), create_fields=True
    )
    import_accounts(ws, write(tmp_path, "id,name,Tier__c\n1,A,Silver\n", "b.csv"))
    assert accounts(ws)["1"].custom == {"Tier__c": "Silver", "Score__c": 5.0}
    import_accounts(ws, write(tmp_path, "id,name,Tier__c\n1,A,\n", "c.csv"))
    assert accounts(ws)["1"].custom == {"Score__c": 5.0}


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (["1", "2.5", ""], "number"),
        (["-3", "0", "0.25", "+12.50"], "number"),
        (["00e000000000001", "00E000000000001"], "text"),  # Salesforce ids, not 0e0
        (["001e00000000001", "2"], "text"),  # not 10.0
        (["007", "12"], "text"),  # codes keep their leading zeros
        (["1e6", "2"], "text"),  # exponent notation is not a plain number
        ([".5", "1."], "text"),
        (["2026-01-31", "2026-02-01T00:00:00.000+0000"], "date"),
        (["yes", "No", "TRUE"], "boolean"),
        (["Gold", "1"], "text"),
        (["", ""], "text"),
    ],
)
def test_create_fields_infers_types(
    ws: Workspace, tmp_path: Path, values: list[str], expected: str
) -> None:
    body = "".join(f"{i},N{i},{v}\n" for i, v in enumerate(values))
    result = import_accounts(ws, write(tmp_path, "id,name,New__c\n" + body), create_fields=True)
    assert [(f.name, f.type.value) for f in result.created_fields] == [("New__c", expected)]
    custom = [f for f in list_fields(ws, "account") if f.custom]
    assert [(f.name, f.type.value) for f in custom] == [("New__c", expected)]


def test_unknown_columns_are_all_listed(ws: Workspace, tmp_path: Path) -> None:
    path = write(tmp_path, "id,name,Foo,Bar__c,baz\n1,A,x,y,z\n")
    with pytest.raises(InputFileError) as err:
        import_accounts(ws, path)
    text = str(err.value)
    for fragment in (
        "accounts.csv",
        "'Foo'",
        "'Bar__c'",
        "'baz'",
        "--create-fields",
        "territorial field add",
    ):
        assert fragment in text
    assert accounts(ws) == {}


# Each bad file: its content (or bytes) and fragments the message must contain.
BAD_FILES: list[tuple[str, Any, list[str]]] = [
    (
        "wrong number",
        "id,name,annual_revenue\n1,A,10\n2,B,10\n3,C,10\n4,D,10\n5,E,10\n6,F,abc\n",
        ["row 7", "'annual_revenue'", "'abc' is not a number"],
    ),
    (
        "thousands",
        'id,name,AnnualRevenue\n1,A,"1,000"\n',
        ["row 2", "'AnnualRevenue'", "without thousands separators: 1000"],
    ),
    ("bad date", "id,name,Since__c\n1,A,31/01/2026\n", ["row 2", "'Since__c'", "ISO dates"]),
    (
        "bad boolean",
        "id,name,excluded_from_realign\n1,A,maybe\n",
        ["row 2", "'excluded_from_realign'", "true/false"],
    ),
    ("missing id column", "name\nA\n", ["missing required column 'id'", "Id"]),
    ("missing name column", "Id,BillingCity\n1,Paris\n", ["missing required column 'name'"]),
    ("empty id", "id,name\n1,A\n,B\n", ["row 3", "'id'", "is empty"]),
    ("duplicate ids", "id,name\n1,A\n2,B\n1,C\n", ["'1' appears more than once", "rows 2, 4"]),
    (
        "ragged rows",
        "id,name,billing_city\n1,A,Paris\n2,B\n3,C,Rome,extra\n",
        ["row 3", "has 2 fields but the header has 3", "row 4", "has 4 fields"],
    ),
    (
        "not utf-8",
        "id,name\n1,A\n2,Caf\xe9\n".encode("latin-1"),
        ["not UTF-8", "line 3", "0xe9", "UTF-8"],
    ),
    ("empty file", "", ["empty"]),
    ("duplicate header", "id,name,Name\n1,A,B\n", ["'Name'", "twice"]),
    (
        "multi-line value",
        'id,name,annual_revenue\n1,"two\nlines",5\n2,B,x\n',
        ["row 4", "'x' is not a number"],
    ),
]


@pytest.mark.parametrize(("case", "content", "fragments"), BAD_FILES, ids=[c[0] for c in BAD_FILES])
def test_bad_files(
    ws: Workspace, tmp_path: Path, case: str, content: Any, fragments: list[str]
) -> None:
    add_field(ws, "account", "Since__c", "date")  # a declared custom field
    path = tmp_path / "accounts.csv"
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    with pytest.raises(InputFileError) as err:
        import_accounts(ws, path, create_fields=True)
    text = str(err.value)
    assert "accounts.csv" in text and "Nothing was changed" in text
    for fragment in fragments:
        assert fragment in text, (case, text)
    assert accounts(ws) == {}


def test_problems_are_collected_in_one_pass(ws: Workspace, tmp_path: Path) -> None:
    path = write(tmp_path, "id,name,annual_revenue,latitude\n1,A,x,1\n1,B,2,y\n")
    with pytest.raises(InputFileError) as err:
        import_accounts(ws, path)
    rows = {(p.row, p.column) for p in err.value.problems}
    assert {(2, "annual_revenue"), (3, "latitude"), (2, None)} <= rows


@pytest.mark.parametrize(
    ("name", "fragment"), [("a.xlsx", "'.xlsx'"), ("missing.csv", "not found")]
)
def test_unsupported_or_missing_file(
    ws: Workspace, tmp_path: Path, name: str, fragment: str
) -> None:
    path = tmp_path / name
    if name.endswith(".xlsx"):
        path.write_bytes(b"PK")
    with pytest.raises(InputFileError, match=fragment):
        import_accounts(ws, path)


def test_parquet_rows_are_numbered_like_csv(ws: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "a.parquet"
    pl.DataFrame(
        {"id": ["1", "2"], "name": ["A", "B"], "latitude": ["1.5", "north"]}
    ).write_parquet(path)
    with pytest.raises(InputFileError, match="row 3, column 'latitude'"):
        import_accounts(ws, path)


def test_database_error_rolls_everything_back(
    ws: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import_accounts(ws, write(tmp_path, "id,name,billing_city\n1,A,Paris\n2,B,Rome\n"))
    monkeypatch.setattr(bulk, "BATCH_ROWS", 2)
    real_upsert = bulk.upsert

    def upsert_then_fail(*args: Any, **kwargs: Any) -> None:
        real_upsert(*args, **kwargs)  # every batch reaches the database...
        raise RuntimeError("disk full")  # ...then the transaction fails

    monkeypatch.setattr("territorial.services.imports.bulk.upsert", upsert_then_fail)
    path = write(
        tmp_path, "id,name,billing_city,New__c\n1,A2,Lyon,x\n3,C,Oslo,y\n4,D,Bern,z\n", "b.csv"
    )
    with pytest.raises(RuntimeError, match="disk full"):
        import_accounts(ws, path, create_fields=True)
    rows = accounts(ws)
    assert sorted(rows) == ["1", "2"]
    assert (rows["1"].name, rows["1"].billing_city, rows["1"].custom) == ("A", "Paris", None)
    assert not [f for f in list_fields(ws, "account") if f.custom]
    with ws.session() as session:
        assert session.scalar(select(func.count()).select_from(AuditRow)) == 1


def test_one_audit_entry_with_counts(ws: Workspace, tmp_path: Path) -> None:
    import_accounts(ws, write(tmp_path, "id,name\n1,A\n2,B\n"))
    with ws.session() as session:
        entries = list(session.scalars(select(AuditRow).where(AuditRow.action == "import")))
    assert len(entries) == 1
    assert entries[0].entity == "account" and entries[0].actor == "tester"
    assert entries[0].after is not None
    assert (entries[0].after["inserted"], entries[0].after["updated"]) == (2, 0)


def test_reimport_counts_and_rewrites_only_real_changes(ws: Workspace, tmp_path: Path) -> None:
    text = "id,name,billing_city,annual_revenue,Tier__c,Since__c\n"
    text += "1,A,Paris,10.5,Gold,2026-01-31\n2,B,,,,\n3,C,Rome,0,Silver,\n"
    first = import_accounts(ws, write(tmp_path, text), create_fields=True)
    assert (first.inserted, first.updated, first.unchanged) == (3, 0, 0)
    long_ago = datetime(2000, 1, 1)
    with ws.session() as session:
        session.execute(update(Account).values(updated_at=long_ago))

    same = import_accounts(ws, write(tmp_path, text, "same.csv"))
    assert (same.rows, same.inserted, same.updated, same.unchanged) == (3, 0, 0, 3)
    assert "0 inserted, 0 updated, 3 unchanged" in same.summary()
    assert {a.updated_at for a in accounts(ws).values()} == {long_ago}  # nothing rewritten

    changed = text.replace("Rome", "Milan").replace("2,B,,,,", "2,B,,,Bronze,") + "4,D,,,,\n"
    result = import_accounts(ws, write(tmp_path, changed, "changed.csv"))
    assert (result.rows, result.inserted, result.updated, result.unchanged) == (4, 1, 2, 1)
    rows = accounts(ws)
    assert rows["1"].updated_at == long_ago
    assert rows["2"].updated_at != long_ago and rows["3"].updated_at != long_ago
    with ws.session() as session:
        audits = session.scalars(
            select(AuditRow).where(AuditRow.action == "import").order_by(AuditRow.pk)
        ).all()
    assert [(e.after or {}).get("updated") for e in audits] == [0, 0, 2]
    assert [(e.after or {}).get("unchanged") for e in audits] == [0, 3, 1]


def test_batches_cover_every_row(
    ws: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bulk, "BATCH_ROWS", 3)
    body = "".join(f"{i},Name {i},{i * 10}\n" for i in range(10))
    seen: list[tuple[int, int]] = []
    result = import_accounts(
        ws,
        write(tmp_path, "id,name,annual_revenue\n" + body),
        on_progress=lambda done, total: seen.append((done, total)),
    )
    assert result.inserted == 10
    assert seen[-1] == (10, 10)
    assert accounts(ws)["9"].annual_revenue == 90
