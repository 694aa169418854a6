"""Territory model lifecycle: create, list, show, clone, activate, archive, delete.

States (DESIGN.md section 2): ``planning`` → ``active`` → ``archived``. Exactly one model is
active at a time (the database enforces it too). Unlike Salesforce, an archived model can be
activated again (a roll back), and archiving deletes nothing. Every step runs in one
transaction, so a failure leaves every model exactly as it was; the transitional states of
Salesforce (``cloning``, ``activating``...) are therefore never left behind.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import polars as pl
from sqlalchemy import delete, func, select, text
from sqlalchemy.orm import Session

from territorial.core.compare import assignment_delta
from territorial.core.model import ModelState, RuleCombination
from territorial.core.naming import require_developer_name
from territorial.core.text import plural
from territorial.errors import Conflict, LifecycleError, ValidationError
from territorial.services import audit, lookup, opportunities, runs
from territorial.services.workspace import Workspace
from territorial.store.schema import (
    AccountAssignmentRow,
    RuleAssociationRow,
    RuleItemRow,
    RuleRow,
    TerritoryModelRow,
    TerritoryRow,
    UserAssignmentRow,
)

EDITABLE_STATES = (ModelState.PLANNING, ModelState.ACTIVE)


@dataclass(frozen=True)
class ModelInfo:
    """A territory model and how much it holds."""

    developer_name: str
    name: str
    state: str
    description: str
    rule_combination: str
    territories: int
    rules: int
    assigned_accounts: int
    created_at: datetime | None
    activated_at: datetime | None
    archived_at: datetime | None
    cloned_from: str | None = None


def model_info(session: Session, row: TerritoryModelRow) -> ModelInfo:
    def count(query: Any) -> int:
        return int(session.scalar(query) or 0)

    cloned_from = None
    if row.cloned_from_pk is not None:
        source = session.get(TerritoryModelRow, row.cloned_from_pk)
        cloned_from = source.developer_name if source else None
    return ModelInfo(
        developer_name=row.developer_name,
        name=row.name,
        state=row.state,
        description=row.description,
        rule_combination=row.rule_combination,
        territories=count(
            select(func.count()).select_from(TerritoryRow).where(TerritoryRow.model_pk == row.pk)
        ),
        rules=count(select(func.count()).select_from(RuleRow).where(RuleRow.model_pk == row.pk)),
        assigned_accounts=count(
            select(func.count(func.distinct(AccountAssignmentRow.account_pk))).where(
                AccountAssignmentRow.model_pk == row.pk
            )
        ),
        created_at=row.created_at,
        activated_at=row.activated_at,
        archived_at=row.archived_at,
        cloned_from=cloned_from,
    )


def _snapshot(row: TerritoryModelRow) -> dict[str, Any]:
    return {"state": row.state, "name": row.name, "developer_name": row.developer_name}


def require_editable(row: TerritoryModelRow) -> None:
    """Refuse changes to archived models (and to models in a transitional state)."""
    if row.state not in EDITABLE_STATES:
        raise LifecycleError(
            f"Model {row.developer_name!r} is {row.state} and cannot be changed.",
            hint=f"Clone it ('territorial model clone {row.developer_name} NEW_NAME') "
            "or activate it again first.",
        )


def check_new_model_name(session: Session, name: str, dev_name: str | None) -> str:
    if not name.strip():
        raise ValidationError("A model needs a name.", hint="Give a non-empty NAME.")
    dev = require_developer_name(name, dev_name)
    taken = session.scalar(
        select(TerritoryModelRow).where(func.lower(TerritoryModelRow.developer_name) == dev.lower())
    )
    if taken is not None:
        raise Conflict(
            f"A model with developer name {taken.developer_name!r} already exists.",
            hint="Choose another developer name (--developer-name)."
            if dev_name is not None
            else "Choose another name or pass --developer-name.",
        )
    return dev


def list_models(ws: Workspace) -> list[ModelInfo]:
    """Every model, the active one first, then planning, then archived."""
    order = {ModelState.ACTIVE: 0, ModelState.PLANNING: 1, ModelState.ARCHIVED: 2}
    with ws.session() as session:
        rows = list(session.scalars(select(TerritoryModelRow).order_by(TerritoryModelRow.pk)))
        infos = [model_info(session, r) for r in rows]
    return sorted(infos, key=lambda i: order.get(ModelState(i.state), 3))


def show_model(ws: Workspace, key: str | None = None) -> ModelInfo:
    """One model by developer name or label (the active one when ``key`` is None)."""
    with ws.session() as session:
        return model_info(session, lookup.model_or_active(session, key))


def create_model(
    ws: Workspace,
    name: str,
    *,
    developer_name: str | None = None,
    description: str = "",
    rule_combination: RuleCombination = "all",
) -> ModelInfo:
    """Create an empty planning model."""
    if rule_combination not in ("all", "any"):
        raise ValidationError(
            f"Unknown rule combination {rule_combination!r}.", hint="Use 'all' or 'any'."
        )
    with ws.session() as session:
        dev = check_new_model_name(session, name, developer_name)
        row = TerritoryModelRow(
            developer_name=dev,
            name=name.strip(),
            description=description,
            state=ModelState.PLANNING,
            rule_combination=rule_combination,
            created_at=audit.now(),
        )
        session.add(row)
        session.flush()
        audit.record(
            session,
            actor=ws.actor,
            action="model.create",
            entity="model",
            key=dev,
            model_pk=row.pk,
            after=_snapshot(row),
        )
        return model_info(session, row)


def set_rule_combination(ws: Workspace, key: str, combination: RuleCombination) -> ModelInfo:
    """Whether an account must satisfy all (Salesforce) or any of a territory's rules."""
    if combination not in ("all", "any"):
        raise ValidationError(
            f"Unknown rule combination {combination!r}.", hint="Use 'all' or 'any'."
        )
    with ws.session() as session:
        row = lookup.model(session, key)
        require_editable(row)
        before = row.rule_combination
        row.rule_combination = combination
        audit.record(
            session,
            actor=ws.actor,
            action="model.settings",
            entity="model",
            key=row.developer_name,
            model_pk=row.pk,
            before={"rule_combination": before},
            after={"rule_combination": combination},
        )
        return model_info(session, row)


