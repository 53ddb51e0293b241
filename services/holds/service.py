"""Use cases of the holds service: place a hold, move it through its lawful states."""

from __future__ import annotations

from datetime import datetime, timezone

from fastapi import HTTPException
from prometheus_client import Counter
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.holds.models import Hold, HoldEvent, outbox
from shared.contracts.cases import HoldActionRequest, PlaceHoldRequest
from shared.contracts.events import TOPIC_HOLDS, EventEnvelope, HoldEventV1, deterministic_event_id
from shared.kafka import add_to_outbox

HOLD_TRANSITIONS = Counter("ipr_holds_transitions_total", "Hold status changes", ["status"])

# action -> (allowed current statuses, new status)
ACTIONS: dict[str, tuple[frozenset[str], str]] = {
    "detain": (frozenset({"suspended"}), "detained"),
    "release": (frozenset({"suspended", "detained"}), "released"),
    "confiscate": (frozenset({"detained"}), "confiscated"),
    "hand_to_court": (frozenset({"detained"}), "handed_to_court"),
    "destroy": (frozenset({"detained"}), "destroyed"),
    "forfeit": (frozenset({"detained"}), "forfeited"),
}


def hold_id_for(case_id: str) -> str:
    return f"HOLD-{case_id}"


def hold_view(hold: Hold) -> dict:
    return {
        "hold_id": hold.hold_id,
        "case_id": hold.case_id,
        "declaration_id": hold.declaration_id,
        "line_no": hold.line_no,
        "customs_office": hold.customs_office,
        "status": hold.status,
        "reason": hold.reason,
        "created_at": hold.created_at.isoformat() if hold.created_at else None,
        "updated_at": hold.updated_at.isoformat() if hold.updated_at else None,
    }


async def _record(session: AsyncSession, hold: Hold, *, status: str, reason: str, actor: str) -> None:
    now = datetime.now(timezone.utc)
    hold.status = status
    hold.updated_at = now
    session.add(HoldEvent(hold_id=hold.hold_id, status=status, reason=reason, actor=actor, at=now))
    payload = HoldEventV1(
        hold_id=hold.hold_id, case_id=hold.case_id, declaration_id=hold.declaration_id, line_no=hold.line_no,
        customs_office=hold.customs_office, status=status, reason=reason, at=now,
    )
    envelope = EventEnvelope(
        event_id=deterministic_event_id("hold", hold.hold_id, status),
        event_type=f"hold.{'placed' if status == 'suspended' else status}",
        producer="holds",
        correlation_id=hold.case_id,
        payload=payload.model_dump(mode="json"),
    )
    await add_to_outbox(session, outbox, topic=TOPIC_HOLDS, key=hold.declaration_id, envelope=envelope)
    HOLD_TRANSITIONS.labels(status).inc()


async def place_hold(session: AsyncSession, *, request: PlaceHoldRequest, actor: str) -> tuple[int, dict]:
    """Suspend release of one declaration line for a case (one hold per case)."""
    existing = await session.get(Hold, hold_id_for(request.case_id))
    if existing is not None:
        return 200, hold_view(existing)
    hold = Hold(
        hold_id=hold_id_for(request.case_id), case_id=request.case_id, declaration_id=request.declaration_id,
        line_no=request.line_no, customs_office=request.customs_office, status="new", reason=request.reason,
    )
    session.add(hold)
    await session.flush()
    await _record(session, hold, status="suspended", reason=request.reason, actor=actor)
    await session.flush()
    return 201, hold_view(hold)


async def act(session: AsyncSession, *, hold_id: str, request: HoldActionRequest, actor: str) -> tuple[int, dict]:
    """Apply a lawful state change; repeating the change already made is a no-op."""
    hold = (await session.execute(select(Hold).where(Hold.hold_id == hold_id).with_for_update())).scalar_one_or_none()
    if hold is None:
        raise HTTPException(404, detail={"code": "hold_not_found", "message": f"no hold {hold_id}"})
    allowed, target = ACTIONS[request.action]
    if hold.status == target:
        return 200, hold_view(hold)
    if hold.status not in allowed:
        raise HTTPException(409, detail={
            "code": "invalid_transition",
            "message": f"cannot {request.action} a hold that is {hold.status}",
        })
    await _record(session, hold, status=target, reason=request.reason, actor=actor)
    await session.flush()
    return 200, hold_view(hold)


async def history(session: AsyncSession, *, hold_id: str) -> list[dict]:
    rows = (await session.execute(
        select(HoldEvent).where(HoldEvent.hold_id == hold_id).order_by(HoldEvent.id)
    )).scalars()
    return [{"status": r.status, "reason": r.reason, "actor": r.actor, "at": r.at.isoformat()} for r in rows]
