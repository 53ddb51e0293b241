"""What officers work from: the worklist by urgency, search, assignment and hand-over, seizure statistics.

Served from the cases database alone, so closed cases stay searchable long after their workflow
has gone. Three tables kept beside the case read model:

* ``case_facts``: what the worklist filters and the statistics count (direction, transport mode,
  route, parties' names, manifest, lines, items, CNY value, profiles and campaigns that selected
  the goods), written with every flush of a case's history;
* ``case_deadlines``: each legal time limit of a case with its due instant and status, from the
  history's ``deadline_*`` entries (the urgency of the worklist);
* ``case_assignments`` and ``assignment_events``: who works a case, and every assignment,
  hand-over and release with who did it (the cases service owns assignment).

Time left is counted in working days of the case's jurisdiction (``shared.rules.calendar``).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any, Literal, TypeVar

from fastapi import APIRouter, Depends, HTTPException, Path, Query
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import DateTime, Integer, Numeric, Select, String, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from services.cases.models import Base, Case, Escalation
from shared.auth import Principal, require, require_office
from shared.contracts.bounds import ID_PATTERNS, CaseId, Day
from shared.contracts.case_views import (
    AssignmentChanged,
    AssignmentView,
    Seizures,
    Selections,
    WorkbenchEntry,
    Worklist,
)
from shared.contracts.cases import TERMINAL_STATES, CaseEventRecord
from shared.contracts.errors import AUTH_ERRORS, BODY_ERRORS, INPUT_ERRORS, error_responses
from shared.db import JsonType
from shared.rules.calendar import working_days_left
from shared.runtime import session_dep

# ---------------------------------------------------------------- tables


class CaseFacts(Base):
    """Facts of a case that the worklist filters on and the statistics count."""

    __tablename__ = "case_facts"

    case_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    direction: Mapped[str | None] = mapped_column(String(16), nullable=True, index=True)
    transport_mode: Mapped[str | None] = mapped_column(String(16), nullable=True, index=True)
    origin_country: Mapped[str | None] = mapped_column(String(2), nullable=True)
    destination_country: Mapped[str | None] = mapped_column(String(2), nullable=True)
    consignor_name: Mapped[str | None] = mapped_column(String(256), nullable=True)
    consignee_name: Mapped[str | None] = mapped_column(String(256), nullable=True)
    declarant_name: Mapped[str | None] = mapped_column(String(256), nullable=True)
    manifest_id: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    mode: Mapped[str | None] = mapped_column(String(16), nullable=True)
    line_count: Mapped[int] = mapped_column(Integer, default=1)
    items: Mapped[Decimal] = mapped_column(Numeric(18, 3), default=0)
    goods_value_cny: Mapped[Decimal | None] = mapped_column(Numeric(18, 2), nullable=True)
    hs_codes: Mapped[list] = mapped_column(JsonType, default=list)
    profile_ids: Mapped[list] = mapped_column(JsonType, default=list)
    campaign_ids: Mapped[list] = mapped_column(JsonType, default=list)
    # A four-eyes approval the case waits for ({"kind", "proposed_by", "proposed_at"}), from the history.
    pending_approval: Mapped[dict | None] = mapped_column(JsonType, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class CaseDeadline(Base):
    """A time limit of a case as its history records it."""

    __tablename__ = "case_deadlines"

    case_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    due_date: Mapped[str | None] = mapped_column(String(10), nullable=True)
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    escalated: Mapped[bool] = mapped_column(default=False)
    provisional: Mapped[bool] = mapped_column(default=False)


class CaseAssignment(Base):
    """Who works a case now."""

    __tablename__ = "case_assignments"

    case_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    assignee_sub: Mapped[str] = mapped_column(String(64), index=True)
    assignee_name: Mapped[str] = mapped_column(String(256))
    assigned_by: Mapped[str] = mapped_column(String(128))
    assigned_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class AssignmentEvent(Base):
    """Every assignment, hand-over and release of a case, with who did it and why."""

    __tablename__ = "assignment_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(String(128), index=True)
    event: Mapped[str] = mapped_column(String(16))  # assigned | handed_over | released
    from_sub: Mapped[str | None] = mapped_column(String(64), nullable=True)
    to_sub: Mapped[str | None] = mapped_column(String(64), nullable=True)
    to_name: Mapped[str | None] = mapped_column(String(256), nullable=True)
    by: Mapped[str] = mapped_column(String(128))
    note: Mapped[str | None] = mapped_column(String(1000), nullable=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


# ---------------------------------------------------------------- recording (case worker, with every flush)

_PARCEL_ID = re.compile(r"^(?P<manifest>.+)-P\d{5}$")
_PROFILE = re.compile(r"targeting profile (\S+)")
_CAMPAIGN = re.compile(r"campaign (\S+)")
# Profile and campaign ids share one form: a word after "targeting profile" or "campaign" that has another (in an
# officer's note, a profile's name) names neither.
_SELECTOR_ID = re.compile(ID_PATTERNS["profile_id"])
SEIZED_STATES = frozenset({"confiscated", "destroyed", "forfeited"})
_APPROVAL_OPEN = ("approval_requested",)
_APPROVAL_CLOSED = ("approval_granted", "approval_refused", "approval_lapsed", "approval_withdrawn")


def _manifest_of(case_input: Any) -> str | None:
    explicit = getattr(case_input, "manifest_id", None)
    if explicit:
        return str(explicit)[:64]
    found = _PARCEL_ID.match(case_input.declaration_id)
    return found.group("manifest")[:64] if found else None


def _selector_ids(values: list | None) -> list[str]:
    """The profile or campaign ids among ``values`` (facts recorded before they were checked may hold others)."""
    return [v for v in values or [] if isinstance(v, str) and _SELECTOR_ID.fullmatch(v)]


def facts_of(case_input: Any) -> dict[str, Any]:
    """The worklist and statistics facts of a case input (per-line and consignment cases alike)."""
    lines = list(getattr(case_input, "lines", None) or [])
    reasons = list(case_input.reasons or [])
    for line in lines:
        reasons.extend(getattr(line, "reasons", None) or [])
    profiles = _selector_ids(sorted({m.group(1).strip("'\",.;:()") for r in reasons for m in _PROFILE.finditer(r)}))
    campaigns = _selector_ids(sorted({m.group(1).strip("'\",.;:()") for r in reasons for m in _CAMPAIGN.finditer(r)}))
    origin = getattr(case_input, "origin_country", None) or case_input.consignor.country
    destination = getattr(case_input, "destination_country", None) or case_input.consignee.country
    declarant = getattr(case_input, "declarant", None)
    return {
        "direction": case_input.direction[:16] if case_input.direction else None,
        "transport_mode": (case_input.transport_mode or "")[:16] or None,
        "origin_country": (origin or "")[:2] or None,
        "destination_country": (destination or "")[:2] or None,
        "consignor_name": case_input.consignor.name[:256],
        "consignee_name": case_input.consignee.name[:256],
        "declarant_name": declarant.name[:256] if declarant else None,
        "manifest_id": _manifest_of(case_input),
        "mode": case_input.mode,
        "line_count": len(lines) or 1,
        "items": sum((ln.quantity for ln in lines), Decimal(0)) if lines else case_input.quantity,
        "goods_value_cny": case_input.goods_value_cny,
        "hs_codes": sorted({ln.hs_code for ln in lines} or {case_input.hs_code}),
        "profile_ids": profiles[:50],
        "campaign_ids": campaigns[:50],
    }


async def _track_deadline(session: AsyncSession, r: CaseEventRecord) -> None:
    d, name = r.detail, r.detail.get("name")
    if not name or not r.event.startswith("deadline_"):
        return
    name = str(name)[:64]
    if r.event in ("deadline_set", "deadline_retimed", "deadline_extended") and d.get("due_at"):
        due_at = datetime.fromisoformat(d["due_at"])
        values = {
            "due_at": due_at,
            "due_date": str(d.get("due_date") or "")[:10] or None,
            "provisional": bool(d.get("provisional")),
        }
        if r.event == "deadline_set":
            stmt = insert(CaseDeadline).values(
                case_id=r.case_id, name=name, status="pending", escalated=False, **values
            )
            await session.execute(
                stmt.on_conflict_do_update(
                    index_elements=["case_id", "name"], set_={**values, "status": "pending", "escalated": False}
                )
            )
        else:
            await session.execute(
                update(CaseDeadline)
                .where(CaseDeadline.case_id == r.case_id, CaseDeadline.name == name)
                .values(**values)
            )
    elif r.event in ("deadline_met", "deadline_lapsed", "deadline_cancelled"):
        await session.execute(
            update(CaseDeadline)
            .where(CaseDeadline.case_id == r.case_id, CaseDeadline.name == name)
            .values(status=r.event.removeprefix("deadline_"))
        )
    elif r.event == "deadline_escalated":
        await session.execute(
            update(CaseDeadline)
            .where(CaseDeadline.case_id == r.case_id, CaseDeadline.name == name)
            .values(escalated=True)
        )


async def record_workbench_facts(session: AsyncSession, records: list[CaseEventRecord]) -> None:
    """Keep the worklist's facts, deadlines and pending approvals in step with new history entries."""
    if not records:
        return
    approval: dict | None | Literal[False] = False  # False: unchanged by these entries
    for r in records:
        await _track_deadline(session, r)
        if r.event in _APPROVAL_OPEN:
            approval = {
                "kind": str(r.detail.get("kind") or r.detail.get("what") or "decision")[:64],
                "proposed_by": r.detail.get("proposed_by") or r.detail.get("by"),
                "proposed_by_sub": r.detail.get("proposed_by_sub"),
                "proposed_at": r.at.isoformat(),
            }
        elif r.event in _APPROVAL_CLOSED:
            approval = None
    last = records[-1]
    facts = facts_of(last.case_input)
    set_ = dict(facts, updated_at=last.at)
    if approval is not False:
        set_["pending_approval"] = approval
    stmt = insert(CaseFacts).values(case_id=last.case_id, **set_)
    await session.execute(stmt.on_conflict_do_update(index_elements=["case_id"], set_=set_))


