"""The curated public API: exactly the names we mean to export, each one real."""

from __future__ import annotations

import pkgutil

import territorial

SUBMODULES = {m.name for m in pkgutil.iter_modules(territorial.__path__)}


def test_exported_names_are_exactly_the_public_ones() -> None:
    public = {name for name in dir(territorial) if not name.startswith("_")} - SUBMODULES
    assert set(territorial.__all__) == public | {"__version__"}


def test_the_journey_is_reachable_from_the_top_level() -> None:
    for name in (
        "Workspace",
        "clone_model",
        "run_rules",
        "activate_model",
        "account_team",
        "import_accounts",
        "export_assignments",
        "TerritorialError",
    ):
        assert name in territorial.__all__, name
        assert callable(getattr(territorial, name))
