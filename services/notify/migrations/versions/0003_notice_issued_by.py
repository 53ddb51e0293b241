"""notices name who had them sent

Revision ID: 0003_notice_issued_by
Revises: 5c1e0a7d2b94
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_notice_issued_by"
down_revision = "5c1e0a7d2b94"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("notices", sa.Column("issued_by", sa.String(128), nullable=True))


def downgrade() -> None:
    op.drop_column("notices", "issued_by")
