"""Load the generated demo organisation into a workspace, through the normal import paths."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import func, select

from territorial.demo import DemoOrg, generate
from territorial.errors import Conflict
from territorial.io.tabular import write_table
from territorial.services import imports, links, models, specs
from territorial.services.workspace import Workspace
from territorial.store.schema import Account, Base, TerritoryModelRow

STAGES = (
    "generate",
    "import users",
    "import accounts",
    "import opportunities",
    "create model",
    "assign named accounts",
    "activate",
)


def _is_empty(ws: Workspace) -> bool:
    with ws.session() as session:
        has_accounts = session.scalar(select(func.count()).select_from(Account)) or 0
        has_models = session.scalar(select(func.count()).select_from(TerritoryModelRow)) or 0
    return not has_accounts and not has_models


def reset(ws: Workspace) -> None:
    """Delete every row of every table (the schema stays)."""
    with ws.session() as session:
        for table in reversed(Base.metadata.sorted_tables):
            session.execute(table.delete())


def load_demo(
    ws: Workspace,
    *,
    accounts: int = 25_000,
    seed: int | None = 0,
    replace: bool = False,
    on_stage: Callable[[str], None] | None = None,
) -> DemoOrg:
    """Generate a demo organisation and load it: users, accounts, opportunities, the
    starter model with its named accounts, then activate it (which runs its rules).

    Refuses a database that already holds accounts or models unless ``replace``.
    """
    stage = on_stage or (lambda _name: None)
    ws.init()
    if not _is_empty(ws):
        if not replace:
            raise Conflict(
                f"The database {ws.db.url!r} already holds data.",
                hint="Use another --database, or pass --reset to replace everything in it.",
            )
        reset(ws)
    stage("generate")
    org = generate(accounts, seed=seed)
    with tempfile.TemporaryDirectory(prefix="territorial-demo-") as tmp:
        folder = Path(tmp)
        stage("import users")
        imports.import_users(ws, _write(org.users, folder / "users.parquet"))
        stage("import accounts")
        imports.import_accounts(
            ws, _write(org.accounts, folder / "accounts.parquet"), create_fields=True
        )
        stage("import opportunities")
        imports.import_opportunities(ws, _write(org.opportunities, folder / "opps.parquet"))
        stage("create model")
        specs.create_model_from_spec(ws, org.model)
        stage("assign named accounts")
        named = org.manual_assignments.rename({"account_id": "account"})
        links.import_assignments(
            ws, _write(named, folder / "named.parquet"), model=org.model.developer_name
        )
    stage("activate")
    # The starter model stands for the one the org has run all along: its closed
    # opportunities were assigned while it was live.
    models.activate_model(ws, org.model.developer_name, include_closed=True)
    return org


def _write(frame: object, path: Path) -> Path:
    write_table(frame, path)  # type: ignore[arg-type]
    return path


__all__ = ["STAGES", "load_demo", "reset"]
