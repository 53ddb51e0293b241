"""recordation events name the acting person's subject (four-eyes approval)

Revision ID: 0003_actor_sub
Revises: 7c1d2e4f5a60
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_actor_sub"
down_revision = "7c1d2e4f5a60"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("recordation_events", sa.Column("actor_sub", sa.String(64), nullable=True))


def downgrade() -> None:
    op.drop_column("recordation_events", "actor_sub")
