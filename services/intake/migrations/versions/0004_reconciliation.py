"""outbox read-back; declarations published again when they stay unassessed

Revision ID: 0004_reconciliation
Revises: 0003_manifests
"""

import sqlalchemy as sa
from alembic import op

revision = "0004_reconciliation"
down_revision = "0003_manifests"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("outbox", sa.Column("kafka_partition", sa.Integer(), nullable=True))
    op.add_column("outbox", sa.Column("kafka_offset", sa.BigInteger(), nullable=True))
    op.add_column("outbox", sa.Column("verified_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index(op.f("ix_outbox_topic"), "outbox", ["topic", "kafka_partition", "kafka_offset"], unique=False)
    op.add_column("declarations", sa.Column("republished", sa.Integer(), server_default="0", nullable=False))
    op.add_column("declarations", sa.Column("republished_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index(
        "ix_declarations_unassessed",
        "declarations",
        ["received_at"],
        unique=False,
        postgresql_where=sa.text("status = 'received'"),
    )


def downgrade() -> None:
    op.drop_index("ix_declarations_unassessed", table_name="declarations")
    op.drop_column("declarations", "republished_at")
    op.drop_column("declarations", "republished")
    op.drop_index(op.f("ix_outbox_topic"), table_name="outbox")
    op.drop_column("outbox", "verified_at")
    op.drop_column("outbox", "kafka_offset")
    op.drop_column("outbox", "kafka_partition")
