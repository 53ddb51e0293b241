"""notice documents: the legal document each notice carried, kept as sent, and the register of numbers

Revision ID: 0004_notice_documents
Revises: 0003_notice_issued_by
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0004_notice_documents"
down_revision = "0003_notice_issued_by"
branch_labels = None
depends_on = None


def upgrade() -> None:
    json = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
    op.create_table(
        "notice_documents",
        sa.Column("notice_id", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(2048), nullable=True),
        sa.Column("number", sa.String(64), nullable=True),
        sa.Column("kind", sa.String(32), nullable=True),
        sa.Column("jurisdiction", sa.String(8), nullable=True),
        sa.Column("languages", json, nullable=True),
        sa.Column("title", sa.String(512), nullable=True),
        sa.Column("office", sa.String(16), nullable=True),
        sa.Column("party_ids", json, nullable=True),
        sa.Column("issued_on", sa.Date(), nullable=True),
        sa.Column("html", sa.Text(), nullable=True),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("html_sha256", sa.String(64), nullable=True),
        sa.Column("pdf", sa.LargeBinary(), nullable=True),
        sa.Column("pdf_rendered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["notice_id"], ["notices.notice_id"], name=op.f("fk_notice_documents_notice_id_notices")
        ),
        sa.PrimaryKeyConstraint("notice_id", name=op.f("pk_notice_documents")),
        sa.UniqueConstraint("number", name=op.f("uq_notice_documents_number")),
    )
    op.create_index(op.f("ix_notice_documents_office"), "notice_documents", ["office"])
    op.create_table(
        "document_register",
        sa.Column("office", sa.String(16), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("last_sequence", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("office", "year", "kind", name=op.f("pk_document_register")),
    )


def downgrade() -> None:
    op.drop_table("document_register")
    op.drop_index(op.f("ix_notice_documents_office"), table_name="notice_documents")
    op.drop_table("notice_documents")
