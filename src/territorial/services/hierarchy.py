"""Territory types and the territory hierarchy of a model: add, rename, move, remove, tree."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, get_args

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from territorial.core import tree as walks
from territorial.core.model import AccessLevel
from territorial.core.naming import require_developer_name
from territorial.core.text import plural
from territorial.errors import Conflict, ValidationError
from territorial.services import audit, lookup
from territorial.services.models import require_editable
from territorial.services.workspace import Workspace
from territorial.store.schema import (
    AccountAssignmentRow,
    RuleAssociationRow,
    RuleRow,
    SalesUser,
    TerritoryModelRow,
    TerritoryRow,
    TerritoryTypeRow,
    UserAssignmentRow,
)

ACCESS_LEVELS: tuple[str, ...] = get_args(AccessLevel)


@dataclass(frozen=True)
class TypeInfo:
    developer_name: str
    name: str
    priority: int
    description: str


@dataclass(frozen=True)
class TreeNode:
    """One territory in a depth-first walk of the hierarchy."""

    developer_name: str
    name: str
    type: str
    depth: int
    parent: str | None
    accounts: int
    users: int
    rules: int


# -- territory types -----------------------------------------------------------------------


def add_type(
    ws: Workspace,
    name: str,
    *,
    priority: int,
    developer_name: str | None = None,
    description: str = "",
) -> TypeInfo:
    """Add a territory type. Priorities may repeat, as they do in real orgs."""
    with ws.session() as session:
        dev = require_developer_name(name, developer_name)
        if session.scalar(
            select(TerritoryTypeRow).where(
                func.lower(TerritoryTypeRow.developer_name) == dev.lower()
            )
        ):
            raise Conflict(f"Territory type {dev!r} already exists.", hint="Choose another name.")
        row = TerritoryTypeRow(
            developer_name=dev, name=name, priority=priority, description=description
        )
        session.add(row)
        audit.record(
            session,
            actor=ws.actor,
            action="type.add",
            entity="type",
            key=dev,
            after={"priority": priority, "name": name},
        )
        return TypeInfo(dev, name, priority, description)


def list_types(ws: Workspace) -> list[TypeInfo]:
    """Every territory type, highest priority first."""
    with ws.session() as session:
        rows = session.scalars(
            select(TerritoryTypeRow).order_by(
                TerritoryTypeRow.priority.desc(), TerritoryTypeRow.developer_name
            )
        )
        return [TypeInfo(r.developer_name, r.name, r.priority, r.description) for r in rows]


# -- territories ----------------------------------------------------------------------------


def _editable_model(session: Session, model: str) -> TerritoryModelRow:
    row = lookup.model(session, model)
    require_editable(row)
    return row


def _snapshot(session: Session, row: TerritoryRow) -> dict[str, Any]:
    parent = session.get(TerritoryRow, row.parent_pk) if row.parent_pk else None
    return {
        "developer_name": row.developer_name,
        "name": row.name,
        "parent": parent.developer_name if parent else None,
    }


def add_territory(
    ws: Workspace,
    model: str,
    name: str,
    *,
    type: str,
    parent: str | None = None,
    developer_name: str | None = None,
    description: str = "",
    access_levels: dict[str, str] | None = None,
) -> TreeNode:
    """Add a territory to a model, under ``parent`` or as a root."""
    with ws.session() as session:
        model_row = _editable_model(session, model)
        dev = require_developer_name(name, developer_name)
        exists = session.scalar(
            select(TerritoryRow).where(
                TerritoryRow.model_pk == model_row.pk,
                func.lower(TerritoryRow.developer_name) == dev.lower(),
            )
        )
        if exists:
            raise Conflict(
                f"Model {model_row.developer_name!r} already has a territory {dev!r}.",
                hint="Choose another name or pass --developer-name.",
            )
        type_row = lookup.territory_type(session, type)
        parent_row = lookup.territory(session, model_row, parent) if parent else None
        levels = _access_levels(access_levels or {})
        row = TerritoryRow(
            model_pk=model_row.pk,
            developer_name=dev,
            name=name,
            parent_pk=parent_row.pk if parent_row else None,
            type_pk=type_row.pk,
            description=description,
            **levels,
        )
        session.add(row)
        session.flush()
        audit.record(
            session,
            actor=ws.actor,
            action="territory.add",
            entity="territory",
            key=dev,
            model_pk=model_row.pk,
            after=_snapshot(session, row),
        )
        depth = len(walks.ancestors(_parents(session, model_row.pk), row.pk))
        return TreeNode(
            dev,
            name,
            type_row.developer_name,
            depth,
            parent_row.developer_name if parent_row else None,
            0,
            0,
            0,
        )


def _access_levels(given: dict[str, str]) -> dict[str, str]:
    levels: dict[str, str] = {}
    for key, value in given.items():
        column = f"{key.removesuffix('_access_level')}_access_level"
        if column not in (
            "account_access_level",
            "opportunity_access_level",
            "case_access_level",
            "contact_access_level",
        ):
            raise ValidationError(
                f"Unknown access level setting {key!r}.",
                hint="Use account, opportunity, case or contact.",
            )
        match = next((lvl for lvl in ACCESS_LEVELS if lvl.lower() == value.lower()), None)
        if match is None:
            raise ValidationError(
                f"Unknown access level {value!r} for {key}.",
                hint=f"Use one of {', '.join(ACCESS_LEVELS)}.",
            )
        levels[column] = match
    return levels


def _parents(session: Session, model_pk: int) -> dict[int, int | None]:
    """``{territory: parent}`` for one model, in one query."""
    rows = session.execute(
        select(TerritoryRow.pk, TerritoryRow.parent_pk).where(TerritoryRow.model_pk == model_pk)
    )
    return {pk: parent for pk, parent in rows}


def rename_territory(
    ws: Workspace, model: str, territory: str, new_name: str, *, developer_name: str | None = None
) -> None:
    """Change a territory's label (and, if given, its developer name)."""
    with ws.session() as session:
        model_row = _editable_model(session, model)
        row = lookup.territory(session, model_row, territory)
        before = _snapshot(session, row)
        if developer_name and developer_name != row.developer_name:
            dev = require_developer_name(new_name, developer_name)
            clash = session.scalar(
                select(TerritoryRow).where(
                    TerritoryRow.model_pk == model_row.pk,
                    func.lower(TerritoryRow.developer_name) == dev.lower(),
                )
            )
            if clash is not None:
                raise Conflict(f"Model {model_row.developer_name!r} already has {dev!r}.")
            row.developer_name = dev
        if not new_name.strip():
            raise ValidationError("A territory needs a name.")
        row.name = new_name.strip()
        audit.record(
            session,
            actor=ws.actor,
            action="territory.rename",
            entity="territory",
            key=row.developer_name,
            model_pk=model_row.pk,
            before=before,
            after=_snapshot(session, row),
        )


