"""dispositions record what happened to each line of a consignment case

Revision ID: 0003_disposition_lines
Revises: 0002_hearing_and_referral
"""

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = "0003_disposition_lines"
down_revision = "0002_hearing_and_referral"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("dispositions", sa.Column("lines", postgresql.JSONB(astext_type=sa.Text()), nullable=True))


def downgrade() -> None:
    op.drop_column("dispositions", "lines")
