"""notices to the parties of a case: the addressee of a notice, and the parties' registered webhook endpoints

Revision ID: 0005_party_notices
Revises: 0004_notice_documents
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_party_notices"
down_revision = "0004_notice_documents"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("notices", sa.Column("addressee_kind", sa.String(32), nullable=False, server_default="rights_holder"))
    op.add_column("notices", sa.Column("addressee_id", sa.String(128), nullable=True))
    op.add_column("notices", sa.Column("addressee_role", sa.String(32), nullable=True))
    op.create_index(op.f("ix_notices_addressee_id"), "notices", ["addressee_id"])
    op.create_table(
        "party_endpoints",
        sa.Column("party_id", sa.String(128), nullable=False),
        sa.Column("webhook_url", sa.String(2048), nullable=False),
        sa.Column("registered_by", sa.String(128), nullable=False),
        sa.Column("registered_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("party_id", name=op.f("pk_party_endpoints")),
    )


def downgrade() -> None:
    op.drop_table("party_endpoints")
    op.drop_index(op.f("ix_notices_addressee_id"), table_name="notices")
    op.drop_column("notices", "addressee_role")
    op.drop_column("notices", "addressee_id")
    op.drop_column("notices", "addressee_kind")
