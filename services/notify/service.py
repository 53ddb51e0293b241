"""Use cases of the notify service: issue a written notice, deliver it, take the holder's reply."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import smtplib
import uuid
from datetime import datetime, timezone
from email.message import EmailMessage

import httpx
from fastapi import HTTPException
from prometheus_client import Counter
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.notify.domain import TargetRefused, check_target
from services.notify.models import Delivery, Notice, Reply, idempotency
from shared.contracts.cases import SIGNAL_HOLDER_REPLY, HolderReply, NoticeRequest
from shared.idempotency import run_once

log = logging.getLogger(__name__)
DELIVERIES = Counter("ipr_notice_deliveries_total", "Notice delivery attempts", ["channel", "status"])
REPLIES = Counter("ipr_holder_replies_total", "Replies of rights holders", ["decision"])


def notice_view(n: Notice, deliveries: list[Delivery], reply: Reply | None) -> dict:
    return {
        "notice_id": n.notice_id, "case_id": n.case_id, "kind": n.kind, "holder_id": n.holder_id,
        "holder_name": n.holder_name, "subject": n.subject, "body": n.body, "issued_by": n.issued_by,
        "reply_allowed": n.reply_allowed,
        "reply_deadline_at": n.reply_deadline_at.isoformat() if n.reply_deadline_at else None,
        "created_at": n.created_at.isoformat() if n.created_at else None,
        "deliveries": [
            {"channel": d.channel, "target": d.target, "status": d.status, "detail": d.detail, "at": d.at.isoformat()}
            for d in deliveries
        ],
        "reply": None if reply is None else {
            "decision": reply.decision, "content": reply.content, "replied_by": reply.replied_by,
            "received_at": reply.received_at.isoformat(),
            "signalled_at": reply.signalled_at.isoformat() if reply.signalled_at else None,
        },
    }


async def load(session: AsyncSession, notice_id: str) -> tuple[Notice, list[Delivery], Reply | None]:
    notice = await session.get(Notice, notice_id)
    if notice is None:
        raise HTTPException(404, detail={"code": "notice_not_found", "message": f"no notice {notice_id}"})
    deliveries = list((await session.execute(
        select(Delivery).where(Delivery.notice_id == notice_id).order_by(Delivery.id))).scalars())
    reply = await session.get(Reply, notice_id)
    return notice, deliveries, reply


async def create(session: AsyncSession, *, request: NoticeRequest, issued_by: str | None = None) -> str:
    """Record the notice once per idempotency key; returns its id."""

    async def work() -> tuple[int, dict]:
        notice_id = f"NTC-{uuid.uuid4().hex[:16].upper()}"
        session.add(Notice(
            notice_id=notice_id, case_id=request.case_id, kind=request.kind, holder_id=request.holder.id,
            holder_name=request.holder.name, holder_email=request.holder.contact_email,
            webhook_url=request.holder.webhook_url, subject=request.subject, body=request.body,
            reply_allowed=request.reply_allowed, reply_deadline_at=request.reply_deadline_at, issued_by=issued_by,
        ))
        await session.flush()
        return 201, {"notice_id": notice_id}

    _, answer = await run_once(session, idempotency, key=request.idempotency_key,
                               payload=request.model_dump(mode="json"), work=work)
    return answer["notice_id"]


def _email(settings, notice: Notice) -> EmailMessage:  # noqa: ANN001
    msg = EmailMessage()
    msg["From"] = settings.smtp_sender
    msg["To"] = notice.holder_email
    msg["Subject"] = notice.subject
    msg["X-IPR-Notice-Id"] = notice.notice_id
    msg["X-IPR-Case-Id"] = notice.case_id
    msg.set_content(notice.body + _footer(settings, notice))
    return msg


def _footer(settings, notice: Notice) -> str:  # noqa: ANN001
    text = f"\n\n--\nNotice {notice.notice_id} of case {notice.case_id}."
    if notice.reply_allowed:
        text += (f"\nReply (authenticated with your rights-holder token): POST "
                 f"{settings.public_url}/v1/notices/{notice.notice_id}/reply with "
                 '{"decision": "detain", "guarantee": {...}} or {"decision": "no_detention"}.')
    return text


def _send_mail(settings, message: EmailMessage) -> None:  # noqa: ANN001
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=settings.smtp_timeout_s) as smtp:
        smtp.send_message(message)


def webhook_signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


async def deliver(sessionmaker: async_sessionmaker[AsyncSession], settings, notice_id: str) -> None:  # noqa: ANN001
    """Send the notice on every channel not yet settled; e-mail must succeed, a webhook may be undeliverable."""
    async with sessionmaker() as session:
        notice, deliveries, _ = await load(session, notice_id)
    settled = {d.channel for d in deliveries}

    if "email" not in settled:
        try:
            await asyncio.to_thread(_send_mail, settings, _email(settings, notice))
        except (OSError, smtplib.SMTPException) as exc:
            DELIVERIES.labels("email", "failed").inc()
            raise HTTPException(502, detail={
                "code": "email_failed", "message": f"e-mail notice could not be sent: {exc}"}) from exc
        await _record(sessionmaker, notice_id, "email", notice.holder_email, "delivered", "accepted by SMTP server")

    if "webhook" not in settled:
        status, detail = await _webhook(settings, notice)
        await _record(sessionmaker, notice_id, "webhook", notice.webhook_url, status, detail)


async def _webhook(settings, notice: Notice) -> tuple[str, str]:  # noqa: ANN001
    if not notice.webhook_url:
        return "not_configured", "holder has no webhook"
    try:
        url = check_target(notice.webhook_url, settings.webhook_allowed_hosts)
    except TargetRefused as exc:
        DELIVERIES.labels("webhook", "refused").inc()
        return "undeliverable", f"refused: {exc}"
    body = json.dumps({
        "notice_id": notice.notice_id, "case_id": notice.case_id, "kind": notice.kind,
        "subject": notice.subject, "body": notice.body + _footer(settings, notice),
        "reply_allowed": notice.reply_allowed,
        "reply_url": f"{settings.public_url}/v1/notices/{notice.notice_id}/reply" if notice.reply_allowed else None,
        "reply_deadline_at": notice.reply_deadline_at.isoformat() if notice.reply_deadline_at else None,
    }).encode()
    headers = {"Content-Type": "application/json", "X-IPR-Notice-Id": notice.notice_id,
               "X-IPR-Signature": webhook_signature(settings.holder_token_secret.get_secret_value(), body)}
    try:
        async with httpx.AsyncClient(timeout=settings.webhook_timeout_s, follow_redirects=False) as client:
            response = await client.post(url, content=body, headers=headers)
        if 200 <= response.status_code < 300:
            DELIVERIES.labels("webhook", "delivered").inc()
            return "delivered", f"HTTP {response.status_code}"
        DELIVERIES.labels("webhook", "failed").inc()
        return "undeliverable", f"target answered HTTP {response.status_code}"
    except httpx.HTTPError as exc:
        DELIVERIES.labels("webhook", "failed").inc()
        return "undeliverable", f"{type(exc).__name__}: {exc}"[:500]


async def _record(sessionmaker, notice_id: str, channel: str, target: str | None, status: str, detail: str) -> None:  # noqa: ANN001
    async with sessionmaker() as session, session.begin():
        session.add(Delivery(notice_id=notice_id, channel=channel, target=target, status=status, detail=detail[:2000]))
    if channel == "email":
        DELIVERIES.labels("email", status).inc()


async def take_reply(session: AsyncSession, *, notice_id: str, reply: HolderReply, by: str) -> tuple[int, Reply]:
    """Record the holder's reply once; the same reply again is a no-op, a different one a conflict."""
    notice = (await session.execute(select(Notice).where(Notice.notice_id == notice_id).with_for_update())).scalar_one()
    if not notice.reply_allowed:
        raise HTTPException(409, detail={"code": "reply_not_expected", "message": "this notice does not take a reply"})
    content = reply.model_dump(mode="json", exclude={"notice_id", "replied_by"})
    existing = await session.get(Reply, notice_id)
    if existing is not None:
        if existing.content != content:
            raise HTTPException(409, detail={"code": "already_replied",
                                             "message": "a different reply to this notice was already recorded"})
        return 200, existing
    now = datetime.now(timezone.utc)
    if notice.reply_deadline_at is not None and now > notice.reply_deadline_at:
        raise HTTPException(409, detail={
            "code": "reply_window_closed",
            "message": f"the reply window closed at {notice.reply_deadline_at.isoformat()}",
        })
    row = Reply(notice_id=notice_id, case_id=notice.case_id, decision=reply.decision, content=content,
                replied_by=by, received_at=now)
    session.add(row)
    await session.flush()
    REPLIES.labels(reply.decision).inc()
    return 201, row


async def signal_reply(temporal, sessionmaker, notice_id: str) -> None:  # noqa: ANN001
    """Forward a recorded reply to the case workflow (safe to repeat)."""
    async with sessionmaker() as session:
        reply = await session.get(Reply, notice_id)
        if reply is None or reply.signalled_at is not None:
            return
        payload = HolderReply(**reply.content, notice_id=notice_id, replied_by=reply.replied_by)
        case_id = reply.case_id
    client = await temporal.get()
    await client.get_workflow_handle(case_id).signal(SIGNAL_HOLDER_REPLY, payload)
    async with sessionmaker() as session, session.begin():
        row = await session.get(Reply, notice_id)
        row.signalled_at = datetime.now(timezone.utc)


async def resignal_pending(temporal, sessionmaker) -> None:  # noqa: ANN001
    """Background duty: replies whose signal did not go out (Temporal was down) are sent again."""
    while True:
        try:
            async with sessionmaker() as session:
                ids = list((await session.execute(
                    select(Reply.notice_id).where(Reply.signalled_at.is_(None)).limit(100))).scalars())
            for notice_id in ids:
                await signal_reply(temporal, sessionmaker, notice_id)
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001
            log.exception("re-signalling replies failed; will retry")
        await asyncio.sleep(5)
