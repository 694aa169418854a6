"""The audit log: every change, with who, when, what, before and after."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from territorial.store.schema import AuditRow, TerritoryModelRow

if TYPE_CHECKING:
    from territorial.services.workspace import Workspace


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


@dataclass(frozen=True)
class AuditEntry:
    """One change: when, who, what, in which model, and the values before and after."""

    at: datetime
    actor: str
    action: str
    entity: str
    entity_key: str | None
    model: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None


def log(ws: Workspace, *, model: str | None = None, limit: int = 100) -> list[AuditEntry]:
    """The newest audit entries first, optionally only those of one model."""
    from territorial.services import lookup

    with ws.session() as session:
        model_pk = lookup.model(session, model).pk if model else None
        names = {
            pk: name
            for pk, name in session.execute(
                select(TerritoryModelRow.pk, TerritoryModelRow.developer_name)
            )
        }
        return [
            AuditEntry(
                e.at,
                e.actor,
                e.action,
                e.entity,
                e.entity_key,
                names.get(e.model_pk) if e.model_pk else None,
                e.before,
                e.after,
            )
            for e in entries(session, model_pk=model_pk, limit=limit)
        ]


def entries(session: Session, *, model_pk: int | None = None, limit: int = 100) -> list[AuditRow]:
    """The newest entries first, optionally for one model."""
    query = select(AuditRow).order_by(AuditRow.pk.desc()).limit(limit)
    if model_pk is not None:
        query = query.where(AuditRow.model_pk == model_pk)
    return list(session.scalars(query))


__all__ = ["AuditEntry", "entries", "log", "now", "record"]
