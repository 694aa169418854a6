"""Engines, sessions and migrations. Nothing connects until a ``Database`` is made."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from territorial.errors import ConfigurationError

MIGRATIONS = Path(__file__).parent / "migrations"


def normalise_url(url: str) -> str:
    """Use psycopg 3 for ``postgresql://`` URLs (SQLAlchemy would pick psycopg2).

    >>> normalise_url("postgresql://postgres@127.0.0.1/test")
    'postgresql+psycopg://postgres@127.0.0.1/test'
    >>> normalise_url("sqlite:///territorial.db")
    'sqlite:///territorial.db'
    """
    if url.startswith("postgres://"):
        url = "postgresql://" + url.removeprefix("postgres://")
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return url


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def make_engine(url: str) -> Engine:
    """An engine for ``url``: SQLite with WAL and foreign keys on, or PostgreSQL via psycopg."""
    try:
        parsed = make_url(normalise_url(url))
    except ArgumentError as err:
        raise ConfigurationError(
            f"Cannot read the database URL {url!r}.",
            hint="Use sqlite:///path/to/file.db or postgresql://user@host:5432/dbname.",
        ) from err
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(parsed)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if parsed.get_backend_name() == "postgresql":
        return create_engine(parsed, pool_pre_ping=True)
    raise ConfigurationError(
        f"Unsupported database {parsed.get_backend_name()!r} in {url!r}.",
        hint="Territorial runs on SQLite (the default) and PostgreSQL.",
    )


class Database:
    """One database: its engine, a session factory and its migrations."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.engine.dialect.name

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session in one transaction: committed on success, rolled back on any error."""
        with self._sessions() as session, session.begin():
            yield session

    @property
    def sqlite_file(self) -> Path | None:
        """The file of a SQLite database (``None`` for PostgreSQL or in-memory SQLite).

        >>> Database("sqlite:///data/territorial.db").sqlite_file
        PosixPath('data/territorial.db')
        >>> Database("sqlite://").sqlite_file is None
        True
        """
        url = self.engine.url
        database = url.database
        if url.get_backend_name() != "sqlite" or not database or database == ":memory:":
            return None
        if database.startswith("file:") or url.query.get("uri"):
            return None  # a SQLite URI filename: leave it to SQLite
        return Path(database)

    def exists(self) -> bool:
        """Whether the database is there, checked without creating it.

        Connecting to a SQLite file that does not exist would create an empty one, so a
        missing file is reported here instead; other databases are assumed to exist
        (connecting tells).
        """
        path = self.sqlite_file
        return path is None or path.exists()

    def is_initialised(self) -> bool:
        """Whether the Territorial tables are there (never creates a SQLite file)."""
        if not self.exists():
            return False
        try:
            return inspect(self.engine).has_table("alembic_version")
        except OperationalError as err:
            reason = " ".join(str(err.orig).split()).rstrip(".?")
            raise ConfigurationError(
                f"Cannot connect to the database {self.url!r}: {reason}.",
                hint="Check the URL given with --database or TERRITORIAL_DATABASE_URL.",
            ) from err

    def upgrade(self) -> None:
        """Create or upgrade every table to the newest migration (``territorial init``)."""
        from alembic import command

        path = self.sqlite_file
        if path is not None and not path.parent.is_dir():
            raise ConfigurationError(
                f"Cannot create the database {self.url!r}: the folder {str(path.parent)!r} "
                "does not exist.",
                hint=f"Create it first (mkdir -p {path.parent}) or choose another path.",
            )

        command.upgrade(self._alembic_config(), "head")

    def _alembic_config(self) -> Any:
        from alembic.config import Config

        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        config.attributes["engine"] = self.engine
        return config

    def dispose(self) -> None:
        self.engine.dispose()


__all__ = ["Database", "make_engine", "normalise_url"]
