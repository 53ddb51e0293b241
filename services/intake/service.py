"""Use cases of the intake service: accept a declaration once, attach its risk assessment."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from prometheus_client import Counter, Gauge
from sqlalchemy import func, or_, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.intake.models import Declaration, DeclarationCase, DeclarationEvent, applied_events, outbox
from shared.contracts.declaration import DeclarationV1
from shared.contracts.events import TOPIC_DECLARATIONS, CaseEventV1, RiskAssessedV1, deterministic_event_id
from shared.db import apply_once
from shared.errors import NotFound
from shared.kafka import add_raw_to_outbox

DECLARATIONS = Counter("ipr_declarations_received_total", "Declarations accepted", ["source", "outcome"])
REPUBLISHED = Counter("ipr_intake_republished_total", "Declarations published again because they stayed unassessed")
UNASSESSED = Gauge(
    "ipr_intake_unassessed_declarations",
    "Declarations stored but not assessed after the reconciliation delay",
    ["republished_out"],
)


class RevisionConflict(Exception):
    """Same declaration id and revision, different content."""


def accepted_answer(d: Declaration) -> dict:
    return {
        "declaration_id": d.declaration_id,
        "revision": d.revision,
        "status": d.status,
        "received_at": d.received_at.isoformat() if d.received_at else None,
        "links": {"self": f"/v1/declarations/{d.declaration_id}?revision={d.revision}"},
    }


async def accept(session: AsyncSession, *, declaration: DeclarationV1, source: str) -> tuple[bool, Declaration]:
    """Store a declaration revision once. Returns (created, row); raises RevisionConflict on changed content."""
    digest = declaration.content_hash()
    existing = await session.get(Declaration, (declaration.declaration_id, declaration.revision), with_for_update=True)
    if existing is not None:
        if existing.content_hash != digest:
            DECLARATIONS.labels(source, "conflict").inc()
            raise RevisionConflict(
                f"declaration {declaration.declaration_id} revision {declaration.revision} was already "
                "received with different content; send a new revision"
            )
        DECLARATIONS.labels(source, "duplicate").inc()
        return False, existing
    payload = declaration.model_dump(mode="json")
    row = Declaration(
        declaration_id=declaration.declaration_id,
        revision=declaration.revision,
        content_hash=digest,
        payload=payload,
        jurisdiction=declaration.jurisdiction,
        source=source,
        status="received",
        received_at=datetime.now(UTC),
    )
    session.add(row)
    session.add(
        DeclarationEvent(
            declaration_id=row.declaration_id,
            revision=row.revision,
            event="received",
            detail={"source": source, "content_hash": digest},
        )
    )
    if source == "http":
        # Declarations that arrived by HTTP are published for the risk service; those that arrived
        # on the topic are already there.
        await add_raw_to_outbox(
            session,
            outbox,
            topic=TOPIC_DECLARATIONS,
            key=row.declaration_id,
            event_id=str(deterministic_event_id("declaration", row.declaration_id, row.revision)),
            value=payload,
        )
    await session.flush()
    DECLARATIONS.labels(source, "accepted").inc()
    return True, row


async def mark_applied(session: AsyncSession, *, event_id: str, topic: str) -> bool:
    """Record a consumed event id; False if it was applied before."""
    return await apply_once(session, applied_events, event_id=event_id, topic=topic)


async def attach_assessment(session: AsyncSession, *, assessed: RiskAssessedV1) -> None:
    """Attach the risk assessment of a revision to the stored declaration."""
    row = await session.get(Declaration, (assessed.declaration_id, assessed.revision), with_for_update=True)
    if row is None:
        # Assessed before intake saw it (both consume the same topic); the consumer retries later.
        raise LookupError(f"declaration {assessed.declaration_id} r{assessed.revision} not stored yet")
    row.status = "assessed"
    row.assessed_at = assessed.assessed_at
    row.assessment = assessed.model_dump(mode="json")
    session.add(
        DeclarationEvent(
            declaration_id=row.declaration_id,
            revision=row.revision,
            event="assessed",
            detail={"case_ids": assessed.case_ids, "lanes": {str(line.line_no): line.lane for line in assessed.lines}},
        )
    )


async def track_case(session: AsyncSession, *, event: CaseEventV1) -> None:
    """Keep each case's state per declaration line, and each line's status in it (the latest event wins)."""
    if not event.declaration_id or event.line_no is None:
        return
    lines: list[tuple[int, str | None, str | None]] = [(ln.line_no, ln.status, ln.moved_to) for ln in event.lines] or [
        (event.line_no, None, None)
    ]
    for line_no, status, moved_to in lines:
        stmt = insert(DeclarationCase).values(
            case_id=event.case_id,
            declaration_id=event.declaration_id,
            line_no=line_no,
            state=event.state,
            seq=event.seq,
            updated_at=event.at,
            line_status=status,
            moved_to=moved_to,
        )
        await session.execute(
            stmt.on_conflict_do_update(
                index_elements=[DeclarationCase.case_id, DeclarationCase.line_no],
                set_={
                    "state": event.state,
                    "seq": event.seq,
                    "updated_at": event.at,
                    "line_status": status,
                    "moved_to": moved_to,
                },
                where=DeclarationCase.seq < event.seq,
            )
        )


async def view(session: AsyncSession, *, declaration_id: str, revision: int | None) -> dict:
    stmt = select(Declaration).where(Declaration.declaration_id == declaration_id)
    rows = list((await session.execute(stmt.order_by(Declaration.revision))).scalars())
    if not rows:
        raise NotFound("declaration_not_found", f"no declaration {declaration_id}")
    chosen = rows[-1] if revision is None else next((r for r in rows if r.revision == revision), None)
    if chosen is None:
        raise NotFound("revision_not_found", f"declaration {declaration_id} has no revision {revision}")
    assessed = {line["line_no"]: line for line in (chosen.assessment or {}).get("lines", [])}
    case_rows = list(
        (
            await session.execute(
                select(DeclarationCase)
                .where(DeclarationCase.declaration_id == declaration_id)
                .order_by(DeclarationCase.updated_at)
            )
        ).scalars()
    )
    # A line is in the case that holds it now (a line that moved keeps a withdrawn row in the case it left).
    cases = {c.line_no: c for c in case_rows if c.line_status != "withdrawn"}
    cases.update({c.line_no: c for c in case_rows if c.line_no not in cases})
    lines = []
    for line in chosen.payload["lines"]:
        a = assessed.get(line["line_no"])
        lines.append(
            {
                "line_no": line["line_no"],
                "hs_code": line["hs_code"],
                "description": line["description"],
                "brand": line.get("brand"),
                "assessment": None
                if a is None
                else {k: a[k] for k in ("suspected", "score", "lane", "hits", "reasons")},
                "case_id": cases[line["line_no"]].case_id
                if line["line_no"] in cases
                else (a.get("case_id") if a else None),
                "case_state": cases[line["line_no"]].state if line["line_no"] in cases else None,
                "line_status": cases[line["line_no"]].line_status if line["line_no"] in cases else None,
            }
        )
    history = (
        await session.execute(
            select(DeclarationEvent)
            .where(DeclarationEvent.declaration_id == declaration_id)
            .order_by(DeclarationEvent.id)
        )
    ).scalars()
    return {
        "declaration_id": chosen.declaration_id,
        "revision": chosen.revision,
        "revisions": [r.revision for r in rows],
        "status": chosen.status,
        "jurisdiction": chosen.jurisdiction,
        "source": chosen.source,
        "received_at": chosen.received_at.isoformat(),
        "assessed_at": chosen.assessed_at.isoformat() if chosen.assessed_at else None,
        "lines": lines,
        "case_ids": sorted({*(chosen.assessment or {}).get("case_ids", []), *(c.case_id for c in case_rows)}),
        "history": [
            {"revision": h.revision, "event": h.event, "detail": h.detail, "at": h.at.isoformat()} for h in history
        ],
        "declaration": chosen.payload,
    }


async def republish_unassessed(
    session: AsyncSession, *, older_than: timedelta, max_republish: int, limit: int = 500
) -> int:
    """Publish again (through the outbox) the declarations stored but still not assessed after ``older_than``.

    Whatever lost them (a broker that lost data, a record dead-lettered by a consumer that has since
    been fixed), risk assesses each revision once: a revision it already assessed is not assessed
    again, only its stored assessment published again, and case ids are deterministic. Each
    republication gets an event id of its own and an entry in the declaration's history. A revision
    published ``max_republish`` times is left alone and counted in ``ipr_intake_unassessed_declarations``.
    """
    now = datetime.now(UTC)
    cutoff = now - older_than
    rows = list(
        (
            await session.execute(
                select(Declaration)
                .where(
                    Declaration.status == "received",
                    Declaration.received_at < cutoff,
                    Declaration.republished < max_republish,
                    or_(Declaration.republished_at.is_(None), Declaration.republished_at < cutoff),
                )
                .order_by(Declaration.received_at)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
        ).scalars()
    )
    for row in rows:
        row.republished += 1
        row.republished_at = now
        await add_raw_to_outbox(
            session,
            outbox,
            topic=TOPIC_DECLARATIONS,
            key=row.declaration_id,
            event_id=str(
                deterministic_event_id("declaration", row.declaration_id, row.revision, "republished", row.republished)
            ),
            value=row.payload,
        )
        session.add(
            DeclarationEvent(
                declaration_id=row.declaration_id,
                revision=row.revision,
                event="republished",
                detail={
                    "reason": f"not assessed {int(older_than.total_seconds())}s after it was received",
                    "time": row.republished,
                    "actor": "system:intake-reconciliation",
                },
            )
        )
    REPUBLISHED.inc(len(rows))
    waiting, given_up = (
        await session.execute(
            select(func.count(), func.count().filter(Declaration.republished >= max_republish)).where(
                Declaration.status == "received", Declaration.received_at < cutoff
            )
        )
    ).one()
    UNASSESSED.labels("false").set(waiting - given_up)
    UNASSESSED.labels("true").set(given_up)
    return len(rows)
