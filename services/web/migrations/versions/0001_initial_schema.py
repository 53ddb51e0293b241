"""web: sessions, sign-ins under way, preferences, stored files

Revision ID: 0001_web
Revises:
"""

import sqlalchemy as sa
from alembic import op

from shared.db import JsonType

revision = "0001_web"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "web_sessions",
        sa.Column("id_digest", sa.String(length=64), nullable=False),
        sa.Column("sub", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=256), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("holder_id", sa.String(length=64), nullable=True),
        sa.Column("offices", JsonType, nullable=False),
        sa.Column("tokens", sa.LargeBinary(), nullable=False),
        sa.Column("access_expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("csrf", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id_digest", name=op.f("pk_web_sessions")),
    )
    op.create_index(op.f("ix_web_sessions_sub"), "web_sessions", ["sub"], unique=False)
    op.create_index(op.f("ix_web_sessions_last_seen_at"), "web_sessions", ["last_seen_at"], unique=False)
    op.create_table(
        "web_signins",
        sa.Column("state", sa.String(length=64), nullable=False),
        sa.Column("verifier", sa.String(length=128), nullable=False),
        sa.Column("nonce", sa.String(length=64), nullable=False),
        sa.Column("return_to", sa.String(length=512), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("state", name=op.f("pk_web_signins")),
    )
    op.create_index(op.f("ix_web_signins_created_at"), "web_signins", ["created_at"], unique=False)
    op.create_table(
        "web_preferences",
        sa.Column("sub", sa.String(length=64), nullable=False),
        sa.Column("lang", sa.String(length=8), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("sub", name=op.f("pk_web_preferences")),
    )
    op.create_table(
        "stored_files",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("object_key", sa.String(length=256), nullable=False),
        sa.Column("purpose", sa.String(length=16), nullable=False),
        sa.Column("case_id", sa.String(length=128), nullable=True),
        sa.Column("holder_id", sa.String(length=64), nullable=True),
        sa.Column("recordation_id", sa.String(length=64), nullable=True),
        sa.Column("filename", sa.String(length=128), nullable=False),
        sa.Column("content_type", sa.String(length=64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("note", sa.String(length=1000), nullable=True),
        sa.Column("uploaded_by", sa.String(length=128), nullable=False),
        sa.Column("uploaded_by_sub", sa.String(length=64), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stored_files")),
        sa.UniqueConstraint("object_key", name=op.f("uq_stored_files_object_key")),
    )
    for column in ("purpose", "case_id", "holder_id", "recordation_id"):
        op.create_index(op.f(f"ix_stored_files_{column}"), "stored_files", [column], unique=False)


def downgrade() -> None:
    op.drop_table("stored_files")
    op.drop_table("web_preferences")
    op.drop_table("web_signins")
    op.drop_table("web_sessions")
