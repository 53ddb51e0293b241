"""Deadlines counted on a provisional calendar: the officers' list and the Prometheus gauge behind its alert.

A case deadline that counts days after the last day an official schedule covers (e.g. a CN deadline in
a year whose State Council schedule is not published yet) is computed on the provisional calendar and
flagged. The case worker keeps ``provisional_deadlines`` in step with the case histories; this module
counts the pending ones for ``ipr_case_deadlines_provisional`` (alert ``IprProvisionalDeadlines``) and
lists them. Publishing the official schedule (``python -m services.cases.calendars publish <calendar>``)
re-times them in every running case.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from prometheus_client import Gauge
from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.cases.models import Case, ProvisionalDeadline
from shared.auth import Principal, require
from shared.contracts.case_views import ProvisionalDeadlineView
from shared.contracts.errors import AUTH_ERRORS, INPUT_ERRORS, error_responses
from shared.runtime import session_dep

PROVISIONAL = Gauge(
    "ipr_case_deadlines_provisional",
    "Pending case deadlines counted over days no official working-day calendar covers yet",
    ["jurisdiction"],
)
JURISDICTIONS = ("CN", "EU", "US")

router = APIRouter(prefix="/v1/deadlines", tags=["deadlines"])
Session = Annotated[AsyncSession, Depends(session_dep)]
Officer = Annotated[Principal, Depends(require("officer"))]


def _pending() -> Select[ProvisionalDeadline, str]:
    return (
        select(ProvisionalDeadline, Case.jurisdiction)
        .join(Case, Case.case_id == ProvisionalDeadline.case_id, isouter=True)
        .where(ProvisionalDeadline.resolved_at.is_(None))
    )


async def refresh_metrics(sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    async with sessionmaker() as session:
        rows = (
            await session.execute(
                select(Case.jurisdiction, func.count())
                .select_from(ProvisionalDeadline)
                .join(Case, Case.case_id == ProvisionalDeadline.case_id, isouter=True)
                .where(ProvisionalDeadline.resolved_at.is_(None))
                .group_by(Case.jurisdiction)
            )
        ).all()
    counts = {j or "unknown": n for j, n in rows}
    for j in sorted({*JURISDICTIONS, *counts}):
        PROVISIONAL.labels(j).set(counts.get(j, 0))


@router.get(
    "/provisional",
    response_model=list[ProvisionalDeadlineView],
    responses=error_responses(AUTH_ERRORS, INPUT_ERRORS),
    summary="Pending case deadlines counted on a provisional calendar",
)
async def provisional(session: Session, _: Officer) -> list[dict]:
    rows = (await session.execute(_pending().order_by(ProvisionalDeadline.due_at).limit(1000))).all()
    return [
        {
            "case_id": d.case_id,
            "jurisdiction": j,
            "deadline": d.deadline,
            "due_at": d.due_at.isoformat(),
            "calendar_version": d.calendar_version,
            "flagged_at": d.flagged_at.isoformat(),
        }
        for d, j in rows
    ]
