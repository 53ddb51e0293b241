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
from shared.contracts.errors import BODY
from shared.contracts.errors import error_responses as errors
from shared.contracts.intake_views import (
    DeclarationAccepted,
    DeclarationView,
    ManifestAccepted,
    ManifestView,
    ParcelDetail,
)
from shared.runtime import RuntimeDep, session_dep

router = APIRouter(prefix="/v1/declarations", tags=["declarations"])
Session = Annotated[AsyncSession, Depends(session_dep)]


@router.post(
    "",
    status_code=202,
    response_model=DeclarationAccepted,
    summary="Accept a declaration (idempotent per declaration id and revision)",
    responses={
        202: {"description": "stored, or the same declaration again: the same answer"},
        **errors(*BODY, (409, "same id and revision already received with different content (`revision_conflict`)")),
    },
)
async def submit(
    runtime: RuntimeDep,
    body: DeclarationV1,
    session: Session,
    request: Request,
    _: Annotated[Principal, Depends(require("clearance_system"))],
) -> JSONResponse:
    refused = edge.refusals(body, now=edge.clock.now(), loc=("body",))
    if refused:
        raise HTTPException(
            422,
            detail={"code": "schema_violation", "message": "request does not match the contract", "details": refused},
        )
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
        runtime.kick()
    return JSONResponse(answer, status_code=202)


@router.get(
    "/{declaration_id}",
    response_model=DeclarationView,
    response_model_exclude_unset=True,
    responses=errors((404, "no such declaration, or no such revision of it")),
    summary="Status, per-line assessment and case ids of a declaration",
    description="An officer reads the declarations of its own customs offices (403 `outside_office` otherwise); "
    "supervisors, the platform and clearance systems read every declaration.",
)
async def get_declaration(
    declaration_id: DeclarationId,
    session: Session,
    who: Annotated[Principal, Depends(require("clearance_system", "officer", "system"))],
    revision: Annotated[Revision | None, Query()] = None,
) -> dict:
    view = await service.view(session, declaration_id=declaration_id, revision=revision)
    require_office(who, view["declaration"].get("customs_office"), f"declaration {declaration_id}")
    return view


# ---------------------------------------------------------------- parcel manifests

manifests_router = APIRouter(prefix="/v1/manifests", tags=["manifests"])


@manifests_router.post(
    "",
    status_code=202,
    response_model=ManifestAccepted,
    summary="Accept a parcel manifest (read as a stream; idempotent per manifest id and revision)",
    description="Header fields first, then `parcels` (at most 10,000). Each parcel is checked on its own: a parcel "
    "that breaks the contract is rejected with its reason (listed in the answer and published on "
    "customs.parcel-results.v1) and the others are accepted and assessed. The same manifest again answers the same.",
    responses={
        202: {"description": "accepted: counts and the rejected parcels with their reasons"},
        **errors(
            *BODY,
            (409, "same id and revision already received with different content, or received on the topic"),
            (413, "more than 10,000 parcels, or a body above the size limit"),
            (422, "the header breaks the contract, or parcel_count does not match"),
        ),
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ManifestV1"}}},
        }
    },
)
async def submit_manifest(
    runtime: RuntimeDep,
    session: Session,
    request: Request,
    _: Annotated[Principal, Depends(require("clearance_system"))],
) -> JSONResponse:
    status, answer = await manifests.accept_http(session, request.stream())  # ManifestRefused: its status
    runtime.kick()
    return JSONResponse(answer, status_code=status)


@manifests_router.get(
    "/{manifest_id}",
    response_model=ManifestView,
    response_model_exclude_unset=True,
    responses=errors((404, "no such manifest, or no such revision of it")),
    summary="A manifest: counts and its parcels' results, a page at a time",
)
async def get_manifest(
    manifest_id: ManifestId,
    session: Session,
    who: Annotated[Principal, Depends(require("clearance_system", "officer", "system"))],
    revision: Annotated[int | None, Query(ge=1, le=999)] = None,
    status: Annotated[Literal["accepted", "assessed", "rejected"] | None, Query()] = None,
    lane: Annotated[Literal["green", "yellow", "red"] | None, Query()] = None,
    suspected: bool | None = None,
    after: Annotated[int, Query(ge=0, le=10_000, description="Parcels after this parcel_no")] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> dict:
    view = await manifests.view(
        session,
        manifest_id=manifest_id,
        revision=revision,
        status=status,
        lane=lane,
        suspected=suspected,
        after=after,
        limit=limit,
    )
    require_office(who, (view["header"] or {}).get("customs_office"), f"manifest {manifest_id}")
    return view


@manifests_router.get(
    "/{manifest_id}/parcels/{parcel_no}",
    response_model=ParcelDetail,
    response_model_exclude_unset=True,
    responses=errors(404),
    summary="One parcel: as declared, rejected or assessed (lines, reasons, cases)",
)
async def get_parcel(
    manifest_id: ManifestId,
    parcel_no: Annotated[int, Path(ge=1, le=10_000)],
    session: Session,
    who: Annotated[Principal, Depends(require("clearance_system", "officer", "system"))],
    revision: Annotated[int | None, Query(ge=1, le=999)] = None,
) -> dict:
    view = await manifests.parcel_view(session, manifest_id=manifest_id, parcel_no=parcel_no, revision=revision)
    require_office(who, view.get("customs_office"), f"manifest {manifest_id}")
    return view
