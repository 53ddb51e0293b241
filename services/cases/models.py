"""Tables of the cases service: the case read model, the case audit trail, escalations and interventions, and
deadlines counted on a provisional calendar.

The read model is what the cases service answers from: it outlives each case's workflow
(Temporal keeps a closed workflow only for its retention period; case files are evidence
for years). Every flush of a case's history writes the new entries (``case_events``) and the
case as the workflow sees it (``cases.snapshot``, without the history).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import DateTime, Integer, Numeric, String, UniqueConstraint, func
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.db import JsonType, make_metadata, outbox_table


class Base(DeclarativeBase):
    metadata = make_metadata()


metadata = Base.metadata
# cases.events.v1 leaves through this outbox, written in the transaction that records the audit trail.
outbox = outbox_table(metadata)


class Case(Base):
    __tablename__ = "cases"

    case_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    state: Mapped[str] = mapped_column(String(32), index=True)
    jurisdiction: Mapped[str] = mapped_column(String(8))
    declaration_id: Mapped[str] = mapped_column(String(64), index=True)
    line_no: Mapped[int] = mapped_column(Integer)
    line_nos: Mapped[list | None] = mapped_column(JsonType, nullable=True)  # consignment cases: their lines now
    holder_id: Mapped[str] = mapped_column(String(64), index=True)
    holder_name: Mapped[str] = mapped_column(String(256))
    recordation_id: Mapped[str] = mapped_column(String(64))
    mark: Mapped[str] = mapped_column(String(256))
    description: Mapped[str] = mapped_column(String(1024))
    goods_value: Mapped[Decimal] = mapped_column(Numeric(18, 2))
    currency: Mapped[str] = mapped_column(String(3))
    last_seq: Mapped[int] = mapped_column(Integer, default=0)
    # Who may see the case: officers of its office, the parties to the declaration (nullable: older rows).
    customs_office: Mapped[str | None] = mapped_column(String(16), nullable=True, index=True)
    declarant_id: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    consignor_id: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    consignee_id: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    opened_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    # The case as its workflow last recorded it (CaseState without the history; None for v1 cases).
    snapshot: Mapped[dict | None] = mapped_column(JsonType, nullable=True)
    # The earliest pending legal deadline: what the sweeper enforces if the workflow has failed.
    next_due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True, index=True)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # Set while the workflow has failed or was terminated ({status, reason, run_id, closed_at, detected_at}).
    failure: Mapped[dict | None] = mapped_column(JsonType, nullable=True)
    auto_repairs: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class CaseEvent(Base):
    """Audit trail: every transition and every received instruction of every case, in order."""

    __tablename__ = "case_events"
    __table_args__ = (UniqueConstraint("case_id", "seq"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(String(128), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(32))
    event: Mapped[str] = mapped_column(String(64))
    detail: Mapped[dict] = mapped_column(JsonType)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Escalation(Base):
    """A deadline about to lapse, raised to supervisors; resolved when the deadline is met, lapses or is cancelled."""

    __tablename__ = "escalations"
    __table_args__ = (UniqueConstraint("case_id", "deadline", "due_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(String(128), index=True)
    deadline: Mapped[str] = mapped_column(String(64))
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    state: Mapped[str] = mapped_column(String(32))
    escalated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True, index=True)
    resolution: Mapped[str | None] = mapped_column(String(32), nullable=True)
    # deadline (about to lapse), step_refused / step_delayed (a step service refused or keeps failing: the
    # step is named in ``deadline``), case_failed (the workflow failed or was terminated)
    kind: Mapped[str] = mapped_column(String(32), default="deadline", server_default="deadline")
    reason: Mapped[str | None] = mapped_column(String(1000), nullable=True)
    resolved_by: Mapped[str | None] = mapped_column(String(128), nullable=True)


class Intervention(Base):
    """What was done to a case outside its workflow, and by whom: failure found, repair, escalation resolved."""

    __tablename__ = "case_interventions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(String(128), index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    event: Mapped[str] = mapped_column(String(64))
    by: Mapped[str] = mapped_column(String(128))
    detail: Mapped[dict] = mapped_column(JsonType)


class ProvisionalDeadline(Base):
    """A pending deadline counted over days no official calendar covers yet; resolved when it is re-timed on an
    official schedule, met, lapses or is cancelled."""

    __tablename__ = "provisional_deadlines"
    __table_args__ = (UniqueConstraint("case_id", "deadline"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(String(128), index=True)
    deadline: Mapped[str] = mapped_column(String(64))
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    calendar_version: Mapped[str | None] = mapped_column(String(64), nullable=True)
    flagged_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True, index=True)
    resolution: Mapped[str | None] = mapped_column(String(32), nullable=True)
