"""People and accounts on territories: user roles, manual assignments, exclusions, teams."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from territorial.errors import Conflict, NotFound, ValidationError
from territorial.services import audit, lookup
from territorial.services.models import require_editable
from territorial.services.workspace import Workspace
from territorial.store.schema import (
    AccountAssignmentRow,
    ExclusionRow,
    SalesUser,
    TerritoryModelRow,
    TerritoryRow,
    UserAssignmentRow,
)


@dataclass(frozen=True)
class TeamMember:
    """Someone who works an account: through which territory, in which role."""

    user_id: str
    user_name: str
    role: str
    territory: str
    territory_name: str


@dataclass(frozen=True)
class AccountPlace:
    """The territories an account is in, in one model."""

    account: str
    """The account's id."""
    model: str
    territories: list[str]
    """Developer names, sorted."""


@dataclass(frozen=True)
class UserTerritory:
    user_id: str
    user_name: str
    territory: str
    territory_name: str
    role: str


def _target(session: Session, model: str, territory: str) -> tuple[TerritoryModelRow, TerritoryRow]:
    model_row = lookup.model(session, model)
    require_editable(model_row)
    return model_row, lookup.territory(session, model_row, territory)


# -- users ----------------------------------------------------------------------------------


def assign_user(ws: Workspace, model: str, user: str, territory: str, *, role: str) -> None:
    """Put a user on a territory in a role; assigning again changes the role."""
    if not role.strip():
        raise ValidationError("A role in territory is required.", hint="Pass --role, e.g. 'AE'.")
    with ws.session() as session:
        model_row, terr = _target(session, model, territory)
        user_row = lookup.user(session, user)
        row = session.scalar(
            select(UserAssignmentRow).where(
                UserAssignmentRow.territory_pk == terr.pk, UserAssignmentRow.user_pk == user_row.pk
            )
        )
        before = {"role": row.role} if row else None
        if row is None:
            session.add(UserAssignmentRow(territory_pk=terr.pk, user_pk=user_row.pk, role=role))
        else:
            row.role = role
        audit.record(
            session,
            actor=ws.actor,
            action="user.assign",
            entity="user_assignment",
            key=f"{user_row.id}@{terr.developer_name}",
            model_pk=model_row.pk,
            before=before,
            after={"role": role},
        )


def unassign_user(ws: Workspace, model: str, user: str, territory: str) -> None:
    """Take a user off a territory."""
    with ws.session() as session:
        model_row, terr = _target(session, model, territory)
        user_row = lookup.user(session, user)
        row = session.scalar(
            select(UserAssignmentRow).where(
                UserAssignmentRow.territory_pk == terr.pk, UserAssignmentRow.user_pk == user_row.pk
            )
        )
        if row is None:
            raise NotFound(
                "user assignment",
                f"{user_row.id} on {terr.developer_name}",
                hint="See 'territorial user list MODEL'.",
            )
        audit.record(
            session,
            actor=ws.actor,
            action="user.unassign",
            entity="user_assignment",
            key=f"{user_row.id}@{terr.developer_name}",
            model_pk=model_row.pk,
            before={"role": row.role},
        )
        session.delete(row)


def user_territories(
    ws: Workspace, model: str | None = None, *, user: str | None = None
) -> list[UserTerritory]:
    """Users on territories of a model (the active one by default), optionally one user's."""
    with ws.session() as session:
        model_row = lookup.model_or_active(session, model)
        query = (
            select(SalesUser, TerritoryRow, UserAssignmentRow.role)
            .join(UserAssignmentRow, UserAssignmentRow.user_pk == SalesUser.pk)
            .join(TerritoryRow, TerritoryRow.pk == UserAssignmentRow.territory_pk)
            .where(TerritoryRow.model_pk == model_row.pk)
            .order_by(TerritoryRow.developer_name, SalesUser.name)
        )
        if user:
            query = query.where(SalesUser.pk == lookup.user(session, user).pk)
        return [
            UserTerritory(u.id, u.name, t.developer_name, t.name, role)
            for u, t, role in session.execute(query)
        ]


def account_team(ws: Workspace, account: str, *, model: str | None = None) -> list[TeamMember]:
    """Who works this account (team selling): every user on every territory it is in."""
    with ws.session() as session:
        model_row = lookup.model_or_active(session, model)
        acct = lookup.account(session, account)
        query = (
            select(SalesUser, UserAssignmentRow.role, TerritoryRow)
            .join(UserAssignmentRow, UserAssignmentRow.user_pk == SalesUser.pk)
            .join(TerritoryRow, TerritoryRow.pk == UserAssignmentRow.territory_pk)
            .where(
                TerritoryRow.pk.in_(
                    select(AccountAssignmentRow.territory_pk).where(
                        AccountAssignmentRow.model_pk == model_row.pk,
                        AccountAssignmentRow.account_pk == acct.pk,
                    )
                )
            )
            .order_by(TerritoryRow.developer_name, UserAssignmentRow.role, SalesUser.name)
        )
        return [
            TeamMember(u.id, u.name, role, t.developer_name, t.name)
            for u, role, t in session.execute(query)
        ]


