"""Whether a model's rule assignments are older than the accounts and rules they came from.

A planning model's rule assignments are what its last run computed. Accounts imported or
changed since, and rules, hierarchy moves, lifted exclusions or settings of the model
changed since, are not reflected until the model is run again; a comparison or a manager
packet made from the old run would show new accounts as unassigned and changed ones in
their old territories.

The signal is the audit log, which every change writes in the same transaction and with
the same clock as the run records: the last whole-model run of the model (its
``finished_at``) against the later audit entries that change what a run would compute.
An account saved with ``territorial account set ... --model PLAN`` is reassigned in that
plan at once (an ``account.reassign`` entry), so it does not make the plan out of date. An
archived model is never run: its assignments are frozen as they were when it was archived,
and the warning says so rather than suggesting a run.
The active model needs no check: imports and account edits assign their accounts in it as
they happen, and its own rules cannot change without a clone.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from territorial.core.model import ModelState
from territorial.core.text import plural
from territorial.store.schema import (
    AuditRow,
    RuleAssociationRow,
    RuleRow,
    RunRow,
    TerritoryModelRow,
)

MODEL_CHANGES = (
    "rule.add",
    "rule.update",
    "rule.remove",
    "rule.attach",
    "rule.detach",
    "territory.move",
    "territory.remove",
    "account.include",
    "model.settings",
)
"""Audit actions on a model that change what its next run computes."""
ACCOUNT_CHANGES = ("import", "account.create", "account.update")
"""Audit actions (on entity ``account``) that change account data."""
REASSIGN = "account.reassign"
"""Audit action (entity ``account``, with the model): the account's rule assignments in that
model were recomputed after it was saved, so they reflect the change."""


def last_full_run(session: Session, model_pk: int) -> datetime | None:
    """When the last run over the whole model (no territory or account scope) finished."""
    rows = session.execute(
        select(RunRow.finished_at, RunRow.scope)
        .where(RunRow.model_pk == model_pk, RunRow.status == "succeeded")
        .order_by(RunRow.finished_at.desc())
    )
    for finished, scope in rows:
        if finished is not None and not {"territory", "accounts"} & set(scope or {}):
            return finished  # type: ignore[no-any-return]
    return None


def _has_rules(session: Session, model_pk: int) -> bool:
    return (
        session.scalar(
            select(RuleAssociationRow.pk)
            .join(RuleRow, RuleRow.pk == RuleAssociationRow.rule_pk)
            .where(RuleRow.model_pk == model_pk, RuleRow.active)
            .limit(1)
        )
        is not None
    )


def stale_run(session: Session, row: TerritoryModelRow) -> str | None:
    """A warning when accounts or the model's rules changed after its last run, or None.

    Models that are active, have no active rules attached, or were never run (refused
    elsewhere) get None.
    """
    if row.state == ModelState.ACTIVE or not _has_rules(session, row.pk):
        return None
    ran = last_full_run(session, row.pk)
    if ran is None:
        return None
    archived = row.state == ModelState.ARCHIVED
    since = max(ran, row.archived_at) if archived and row.archived_at else ran
    later = session.execute(
        select(
            AuditRow.action, AuditRow.entity, AuditRow.entity_key, AuditRow.model_pk, AuditRow.after
        )
        .where(AuditRow.at > since)
        .order_by(AuditRow.pk)
    ).all()
    imported = rule_changes = 0
    pending: set[str | None] = set()
    """Accounts saved one by one and not reassigned in this model since."""
    for action, entity, key, model_pk, after in later:
        if entity == "account" and action in ACCOUNT_CHANGES:
            if action == "import":
                imported += int((after or {}).get("inserted", 0)) + int(
                    (after or {}).get("updated", 0)
                )
            else:
                pending.add(key)
        elif entity == "account" and action == REASSIGN and model_pk == row.pk:
            pending.discard(key)
        elif model_pk == row.pk and action in MODEL_CHANGES:
            rule_changes += 1
    accounts = imported + len(pending)
    if not accounts and not rule_changes:
        return None
    what = [
        f"{plural(accounts, 'account')} imported or changed" if accounts else "",
        f"{plural(rule_changes, 'change')} to its rules or hierarchy" if rule_changes else "",
    ]
    name, changed = row.developer_name, " and ".join(w for w in what if w)
    if archived:
        return (
            f"Model {name!r} is archived: its assignments are frozen as they were when it was "
            f"archived ({since:%Y-%m-%d %H:%M} UTC); since then {changed}, which they do not "
            "reflect (new accounts show as unassigned)."
        )
    return (
        f"Model {name!r} was last run at {ran:%Y-%m-%d %H:%M} UTC; since then "
        f"{changed}, which its assignments do not reflect yet "
        f"(new accounts show as unassigned). Run it again: 'territorial run {name}'."
    )


__all__ = ["ACCOUNT_CHANGES", "MODEL_CHANGES", "REASSIGN", "last_full_run", "stale_run"]
