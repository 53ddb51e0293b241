"""Use cases of the holds service: place a hold, move its lines through their lawful states.

A hold covers every line of its case, each line with its own status: customs may release line 4
and confiscate lines 1-3, or add a line a revision of the declaration brought into the case. An
action names its lines, or none for every line it can apply to. The hold's own status is that of
the lines still under customs control (suspended, detained, seized), or, once none is, the last
action's. Each change is published on ``customs.holds.v1`` with the lines it is about and the
status of every line, so the clearance system knows which lines to release or keep.
"""

from __future__ import annotations

from datetime import UTC, datetime

from prometheus_client import Counter
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.holds.models import Hold, HoldEvent, outbox
from shared.contracts.cases import HoldActionRequest, PlaceHoldRequest
from shared.contracts.events import TOPIC_HOLDS, EventEnvelope, HoldEventV1, HoldLineV1, deterministic_event_id
from shared.errors import Conflict, NotFound, Refused
from shared.kafka import add_to_outbox

HOLD_TRANSITIONS = Counter("ipr_holds_transitions_total", "Hold status changes", ["status"])

# action -> (allowed current statuses of a line, new status)
ACTIONS: dict[str, tuple[frozenset[str], str]] = {
    "suspend": (frozenset(), "suspended"),  # a line joins the hold (a revision added it to the case)
    "detain": (frozenset({"suspended"}), "detained"),
    "release": (frozenset({"suspended", "detained", "seized"}), "released"),
    "confiscate": (frozenset({"detained"}), "confiscated"),
    "hand_to_court": (frozenset({"detained"}), "handed_to_court"),
    "destroy": (frozenset({"detained"}), "destroyed"),
    "seize": (frozenset({"detained"}), "seized"),
    "forfeit": (frozenset({"detained", "seized"}), "forfeited"),
    "exclude": (frozenset({"detained"}), "excluded"),
}
UNDER_CONTROL = ("suspended", "detained", "seized")  # in order: the hold shows the furthest


def hold_id_for(case_id: str) -> str:
    return f"HOLD-{case_id}"


def lines_of(hold: Hold) -> dict[int, str]:
    """Every line of the hold and its status (a hold from before consignment cases has its one line)."""
    if hold.lines:
        return {int(n): status for n, status in hold.lines.items()}
    return {hold.line_no: hold.status}


def hold_view(hold: Hold) -> dict:
    lines = lines_of(hold) if hold.status != "new" else {}
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
        "line_nos": sorted(lines),
        "lines": [{"line_no": n, "status": st} for n, st in sorted(lines.items())],
    }


def _overall(lines: dict[int, str], last: str) -> str:
    held = [s for s in lines.values() if s in UNDER_CONTROL]
    return max(held, key=UNDER_CONTROL.index) if held else last


async def _record(
    session: AsyncSession,
    hold: Hold,
    *,
    status: str,
    reason: str,
    actor: str,
    line_nos: list[int],
    lines: dict[int, str],
) -> None:
    now = datetime.now(UTC)
    hold.lines = {str(n): s for n, s in sorted(lines.items())}
    hold.status = _overall(lines, status)
    hold.updated_at = now
    session.add(HoldEvent(hold_id=hold.hold_id, status=status, reason=reason, actor=actor, at=now, line_nos=line_nos))
    payload = HoldEventV1(
        hold_id=hold.hold_id,
        case_id=hold.case_id,
        declaration_id=hold.declaration_id,
        line_no=line_nos[0],
        customs_office=hold.customs_office,
        status=status,
        reason=reason,
        at=now,
        line_nos=line_nos,
        lines=[HoldLineV1(line_no=n, status=s) for n, s in sorted(lines.items())],  # type: ignore[arg-type]
    )
    # A hold of one line keeps the event ids it always had; on a hold of several lines the same status
    # can reach different lines at different times, so the lines are part of the fact.
    parts = (
        ("hold", hold.hold_id, status)
        if len(lines) == 1
        else ("hold", hold.hold_id, status, "L" + ",".join(map(str, line_nos)))
    )
    envelope = EventEnvelope(
        event_id=deterministic_event_id(*parts),
        event_type=f"hold.{'placed' if status == 'suspended' else status}",
        producer="holds",
        correlation_id=hold.case_id,
        payload=payload.model_dump(mode="json"),
    )
    await add_to_outbox(session, outbox, topic=TOPIC_HOLDS, key=hold.declaration_id, envelope=envelope)
    HOLD_TRANSITIONS.labels(status).inc()


