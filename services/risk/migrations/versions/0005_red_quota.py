"""red quota per customs office and day, shared by every risk replica

Revision ID: 0005_red_quota
Revises: 0004_parcels_campaigns
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_red_quota"
down_revision = "0004_parcels_campaigns"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "red_quotas",
        sa.Column("customs_office", sa.String(length=16), nullable=False),
        sa.Column("per_day", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("set_by", sa.String(length=160), nullable=False),
        sa.Column("set_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("customs_office", name=op.f("pk_red_quotas")),
    )
    op.create_table(
        "red_quota_days",
        sa.Column("customs_office", sa.String(length=16), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("quota", sa.Integer(), nullable=False),
        sa.Column("granted", sa.Integer(), nullable=False),
        sa.Column("refused", sa.BigInteger(), nullable=False),
        sa.Column("last_grant", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("customs_office", "day", name=op.f("pk_red_quota_days")),
    )


def downgrade() -> None:
    op.drop_table("red_quota_days")
    op.drop_table("red_quotas")
