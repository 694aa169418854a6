"""Find things by the names users type: developer name or label, case-insensitively."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from territorial.errors import Conflict, NotFound
from territorial.store.schema import (
    Account,
    RuleRow,
    SalesUser,
    TerritoryModelRow,
    TerritoryRow,
    TerritoryTypeRow,
)

Row = TypeVar("Row", TerritoryModelRow, TerritoryRow, TerritoryTypeRow, RuleRow)


def _by_name(session: Session, entity: type[Row], kind: str, key: str, *where: Any) -> Row:
    for column in (entity.developer_name, entity.name):
        rows = list(session.scalars(select(entity).where(column == key, *where)))
        if len(rows) == 1:
            return rows[0]
    for column in (entity.developer_name, entity.name):
        rows = list(
            session.scalars(select(entity).where(func.lower(column) == key.lower(), *where))
        )
        if len(rows) == 1:
            return rows[0]
        if len(rows) > 1:
            names = ", ".join(sorted(r.developer_name for r in rows))
            raise Conflict(
                f"{kind.capitalize()} {key!r} is ambiguous: it could be {names}.",
                hint="Use the developer name.",
            )
    raise NotFound(kind, key)


def model(session: Session, key: str) -> TerritoryModelRow:
    """A territory model by developer name or label."""
    return _by_name(session, TerritoryModelRow, "model", key)


def active_model(session: Session) -> TerritoryModelRow:
    """The active model; a ``NotFound`` that says how to get one when none is active."""
    row = session.scalar(select(TerritoryModelRow).where(TerritoryModelRow.state == "active"))
    if row is None:
        raise NotFound(
            "model",
            "(active)",
            message="No model is active.",
            hint="Name one with --model, or activate one with 'territorial model activate M' "
            "(see 'territorial model list').",
        )
    return row


def model_or_active(session: Session, key: str | None) -> TerritoryModelRow:
    """The model named ``key``, or the active one when ``key`` is None or empty."""
    return model(session, key) if key else active_model(session)


def territory(session: Session, model_row: TerritoryModelRow, key: str) -> TerritoryRow:
    """A territory of one model by developer name or label."""
    try:
        return _by_name(
            session, TerritoryRow, "territory", key, TerritoryRow.model_pk == model_row.pk
        )
    except NotFound as err:
        raise NotFound(
            "territory",
            key,
            hint=f"Model {model_row.developer_name!r} has no such territory; "
            f"see 'territorial territory tree {model_row.developer_name}'.",
        ) from err


def territory_type(session: Session, key: str) -> TerritoryTypeRow:
    return _by_name(session, TerritoryTypeRow, "type", key)


def rule(session: Session, model_row: TerritoryModelRow, key: str) -> RuleRow:
    return _by_name(session, RuleRow, "rule", key, RuleRow.model_pk == model_row.pk)


def user(session: Session, key: str) -> SalesUser:
    """A user by external id, email (in any case) or exact name (see :func:`user_pks`)."""
    pk = user_pks(session, [key]).get(key)
    found = session.get(SalesUser, pk) if pk is not None else None
    if found is None:
        raise NotFound("user", key, hint="Import users first ('territorial import users FILE').")
    return found


_BATCH = 500
"""Keys looked up per query (well under every database's limit on bound parameters)."""


def user_pks(session: Session, keys: Iterable[str]) -> dict[str, int]:
    """The users that ``keys`` name, by pk: each key is tried as an external id (exactly),
    an email exactly, an email in any case (surrounding blanks ignored), then a user's exact
    name, and the first of these that one user alone matches wins. Keys no user matches,
    and keys only several users match, are left out. Every command that names users (one on
    the command line, or a column of a file) finds them this way."""
    wanted = [k for k in dict.fromkeys(keys) if k is not None]
    found: dict[str, int] = {}
    steps: list[tuple[Any, Callable[[str], str]]] = [
        (SalesUser.id, str),
        (SalesUser.email, str),
        (func.lower(SalesUser.email), lambda k: k.strip().lower()),
        (SalesUser.name, str),
    ]
    for column, spelled in steps:
        left: dict[str, list[str]] = {}
        for key in wanted:
            if key not in found:
                left.setdefault(spelled(key), []).append(key)
        matches: dict[str, set[int]] = {}
        names = list(left)
        for start in range(0, len(names), _BATCH):
            batch = names[start : start + _BATCH]
            for value, pk in session.execute(select(column, SalesUser.pk).where(column.in_(batch))):
                matches.setdefault(value, set()).add(pk)
        for value, pks in matches.items():
            if len(pks) == 1 and value in left:
                found.update(dict.fromkeys(left[value], next(iter(pks))))
    return found


ACCOUNTS_LISTED = 10
"""Accounts sharing a name that an ambiguous-name error lists (it counts them all)."""


def account(session: Session, key: str) -> Account:
    """An account by external id, or by exact name when that is unique. A name several
    accounts share is refused with the first of them listed (id, city and state)."""
    row = session.scalar(select(Account).where(Account.id == key))
    if row is not None:
        return row
    named = select(Account).where(Account.name == key)
    rows = list(session.scalars(named.order_by(Account.id).limit(ACCOUNTS_LISTED)))
    if len(rows) == 1:
        return rows[0]
    if rows:
        total = session.scalar(select(func.count()).select_from(named.subquery())) or len(rows)
        listed = "; ".join(f"{r.id} ({_place(r)})" for r in rows)
        more = f"; and {total - len(rows):,} more" if total > len(rows) else ""
        raise Conflict(
            f"{total:,} accounts are named {key!r}: {listed}{more}.",
            hint=f"Use the account id instead of the name, e.g. {rows[0].id!r}.",
        )
    raise NotFound("account", key, hint="Use the account's id as imported.")


def _place(row: Account) -> str:
    """Where an account is, to tell namesakes apart: city and state (or country)."""
    region = row.billing_state_code or row.billing_state or row.billing_country_code
    parts = [p for p in (row.billing_city, region) if p]
    return ", ".join(parts) or "no address"


__all__ = [
    "account",
    "active_model",
    "model",
    "model_or_active",
    "rule",
    "territory",
    "territory_type",
    "user",
    "user_pks",
]
