"""HTTP routes of the notify service."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.notify import keys, service
from services.notify.delivery import Dispatcher
from services.notify.documents import register
from services.notify.domain import EVENT_ID_HEADER, REPLAY_WINDOW_S, SIGNATURE_HEADER, TargetRefused, check_target
from services.notify.models import Delivery, Notice, NoticeDocument, PartyEndpoint
from services.notify.settings import Settings
from shared.auth import Principal, require, require_office
from shared.contracts.bounds import CaseId
from shared.contracts.cases import ActorRef, GuaranteeInfo, HolderReply, NoticeRequest, NoticeResult
from shared.contracts.errors import BODY
from shared.contracts.errors import error_responses as errors
from shared.contracts.notices import (
    RECIPIENT_ID_PATTERN,
    DeliveryWithAttempts,
    KeyRotation,
    NoticeDeliveries,
    NoticeView,
    PartyWebhookView,
    ReplyRecorded,
    WebhookSettings,
)
from shared.fx import DEFAULT_RATES_TO_CNY
from shared.runtime import RuntimeDep, from_state, session_dep
from shared.temporal import LazyClient

router = APIRouter(prefix="/v1/notices", tags=["notices"])
deliveries_router = APIRouter(prefix="/v1/deliveries", tags=["deliveries"])
recipients_router = APIRouter(prefix="/v1/recipients", tags=["webhook settings"])
Session = Annotated[AsyncSession, Depends(session_dep)]
NotifySettings = Annotated[Settings, Depends(from_state("settings"))]
DispatcherDep = Annotated[Dispatcher, Depends(from_state("dispatcher"))]
Temporal = Annotated[LazyClient, Depends(from_state("temporal"))]
Reader = Annotated[Principal, Depends(require("system", "officer", "rights_holder", "party"))]
RecipientKind = Literal["rights_holder", "party"]
ID_PATTERN = RECIPIENT_ID_PATTERN
NOT_FOUND = (404, "no such notice, or not one addressed to the caller")
RecipientId = Annotated[str, Path(pattern=ID_PATTERN)]
NoticeId = Annotated[str, Path(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$")]
DeliveryStatus = Literal["pending", "sending", "retrying", "delivered", "undeliverable", "not_configured"]


class GuaranteeBody(GuaranteeInfo):
    """The guarantee of a reply, as strict as every request body (``posted_by`` is set from the caller's token)."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("currency")
    @classmethod
    def _known_currency(cls, value: str) -> str:
        if value not in DEFAULT_RATES_TO_CNY:
            raise ValueError(f"customs takes guarantees in {', '.join(sorted(DEFAULT_RATES_TO_CNY))}")
        return value


class ReplyBody(BaseModel):
    """The rights holder's answer to a suspension notice."""

    model_config = ConfigDict(extra="forbid")
    decision: Literal["detain", "no_detention"]
    guarantee: GuaranteeBody | None = None
    statement: str | None = Field(default=None, max_length=4000)


class RotateBody(BaseModel):
    """How long the key being replaced keeps signing beside the new one."""

    model_config = ConfigDict(extra="forbid")
    overlap_hours: float | None = Field(
        default=None, ge=0, le=168, description="Default WEBHOOK_KEY_OVERLAP_HOURS (24); 0 ends the old key now"
    )


def _visible(notice: Notice, who: Principal) -> None:
    """A rights holder sees the notices addressed to it, a party those addressed to it; others are 'not found'."""
    kind, rid = service.addressee_of(notice)
    mine = (who.role == "rights_holder" and (kind, rid) == ("rights_holder", who.holder_id)) or (
        who.role == "party"
        and (kind, rid) == ("party", who.party_id)
        and (who.case_id is None or who.case_id == notice.case_id)
    )
    if who.role in ("rights_holder", "party") and not mine:
        # Same answer as a missing notice: a holder or party must not learn others' case ids.
        raise HTTPException(404, detail={"code": "notice_not_found", "message": f"no notice {notice.notice_id}"})


@router.post(
    "",
    status_code=201,
    response_model=NoticeResult,
    responses=errors(*BODY, (409, "the idempotency key was used with another request (`idempotency_conflict`)")),
    summary="Record a written notice with its deliveries, then send it by e-mail and webhook (idempotent)",
)
async def issue(
    settings: NotifySettings,
    dispatcher: DispatcherDep,
    runtime: RuntimeDep,
    body: NoticeRequest,
    session: Session,
    request: Request,
    who: Annotated[Principal, Depends(require("system"))],
) -> NoticeResult:
    """The notice and one delivery per recipient and channel are recorded in one transaction; the first attempt
    starts at once and the answer waits for it at most DELIVERY_FIRST_ATTEMPT_WAIT_SECONDS. Later attempts run
    in notify's background sender, never in the caller. The same idempotency key again sends nothing again."""
    settings = settings
    async with session.begin():
        notice_id = await service.create(session, request=body, settings=settings, issued_by=who.actor)
    await dispatcher.deliver_now(notice_id, wait=settings.delivery_first_attempt_wait_seconds)
    async with runtime.sessionmaker() as s:
        notice, deliveries, _ = await service.load(s, notice_id)
    return service.result_of(notice, deliveries)


@router.get(
    "/{notice_id}",
    response_model=NoticeView,
    response_model_exclude_unset=True,
    responses=errors(NOT_FOUND),
    summary="A notice with its deliveries, reply and document",
)
async def get_notice(settings: NotifySettings, notice_id: NoticeId, session: Session, who: Reader) -> dict:
    notice, deliveries, reply = await service.load(session, notice_id)
    _visible(notice, who)
    view = service.notice_view(notice, service.visible_deliveries(deliveries, who), reply)
    view["document"] = register.view(await session.get(NoticeDocument, notice_id), settings)
    return view


DOCUMENT_TYPES = {"html": "text/html; charset=utf-8", "pdf": "application/pdf", "txt": "text/plain; charset=utf-8"}
# The stored document is a self-contained page: its own inline print CSS, no script, no outside resource.
DOCUMENT_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'self'"
)


