"""Generate ``docs/cli-reference.md`` from the commands' own ``--help`` text.

Run ``make docs`` (or ``python -m territorial.cli.docgen > docs/cli-reference.md``); a test
fails when the committed reference differs from what the code says.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import typer

from territorial.cli.app import app

HEADER = """# Command-line reference

Generated from each command's `--help` by `make docs`; do not edit by hand.
"""


def walk(command: Any, path: list[str]) -> Iterator[tuple[list[str], Any]]:
    """Every command below ``command``, depth first, in registration order."""
    yield path, command
    for name in getattr(command, "commands", {}):
        yield from walk(command.commands[name], [*path, name])


def help_text(command: Any, path: list[str]) -> str:
    """The command's ``--help`` at a fixed width, so the reference is the same everywhere."""
    ctx = command.context_class(
        command, info_name=" ".join(path), terminal_width=100, max_content_width=100
    )
    return str(command.get_help(ctx)).rstrip()


def reference() -> str:
    root = typer.main.get_command(app)
    parts = [HEADER]
    for path, command in walk(root, ["territorial"]):
        level = "#" * min(len(path) + 1, 4)
        parts.append(f"\n{level} `{' '.join(path)}`\n\n```text\n{help_text(command, path)}\n```\n")
    return "".join(parts)


def commands() -> list[str]:
    """Full names of every leaf command (``territorial model clone``...)."""
    root = typer.main.get_command(app)
    return [" ".join(p) for p, c in walk(root, ["territorial"]) if not hasattr(c, "commands")]


if __name__ == "__main__":
    print(reference(), end="")
