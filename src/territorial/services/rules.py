"""Assignment rules of a model: add, change, attach to territories, list, remove.

A rule is validated when it is saved: unknown field, operator not valid for the field's
type, a value that does not parse, a boolean filter that names a missing item or leaves
one out — each is refused with the rule and item named. A rule with no items is saved
(real orgs have them) with a warning that it matches nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from territorial.core.model import Rule, RuleItem
from territorial.core.naming import require_developer_name
from territorial.core.rules.compile import validate_rules
from territorial.core.rules.items import parse_item
from territorial.errors import Conflict, NotFound
from territorial.services import audit, fields, lookup
from territorial.services.models import require_editable
from territorial.services.workspace import Workspace
from territorial.store.schema import (
    AccountAssignmentRow,
    RuleAssociationRow,
    RuleItemRow,
    RuleRow,
    TerritoryModelRow,
    TerritoryRow,
)

ItemInput = str | RuleItem


@dataclass(frozen=True)
class RuleInfo:
    """A rule with its items and where it is attached."""

    developer_name: str
    name: str
    active: bool
    boolean_filter: str | None
    items: tuple[RuleItem, ...]
    territories: tuple[tuple[str, bool], ...] = ()
    """(territory developer name, inherited) for every association."""
    warnings: tuple[str, ...] = field(default=())

    def describe_items(self) -> str:
        return "; ".join(f"{i.number}. {i.field} {i.operator} {i.value}" for i in self.items)


def _items(rule: str, given: Sequence[ItemInput]) -> tuple[RuleItem, ...]:
    items = []
    for number, item in enumerate(given, start=1):
        if isinstance(item, RuleItem):
            items.append(RuleItem(number, item.field, item.operator, item.value))
        else:
            items.append(parse_item(item, number, rule=rule))
    return tuple(items)


def _validate(session: Session, rule: Rule) -> tuple[str, ...]:
    """Raise the rule's problems; return its warnings."""
    report = validate_rules([rule], fields.catalog(session, "account"))
    report.raise_errors()
    return tuple(str(w) for w in report.warnings)


def _editable(session: Session, model: str) -> TerritoryModelRow:
    row = lookup.model(session, model)
    require_editable(row)
    return row


def _info(session: Session, row: RuleRow, warnings: tuple[str, ...] = ()) -> RuleInfo:
    items = tuple(
        RuleItem(i.number, i.field, i.operator, i.value)
        for i in session.scalars(
            select(RuleItemRow).where(RuleItemRow.rule_pk == row.pk).order_by(RuleItemRow.number)
        )
    )
    territories = tuple(
        (name, inherited)
        for name, inherited in session.execute(
            select(TerritoryRow.developer_name, RuleAssociationRow.inherited)
            .join(RuleAssociationRow, RuleAssociationRow.territory_pk == TerritoryRow.pk)
            .where(RuleAssociationRow.rule_pk == row.pk)
            .order_by(TerritoryRow.developer_name)
        )
    )
    return RuleInfo(
        row.developer_name, row.name, row.active, row.boolean_filter, items, territories, warnings
    )


def _snapshot(info: RuleInfo) -> dict[str, object]:
    return {
        "active": info.active,
        "filter": info.boolean_filter,
        "items": [f"{i.field} {i.operator} {i.value}" for i in info.items],
    }


