"""HTTP routes of the intake service."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.intake import edge, service
from shared.auth import Principal, require
from shared.contracts.bounds import DeclarationId, Revision
from shared.contracts.declaration import DeclarationV1
from shared.runtime import session_dep

router = APIRouter(prefix="/v1/declarations", tags=["declarations"])
Session = Annotated[AsyncSession, Depends(session_dep)]


@router.post(
    "", status_code=202,
    summary="Accept a declaration (idempotent per declaration id and revision)",
    responses={409: {"description": "same id and revision already received with different content"},
               422: {"description": "contract violation"}, 400: {"description": "malformed JSON"},
               413: {"description": "body too large"}},
)
async def submit(body: DeclarationV1, session: Session, request: Request,
                 _: Annotated[Principal, Depends(require("clearance_system"))]) -> JSONResponse:
    refused = edge.refusals(body, now=edge.clock.now(), loc=("body",))
    if refused:
        raise HTTPException(422, detail={"code": "schema_violation", "message": "request does not match the contract",
                                         "details": refused})
    for attempt in (1, 2):
        try:
            async with session.begin():
                created, row = await service.accept(session, declaration=body, source="http")
                answer = service.accepted_answer(row)
            break
        except service.RevisionConflict as exc:
            raise HTTPException(409, detail={"code": "revision_conflict", "message": str(exc)}) from exc
        except IntegrityError:
            if attempt == 2:
                raise
            # A concurrent identical request won the insert; the retry sees its row.
    if created:
        request.app.state.runtime.kick()
    return JSONResponse(answer, status_code=202)


@router.get("/{declaration_id}", summary="Status, per-line assessment and case ids of a declaration")
async def get_declaration(
    declaration_id: DeclarationId, session: Session,
    _: Annotated[Principal, Depends(require("clearance_system", "officer", "system"))],
    revision: Annotated[Revision | None, Query()] = None,
) -> dict:
    return await service.view(session, declaration_id=declaration_id, revision=revision)