# ---------------------------------------------------------------- worklist

router = APIRouter(tags=["workbench"])
Session = Annotated[AsyncSession, Depends(session_dep)]
Officer = Annotated[Principal, Depends(require("officer"))]
Id = Annotated[CaseId, Path()]
Filter = Annotated[str | None, Query(max_length=128)]
MAX_CANDIDATES = 5000
_AUTH = {**AUTH_ERRORS, **INPUT_ERRORS}
_NOT_FOUND = {404: "case_not_found"}


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def _now() -> datetime:
    return datetime.now(UTC)


S = TypeVar("S", bound=Select)


def _scoped(stmt: S, who: Principal) -> S:
    if who.role == "officer":
        return stmt.where(Case.customs_office.in_(sorted(who.offices)))
    return stmt


@router.get(
    "/v1/worklist",
    response_model=Worklist,
    responses=error_responses(_AUTH),
    summary="Cases by urgency: failed cases first, then escalations and pending approvals, then the fewest "
    "working days left; filters and search; closed cases with include_closed",
)
async def worklist(
    session: Session,
    who: Officer,
    state: Filter = None,
    office: Filter = None,
    jurisdiction: Filter = None,
    mark: Filter = None,
    holder: Filter = None,
    assignee: Filter = None,
    direction: Filter = None,
    transport_mode: Filter = None,
    manifest: Filter = None,
    q: Annotated[
        str | None, Query(max_length=128, description="case, declaration, manifest, consignor/consignee, mark")
    ] = None,
    mine: bool = False,
    unassigned: bool = False,
    include_closed: bool = False,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
) -> dict:
    stmt = (
        select(Case, CaseFacts, CaseAssignment)
        .outerjoin(CaseFacts, CaseFacts.case_id == Case.case_id)
        .outerjoin(CaseAssignment, CaseAssignment.case_id == Case.case_id)
    )
    stmt = _scoped(stmt, who)
    if state:
        stmt = stmt.where(Case.state == state)
    elif not include_closed:
        stmt = stmt.where(Case.state.not_in(sorted(TERMINAL_STATES | {"excluded"})))
    for column, value in (
        (Case.customs_office, office),
        (Case.jurisdiction, jurisdiction),
        (CaseFacts.direction, direction),
        (CaseFacts.transport_mode, transport_mode),
        (CaseFacts.manifest_id, manifest),
    ):
        if value:
            stmt = stmt.where(column == value)
    if mark:
        stmt = stmt.where(Case.mark.ilike(f"%{_like(mark)}%"))
    if holder:
        stmt = stmt.where(or_(Case.holder_id == holder, Case.holder_name.ilike(f"%{_like(holder)}%")))
    if mine:
        stmt = stmt.where(CaseAssignment.assignee_sub == who.sub)
    elif unassigned:
        stmt = stmt.where(CaseAssignment.assignee_sub.is_(None))
    elif assignee:
        stmt = stmt.where(CaseAssignment.assignee_sub == assignee)
    if q:
        like = f"%{_like(q.strip())}%"
        stmt = stmt.where(
            or_(
                Case.case_id.ilike(like),
                Case.declaration_id.ilike(like),
                Case.mark.ilike(like),
                Case.description.ilike(like),
                CaseFacts.manifest_id.ilike(like),
                CaseFacts.consignor_name.ilike(like),
                CaseFacts.consignee_name.ilike(like),
                Case.consignor_id.ilike(like),
                Case.consignee_id.ilike(like),
                Case.holder_name.ilike(like),
            )
        )
    stmt = stmt.order_by(Case.updated_at.desc()).limit(MAX_CANDIDATES)
    rows = (await session.execute(stmt)).all()
    ids = [c.case_id for c, _, _ in rows]
    deadlines: dict[str, list[CaseDeadline]] = {}
    escalated: set[str] = set()
    for chunk in (ids[i : i + 1000] for i in range(0, len(ids), 1000)):
        for d in (
            await session.execute(
                select(CaseDeadline).where(CaseDeadline.case_id.in_(chunk), CaseDeadline.status == "pending")
            )
        ).scalars():
            deadlines.setdefault(d.case_id, []).append(d)
        escalated |= set(
            (
                await session.execute(
                    select(Escalation.case_id).where(Escalation.case_id.in_(chunk), Escalation.resolved_at.is_(None))
                )
            ).scalars()
        )
    now = _now()
    items = [_item(c, f, a, deadlines.get(c.case_id, []), c.case_id in escalated, now) for c, f, a in rows]
    if include_closed and not state:
        items.sort(key=lambda i: (i["closed"], _urgency(i)))
    else:
        items.sort(key=_urgency)
    return {
        "total": len(items),
        "truncated": len(rows) >= MAX_CANDIDATES,
        "limit": limit,
        "offset": offset,
        "items": items[offset : offset + limit],
    }


