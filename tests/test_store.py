"""The schema: migrations apply and enforce what the data model promises."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import IntegrityError

from territorial.services.workspace import Workspace
from territorial.store.schema import TerritoryModelRow


def test_only_one_model_can_be_active_at_the_database_level(ws: Workspace) -> None:
    with ws.session() as s:
        s.add(TerritoryModelRow(developer_name="A", name="A", state="active"))
    with pytest.raises(IntegrityError), ws.session() as s:
        s.add(TerritoryModelRow(developer_name="B", name="B", state="active"))
    with ws.session() as s:
        s.add(TerritoryModelRow(developer_name="C", name="C", state="planning"))
