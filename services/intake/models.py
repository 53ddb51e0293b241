"""Tables of the intake service: declarations as received, their assessment, and their history."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, DateTime, Index, Integer, String, func, text
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
    # Published again for risk because it stayed unassessed (see service.republish_unassessed).
    republished: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    republished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)

    __table_args__ = (Index("ix_declarations_unassessed", "received_at", postgresql_where=text("status = 'received'")),)


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


class Manifest(Base):
    """A parcel manifest as received (its header), and the answer given to its sender."""

    __tablename__ = "manifests"

    manifest_id: Mapped[str] = mapped_column(String(48), primary_key=True)
    revision: Mapped[int] = mapped_column(Integer, primary_key=True)
    content_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)  # whole manifest (HTTP only)
    header: Mapped[dict] = mapped_column(JsonType)
    jurisdiction: Mapped[str] = mapped_column(String(8))
    customs_office: Mapped[str] = mapped_column(String(16))
    parcel_count: Mapped[int] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(16))  # http | kafka
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    answer: Mapped[dict | None] = mapped_column(JsonType, nullable=True)


class ManifestParcel(Base):
    """One parcel of a manifest: what was declared, or why it was rejected, and its assessment."""

    __tablename__ = "manifest_parcels"

    manifest_id: Mapped[str] = mapped_column(String(48), primary_key=True)
    revision: Mapped[int] = mapped_column(Integer, primary_key=True)
    parcel_no: Mapped[int] = mapped_column(Integer, primary_key=True)
    consignment_id: Mapped[str] = mapped_column(String(64), index=True)
    waybill_no: Mapped[str | None] = mapped_column(String(40), nullable=True)
    status: Mapped[str] = mapped_column(String(16))  # accepted | rejected | assessed
    content_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    payload: Mapped[dict | None] = mapped_column(JsonType, nullable=True)
    rejection: Mapped[dict | None] = mapped_column(JsonType, nullable=True)
    lane: Mapped[str | None] = mapped_column(String(8), nullable=True)
    suspected: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    case_ids: Mapped[list | None] = mapped_column(JsonType, nullable=True)
    result: Mapped[dict | None] = mapped_column(JsonType, nullable=True)
    received_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    assessed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
