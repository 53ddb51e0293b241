"""Use cases of the notify service: issue a written notice (recorded with its deliveries, then sent from the
outbox), show notices and their delivery log, take the holder's reply."""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import UTC, datetime, timedelta

from prometheus_client import Counter
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.notify.documents import register
from services.notify.domain import Recipient, event_id_for, message_id_for
from services.notify.models import Delivery, DeliveryAttempt, Notice, PartyEndpoint, Reply, idempotency
from services.notify.settings import Settings
from shared.auth import Principal
from shared.contracts.cases import SIGNAL_HOLDER_REPLY, HolderReply, NoticeDeliveryStatus, NoticeRequest, NoticeResult
from shared.errors import Conflict, NotFound
from shared.idempotency import run_once
from shared.temporal import LazyClient

log = logging.getLogger(__name__)
REPLIES = Counter("ipr_holder_replies_total", "Replies of rights holders", ["decision"])


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def recipients_of(request: NoticeRequest, party_webhook: str | None = None) -> list[Recipient]:
    """Who receives a notice: the rights holder of the case, or the party it is addressed to. A party is reached
    at the e-mail address its declaration gave and at the webhook endpoint it registered (``party_webhook``),
    never at a webhook address taken from a declaration."""
    if request.addressee is not None:
        party = request.addressee.party
        return [
            Recipient(kind="party", id=party.id, name=party.name, email=party.contact_email, webhook_url=party_webhook)
        ]
    holder = request.holder
    return [
        Recipient(
            kind="rights_holder",
            id=holder.id,
            name=holder.name,
            email=holder.contact_email,
            webhook_url=holder.webhook_url,
        )
    ]


def addressee_of(notice: Notice) -> tuple[str, str]:
    """The recipient kind and id a notice is addressed to."""
    if notice.addressee_kind == "party" and notice.addressee_id:
        return "party", notice.addressee_id
    return "rights_holder", notice.holder_id


def _deliveries_for(
    notice_id: str, recipients: list[Recipient], *, message_id_domain: str, now: datetime, first_claim_grace: timedelta
) -> list[Delivery]:
    rows = []
    for r in recipients:
        for channel, target in (("email", r.email), ("webhook", r.webhook_url)):
            configured = bool(target)
            rows.append(
                Delivery(
                    notice_id=notice_id,
                    recipient_kind=r.kind,
                    recipient_id=r.id,
                    recipient_name=r.name,
                    channel=channel,
                    target=target or None,
                    message_id=(
                        message_id_for(notice_id, r, message_id_domain)
                        if channel == "email"
                        else event_id_for(notice_id, r)
                    )
                    if configured
                    else None,
                    status="pending" if configured else "not_configured",
                    detail="" if configured else f"{r.kind} {r.id} has no {channel} address registered",
                    attempts=0,
                    # The issuing request sends at once; the background sender takes the row only if that request
                    # died before claiming it.
                    next_attempt_at=now + first_claim_grace if configured else None,
                    created_at=now,
                    updated_at=now,
                )
            )
    return rows


async def create(
    session: AsyncSession,
    *,
    request: NoticeRequest,
    settings: Settings,
    issued_by: str | None = None,
) -> str:
    """Record the notice and its deliveries once per idempotency key (one transaction); returns its id."""

    async def work() -> tuple[int, dict]:
        notice_id = f"NTC-{uuid.uuid4().hex[:16].upper()}"
        now = datetime.now(UTC)
        addressee = request.addressee
        endpoint = (await session.get(PartyEndpoint, addressee.party.id)) if addressee is not None else None
        session.add(
            Notice(
                notice_id=notice_id,
                case_id=request.case_id,
                kind=request.kind,
                holder_id=request.holder.id,
                holder_name=request.holder.name,
                holder_email=request.holder.contact_email,
                webhook_url=request.holder.webhook_url,
                subject=request.subject,
                body=request.body,
                reply_allowed=request.reply_allowed and addressee is None,
                reply_deadline_at=request.reply_deadline_at,
                created_at=now,
                issued_by=issued_by,
                addressee_kind="party" if addressee is not None else "rights_holder",
                addressee_id=addressee.party.id if addressee is not None else None,
                addressee_role=addressee.role if addressee is not None else None,
            )
        )
        await session.flush()
        await register.record(session, notice_id=notice_id, request=request, settings=settings, now=now)
        recipients = recipients_of(request, endpoint.webhook_url if endpoint is not None else None)
        session.add_all(
            _deliveries_for(
                notice_id,
                recipients,
                message_id_domain=settings.message_id_domain,
                now=now,
                first_claim_grace=timedelta(seconds=settings.delivery_lease_seconds),
            )
        )
        await session.flush()
        return 201, {"notice_id": notice_id}

    _, answer = await run_once(
        session, idempotency, key=request.idempotency_key, payload=request.model_dump(mode="json"), work=work
    )
    return answer["notice_id"]


