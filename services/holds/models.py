"""Tables of the holds service: holds on the lines of a case's declaration and every status change of them.

A hold covers every line of its case (``lines``: line number -> status); holds placed before
consignment cases cover one line (``line_no``) and have no ``lines``.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, ForeignKey, Integer, String, func
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.db import JsonType, idempotency_table, make_metadata, outbox_table


class Base(DeclarativeBase):
    metadata = make_metadata()


metadata = Base.metadata
outbox = outbox_table(metadata)
idempotency = idempotency_table(metadata)


class Hold(Base):
    __tablename__ = "holds"

    hold_id: Mapped[str] = mapped_column(String(160), primary_key=True)
    case_id: Mapped[str] = mapped_column(String(128), unique=True)
    declaration_id: Mapped[str] = mapped_column(String(64), index=True)
    line_no: Mapped[int] = mapped_column(Integer)
    customs_office: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(String(1024))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    lines: Mapped[dict | None] = mapped_column(JsonType, nullable=True)  # {"<line_no>": status}


class HoldEvent(Base):
    """Audit trail: one row per status change, with who asked for it."""

    __tablename__ = "hold_events"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    hold_id: Mapped[str] = mapped_column(ForeignKey("holds.hold_id"), index=True)
    status: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(String(1024))
    actor: Mapped[str] = mapped_column(String(128))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    line_nos: Mapped[list | None] = mapped_column(JsonType, nullable=True)  # the lines this change was about