def move_territory(ws: Workspace, model: str, territory: str, parent: str | None) -> None:
    """Move a territory (with its subtree) under ``parent``; None makes it a root.

    A move under itself or one of its descendants (a cycle) is refused, and so is a parent
    from another model.
    """
    with ws.session() as session:
        model_row = _editable_model(session, model)
        row = lookup.territory(session, model_row, territory)
        new_parent = lookup.territory(session, model_row, parent) if parent else None
        before = _snapshot(session, row)
        reparent(session, row, new_parent)
        audit.record(
            session,
            actor=ws.actor,
            action="territory.move",
            entity="territory",
            key=row.developer_name,
            model_pk=model_row.pk,
            before=before,
            after=_snapshot(session, row),
        )


def reparent(session: Session, row: TerritoryRow, new_parent: TerritoryRow | None) -> None:
    """Set ``row``'s parent after checking the move keeps the hierarchy a forest."""
    if new_parent is not None:
        if new_parent.model_pk != row.model_pk:
            raise Conflict(
                f"Territory {row.developer_name!r} cannot move under "
                f"{new_parent.developer_name!r}: they belong to different models.",
                hint="Move territories within one model; clone a model to copy them across.",
            )
        chain = walks.ancestors(_parents(session, row.model_pk), new_parent.pk)
        if new_parent.pk == row.pk or row.pk in chain:
            raise Conflict(
                f"Moving {row.developer_name!r} under {new_parent.developer_name!r} "
                "would make a cycle: the new parent is the territory itself or one of its "
                "descendants.",
                hint="Choose a parent outside its subtree.",
            )
    row.parent_pk = new_parent.pk if new_parent else None
    session.flush()


