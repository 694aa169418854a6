"""Online assignment: an account created or changed is assigned at once.

Each model's compiled rules are kept in an in-memory index on the workspace (rebuilt when
the model changes, which the audit log tells), so assigning one account is a few hash
lookups. The active model is always updated; planning models when asked. When the
account's territories in the active model change, its open opportunities follow
(``opportunities.follow_accounts``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from territorial.core.engine.index import OnlineIndex
from territorial.core.fields import Field, FieldCatalog, FieldType
from territorial.core.model import ModelState
from territorial.core.rules.compile import required_fields
from territorial.core.rules.operators import parse_boolean, parse_date, parse_number
from territorial.errors import ValidationError
from territorial.services import audit, fields, lookup, opportunities, runs
from territorial.services.freshness import REASSIGN
from territorial.services.workspace import Workspace
from territorial.store import frames
from territorial.store.schema import Account, AuditRow, TerritoryModelRow, TerritoryRow


@dataclass(frozen=True)
class CachedIndex:
    fingerprint: int
    index: OnlineIndex
    fields: frozenset[str]


@dataclass(frozen=True)
class AccountSaved:
    """An account after a change: where it is now in each model that was updated."""

    id: str
    created: bool
    territories: dict[str, list[str]]
    """Model developer name → territory developer names (rule and manual)."""
    added: int
    removed: int
    opportunities_changed: int = 0
    """Open opportunities of the account that got another territory (or lost theirs) in
    the active model, because the account's territories there changed."""


def _fingerprint(session: Session, model_pk: int) -> int:
    """Changes when anything in the model changes (every change is audited)."""
    return int(
        session.scalar(select(func.max(AuditRow.pk)).where(AuditRow.model_pk == model_pk)) or 0
    )


def model_index(ws: Workspace, session: Session, model: TerritoryModelRow) -> CachedIndex:
    """The model's online index, built once and reused until the model changes."""
    key = (ws.db.url, model.pk)
    stamp = _fingerprint(session, model.pk)
    cached = ws.cache.get(key)
    if isinstance(cached, CachedIndex) and cached.fingerprint == stamp:
        return cached
    compiled = runs.compile_stored(session, model)
    entry = CachedIndex(stamp, OnlineIndex.build(compiled), frozenset(required_fields(compiled)))
    ws.cache[key] = entry
    return entry


def reassign(
    ws: Workspace, session: Session, model: TerritoryModelRow, account_pks: Sequence[int]
) -> tuple[int, int, pl.Series]:
    """Recompute the rule assignments of a few accounts in one model; (added, removed,
    the pks of the accounts whose territories changed)."""
    entry = model_index(ws, session, model)
    catalog = fields.catalog(session, "account")
    where = frames.in_list("account.pk", account_pks)
    accounts = frames.load_accounts(session, catalog, entry.fields, where=where)
    excluded = {(t, a) for t, a in frames.load_exclusions(session, model.pk).iter_rows()}
    rows = [
        (record["pk"], territory_pk, rule_pk)
        for record in accounts.iter_rows(named=True)
        for territory_pk, rule_pk in entry.index.assign(record)
        if (territory_pk, record["pk"]) not in excluded
    ]
    computed = pl.DataFrame(
        rows,
        schema={"account_pk": pl.Int64, "territory_pk": pl.Int64, "rule_pk": pl.Int64},
        orient="row",
    )
    existing = frames.load_assignments(session, model.pk, cause="rule", account_where=where)
    moved = runs.moved_accounts(session, model.pk, computed, existing, where)
    added, removed = runs.write_difference(session, model.pk, computed, existing, run_pk=None)
    return added, removed, moved


def _typed(field: Field, raw: Any) -> Any:
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return False if field.type is FieldType.BOOLEAN else None
    if not isinstance(raw, str):
        return raw
    text = raw.strip()
    if field.type is FieldType.NUMBER:
        return parse_number(text)
    if field.type is FieldType.DATE:
        return parse_date(text).isoformat()
    if field.type is FieldType.BOOLEAN:
        return parse_boolean(text)
    return text


