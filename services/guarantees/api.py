"""HTTP routes of the guarantees service (thin: parse, authorise, call the use case)."""

from __future__ import annotations

from typing import Annotated, Any

import httpx
from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import JSONResponse
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.guarantees import service
from services.guarantees.models import GeneralGuarantee, idempotency
from services.guarantees.settings import Settings
from shared.auth import Principal, require
from shared.contracts.bounds import CaseId, GuaranteeId, HolderId
from shared.contracts.errors import BODY
from shared.contracts.errors import error_responses as errors
from shared.contracts.guarantee_views import (
    CaseGuaranteeView,
    CostCharged,
    GeneralGuaranteeDetails,
    GeneralGuaranteeView,
    GuaranteeAlerts,
)
from shared.contracts.guarantees import (
    ChargeCostRequest,
    GeneralGuaranteeV1,
    HoldGuaranteeRequest,
    HoldGuaranteeResult,
    SettleGuaranteeRequest,
    SettleGuaranteeResult,
)
from shared.idempotency import run_once
from shared.runtime import from_state, session_dep
from shared.web import replayed

general = APIRouter(prefix="/v1/general-guarantees", tags=["general guarantees"])
cases = APIRouter(prefix="/v1/case-guarantees", tags=["case guarantees"])
ops = APIRouter(prefix="/v1", tags=["alerts"])
IDEMPOTENCY_CONFLICT = (409, "the idempotency key was used with another request (`idempotency_conflict`)")
CASE_NOT_FOUND = (404, "no guarantee is held for the case (`case_guarantee_not_found`)")

Session = Annotated[AsyncSession, Depends(session_dep)]
GuaranteesSettings = Annotated[Settings, Depends(from_state("settings"))]
Officer = Annotated[Principal, Depends(require("officer"))]
OfficerOrHolder = Annotated[Principal, Depends(require("officer", "rights_holder"))]
CaseWriter = Annotated[Principal, Depends(require("system", "officer"))]
CaseWorker = Annotated[Principal, Depends(require("system"))]
CaseReader = Annotated[Principal, Depends(require("system", "officer", "rights_holder"))]


def _guarantee_not_found(guarantee_id: str) -> HTTPException:
    return HTTPException(404, detail={"code": "guarantee_not_found", "message": f"no general guarantee {guarantee_id}"})


def _case_not_found(case_id: str) -> HTTPException:
    return HTTPException(
        404, detail={"code": "case_guarantee_not_found", "message": f"no guarantee for case {case_id}"}
    )


def _key(prefix: str, idempotency_key: str) -> str:
    """The idempotency record's key; checked before it is stored."""
    service.check_fields(required={"idempotency_key": (idempotency_key, 150)})
    return f"{prefix}:{idempotency_key}"


def _same_case(path_case_id: str, body_case_id: str) -> None:
    if path_case_id != body_case_id:
        raise HTTPException(422, detail={"code": "case_id_mismatch", "message": "case_id in path and body differ"})


# ---------------------------------------------------------------- general guarantees


async def _holder_recorded(settings: Settings, request: Request, holder_id: str, jurisdiction: str) -> None:
    """Ask the risk service, with the officer's own token, whether the holder has a recordation there."""
    if jurisdiction not in service.SUPPORTED_JURISDICTIONS:
        return  # refused with the reason by the ledger's own checks
    auth = request.headers.get("authorization", "")
    try:
        async with httpx.AsyncClient(timeout=settings.risk_timeout_s) as http:
            r = await http.get(
                f"{settings.risk_url.rstrip('/')}/v1/recordations",
                headers={"Authorization": auth},
                params={"holder_id": holder_id, "jurisdiction": jurisdiction, "limit": 1},
            )
    except httpx.HTTPError as exc:
        raise HTTPException(
            503,
            detail={
                "code": "registry_unavailable",
                "message": f"the recordation registry cannot be reached to check the holder: {type(exc).__name__}",
            },
            headers={"Retry-After": "5"},
        ) from exc
    if r.status_code != 200:
        raise HTTPException(
            503,
            detail={
                "code": "registry_unavailable",
                "message": f"the recordation registry did not answer the holder check ({r.status_code})",
            },
            headers={"Retry-After": "5"},
        )
    if not r.json():
        raise HTTPException(
            422,
            detail={
                "code": "unknown_holder",
                "message": f"holder {holder_id} has no "
                f"recordation in {jurisdiction}; a general guarantee secures the cases of "
                "recorded rights",
            },
        )


@general.post(
    "",
    status_code=201,
    response_model=GeneralGuaranteeView,
    responses={
        **replayed(GeneralGuaranteeView),
        **errors(
            *BODY,
            (409, "other terms under the same guarantee_id (`idempotency_conflict`)"),
            (
                422,
                "the request breaks the contract or a rule of the jurisdiction (the code "
                "names it), or the holder has no recordation there (`unknown_holder`)",
            ),
            (503, "the recordation registry cannot be reached to check the holder (`registry_unavailable`)"),
        ),
    },
    summary="Register a holder's general guarantee (idempotent per guarantee_id)",
)
async def register_general(
    settings: GuaranteesSettings, body: GeneralGuaranteeV1, session: Session, who: Officer, request: Request
) -> JSONResponse:
    """The same body again answers 200 with the first answer; other terms under the same id are a 409. The holder
    must have a recordation in the guarantee's jurisdiction (a general guarantee secures the recorded rights'
    cases, Reg. Art. 22): an unknown holder is 422 ``unknown_holder``."""
    await _holder_recorded(settings, request, body.holder_id, body.jurisdiction)
    ran = False

    async def work() -> tuple[int, dict[str, Any]]:
        nonlocal ran
        ran = True
        return await service.register_general(session, body=body, settings=settings, actor=who.actor)

    async with session.begin():
        status, payload = await run_once(
            session, idempotency, key=f"general:{body.guarantee_id}", payload=body.model_dump(mode="json"), work=work
        )
    return JSONResponse(payload, status_code=status if ran else 200)