def _may_read_document(notice: Notice, doc: NoticeDocument | None, who: Principal) -> None:
    """Officers of the issuing office and supervisors; the rights holder of the notices addressed to it; a party the
    document names."""
    missing = HTTPException(404, detail={"code": "notice_not_found", "message": f"no notice {notice.notice_id}"})
    if who.role == "rights_holder" and service.addressee_of(notice) != ("rights_holder", who.holder_id):
        raise missing  # not the holder's case, or a notice to one of its parties (their document, not the holder's)
    if who.role == "party" and (
        doc is None
        or who.party_id not in (doc.party_ids or [])
        or (who.case_id is not None and who.case_id != notice.case_id)
    ):
        raise missing
    if who.role in ("officer", "supervisor") and doc is not None and doc.office:
        require_office(who, doc.office, f"notice {notice.notice_id}")


@router.get(
    "/{notice_id}/document",
    summary="The legal document a notice carried, as sent: HTML, PDF or plain text",
    response_class=Response,
    responses={
        200: {
            "description": "the document in the format asked for (`X-IPR-Document-Number` names it)",
            "content": {
                "text/html": {"schema": {"type": "string"}},
                "application/pdf": {"schema": {"type": "string", "format": "binary"}},
                "text/plain": {"schema": {"type": "string"}},
            },
        },
        **errors(
            (403, "the caller's role or office may not read it"),
            (404, "no such notice, not yours, or the notice carried no document"),
            (422, "format is not html, pdf or txt (`unknown_format`)"),
        ),
    },
)
async def notice_document(
    runtime: RuntimeDep,
    notice_id: NoticeId,
    session: Session,
    who: Annotated[Principal, Depends(require("officer", "rights_holder", "party", "system"))],
    format: Annotated[str, Query(max_length=16, description="html, pdf or txt")] = "html",
) -> Response:
    if format not in DOCUMENT_TYPES:
        raise HTTPException(
            422,
            detail={
                "code": "unknown_format",
                "message": f"format must be one of {', '.join(DOCUMENT_TYPES)}",
                "details": {"format": format[:16], "allowed": list(DOCUMENT_TYPES)},
            },
        )
    notice = await session.get(Notice, notice_id)
    if notice is None:
        raise HTTPException(404, detail={"code": "notice_not_found", "message": f"no notice {notice_id}"})
    doc = await session.get(NoticeDocument, notice_id)
    _may_read_document(notice, doc, who)
    if doc is None or doc.status != "rendered":
        raise HTTPException(
            404,
            detail={
                "code": "document_not_available",
                "message": doc.reason if doc is not None and doc.reason else f"notice {notice_id} carried no document",
            },
        )
    headers = {
        "Cache-Control": "private, no-cache",
        "X-Content-Type-Options": "nosniff",
        "X-IPR-Document-Number": doc.number or "",
        "Content-Security-Policy": DOCUMENT_CSP,
    }
    if format == "pdf":
        body: bytes | str = await register.pdf(runtime.sessionmaker, notice_id)
        headers["Content-Disposition"] = f'inline; filename="{doc.number}.pdf"'
    else:
        body = (doc.html if format == "html" else doc.text) or ""
        headers["Content-Disposition"] = f'inline; filename="{doc.number}.{format}"'
    return Response(content=body, media_type=DOCUMENT_TYPES[format], headers=headers)