async def load(session: AsyncSession, notice_id: str) -> tuple[Notice, list[Delivery], Reply | None]:
    notice = await session.get(Notice, notice_id)
    if notice is None:
        raise NotFound("notice_not_found", f"no notice {notice_id}")
    deliveries = list(
        (await session.execute(select(Delivery).where(Delivery.notice_id == notice_id).order_by(Delivery.id))).scalars()
    )
    reply = await session.get(Reply, notice_id)
    return notice, deliveries, reply


def visible_deliveries(deliveries: list[Delivery], who: Principal) -> list[Delivery]:
    """A rights holder or a party sees its own deliveries; officers and the system see every recipient's."""
    if who.role == "rights_holder":
        return [d for d in deliveries if d.recipient_kind == "rights_holder" and d.recipient_id == who.holder_id]
    if who.role == "party":
        return [d for d in deliveries if d.recipient_kind == "party" and d.recipient_id == who.party_id]
    return deliveries


def service_of(deliveries: list[Delivery], recipient_kind: str, recipient_id: str) -> str:
    """Whether the notice is served on the recipient: ``served`` once a delivery was accepted, ``undeliverable``
    once every channel has failed for good or none is registered, else ``pending`` (being sent or retried)."""
    mine = [d for d in deliveries if d.recipient_kind == recipient_kind and d.recipient_id == recipient_id]
    if any(d.served_at is not None for d in mine):
        return "served"
    if all(d.status in ("undeliverable", "not_configured") for d in mine):
        return "undeliverable"
    return "pending"


def _channel_status(deliveries: list[Delivery], channel: str, recipient_kind: str, recipient_id: str) -> str:
    """The addressee's status on a channel in the words of ``NoticeResult``: delivered, undeliverable,
    not_configured, or pending (recorded, being sent or waiting for a retry)."""
    for d in deliveries:
        if d.channel == channel and d.recipient_kind == recipient_kind and d.recipient_id == recipient_id:
            return d.status if d.status in ("delivered", "undeliverable", "not_configured") else "pending"
    return "not_configured"


def served_at(deliveries: list[Delivery], recipient_kind: str, recipient_id: str) -> datetime | None:
    """When the notice counts as served on the recipient: its first delivery accepted (SMTP) or answered 2xx."""
    times = [
        d.served_at
        for d in deliveries
        if d.served_at and d.recipient_kind == recipient_kind and d.recipient_id == recipient_id
    ]
    return min(times) if times else None


def result_of(notice: Notice, deliveries: list[Delivery]) -> NoticeResult:
    """The notice's service on its addressee (the rights holder, or the party it is addressed to)."""
    kind, rid = addressee_of(notice)
    return NoticeResult(
        service=service_of(deliveries, kind, rid),  # type: ignore[arg-type]
        notice_id=notice.notice_id,
        email_status=_channel_status(deliveries, "email", kind, rid),
        webhook_status=_channel_status(deliveries, "webhook", kind, rid),
        served_at=served_at(deliveries, kind, rid),
        deliveries=[
            NoticeDeliveryStatus(
                recipient_kind=d.recipient_kind,
                recipient_id=d.recipient_id,
                channel=d.channel,
                status=d.status,
                message_id=d.message_id,
                attempts=d.attempts,
                served_at=d.served_at,
            )
            for d in deliveries
        ],
    )


