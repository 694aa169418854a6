"""Write a whole model described as data (``ModelSpec``) into the store, and read one back.

Importers (the demo generator, Salesforce metadata) produce a ``ModelSpec``; this module
checks it as a whole (every problem listed at once) and persists it in one transaction.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from territorial.core.model import (
    ModelSpec,
    ModelState,
    Rule,
    RuleAssociation,
    RuleItem,
    Territory,
    TerritoryType,
    UserAssignment,
)
from territorial.core.naming import is_developer_name
from territorial.errors import ValidationError
from territorial.services import audit, lookup
from territorial.services.models import ModelInfo, check_new_model_name, model_info
from territorial.services.workspace import Workspace
from territorial.store.schema import (
    RuleAssociationRow,
    RuleItemRow,
    RuleRow,
    SalesUser,
    TerritoryModelRow,
    TerritoryRow,
    TerritoryTypeRow,
    UserAssignmentRow,
)


def spec_problems(spec: ModelSpec) -> list[str]:
    """Everything structurally wrong with a spec (names, parents, cycles, references)."""
    problems: list[str] = []
    problems += _duplicates("territory", (t.developer_name for t in spec.territories))
    problems += _duplicates("rule", (r.developer_name for r in spec.rules))
    problems += [
        f"territory {t.developer_name!r}: not a valid developer name"
        for t in spec.territories
        if not is_developer_name(t.developer_name)
    ]
    names = {t.developer_name for t in spec.territories}
    rules = {r.developer_name for r in spec.rules}
    problems += [
        f"territory {t.developer_name!r}: parent {t.parent!r} is not in the model"
        for t in spec.territories
        if t.parent is not None and t.parent not in names
    ]
    problems += [
        f"association: rule {a.rule!r} is not in the model"
        for a in spec.associations
        if a.rule not in rules
    ]
    problems += [
        f"association of rule {a.rule!r}: territory {a.territory!r} is not in the model"
        for a in spec.associations
        if a.territory not in names
    ]
    problems += [
        f"user {u.user!r}: territory {u.territory!r} is not in the model"
        for u in spec.user_assignments
        if u.territory not in names
    ]
    problems += _cycles(spec.territories)
    return problems


def _duplicates(kind: str, names: Iterable[str]) -> list[str]:
    seen: set[str] = set()
    dupes: list[str] = []
    for n in names:
        if n.lower() in seen:
            dupes.append(f"{kind} {n!r} appears more than once")
        seen.add(n.lower())
    return dupes


def _cycles(territories: list[Territory]) -> list[str]:
    parent = {t.developer_name: t.parent for t in territories}
    bad: list[str] = []
    for start in parent:
        seen = {start}
        node = parent.get(start)
        while node is not None and node in parent:
            if node in seen:
                bad.append(f"territory {start!r}: its parents form a cycle")
                break
            seen.add(node)
            node = parent[node]
    return bad


def create_model_from_spec(
    ws: Workspace, spec: ModelSpec, *, state: ModelState = ModelState.PLANNING
) -> ModelInfo:
    """Persist ``spec`` as a new model in one transaction; every problem is listed at once."""
    with ws.session() as session:
        return write_spec(session, spec, actor=ws.actor, state=state)


def write_spec(
    session: Session, spec: ModelSpec, *, actor: str, state: ModelState = ModelState.PLANNING
) -> ModelInfo:
    """Persist ``spec`` inside the caller's transaction."""
    problems = spec_problems(spec)
    dev = check_new_model_name(session, spec.label, spec.developer_name)
    types = _ensure_types(session, spec.types)
    users = lookup.user_pks(session, (u.user for u in spec.user_assignments))
    problems += [
        f"territory {t.developer_name!r}: type {t.type!r} is unknown"
        for t in spec.territories
        if t.type.lower() not in types
    ]
    problems += [
        f"user {u.user!r} (on {u.territory!r}) is unknown; import users first"
        for u in spec.user_assignments
        if u.user not in users
    ]
    if problems:
        shown = "; ".join(problems[:20]) + (
            f"; and {len(problems) - 20} more" if len(problems) > 20 else ""
        )
        raise ValidationError(
            f"Model {spec.developer_name!r} cannot be created: {shown}.",
            hint="Nothing was written; correct the model and try again.",
        )
    model = TerritoryModelRow(
        developer_name=dev,
        name=spec.label,
        description=spec.description,
        state=state,
        rule_combination=spec.rule_combination,
        settings=dict(spec.settings) or None,
        created_at=audit.now(),
    )
    session.add(model)
    session.flush()
    territory_pks = _write_territories(session, model.pk, spec.territories, types)
    rule_pks = _write_rules(session, model.pk, spec.rules)
    session.add_all(
        RuleAssociationRow(
            rule_pk=rule_pks[a.rule], territory_pk=territory_pks[a.territory], inherited=a.inherited
        )
        for a in spec.associations
    )
    session.add_all(
        UserAssignmentRow(
            territory_pk=territory_pks[u.territory], user_pk=users[u.user], role=u.role
        )
        for u in spec.user_assignments
    )
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="model.import",
        entity="model",
        key=dev,
        model_pk=model.pk,
        after={
            "territories": len(spec.territories),
            "rules": len(spec.rules),
            "associations": len(spec.associations),
            "user_assignments": len(spec.user_assignments),
        },
    )
    return model_info(session, model)


