"""Small builders shared by the import and export tests."""

from __future__ import annotations

from pathlib import Path

from territorial.services import hierarchy, models
from territorial.services.workspace import Workspace


def write(tmp_path: Path, name: str, text: str) -> Path:
    """Write a UTF-8 text file into the test's folder and return its path."""
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def make_model(ws: Workspace) -> None:
    """Model FY27 with territories West (label 'West Coast') and East ('East Coast')."""
    hierarchy.add_type(ws, "Geo", priority=1)
    models.create_model(ws, "FY 27", developer_name="FY27")
    hierarchy.add_territory(ws, "FY27", "West Coast", developer_name="West", type="Geo")
    hierarchy.add_territory(ws, "FY27", "East Coast", developer_name="East", type="Geo")
