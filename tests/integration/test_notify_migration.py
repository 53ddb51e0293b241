"""notify's schema migration to the delivery outbox keeps earlier notices' deliveries: one delivery per notice,
recipient and channel, each earlier row an attempt of it, the served time of delivered ones."""

from __future__ import annotations

import json
import subprocess
import uuid

import pytest
from alembic import command

from deploy.local import stack as stack_mod
from shared.migrate import alembic_config

pytestmark = pytest.mark.integration


def test_upgrade_turns_earlier_delivery_rows_into_deliveries_with_attempts(stack) -> None:
    profile = stack.profile
    sock = profile.data / "pg-sock"
    db = f"notify_migration_{uuid.uuid4().hex[:8]}"
    stack_mod._psql(profile, sock, f"CREATE DATABASE {db} OWNER ipr")
    try:
        url = stack_mod.database_url(profile, stack.secrets, "notify").rsplit("/", 1)[0] + f"/{db}"
        config = alembic_config("notify", url)
        command.upgrade(config, "9076b5b01fea")  # the schema before the outbox

        def sql(statement: str) -> str:
            return stack_mod._psql(profile, sock, statement, db=db)

        sql("""INSERT INTO notices (notice_id, case_id, kind, holder_id, holder_name, holder_email, webhook_url,
                                    subject, body, reply_allowed, created_at)
               VALUES ('NTC-A', 'CASE-A', 'suspension', 'RH-0001', 'Nike', 'bp@example.com', 'http://x/h', 's', 'b',
                       true, '2026-11-30T08:00:00Z'),
                      ('NTC-B', 'CASE-B', 'release', 'RH-0002', 'adidas', 'ipr@example.org', NULL, 's', 'b',
                       false, '2026-11-30T09:00:00Z'),
                      ('NTC-C', 'CASE-C', 'release', 'RH-0003', 'Gucci', 'ipr@gucci.example', NULL, 's', 'b',
                       false, '2026-11-30T10:00:00Z')""")
        # NTC-A: the e-mail sent twice (the duplicate this migration is about), the webhook refused;
        # NTC-B: e-mail delivered, no webhook.
        sql("""INSERT INTO deliveries (notice_id, channel, target, status, detail, at) VALUES
               ('NTC-A', 'email', 'bp@example.com', 'delivered', 'accepted by SMTP server', '2026-11-30T08:00:01Z'),
               ('NTC-A', 'webhook', 'http://x/h', 'undeliverable', 'refused: host x is not on the webhook allow-list',
                '2026-11-30T08:00:02Z'),
               ('NTC-A', 'email', 'bp@example.com', 'delivered', 'accepted by SMTP server', '2026-11-30T08:05:00Z'),
               ('NTC-B', 'email', 'ipr@example.org', 'delivered', 'accepted by SMTP server', '2026-11-30T09:00:01Z'),
               ('NTC-B', 'webhook', NULL, 'not_configured', 'holder has no webhook', '2026-11-30T09:00:01Z')""")

        command.upgrade(config, "head")

        rows = json.loads(
            sql("""SELECT json_agg(json_build_object(
                'notice', notice_id, 'channel', channel, 'status', status, 'recipient', recipient_kind || ':' ||
                recipient_id, 'attempts', attempts, 'served_at', served_at, 'id', id) ORDER BY notice_id, channel)
              FROM deliveries""")
        )
        assert [(r["notice"], r["channel"], r["status"], r["recipient"], r["attempts"]) for r in rows] == [
            ("NTC-A", "email", "delivered", "rights_holder:RH-0001", 2),
            ("NTC-A", "webhook", "undeliverable", "rights_holder:RH-0001", 1),
            ("NTC-B", "email", "delivered", "rights_holder:RH-0002", 1),
            ("NTC-B", "webhook", "not_configured", "rights_holder:RH-0002", 0),
        ]
        assert rows[0]["served_at"].startswith("2026-11-30T08:00:01")  # the first copy served it
        assert rows[1]["served_at"] is None
        attempts = json.loads(
            sql("""SELECT json_agg(json_build_object('delivery', delivery_id, 'n', attempt_no,
                'outcome', outcome) ORDER BY delivery_id, attempt_no) FROM delivery_attempts""")
        )
        email_a, webhook_a = rows[0]["id"], rows[1]["id"]
        assert [(a["n"], a["outcome"]) for a in attempts if a["delivery"] == email_a] == [
            (1, "accepted"),
            (2, "accepted"),
        ]
        assert [(a["n"], a["outcome"]) for a in attempts if a["delivery"] == webhook_a] == [(1, "refused")]
        # the new rule holds: one delivery per notice, recipient and channel
        with pytest.raises(subprocess.CalledProcessError) as refused:
            sql("""INSERT INTO deliveries (notice_id, recipient_kind, recipient_id, recipient_name, channel, status,
                                           detail) VALUES ('NTC-B', 'rights_holder', 'RH-0002', 'adidas', 'email',
                                           'pending', '')""")
        assert "uq_deliveries_notice_recipient_channel" in refused.value.stderr
        # the previous release, still running during the upgrade, writes a delivery its way
        sql("""INSERT INTO deliveries (notice_id, channel, target, status, detail, at)
               VALUES ('NTC-C', 'email', 'ipr@gucci.example', 'delivered', 'accepted by SMTP server',
                       '2026-11-30T10:00:01Z')""")
        written = json.loads(
            sql("""SELECT row_to_json(d) FROM (SELECT recipient_kind, recipient_id, recipient_name,
                attempts, served_at, created_at IS NOT NULL AS has_created FROM deliveries
                WHERE notice_id = 'NTC-C') d""")
        )
        assert written["recipient_kind"] == "rights_holder" and written["recipient_id"] == "RH-0003"
        assert written["recipient_name"] == "Gucci" and written["attempts"] == 1
        assert written["served_at"].startswith("2026-11-30T10:00:01") and written["has_created"]
        sql("DELETE FROM deliveries WHERE notice_id = 'NTC-C'")

        command.downgrade(config, "9076b5b01fea")
        assert sql("SELECT count(*) FROM deliveries") == "4"
        command.upgrade(config, "head")
    finally:
        stack_mod._psql(profile, sock, f"DROP DATABASE IF EXISTS {db} WITH (FORCE)")
