"""dispositions record what happened to each line of a consignment case

Revision ID: 0004_disposition_lines
Revises: 0003_wide_fine_rate
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0004_disposition_lines"
down_revision = "0003_wide_fine_rate"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("dispositions", sa.Column("lines", postgresql.JSONB(astext_type=sa.Text()), nullable=True))


def downgrade() -> None:
    op.drop_column("dispositions", "lines")
