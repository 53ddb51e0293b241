"""initial schema: holders, accounts, clients, audit log, provider state

Revision ID: 5b1d0e7c9a31
Revises:
Create Date: 2026-12-01 12:00:00
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "5b1d0e7c9a31"
down_revision = None
branch_labels = None
depends_on = None

JSONB = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
NOW = sa.text("now()")


def upgrade() -> None:
    op.create_table(
        "holders",
        sa.Column("holder_id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(256), nullable=False),
        sa.Column("verified", sa.Boolean(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("verification_note", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=NOW, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=NOW, nullable=False),
        sa.PrimaryKeyConstraint("holder_id", name=op.f("pk_holders")),
    )
    op.create_table(
        "accounts",
        sa.Column("account_id", sa.String(64), nullable=False),
        sa.Column("display_name", sa.String(128), nullable=False),
        sa.Column("email", sa.String(256), nullable=True),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("offices", postgresql.ARRAY(sa.String(16)), server_default="{}", nullable=False),
        sa.Column("holder_id", sa.String(64), nullable=True),
        sa.Column("party_id", sa.String(64), nullable=True),
        sa.Column("case_id", sa.String(128), nullable=True),
        sa.Column("locale", sa.String(8), server_default="en", nullable=False),
        sa.Column("password_hash", sa.String(256), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=NOW, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=NOW, nullable=False),
        sa.ForeignKeyConstraint(["holder_id"], ["holders.holder_id"], name=op.f("fk_accounts_holder_id_holders")),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_accounts")),
    )
    op.create_index(op.f("ix_accounts_holder_id"), "accounts", ["holder_id"], unique=False)
    op.create_table(
        "clients",
        sa.Column("client_id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("role", sa.String(32), nullable=True),
        sa.Column("offices", postgresql.ARRAY(sa.String(16)), server_default="{}", nullable=False),
        sa.Column("secret_hash", sa.String(256), nullable=True),
        sa.Column("redirect_uris", postgresql.ARRAY(sa.Text()), server_default="{}", nullable=False),
        sa.Column("post_logout_redirect_uris", postgresql.ARRAY(sa.Text()), server_default="{}", nullable=False),
        sa.Column("first_party", sa.Boolean(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=NOW, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=NOW, nullable=False),
        sa.PrimaryKeyConstraint("client_id", name=op.f("pk_clients")),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), server_default=NOW, nullable=False),
        sa.Column("actor_sub", sa.String(64), nullable=False),
        sa.Column("actor_name", sa.String(128), nullable=False),
        sa.Column("action", sa.String(48), nullable=False),
        sa.Column("target_type", sa.String(16), nullable=False),
        sa.Column("target_id", sa.String(64), nullable=False),
        sa.Column("detail", JSONB, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_index(op.f("ix_audit_log_at"), "audit_log", ["at"], unique=False)
    op.create_index(op.f("ix_audit_log_target_id"), "audit_log", ["target_id"], unique=False)
    op.create_table(
        "oidc_payloads",
        sa.Column("model", sa.String(48), nullable=False),
        sa.Column("id", sa.String(256), nullable=False),
        sa.Column("payload", JSONB, nullable=False),
        sa.Column("grant_id", sa.String(256), nullable=True),
        sa.Column("uid", sa.String(256), nullable=True),
        sa.Column("user_code", sa.String(64), nullable=True),
        sa.Column("account_id", sa.String(64), nullable=True),
        sa.Column("client_id", sa.String(64), nullable=True),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("consumed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("model", "id", name=op.f("pk_oidc_payloads")),
    )
    for column in ("grant_id", "uid", "account_id", "client_id", "expires_at"):
        op.create_index(op.f(f"ix_oidc_payloads_{column}"), "oidc_payloads", [column], unique=False)
    op.create_index(
        "ix_oidc_payloads_user_code",
        "oidc_payloads",
        ["user_code"],
        unique=True,
        postgresql_where=sa.text("user_code IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_table("oidc_payloads")
    op.drop_table("audit_log")
    op.drop_table("clients")
    op.drop_table("accounts")
    op.drop_table("holders")
