"""The relational schema (SQLAlchemy 2). Alembic migrations are generated from it.

Records imported from a CRM (accounts, opportunities, users) keep their external text id in
``id`` and get an integer surrogate ``pk`` used by every join: assignment tables then hold
two integers a row, which keeps million-row writes and reads cheap. Custom field values
live in one JSON column per record (``custom``), typed by the ``field`` catalog; bulk
loads extract just the keys a computation needs (``json_extract``/``->>``).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

JsonDict = JSON().with_variant(JSONB(), "postgresql")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class FieldDef(Base):
    """A custom field in the catalog (standard fields are built in, see core.fields)."""

    __tablename__ = "field"
    __table_args__ = (UniqueConstraint("object", "name"),)

    pk: Mapped[int] = mapped_column(Integer, primary_key=True)
    object: Mapped[str] = mapped_column(String(20))  # account | opportunity | user
    name: Mapped[str] = mapped_column(String(80))
    label: Mapped[str] = mapped_column(String(255), default="")
    type: Mapped[str] = mapped_column(String(20))
    picklist_values: Mapped[list[str] | None] = mapped_column(JsonDict, nullable=True)


class Account(Base):
    __tablename__ = "account"

    pk: Mapped[int] = mapped_column(Integer, primary_key=True)
    id: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(255))
    billing_street: Mapped[str | None] = mapped_column(String(255))
    billing_country: Mapped[str | None] = mapped_column(String(80))
    billing_country_code: Mapped[str | None] = mapped_column(String(10))
    billing_state: Mapped[str | None] = mapped_column(String(80))
    billing_state_code: Mapped[str | None] = mapped_column(String(10))
    billing_city: Mapped[str | None] = mapped_column(String(80))
    billing_postal_code: Mapped[str | None] = mapped_column(String(20))
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    industry: Mapped[str | None] = mapped_column(String(80))
    type: Mapped[str | None] = mapped_column(String(80))
    record_type: Mapped[str | None] = mapped_column(String(80))
    annual_revenue: Mapped[float | None] = mapped_column(Float)
    number_of_employees: Mapped[float | None] = mapped_column(Float)
    owner_id: Mapped[str | None] = mapped_column(String(64))
    excluded_from_realign: Mapped[bool] = mapped_column(Boolean, default=False)
    custom: Mapped[dict[str, Any] | None] = mapped_column(JsonDict, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime, server_default=func.now())


class Opportunity(Base):
    __tablename__ = "opportunity"

    pk: Mapped[int] = mapped_column(Integer, primary_key=True)
    id: Mapped[str] = mapped_column(String(64), unique=True)
    account_pk: Mapped[int] = mapped_column(ForeignKey("account.pk"), index=True)
    name: Mapped[str] = mapped_column(String(255))
    amount: Mapped[float | None] = mapped_column(Float)
    stage: Mapped[str | None] = mapped_column(String(80))
    probability: Mapped[float | None] = mapped_column(Float)
    close_date: Mapped[date | None] = mapped_column(Date)
    is_closed: Mapped[bool] = mapped_column(Boolean, default=False)
    is_won: Mapped[bool] = mapped_column(Boolean, default=False)
    owner_id: Mapped[str | None] = mapped_column(String(64))
    excluded_from_territory_filter: Mapped[bool] = mapped_column(Boolean, default=False)
    custom: Mapped[dict[str, Any] | None] = mapped_column(JsonDict, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime, server_default=func.now())


class SalesUser(Base):
    __tablename__ = "sales_user"

    pk: Mapped[int] = mapped_column(Integer, primary_key=True)
    id: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(255))
    email: Mapped[str | None] = mapped_column(String(255))
    title: Mapped[str | None] = mapped_column(String(255))
    home_latitude: Mapped[float | None] = mapped_column(Float)
    home_longitude: Mapped[float | None] = mapped_column(Float)
    capacity: Mapped[float | None] = mapped_column(Float)
    custom: Mapped[dict[str, Any] | None] = mapped_column(JsonDict, nullable=True)


class TerritoryTypeRow(Base):
    __tablename__ = "territory_type"

    pk: Mapped[int] = mapped_column(Integer, primary_key=True)
    developer_name: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(255))
    priority: Mapped[int] = mapped_column(Integer)
    description: Mapped[str] = mapped_column(Text, default="")


class TerritoryModelRow(Base):
    __tablename__ = "territory_model"
    __table_args__ = (
        # Exactly one model may be active at a time.
        Index(
            "uq_territory_model_one_active",
            "state",
            unique=True,
            sqlite_where=text("state = 'active'"),
            postgresql_where=text("state = 'active'"),
        ),
    )

    pk: Mapped[int] = mapped_column(Integer, primary_key=True)
    developer_name: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(255))
    description: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[str] = mapped_column(String(20), default="planning")
    rule_combination: Mapped[str] = mapped_column(String(3), default="all")
    settings: Mapped[dict[str, Any] | None] = mapped_column(JsonDict, nullable=True)
    cloned_from_pk: Mapped[int | None] = mapped_column(
        ForeignKey("territory_model.pk", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(DateTime, server_default=func.now())
    activated_at: Mapped[datetime | None] = mapped_column(DateTime)
    archived_at: Mapped[datetime | None] = mapped_column(DateTime)


class TerritoryRow(Base):
    __tablename__ = "territory"
    __table_args__ = (UniqueConstraint("model_pk", "developer_name"),)

    pk: Mapped[int] = mapped_column(Integer, primary_key=True)
    model_pk: Mapped[int] = mapped_column(
        ForeignKey("territory_model.pk", ondelete="CASCADE"), index=True
    )
    developer_name: Mapped[str] = mapped_column(String(80))
    name: Mapped[str] = mapped_column(String(255))
    parent_pk: Mapped[int | None] = mapped_column(
        ForeignKey("territory.pk", ondelete="CASCADE"), index=True
    )
    type_pk: Mapped[int] = mapped_column(ForeignKey("territory_type.pk"))
    description: Mapped[str] = mapped_column(Text, default="")
    account_access_level: Mapped[str] = mapped_column(String(10), default="Edit")
    opportunity_access_level: Mapped[str] = mapped_column(String(10), default="Edit")
    case_access_level: Mapped[str] = mapped_column(String(10), default="Edit")
    contact_access_level: Mapped[str] = mapped_column(String(10), default="Edit")
    forecast_manager_pk: Mapped[int | None] = mapped_column(
        ForeignKey("sales_user.pk", ondelete="SET NULL")
    )
    target: Mapped[float | None] = mapped_column(Float)
    custom: Mapped[dict[str, Any] | None] = mapped_column(JsonDict, nullable=True)


class RuleRow(Base):
    __tablename__ = "assignment_rule"
    __table_args__ = (UniqueConstraint("model_pk", "developer_name"),)

    pk: Mapped[int] = mapped_column(Integer, primary_key=True)
    model_pk: Mapped[int] = mapped_column(
        ForeignKey("territory_model.pk", ondelete="CASCADE"), index=True
    )
    developer_name: Mapped[str] = mapped_column(String(80))
    name: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    object_type: Mapped[str] = mapped_column(String(20), default="Account")
    boolean_filter: Mapped[str | None] = mapped_column(Text)


class RuleItemRow(Base):
    __tablename__ = "rule_item"
    __table_args__ = (UniqueConstraint("rule_pk", "number"),)

    pk: Mapped[int] = mapped_column(Integer, primary_key=True)
    rule_pk: Mapped[int] = mapped_column(
        ForeignKey("assignment_rule.pk", ondelete="CASCADE"), index=True
    )
    number: Mapped[int] = mapped_column(Integer)
    field: Mapped[str] = mapped_column(String(120))
    operator: Mapped[str] = mapped_column(String(20))
    value: Mapped[str] = mapped_column(Text, default="")


class RuleAssociationRow(Base):
    __tablename__ = "rule_association"
    __table_args__ = (UniqueConstraint("rule_pk", "territory_pk"),)

    pk: Mapped[int] = mapped_column(Integer, primary_key=True)
    rule_pk: Mapped[int] = mapped_column(
        ForeignKey("assignment_rule.pk", ondelete="CASCADE"), index=True
    )
    territory_pk: Mapped[int] = mapped_column(
        ForeignKey("territory.pk", ondelete="CASCADE"), index=True
    )
    inherited: Mapped[bool] = mapped_column(Boolean, default=False)


class UserAssignmentRow(Base):
    __tablename__ = "user_assignment"
    __table_args__ = (UniqueConstraint("territory_pk", "user_pk"),)

    pk: Mapped[int] = mapped_column(Integer, primary_key=True)
    territory_pk: Mapped[int] = mapped_column(
        ForeignKey("territory.pk", ondelete="CASCADE"), index=True
    )
    user_pk: Mapped[int] = mapped_column(
        ForeignKey("sales_user.pk", ondelete="CASCADE"), index=True
    )
    role: Mapped[str] = mapped_column(String(80))


class RunRow(Base):
    __tablename__ = "run"

    pk: Mapped[int] = mapped_column(Integer, primary_key=True)
    model_pk: Mapped[int] = mapped_column(
        ForeignKey("territory_model.pk", ondelete="CASCADE"), index=True
    )
    actor: Mapped[str] = mapped_column(String(120))
    started_at: Mapped[datetime] = mapped_column(DateTime)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)
    scope: Mapped[dict[str, Any] | None] = mapped_column(JsonDict, nullable=True)
    status: Mapped[str] = mapped_column(String(20), default="running")
    accounts_evaluated: Mapped[int] = mapped_column(Integer, default=0)
    assignments_written: Mapped[int] = mapped_column(Integer, default=0)
    assignments_removed: Mapped[int] = mapped_column(Integer, default=0)
    duration_ms: Mapped[int | None] = mapped_column(Integer)


class AccountAssignmentRow(Base):
    __tablename__ = "account_assignment"
    __table_args__ = (
        UniqueConstraint("territory_pk", "account_pk", "cause"),
        Index("ix_account_assignment_model_account", "model_pk", "account_pk"),
    )

    pk: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Runs write millions of these rows and PostgreSQL checks every foreign key row by row
    # (two keys tripled the write time), so these are plain integers and the services that
    # delete territories, models or rules remove or clear the rows that refer to them
    # (``hierarchy.remove_territory``, ``models.delete_model``, ``rules.remove_rule``).
    model_pk: Mapped[int] = mapped_column(Integer)
    territory_pk: Mapped[int] = mapped_column(Integer)
    account_pk: Mapped[int] = mapped_column(Integer)
    cause: Mapped[str] = mapped_column(String(10))  # rule | manual
    rule_pk: Mapped[int | None] = mapped_column(Integer)
    run_pk: Mapped[int | None] = mapped_column(Integer)


class ExclusionRow(Base):
    __tablename__ = "exclusion"
    __table_args__ = (UniqueConstraint("territory_pk", "account_pk"),)

    pk: Mapped[int] = mapped_column(Integer, primary_key=True)
    territory_pk: Mapped[int] = mapped_column(
        ForeignKey("territory.pk", ondelete="CASCADE"), index=True
    )
    account_pk: Mapped[int] = mapped_column(ForeignKey("account.pk", ondelete="CASCADE"))


class OpportunityTerritoryRow(Base):
    __tablename__ = "opportunity_territory"
    __table_args__ = (UniqueConstraint("model_pk", "opportunity_pk"),)

    pk: Mapped[int] = mapped_column(Integer, primary_key=True)
    model_pk: Mapped[int] = mapped_column(ForeignKey("territory_model.pk", ondelete="CASCADE"))
    opportunity_pk: Mapped[int] = mapped_column(
        ForeignKey("opportunity.pk", ondelete="CASCADE"), index=True
    )
    territory_pk: Mapped[int | None] = mapped_column(
        ForeignKey("territory.pk", ondelete="SET NULL")
    )


class AuditRow(Base):
    __tablename__ = "audit_log"

    pk: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime, index=True)
    actor: Mapped[str] = mapped_column(String(120))
    action: Mapped[str] = mapped_column(String(60))
    entity: Mapped[str] = mapped_column(String(40))
    entity_key: Mapped[str | None] = mapped_column(String(255))
    model_pk: Mapped[int | None] = mapped_column(
        ForeignKey("territory_model.pk", ondelete="SET NULL"), index=True
    )
    before: Mapped[dict[str, Any] | None] = mapped_column(JsonDict, nullable=True)
    after: Mapped[dict[str, Any] | None] = mapped_column(JsonDict, nullable=True)


__all__ = [
    "Account",
    "AccountAssignmentRow",
    "AuditRow",
    "Base",
    "ExclusionRow",
    "FieldDef",
    "Opportunity",
    "OpportunityTerritoryRow",
    "RuleAssociationRow",
    "RuleItemRow",
    "RuleRow",
    "RunRow",
    "SalesUser",
    "TerritoryModelRow",
    "TerritoryRow",
    "TerritoryTypeRow",
    "UserAssignmentRow",
]
