"""Use cases of the recordation registry: create, change (approve, refuse, amend, renew, expire, revoke; four eyes),
lapse, history and versions."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.risk import lifecycle
from services.risk.lifecycle import today_in
from services.risk.matcher import describe_marks
from services.risk.models import (
    Recordation,
    RecordationEvent,
)
from shared.approvals import four_eyes
from shared.contracts.recordation import RecordationV1
from shared.errors import Conflict, DomainError, NotFound


def recordation_view(row: Recordation) -> dict:
    return {
        **row.payload,
        "marks": describe_marks(row.payload),
        "version": row.version,
        "created_at": row.created_at.isoformat() if row.created_at else None,
        "updated_at": row.updated_at.isoformat() if row.updated_at else None,
    }


async def create_recordation(
    session: AsyncSession, *, rec: RecordationV1, actor: str, actor_sub: str | None = None
) -> tuple[int, dict]:
    """Record a right; the same recordation again is a no-op, different content under its id a conflict.

    A new application is ``pending`` until approved; ``active`` is accepted for a right already approved
    elsewhere (migration of existing records, the demo data).
    """
    payload = rec.model_dump(mode="json")
    existing = await session.get(Recordation, rec.recordation_id)
    if existing is not None:
        # compared as contracts: a record stored before a field was added reads with that field's default
        if existing.payload == payload or RecordationV1.model_validate(existing.payload) == rec:
            return 200, recordation_view(existing)
        raise Conflict("recordation_exists", f"recordation {rec.recordation_id} already exists with other content")
    row = Recordation(
        recordation_id=rec.recordation_id,
        jurisdiction=rec.jurisdiction,
        status=rec.status,
        holder_id=rec.holder.id,
        valid_from=rec.valid_from,
        valid_until=rec.valid_until,
        version=1,
        payload=payload,
    )
    session.add(row)
    session.add(
        RecordationEvent(
            recordation_id=rec.recordation_id,
            version=1,
            event="created",
            payload=payload,
            actor=actor,
            actor_sub=actor_sub,
            changes=None,
        )
    )
    await session.flush()
    await session.refresh(row)
    return 201, recordation_view(row)


async def proposers_of(session: AsyncSession, recordation_id: str) -> list[str]:
    """Who shaped a pending application: its creator and whoever amended it since (legacy rows: the actor label)."""
    events = (
        await session.execute(
            select(RecordationEvent)
            .where(
                RecordationEvent.recordation_id == recordation_id, RecordationEvent.event.in_(("created", "amended"))
            )
            .order_by(RecordationEvent.id)
        )
    ).scalars()
    return [e.actor_sub or e.actor for e in events]


async def change_recordation(
    session: AsyncSession,
    *,
    recordation_id: str,
    command: str,
    actor: str,
    actor_sub: str | None = None,
    actor_role: str | None = None,
    reason: str | None = None,
    expected_version: int | None = None,
    changes: dict | None = None,
    lapsed_right: bool = False,
    today: date | None = None,
) -> dict:
    """Apply one lifecycle command as a new version, with its audit entry."""
    row = await session.get(Recordation, recordation_id, with_for_update=True)
    if row is None:
        raise NotFound("recordation_not_found", f"no recordation {recordation_id}")
    if expected_version is not None and expected_version != row.version:
        raise Conflict(
            "version_conflict", f"recordation {recordation_id} is at version {row.version}, not {expected_version}"
        )
    current = RecordationV1.model_validate(row.payload)
    if command == "approve" and current.status == "pending":
        proposers: list[str] | list[None] = await proposers_of(session, recordation_id) or [None]
        for proposer in proposers:
            decision = four_eyes(proposer_sub=proposer, approver_sub=actor_sub or "", approver_role=actor_role or "")
            if not decision.allowed:
                raise DomainError(decision.status, decision.code, decision.message)
    day = today or today_in(current.jurisdiction)
    try:
        if command == "approve":
            new = lifecycle.approve(current, day)
        elif command == "refuse":
            new = lifecycle.refuse(current)
        elif command == "amend":
            new = lifecycle.amend(current, changes or {})
        elif command == "renew":
            new = lifecycle.renew(current, day)
        elif command == "expire":
            new = lifecycle.expire(current, day, lapsed_right=lapsed_right)
        elif command == "revoke":
            new = lifecycle.revoke(current)
        else:  # pragma: no cover - routes only name the commands above
            raise ValueError(command)
    except lifecycle.LifecycleError as exc:
        raise DomainError(exc.status, exc.code, exc.message) from exc
    payload = new.model_dump(mode="json")
    changed = lifecycle.changed_fields(row.payload, payload)
    row.payload = payload
    row.status = new.status
    row.valid_from = new.valid_from
    row.valid_until = new.valid_until
    row.holder_id = new.holder.id
    row.version += 1
    row.updated_at = datetime.now(UTC)
    event = {
        "approve": "approved",
        "refuse": "refused",
        "amend": "amended",
        "renew": "renewed",
        "expire": "expired",
        "revoke": "revoked",
    }[command]
    session.add(
        RecordationEvent(
            recordation_id=recordation_id,
            version=row.version,
            event=event,
            payload=payload,
            actor=actor,
            actor_sub=actor_sub,
            reason=reason,
            changes=changed,
        )
    )
    await session.flush()
    return recordation_view(row)


async def expire_lapsed(sessionmaker: async_sessionmaker[AsyncSession]) -> int:
    """Mark active recordations whose last valid day has passed (in their jurisdiction) as expired."""
    n = 0
    async with sessionmaker() as session, session.begin():
        rows = (
            await session.execute(
                select(Recordation.recordation_id, Recordation.jurisdiction).where(
                    Recordation.status == "active",
                    # the server's day may lag the jurisdiction's by one
                    Recordation.valid_until <= date.today(),
                )
            )
        ).all()
        for rid, jur in rows:
            row = await session.get(Recordation, rid, with_for_update=True)
            if row is None or row.status != "active" or row.valid_until >= today_in(jur):
                continue
            await change_recordation(
                session,
                recordation_id=rid,
                command="expire",
                actor="IPR risk service (risk)",
                actor_sub="risk",
                reason="last valid day has passed",
            )
            n += 1
    return n


async def history_of(session: AsyncSession, recordation_id: str) -> list[dict]:
    events = (
        await session.execute(
            select(RecordationEvent)
            .where(RecordationEvent.recordation_id == recordation_id)
            .order_by(RecordationEvent.id)
        )
    ).scalars()
    return [
        {
            "version": e.version,
            "event": e.event,
            "actor": e.actor,
            "actor_sub": e.actor_sub,
            "at": e.at.isoformat(),
            "reason": e.reason,
            "changes": e.changes,
        }
        for e in events
    ]


async def version_of(session: AsyncSession, recordation_id: str, version: int) -> dict | None:
    e = (
        (
            await session.execute(
                select(RecordationEvent).where(
                    RecordationEvent.recordation_id == recordation_id, RecordationEvent.version == version
                )
            )
        )
        .scalars()
        .first()
    )
    return None if e is None else {**e.payload, "version": e.version}