def add_rule(
    ws: Workspace,
    model: str,
    name: str,
    *,
    items: Sequence[ItemInput] = (),
    boolean_filter: str | None = None,
    active: bool = True,
    developer_name: str | None = None,
) -> RuleInfo:
    """Add a validated rule to a model. Items are ``RuleItem`` or ``"FIELD OPERATOR VALUE"``,
    numbered from 1 in the order given."""
    with ws.session() as session:
        model_row = _editable(session, model)
        dev = require_developer_name(name, developer_name)
        clash = session.scalar(
            select(RuleRow).where(
                RuleRow.model_pk == model_row.pk, func.lower(RuleRow.developer_name) == dev.lower()
            )
        )
        if clash is not None:
            raise Conflict(
                f"Model {model_row.developer_name!r} already has a rule {clash.developer_name!r}.",
                hint="Choose another name, or change that rule with 'territorial rule update'.",
            )
        rule = Rule(dev, _items(dev, items), boolean_filter or None, active, name)
        warnings = _validate(session, rule)
        row = RuleRow(
            model_pk=model_row.pk,
            developer_name=dev,
            name=name,
            active=active,
            boolean_filter=rule.boolean_filter,
        )
        session.add(row)
        session.flush()
        _write_items(session, row.pk, rule.items)
        info = _info(session, row, warnings)
        audit.record(
            session,
            actor=ws.actor,
            action="rule.add",
            entity="rule",
            key=dev,
            model_pk=model_row.pk,
            after=_snapshot(info),
        )
        return info


def _write_items(session: Session, rule_pk: int, items: Sequence[RuleItem]) -> None:
    session.execute(delete(RuleItemRow).where(RuleItemRow.rule_pk == rule_pk))
    session.add_all(
        RuleItemRow(
            rule_pk=rule_pk, number=i.number, field=i.field, operator=i.operator, value=i.value
        )
        for i in items
    )
    session.flush()


_UNCHANGED = "\x00unchanged"


def update_rule(
    ws: Workspace,
    model: str,
    rule: str,
    *,
    items: Sequence[ItemInput] | None = None,
    boolean_filter: str | None = _UNCHANGED,
    active: bool | None = None,
    name: str | None = None,
) -> RuleInfo:
    """Change a rule: replace its items, its filter (None removes it), activate or
    deactivate it, or relabel it. The result is validated as a whole."""
    with ws.session() as session:
        model_row = _editable(session, model)
        row = lookup.rule(session, model_row, rule)
        before = _info(session, row)
        new_items = _items(row.developer_name, items) if items is not None else before.items
        new_filter = (
            before.boolean_filter if boolean_filter == _UNCHANGED else (boolean_filter or None)
        )
        new_active = row.active if active is None else active
        candidate = Rule(row.developer_name, new_items, new_filter, new_active, name or row.name)
        warnings = _validate(session, candidate)
        row.boolean_filter = new_filter
        row.active = new_active
        if name:
            row.name = name
        if items is not None:
            _write_items(session, row.pk, new_items)
        after = _info(session, row, warnings)
        audit.record(
            session,
            actor=ws.actor,
            action="rule.update",
            entity="rule",
            key=row.developer_name,
            model_pk=model_row.pk,
            before=_snapshot(before),
            after=_snapshot(after),
        )
        return after


def attach_rule(
    ws: Workspace, model: str, rule: str, territory: str, *, inherited: bool = False
) -> None:
    """Attach a rule to a territory; ``inherited`` applies it to every descendant too.
    Attaching again changes the inherited flag."""
    with ws.session() as session:
        model_row = _editable(session, model)
        rule_row = lookup.rule(session, model_row, rule)
        terr = lookup.territory(session, model_row, territory)
        row = session.scalar(
            select(RuleAssociationRow).where(
                RuleAssociationRow.rule_pk == rule_row.pk,
                RuleAssociationRow.territory_pk == terr.pk,
            )
        )
        before = {"inherited": row.inherited} if row else None
        if row is None:
            session.add(
                RuleAssociationRow(rule_pk=rule_row.pk, territory_pk=terr.pk, inherited=inherited)
            )
        else:
            row.inherited = inherited
        audit.record(
            session,
            actor=ws.actor,
            action="rule.attach",
            entity="rule_association",
            key=f"{rule_row.developer_name}@{terr.developer_name}",
            model_pk=model_row.pk,
            before=before,
            after={"inherited": inherited},
        )


