"""Fresh databases for benchmarks: a SQLite file under ``bench-data/`` and a dedicated
PostgreSQL database, never the one the tests use.

PostgreSQL: ``TERRITORIAL_BENCH_PG_URL`` (default
``postgresql://postgres@127.0.0.1:5432/territorial_bench``); the database is created when
missing and emptied (schema dropped and recreated) before each use.
"""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from territorial.store.db import normalise_url

DATA = Path(__file__).resolve().parents[1] / "bench-data"
PG_URL = os.environ.get(
    "TERRITORIAL_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/territorial_bench"
)


def fresh_sqlite(name: str = "bench.db") -> str:
    """The URL of an empty SQLite file under ``bench-data/``."""
    DATA.mkdir(exist_ok=True)
    target = DATA / name
    for suffix in ("", "-wal", "-shm"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    return f"sqlite:///{target}"


def fresh_postgresql() -> str | None:
    """The bench database, created if needed and emptied; None when the server is away."""
    url = make_url(normalise_url(PG_URL))
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            exists = conn.scalar(
                text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": url.database}
            )
            if not exists:
                conn.execute(text(f'CREATE DATABASE "{url.database}"'))
    except Exception as err:
        print(f"PostgreSQL skipped: cannot reach {PG_URL} ({type(err).__name__}: {err})")
        return None
    finally:
        admin.dispose()
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    return PG_URL