def clone_model(
    ws: Workspace, key: str, name: str, *, developer_name: str | None = None
) -> ModelInfo:
    """Copy a model into a new planning model.

    Copies territories, rules with their items, rule associations, user assignments, manual
    account assignments and exclusions. Rule assignments are not copied: a run recomputes
    them. Territory types are shared by all models, so the clone uses the same ones.
    """
    with ws.session() as session:
        source = lookup.model(session, key)
        target = clone(session, source, name, actor=ws.actor, developer_name=developer_name)
        return model_info(session, target)


def clone(
    session: Session,
    source: TerritoryModelRow,
    name: str,
    *,
    actor: str,
    developer_name: str | None = None,
) -> TerritoryModelRow:
    """:func:`clone_model` inside the caller's transaction, so a command that goes on to
    change the clone (``territorial carve``) commits both together or neither."""
    dev = check_new_model_name(session, name, developer_name)
    target = TerritoryModelRow(
        developer_name=dev,
        name=name.strip(),
        description=source.description,
        state=ModelState.PLANNING,
        rule_combination=source.rule_combination,
        settings=source.settings,
        cloned_from_pk=source.pk,
        created_at=audit.now(),
    )
    session.add(target)
    session.flush()
    territory_map = _copy_territories(session, source.pk, target.pk)
    rule_map = _copy_rules(session, source.pk, target.pk)
    _copy_links(session, territory_map, rule_map, source.pk, target.pk)
    audit.record(
        session,
        actor=actor,
        action="model.clone",
        entity="model",
        key=dev,
        model_pk=target.pk,
        before={"source": source.developer_name},
        after=_snapshot(target),
    )
    return target