async def place_hold(session: AsyncSession, *, request: PlaceHoldRequest, actor: str) -> tuple[int, dict]:
    """Suspend release of the declaration lines of a case (one hold per case)."""
    existing = await session.get(Hold, hold_id_for(request.case_id))
    if existing is not None:
        return 200, hold_view(existing)
    line_nos = sorted(set(request.line_nos or [request.line_no]))
    hold = Hold(
        hold_id=hold_id_for(request.case_id),
        case_id=request.case_id,
        declaration_id=request.declaration_id,
        line_no=line_nos[0],
        customs_office=request.customs_office,
        status="new",
        reason=request.reason,
    )
    session.add(hold)
    await session.flush()
    await _record(
        session,
        hold,
        status="suspended",
        reason=request.reason,
        actor=actor,
        line_nos=line_nos,
        lines={n: "suspended" for n in line_nos},
    )
    await session.flush()
    return 201, hold_view(hold)


def _conflict(message: str) -> Conflict:
    return Conflict("invalid_transition", message)


async def act(session: AsyncSession, *, hold_id: str, request: HoldActionRequest, actor: str) -> tuple[int, dict]:
    """Apply a lawful state change to the lines named (or every line it applies to); repeating the change
    already made is a no-op."""
    hold = (await session.execute(select(Hold).where(Hold.hold_id == hold_id).with_for_update())).scalar_one_or_none()
    if hold is None:
        raise NotFound("hold_not_found", f"no hold {hold_id}")
    allowed, target = ACTIONS[request.action]
    lines = lines_of(hold)
    asked = sorted(set(request.line_nos)) if request.line_nos is not None else None
    if request.action == "suspend":
        if not asked:
            raise Refused("lines_required", "name the lines that join the hold")
        # A line joins the hold, or joins it again after it was released (a later revision suspects it again).
        taken = [n for n in asked if n in lines and lines[n] not in ("suspended", "released")]
        if taken:
            raise _conflict(f"lines {taken} are already under this hold ({', '.join(lines[n] for n in taken)})")
        targets = [n for n in asked if lines.get(n) != "suspended"]
    elif asked is None:
        targets = [n for n, st in lines.items() if st in allowed]
        if not targets:
            if target in lines.values():
                return 200, hold_view(hold)  # the same change again
            raise _conflict(f"cannot {request.action} a hold that is {hold.status}")
    else:
        unknown = [n for n in asked if n not in lines]
        if unknown:
            raise NotFound("line_not_held", f"hold {hold_id} has no lines {unknown}")
        targets = [n for n in asked if lines[n] != target]
        refused = [n for n in targets if lines[n] not in allowed]
        if refused:
            raise _conflict(
                f"cannot {request.action} lines {refused}: they are {', '.join(sorted({lines[n] for n in refused}))}"
            )
    if not targets:
        return 200, hold_view(hold)
    lines.update({n: target for n in targets})
    await _record(
        session, hold, status=target, reason=request.reason, actor=actor, line_nos=sorted(targets), lines=lines
    )
    await session.flush()
    return 200, hold_view(hold)


async def history(session: AsyncSession, *, hold_id: str) -> list[dict]:
    rows = (
        await session.execute(select(HoldEvent).where(HoldEvent.hold_id == hold_id).order_by(HoldEvent.id))
    ).scalars()
    return [
        {"status": r.status, "reason": r.reason, "actor": r.actor, "at": r.at.isoformat(), "line_nos": r.line_nos}
        for r in rows
    ]