def _like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _urgency(item: dict) -> tuple:
    nxt = item["next_deadline"]
    group = 0 if item["failed"] else 1 if item["escalated"] or item["pending_approval"] is not None else 2
    return (group, nxt["working_days_left"] if nxt else 10**6, nxt["due_at"] if nxt else "~", item["opened_at"])


def _item(
    c: Case, f: CaseFacts | None, a: CaseAssignment | None, pending: list[CaseDeadline], escalated: bool, now: datetime
) -> dict:
    nxt = min(pending, key=lambda d: d.due_at) if pending and c.state not in TERMINAL_STATES else None
    return {
        "case_id": c.case_id,
        "state": c.state,
        "jurisdiction": c.jurisdiction,
        "customs_office": c.customs_office,
        "declaration_id": c.declaration_id,
        "line_no": c.line_no,
        "holder_id": c.holder_id,
        "holder_name": c.holder_name,
        "recordation_id": c.recordation_id,
        "mark": c.mark,
        "description": c.description,
        "goods_value": str(c.goods_value),
        "currency": c.currency,
        "goods_value_cny": str(f.goods_value_cny) if f is not None and f.goods_value_cny is not None else None,
        "direction": f.direction if f else None,
        "transport_mode": f.transport_mode if f else None,
        "manifest_id": f.manifest_id if f else None,
        "origin_country": f.origin_country if f else None,
        "destination_country": f.destination_country if f else None,
        "consignor": f.consignor_name if f else c.consignor_id,
        "consignee": f.consignee_name if f else c.consignee_id,
        "line_count": f.line_count if f else 1,
        "items": str(f.items) if f else None,
        "assignee": {"sub": a.assignee_sub, "name": a.assignee_name, "since": _iso(a.assigned_at)} if a else None,
        "next_deadline": {
            "name": nxt.name,
            "due_at": _iso(nxt.due_at),
            "due_date": nxt.due_date,
            "escalated": nxt.escalated,
            "provisional": nxt.provisional,
            "working_days_left": working_days_left(c.jurisdiction, nxt.due_at, now),
        }
        if nxt
        else None,
        "escalated": escalated or bool(nxt and nxt.escalated),
        "pending_approval": f.pending_approval if f else None,
        "failed": c.state == "failed",
        "closed": c.state in TERMINAL_STATES or c.state == "excluded",
        "opened_at": _iso(c.opened_at),
        "updated_at": _iso(c.updated_at),
    }


