"""Tables of the notify service: written notices, their deliveries (the outbox) with every attempt, the
recipients' webhook signing keys, the holders' replies, and the legal documents the notices carried."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.db import JsonType, idempotency_table, make_metadata


class Base(DeclarativeBase):
    metadata = make_metadata()


metadata = Base.metadata
idempotency = idempotency_table(metadata)


class Notice(Base):
    __tablename__ = "notices"

    notice_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    case_id: Mapped[str] = mapped_column(String(128), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    holder_id: Mapped[str] = mapped_column(String(64), index=True)
    holder_name: Mapped[str] = mapped_column(String(256))
    holder_email: Mapped[str] = mapped_column(String(320))
    webhook_url: Mapped[str | None] = mapped_column(String(2048), nullable=True)
    subject: Mapped[str] = mapped_column(String(512))
    body: Mapped[str] = mapped_column(Text)
    reply_allowed: Mapped[bool] = mapped_column(Boolean, default=False)
    reply_deadline_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    issued_by: Mapped[str | None] = mapped_column(String(128), nullable=True)  # who had it sent (older rows: none)
    # Whom the notice is addressed to: the case's rights holder, or a party of the case (declarant, consignor,
    # consignee, importer) in ``addressee_role``.
    addressee_kind: Mapped[str] = mapped_column(String(32), default="rights_holder", server_default="rights_holder")
    addressee_id: Mapped[str | None] = mapped_column(String(128), nullable=True, index=True)
    addressee_role: Mapped[str | None] = mapped_column(String(32), nullable=True)


OPEN_STATUSES = ("pending", "sending", "retrying")
FINAL_STATUSES = ("delivered", "undeliverable", "not_configured")


class Delivery(Base):
    """One notice to one recipient on one channel: the outbox row the sender works from.

    Written in the same transaction as the notice, before anything is sent. ``message_id`` (the e-mail
    Message-ID or the webhook event id) is fixed here, so every attempt carries the same one. A sender
    claims the row (``sending``, with a lease) before it sends; a row whose lease ran out without an
    outcome is sent again with the same ``message_id``.
    """

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint(
            "notice_id", "recipient_kind", "recipient_id", "channel", name="uq_deliveries_notice_recipient_channel"
        ),
        Index("ix_deliveries_due", "next_attempt_at", postgresql_where=text("status IN ('pending', 'retrying')")),
        Index("ix_deliveries_leased", "lease_until", postgresql_where=text("status = 'sending'")),
        Index("ix_deliveries_recipient", "recipient_kind", "recipient_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    notice_id: Mapped[str] = mapped_column(ForeignKey("notices.notice_id"), index=True)
    recipient_kind: Mapped[str] = mapped_column(String(32))  # rights_holder | party
    recipient_id: Mapped[str] = mapped_column(String(128))
    recipient_name: Mapped[str] = mapped_column(String(256))
    channel: Mapped[str] = mapped_column(String(16))  # email | webhook
    target: Mapped[str | None] = mapped_column(String(2048), nullable=True)  # address or URL; None: none registered
    message_id: Mapped[str | None] = mapped_column(String(256), nullable=True)  # Message-ID / X-IPR-Event-Id
    # pending | sending | retrying | delivered | undeliverable | not_configured
    status: Mapped[str] = mapped_column(String(32))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    lease_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    served_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    detail: Mapped[str] = mapped_column(String(2048), default="")  # the last outcome, readable
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    # column "at": the name the previous release writes, so both run on this schema during an upgrade
    updated_at: Mapped[datetime] = mapped_column("at", DateTime(timezone=True), server_default=func.now())


class DeliveryAttempt(Base):
    """Every attempt of a delivery: when, what came back (HTTP status or SMTP reply) and what it meant."""

    __tablename__ = "delivery_attempts"
    __table_args__ = (UniqueConstraint("delivery_id", "attempt_no", name="uq_delivery_attempts_delivery_attempt"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    delivery_id: Mapped[int] = mapped_column(ForeignKey("deliveries.id"), index=True)
    attempt_no: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # None while in flight; accepted | temporary_failure | permanent_failure | refused | unknown
    outcome: Mapped[str | None] = mapped_column(String(32), nullable=True)
    code: Mapped[int | None] = mapped_column(Integer, nullable=True)  # HTTP status or SMTP reply code
    detail: Mapped[str] = mapped_column(String(2048), default="")
    key_ids: Mapped[list | None] = mapped_column(JsonType, nullable=True)  # webhook: the keys that signed it


class SigningKey(Base):
    """A recipient's webhook signing key. The secret is stored encrypted and shown only once, when it is
    created by a rotation. At most one key per recipient is current (``verify_until`` empty); a rotated-out
    key keeps signing beside the new one until ``verify_until``, then its secret is erased."""

    __tablename__ = "signing_keys"
    __table_args__ = (
        Index(
            "uq_signing_keys_current",
            "recipient_kind",
            "recipient_id",
            unique=True,
            postgresql_where=text("verify_until IS NULL"),
        ),
    )

    key_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    recipient_kind: Mapped[str] = mapped_column(String(32))
    recipient_id: Mapped[str] = mapped_column(String(128))
    secret_ciphertext: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    created_by: Mapped[str] = mapped_column(String(128))
    verify_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    rotated_by: Mapped[str | None] = mapped_column(String(128), nullable=True)
    erased_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class PartyEndpoint(Base):
    """A party's registered webhook endpoint (on the allow-list when registered). Webhooks to parties go only here,
    never to an address taken from a declaration."""

    __tablename__ = "party_endpoints"

    party_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    webhook_url: Mapped[str] = mapped_column(String(2048))
    registered_by: Mapped[str] = mapped_column(String(128))
    registered_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class Reply(Base):
    __tablename__ = "replies"

    notice_id: Mapped[str] = mapped_column(ForeignKey("notices.notice_id"), primary_key=True)
    case_id: Mapped[str] = mapped_column(String(128), index=True)
    decision: Mapped[str] = mapped_column(String(32))
    content: Mapped[dict] = mapped_column(JsonType)
    replied_by: Mapped[str] = mapped_column(String(128))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    signalled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class NoticeDocument(Base):
    """The legal document a notice carried, kept as sent: the HTML and plain text rendered when the notice was
    recorded (never rendered again), and the PDF made from that HTML the first time it is asked for. A notice
    whose document could not be made has a row without a number, with the reason."""

    __tablename__ = "notice_documents"

    notice_id: Mapped[str] = mapped_column(ForeignKey("notices.notice_id"), primary_key=True)
    status: Mapped[str] = mapped_column(String(16))  # rendered | not_rendered
    reason: Mapped[str | None] = mapped_column(String(2048), nullable=True)  # why there is no document
    number: Mapped[str | None] = mapped_column(String(64), nullable=True, unique=True)
    kind: Mapped[str | None] = mapped_column(String(32), nullable=True)  # the document kind (suspension_notice, ...)
    jurisdiction: Mapped[str | None] = mapped_column(String(8), nullable=True)
    languages: Mapped[list | None] = mapped_column(JsonType, nullable=True)  # e.g. ["zh-CN", "en-GB"], first rules
    title: Mapped[str | None] = mapped_column(String(512), nullable=True)
    office: Mapped[str | None] = mapped_column(String(16), nullable=True, index=True)
    party_ids: Mapped[list | None] = mapped_column(JsonType, nullable=True)  # parties of the case it names
    issued_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    html: Mapped[str | None] = mapped_column(Text, nullable=True)
    text: Mapped[str | None] = mapped_column(Text, nullable=True)
    html_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    pdf: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    pdf_rendered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class DocumentRegister(Base):
    """The running number of each kind of document per issuing office and year (the register's sequence)."""

    __tablename__ = "document_register"

    office: Mapped[str] = mapped_column(String(16), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), primary_key=True)
    last_sequence: Mapped[int] = mapped_column(Integer)
