"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "account",
        sa.Column("pk", sa.Integer(), nullable=False),
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("billing_country", sa.String(length=80), nullable=True),
        sa.Column("billing_country_code", sa.String(length=10), nullable=True),
        sa.Column("billing_state", sa.String(length=80), nullable=True),
        sa.Column("billing_state_code", sa.String(length=10), nullable=True),
        sa.Column("billing_city", sa.String(length=80), nullable=True),
        sa.Column("billing_postal_code", sa.String(length=20), nullable=True),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.Column("industry", sa.String(length=80), nullable=True),
        sa.Column("type", sa.String(length=80), nullable=True),
        sa.Column("record_type", sa.String(length=80), nullable=True),
        sa.Column("annual_revenue", sa.Float(), nullable=True),
        sa.Column("number_of_employees", sa.Float(), nullable=True),
        sa.Column("owner_id", sa.String(length=64), nullable=True),
        sa.Column("excluded_from_realign", sa.Boolean(), nullable=False),
        sa.Column(
            "custom",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("updated_at", sa.DateTime(), server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("pk", name=op.f("pk_account")),
        sa.UniqueConstraint("id", name=op.f("uq_account_id")),
    )
    op.create_table(
        "field",
        sa.Column("pk", sa.Integer(), nullable=False),
        sa.Column("object", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("label", sa.String(length=255), nullable=False),
        sa.Column("type", sa.String(length=20), nullable=False),
        sa.Column(
            "picklist_values",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.PrimaryKeyConstraint("pk", name=op.f("pk_field")),
        sa.UniqueConstraint("object", "name", name=op.f("uq_field_object")),
    )
    op.create_table(
        "sales_user",
        sa.Column("pk", sa.Integer(), nullable=False),
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("email", sa.String(length=255), nullable=True),
        sa.Column("title", sa.String(length=255), nullable=True),
        sa.Column("home_latitude", sa.Float(), nullable=True),
        sa.Column("home_longitude", sa.Float(), nullable=True),
        sa.Column("capacity", sa.Float(), nullable=True),
        sa.Column(
            "custom",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.PrimaryKeyConstraint("pk", name=op.f("pk_sales_user")),
        sa.UniqueConstraint("id", name=op.f("uq_sales_user_id")),
    )
    op.create_table(
        "territory_model",
        sa.Column("pk", sa.Integer(), nullable=False),
        sa.Column("developer_name", sa.String(length=80), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("rule_combination", sa.String(length=3), nullable=False),
        sa.Column(
            "settings",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("cloned_from_pk", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), server_default=sa.func.now(), nullable=False),
        sa.Column("activated_at", sa.DateTime(), nullable=True),
        sa.Column("archived_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["cloned_from_pk"],
            ["territory_model.pk"],
            name=op.f("fk_territory_model_cloned_from_pk_territory_model"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("pk", name=op.f("pk_territory_model")),
        sa.UniqueConstraint("developer_name", name=op.f("uq_territory_model_developer_name")),
    )
    with op.batch_alter_table("territory_model", schema=None) as batch_op:
        batch_op.create_index(
            "uq_territory_model_one_active",
            ["state"],
            unique=True,
            sqlite_where=sa.text("state = 'active'"),
            postgresql_where=sa.text("state = 'active'"),
        )

    op.create_table(
        "territory_type",
        sa.Column("pk", sa.Integer(), nullable=False),
        sa.Column("developer_name", sa.String(length=80), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("pk", name=op.f("pk_territory_type")),
        sa.UniqueConstraint("developer_name", name=op.f("uq_territory_type_developer_name")),
    )
    op.create_table(
        "assignment_rule",
        sa.Column("pk", sa.Integer(), nullable=False),
        sa.Column("model_pk", sa.Integer(), nullable=False),
        sa.Column("developer_name", sa.String(length=80), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("object_type", sa.String(length=20), nullable=False),
        sa.Column("boolean_filter", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["model_pk"],
            ["territory_model.pk"],
            name=op.f("fk_assignment_rule_model_pk_territory_model"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("pk", name=op.f("pk_assignment_rule")),
        sa.UniqueConstraint("model_pk", "developer_name", name=op.f("uq_assignment_rule_model_pk")),
    )
    with op.batch_alter_table("assignment_rule", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_assignment_rule_model_pk"), ["model_pk"], unique=False)

    op.create_table(
        "audit_log",
        sa.Column("pk", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("actor", sa.String(length=120), nullable=False),
        sa.Column("action", sa.String(length=60), nullable=False),
        sa.Column("entity", sa.String(length=40), nullable=False),
        sa.Column("entity_key", sa.String(length=255), nullable=True),
        sa.Column("model_pk", sa.Integer(), nullable=True),
        sa.Column(
            "before",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column(
            "after",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.ForeignKeyConstraint(
            ["model_pk"],
            ["territory_model.pk"],
            name=op.f("fk_audit_log_model_pk_territory_model"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("pk", name=op.f("pk_audit_log")),
    )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_log_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_log_model_pk"), ["model_pk"], unique=False)

    op.create_table(
        "opportunity",
        sa.Column("pk", sa.Integer(), nullable=False),
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("account_pk", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("amount", sa.Float(), nullable=True),
        sa.Column("stage", sa.String(length=80), nullable=True),
        sa.Column("probability", sa.Float(), nullable=True),
        sa.Column("close_date", sa.Date(), nullable=True),
        sa.Column("is_closed", sa.Boolean(), nullable=False),
        sa.Column("is_won", sa.Boolean(), nullable=False),
        sa.Column("owner_id", sa.String(length=64), nullable=True),
        sa.Column("excluded_from_territory_filter", sa.Boolean(), nullable=False),
        sa.Column(
            "custom",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("updated_at", sa.DateTime(), server_default=sa.func.now(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_pk"], ["account.pk"], name=op.f("fk_opportunity_account_pk_account")
        ),
        sa.PrimaryKeyConstraint("pk", name=op.f("pk_opportunity")),
        sa.UniqueConstraint("id", name=op.f("uq_opportunity_id")),
    )
    with op.batch_alter_table("opportunity", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_opportunity_account_pk"), ["account_pk"], unique=False)

    op.create_table(
        "run",
        sa.Column("pk", sa.Integer(), nullable=False),
        sa.Column("model_pk", sa.Integer(), nullable=False),
        sa.Column("actor", sa.String(length=120), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.Column(
            "scope",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("accounts_evaluated", sa.Integer(), nullable=False),
        sa.Column("assignments_written", sa.Integer(), nullable=False),
        sa.Column("assignments_removed", sa.Integer(), nullable=False),
        sa.Column("duration_ms", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["model_pk"],
            ["territory_model.pk"],
            name=op.f("fk_run_model_pk_territory_model"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("pk", name=op.f("pk_run")),
    )
    with op.batch_alter_table("run", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_run_model_pk"), ["model_pk"], unique=False)

    op.create_table(
        "territory",
        sa.Column("pk", sa.Integer(), nullable=False),
        sa.Column("model_pk", sa.Integer(), nullable=False),
        sa.Column("developer_name", sa.String(length=80), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("parent_pk", sa.Integer(), nullable=True),
        sa.Column("type_pk", sa.Integer(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("account_access_level", sa.String(length=10), nullable=False),
        sa.Column("opportunity_access_level", sa.String(length=10), nullable=False),
        sa.Column("case_access_level", sa.String(length=10), nullable=False),
        sa.Column("contact_access_level", sa.String(length=10), nullable=False),
        sa.Column("forecast_manager_pk", sa.Integer(), nullable=True),
        sa.Column("target", sa.Float(), nullable=True),
        sa.Column(
            "custom",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.ForeignKeyConstraint(
            ["forecast_manager_pk"],
            ["sales_user.pk"],
            name=op.f("fk_territory_forecast_manager_pk_sales_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["model_pk"],
            ["territory_model.pk"],
            name=op.f("fk_territory_model_pk_territory_model"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["parent_pk"],
            ["territory.pk"],
            name=op.f("fk_territory_parent_pk_territory"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["type_pk"], ["territory_type.pk"], name=op.f("fk_territory_type_pk_territory_type")
        ),
        sa.PrimaryKeyConstraint("pk", name=op.f("pk_territory")),
        sa.UniqueConstraint("model_pk", "developer_name", name=op.f("uq_territory_model_pk")),
    )
    with op.batch_alter_table("territory", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_territory_model_pk"), ["model_pk"], unique=False)
        batch_op.create_index(batch_op.f("ix_territory_parent_pk"), ["parent_pk"], unique=False)

    op.create_table(
        "account_assignment",
        sa.Column("pk", sa.Integer(), nullable=False),
        sa.Column("model_pk", sa.Integer(), nullable=False),
        sa.Column("territory_pk", sa.Integer(), nullable=False),
        sa.Column("account_pk", sa.Integer(), nullable=False),
        sa.Column("cause", sa.String(length=10), nullable=False),
        sa.Column("rule_pk", sa.Integer(), nullable=True),
        sa.Column("run_pk", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_pk"],
            ["account.pk"],
            name=op.f("fk_account_assignment_account_pk_account"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["model_pk"],
            ["territory_model.pk"],
            name=op.f("fk_account_assignment_model_pk_territory_model"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["rule_pk"],
            ["assignment_rule.pk"],
            name=op.f("fk_account_assignment_rule_pk_assignment_rule"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["run_pk"],
            ["run.pk"],
            name=op.f("fk_account_assignment_run_pk_run"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["territory_pk"],
            ["territory.pk"],
            name=op.f("fk_account_assignment_territory_pk_territory"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("pk", name=op.f("pk_account_assignment")),
        sa.UniqueConstraint(
            "territory_pk", "account_pk", "cause", name=op.f("uq_account_assignment_territory_pk")
        ),
    )
    with op.batch_alter_table("account_assignment", schema=None) as batch_op:
        batch_op.create_index(
            "ix_account_assignment_model_account", ["model_pk", "account_pk"], unique=False
        )

    op.create_table(
        "exclusion",
        sa.Column("pk", sa.Integer(), nullable=False),
        sa.Column("territory_pk", sa.Integer(), nullable=False),
        sa.Column("account_pk", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_pk"],
            ["account.pk"],
            name=op.f("fk_exclusion_account_pk_account"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["territory_pk"],
            ["territory.pk"],
            name=op.f("fk_exclusion_territory_pk_territory"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("pk", name=op.f("pk_exclusion")),
        sa.UniqueConstraint("territory_pk", "account_pk", name=op.f("uq_exclusion_territory_pk")),
    )
    with op.batch_alter_table("exclusion", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_exclusion_territory_pk"), ["territory_pk"], unique=False
        )

    op.create_table(
        "opportunity_territory",
        sa.Column("pk", sa.Integer(), nullable=False),
        sa.Column("model_pk", sa.Integer(), nullable=False),
        sa.Column("opportunity_pk", sa.Integer(), nullable=False),
        sa.Column("territory_pk", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["model_pk"],
            ["territory_model.pk"],
            name=op.f("fk_opportunity_territory_model_pk_territory_model"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["opportunity_pk"],
            ["opportunity.pk"],
            name=op.f("fk_opportunity_territory_opportunity_pk_opportunity"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["territory_pk"],
            ["territory.pk"],
            name=op.f("fk_opportunity_territory_territory_pk_territory"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("pk", name=op.f("pk_opportunity_territory")),
        sa.UniqueConstraint(
            "model_pk", "opportunity_pk", name=op.f("uq_opportunity_territory_model_pk")
        ),
    )
    with op.batch_alter_table("opportunity_territory", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_opportunity_territory_opportunity_pk"), ["opportunity_pk"], unique=False
        )

    op.create_table(
        "rule_association",
        sa.Column("pk", sa.Integer(), nullable=False),
        sa.Column("rule_pk", sa.Integer(), nullable=False),
        sa.Column("territory_pk", sa.Integer(), nullable=False),
        sa.Column("inherited", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["rule_pk"],
            ["assignment_rule.pk"],
            name=op.f("fk_rule_association_rule_pk_assignment_rule"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["territory_pk"],
            ["territory.pk"],
            name=op.f("fk_rule_association_territory_pk_territory"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("pk", name=op.f("pk_rule_association")),
        sa.UniqueConstraint("rule_pk", "territory_pk", name=op.f("uq_rule_association_rule_pk")),
    )
    with op.batch_alter_table("rule_association", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_rule_association_rule_pk"), ["rule_pk"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_rule_association_territory_pk"), ["territory_pk"], unique=False
        )

    op.create_table(
        "rule_item",
        sa.Column("pk", sa.Integer(), nullable=False),
        sa.Column("rule_pk", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("field", sa.String(length=120), nullable=False),
        sa.Column("operator", sa.String(length=20), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["rule_pk"],
            ["assignment_rule.pk"],
            name=op.f("fk_rule_item_rule_pk_assignment_rule"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("pk", name=op.f("pk_rule_item")),
        sa.UniqueConstraint("rule_pk", "number", name=op.f("uq_rule_item_rule_pk")),
    )
    with op.batch_alter_table("rule_item", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_rule_item_rule_pk"), ["rule_pk"], unique=False)

    op.create_table(
        "user_assignment",
        sa.Column("pk", sa.Integer(), nullable=False),
        sa.Column("territory_pk", sa.Integer(), nullable=False),
        sa.Column("user_pk", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=80), nullable=False),
        sa.ForeignKeyConstraint(
            ["territory_pk"],
            ["territory.pk"],
            name=op.f("fk_user_assignment_territory_pk_territory"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_pk"],
            ["sales_user.pk"],
            name=op.f("fk_user_assignment_user_pk_sales_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("pk", name=op.f("pk_user_assignment")),
        sa.UniqueConstraint(
            "territory_pk", "user_pk", name=op.f("uq_user_assignment_territory_pk")
        ),
    )
    with op.batch_alter_table("user_assignment", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_user_assignment_territory_pk"), ["territory_pk"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_user_assignment_user_pk"), ["user_pk"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("user_assignment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_user_assignment_user_pk"))
        batch_op.drop_index(batch_op.f("ix_user_assignment_territory_pk"))

    op.drop_table("user_assignment")
    with op.batch_alter_table("rule_item", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rule_item_rule_pk"))

    op.drop_table("rule_item")
    with op.batch_alter_table("rule_association", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rule_association_territory_pk"))
        batch_op.drop_index(batch_op.f("ix_rule_association_rule_pk"))

    op.drop_table("rule_association")
    with op.batch_alter_table("opportunity_territory", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_opportunity_territory_opportunity_pk"))

    op.drop_table("opportunity_territory")
    with op.batch_alter_table("exclusion", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_exclusion_territory_pk"))

    op.drop_table("exclusion")
    with op.batch_alter_table("account_assignment", schema=None) as batch_op:
        batch_op.drop_index("ix_account_assignment_model_account")

    op.drop_table("account_assignment")
    with op.batch_alter_table("territory", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_territory_parent_pk"))
        batch_op.drop_index(batch_op.f("ix_territory_model_pk"))

    op.drop_table("territory")
    with op.batch_alter_table("run", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_run_model_pk"))

    op.drop_table("run")
    with op.batch_alter_table("opportunity", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_opportunity_account_pk"))

    op.drop_table("opportunity")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_log_model_pk"))
        batch_op.drop_index(batch_op.f("ix_audit_log_at"))

    op.drop_table("audit_log")
    with op.batch_alter_table("assignment_rule", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_assignment_rule_model_pk"))

    op.drop_table("assignment_rule")
    op.drop_table("territory_type")
    with op.batch_alter_table("territory_model", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_territory_model_one_active",
            sqlite_where=sa.text("state = 'active'"),
            postgresql_where=sa.text("state = 'active'"),
        )

    op.drop_table("territory_model")
    op.drop_table("sales_user")
    op.drop_table("field")
    op.drop_table("account")