@router.get(
    "/v1/cases/{case_id}/workbench",
    response_model=WorkbenchEntry,
    responses=error_responses(_AUTH, _NOT_FOUND),
    summary="The worklist entry of one case: facts, next deadline with working days left, assignment and its record",
)
async def case_entry(case_id: Id, session: Session, who: Officer) -> dict:
    c = await session.get(Case, case_id)
    if c is None:
        raise HTTPException(404, detail={"code": "case_not_found", "message": f"no case {case_id}"})
    require_office(who, c.customs_office)
    f = await session.get(CaseFacts, case_id)
    a = await session.get(CaseAssignment, case_id)
    all_deadlines = list(
        (
            await session.execute(
                select(CaseDeadline).where(CaseDeadline.case_id == case_id).order_by(CaseDeadline.due_at)
            )
        ).scalars()
    )
    pending = [d for d in all_deadlines if d.status == "pending"]
    open_escalation = (
        await session.execute(
            select(func.count())
            .select_from(Escalation)
            .where(Escalation.case_id == case_id, Escalation.resolved_at.is_(None))
        )
    ).scalar_one() > 0
    now = _now()
    body = _item(c, f, a, pending, open_escalation, now)
    body["deadlines"] = [
        {
            "name": d.name,
            "due_at": _iso(d.due_at),
            "due_date": d.due_date,
            "status": d.status,
            "escalated": d.escalated,
            "provisional": d.provisional,
            "working_days_left": working_days_left(c.jurisdiction, d.due_at, now) if d.status == "pending" else None,
        }
        for d in all_deadlines
    ]
    body["assignment_history"] = await _assignment_history(session, case_id)
    body["facts"] = (
        {
            "hs_codes": f.hs_codes,
            "profile_ids": _selector_ids(f.profile_ids),
            "campaign_ids": _selector_ids(f.campaign_ids),
            "declarant": f.declarant_name,
            "mode": f.mode,
        }
        if f
        else None
    )
    return body


