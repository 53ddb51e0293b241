"""case read model outlives the workflow; failed cases, step escalations, interventions

Revision ID: 0004_read_model_failures
Revises: 0003_case_scope
"""

import sqlalchemy as sa
from alembic import op

from shared.db import JsonType

revision = "0004_read_model_failures"
down_revision = "0003_case_scope"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("cases", sa.Column("snapshot", JsonType, nullable=True))
    op.add_column("cases", sa.Column("next_due_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("cases", sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("cases", sa.Column("failure", JsonType, nullable=True))
    op.add_column("cases", sa.Column("auto_repairs", sa.Integer(), server_default="0", nullable=False))
    op.create_index(op.f("ix_cases_next_due_at"), "cases", ["next_due_at"], unique=False)
    op.add_column("escalations", sa.Column("kind", sa.String(length=32), server_default="deadline", nullable=False))
    op.add_column("escalations", sa.Column("reason", sa.String(length=1000), nullable=True))
    op.add_column("escalations", sa.Column("resolved_by", sa.String(length=128), nullable=True))
    op.create_table(
        "case_interventions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("case_id", sa.String(length=128), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("event", sa.String(length=64), nullable=False),
        sa.Column("by", sa.String(length=128), nullable=False),
        sa.Column("detail", JsonType, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_interventions")),
    )
    op.create_index(op.f("ix_case_interventions_case_id"), "case_interventions", ["case_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_case_interventions_case_id"), table_name="case_interventions")
    op.drop_table("case_interventions")
    op.drop_column("escalations", "resolved_by")
    op.drop_column("escalations", "reason")
    op.drop_column("escalations", "kind")
    op.drop_index(op.f("ix_cases_next_due_at"), table_name="cases")
    for column in ("auto_repairs", "failure", "closed_at", "next_due_at", "snapshot"):
        op.drop_column("cases", column)
