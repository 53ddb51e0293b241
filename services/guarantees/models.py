"""Tables of the guarantees service: general guarantees with their balance and draws, case guarantees,
costs charged to them, and an audit trail of every change."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    func,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.db import JsonType, idempotency_table, make_metadata


class Base(DeclarativeBase):
    metadata = make_metadata()


metadata = Base.metadata
idempotency = idempotency_table(metadata)

Money = Numeric(18, 2)


class GeneralGuarantee(Base):
    """A holder's annual general guarantee; ``balance`` is what is left to draw on."""

    __tablename__ = "general_guarantees"
    __table_args__ = (
        CheckConstraint("balance >= 0", name="balance_not_negative"),
        CheckConstraint("balance <= amount", name="balance_within_amount"),
        CheckConstraint("coverage_until >= coverage_from", name="coverage_period"),
        CheckConstraint("letter_expires_on >= coverage_until", name="letter_covers_period"),
    )

    guarantee_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder_id: Mapped[str] = mapped_column(String(64), index=True)
    jurisdiction: Mapped[str] = mapped_column(String(2))
    amount: Mapped[Decimal] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(String(3))
    balance: Mapped[Decimal] = mapped_column(Money)
    coverage_from: Mapped[date] = mapped_column(Date)
    coverage_until: Mapped[date] = mapped_column(Date)
    letter_expires_on: Mapped[date] = mapped_column(Date)
    issuer: Mapped[str] = mapped_column(String(256))
    reference: Mapped[str] = mapped_column(String(128))
    registered_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class GuaranteeMovement(Base):
    """One change of a general guarantee's balance: a draw for a case, or the refund of its remainder."""

    __tablename__ = "general_guarantee_movements"
    __table_args__ = (CheckConstraint("amount >= 0", name="amount_not_negative"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    guarantee_id: Mapped[str] = mapped_column(ForeignKey("general_guarantees.guarantee_id"), index=True)
    case_id: Mapped[str] = mapped_column(String(128))
    case_guarantee_id: Mapped[str] = mapped_column(String(160))
    kind: Mapped[str] = mapped_column(String(16))  # draw | restore
    amount: Mapped[Decimal] = mapped_column(Money)
    balance_after: Mapped[Decimal] = mapped_column(Money)
    actor: Mapped[str] = mapped_column(String(128))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class CaseGuarantee(Base):
    """What secures one case: held (one per case) or a refused attempt; settled when the case ends."""

    __tablename__ = "case_guarantees"
    __table_args__ = (
        # At most one held guarantee per case; refused attempts may be many.
        Index("uq_case_guarantees_held_case_id", "case_id", unique=True, postgresql_where=text("status = 'held'")),
        CheckConstraint("amount >= 0", name="amount_not_negative"),
        CheckConstraint("charged <= amount", name="charged_within_amount"),
    )

    case_guarantee_id: Mapped[str] = mapped_column(String(160), primary_key=True)
    case_id: Mapped[str] = mapped_column(String(128), index=True)
    holder_id: Mapped[str] = mapped_column(String(64), index=True)
    jurisdiction: Mapped[str] = mapped_column(String(2))
    form: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))  # held | refused
    currency: Mapped[str] = mapped_column(String(3))
    required_amount: Mapped[Decimal] = mapped_column(Money)
    posted_amount: Mapped[Decimal] = mapped_column(Money)
    amount: Mapped[Decimal] = mapped_column(Money)  # held: posted, or drawn from the general guarantee
    drawn_from: Mapped[str | None] = mapped_column(ForeignKey("general_guarantees.guarantee_id"), nullable=True)
    reference: Mapped[str] = mapped_column(String(128))
    refusal_code: Mapped[str | None] = mapped_column(String(64), nullable=True)
    reason: Mapped[str | None] = mapped_column(String(1024), nullable=True)
    actor: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    # Settlement (filled once, when the case ends)
    settled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    outcome: Mapped[str | None] = mapped_column(String(64), nullable=True)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    storage_days: Mapped[int] = mapped_column(Integer, server_default="0")
    storage_rate: Mapped[Decimal | None] = mapped_column(Money, nullable=True)
    storage_amount: Mapped[Decimal] = mapped_column(Money, server_default="0")
    costs_amount: Mapped[Decimal] = mapped_column(Money, server_default="0")
    charged: Mapped[Decimal] = mapped_column(Money, server_default="0")
    refunded: Mapped[Decimal] = mapped_column(Money, server_default="0")
    unpaid: Mapped[Decimal] = mapped_column(Money, server_default="0")


class CaseCost(Base):
    """A storage, custody or disposal cost charged to a case guarantee."""

    __tablename__ = "case_costs"
    __table_args__ = (CheckConstraint("amount >= 0", name="amount_not_negative"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    case_guarantee_id: Mapped[str] = mapped_column(ForeignKey("case_guarantees.case_guarantee_id"), index=True)
    case_id: Mapped[str] = mapped_column(String(128))
    kind: Mapped[str] = mapped_column(String(16))
    amount: Mapped[Decimal] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(String(3))
    detail: Mapped[str] = mapped_column(String(1024))
    actor: Mapped[str] = mapped_column(String(128))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class AuditEntry(Base):
    """Audit trail: who changed what, when, with the change's figures."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    entity: Mapped[str] = mapped_column(String(32))  # general_guarantee | case_guarantee
    entity_id: Mapped[str] = mapped_column(String(160), index=True)
    action: Mapped[str] = mapped_column(String(64))
    actor: Mapped[str] = mapped_column(String(128))
    detail: Mapped[dict[str, Any]] = mapped_column(JsonType)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
