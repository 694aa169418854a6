"""Docs that cannot drift: every command documented, with an example, in the reference."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from territorial.cli import docgen
from territorial.cli.app import app

ROOT = Path(__file__).resolve().parents[1]


def test_cli_reference_is_current() -> None:
    committed = (ROOT / "docs" / "cli-reference.md").read_text(encoding="utf-8")
    assert committed == docgen.reference(), "run 'make docs' and commit docs/cli-reference.md"


@pytest.mark.parametrize("name", docgen.commands())
def test_every_command_has_an_example(name: str) -> None:
    root = typer.main.get_command(app)
    command = root
    for part in name.split()[1:]:
        command = command.commands[part]  # type: ignore[attr-defined]
    assert "Example: territorial " in docgen.help_text(command, name.split()), name


def test_readme_names_every_command_group() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    groups = {name.split()[1] for name in docgen.commands()}
    missing = sorted(g for g in groups if f"territorial {g}" not in readme)
    assert not missing, f"README does not mention: {missing}"


def _help(name: str) -> str:
    result = CliRunner().invoke(app, [*name.split()[1:], "--help"], terminal_width=100)
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.parametrize("name", docgen.commands())
def test_help_shows_placeholders_people_read(name: str) -> None:
    """Usage lines and options name what to give in capitals (MODEL, TERRITORY, FILE) or
    list the choices; never Python's types or braces."""
    text = _help(name)
    usage = text.splitlines()[0]
    assert not re.search(r"\{\w+\}|\[[a-z_]+\]", usage), usage
    assert not re.search(r"<[a-z%][^>]*>", text), text


def test_help_lists_choices_and_names_arguments() -> None:
    carve = _help("territorial carve")
    assert carve.startswith("Usage: territorial carve [OPTIONS] MODEL\n")
    assert "--units [account|zip3|zip5]" in carve
    assert "--parent TERRITORY" in carve
    assert _help("territorial compare").startswith("Usage: territorial compare [OPTIONS] A [B]")
    assert "--level [siblings|leaves|users]" in _help("territorial report balance")
