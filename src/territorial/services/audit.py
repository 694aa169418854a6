"""The audit log: every change, with who, when, what, before and after."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from territorial.store.schema import AuditRow


def now() -> datetime:
    """The current time in UTC, without tzinfo (as stored)."""
    return datetime.now(UTC).replace(tzinfo=None)


def record(
    session: Session,
    *,
    actor: str,
    action: str,
    entity: str,
    key: str | None = None,
    model_pk: int | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    """Add one audit entry in the caller's transaction (so it commits or rolls back with it)."""
    session.add(
        AuditRow(
            at=now(),
            actor=actor,
            action=action,
            entity=entity,
            entity_key=key,
            model_pk=model_pk,
            before=before,
            after=after,
        )
    )


def entries(session: Session, *, model_pk: int | None = None, limit: int = 100) -> list[AuditRow]:
    """The newest entries first, optionally for one model."""
    query = select(AuditRow).order_by(AuditRow.pk.desc()).limit(limit)
    if model_pk is not None:
        query = query.where(AuditRow.model_pk == model_pk)
    return list(session.scalars(query))


__all__ = ["entries", "now", "record"]
