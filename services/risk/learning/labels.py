"""Labels: what assessed lines turned out to be.

* A case's terminal outcome on ``cases.events.v1`` labels its lines (a consignment case names each line and
  its status: a line released while the others were confiscated was found not to infringe): confiscated,
  destroyed or forfeited goods infringed (1); goods customs determined not to infringe did not (0); goods
  released because the holder did not reply, asked for no detention or posted no guarantee are labelled 0 with
  a lower weight (nobody showed they infringe, nobody showed they do not); goods handed to a court wait for the
  court (no label).
* An officer's examination of a control-sample line (``POST /v1/control-results``) labels it directly.
* A label is *unbiased* when its line was in the random control sample: only those measure a model (or the
  rules) without the bias of the targeting that chose the line for examination.

Redelivery-safe: one row per line and source; a case's event replaces the row only when its ``seq`` is later.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.risk.learning.tables import LineFeatures, LineLabel
from shared.contracts.events import CaseEventV1

INFRINGING = frozenset({"confiscated", "destroyed", "forfeited"})
NO_ACTION_WEIGHT = 0.3
CONTROL_RESULTS = {"no_infringement_found": 0, "infringement_found": 1}


@dataclass(frozen=True)
class Outcome:
    label: int | None
    weight: float
    outcome: str


def outcome_of(event: CaseEventV1) -> Outcome | None:
    """The label a case event gives its line, or None when the event is not a terminal outcome."""
    if event.state in INFRINGING:
        return Outcome(1, 1.0, event.state)
    if event.state == "released":
        reason = str(event.detail.get("reason", "")).casefold()
        if "do not infringe" in reason or "not infring" in reason:
            return Outcome(0, 1.0, "released_not_infringing")
        if "court" in reason:
            return Outcome(0, 1.0, "released_by_court")
        return Outcome(0, NO_ACTION_WEIGHT, "released_no_action")
    if event.state == "handed_to_court":
        return Outcome(None, 0.0, "handed_to_court")
    return None


def line_outcomes(event: CaseEventV1) -> list[tuple[str, int, Outcome]]:
    """Each line the terminal event of a case labels, with its outcome.

    A consignment case (``lines`` on the event) labels every line by its own status: a confiscated,
    destroyed or forfeited line infringed; a line released while the case ended otherwise was found not to
    infringe; a line released with the case takes the case's outcome; lines withdrawn from the case (moved
    to another holder's case, or out of the declaration) are labelled by the case they went to, not here.
    An event of a per-line case labels its one line."""
    case_outcome = outcome_of(event)
    if case_outcome is None:
        return []
    if event.lines and event.declaration_id:
        out = []
        for ln in event.lines:
            if ln.status in INFRINGING:
                outcome: Outcome | None = Outcome(1, 1.0, ln.status)
            elif ln.status == "released":
                outcome = case_outcome if event.state == "released" else Outcome(0, 1.0, "released_not_infringing")
            elif ln.status == "handed_to_court":
                outcome = Outcome(None, 0.0, "handed_to_court")
            else:
                outcome = None
            if outcome is not None:
                out.append((event.declaration_id, ln.line_no, outcome))
        return out
    where = line_of(event)
    return [(where[0], where[1], case_outcome)] if where is not None else []


def line_of(event: CaseEventV1) -> tuple[str, int] | None:
    if event.declaration_id and event.line_no:
        return event.declaration_id, event.line_no
    # IPR-<declaration>-L<line>
    head, sep, tail = event.case_id.rpartition("-L")
    if sep and head.startswith("IPR-") and tail.isdigit():
        return head[4:], int(tail)
    return None


async def _in_control_sample(session: AsyncSession, declaration_id: str, line_no: int) -> bool | None:
    f = LineFeatures
    rows = (
        (
            await session.execute(
                select(f.random_selection).where(f.declaration_id == declaration_id, f.line_no == line_no)
            )
        )
        .scalars()
        .all()
    )
    return any(rows) if rows else None


async def apply_case_event(session: AsyncSession, *, event_id: str, event: CaseEventV1) -> bool:
    """Label the case's lines from a terminal event; True when a label row was written or replaced."""
    written = False
    for did, line_no, outcome in line_outcomes(event):
        written = await _label_line(session, did, line_no, outcome, event_id=event_id, event=event) or written
    return written


async def _label_line(
    session: AsyncSession, did: str, line_no: int, outcome: Outcome, *, event_id: str, event: CaseEventV1
) -> bool:
    unbiased = bool(await _in_control_sample(session, did, line_no))
    stmt = insert(LineLabel).values(
        declaration_id=did,
        line_no=line_no,
        source="case",
        label=outcome.label,
        weight=outcome.weight,
        outcome=outcome.outcome,
        unbiased=unbiased,
        case_id=event.case_id,
        seq=event.seq,
        event_id=event_id,
        actor="case outcome",
        at=event.at,
    )
    upsert = stmt.on_conflict_do_update(
        index_elements=[LineLabel.declaration_id, LineLabel.line_no, LineLabel.source],
        set_={
            k: getattr(stmt.excluded, k)
            for k in ("label", "weight", "outcome", "unbiased", "case_id", "seq", "event_id", "at")
        },
        where=LineLabel.seq < stmt.excluded.seq,
    ).returning(LineLabel.declaration_id)
    return (await session.execute(upsert)).first() is not None


class ControlResultError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


async def control_line(session: AsyncSession, declaration_id: str, line_no: int) -> LineFeatures | None:
    f = LineFeatures
    return (
        (
            await session.execute(
                select(f)
                .where(f.declaration_id == declaration_id, f.line_no == line_no)
                .order_by(f.revision.desc())
                .limit(1)
            )
        )
        .scalars()
        .first()
    )


async def record_control_result(
    session: AsyncSession,
    *,
    declaration_id: str,
    line_no: int,
    result: str,
    actor: str,
    actor_sub: str,
    note: str | None,
    at: datetime,
) -> tuple[int, dict]:
    """An officer's finding on an examined control-sample line. The same finding again answers the stored one
    (200); a different finding for a line already recorded is refused (409), as is a line outside the sample."""
    row = await control_line(session, declaration_id, line_no)
    if row is None:
        raise ControlResultError(404, "line_not_assessed", f"line {line_no} of {declaration_id} was not assessed")
    if not row.random_selection:
        raise ControlResultError(
            409, "not_in_control_sample", f"line {line_no} of {declaration_id} was not drawn for the control sample"
        )
    existing = await session.get(LineLabel, (declaration_id, line_no, "control"))
    if existing is not None:
        if existing.outcome == result:
            return 200, label_view(existing)
        raise ControlResultError(
            409, "result_recorded", f"a control result ({existing.outcome}) is already recorded by {existing.actor}"
        )
    label = LineLabel(
        declaration_id=declaration_id,
        line_no=line_no,
        source="control",
        label=CONTROL_RESULTS[result],
        weight=1.0,
        outcome=result,
        unbiased=True,
        seq=0,
        actor=actor,
        actor_sub=actor_sub,
        note=note,
        at=at,
    )
    session.add(label)
    await session.flush()
    return 201, label_view(label)


def label_view(row: LineLabel) -> dict:
    return {
        "declaration_id": row.declaration_id,
        "line_no": row.line_no,
        "source": row.source,
        "label": row.label,
        "weight": row.weight,
        "outcome": row.outcome,
        "unbiased": row.unbiased,
        "case_id": row.case_id,
        "recorded_by": row.actor,
        "note": row.note,
        "at": row.at.isoformat() if row.at else None,
    }
