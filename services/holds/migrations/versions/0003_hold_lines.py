"""holds cover every line of a case, each with its own status

Revision ID: 0003_hold_lines
Revises: 0002_outbox_read_back
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0003_hold_lines"
down_revision = "0002_outbox_read_back"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("holds", sa.Column("lines", postgresql.JSONB(astext_type=sa.Text()), nullable=True))
    op.add_column("hold_events", sa.Column("line_nos", postgresql.JSONB(astext_type=sa.Text()), nullable=True))


def downgrade() -> None:
    op.drop_column("hold_events", "line_nos")
    op.drop_column("holds", "lines")