# ---------------------------------------------------------------- assignment


class AssignBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    assignee_sub: str | None = Field(
        default=None, min_length=1, max_length=64, description="who takes the case; empty: the caller takes it"
    )
    assignee_name: str | None = Field(default=None, min_length=1, max_length=256)
    note: str | None = Field(default=None, max_length=1000)


class ReleaseBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    note: str | None = Field(default=None, max_length=1000)


async def _assignment_history(session: AsyncSession, case_id: str) -> list[dict]:
    rows = await session.execute(
        select(AssignmentEvent).where(AssignmentEvent.case_id == case_id).order_by(AssignmentEvent.id)
    )
    return [
        {
            "event": e.event,
            "from": e.from_sub,
            "to": e.to_sub,
            "to_name": e.to_name,
            "by": e.by,
            "note": e.note,
            "at": _iso(e.at),
        }
        for e in rows.scalars()
    ]


async def _case_for_assignment(session: AsyncSession, case_id: str, who: Principal) -> Case:
    c = await session.get(Case, case_id)
    if c is None:
        raise HTTPException(404, detail={"code": "case_not_found", "message": f"no case {case_id}"})
    require_office(who, c.customs_office)
    return c


@router.post(
    "/v1/cases/{case_id}/assignment",
    response_model=AssignmentChanged,
    response_model_exclude_unset=True,
    responses=error_responses(
        _AUTH,
        BODY_ERRORS,
        _NOT_FOUND,
        {
            409: "case_closed: a closed case is not worked; assigned_to_another: its assignee or a supervisor "
            "hands it over"
        },
    ),
    summary="Take a case, assign it or hand it over to another officer "
    "(recorded with who did it); officers hand over only cases they hold or nobody holds",
)
async def assign(case_id: Id, body: AssignBody, session: Session, who: Officer) -> dict:
    c = await _case_for_assignment(session, case_id, who)
    if c.state in TERMINAL_STATES or c.state == "excluded":
        raise HTTPException(
            409,
            detail={
                "code": "case_closed",
                "message": f"case {case_id} is closed ({c.state}); it is not worked any more",
            },
        )
    current = await session.get(CaseAssignment, case_id, with_for_update=True)
    to_sub = body.assignee_sub or who.sub
    to_name = (body.assignee_name or (who.name if to_sub == who.sub else to_sub))[:256]
    if current is not None and current.assignee_sub == to_sub:
        return {"case_id": case_id, "assignee": {"sub": to_sub, "name": current.assignee_name}, "changed": False}
    if who.role == "officer" and current is not None and current.assignee_sub != who.sub:
        raise HTTPException(
            409,
            detail={
                "code": "assigned_to_another",
                "message": f"the case is worked by {current.assignee_name}; they or a supervisor hand it over",
            },
        )
    at = _now()
    event = "assigned" if current is None else "handed_over"
    session.add(
        AssignmentEvent(
            case_id=case_id,
            event=event,
            from_sub=current.assignee_sub if current else None,
            to_sub=to_sub,
            to_name=to_name,
            by=who.actor,
            note=body.note,
            at=at,
        )
    )
    stmt = insert(CaseAssignment).values(
        case_id=case_id, assignee_sub=to_sub, assignee_name=to_name, assigned_by=who.actor, assigned_at=at
    )
    await session.execute(
        stmt.on_conflict_do_update(
            index_elements=["case_id"],
            set_={"assignee_sub": to_sub, "assignee_name": to_name, "assigned_by": who.actor, "assigned_at": at},
        )
    )
    await session.commit()
    return {
        "case_id": case_id,
        "assignee": {"sub": to_sub, "name": to_name},
        "event": event,
        "changed": True,
        "by": who.actor,
        "at": at.isoformat(),
    }


