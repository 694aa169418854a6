"""The import, export and field commands through the CLI, in process."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from territorial.cli.app import app

runner = CliRunner()


def cli(db_url: str, *args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, ["--database", db_url, *args])
    status = " ".join(result.stderr.split())
    return result.exit_code, result.stdout, status


def test_import_export_and_fields(db_url: str, tmp_path: Path) -> None:
    source = tmp_path / "accounts.csv"
    source.write_text("Id,Name,Tier__c\n1,Acme,Gold\n2,Globex,\n", encoding="utf-8")
    code, _, err = cli(db_url, "import", "accounts", str(source), "--create-fields")
    assert code == 0, err
    assert "2 account rows, 2 inserted, 0 updated, 0 unchanged" in err
    assert "Tier__c (text)" in err
    code, out, _ = cli(db_url, "--format", "csv", "field", "list", "--object", "account")
    assert code == 0 and "Tier__c,Tier__c,text,True" in out
    code, _, err = cli(db_url, "field", "add", "Score__c", "--type", "number")
    assert code == 0 and "Added number field 'Score__c'" in err
    target = tmp_path / "out.parquet"
    code, _, err = cli(db_url, "export", "accounts", "-o", str(target), "--salesforce-names")
    assert code == 0 and "2 account rows written" in err and target.exists()
    code, _, err = cli(db_url, "import", "accounts", str(target))
    assert code == 0 and "0 inserted, 0 updated, 2 unchanged" in err


def test_ignore_unknown_warns_once_with_the_columns(db_url: str, tmp_path: Path) -> None:
    source = tmp_path / "User_extract.csv"
    source.write_text("Id,Name,IsActive,ProfileId\n005A,Ann,true,00e000000000001\n", "utf-8")
    result = runner.invoke(app, ["--database", db_url, "import", "users", str(source)])
    assert result.exit_code == 1 and "--ignore-unknown" in result.stderr
    result = runner.invoke(
        app, ["--database", db_url, "import", "users", str(source), "--ignore-unknown"]
    )
    assert result.exit_code == 0, result.stderr
    lines = [" ".join(line.split()) for line in result.stderr.splitlines()]
    warnings = [line for line in lines if line.startswith("Warning:")]
    assert len(warnings) == 1 and "'IsActive', 'ProfileId'" in warnings[0]
    assert "1 user row, 1 inserted" in result.stderr


@pytest.mark.parametrize(
    ("args", "content", "fragments"),
    [
        (
            ["import", "accounts"],
            "id,name,Foo\n1,A,x\n",
            ["unknown column 'Foo'", "--create-fields", "--ignore-unknown"],
        ),
        (["import", "accounts"], "id,name,annual_revenue\n1,A,abc\n", ["row 2", "'abc'"]),
        (["import", "opportunities"], "id,account_id,name\nO1,A9,x\n", ["'A9' not found"]),
        (
            ["import", "assignments", "--model", "FY27"],
            "account,territory\n1,W\n",
            ["model 'FY27' not found"],
        ),
        (["field", "add", "BillingCity", "--type", "text"], None, ["standard field"]),
    ],
)
def test_errors_exit_1_on_one_line(
    db_url: str, tmp_path: Path, args: list[str], content: str | None, fragments: list[str]
) -> None:
    if content is not None:
        path = tmp_path / "in.csv"
        path.write_text(content, encoding="utf-8")
        args = [*args[:2], str(path), *args[2:]]
    result = runner.invoke(app, ["--database", db_url, *args])
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1, result.stderr  # one line, however long
    err = " ".join(result.stderr.split())
    assert err.startswith("Error: "), err
    for fragment in fragments:
        assert fragment in err


COMMANDS = [
    f"{group} {name}"
    for group, names in {
        "import": ["accounts", "opportunities", "users", "user-territories", "assignments"],
        "export": ["accounts", "opportunities", "users", "user-territories", "assignments"],
        "field": ["list", "add"],
    }.items()
    for name in names
]


@pytest.mark.parametrize("command", COMMANDS)
def test_help_has_an_example(command: str) -> None:
    result = runner.invoke(app, [*command.split(), "--help"])
    assert result.exit_code == 0
    assert "Example: territorial " + command.split()[0] in result.stdout
