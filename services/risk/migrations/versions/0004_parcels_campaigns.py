"""parcels (result routing), sellers and platforms in the case history, platform volume, campaigns

Revision ID: 0004_parcels_campaigns
Revises: 0003_actor_sub
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0004_parcels_campaigns"
down_revision = "0003_actor_sub"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.add_column("assessments", sa.Column("parcel", JSON, nullable=True))
    op.add_column("trader_case_outcomes", sa.Column("seller_key", sa.String(length=160), nullable=True))
    op.add_column("trader_case_outcomes", sa.Column("platform_id", sa.String(length=64), nullable=True))
    op.create_index(op.f("ix_trader_case_outcomes_seller_key"), "trader_case_outcomes", ["seller_key"])
    op.create_index(op.f("ix_trader_case_outcomes_platform_id"), "trader_case_outcomes", ["platform_id"])
    op.create_table(
        "case_sellers",
        sa.Column("case_id", sa.String(length=128), nullable=False),
        sa.Column("seller_key", sa.String(length=160), nullable=True),
        sa.Column("platform_id", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("case_id", name=op.f("pk_case_sellers")),
    )
    op.create_table(
        "platform_volume",
        sa.Column("platform_id", sa.String(length=64), nullable=False),
        sa.Column("consignments", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("platform_id", name=op.f("pk_platform_volume")),
    )
    op.create_table(
        "campaigns",
        sa.Column("campaign_id", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("payload", JSON, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("campaign_id", name=op.f("pk_campaigns")),
    )
    op.create_table(
        "campaign_versions",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("campaign_id", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("event", sa.String(length=32), nullable=False),
        sa.Column("payload", JSON, nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign_versions")),
    )
    op.create_index(op.f("ix_campaign_versions_campaign_id"), "campaign_versions", ["campaign_id"])
    op.create_table(
        "campaign_hits",
        sa.Column("campaign_id", sa.String(length=64), nullable=False),
        sa.Column("customs_office", sa.String(length=16), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("consignments", sa.BigInteger(), nullable=False),
        sa.Column("lines", sa.BigInteger(), nullable=False),
        sa.Column("suspected_lines", sa.BigInteger(), nullable=False),
        sa.Column("cases", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("campaign_id", "customs_office", "day", name=op.f("pk_campaign_hits")),
    )


def downgrade() -> None:
    op.drop_table("campaign_hits")
    op.drop_index(op.f("ix_campaign_versions_campaign_id"), table_name="campaign_versions")
    op.drop_table("campaign_versions")
    op.drop_table("campaigns")
    op.drop_table("platform_volume")
    op.drop_table("case_sellers")
    op.drop_index(op.f("ix_trader_case_outcomes_platform_id"), table_name="trader_case_outcomes")
    op.drop_index(op.f("ix_trader_case_outcomes_seller_key"), table_name="trader_case_outcomes")
    op.drop_column("trader_case_outcomes", "platform_id")
    op.drop_column("trader_case_outcomes", "seller_key")
    op.drop_column("assessments", "parcel")
