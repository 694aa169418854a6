"""What the command line prints, whatever command prints it: tables piped to a file or
another program keep whole lines."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from territorial.cli.app import app
from territorial.services import models
from territorial.services.workspace import Workspace


def test_piped_tables_do_not_wrap(
    org: Workspace, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("COLUMNS", raising=False)
    label = "Fiscal year 2028 plan with a label far longer than a terminal line " * 2
    models.create_model(org, label.strip(), developer_name="FY2028_Plan_with_a_long_name")
    out = CliRunner().invoke(app, ["--database", db_url, "model", "list"])
    assert out.exit_code == 0, out.output
    lines = out.stdout.splitlines()
    assert any("developer_name" in line and "assigned_accounts" in line for line in lines)
    row = next(line for line in lines if "FY2028_Plan_with_a_long_name" in line)
    assert label.strip() in row


def test_columns_still_sets_the_width_of_piped_tables(
    org: Workspace, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "60")
    out = CliRunner().invoke(app, ["--database", db_url, "model", "list"])
    assert out.exit_code == 0, out.output
    assert max(len(line) for line in out.stdout.splitlines()) <= 60
