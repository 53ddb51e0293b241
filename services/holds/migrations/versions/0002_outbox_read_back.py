"""outbox rows keep where the broker put them, and when they were read back

Revision ID: 0002_outbox_read_back
Revises: 760b412e5a12
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_outbox_read_back"
down_revision = "760b412e5a12"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("outbox", sa.Column("kafka_partition", sa.Integer(), nullable=True))
    op.add_column("outbox", sa.Column("kafka_offset", sa.BigInteger(), nullable=True))
    op.add_column("outbox", sa.Column("verified_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index(op.f("ix_outbox_topic"), "outbox", ["topic", "kafka_partition", "kafka_offset"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_outbox_topic"), table_name="outbox")
    op.drop_column("outbox", "verified_at")
    op.drop_column("outbox", "kafka_offset")
    op.drop_column("outbox", "kafka_partition")
