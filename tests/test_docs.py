"""Docs that cannot drift: every command documented, with an example, in the reference."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer

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