def delivery_view(d: Delivery, attempts: list[DeliveryAttempt] | None = None) -> dict:
    view = {
        "delivery_id": d.id,
        "notice_id": d.notice_id,
        "recipient": {"kind": d.recipient_kind, "id": d.recipient_id, "name": d.recipient_name},
        "channel": d.channel,
        "target": d.target,
        "message_id": d.message_id,
        "status": d.status,
        "detail": d.detail,
        "attempts": d.attempts,
        "next_attempt_at": iso(d.next_attempt_at),
        "served_at": iso(d.served_at),
        "created_at": iso(d.created_at),
        "at": iso(d.updated_at),
    }
    if attempts is not None:
        view["attempt_log"] = [
            {
                "attempt": a.attempt_no,
                "started_at": iso(a.started_at),
                "finished_at": iso(a.finished_at),
                "outcome": a.outcome or "in_flight",
                "code": a.code,
                "detail": a.detail,
                **({"signed_with": a.key_ids} if a.key_ids else {}),
            }
            for a in attempts
        ]
    return view


async def delivery_log(session: AsyncSession, deliveries: list[Delivery]) -> list[dict]:
    """Each delivery with every attempt (channel, recipient, status, HTTP status / SMTP reply, times)."""
    ids = [d.id for d in deliveries]
    attempts: dict[int, list[DeliveryAttempt]] = {i: [] for i in ids}
    if ids:
        for a in (
            await session.execute(
                select(DeliveryAttempt)
                .where(DeliveryAttempt.delivery_id.in_(ids))
                .order_by(DeliveryAttempt.delivery_id, DeliveryAttempt.attempt_no)
            )
        ).scalars():
            attempts[a.delivery_id].append(a)
    return [delivery_view(d, attempts[d.id]) for d in deliveries]


def notice_view(n: Notice, deliveries: list[Delivery], reply: Reply | None) -> dict:
    kind, rid = addressee_of(n)
    return {
        "notice_id": n.notice_id,
        "case_id": n.case_id,
        "kind": n.kind,
        "holder_id": n.holder_id,
        "addressee": {"kind": kind, "id": rid, "role": n.addressee_role or "rights_holder"},
        "holder_name": n.holder_name,
        "subject": n.subject,
        "body": n.body,
        "issued_by": n.issued_by,
        "reply_allowed": n.reply_allowed,
        "reply_deadline_at": iso(n.reply_deadline_at),
        "created_at": iso(n.created_at),
        "served_at": iso(served_at(deliveries, kind, rid)),
        "deliveries": [delivery_view(d) for d in deliveries],
        "reply": None
        if reply is None
        else {
            "decision": reply.decision,
            "content": reply.content,
            "replied_by": reply.replied_by,
            "received_at": reply.received_at.isoformat(),
            "signalled_at": iso(reply.signalled_at),
        },
    }


async def take_reply(session: AsyncSession, *, notice_id: str, reply: HolderReply, by: str) -> tuple[int, Reply]:
    """Record the holder's reply once; the same reply again is a no-op, a different one a conflict."""
    notice = (await session.execute(select(Notice).where(Notice.notice_id == notice_id).with_for_update())).scalar_one()
    if not notice.reply_allowed:
        raise Conflict("reply_not_expected", "this notice does not take a reply")
    content = reply.model_dump(mode="json", exclude={"notice_id", "replied_by"})
    existing = await session.get(Reply, notice_id)
    if existing is not None:
        if existing.content != content:
            raise Conflict("already_replied", "a different reply to this notice was already recorded")
        return 200, existing
    now = datetime.now(UTC)
    if notice.reply_deadline_at is not None and now > notice.reply_deadline_at:
        raise Conflict("reply_window_closed", f"the reply window closed at {notice.reply_deadline_at.isoformat()}")
    row = Reply(
        notice_id=notice_id,
        case_id=notice.case_id,
        decision=reply.decision,
        content=content,
        replied_by=by,
        received_at=now,
    )
    session.add(row)
    await session.flush()
    REPLIES.labels(reply.decision).inc()
    return 201, row


async def signal_reply(temporal: LazyClient, sessionmaker: async_sessionmaker[AsyncSession], notice_id: str) -> None:
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
        assert row is not None  # read above; a reply is never deleted
        row.signalled_at = datetime.now(UTC)


async def resignal_pending(temporal: LazyClient, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
    """Background duty: replies whose signal did not go out (Temporal was down) are sent again."""
    while True:
        try:
            async with sessionmaker() as session:
                ids = list(
                    (
                        await session.execute(select(Reply.notice_id).where(Reply.signalled_at.is_(None)).limit(100))
                    ).scalars()
                )
            for notice_id in ids:
                await signal_reply(temporal, sessionmaker, notice_id)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("re-signalling replies failed; will retry")
        await asyncio.sleep(5)