@router.get(
    "/{notice_id}/service",
    response_model=NoticeResult,
    responses=errors(404),
    summary="Whether a notice is served on its addressee: served (delivered), undeliverable, or pending",
)
async def notice_service(
    notice_id: NoticeId, session: Session, who: Annotated[Principal, Depends(require("system", "officer"))]
) -> NoticeResult:
    """What the case workflow reads while it waits for a party's notice to be served (its clock starts then)."""
    notice, deliveries, _ = await service.load(session, notice_id)
    return service.result_of(notice, deliveries)


@router.get(
    "/{notice_id}/deliveries",
    response_model=NoticeDeliveries,
    response_model_exclude_unset=True,
    responses=errors(NOT_FOUND),
    summary="Delivery log of a notice: every attempt per recipient and channel (a holder sees its own)",
)
async def notice_deliveries(notice_id: NoticeId, session: Session, who: Reader) -> dict:
    notice, deliveries, _ = await service.load(session, notice_id)
    _visible(notice, who)
    mine = service.visible_deliveries(deliveries, who)
    return {
        "notice_id": notice.notice_id,
        "case_id": notice.case_id,
        "served_at": service.iso(service.served_at(deliveries, *service.addressee_of(notice))),
        "deliveries": await service.delivery_log(session, mine),
    }


@router.get(
    "",
    response_model=list[NoticeView],
    response_model_exclude_unset=True,
    summary="Notices of a case (a rights holder sees only its own)",
)
async def list_notices(
    settings: NotifySettings, session: Session, who: Reader, case_id: CaseId | None = None
) -> list[dict]:
    stmt = select(Notice).order_by(Notice.created_at.desc()).limit(200)
    if case_id:
        stmt = stmt.where(Notice.case_id == case_id)
    if who.role == "rights_holder":
        stmt = stmt.where(Notice.holder_id == who.holder_id, Notice.addressee_kind == "rights_holder")
    elif who.role == "party":
        stmt = stmt.where(Notice.addressee_kind == "party", Notice.addressee_id == (who.party_id or "-"))
        if who.case_id:
            stmt = stmt.where(Notice.case_id == who.case_id)
    out = []
    for n in (await session.execute(stmt)).scalars():
        _, deliveries, reply = await service.load(session, n.notice_id)
        view = service.notice_view(n, service.visible_deliveries(deliveries, who), reply)
        view["document"] = register.view(await session.get(NoticeDocument, n.notice_id), settings)
        out.append(view)
    return out


@router.post(
    "/{notice_id}/reply",
    status_code=201,
    response_model=ReplyRecorded,
    responses={
        200: {"model": ReplyRecorded, "description": "the same reply again: recorded before"},
        **errors(
            *BODY,
            NOT_FOUND,
            (409, "the notice takes no reply, a different reply was recorded, or the reply window closed"),
            (
                422,
                "the request breaks the contract, or a detention request without its guarantee (`guarantee_required`)",
            ),
        ),
    },
    summary="The rights holder answers a suspension notice (signals the case)",
)
async def reply(
    runtime: RuntimeDep,
    temporal: Temporal,
    notice_id: NoticeId,
    body: ReplyBody,
    session: Session,
    request: Request,
    who: Annotated[Principal, Depends(require("rights_holder", "officer"))],
) -> JSONResponse:
    guarantee = (
        GuaranteeInfo(**body.guarantee.model_dump(exclude={"posted_by"}), posted_by=ActorRef(**who.actor_ref()))
        if body.guarantee is not None
        else None
    )
    parsed = HolderReply(decision=body.decision, guarantee=guarantee, statement=body.statement)
    if parsed.decision == "detain" and parsed.guarantee is None:
        raise HTTPException(
            422, detail={"code": "guarantee_required", "message": "a request for detention must carry the guarantee"}
        )
    async with session.begin():
        notice = await session.get(Notice, notice_id)
        if notice is None:
            raise HTTPException(404, detail={"code": "notice_not_found", "message": f"no notice {notice_id}"})
        _visible(notice, who)
        status, row = await service.take_reply(session, notice_id=notice_id, reply=parsed, by=who.actor)
    rt = runtime
    signalled = True
    try:
        await service.signal_reply(temporal, rt.sessionmaker, notice_id)
    except Exception:  # noqa: BLE001 - the reply is recorded; the background duty signals it later
        signalled = False
    return JSONResponse(
        {
            "notice_id": notice_id,
            "case_id": row.case_id,
            "decision": row.decision,
            "recorded": True,
            "forwarded_to_case": signalled,
        },
        status_code=status,
    )


