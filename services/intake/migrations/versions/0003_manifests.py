"""parcel manifests and their parcels

Revision ID: 0003_manifests
Revises: 0002_declaration_cases
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0003_manifests"
down_revision = "0002_declaration_cases"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    op.create_table(
        "manifests",
        sa.Column("manifest_id", sa.String(length=48), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=True),
        sa.Column("header", JSON, nullable=False),
        sa.Column("jurisdiction", sa.String(length=8), nullable=False),
        sa.Column("customs_office", sa.String(length=16), nullable=False),
        sa.Column("parcel_count", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("answer", JSON, nullable=True),
        sa.PrimaryKeyConstraint("manifest_id", "revision", name=op.f("pk_manifests")),
    )
    op.create_table(
        "manifest_parcels",
        sa.Column("manifest_id", sa.String(length=48), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("parcel_no", sa.Integer(), nullable=False),
        sa.Column("consignment_id", sa.String(length=64), nullable=False),
        sa.Column("waybill_no", sa.String(length=40), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=True),
        sa.Column("payload", JSON, nullable=True),
        sa.Column("rejection", JSON, nullable=True),
        sa.Column("lane", sa.String(length=8), nullable=True),
        sa.Column("suspected", sa.Boolean(), nullable=True),
        sa.Column("case_ids", JSON, nullable=True),
        sa.Column("result", JSON, nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("assessed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("manifest_id", "revision", "parcel_no", name=op.f("pk_manifest_parcels")),
    )
    op.create_index(op.f("ix_manifest_parcels_consignment_id"), "manifest_parcels", ["consignment_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_manifest_parcels_consignment_id"), table_name="manifest_parcels")
    op.drop_table("manifest_parcels")
    op.drop_table("manifests")
