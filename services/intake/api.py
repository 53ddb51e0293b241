"""HTTP routes of the intake service."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.intake import edge, manifests, service
from shared.auth import Principal, require, require_office
from shared.contracts.bounds import DeclarationId, ManifestId, Revision
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


# ---------------------------------------------------------------- parcel manifests

manifests_router = APIRouter(prefix="/v1/manifests", tags=["manifests"])


@manifests_router.post(
    "", status_code=202,
    summary="Accept a parcel manifest (read as a stream; idempotent per manifest id and revision)",
    description="Header fields first, then `parcels` (at most 10,000). Each parcel is checked on its own: a parcel "
    "that breaks the contract is rejected with its reason (listed in the answer and published on "
    "customs.parcel-results.v1) and the others are accepted and assessed. The same manifest again answers the same.",
    responses={202: {"description": "accepted: counts and the rejected parcels with their reasons"},
               409: {"description": "same id and revision already received with different content"},
               413: {"description": "more than 10,000 parcels, or a body above the size limit"},
               422: {"description": "the header breaks the contract, or parcel_count does not match"},
               400: {"description": "malformed JSON"}},
    openapi_extra={"requestBody": {"required": True, "content": {"application/json": {
        "schema": {"$ref": "#/components/schemas/ManifestV1"}}}}},
)
async def submit_manifest(session: Session, request: Request,
                          _: Annotated[Principal, Depends(require("clearance_system"))]) -> JSONResponse:
    status, answer = await manifests.accept_http(session, request.stream())  # ManifestRefused: its status
    request.app.state.runtime.kick()
    return JSONResponse(answer, status_code=status)


@manifests_router.get("/{manifest_id}", summary="A manifest: counts and its parcels' results, a page at a time")
async def get_manifest(
    manifest_id: ManifestId, session: Session,
    who: Annotated[Principal, Depends(require("clearance_system", "officer", "system"))],
    revision: Annotated[int | None, Query(ge=1, le=999)] = None,
    status: Annotated[Literal["accepted", "assessed", "rejected"] | None, Query()] = None,
    lane: Annotated[Literal["green", "yellow", "red"] | None, Query()] = None,
    suspected: bool | None = None,
    after: Annotated[int, Query(ge=0, le=10_000, description="Parcels after this parcel_no")] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> dict:
    view = await manifests.view(session, manifest_id=manifest_id, revision=revision, status=status, lane=lane,
                                suspected=suspected, after=after, limit=limit)
    require_office(who, (view["header"] or {}).get("customs_office"), f"manifest {manifest_id}")
    return view


@manifests_router.get("/{manifest_id}/parcels/{parcel_no}",
                      summary="One parcel: as declared, rejected or assessed (lines, reasons, cases)")
async def get_parcel(
    manifest_id: ManifestId, parcel_no: Annotated[int, Path(ge=1, le=10_000)], session: Session,
    who: Annotated[Principal, Depends(require("clearance_system", "officer", "system"))],
    revision: Annotated[int | None, Query(ge=1, le=999)] = None,
) -> dict:
    view = await manifests.parcel_view(session, manifest_id=manifest_id, parcel_no=parcel_no, revision=revision)
    require_office(who, view.get("customs_office"), f"manifest {manifest_id}")
    return view
