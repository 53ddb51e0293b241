"""HTTP routes of the notify service."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.notify import service
from services.notify.models import Notice
from shared.auth import Principal, require
from shared.contracts.cases import GuaranteeInfo, HolderReply, NoticeRequest, NoticeResult
from shared.runtime import session_dep

router = APIRouter(prefix="/v1/notices", tags=["notices"])
Session = Annotated[AsyncSession, Depends(session_dep)]


class ReplyBody(BaseModel):
    """The rights holder's answer to a suspension notice."""

    model_config = ConfigDict(extra="forbid")
    decision: Literal["detain", "no_detention"]
    guarantee: GuaranteeInfo | None = None
    statement: str | None = Field(default=None, max_length=4000)


def _visible(notice: Notice, who: Principal) -> None:
    if who.role == "rights_holder" and notice.holder_id != who.holder_id:
        # Same answer as a missing notice: a holder must not learn other holders' case ids.
        raise HTTPException(404, detail={"code": "notice_not_found", "message": f"no notice {notice.notice_id}"})


@router.post("", status_code=201, response_model=NoticeResult,
             summary="Issue a written notice and deliver it by e-mail and webhook (idempotent)")
async def issue(body: NoticeRequest, session: Session, request: Request,
                who: Annotated[Principal, Depends(require("system"))]) -> NoticeResult:
    async with session.begin():
        notice_id = await service.create(session, request=body, issued_by=who.actor)
    rt = request.app.state.runtime
    await service.deliver(rt.sessionmaker, request.app.state.settings, notice_id)
    async with rt.sessionmaker() as s:
        _, deliveries, _ = await service.load(s, notice_id)
    by_channel = {d.channel: d.status for d in deliveries}
    return NoticeResult(notice_id=notice_id, email_status=by_channel.get("email", "pending"),
                        webhook_status=by_channel.get("webhook", "pending"))


@router.get("/{notice_id}", summary="A notice with its deliveries and reply")
async def get_notice(notice_id: str, session: Session,
                     who: Annotated[Principal, Depends(require("system", "officer", "rights_holder"))]) -> dict:
    notice, deliveries, reply = await service.load(session, notice_id)
    _visible(notice, who)
    return service.notice_view(notice, deliveries, reply)


@router.get("", summary="Notices of a case (a rights holder sees only its own)")
async def list_notices(session: Session,
                       who: Annotated[Principal, Depends(require("system", "officer", "rights_holder"))],
                       case_id: str | None = None) -> list[dict]:
    stmt = select(Notice).order_by(Notice.created_at.desc()).limit(200)
    if case_id:
        stmt = stmt.where(Notice.case_id == case_id)
    if who.role == "rights_holder":
        stmt = stmt.where(Notice.holder_id == who.holder_id)
    out = []
    for n in (await session.execute(stmt)).scalars():
        _, deliveries, reply = await service.load(session, n.notice_id)
        out.append(service.notice_view(n, deliveries, reply))
    return out


@router.post("/{notice_id}/reply", summary="The rights holder answers a suspension notice (signals the case)")
async def reply(notice_id: str, body: ReplyBody, session: Session, request: Request,
                who: Annotated[Principal, Depends(require("rights_holder", "officer"))]) -> JSONResponse:
    parsed = HolderReply(decision=body.decision, guarantee=body.guarantee, statement=body.statement)
    if parsed.decision == "detain" and parsed.guarantee is None:
        raise HTTPException(422, detail={"code": "guarantee_required",
                                         "message": "a request for detention must carry the guarantee"})
    async with session.begin():
        notice = await session.get(Notice, notice_id)
        if notice is None:
            raise HTTPException(404, detail={"code": "notice_not_found", "message": f"no notice {notice_id}"})
        _visible(notice, who)
        status, row = await service.take_reply(session, notice_id=notice_id, reply=parsed, by=who.actor)
    rt = request.app.state.runtime
    signalled = True
    try:
        await service.signal_reply(request.app.state.temporal, rt.sessionmaker, notice_id)
    except Exception:  # noqa: BLE001 - the reply is recorded; the background duty signals it later
        signalled = False
    return JSONResponse({"notice_id": notice_id, "case_id": row.case_id, "decision": row.decision,
                         "recorded": True, "forwarded_to_case": signalled}, status_code=status)
