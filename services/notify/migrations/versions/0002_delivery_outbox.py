"""delivery outbox: recipients, attempts, stable message ids, served time, signing keys

Existing deliveries (one row per channel and attempt outcome, written after sending) become one
delivery per notice, recipient and channel, each earlier row an attempt of it.

Expand only: the previous release keeps working on this schema while it is replaced (it writes
``deliveries`` without the new columns; a trigger fills in the notice's holder as the recipient). A later
migration drops the trigger once no such release runs.

Revision ID: 5c1e0a7d2b94
Revises: 9076b5b01fea
Create Date: 2026-12-01 12:00:00
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "5c1e0a7d2b94"
down_revision = "9076b5b01fea"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("deliveries", sa.Column("recipient_kind", sa.String(length=32), nullable=True))
    op.add_column("deliveries", sa.Column("recipient_id", sa.String(length=128), nullable=True))
    op.add_column("deliveries", sa.Column("recipient_name", sa.String(length=256), nullable=True))
    op.add_column("deliveries", sa.Column("message_id", sa.String(length=256), nullable=True))
    op.add_column("deliveries", sa.Column("attempts", sa.Integer(), server_default="0", nullable=False))
    op.add_column("deliveries", sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("deliveries", sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True))
    op.add_column("deliveries", sa.Column("served_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column(
        "deliveries",
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
    )

    op.create_table(
        "delivery_attempts",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("delivery_id", sa.BigInteger(), nullable=False),
        sa.Column("attempt_no", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(length=32), nullable=True),
        sa.Column("code", sa.Integer(), nullable=True),
        sa.Column("detail", sa.String(length=2048), nullable=False),
        sa.Column(
            "key_ids", sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"), nullable=True
        ),
        sa.ForeignKeyConstraint(
            ["delivery_id"], ["deliveries.id"], name=op.f("fk_delivery_attempts_delivery_id_deliveries")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_delivery_attempts")),
        sa.UniqueConstraint("delivery_id", "attempt_no", name="uq_delivery_attempts_delivery_attempt"),
    )
    op.create_index(op.f("ix_delivery_attempts_delivery_id"), "delivery_attempts", ["delivery_id"], unique=False)

    # Earlier rows: the rights holder of the notice; every row that was an attempt becomes one, in order,
    # under the first row of its notice and channel, which is kept.
    op.execute("""
        UPDATE deliveries d SET recipient_kind = 'rights_holder', recipient_id = n.holder_id,
               recipient_name = n.holder_name, created_at = d.at
          FROM notices n WHERE n.notice_id = d.notice_id
    """)
    op.execute("""
        WITH ranked AS (
          SELECT id, status, detail, at,
                 min(id) OVER (PARTITION BY notice_id, channel) AS kept,
                 row_number() OVER (PARTITION BY notice_id, channel ORDER BY id) AS n
            FROM deliveries WHERE status <> 'not_configured')
        INSERT INTO delivery_attempts (delivery_id, attempt_no, started_at, finished_at, outcome, detail)
        SELECT kept, n, at, at,
               CASE WHEN status = 'delivered' THEN 'accepted'
                    WHEN detail LIKE 'refused:%' THEN 'refused' ELSE 'permanent_failure' END,
               detail
          FROM ranked
    """)
    op.execute("""
        UPDATE deliveries d SET attempts = a.attempts, served_at = a.served_at,
               status = CASE WHEN a.served_at IS NOT NULL THEN 'delivered' ELSE d.status END
          FROM (SELECT delivery_id, count(*) AS attempts,
                       min(finished_at) FILTER (WHERE outcome = 'accepted') AS served_at
                  FROM delivery_attempts GROUP BY delivery_id) a
         WHERE a.delivery_id = d.id
    """)
    op.execute("""
        DELETE FROM deliveries d USING deliveries k
         WHERE k.notice_id = d.notice_id AND k.channel = d.channel AND k.id < d.id
    """)

    op.alter_column("deliveries", "recipient_kind", nullable=False)
    op.alter_column("deliveries", "recipient_id", nullable=False)
    op.alter_column("deliveries", "recipient_name", nullable=False)
    op.create_unique_constraint(
        "uq_deliveries_notice_recipient_channel",
        "deliveries",
        ["notice_id", "recipient_kind", "recipient_id", "channel"],
    )
    op.create_index(
        "ix_deliveries_due",
        "deliveries",
        ["next_attempt_at"],
        unique=False,
        postgresql_where=sa.text("status IN ('pending', 'retrying')"),
    )
    op.create_index(
        "ix_deliveries_leased",
        "deliveries",
        ["lease_until"],
        unique=False,
        postgresql_where=sa.text("status = 'sending'"),
    )
    op.create_index(
        "ix_deliveries_recipient", "deliveries", ["recipient_kind", "recipient_id", "created_at"], unique=False
    )

    # Rows the previous release writes during an upgrade: its holder is the recipient, delivered is served.
    op.execute("""
        CREATE FUNCTION notify_deliveries_from_previous_release() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF NEW.recipient_id IS NULL THEN
            SELECT 'rights_holder', n.holder_id, n.holder_name
              INTO NEW.recipient_kind, NEW.recipient_id, NEW.recipient_name
              FROM notices n WHERE n.notice_id = NEW.notice_id;
            IF NEW.status = 'delivered' THEN
              NEW.served_at := NEW.at;
              NEW.attempts := 1;
            ELSIF NEW.status = 'undeliverable' THEN
              NEW.attempts := 1;
            END IF;
          END IF;
          RETURN NEW;
        END $$
    """)
    op.execute("""
        CREATE TRIGGER deliveries_from_previous_release BEFORE INSERT ON deliveries
        FOR EACH ROW EXECUTE FUNCTION notify_deliveries_from_previous_release()
    """)

    op.create_table(
        "signing_keys",
        sa.Column("key_id", sa.String(length=40), nullable=False),
        sa.Column("recipient_kind", sa.String(length=32), nullable=False),
        sa.Column("recipient_id", sa.String(length=128), nullable=False),
        sa.Column("secret_ciphertext", sa.LargeBinary(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.Column("verify_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("rotated_by", sa.String(length=128), nullable=True),
        sa.Column("erased_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("key_id", name=op.f("pk_signing_keys")),
    )
    op.create_index(
        "uq_signing_keys_current",
        "signing_keys",
        ["recipient_kind", "recipient_id"],
        unique=True,
        postgresql_where=sa.text("verify_until IS NULL"),
    )


def downgrade() -> None:
    op.drop_index(
        "uq_signing_keys_current", table_name="signing_keys", postgresql_where=sa.text("verify_until IS NULL")
    )
    op.drop_table("signing_keys")
    op.execute("DROP TRIGGER deliveries_from_previous_release ON deliveries")
    op.execute("DROP FUNCTION notify_deliveries_from_previous_release()")
    op.drop_index("ix_deliveries_recipient", table_name="deliveries")
    op.drop_index("ix_deliveries_leased", table_name="deliveries", postgresql_where=sa.text("status = 'sending'"))
    op.drop_index(
        "ix_deliveries_due", table_name="deliveries", postgresql_where=sa.text("status IN ('pending', 'retrying')")
    )
    op.drop_constraint("uq_deliveries_notice_recipient_channel", "deliveries", type_="unique")
    op.drop_index(op.f("ix_delivery_attempts_delivery_id"), table_name="delivery_attempts")
    op.drop_table("delivery_attempts")
    for column in (
        "created_at",
        "served_at",
        "lease_until",
        "next_attempt_at",
        "attempts",
        "message_id",
        "recipient_name",
        "recipient_id",
        "recipient_kind",
    ):
        op.drop_column("deliveries", column)