def _copy_territories(session: Session, source_pk: int, target_pk: int) -> dict[int, int]:
    rows = list(
        session.scalars(
            select(TerritoryRow).where(TerritoryRow.model_pk == source_pk).order_by(TerritoryRow.pk)
        )
    )
    copies: dict[int, TerritoryRow] = {}
    for row in rows:
        copy = TerritoryRow(
            model_pk=target_pk,
            developer_name=row.developer_name,
            name=row.name,
            type_pk=row.type_pk,
            description=row.description,
            account_access_level=row.account_access_level,
            opportunity_access_level=row.opportunity_access_level,
            case_access_level=row.case_access_level,
            contact_access_level=row.contact_access_level,
            forecast_manager_pk=row.forecast_manager_pk,
            target=row.target,
            custom=row.custom,
        )
        session.add(copy)
        copies[row.pk] = copy
    session.flush()
    for row in rows:
        if row.parent_pk is not None:
            copies[row.pk].parent_pk = copies[row.parent_pk].pk
    session.flush()
    return {old: copy.pk for old, copy in copies.items()}


def _copy_rules(session: Session, source_pk: int, target_pk: int) -> dict[int, int]:
    rules = list(
        session.scalars(select(RuleRow).where(RuleRow.model_pk == source_pk).order_by(RuleRow.pk))
    )
    copies = {
        r.pk: RuleRow(
            model_pk=target_pk,
            developer_name=r.developer_name,
            name=r.name,
            active=r.active,
            object_type=r.object_type,
            boolean_filter=r.boolean_filter,
        )
        for r in rules
    }
    session.add_all(copies.values())
    session.flush()
    mapping = {old: new.pk for old, new in copies.items()}
    items = session.scalars(select(RuleItemRow).where(RuleItemRow.rule_pk.in_(list(mapping))))
    session.add_all(
        RuleItemRow(
            rule_pk=mapping[i.rule_pk],
            number=i.number,
            field=i.field,
            operator=i.operator,
            value=i.value,
        )
        for i in items
    )
    return mapping


def _copy_links(
    session: Session,
    territory_map: dict[int, int],
    rule_map: dict[int, int],
    source_pk: int,
    target_pk: int,
) -> None:
    associations = session.scalars(
        select(RuleAssociationRow).where(RuleAssociationRow.rule_pk.in_(list(rule_map)))
    )
    session.add_all(
        RuleAssociationRow(
            rule_pk=rule_map[a.rule_pk],
            territory_pk=territory_map[a.territory_pk],
            inherited=a.inherited,
        )
        for a in associations
    )
    users = session.scalars(
        select(UserAssignmentRow).where(UserAssignmentRow.territory_pk.in_(list(territory_map)))
    )
    session.add_all(
        UserAssignmentRow(
            territory_pk=territory_map[u.territory_pk], user_pk=u.user_pk, role=u.role
        )
        for u in users
    )
    session.flush()
    # Manual assignments and exclusions can be many: copy them inside the database.
    params = {"source": source_pk, "target": target_pk}
    session.execute(
        text(
            "INSERT INTO account_assignment (model_pk, territory_pk, account_pk, cause) "
            "SELECT :target, tn.pk, aa.account_pk, 'manual' FROM account_assignment aa "
            "JOIN territory t ON t.pk = aa.territory_pk "
            "JOIN territory tn ON tn.model_pk = :target AND tn.developer_name = t.developer_name "
            "WHERE aa.model_pk = :source AND aa.cause = 'manual'"
        ),
        params,
    )
    session.execute(
        text(
            "INSERT INTO exclusion (territory_pk, account_pk) "
            "SELECT tn.pk, e.account_pk FROM exclusion e "
            "JOIN territory t ON t.pk = e.territory_pk "
            "JOIN territory tn ON tn.model_pk = :target AND tn.developer_name = t.developer_name "
            "WHERE t.model_pk = :source"
        ),
        params,
    )


