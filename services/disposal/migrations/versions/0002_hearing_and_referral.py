"""hearing and police referral on dispositions

Revision ID: 0002_hearing_and_referral
Revises: cb91082f1666
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_hearing_and_referral"
down_revision = "cb91082f1666"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("dispositions", sa.Column("hearing", sa.String(length=32), nullable=True))
    op.add_column("dispositions", sa.Column("police_referral", sa.Boolean(), server_default="false", nullable=False))


def downgrade() -> None:
    op.drop_column("dispositions", "police_referral")
    op.drop_column("dispositions", "hearing")
