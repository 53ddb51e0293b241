"""a case covers several lines of a declaration: one row per case and line, with the line's status

Revision ID: 0005_case_lines
Revises: 0004_reconciliation
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_case_lines"
down_revision = "0004_reconciliation"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_constraint("pk_declaration_cases", "declaration_cases", type_="primary")
    op.create_primary_key("pk_declaration_cases", "declaration_cases", ["case_id", "line_no"])
    op.add_column("declaration_cases", sa.Column("line_status", sa.String(length=32), nullable=True))
    op.add_column("declaration_cases", sa.Column("moved_to", sa.String(length=128), nullable=True))


def downgrade() -> None:
    op.drop_column("declaration_cases", "moved_to")
    op.drop_column("declaration_cases", "line_status")
    op.drop_constraint("pk_declaration_cases", "declaration_cases", type_="primary")
    op.execute(
        "DELETE FROM declaration_cases a USING declaration_cases b "
        "WHERE a.case_id = b.case_id AND a.line_no > b.line_no"
    )
    op.create_primary_key("pk_declaration_cases", "declaration_cases", ["case_id"])
