"""Tables of the intake service: declarations as received, their assessment, and their history."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, Integer, String, func
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.db import JsonType, applied_events_table, make_metadata, outbox_table


class Base(DeclarativeBase):
    metadata = make_metadata()


metadata = Base.metadata
outbox = outbox_table(metadata)
applied_events = applied_events_table(metadata)


class Declaration(Base):
    __tablename__ = "declarations"

    declaration_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    revision: Mapped[int] = mapped_column(Integer, primary_key=True)
    content_hash: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict] = mapped_column(JsonType)
    jurisdiction: Mapped[str] = mapped_column(String(8))
    source: Mapped[str] = mapped_column(String(16))  # http | kafka
    status: Mapped[str] = mapped_column(String(16), default="received")  # received | assessed
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    assessed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    assessment: Mapped[dict | None] = mapped_column(JsonType, nullable=True)


class DeclarationEvent(Base):
    """Audit trail of a declaration: received, conflicting copy refused, assessed."""

    __tablename__ = "declaration_events"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    declaration_id: Mapped[str] = mapped_column(String(64), index=True)
    revision: Mapped[int] = mapped_column(Integer)
    event: Mapped[str] = mapped_column(String(32))
    detail: Mapped[dict] = mapped_column(JsonType, default=dict)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class DeclarationCase(Base):
    """Cases on the declaration's lines, one row per case and line, with the case's state and the line's status
    (from cases.events.v1), for clearance systems. A line that moved to another holder's case keeps its row
    in the case it left (``line_status`` withdrawn, ``moved_to``)."""

    __tablename__ = "declaration_cases"

    case_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    declaration_id: Mapped[str] = mapped_column(String(64), index=True)
    line_no: Mapped[int] = mapped_column(Integer, primary_key=True)
    state: Mapped[str] = mapped_column(String(32))
    seq: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    line_status: Mapped[str | None] = mapped_column(String(32), nullable=True)
    moved_to: Mapped[str | None] = mapped_column(String(128), nullable=True)
