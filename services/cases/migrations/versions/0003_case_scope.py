"""cases read model: customs office and parties, so each caller lists only the cases it may see

Revision ID: 0003_case_scope
Revises: 0002_escalations
"""

import sqlalchemy as sa
from alembic import op

revision = "0003_case_scope"
down_revision = "0002_escalations"
branch_labels = None
depends_on = None

COLUMNS = {"customs_office": 16, "declarant_id": 64, "consignor_id": 64, "consignee_id": 64}


def upgrade() -> None:
    for name, length in COLUMNS.items():
        op.add_column("cases", sa.Column(name, sa.String(length), nullable=True))
        op.create_index(op.f(f"ix_cases_{name}"), "cases", [name], unique=False)


def downgrade() -> None:
    for name in COLUMNS:
        op.drop_index(op.f(f"ix_cases_{name}"), table_name="cases")
        op.drop_column("cases", name)
