"""HTTP routes of the holds service (thin: parse, authorise, call the use case)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import JSONResponse
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.holds import service
from services.holds.models import Hold, idempotency
from shared.auth import Principal, require, require_office
from shared.contracts.bounds import CaseId, DeclarationId, HoldId
from shared.contracts.cases import HoldActionRequest, PlaceHoldRequest
from shared.contracts.holds import HoldView, HoldWithHistory
from shared.idempotency import run_once
from shared.runtime import RuntimeDep, session_dep
from shared.web import replayed

router = APIRouter(prefix="/v1/holds", tags=["holds"])
Session = Annotated[AsyncSession, Depends(session_dep)]
Writer = Annotated[Principal, Depends(require("system", "officer"))]
Reader = Annotated[Principal, Depends(require("system", "officer", "clearance_system"))]


@router.post(
    "",
    status_code=201,
    response_model=HoldView,
    responses=replayed(HoldView),
    summary="Suspend release of a declaration line (idempotent)",
)
async def place_hold(
    runtime: RuntimeDep, body: PlaceHoldRequest, session: Session, who: Writer, request: Request
) -> JSONResponse:
    require_office(who, body.customs_office, "the declaration")
    async with session.begin():
        status, payload = await run_once(
            session,
            idempotency,
            key=f"place:{body.idempotency_key}",
            payload=body.model_dump(mode="json"),
            work=lambda: service.place_hold(session, request=body, actor=who.actor),
        )
    runtime.kick()
    return JSONResponse(payload, status_code=status)


@router.post(
    "/{hold_id}/actions",
    response_model=HoldView,
    summary="Detain, release, confiscate or hand over to a court (idempotent)",
)
async def act(
    runtime: RuntimeDep, hold_id: HoldId, body: HoldActionRequest, session: Session, who: Writer, request: Request
) -> JSONResponse:
    if body.hold_id != hold_id:
        raise HTTPException(422, detail={"code": "hold_id_mismatch", "message": "hold_id in path and body differ"})
    async with session.begin():
        hold = await session.get(Hold, hold_id)
        if hold is not None:
            require_office(who, hold.customs_office, "the hold")
        status, payload = await run_once(
            session,
            idempotency,
            key=f"act:{body.idempotency_key}",
            payload=body.model_dump(mode="json"),
            work=lambda: service.act(session, hold_id=hold_id, request=body, actor=who.acting_for(body.on_behalf_of)),
        )
    runtime.kick()
    return JSONResponse(payload, status_code=status)


@router.get("/{hold_id}", response_model=HoldWithHistory, summary="A hold with its audit trail")
async def get_hold(hold_id: HoldId, session: Session, _: Reader) -> dict:
    hold = await session.get(Hold, hold_id)
    if hold is None:
        raise HTTPException(404, detail={"code": "hold_not_found", "message": f"no hold {hold_id}"})
    return {**service.hold_view(hold), "history": await service.history(session, hold_id=hold_id)}


@router.get("", response_model=list[HoldView], summary="Holds of a declaration or case")
async def list_holds(
    session: Session,
    _: Reader,
    declaration_id: Annotated[DeclarationId | None, Query()] = None,
    case_id: Annotated[CaseId | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[dict]:
    stmt = select(Hold).order_by(Hold.created_at.desc()).limit(limit)
    if declaration_id:
        stmt = stmt.where(Hold.declaration_id == declaration_id)
    if case_id:
        stmt = stmt.where(Hold.case_id == case_id)
    return [service.hold_view(h) for h in (await session.execute(stmt)).scalars()]