@dataclass(frozen=True)
class Activation:
    """What activating a model did.

    The run and the opportunity assignment are this model's own; the assignment and
    opportunity changes compare it with the model it replaced (``archived``), as
    ``territorial compare`` and the Data Loader delta do.
    """

    model: ModelInfo
    archived: str | None
    """The previously active model, now archived (None: there was none)."""
    run: runs.RunResult
    opportunities: opportunities.OpportunityDelta
    assignments_added: int
    assignments_removed: int
    accounts_changed: int
    seconds: float

    def row(self) -> dict[str, Any]:
        """The numbers, one flat row (for --format json/csv)."""
        return {
            "model": self.model.developer_name,
            "archived": self.archived,
            "seconds": round(self.seconds, 3),
            "accounts_evaluated": self.run.accounts_evaluated,
            "assigned_accounts": self.model.assigned_accounts,
            "rule_assignments": self.run.rule_assignments,
            "run_added": self.run.added,
            "run_removed": self.run.removed,
            "assignments_added": self.assignments_added,
            "assignments_removed": self.assignments_removed,
            "accounts_changed": self.accounts_changed,
            "include_closed": self.opportunities.include_closed,
            **self.opportunities.counts(),
        }

    def summary(self) -> str:
        """What happened, in a few sentences."""
        was = f"{self.archived} is archived" if self.archived else "no model was active before"
        text = (
            f"Model {self.model.developer_name} is active; {was} ({self.seconds:.1f} s). "
            f"Its rules ran over {plural(self.run.accounts_evaluated, 'account')}: "
            f"{plural(self.model.assigned_accounts, 'account')} assigned, "
            f"{plural(self.run.rule_assignments, 'rule assignment')} ({self.run.added:,} added, "
            f"{self.run.removed:,} removed by this run). "
        )
        if self.archived:
            changes = "changes" if self.accounts_changed == 1 else "change"
            text += (
                f"Compared with {self.archived}: {plural(self.accounts_changed, 'account')} "
                f"{changes} territories ({plural(self.assignments_added, 'assignment')} added, "
                f"{self.assignments_removed:,} removed); "
            )
        return text + self.opportunities.summary() + "."


def _assignment_changes(
    session: Session, before_pk: int, after_pk: int, after_links: pl.DataFrame
) -> tuple[int, int, int]:
    """Account assignments added and removed from one model to another (by account and
    territory developer name), and the accounts they concern."""

    def named(model_pk: int, links: pl.DataFrame) -> pl.DataFrame:
        query = select(TerritoryRow.pk, TerritoryRow.developer_name).where(
            TerritoryRow.model_pk == model_pk
        )
        names = {pk: name for pk, name in session.execute(query)}
        territory = pl.col("territory_pk").replace_strict(names, return_dtype=pl.String)
        return links.select("account_pk", territory.alias("territory"))

    before = named(before_pk, opportunities.model_links(session, before_pk))
    added, removed = assignment_delta(
        before, named(after_pk, after_links), keys=("account_pk", "territory")
    )
    accounts = pl.concat([added["account_pk"], removed["account_pk"]]).n_unique()
    return added.height, removed.height, accounts


