"""account assignments without foreign keys

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("account_assignment", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_account_assignment_territory_pk_territory"), type_="foreignkey"
        )
        batch_op.drop_constraint(
            batch_op.f("fk_account_assignment_account_pk_account"), type_="foreignkey"
        )


def downgrade() -> None:
    with op.batch_alter_table("account_assignment", schema=None) as batch_op:
        batch_op.create_foreign_key(
            batch_op.f("fk_account_assignment_account_pk_account"),
            "account",
            ["account_pk"],
            ["pk"],
            ondelete="CASCADE",
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_account_assignment_territory_pk_territory"),
            "territory",
            ["territory_pk"],
            ["pk"],
            ondelete="CASCADE",
        )