def account_territories(ws: Workspace, account: str, *, model: str | None = None) -> AccountPlace:
    """Where an account is in a model (default: the active one), by any cause."""
    with ws.session() as session:
        model_row = lookup.model_or_active(session, model)
        acct = lookup.account(session, account)
        names = session.scalars(
            select(TerritoryRow.developer_name)
            .join(AccountAssignmentRow, AccountAssignmentRow.territory_pk == TerritoryRow.pk)
            .where(
                AccountAssignmentRow.model_pk == model_row.pk,
                AccountAssignmentRow.account_pk == acct.pk,
            )
            .distinct()
            .order_by(TerritoryRow.developer_name)
        )
        return AccountPlace(acct.id, model_row.developer_name, list(names))


# -- accounts -------------------------------------------------------------------------------


def assign_account(ws: Workspace, model: str, account: str, territory: str) -> None:
    """Assign an account to a territory by hand; manual assignments survive rule runs."""
    with ws.session() as session:
        model_row, terr = _target(session, model, territory)
        acct = lookup.account(session, account)
        exists = session.scalar(
            select(AccountAssignmentRow).where(
                AccountAssignmentRow.territory_pk == terr.pk,
                AccountAssignmentRow.account_pk == acct.pk,
                AccountAssignmentRow.cause == "manual",
            )
        )
        if exists:
            raise Conflict(
                f"Account {acct.id!r} is already assigned to {terr.developer_name!r} by hand."
            )
        session.add(
            AccountAssignmentRow(
                model_pk=model_row.pk, territory_pk=terr.pk, account_pk=acct.pk, cause="manual"
            )
        )
        audit.record(
            session,
            actor=ws.actor,
            action="account.assign",
            entity="account_assignment",
            key=f"{acct.id}@{terr.developer_name}",
            model_pk=model_row.pk,
            after={"cause": "manual"},
        )


def unassign_account(ws: Workspace, model: str, account: str, territory: str) -> None:
    """Remove a manual assignment (rule assignments change only through rules and runs)."""
    with ws.session() as session:
        model_row, terr = _target(session, model, territory)
        acct = lookup.account(session, account)
        result = session.execute(
            delete(AccountAssignmentRow).where(
                AccountAssignmentRow.territory_pk == terr.pk,
                AccountAssignmentRow.account_pk == acct.pk,
                AccountAssignmentRow.cause == "manual",
            )
        )
        if not result.rowcount:  # type: ignore[attr-defined]
            raise NotFound(
                "manual assignment",
                f"{acct.id} on {terr.developer_name}",
                hint="To keep rules from assigning it, use 'territorial account exclude'.",
            )
        audit.record(
            session,
            actor=ws.actor,
            action="account.unassign",
            entity="account_assignment",
            key=f"{acct.id}@{terr.developer_name}",
            model_pk=model_row.pk,
            before={"cause": "manual"},
        )


def exclude_account(ws: Workspace, model: str, account: str, territory: str) -> None:
    """Keep an account out of one territory's rules; its rule assignment there goes now."""
    with ws.session() as session:
        model_row, terr = _target(session, model, territory)
        acct = lookup.account(session, account)
        if session.scalar(
            select(ExclusionRow).where(
                ExclusionRow.territory_pk == terr.pk, ExclusionRow.account_pk == acct.pk
            )
        ):
            raise Conflict(f"Account {acct.id!r} is already excluded from {terr.developer_name!r}.")
        session.add(ExclusionRow(territory_pk=terr.pk, account_pk=acct.pk))
        session.execute(
            delete(AccountAssignmentRow).where(
                AccountAssignmentRow.territory_pk == terr.pk,
                AccountAssignmentRow.account_pk == acct.pk,
                AccountAssignmentRow.cause == "rule",
            )
        )
        audit.record(
            session,
            actor=ws.actor,
            action="account.exclude",
            entity="exclusion",
            key=f"{acct.id}@{terr.developer_name}",
            model_pk=model_row.pk,
            after={"excluded": True},
        )


def include_account(ws: Workspace, model: str, account: str, territory: str) -> None:
    """Lift an exclusion; the next run may assign the account there again."""
    with ws.session() as session:
        model_row, terr = _target(session, model, territory)
        acct = lookup.account(session, account)
        result = session.execute(
            delete(ExclusionRow).where(
                ExclusionRow.territory_pk == terr.pk, ExclusionRow.account_pk == acct.pk
            )
        )
        if not result.rowcount:  # type: ignore[attr-defined]
            raise NotFound("exclusion", f"{acct.id} from {terr.developer_name}")
        audit.record(
            session,
            actor=ws.actor,
            action="account.include",
            entity="exclusion",
            key=f"{acct.id}@{terr.developer_name}",
            model_pk=model_row.pk,
            before={"excluded": True},
        )


__all__ = [
    "AccountPlace",
    "TeamMember",
    "UserTerritory",
    "account_team",
    "account_territories",
    "assign_account",
    "assign_user",
    "exclude_account",
    "include_account",
    "unassign_account",
    "unassign_user",
    "user_territories",
]