def detach_rule(ws: Workspace, model: str, rule: str, territory: str) -> None:
    """Detach a rule from a territory (the rule itself stays in the model)."""
    with ws.session() as session:
        model_row = _editable(session, model)
        rule_row = lookup.rule(session, model_row, rule)
        terr = lookup.territory(session, model_row, territory)
        result = session.execute(
            delete(RuleAssociationRow).where(
                RuleAssociationRow.rule_pk == rule_row.pk,
                RuleAssociationRow.territory_pk == terr.pk,
            )
        )
        if not result.rowcount:  # type: ignore[attr-defined]
            raise NotFound(
                "rule association",
                f"{rule_row.developer_name} on {terr.developer_name}",
                hint=f"See 'territorial rule show {model_row.developer_name} "
                f"{rule_row.developer_name}'.",
            )
        audit.record(
            session,
            actor=ws.actor,
            action="rule.detach",
            entity="rule_association",
            key=f"{rule_row.developer_name}@{terr.developer_name}",
            model_pk=model_row.pk,
        )


def remove_rule(ws: Workspace, model: str, rule: str) -> None:
    """Delete a rule and its associations. Its assignments go at the next run."""
    with ws.session() as session:
        model_row = _editable(session, model)
        row = lookup.rule(session, model_row, rule)
        audit.record(
            session,
            actor=ws.actor,
            action="rule.remove",
            entity="rule",
            key=row.developer_name,
            model_pk=model_row.pk,
            before=_snapshot(_info(session, row)),
        )
        session.execute(
            update(AccountAssignmentRow)
            .where(AccountAssignmentRow.rule_pk == row.pk)
            .values(rule_pk=None)
        )
        session.delete(row)


def list_rules(ws: Workspace, model: str | None = None) -> list[RuleInfo]:
    """Every rule of a model (the active one by default), by developer name."""
    with ws.session() as session:
        model_row = lookup.model_or_active(session, model)
        rows = session.scalars(
            select(RuleRow).where(RuleRow.model_pk == model_row.pk).order_by(RuleRow.developer_name)
        )
        return [_info(session, r) for r in rows]


def show_rule(ws: Workspace, model: str | None, rule: str) -> RuleInfo:
    """One rule with its items and territories."""
    with ws.session() as session:
        model_row = lookup.model_or_active(session, model)
        return _info(session, lookup.rule(session, model_row, rule))


@dataclass(frozen=True)
class RuleCheck:
    """Every problem and warning in a model's rules, found in one pass."""

    rules: int
    errors: tuple[str, ...]
    warnings: tuple[str, ...]
    unattached: tuple[str, ...]
    """Rules attached to no territory (each a warning: it assigns nothing)."""

    @property
    def warning_count(self) -> int:
        """The warnings about rules, and one per rule attached to no territory."""
        return len(self.warnings) + len(self.unattached)


def check_rules(ws: Workspace, model: str | None = None) -> RuleCheck:
    """Validate all rules of a model at once, and list the rules attached to no territory."""
    with ws.session() as session:
        model_row = lookup.model_or_active(session, model)
        infos = [
            _info(session, r)
            for r in session.scalars(select(RuleRow).where(RuleRow.model_pk == model_row.pk))
        ]
        report = validate_rules(
            [Rule(i.developer_name, i.items, i.boolean_filter, i.active, i.name) for i in infos],
            fields.catalog(session, "account"),
        )
    return RuleCheck(
        rules=len(infos),
        errors=tuple(str(e) for e in report.errors),
        warnings=tuple(str(w) for w in report.warnings),
        unattached=tuple(sorted(i.developer_name for i in infos if not i.territories)),
    )


__all__ = [
    "RuleCheck",
    "RuleInfo",
    "add_rule",
    "attach_rule",
    "check_rules",
    "detach_rule",
    "list_rules",
    "remove_rule",
    "show_rule",
    "update_rule",
]
