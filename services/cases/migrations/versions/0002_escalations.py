"""escalations of deadlines to supervisors

Revision ID: 0002_escalations
Revises: 73f6679da9f5
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_escalations"
down_revision = "73f6679da9f5"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "escalations",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("case_id", sa.String(length=128), nullable=False),
        sa.Column("deadline", sa.String(length=64), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(length=32), nullable=False),
        sa.Column("escalated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolution", sa.String(length=32), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_escalations")),
        sa.UniqueConstraint("case_id", "deadline", "due_at", name=op.f("uq_escalations_case_id")),
    )
    op.create_index(op.f("ix_escalations_case_id"), "escalations", ["case_id"], unique=False)
    op.create_index(op.f("ix_escalations_resolved_at"), "escalations", ["resolved_at"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_escalations_resolved_at"), table_name="escalations")
    op.drop_index(op.f("ix_escalations_case_id"), table_name="escalations")
    op.drop_table("escalations")