@router.delete(
    "/v1/cases/{case_id}/assignment",
    response_model=AssignmentChanged,
    response_model_exclude_unset=True,
    responses=error_responses(_AUTH, _NOT_FOUND, {409: "assigned_to_another"}),
    summary="Give a case back to the office's worklist (recorded)",
)
async def release(
    case_id: Id, session: Session, who: Officer, note: Annotated[str | None, Query(max_length=1000)] = None
) -> dict:
    await _case_for_assignment(session, case_id, who)
    current = await session.get(CaseAssignment, case_id, with_for_update=True)
    if current is None:
        return {"case_id": case_id, "assignee": None, "changed": False}
    if who.role == "officer" and current.assignee_sub != who.sub:
        raise HTTPException(
            409, detail={"code": "assigned_to_another", "message": f"the case is worked by {current.assignee_name}"}
        )
    session.add(
        AssignmentEvent(
            case_id=case_id,
            event="released",
            from_sub=current.assignee_sub,
            to_sub=None,
            by=who.actor,
            note=note,
            at=_now(),
        )
    )
    await session.delete(current)
    await session.commit()
    return {"case_id": case_id, "assignee": None, "changed": True}


@router.get(
    "/v1/cases/{case_id}/assignment",
    response_model=AssignmentView,
    responses=error_responses(_AUTH, _NOT_FOUND),
    summary="Who works the case, and every assignment and hand-over",
)
async def assignment(case_id: Id, session: Session, who: Officer) -> dict:
    await _case_for_assignment(session, case_id, who)
    a = await session.get(CaseAssignment, case_id)
    return {
        "case_id": case_id,
        "assignee": {"sub": a.assignee_sub, "name": a.assignee_name, "since": _iso(a.assigned_at)} if a else None,
        "history": await _assignment_history(session, case_id),
    }


# ---------------------------------------------------------------- statistics

Dimension = Literal["mark", "holder", "route", "direction", "transport_mode", "office", "period", "jurisdiction"]


def plain_decimal(value: Decimal) -> str:
    """A quantity without trailing zeros and never in exponent form: 500.000 is "500", not "5E+2" (which the
    CSV download carried into spreadsheets)."""
    return format(value.normalize(), "f") if value else "0"