def _ensure_types(session: Session, wanted: list[TerritoryType]) -> dict[str, int]:
    """Territory types by lower-cased developer name; the spec's missing ones are created."""
    existing = {t.developer_name.lower(): t for t in session.scalars(select(TerritoryTypeRow))}
    for t in wanted:
        if t.developer_name.lower() not in existing:
            row = TerritoryTypeRow(
                developer_name=t.developer_name,
                name=t.label,
                priority=t.priority,
                description=t.description,
            )
            session.add(row)
            existing[t.developer_name.lower()] = row
    session.flush()
    return {k: v.pk for k, v in existing.items()}


def _write_territories(
    session: Session, model_pk: int, territories: list[Territory], types: dict[str, int]
) -> dict[str, int]:
    rows: dict[str, TerritoryRow] = {}
    for t in territories:
        rows[t.developer_name] = TerritoryRow(
            model_pk=model_pk,
            developer_name=t.developer_name,
            name=t.label,
            type_pk=types[t.type.lower()],
            description=t.description,
            account_access_level=t.account_access_level,
            opportunity_access_level=t.opportunity_access_level,
            case_access_level=t.case_access_level,
            contact_access_level=t.contact_access_level,
            target=t.target,
            custom=dict(t.custom) or None,
        )
    session.add_all(rows.values())
    session.flush()
    for t in territories:
        if t.parent is not None:
            rows[t.developer_name].parent_pk = rows[t.parent].pk
    session.flush()
    return {name: row.pk for name, row in rows.items()}


def _write_rules(session: Session, model_pk: int, rules: list[Rule]) -> dict[str, int]:
    rows = {
        r.developer_name: RuleRow(
            model_pk=model_pk,
            developer_name=r.developer_name,
            name=r.label,
            active=r.active,
            boolean_filter=r.boolean_filter or None,
        )
        for r in rules
    }
    session.add_all(rows.values())
    session.flush()
    session.add_all(
        RuleItemRow(
            rule_pk=rows[r.developer_name].pk,
            number=i.number,
            field=i.field,
            operator=i.operator,
            value=i.value,
        )
        for r in rules
        for i in r.items
    )
    return {name: row.pk for name, row in rows.items()}


def read_spec(ws: Workspace, model: str) -> ModelSpec:
    """A stored model as data (for exports and for comparing with what was imported)."""
    with ws.session() as session:
        row = lookup.model(session, model)
        return _read(session, row)


def _read(session: Session, model: TerritoryModelRow) -> ModelSpec:
    type_rows = {t.pk: t for t in session.scalars(select(TerritoryTypeRow))}
    terr_rows = list(
        session.scalars(
            select(TerritoryRow).where(TerritoryRow.model_pk == model.pk).order_by(TerritoryRow.pk)
        )
    )
    by_pk = {t.pk: t for t in terr_rows}
    rule_rows = list(
        session.scalars(select(RuleRow).where(RuleRow.model_pk == model.pk).order_by(RuleRow.pk))
    )
    items: dict[int, list[RuleItem]] = {}
    for i in session.scalars(
        select(RuleItemRow)
        .where(RuleItemRow.rule_pk.in_([r.pk for r in rule_rows]))
        .order_by(RuleItemRow.rule_pk, RuleItemRow.number)
    ):
        items.setdefault(i.rule_pk, []).append(RuleItem(i.number, i.field, i.operator, i.value))
    rules_by_pk = {r.pk: r for r in rule_rows}
    associations = [
        RuleAssociation(
            rules_by_pk[a.rule_pk].developer_name, by_pk[a.territory_pk].developer_name, a.inherited
        )
        for a in session.scalars(
            select(RuleAssociationRow)
            .where(RuleAssociationRow.rule_pk.in_(list(rules_by_pk)))
            .order_by(RuleAssociationRow.pk)
        )
    ]
    users = [
        UserAssignment(user_id, by_pk[territory_pk].developer_name, role)
        for user_id, territory_pk, role in session.execute(
            select(SalesUser.id, UserAssignmentRow.territory_pk, UserAssignmentRow.role)
            .join(SalesUser, SalesUser.pk == UserAssignmentRow.user_pk)
            .where(UserAssignmentRow.territory_pk.in_(list(by_pk)))
            .order_by(UserAssignmentRow.pk)
        )
    ]
    used_types = {t.type_pk for t in terr_rows}
    return ModelSpec(
        developer_name=model.developer_name,
        name=model.name,
        description=model.description,
        rule_combination=model.rule_combination,  # type: ignore[arg-type]
        types=[
            TerritoryType(t.developer_name, t.priority, t.name, t.description)
            for pk, t in sorted(type_rows.items())
            if pk in used_types
        ],
        territories=[
            Territory(
                developer_name=t.developer_name,
                type=type_rows[t.type_pk].developer_name,
                name=t.name,
                parent=by_pk[t.parent_pk].developer_name if t.parent_pk else None,
                description=t.description,
                account_access_level=t.account_access_level,  # type: ignore[arg-type]
                opportunity_access_level=t.opportunity_access_level,  # type: ignore[arg-type]
                case_access_level=t.case_access_level,  # type: ignore[arg-type]
                contact_access_level=t.contact_access_level,  # type: ignore[arg-type]
                target=t.target,
                custom=dict(t.custom or {}),
            )
            for t in terr_rows
        ],
        rules=[
            Rule(
                developer_name=r.developer_name,
                items=tuple(items.get(r.pk, [])),
                boolean_filter=r.boolean_filter,
                active=r.active,
                name=r.name,
                id=r.pk,
            )
            for r in rule_rows
        ],
        associations=associations,
        user_assignments=users,
        settings=dict(model.settings or {}),
    )


__all__ = ["create_model_from_spec", "read_spec", "spec_problems", "write_spec"]
