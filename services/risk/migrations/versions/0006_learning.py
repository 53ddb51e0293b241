"""learning from outcomes: line features, labels, model registry and its audit trail

Revision ID: 0006_learning
Revises: 0005_red_quota
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0006_learning"
down_revision = "0005_red_quota"
branch_labels = None
depends_on = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "line_features",
        sa.Column("declaration_id", sa.String(64), primary_key=True),
        sa.Column("revision", sa.Integer, primary_key=True),
        sa.Column("line_no", sa.Integer, primary_key=True),
        sa.Column("schema", sa.String(16), nullable=False),
        sa.Column("features", JSON, nullable=False),
        sa.Column("rule_score", sa.Float, nullable=False),
        sa.Column("lane", sa.String(8), nullable=False),
        sa.Column("suspected", sa.Boolean, nullable=False),
        sa.Column("random_selection", sa.Boolean, nullable=False),
        sa.Column("office", sa.String(16), nullable=False),
        sa.Column("model_version", sa.String(32)),
        sa.Column("model_score", sa.Float),
        sa.Column("shadow_version", sa.String(32)),
        sa.Column("shadow_score", sa.Float),
        sa.Column("assessed_at", TS, nullable=False),
    )
    op.create_index("ix_line_features_assessed_at", "line_features", ["assessed_at"])
    op.create_table(
        "line_labels",
        sa.Column("declaration_id", sa.String(64), primary_key=True),
        sa.Column("line_no", sa.Integer, primary_key=True),
        sa.Column("source", sa.String(16), primary_key=True),
        sa.Column("label", sa.Integer),
        sa.Column("weight", sa.Float, nullable=False, server_default="1"),
        sa.Column("outcome", sa.String(48), nullable=False),
        sa.Column("unbiased", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("case_id", sa.String(128)),
        sa.Column("seq", sa.Integer, nullable=False, server_default="0"),
        sa.Column("event_id", sa.String(64)),
        sa.Column("actor", sa.String(128)),
        sa.Column("actor_sub", sa.String(64)),
        sa.Column("note", sa.Text),
        sa.Column("at", TS, nullable=False),
    )
    op.create_table(
        "model_versions",
        sa.Column("version", sa.String(32), primary_key=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("schema", sa.String(16), nullable=False),
        sa.Column("artefact", sa.LargeBinary, nullable=False),
        sa.Column("params", JSON, nullable=False),
        sa.Column("metrics", JSON, nullable=False),
        sa.Column("reference", JSON, nullable=False),
        sa.Column("window_from", TS),
        sa.Column("window_to", TS),
        sa.Column("n_labels", sa.Integer, nullable=False),
        sa.Column("trained_by", sa.String(128), nullable=False),
        sa.Column("trained_by_sub", sa.String(64)),
        sa.Column("proposed_by_sub", sa.String(64)),
        sa.Column("trained_at", TS, nullable=False, server_default=sa.func.now()),
        sa.Column("promoted_at", TS),
        sa.Column("previous_champion", sa.String(32)),
    )
    # at most one champion
    op.create_index(
        "uq_model_versions_champion",
        "model_versions",
        ["status"],
        unique=True,
        postgresql_where=sa.text("status = 'champion'"),
    )
    op.create_table(
        "model_events",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("version", sa.String(32), index=True),
        sa.Column("event", sa.String(32), nullable=False),
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("actor_sub", sa.String(64)),
        sa.Column("detail", JSON, nullable=False),
        sa.Column("at", TS, nullable=False, server_default=sa.func.now()),
    )


def downgrade() -> None:
    op.drop_table("model_events")
    op.drop_index("uq_model_versions_champion", table_name="model_versions")
    op.drop_table("model_versions")
    op.drop_table("line_labels")
    op.drop_index("ix_line_features_assessed_at", table_name="line_features")
    op.drop_table("line_features")