@router.get(
    "/v1/statistics/seizures",
    response_model=Seizures,
    responses=error_responses(_AUTH),
    summary="Seizures (cases, lines, items, CNY value) by a dimension and period — the figures customs "
    "administrations publish; from the cases database",
)
async def seizures(
    session: Session,
    who: Officer,
    by: Dimension = "mark",
    period: Literal["month", "quarter", "year"] = "month",
    date_from: Annotated[Day | None, Query(alias="from")] = None,
    date_to: Annotated[Day | None, Query(alias="to")] = None,
    office: Filter = None,
    jurisdiction: Filter = None,
    direction: Filter = None,
    transport_mode: Filter = None,
) -> dict:
    stmt = _scoped(
        select(Case, CaseFacts)
        .outerjoin(CaseFacts, CaseFacts.case_id == Case.case_id)
        .where(Case.state.in_(sorted(SEIZED_STATES))),
        who,
    )
    if date_from:
        stmt = stmt.where(Case.updated_at >= datetime.combine(date_from, datetime.min.time(), UTC))
    if date_to:
        stmt = stmt.where(Case.updated_at < datetime.combine(date_to + timedelta(days=1), datetime.min.time(), UTC))
    for column, value in (
        (Case.customs_office, office),
        (Case.jurisdiction, jurisdiction),
        (CaseFacts.direction, direction),
        (CaseFacts.transport_mode, transport_mode),
    ):
        if value:
            stmt = stmt.where(column == value)
    groups: dict[str, dict[str, Any]] = {}
    totals: dict[str, Any] = {"cases": 0, "lines": 0, "items": Decimal(0), "value_cny": Decimal(0)}
    for c, f in (await session.execute(stmt.limit(200_000))).all():
        key = _group_key(by, period, c, f)
        g = groups.setdefault(key, {"key": key, "cases": 0, "lines": 0, "items": Decimal(0), "value_cny": Decimal(0)})
        lines, items = (f.line_count, f.items) if f else (1, Decimal(0))
        value_cny = (
            f.goods_value_cny
            if f and f.goods_value_cny is not None
            else (c.goods_value if c.currency == "CNY" else Decimal(0))
        )
        for target in (g, totals):
            target["cases"] += 1
            target["lines"] += lines
            target["items"] += items
            target["value_cny"] += value_cny
    rows = sorted(groups.values(), key=lambda g: (-g["cases"], g["key"]))
    if by == "period":
        rows.sort(key=lambda g: g["key"])

    def fmt(g: dict[str, Any]) -> dict[str, Any]:
        return {
            **g,
            "items": plain_decimal(g["items"]),
            "value_cny": str(g["value_cny"].quantize(Decimal("0.01"))),
        }

    return {
        "by": by,
        "period": period,
        "from": date_from.isoformat() if date_from else None,
        "to": date_to.isoformat() if date_to else None,
        "rows": [fmt(g) for g in rows],
        "totals": fmt(totals),
    }


def _group_key(by: str, period: str, c: Case, f: CaseFacts | None) -> str:
    if by == "mark":
        return c.mark
    if by == "holder":
        return f"{c.holder_name} ({c.holder_id})"
    if by == "route":
        return f"{(f.origin_country if f else None) or '?'} → {(f.destination_country if f else None) or '?'}"
    if by == "direction":
        return (f.direction if f else None) or "?"
    if by == "transport_mode":
        return (f.transport_mode if f else None) or "?"
    if by == "office":
        return c.customs_office or "?"
    if by == "jurisdiction":
        return c.jurisdiction
    at = c.updated_at
    if period == "year":
        return f"{at.year}"
    if period == "quarter":
        return f"{at.year}-Q{(at.month - 1) // 3 + 1}"
    return f"{at.year}-{at.month:02d}"


@router.get(
    "/v1/statistics/selections",
    response_model=Selections,
    responses=error_responses(_AUTH),
    summary="Cases and seizures per targeting profile and campaign that selected the goods (the risk service "
    "counts the profiles' hits)",
)
async def selections(session: Session, who: Officer) -> dict:
    stmt = _scoped(
        select(Case.state, CaseFacts.profile_ids, CaseFacts.campaign_ids).join(
            CaseFacts, CaseFacts.case_id == Case.case_id
        ),
        who,
    )
    out: dict[str, dict[str, dict[str, int]]] = {"profiles": {}, "campaigns": {}}
    for state, profiles, campaigns in (await session.execute(stmt.limit(200_000))).all():
        for kind, ids in (("profiles", _selector_ids(profiles)), ("campaigns", _selector_ids(campaigns))):
            for pid in ids:
                e = out[kind].setdefault(pid, {"cases": 0, "seized": 0, "released": 0, "open": 0})
                e["cases"] += 1
                if state in SEIZED_STATES:
                    e["seized"] += 1
                elif state == "released":
                    e["released"] += 1
                elif state not in TERMINAL_STATES:
                    e["open"] += 1
    return {kind: [{"id": k, **v} for k, v in sorted(d.items())] for kind, d in out.items()}
