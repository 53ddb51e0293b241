"""HTTP routes of the cases service: case status from the workflow, officers' instructions as signals."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio.client import Client, WorkflowHandle
from temporalio.service import RPCError, RPCStatusCode

from services.cases.models import Case
from shared.auth import Principal, require
from shared.contracts.cases import (
    QUERY_STATE,
    SIGNAL_COURT_NOTICE,
    SIGNAL_DETERMINATION,
    SIGNAL_GUARANTEE,
    CaseState,
    CourtNotice,
    Determination,
    GuaranteeInfo,
)
from shared.runtime import session_dep

router = APIRouter(prefix="/v1/cases", tags=["cases"])
Session = Annotated[AsyncSession, Depends(session_dep)]
Officer = Annotated[Principal, Depends(require("officer"))]
Reader = Annotated[Principal, Depends(require("officer", "rights_holder"))]


def _not_found(case_id: str) -> HTTPException:
    return HTTPException(404, detail={"code": "case_not_found", "message": f"no case {case_id}"})


async def _state(request: Request, case_id: str) -> tuple[WorkflowHandle, CaseState]:
    client: Client = await request.app.state.temporal.get()
    handle = client.get_workflow_handle(case_id)
    try:
        state = await handle.query(QUERY_STATE, result_type=CaseState)
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            raise _not_found(case_id) from exc
        raise
    return handle, state


def _visible(state: CaseState, who: Principal) -> None:
    if who.role == "rights_holder" and state.holder_id != who.holder_id:
        raise _not_found(state.case_id)  # never confirm that another holder's case exists


def _view(request: Request, state: CaseState) -> dict:
    body = state.model_dump(mode="json")
    ui = request.app.state.settings.temporal_ui_url
    body["links"] = {
        "self": f"/v1/cases/{state.case_id}",
        "temporal_ui": f"{ui}/namespaces/{request.app.state.settings.temporal_namespace}/workflows/{state.case_id}"
        if ui else None,
    }
    return body


@router.get("", summary="Cases, newest first (a rights holder sees only its own)")
async def list_cases(
    session: Session, who: Reader,
    state: Annotated[str | None, Query(max_length=32)] = None,
    declaration_id: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[dict]:
    stmt = select(Case).order_by(Case.opened_at.desc()).limit(limit)
    if state:
        stmt = stmt.where(Case.state == state)
    if declaration_id:
        stmt = stmt.where(Case.declaration_id == declaration_id)
    if who.role == "rights_holder":
        stmt = stmt.where(Case.holder_id == who.holder_id)
    return [
        {"case_id": c.case_id, "state": c.state, "jurisdiction": c.jurisdiction, "declaration_id": c.declaration_id,
         "line_no": c.line_no, "holder_id": c.holder_id, "holder_name": c.holder_name,
         "recordation_id": c.recordation_id, "mark": c.mark, "description": c.description,
         "goods_value": str(c.goods_value), "currency": c.currency, "opened_at": c.opened_at.isoformat(),
         "updated_at": c.updated_at.isoformat()}
        for c in (await session.execute(stmt)).scalars()
    ]


@router.get("/{case_id}", summary="A case: state, pending deadlines and history, read from its workflow")
async def get_case(case_id: str, request: Request, who: Reader) -> dict:
    _, state = await _state(request, case_id)
    _visible(state, who)
    return _view(request, state)


class DeterminationBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    outcome: Determination.model_fields["outcome"].annotation  # type: ignore[valid-type]
    fine_tier: Determination.model_fields["fine_tier"].annotation = None  # type: ignore[valid-type]
    note: str | None = Field(default=None, max_length=4000)


class CourtNoticeBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reference: str = Field(min_length=1, max_length=128)
    court: str = Field(min_length=1, max_length=256)
    action: CourtNotice.model_fields["action"].annotation  # type: ignore[valid-type]
    note: str | None = Field(default=None, max_length=4000)


def _require_state(state: CaseState, allowed: set[str], what: str) -> None:
    if state.state not in allowed:
        raise HTTPException(409, detail={
            "code": "invalid_case_state",
            "message": f"{what} is possible when the case is {' or '.join(sorted(allowed))}; it is {state.state}",
        })


@router.post("/{case_id}/determination", status_code=202, summary="Customs' determination on a detained case")
async def determine(case_id: str, body: DeterminationBody, request: Request, who: Officer) -> dict:
    handle, state = await _state(request, case_id)
    _require_state(state, {"detained"}, "a determination")
    await handle.signal(SIGNAL_DETERMINATION, Determination(**body.model_dump(), officer=who.name))
    return {"case_id": case_id, "accepted": "determination", "outcome": body.outcome}


@router.post("/{case_id}/court-notice", status_code=202, summary="Enter a court assistance notice")
async def court_notice(case_id: str, body: CourtNoticeBody, request: Request, who: Officer) -> dict:
    handle, state = await _state(request, case_id)
    _require_state(state, {"detained", "undetermined"}, "a court assistance notice")
    await handle.signal(SIGNAL_COURT_NOTICE, CourtNotice(**body.model_dump(), received_by=who.name))
    return {"case_id": case_id, "accepted": "court_notice", "action": body.action}


@router.post("/{case_id}/guarantee", status_code=202, summary="Record a guarantee posted for detention")
async def guarantee(case_id: str, body: GuaranteeInfo, request: Request,
                    who: Annotated[Principal, Depends(require("officer", "rights_holder"))]) -> dict:
    handle, state = await _state(request, case_id)
    _visible(state, who)
    _require_state(state, {"suspended"}, "a guarantee")
    await handle.signal(SIGNAL_GUARANTEE, body)
    return {"case_id": case_id, "accepted": "guarantee", "required_cny": str(state.required_guarantee_cny)}