def remove_territory(ws: Workspace, model: str, territory: str, *, subtree: bool = False) -> int:
    """Remove a territory; with ``subtree`` its descendants too. Returns how many went."""
    with ws.session() as session:
        model_row = _editable_model(session, model)
        row = lookup.territory(session, model_row, territory)
        children = list(
            session.scalars(select(TerritoryRow).where(TerritoryRow.parent_pk == row.pk))
        )
        if children and not subtree:
            names = ", ".join(sorted(c.developer_name for c in children)[:5])
            raise Conflict(
                f"Territory {row.developer_name!r} has "
                f"{plural(len(children), 'child territory', 'child territories')} ({names}).",
                hint="Move them first, or remove the whole subtree with --subtree.",
            )
        doomed = sorted(walks.subtree(_parents(session, model_row.pk), row.pk))
        removed = len(doomed)
        audit.record(
            session,
            actor=ws.actor,
            action="territory.remove",
            entity="territory",
            key=row.developer_name,
            model_pk=model_row.pk,
            before={**_snapshot(session, row), "territories_removed": removed},
        )
        session.execute(
            delete(AccountAssignmentRow).where(AccountAssignmentRow.territory_pk.in_(doomed))
        )
        session.delete(row)
        return removed


def tree(ws: Workspace, model: str | None = None) -> list[TreeNode]:
    """The hierarchy depth-first (siblings by developer name), with counts per territory."""
    with ws.session() as session:
        model_row = lookup.model_or_active(session, model)
        rows = list(
            session.scalars(select(TerritoryRow).where(TerritoryRow.model_pk == model_row.pk))
        )
        types = {t.pk: t.developer_name for t in session.scalars(select(TerritoryTypeRow))}
        accounts = _counts(
            session,
            select(
                AccountAssignmentRow.territory_pk,
                func.count(func.distinct(AccountAssignmentRow.account_pk)),
            )
            .where(AccountAssignmentRow.model_pk == model_row.pk)
            .group_by(AccountAssignmentRow.territory_pk),
        )
        users = _counts(
            session,
            select(UserAssignmentRow.territory_pk, func.count())
            .join(TerritoryRow, TerritoryRow.pk == UserAssignmentRow.territory_pk)
            .where(TerritoryRow.model_pk == model_row.pk)
            .group_by(UserAssignmentRow.territory_pk),
        )
        rules = _counts(
            session,
            select(RuleAssociationRow.territory_pk, func.count())
            .join(RuleRow, RuleRow.pk == RuleAssociationRow.rule_pk)
            .where(RuleRow.model_pk == model_row.pk)
            .group_by(RuleAssociationRow.territory_pk),
        )
    by_parent: dict[int | None, list[TerritoryRow]] = {}
    for r in rows:
        by_parent.setdefault(r.parent_pk, []).append(r)
    names = {r.pk: r.developer_name for r in rows}
    out: list[TreeNode] = []
    stack = [
        (r, 0)
        for r in sorted(by_parent.get(None, []), key=lambda r: r.developer_name, reverse=True)
    ]
    while stack:
        r, depth = stack.pop()
        out.append(
            TreeNode(
                r.developer_name,
                r.name,
                types.get(r.type_pk, "?"),
                depth,
                names.get(r.parent_pk) if r.parent_pk else None,
                accounts.get(r.pk, 0),
                users.get(r.pk, 0),
                rules.get(r.pk, 0),
            )
        )
        kids = sorted(by_parent.get(r.pk, []), key=lambda k: k.developer_name, reverse=True)
        stack.extend((k, depth + 1) for k in kids)
    return out


def _counts(session: Session, query: Any) -> dict[int, int]:
    return {int(k): int(v) for k, v in session.execute(query)}


def forecast_manager(ws: Workspace, model: str, territory: str, user: str | None) -> None:
    """Set (or clear) a territory's forecast manager."""
    with ws.session() as session:
        model_row = _editable_model(session, model)
        row = lookup.territory(session, model_row, territory)
        user_row: SalesUser | None = lookup.user(session, user) if user else None
        row.forecast_manager_pk = user_row.pk if user_row else None
        audit.record(
            session,
            actor=ws.actor,
            action="territory.forecast_manager",
            entity="territory",
            key=row.developer_name,
            model_pk=model_row.pk,
            after={"forecast_manager": user_row.id if user_row else None},
        )


__all__ = [
    "ACCESS_LEVELS",
    "TreeNode",
    "TypeInfo",
    "add_territory",
    "add_type",
    "forecast_manager",
    "list_types",
    "move_territory",
    "remove_territory",
    "rename_territory",
    "reparent",
    "tree",
]