@deliveries_router.get(
    "",
    response_model=list[DeliveryWithAttempts],
    response_model_exclude_unset=True,
    summary="Deliveries across notices, newest first (officers: undelivered notices to act "
    "on; a rights holder: its own delivery log)",
)
async def list_deliveries(
    session: Session,
    who: Reader,
    status: DeliveryStatus | None = None,
    channel: Literal["email", "webhook"] | None = None,
    recipient_kind: RecipientKind | None = None,
    recipient_id: Annotated[str | None, Query(pattern=ID_PATTERN)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[dict]:
    stmt = select(Delivery).order_by(Delivery.created_at.desc(), Delivery.id.desc()).limit(limit)
    if who.role == "rights_holder":
        recipient_kind, recipient_id = "rights_holder", who.holder_id
    elif who.role == "party":
        recipient_kind, recipient_id = "party", who.party_id or "-"
        if who.case_id is not None:  # a case access code: the deliveries of that case's notices only
            stmt = stmt.where(Delivery.notice_id.in_(select(Notice.notice_id).where(Notice.case_id == who.case_id)))
    for column, value in (
        (Delivery.status, status),
        (Delivery.channel, channel),
        (Delivery.recipient_kind, recipient_kind),
        (Delivery.recipient_id, recipient_id),
    ):
        if value is not None:
            stmt = stmt.where(column == value)
    return await service.delivery_log(session, list((await session.execute(stmt)).scalars()))


# ---------------------------------------------------------------- webhook settings and signing keys


def _may_manage(kind: str, recipient_id: str, who: Principal) -> None:
    if who.role == "rights_holder" and (kind != "rights_holder" or recipient_id != who.holder_id):
        raise HTTPException(
            403,
            detail={"code": "not_your_recipient", "message": "a rights holder manages only its own webhook settings"},
        )


def _signature_spec() -> dict:
    return {
        "header": SIGNATURE_HEADER,
        "format": "t=<unix seconds>,v1=<hex>[,v1=<hex>]",
        "algorithm": "HMAC-SHA256 over '<t>.<raw body>', key = the signing key's UTF-8 bytes, lower-case hex",
        "event_id_header": EVENT_ID_HEADER,
        "replay_window_seconds": REPLAY_WINDOW_S,
    }


@recipients_router.get(
    "/{kind}/{recipient_id}/webhook",
    response_model=WebhookSettings,
    responses=errors((403, "a rights holder's token for another recipient")),
    summary="Webhook settings of a recipient: endpoint in use, signing keys (never their secrets)",
)
async def webhook_settings(
    kind: RecipientKind,
    recipient_id: RecipientId,
    session: Session,
    who: Annotated[Principal, Depends(require("officer", "rights_holder"))],
) -> dict:
    _may_manage(kind, recipient_id, who)
    last = (
        await session.execute(
            select(Delivery.target)
            .where(
                Delivery.recipient_kind == kind,
                Delivery.recipient_id == recipient_id,
                Delivery.channel == "webhook",
                Delivery.target.is_not(None),
            )
            .order_by(Delivery.id.desc())
            .limit(1)
        )
    ).scalar_one_or_none()
    return {
        "recipient": {"kind": kind, "id": recipient_id},
        "webhook_url": last,
        "keys": [keys.key_view(k) for k in await keys.list_keys(session, kind=kind, recipient_id=recipient_id)],
        "signature": _signature_spec(),
    }


@recipients_router.post(
    "/{kind}/{recipient_id}/webhook/rotate-key",
    status_code=201,
    response_model=KeyRotation,
    responses=errors(*BODY, (403, "a rights holder's token for another recipient")),
    summary="Create a new signing key (its secret is shown only in this answer); the old one "
    "keeps signing beside it for the overlap",
)
async def rotate_key(
    settings: NotifySettings,
    dispatcher: DispatcherDep,
    kind: RecipientKind,
    recipient_id: RecipientId,
    session: Session,
    who: Annotated[Principal, Depends(require("officer", "rights_holder"))],
    body: RotateBody | None = None,
) -> JSONResponse:
    _may_manage(kind, recipient_id, who)
    settings = settings
    hours = settings.webhook_key_overlap_hours if body is None or body.overlap_hours is None else body.overlap_hours
    async with session.begin():
        rotation = await keys.rotate(
            session,
            dispatcher.cipher,
            kind=kind,
            recipient_id=recipient_id,
            by=who.actor,
            overlap=timedelta(hours=hours),
        )
    previous = rotation.previous
    signs_until = None
    if previous is not None:
        assert previous.verify_until is not None  # a rotation ends the previous key's overlap
        signs_until = previous.verify_until.isoformat()
    return JSONResponse(
        status_code=201,
        headers={"Cache-Control": "no-store"},
        content={
            "recipient": {"kind": kind, "id": recipient_id},
            "key_id": rotation.key.key_id,
            "secret": rotation.secret,
            "created_at": rotation.key.created_at.isoformat(),
            "created_by": rotation.key.created_by,
            "previous_key_id": previous.key_id if previous else None,
            "previous_key_signs_until": signs_until,
            "signature": _signature_spec(),
        },
    )


# ---------------------------------------------------------------- parties' webhook endpoints


class PartyWebhookBody(BaseModel):
    """A party's own webhook endpoint for notices (must be on the webhook allow-list)."""

    model_config = ConfigDict(extra="forbid")
    webhook_url: str = Field(min_length=8, max_length=2048)


def _may_register(party_id: str, who: Principal) -> None:
    if who.role == "party" and who.party_id != party_id:
        raise HTTPException(
            403, detail={"code": "not_your_recipient", "message": "a party registers only its own webhook endpoint"}
        )
    if who.role == "party" and who.case_id is not None:
        raise HTTPException(
            403,
            detail={
                "code": "case_bound_token",
                "message": "a token bound to one case (a case access code) reads that case "
                "and answers in it; the party's endpoint is registered with its "
                "own account or by an officer",
            },
        )


@recipients_router.put(
    "/party/{recipient_id}/webhook/endpoint",
    response_model=PartyWebhookView,
    responses=errors(
        *BODY,
        (403, "a party's token for another party, or one bound to a case"),
        (422, "the request breaks the contract, or the URL is not on the webhook allow-list (`webhook_not_allowed`)"),
    ),
    summary="Register a party's webhook endpoint for its notices (officers, or the party itself); "
    "the URL must be on the webhook allow-list",
)
async def register_party_webhook(
    settings: NotifySettings,
    recipient_id: RecipientId,
    body: PartyWebhookBody,
    session: Session,
    who: Annotated[Principal, Depends(require("officer", "party"))],
) -> dict:
    _may_register(recipient_id, who)
    try:
        check_target(body.webhook_url, settings.webhook_allowed_hosts)
    except TargetRefused as exc:
        raise HTTPException(422, detail={"code": "webhook_not_allowed", "message": str(exc)}) from exc
    async with session.begin():
        row = await session.get(PartyEndpoint, recipient_id)
        if row is None:
            row = PartyEndpoint(party_id=recipient_id, webhook_url=body.webhook_url, registered_by=who.actor)
            session.add(row)
        else:
            row.webhook_url, row.registered_by = body.webhook_url, who.actor
            row.registered_at = func.now()
    return {
        "recipient": {"kind": "party", "id": recipient_id},
        "webhook_url": body.webhook_url,
        "registered_by": who.actor,
    }


@recipients_router.delete(
    "/party/{recipient_id}/webhook/endpoint",
    status_code=204,
    responses=errors((403, "a party's token for another party, or one bound to a case")),
    summary="Remove a party's webhook endpoint (its notices then go by e-mail only)",
)
async def remove_party_webhook(
    recipient_id: RecipientId, session: Session, who: Annotated[Principal, Depends(require("officer", "party"))]
) -> None:
    _may_register(recipient_id, who)
    async with session.begin():
        row = await session.get(PartyEndpoint, recipient_id)
        if row is not None:
            await session.delete(row)