def _values(
    catalog: FieldCatalog, record: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Standard column values and custom values, typed; every problem listed at once."""
    standard: dict[str, Any] = {}
    custom: dict[str, Any] = {}
    problems: list[str] = []
    for name, raw in record.items():
        field = catalog.resolve(name)
        if field is None:
            problems.append(f"unknown field {name!r}")
            continue
        try:
            value = _typed(field, raw)
        except ValueError:
            problems.append(f"{name}: {raw!r} is not a valid {field.type.value}")
            continue
        (custom if field.custom else standard)[field.name] = value
    if problems:
        raise ValidationError(
            "Cannot save the account: " + "; ".join(problems) + ".",
            hint="Use field names from 'territorial field list' and values of their type.",
        )
    return standard, custom


def save_account(
    ws: Workspace,
    account_id: str,
    values: Mapping[str, Any],
    *,
    models: Sequence[str] = (),
) -> AccountSaved:
    """Create or change one account and assign it at once in the active model (and in
    the planning ``models`` named). Values may be typed or text (as on a command line).

    When the account's territories in the active model change, its open opportunities get
    their territory again there by the model's opportunity policy, in the same transaction.
    """
    with ws.session() as session:
        catalog = fields.catalog(session, "account")
        standard, custom = _values(catalog, values)
        standard.pop("id", None)
        row = session.scalar(select(Account).where(Account.id == account_id))
        created = row is None
        if row is None:
            if not standard.get("name"):
                raise ValidationError(
                    f"Account {account_id!r} does not exist yet and needs a name.",
                    hint="Pass name=... to create it.",
                )
            row = Account(id=account_id, name=standard["name"])
            session.add(row)
        before = {k: getattr(row, k, None) for k in standard} | {
            k: (row.custom or {}).get(k) for k in custom
        }
        for key, value in standard.items():
            setattr(row, key, value)
        if custom:
            row.custom = {**(row.custom or {}), **custom}
        session.flush()
        audit.record(
            session,
            actor=ws.actor,
            action="account.create" if created else "account.update",
            entity="account",
            key=account_id,
            before=None if created else _jsonable(before),
            after=_jsonable({**standard, **custom}),
        )
        targets = _models(session, models)
        added = removed = changed = 0
        for model in targets:
            a, r, moved = reassign(ws, session, model, [row.pk])
            added, removed = added + a, removed + r
            audit.record(
                session,
                actor=ws.actor,
                action=REASSIGN,
                entity="account",
                key=account_id,
                model_pk=model.pk,
                after={"added": a, "removed": r},
            )
            if model.state == ModelState.ACTIVE:
                followed = opportunities.follow_accounts(session, model, moved, actor=ws.actor)
                changed = followed.changed if followed is not None else 0
        territories = {m.developer_name: _territories_of(session, m.pk, row.pk) for m in targets}
        return AccountSaved(account_id, created, territories, added, removed, changed)


def _jsonable(values: Mapping[str, Any]) -> dict[str, Any]:
    return {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in values.items()}


def _models(session: Session, names: Sequence[str]) -> list[TerritoryModelRow]:
    targets: list[TerritoryModelRow] = []
    active = session.scalar(
        select(TerritoryModelRow).where(TerritoryModelRow.state == ModelState.ACTIVE)
    )
    if active is not None:
        targets.append(active)
    for name in names:
        model = lookup.model(session, name)
        dev = model.developer_name
        runs.require_assignable(
            model,
            hint=f"Name only planning models with --model. To work on this one, clone it "
            f"('territorial model clone {dev} NEW_NAME') or activate it "
            f"('territorial model activate {dev}').",
        )
        if all(m.pk != model.pk for m in targets):
            targets.append(model)
    return targets


def _territories_of(session: Session, model_pk: int, account_pk: int) -> list[str]:
    rows = frames.load_assignments(
        session, model_pk, account_where=f"account.pk = {int(account_pk)}"
    )
    names = {
        pk: name
        for pk, name in session.execute(
            select(TerritoryRow.pk, TerritoryRow.developer_name).where(
                TerritoryRow.pk.in_(rows["territory_pk"].unique().to_list())
            )
        )
    }
    return sorted({names[t] for t in rows["territory_pk"].to_list()})


__all__ = ["AccountSaved", "model_index", "reassign", "save_account"]
