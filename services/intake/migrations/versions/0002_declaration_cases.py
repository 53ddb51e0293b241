"""cases per declaration line, from cases.events.v1

Revision ID: 0002_declaration_cases
Revises: 0525c9d20f05
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_declaration_cases"
down_revision = "0525c9d20f05"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "declaration_cases",
        sa.Column("case_id", sa.String(length=128), nullable=False),
        sa.Column("declaration_id", sa.String(length=64), nullable=False),
        sa.Column("line_no", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=32), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("case_id", name=op.f("pk_declaration_cases")),
    )
    op.create_index(op.f("ix_declaration_cases_declaration_id"), "declaration_cases", ["declaration_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_declaration_cases_declaration_id"), table_name="declaration_cases")
    op.drop_table("declaration_cases")
