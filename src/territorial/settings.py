"""Typed settings, read from the environment only when asked (no import-time side effects)."""

from __future__ import annotations

import getpass
import os
from dataclasses import dataclass, field

DEFAULT_DATABASE_URL = "sqlite:///territorial.db"


def _default_actor() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (containers)
        return "unknown"


@dataclass(frozen=True)
class Settings:
    """Where the data lives and who is acting (recorded in the audit log and on runs).

    >>> Settings(database_url="sqlite://").database_url
    'sqlite://'
    """

    database_url: str = DEFAULT_DATABASE_URL
    actor: str = field(default_factory=_default_actor)

    @classmethod
    def from_env(cls, *, database_url: str | None = None, actor: str | None = None) -> Settings:
        """Explicit values first, then ``TERRITORIAL_DATABASE_URL``/``TERRITORIAL_ACTOR``."""
        return cls(
            database_url=database_url
            or os.environ.get("TERRITORIAL_DATABASE_URL")
            or DEFAULT_DATABASE_URL,
            actor=actor or os.environ.get("TERRITORIAL_ACTOR") or _default_actor(),
        )


__all__ = ["DEFAULT_DATABASE_URL", "Settings"]
