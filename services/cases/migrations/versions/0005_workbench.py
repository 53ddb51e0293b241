"""workbench: case facts for the worklist and statistics, deadlines by case, assignment and its record

Revision ID: 0005_workbench
Revises: 0004_read_model_failures
"""

import sqlalchemy as sa
from alembic import op

from shared.db import JsonType

revision = "0005_workbench"
down_revision = "0004_read_model_failures"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "case_facts",
        sa.Column("case_id", sa.String(length=128), nullable=False),
        sa.Column("direction", sa.String(length=16), nullable=True),
        sa.Column("transport_mode", sa.String(length=16), nullable=True),
        sa.Column("origin_country", sa.String(length=2), nullable=True),
        sa.Column("destination_country", sa.String(length=2), nullable=True),
        sa.Column("consignor_name", sa.String(length=256), nullable=True),
        sa.Column("consignee_name", sa.String(length=256), nullable=True),
        sa.Column("declarant_name", sa.String(length=256), nullable=True),
        sa.Column("manifest_id", sa.String(length=64), nullable=True),
        sa.Column("mode", sa.String(length=16), nullable=True),
        sa.Column("line_count", sa.Integer(), nullable=False),
        sa.Column("items", sa.Numeric(18, 3), nullable=False),
        sa.Column("goods_value_cny", sa.Numeric(18, 2), nullable=True),
        sa.Column("hs_codes", JsonType, nullable=False),
        sa.Column("profile_ids", JsonType, nullable=False),
        sa.Column("campaign_ids", JsonType, nullable=False),
        sa.Column("pending_approval", JsonType, nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("case_id", name=op.f("pk_case_facts")),
    )
    for column in ("direction", "transport_mode", "manifest_id"):
        op.create_index(op.f(f"ix_case_facts_{column}"), "case_facts", [column], unique=False)
    op.create_table(
        "case_deadlines",
        sa.Column("case_id", sa.String(length=128), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_date", sa.String(length=10), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("escalated", sa.Boolean(), nullable=False),
        sa.Column("provisional", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("case_id", "name", name=op.f("pk_case_deadlines")),
    )
    op.create_index(op.f("ix_case_deadlines_due_at"), "case_deadlines", ["due_at"], unique=False)
    op.create_index(op.f("ix_case_deadlines_status"), "case_deadlines", ["status"], unique=False)
    op.create_table(
        "case_assignments",
        sa.Column("case_id", sa.String(length=128), nullable=False),
        sa.Column("assignee_sub", sa.String(length=64), nullable=False),
        sa.Column("assignee_name", sa.String(length=256), nullable=False),
        sa.Column("assigned_by", sa.String(length=128), nullable=False),
        sa.Column("assigned_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("case_id", name=op.f("pk_case_assignments")),
    )
    op.create_index(op.f("ix_case_assignments_assignee_sub"), "case_assignments", ["assignee_sub"], unique=False)
    op.create_table(
        "assignment_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("case_id", sa.String(length=128), nullable=False),
        sa.Column("event", sa.String(length=16), nullable=False),
        sa.Column("from_sub", sa.String(length=64), nullable=True),
        sa.Column("to_sub", sa.String(length=64), nullable=True),
        sa.Column("to_name", sa.String(length=256), nullable=True),
        sa.Column("by", sa.String(length=128), nullable=False),
        sa.Column("note", sa.String(length=1000), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assignment_events")),
    )
    op.create_index(op.f("ix_assignment_events_case_id"), "assignment_events", ["case_id"], unique=False)


def downgrade() -> None:
    op.drop_table("assignment_events")
    op.drop_table("case_assignments")
    op.drop_table("case_deadlines")
    op.drop_table("case_facts")
