"""recordation lifecycle audit, targeting profiles, trader case outcomes, applied events

Revision ID: 7c1d2e4f5a60
Revises: 5f94ca9a3341
Create Date: 2026-11-22 06:00:00
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "7c1d2e4f5a60"
down_revision = "5f94ca9a3341"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    # the case starter's queue: assessments whose cases are not opened yet
    op.create_index(
        "ix_assessments_cases_pending",
        "assessments",
        ["assessed_at"],
        unique=False,
        postgresql_where=sa.text("cases_started_at IS NULL"),
    )
    op.add_column("recordation_events", sa.Column("reason", sa.Text(), nullable=True))
    op.add_column("recordation_events", sa.Column("changes", JSON, nullable=True))
    op.create_table(
        "targeting_profiles",
        sa.Column("profile_id", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("payload", JSON, nullable=False),
        sa.Column("hits", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("last_hit_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("profile_id", name=op.f("pk_targeting_profiles")),
    )
    op.create_table(
        "targeting_profile_versions",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("profile_id", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("event", sa.String(length=32), nullable=False),
        sa.Column("payload", JSON, nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_targeting_profile_versions")),
    )
    op.create_index(
        op.f("ix_targeting_profile_versions_profile_id"), "targeting_profile_versions", ["profile_id"], unique=False
    )
    op.create_table(
        "trader_case_outcomes",
        sa.Column("case_id", sa.String(length=128), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=32), nullable=False),
        sa.Column("consignor_id", sa.String(length=64), nullable=True),
        sa.Column("consignee_id", sa.String(length=64), nullable=True),
        sa.Column("declaration_id", sa.String(length=64), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("case_id", name=op.f("pk_trader_case_outcomes")),
    )
    op.create_index(
        op.f("ix_trader_case_outcomes_consignor_id"), "trader_case_outcomes", ["consignor_id"], unique=False
    )
    op.create_index(
        op.f("ix_trader_case_outcomes_consignee_id"), "trader_case_outcomes", ["consignee_id"], unique=False
    )
    op.create_table(
        "applied_events",
        sa.Column("event_id", sa.String(length=128), nullable=False),
        sa.Column("topic", sa.String(length=128), nullable=False),
        sa.Column("applied_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_applied_events")),
    )


def downgrade() -> None:
    op.drop_index("ix_assessments_cases_pending", table_name="assessments")
    op.drop_table("applied_events")
    op.drop_index(op.f("ix_trader_case_outcomes_consignee_id"), table_name="trader_case_outcomes")
    op.drop_index(op.f("ix_trader_case_outcomes_consignor_id"), table_name="trader_case_outcomes")
    op.drop_table("trader_case_outcomes")
    op.drop_index(op.f("ix_targeting_profile_versions_profile_id"), table_name="targeting_profile_versions")
    op.drop_table("targeting_profile_versions")
    op.drop_table("targeting_profiles")
    op.drop_column("recordation_events", "changes")
    op.drop_column("recordation_events", "reason")
