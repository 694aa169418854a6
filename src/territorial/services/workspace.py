"""The entry point of the Python API: one database and the person acting on it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.orm import Session

from territorial.errors import ConfigurationError
from territorial.settings import Settings
from territorial.store.db import Database


class Workspace:
    """A connection to one Territorial database on behalf of one actor.

    Every service function takes a workspace first. Nothing connects until the first
    session is opened.

    >>> ws = Workspace(Settings(database_url="sqlite://", actor="doc"))
    >>> ws.actor
    'doc'
    """

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or Settings.from_env()
        self.db = Database(self.settings.database_url)
        self.cache: dict[object, object] = {}
        """In-memory indexes and other derived data, keyed by their owners."""

    @classmethod
    def open(cls, url: str | None = None, *, actor: str | None = None) -> Workspace:
        """Open the database at ``url`` (or the configured one)."""
        return cls(Settings.from_env(database_url=url, actor=actor))

    @property
    def actor(self) -> str:
        return self.settings.actor

    def init(self) -> None:
        """Create or upgrade the schema (idempotent)."""
        self.db.upgrade()

    @contextmanager
    def session(self) -> Iterator[Session]:
        """One transaction: everything inside commits together or not at all.

        A database that does not exist yet is an error, and no SQLite file is left
        behind: only :meth:`init` (``territorial init``, ``territorial demo``) creates one.
        """
        if not self.db.exists():
            raise ConfigurationError(
                f"The database {self.db.url!r} does not exist (no file {self.db.sqlite_file}).",
                hint="Run 'territorial init' to create it (or 'territorial demo'), or point "
                "--database or TERRITORIAL_DATABASE_URL at an existing database.",
            )
        if not self.db.is_initialised():
            raise ConfigurationError(
                f"The database {self.db.url!r} has no Territorial tables yet.",
                hint="Run 'territorial init' first (or 'territorial demo').",
            )
        with self.db.session() as session:
            yield session

    def close(self) -> None:
        self.db.dispose()

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


__all__ = ["Workspace"]
