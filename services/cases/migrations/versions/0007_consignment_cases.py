"""consignment cases: the lines of each case; deadlines counted on a provisional calendar

Revision ID: 0007_consignment_cases
Revises: 0006_case_events_outbox
"""

import sqlalchemy as sa
from alembic import op

from shared.db import JsonType

revision = "0007_consignment_cases"
down_revision = "0006_case_events_outbox"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("cases", sa.Column("line_nos", JsonType, nullable=True))
    op.create_table(
        "provisional_deadlines",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("case_id", sa.String(length=128), nullable=False),
        sa.Column("deadline", sa.String(length=64), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("calendar_version", sa.String(length=64), nullable=True),
        sa.Column("flagged_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolution", sa.String(length=32), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_provisional_deadlines")),
        sa.UniqueConstraint("case_id", "deadline", name=op.f("uq_provisional_deadlines_case_id")),
    )
    op.create_index(op.f("ix_provisional_deadlines_case_id"), "provisional_deadlines", ["case_id"], unique=False)
    op.create_index(
        op.f("ix_provisional_deadlines_resolved_at"), "provisional_deadlines", ["resolved_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_provisional_deadlines_resolved_at"), table_name="provisional_deadlines")
    op.drop_index(op.f("ix_provisional_deadlines_case_id"), table_name="provisional_deadlines")
    op.drop_table("provisional_deadlines")
    op.drop_column("cases", "line_nos")
