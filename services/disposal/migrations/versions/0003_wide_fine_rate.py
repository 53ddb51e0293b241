"""fine rate wide enough for any fine within the money bounds

A US fine is a multiple of the genuine retail value, not of the declared value, so its rate to
the declared value can be any size: a fine of 10^12 on goods declared at 0.01 needs 15 integer digits.

Revision ID: 0003_wide_fine_rate
Revises: 0002_hearing_and_referral
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_wide_fine_rate"
down_revision = "0002_hearing_and_referral"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.alter_column("dispositions", "fine_rate", type_=sa.Numeric(20, 4), existing_type=sa.Numeric(6, 4))


def downgrade() -> None:
    op.alter_column("dispositions", "fine_rate", type_=sa.Numeric(6, 4), existing_type=sa.Numeric(20, 4))
