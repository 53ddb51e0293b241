"""The case as the cases database keeps it: state, deadlines and history, whether or not its workflow exists.

Temporal keeps a closed workflow only for the namespace's retention (90 days); a case file is
evidence for years. Every flush of a case's history writes its new entries and the case as the
workflow sees it (``snapshot``) here, so a case is served from this database: in full once it
has closed (or its workflow has gone), and from the workflow's query only while it runs.
Cases of v1 carry no snapshot: their deadlines are read back from the history.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.cases.models import Case, CaseEvent, Intervention
from shared.contracts.cases import TERMINAL_STATES, CaseState


def deadlines_from_history(history: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Deadlines as the history records them (``deadline_set``, ``_met``, ``_lapsed``, ``_cancelled``,
    ``_escalated``)."""
    deadlines: dict[str, dict[str, Any]] = {}
    for h in history:
        d, name = h["detail"], h["detail"].get("name")
        if h["event"] == "deadline_set" and name:
            unit = "working_days" if "working_days" in d else ("days" if "days" in d else "working_days")
            deadlines[name] = {
                "name": name,
                "working_days": d.get(unit, 0),
                "start": None,
                "due_date": d.get("due_date"),
                "due_at": d.get("due_at"),
                "status": "pending",
                "unit": unit,
                "basis": None,
                "escalate_at": d.get("escalate_at"),
                "escalated": False,
            }
        elif h["event"] in ("deadline_met", "deadline_lapsed", "deadline_cancelled") and name in deadlines:
            deadlines[name]["status"] = h["event"].removeprefix("deadline_")
        elif h["event"] == "deadline_escalated" and name in deadlines:
            deadlines[name]["escalated"] = True
    return list(deadlines.values())


async def history_of(session: AsyncSession, case_id: str) -> list[dict[str, Any]]:
    rows = await session.execute(select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(CaseEvent.seq))
    return [
        {"seq": e.seq, "at": e.at.isoformat(), "state": e.state, "event": e.event, "detail": e.detail}
        for e in rows.scalars()
    ]


async def interventions_of(session: AsyncSession, case_id: str) -> list[dict[str, Any]]:
    rows = await session.execute(select(Intervention).where(Intervention.case_id == case_id).order_by(Intervention.id))
    return [{"at": i.at.isoformat(), "event": i.event, "by": i.by, "detail": i.detail} for i in rows.scalars()]


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


async def stored_view(session: AsyncSession, row: Case) -> dict[str, Any]:
    """The case from the database alone: what the workflow last recorded, with the whole history."""
    history = await history_of(session, row.case_id)
    base: dict[str, Any] = dict(row.snapshot or {})
    if not base:  # a v1 case (no snapshot): the columns and the history say it all
        base = {
            "case_id": row.case_id,
            "jurisdiction": row.jurisdiction,
            "holder_id": row.holder_id,
            "declaration_id": row.declaration_id,
            "line_no": row.line_no,
            "goods_value": str(row.goods_value),
            "currency": row.currency,
            "deadlines": deadlines_from_history(history),
        }
    base.update(
        {
            "state": row.state,
            "workflow_state": (row.snapshot or {}).get("state", row.state),
            "history": history,
            "failure": row.failure,
            "source": "database",
            "interventions": await interventions_of(session, row.case_id),
            "opened_at": _iso(row.opened_at),
            "closed_at": _iso(row.closed_at),
            "updated_at": _iso(row.updated_at),
        }
    )
    return base


async def live_view(session: AsyncSession, row: Case | None, state: CaseState) -> dict[str, Any]:
    """The case from its running workflow (its history includes entries not yet written here)."""
    body = state.model_dump(mode="json")
    body.update(
        {
            "workflow_state": state.state,
            "failure": None,
            "source": "workflow",
            "interventions": await interventions_of(session, state.case_id) if row is not None else [],
            "opened_at": _iso(row.opened_at) if row else None,
            "closed_at": None,
            "updated_at": _iso(row.updated_at) if row else None,
        }
    )
    return body


def is_open(row: Case) -> bool:
    return row.state not in TERMINAL_STATES and row.state != "failed"
