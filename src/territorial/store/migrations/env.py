"""Alembic environment: runs migrations on the engine handed over by ``Database.upgrade``."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from territorial.store.db import normalise_url
from territorial.store.schema import Base

config = context.config
engine = config.attributes.get("engine")
if engine is None:  # plain `alembic` command line: take the URL from the config
    engine = create_engine(normalise_url(config.get_main_option("sqlalchemy.url") or ""))

with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    context.run_migrations()
