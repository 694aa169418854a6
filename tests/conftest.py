"""Shared fixtures: one fresh, migrated database per test, on SQLite or PostgreSQL.

Select PostgreSQL with ``--database-url postgresql://...`` or ``TERRITORIAL_DATABASE_URL``.
SQLite tests copy a database file migrated once per session; PostgreSQL tests migrate once
and truncate every table before each test.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from territorial.services.workspace import Workspace
from territorial.settings import Settings
from territorial.store.db import Database
from territorial.store.schema import Base

# Shared test helpers (tests/*_helpers.py) are importable: tests use --import-mode=importlib.
if str(Path(__file__).resolve().parent) not in sys.path:
    sys.path.insert(0, str(Path(__file__).resolve().parent))

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
FIXTURES = SHARED / "fixtures"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--database-url",
        default=os.environ.get("TERRITORIAL_DATABASE_URL", ""),
        help="Run the database tests against this URL (default: temporary SQLite files).",
    )


@pytest.fixture(scope="session")
def database_url(request: pytest.FixtureRequest) -> str:
    return str(request.config.getoption("--database-url"))


@pytest.fixture(scope="session")
def _template(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A migrated database: a SQLite file to copy, or the PostgreSQL URL itself."""
    if database_url and not database_url.startswith("sqlite"):
        db = Database(database_url)
        with db.engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        db.upgrade()
        db.dispose()
        return database_url
    path = tmp_path_factory.mktemp("template") / "template.db"
    db = Database(f"sqlite:///{path}")
    db.upgrade()
    with db.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    db.dispose()
    return str(path)


@pytest.fixture
def db_url(_template: str, tmp_path: Path) -> str:
    """The URL of an empty, migrated database for this test."""
    if _template.startswith("postgresql"):
        db = Database(_template)
        tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
        with db.engine.begin() as conn:
            conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        db.dispose()
        return _template
    target = tmp_path / "test.db"
    shutil.copyfile(_template, target)
    return f"sqlite:///{target}"


@pytest.fixture
def ws(db_url: str) -> Iterator[Workspace]:
    """A workspace on a fresh database, acting as 'tester'."""
    workspace = Workspace(Settings(database_url=db_url, actor="tester"))
    yield workspace
    workspace.close()


@pytest.fixture
def org(ws: Workspace) -> Workspace:
    """A small organisation: two types, a model 'Base' (NA > West, East), two users, three
    accounts. Built through the library's services."""
    from territorial.services import hierarchy, models
    from territorial.store.schema import Account, SalesUser

    hierarchy.add_type(ws, "Geo", priority=10)
    hierarchy.add_type(ws, "Overlay", priority=5)
    models.create_model(ws, "Base")
    hierarchy.add_territory(ws, "Base", "North America", developer_name="NA", type="Geo")
    hierarchy.add_territory(ws, "Base", "West", type="Geo", parent="NA")
    hierarchy.add_territory(ws, "Base", "East", type="Geo", parent="NA")
    with ws.session() as s:
        s.add_all(
            [
                SalesUser(id="005A", name="Ana Lima", email="ana@example.com"),
                SalesUser(id="005B", name="Bo Chen", email="bo@example.com"),
                Account(id="001A", name="Acme", billing_state_code="CA"),
                Account(id="001B", name="Globex", billing_state_code="NY"),
                Account(id="001C", name="Initech", billing_state_code="TX"),
            ]
        )
    return ws
