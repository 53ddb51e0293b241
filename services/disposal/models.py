"""Tables of the disposal service: the outcome of each case, its fine and what happens to the goods."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import Boolean, DateTime, Numeric, String, func
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.db import JsonType, idempotency_table, make_metadata


class Base(DeclarativeBase):
    metadata = make_metadata()


metadata = Base.metadata
idempotency = idempotency_table(metadata)


class Disposition(Base):
    __tablename__ = "dispositions"

    disposition_id: Mapped[str] = mapped_column(String(160), primary_key=True)
    case_id: Mapped[str] = mapped_column(String(128), unique=True)
    jurisdiction: Mapped[str] = mapped_column(String(8))
    outcome: Mapped[str] = mapped_column(String(32))
    goods_value: Mapped[Decimal] = mapped_column(Numeric(18, 2))
    currency: Mapped[str] = mapped_column(String(3))
    right_type: Mapped[str] = mapped_column(String(32))
    fine_tier: Mapped[str | None] = mapped_column(String(32), nullable=True)
    fine_rate: Mapped[Decimal] = mapped_column(Numeric(20, 4))
    fine_amount: Mapped[Decimal] = mapped_column(Numeric(18, 2))
    disposal_method: Mapped[str | None] = mapped_column(String(64), nullable=True)
    reason: Mapped[str] = mapped_column(String(2048))
    actor: Mapped[str] = mapped_column(String(128))
    hearing: Mapped[str | None] = mapped_column(String(32), nullable=True)
    police_referral: Mapped[bool] = mapped_column(Boolean, server_default="false")
    lines: Mapped[list | None] = mapped_column(JsonType, nullable=True)  # what happened to each line
    decided_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
