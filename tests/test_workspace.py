"""Where the database is: a missing one is reported, never created by a read."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from territorial.cli.app import app

runner = CliRunner()


@pytest.fixture
def empty_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The working directory, with no database and no database URL configured."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TERRITORIAL_DATABASE_URL", raising=False)
    return tmp_path


@pytest.mark.parametrize(
    "command", [["model", "list"], ["field", "list"], ["export", "accounts", "-o", "a.csv"]]
)
def test_a_read_where_no_database_exists_creates_no_file(
    empty_folder: Path, command: list[str]
) -> None:
    result = runner.invoke(app, command)
    assert result.exit_code == 1
    err = " ".join(result.stderr.split())
    assert "'sqlite:///territorial.db' does not exist" in err and "territorial init" in err
    assert sorted(p.name for p in empty_folder.iterdir()) == []


def test_a_missing_database_named_by_url_is_not_created(empty_folder: Path) -> None:
    url = f"sqlite:///{empty_folder / 'team.db'}"
    result = runner.invoke(app, ["--database", url, "model", "list"])
    assert result.exit_code == 1 and "does not exist" in result.stderr
    assert not (empty_folder / "team.db").exists()


def test_init_creates_the_database_then_reads_work(empty_folder: Path) -> None:
    assert runner.invoke(app, ["init"]).exit_code == 0
    assert (empty_folder / "territorial.db").is_file()
    result = runner.invoke(app, ["model", "list"])
    assert result.exit_code == 0, result.stderr


def test_init_in_a_missing_folder_says_which(empty_folder: Path) -> None:
    url = f"sqlite:///{empty_folder / 'nowhere' / 'x.db'}"
    result = runner.invoke(app, ["--database", url, "init"])
    assert result.exit_code == 1
    err = " ".join(result.stderr.split())
    assert "folder" in err and "nowhere" in err and "mkdir -p" in err
