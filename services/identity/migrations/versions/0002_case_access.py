"""case access codes: short-lived, case-bound access for parties without an account

Revision ID: 8c2f4a6d1e07
Revises: 5b1d0e7c9a31
Create Date: 2026-12-02 01:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "8c2f4a6d1e07"
down_revision = "5b1d0e7c9a31"
branch_labels = None
depends_on = None

NOW = sa.text("now()")


def upgrade() -> None:
    op.create_table(
        "case_access",
        sa.Column("access_id", sa.String(32), nullable=False),
        sa.Column("code_digest", sa.String(80), nullable=False),
        sa.Column("case_id", sa.String(128), nullable=False),
        sa.Column("party_id", sa.String(64), nullable=False),
        sa.Column("party_role", sa.String(32), nullable=False),
        sa.Column("display_name", sa.String(128), nullable=False),
        sa.Column("issued_by", sa.String(256), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), server_default=NOW, nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_by", sa.String(256), nullable=True),
        sa.Column("uses", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("access_id", name=op.f("pk_case_access")),
        sa.UniqueConstraint("code_digest", name=op.f("uq_case_access_code_digest")),
    )
    op.create_index(op.f("ix_case_access_case_id"), "case_access", ["case_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_case_access_case_id"), table_name="case_access")
    op.drop_table("case_access")
