"""account assignments keep only cascading foreign keys

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("account_assignment", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_account_assignment_model_pk_territory_model"), type_="foreignkey"
        )
        batch_op.drop_constraint(
            batch_op.f("fk_account_assignment_rule_pk_assignment_rule"), type_="foreignkey"
        )
        batch_op.drop_constraint(batch_op.f("fk_account_assignment_run_pk_run"), type_="foreignkey")


def downgrade() -> None:
    with op.batch_alter_table("account_assignment", schema=None) as batch_op:
        batch_op.create_foreign_key(
            batch_op.f("fk_account_assignment_run_pk_run"),
            "run",
            ["run_pk"],
            ["pk"],
            ondelete="SET NULL",
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_account_assignment_rule_pk_assignment_rule"),
            "assignment_rule",
            ["rule_pk"],
            ["pk"],
            ondelete="SET NULL",
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_account_assignment_model_pk_territory_model"),
            "territory_model",
            ["model_pk"],
            ["pk"],
            ondelete="CASCADE",
        )