@general.get(
    "/{guarantee_id}",
    response_model=GeneralGuaranteeDetails,
    responses=errors((404, "no such general guarantee, or another holder's")),
    summary="A general guarantee with its balance, draws and history",
)
async def get_general(guarantee_id: GuaranteeId, session: Session, who: OfficerOrHolder) -> dict:
    g = await session.get(GeneralGuarantee, guarantee_id)
    if g is None or (who.role == "rights_holder" and g.holder_id != who.holder_id):
        raise _guarantee_not_found(guarantee_id)
    return await service.general_details(session, g)


@general.get(
    "",
    response_model=list[GeneralGuaranteeView],
    summary="General guarantees, newest first (a rights holder sees only its own)",
)
async def list_general(
    session: Session,
    who: OfficerOrHolder,
    holder_id: Annotated[HolderId | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[dict]:
    stmt = select(GeneralGuarantee).order_by(GeneralGuarantee.created_at.desc()).limit(limit)
    if who.role == "rights_holder":
        if holder_id and holder_id != who.holder_id:
            return []
        holder_id = who.holder_id
    if holder_id:
        stmt = stmt.where(GeneralGuarantee.holder_id == holder_id)
    return [service.general_view(g) for g in (await session.execute(stmt)).scalars()]


# ---------------------------------------------------------------- case guarantees


@cases.post(
    "",
    status_code=201,
    response_model=HoldGuaranteeResult,
    responses={
        200: {
            "model": HoldGuaranteeResult,
            "description": "refused (with the reason), or the case's guarantee already held",
        },
        **errors(*BODY, IDEMPOTENCY_CONFLICT),
    },
    summary="Secure a case: per-case deposit or letter, or a draw on the general guarantee (idempotent)",
)
async def hold(body: HoldGuaranteeRequest, session: Session, who: CaseWriter) -> JSONResponse:
    """201 held; 200 refused (with the reason) or the guarantee already held for the case.

    A cash deposit or bank letter is held in full if ``amount`` covers ``required_amount``; with
    ``form: general_guarantee`` exactly ``required_amount`` is drawn (``amount`` is not used).
    """
    async with session.begin():
        status, payload = await run_once(
            session,
            idempotency,
            key=_key("hold", body.idempotency_key),
            payload=body.model_dump(mode="json"),
            work=lambda: service.hold(session, request=body, actor=who.actor),
        )
    return JSONResponse(payload, status_code=status)


@cases.post(
    "/{case_id}/costs",
    status_code=201,
    response_model=CostCharged,
    responses=errors(
        *BODY,
        CASE_NOT_FOUND,
        (
            409,
            "the guarantee is settled (`case_guarantee_settled`), or the idempotency key was used with another request",
        ),
        (422, "the request breaks the contract, the case ids differ, or the cost's currency is not the guarantee's"),
    ),
    summary="Charge a storage, custody or disposal cost (idempotent)",
)
async def charge_cost(case_id: CaseId, body: ChargeCostRequest, session: Session, who: CaseWriter) -> JSONResponse:
    _same_case(case_id, body.case_id)
    async with session.begin():
        status, payload = await run_once(
            session,
            idempotency,
            key=_key("cost", body.idempotency_key),
            payload=body.model_dump(mode="json"),
            work=lambda: service.charge_cost(session, request=body, actor=who.actor),
        )
    return JSONResponse(payload, status_code=status)


@cases.post(
    "/{case_id}/settle",
    response_model=SettleGuaranteeResult,
    responses=errors(*BODY, CASE_NOT_FOUND, IDEMPOTENCY_CONFLICT),
    summary="Settle when the case ends: charge storage and costs, refund the rest (idempotent)",
)
async def settle(
    settings: GuaranteesSettings,
    case_id: CaseId,
    body: SettleGuaranteeRequest,
    session: Session,
    who: CaseWorker,
    request: Request,
) -> JSONResponse:
    _same_case(case_id, body.case_id)
    async with session.begin():
        status, payload = await run_once(
            session,
            idempotency,
            key=_key("settle", body.idempotency_key),
            payload=body.model_dump(mode="json"),
            work=lambda: service.settle(session, request=body, settings=settings, actor=who.actor),
        )
    return JSONResponse(payload, status_code=status)


@cases.get(
    "/{case_id}",
    response_model=CaseGuaranteeView,
    responses=errors((404, "no guarantee for the case, or another holder's")),
    summary="A case's guarantee: amount, costs and storage accrued so far, charged, refunded",
)
async def get_case(settings: GuaranteesSettings, case_id: CaseId, session: Session, who: CaseReader) -> dict:
    view = await service.case_details(session, case_id=case_id, settings=settings)
    if view is None or (who.role == "rights_holder" and view["holder_id"] != who.holder_id):
        raise _case_not_found(case_id)
    return view


# ---------------------------------------------------------------- alerts


@ops.get(
    "/alerts",
    response_model=GuaranteeAlerts,
    summary="Low balances, coverage or letters ending soon, unpaid or uncovered costs",
)
async def list_alerts(settings: GuaranteesSettings, session: Session, _: Officer) -> dict:
    found = await service.alerts(session, settings=settings)
    service.set_alert_gauges(found)
    return {
        "alerts": found,
        "rules": {
            "low_balance_ratio": str(settings.low_balance_ratio),
            "low_balance_floor_cny": str(settings.low_balance_floor_cny),
            "within_days": settings.guarantee_alert_days,
        },
    }
