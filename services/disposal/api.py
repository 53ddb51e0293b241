"""HTTP routes of the disposal service."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException
from fastapi.responses import JSONResponse
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.disposal import service
from services.disposal.models import Disposition, idempotency
from shared.auth import Principal, require
from shared.contracts.bounds import CaseId, DispositionId
from shared.contracts.cases import DispositionRequest
from shared.contracts.dispositions import DispositionView
from shared.contracts.errors import BODY
from shared.contracts.errors import error_responses as errors
from shared.idempotency import run_once
from shared.runtime import session_dep

router = APIRouter(prefix="/v1/dispositions", tags=["dispositions"])
Session = Annotated[AsyncSession, Depends(session_dep)]


@router.post(
    "",
    status_code=201,
    response_model=DispositionView,
    responses={
        200: {"model": DispositionView, "description": "the case's disposition was recorded before: that one"},
        **errors(
            *BODY,
            (409, "the idempotency key was used with another request (`idempotency_conflict`)"),
            (
                422,
                "the request breaks the contract, or the fine or disposal method is outside "
                "the jurisdiction's rules (the code names it)",
            ),
        ),
    },
    summary="Record release or confiscation with fine and disposal (idempotent)",
)
async def record(
    body: DispositionRequest,
    session: Session,
    who: Annotated[Principal, Depends(require("system", "officer"))],
) -> JSONResponse:
    async with session.begin():
        status, payload = await run_once(
            session,
            idempotency,
            key=body.idempotency_key,
            payload=body.model_dump(mode="json"),
            work=lambda: service.record(session, request=body, actor=who.acting_for(body.decided_by)),
        )
    return JSONResponse(payload, status_code=status)


@router.get(
    "/{disposition_id}",
    response_model=DispositionView,
    response_model_exclude_unset=True,
    responses=errors(404),
    summary="One recorded disposition",
)
async def get_one(
    disposition_id: DispositionId,
    session: Session,
    _: Annotated[Principal, Depends(require("system", "officer"))],
) -> dict:
    d = await session.get(Disposition, disposition_id)
    if d is None:
        raise HTTPException(
            404, detail={"code": "disposition_not_found", "message": f"no disposition {disposition_id}"}
        )
    return service.view(d)


@router.get(
    "", response_model=list[DispositionView], response_model_exclude_unset=True, summary="Dispositions, newest first"
)
async def list_all(
    session: Session,
    _: Annotated[Principal, Depends(require("system", "officer"))],
    case_id: CaseId | None = None,
) -> list[dict]:
    stmt = select(Disposition).order_by(Disposition.decided_at.desc()).limit(200)
    if case_id:
        stmt = stmt.where(Disposition.case_id == case_id)
    return [service.view(d) for d in (await session.execute(stmt)).scalars()]