def activate_model(ws: Workspace, key: str, *, include_closed: bool = False) -> Activation:
    """Make a planning or archived model the active one, archiving the current active model.

    The model's rules are run over every account and its open opportunities are assigned
    territories (by the model's ``opportunity_policy`` setting, default ``priority``)
    inside the same transaction, so its assignments are current when it goes live.
    Closed opportunities keep the territories they had (in the models that were active
    then) unless ``include_closed``; opportunities excluded from the territory filter are
    never touched. Atomic: the state changes, the run and every other activation step
    commit together or not at all. Activating an archived model is how a realignment is
    rolled back.
    """
    started = time.perf_counter()
    with ws.session() as session:
        row = lookup.model(session, key)
        if row.state == ModelState.ACTIVE:
            raise LifecycleError(f"Model {row.developer_name!r} is already active.")
        if row.state not in (ModelState.PLANNING, ModelState.ARCHIVED):
            raise LifecycleError(
                f"Model {row.developer_name!r} is {row.state} and cannot be activated.",
                hint="Only planning and archived models can be activated.",
            )
        stamp = audit.now()
        previous = session.scalar(
            select(TerritoryModelRow).where(TerritoryModelRow.state == ModelState.ACTIVE)
        )
        if previous is not None:
            previous.state = ModelState.ARCHIVED
            previous.archived_at = stamp
            session.flush()
            audit.record(
                session,
                actor=ws.actor,
                action="model.archive",
                entity="model",
                key=previous.developer_name,
                model_pk=previous.pk,
                before={"state": ModelState.ACTIVE},
                after={"state": ModelState.ARCHIVED, "replaced_by": row.developer_name},
            )
        before = _snapshot(row)
        row.state = ModelState.ACTIVE
        row.activated_at = stamp
        session.flush()
        run = runs.execute_run(session, row, actor=ws.actor)
        links = opportunities.model_links(session, row.pk)
        opportunities.execute(
            session,
            row,
            actor=ws.actor,
            policy=opportunities.opportunity_policy(row),
            open_only=not include_closed,
            links=links,
        )
        for step in ACTIVATION_STEPS:
            step(ws, session, row)
        delta = opportunities.territory_delta(
            session, row, previous, include_closed=include_closed, links=links
        )
        added, removed, accounts = (
            _assignment_changes(session, previous.pk, row.pk, links) if previous else (0, 0, 0)
        )
        audit.record(
            session,
            actor=ws.actor,
            action="model.activate",
            entity="model",
            key=row.developer_name,
            model_pk=row.pk,
            before=before,
            after={
                **_snapshot(row),
                "previous": previous.developer_name if previous else None,
                "run": run.run_id,
                "include_closed": include_closed,
                "assignments_added": added,
                "assignments_removed": removed,
                "opportunities_changed": delta.changed,
            },
        )
        info = model_info(session, row)
        archived = previous.developer_name if previous else None
    return Activation(
        model=info,
        archived=archived,
        run=run,
        opportunities=delta,
        assignments_added=added,
        assignments_removed=removed,
        accounts_changed=accounts,
        seconds=time.perf_counter() - started,
    )


# Further work done inside the activation transaction (for example running the rules and
# reassigning opportunities); each step gets the workspace, the session and the model.
ACTIVATION_STEPS: list[Any] = []


def archive_model(ws: Workspace, key: str) -> ModelInfo:
    """Archive an active or planning model; it keeps everything and can be activated again."""
    with ws.session() as session:
        row = lookup.model(session, key)
        if row.state not in (ModelState.ACTIVE, ModelState.PLANNING):
            raise LifecycleError(
                f"Model {row.developer_name!r} is {row.state} and cannot be archived.",
                hint="Only active and planning models can be archived.",
            )
        before = _snapshot(row)
        row.state = ModelState.ARCHIVED
        row.archived_at = audit.now()
        audit.record(
            session,
            actor=ws.actor,
            action="model.archive",
            entity="model",
            key=row.developer_name,
            model_pk=row.pk,
            before=before,
            after=_snapshot(row),
        )
        return model_info(session, row)


def delete_model(ws: Workspace, key: str) -> None:
    """Delete a planning or archived model with everything in it. The active one is refused."""
    with ws.session() as session:
        row = lookup.model(session, key)
        if row.state == ModelState.ACTIVE:
            raise LifecycleError(
                f"Model {row.developer_name!r} is active and cannot be deleted.",
                hint="Activate another model first, or archive this one.",
            )
        audit.record(
            session,
            actor=ws.actor,
            action="model.delete",
            entity="model",
            key=row.developer_name,
            model_pk=None,
            before=_snapshot(row),
        )
        session.execute(delete(AccountAssignmentRow).where(AccountAssignmentRow.model_pk == row.pk))
        session.delete(row)


__all__ = [
    "ACTIVATION_STEPS",
    "Activation",
    "ModelInfo",
    "activate_model",
    "archive_model",
    "check_new_model_name",
    "clone",
    "clone_model",
    "create_model",
    "delete_model",
    "list_models",
    "model_info",
    "require_editable",
    "set_rule_combination",
    "show_model",
]
