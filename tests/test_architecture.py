"""The layers of DESIGN.md section 4 hold: dependencies point one way."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "territorial"

FORBIDDEN = {
    "core": (
        "sqlalchemy",
        "alembic",
        "psycopg",
        "fastapi",
        "typer",
        "rich",
        "territorial.store",
        "territorial.services",
        "territorial.io",
        "territorial.cli",
        "territorial.api",
        "territorial.web",
    ),
    "store": (
        "territorial.services",
        "territorial.cli",
        "territorial.api",
        "territorial.web",
        "typer",
        "fastapi",
    ),
    "io": (
        "territorial.services",
        "territorial.cli",
        "territorial.api",
        "territorial.web",
        "typer",
        "fastapi",
    ),
    "services": ("territorial.cli", "territorial.api", "territorial.web", "typer", "fastapi"),
    "demo": ("sqlalchemy", "territorial.store", "territorial.services", "territorial.cli"),
}


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_layer_imports_point_one_way(layer: str) -> None:
    root = PACKAGE / layer
    files = [root.with_suffix(".py")] if root.with_suffix(".py").exists() else []
    files += sorted(root.rglob("*.py")) if root.is_dir() else []
    assert files, f"no code found for layer {layer}"
    offences = [
        f"{path.relative_to(PACKAGE)} imports {name}"
        for path in files
        for name in sorted(imports_of(path))
        if any(name == bad or name.startswith(bad + ".") for bad in FORBIDDEN[layer])
    ]
    assert not offences
