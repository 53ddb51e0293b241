"""HTTP routes of the risk service: the recordation registry and side-effect-free assessment."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import JSONResponse
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.risk import service
from services.risk.models import Recordation, RecordationEvent
from shared.auth import Principal, require
from shared.contracts.declaration import DeclarationV1
from shared.contracts.recordation import RecordationV1
from shared.runtime import session_dep

router = APIRouter(tags=["recordations", "assessment"])
Session = Annotated[AsyncSession, Depends(session_dep)]
Officer = Annotated[Principal, Depends(require("officer"))]
Reader = Annotated[Principal, Depends(require("officer", "system"))]


@router.post("/v1/recordations", status_code=201, summary="Record a right (idempotent per recordation id)")
async def create(body: RecordationV1, session: Session, request: Request, who: Officer) -> JSONResponse:
    async with session.begin():
        status, payload = await service.create_recordation(session, rec=body, actor=who.name)
    await request.app.state.registry.reload()
    return JSONResponse(payload, status_code=status)


@router.get("/v1/recordations/{recordation_id}", summary="A recordation with its version history")
async def get_one(recordation_id: str, session: Session, _: Reader) -> dict:
    row = await session.get(Recordation, recordation_id)
    if row is None:
        raise HTTPException(404, detail={"code": "recordation_not_found", "message": f"no recordation {recordation_id}"})
    events = (await session.execute(select(RecordationEvent).where(
        RecordationEvent.recordation_id == recordation_id).order_by(RecordationEvent.id))).scalars()
    return {**service.recordation_view(row),
            "history": [{"version": e.version, "event": e.event, "actor": e.actor, "at": e.at.isoformat()}
                        for e in events]}


@router.get("/v1/recordations", summary="Recordations, optionally of one jurisdiction or holder")
async def list_all(session: Session, _: Officer, jurisdiction: str | None = None, holder_id: str | None = None,
                   limit: Annotated[int, Query(ge=1, le=1000)] = 200) -> list[dict]:
    stmt = select(Recordation).order_by(Recordation.recordation_id).limit(limit)
    if jurisdiction:
        stmt = stmt.where(Recordation.jurisdiction == jurisdiction)
    if holder_id:
        stmt = stmt.where(Recordation.holder_id == holder_id)
    return [service.recordation_view(r) for r in (await session.execute(stmt)).scalars()]


@router.post("/v1/assess", summary="Score a declaration now, without storing it or opening cases")
async def assess(body: DeclarationV1, request: Request, _: Officer) -> dict:
    pipeline = request.app.state.pipeline
    assessed, _cases = service.assess(body, request.app.state.registry.index, pipeline.scoring,
                                      request.app.state.settings.fx_rates_to_cny)
    return {"declaration_id": assessed.declaration_id, "revision": assessed.revision,
            "lines": [line.model_dump(mode="json", exclude={"case_id"}) for line in assessed.lines]}
