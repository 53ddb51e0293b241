"""The delivery outbox sender: claims due deliveries, sends each once per attempt, records every outcome.

A delivery row is written with its notice (same transaction) before anything is sent. To send, a
sender *claims* it: in one committed transaction the row becomes ``sending`` with a lease and an
attempt row is opened. Only then does the e-mail or webhook go out, and the outcome is recorded in a
second transaction. If the process dies in between, the lease runs out, the open attempt is recorded
as ``unknown`` and the delivery is sent again with the same Message-ID / event id, so the receiver can
tell it is the same notice. Claims use ``FOR UPDATE SKIP LOCKED``: any number of notify replicas, the
issuing request and the background loop never send the same attempt twice.
"""

from __future__ import annotations

import asyncio
import email.policy
import json
import logging
import random
import smtplib
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import formatdate

import httpx
from prometheus_client import Counter, Gauge
from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.notify import keys
from services.notify.documents import register
from services.notify.domain import (
    EVENT_ID_HEADER,
    SIGNATURE_HEADER,
    AttemptResult,
    RetryPolicy,
    TargetRefused,
    check_target,
    classify_http,
    classify_smtp_reply,
    signature_header,
)
from services.notify.models import OPEN_STATUSES, Delivery, DeliveryAttempt, Notice, NoticeDocument
from services.notify.settings import Settings

log = logging.getLogger(__name__)

DELIVERIES = Counter("ipr_notice_deliveries_total", "Notice deliveries reaching a final state", ["channel", "status"])
ATTEMPTS = Counter(
    "ipr_notice_delivery_attempts_total", "Attempts to deliver a notice, by outcome", ["channel", "outcome"]
)
OPEN = Gauge(
    "ipr_notice_deliveries_open", "Deliveries not yet final (pending, sending, retrying)", ["channel", "status"]
)
OLDEST_OPEN = Gauge(
    "ipr_notice_delivery_oldest_open_seconds", "Age of the oldest delivery not yet final (0 when none)", ["channel"]
)

Mailer = Callable[["Settings", EmailMessage, str], AttemptResult]  # (settings, message, recipient address)


def utcnow() -> datetime:
    return datetime.now(UTC)


def smtp_send(settings: Settings, message: EmailMessage, recipient: str) -> AttemptResult:
    """One SMTP transaction, bounded by ``smtp_timeout_s`` in total; every reply code is kept for the log."""
    deadline = time.monotonic() + settings.smtp_timeout_s

    def remaining() -> float:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError(f"SMTP attempt took longer than {settings.smtp_timeout_s} s")
        return left

    def rest_of_deadline(smtp: smtplib.SMTP) -> None:
        assert smtp.sock is not None  # connected by the constructor (it is given the host)
        smtp.sock.settimeout(remaining())

    def text(raw: bytes | str) -> str:
        return (raw.decode(errors="replace") if isinstance(raw, bytes) else str(raw)).strip()

    try:
        with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=remaining()) as smtp:
            rest_of_deadline(smtp)
            smtp.ehlo_or_helo_if_needed()
            rest_of_deadline(smtp)
            code, reply = smtp.mail(settings.smtp_sender)
            if code != 250:
                return classify_smtp_reply("mail", code, text(reply))
            rest_of_deadline(smtp)
            code, reply = smtp.rcpt(recipient)
            if code not in (250, 251):
                return classify_smtp_reply("rcpt", code, text(reply))
            rest_of_deadline(smtp)
            code, reply = smtp.data(message.as_bytes(policy=email.policy.SMTP))
            return AttemptResult("accepted", code, f"{code} {text(reply)}")
    except smtplib.SMTPDataError as exc:
        return classify_smtp_reply("data", exc.smtp_code, text(exc.smtp_error))
    except smtplib.SMTPResponseException as exc:
        return AttemptResult("temporary_failure", exc.smtp_code, f"SMTP {exc.smtp_code} {text(exc.smtp_error)}")
    except (smtplib.SMTPException, OSError) as exc:  # refused, reset, timed out, disconnected mid-transaction
        return AttemptResult("temporary_failure", None, f"{type(exc).__name__}: {exc}"[:500])


def footer(settings: Settings, notice: Notice) -> str:
    text = f"\n\n--\nNotice {notice.notice_id} of case {notice.case_id}."
    if notice.reply_allowed:
        text += (
            f"\nReply (authenticated with your rights-holder token): POST "
            f"{settings.public_url}/v1/notices/{notice.notice_id}/reply with "
            '{"decision": "detain", "guarantee": {...}} or {"decision": "no_detention"}.'
        )
    return text


def _rendered(document: NoticeDocument | None) -> NoticeDocument | None:
    return document if document is not None and document.status == "rendered" else None


def document_text(settings: Settings, document: NoticeDocument) -> str:
    """The document in the plain-text part: its number, where to fetch it, and its full text."""
    return (
        f"\n\nLegal document {document.number}: {document.title}\n"
        f"PDF: {register.document_url(settings, document.notice_id, 'pdf')}\n"
        f"HTML: {register.document_url(settings, document.notice_id, 'html')}\n"
        f"(with your access token; also on the rights-holder portal)\n\n{document.text}"
    )


def email_message(
    settings: Settings,
    notice: Notice,
    delivery: Delivery,
    document: NoticeDocument | None = None,
) -> EmailMessage:
    """The notice as e-mail: the plain text with the document's text; the document as sent as the HTML part."""
    document = _rendered(document)
    msg = EmailMessage()
    msg["Message-ID"] = delivery.message_id
    msg["Date"] = formatdate(usegmt=True)
    msg["From"] = settings.smtp_sender
    msg["To"] = delivery.target
    msg["Subject"] = f"{notice.subject} [{document.number}]" if document else notice.subject
    msg["X-IPR-Notice-Id"] = notice.notice_id
    msg["X-IPR-Case-Id"] = notice.case_id
    if document:
        msg["X-IPR-Document-Number"] = document.number
    msg.set_content(notice.body + (document_text(settings, document) if document else "") + footer(settings, notice))
    if document:
        msg.add_alternative(document.html, subtype="html")
    return msg


def webhook_body(
    settings: Settings,
    notice: Notice,
    delivery: Delivery,
    document: NoticeDocument | None = None,
) -> bytes:
    """The JSON a webhook carries; the same bytes on every attempt (only the signature's timestamp changes)."""
    document = _rendered(document)
    return json.dumps(
        {
            "document": None
            if document is None
            else {
                "number": document.number,
                "kind": document.kind,
                "title": document.title,
                "languages": document.languages,
                "url": register.document_url(settings, notice.notice_id, "html"),
                "pdf_url": register.document_url(settings, notice.notice_id, "pdf"),
            },
            "event_id": delivery.message_id,
            "type": "notice.issued",
            "notice_id": notice.notice_id,
            "case_id": notice.case_id,
            "kind": notice.kind,
            "recipient": {"kind": delivery.recipient_kind, "id": delivery.recipient_id},
            "subject": notice.subject,
            "body": notice.body + footer(settings, notice),
            "reply_allowed": notice.reply_allowed,
            "reply_url": f"{settings.public_url}/v1/notices/{notice.notice_id}/reply" if notice.reply_allowed else None,
            "reply_deadline_at": notice.reply_deadline_at.isoformat() if notice.reply_deadline_at else None,
            "issued_at": notice.created_at.isoformat() if notice.created_at else None,
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    ).encode()


@dataclass(frozen=True)
class Claim:
    delivery_id: int
    notice_id: str
    attempt_no: int


class Dispatcher:
    """Sends due deliveries from the outbox: right after a notice is issued, and in a background loop."""

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        settings: Settings,
        *,
        mailer: Mailer = smtp_send,
        http: httpx.AsyncClient | None = None,
        rand: Callable[[], float] = random.random,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.settings = settings
        self.mailer = mailer
        self.http = http or httpx.AsyncClient(
            timeout=settings.webhook_timeout_s, follow_redirects=False, headers={"User-Agent": "ipr-notify/1"}
        )
        self.cipher = keys.KeyCipher(settings.webhook_key_encryption_secret.get_secret_value())
        self.policy = RetryPolicy(
            base_s=settings.delivery_retry_base_seconds,
            max_interval_s=settings.delivery_retry_max_interval_seconds,
            window_s=settings.delivery_retry_window_seconds,
        )
        self.rand = rand
        self.inflight: dict[int, tuple[str, asyncio.Task]] = {}
        self._kicked = asyncio.Event()

    # ------------------------------------------------------------ claiming

    async def claim(self, *, notice_id: str | None = None, limit: int = 50) -> list[Claim]:
        """Claim due deliveries (or the fresh ones of ``notice_id``) in one committed transaction."""
        now = utcnow()
        lease = timedelta(seconds=self.settings.delivery_lease_seconds)
        if notice_id is not None:
            where = and_(Delivery.notice_id == notice_id, Delivery.status == "pending")
        else:
            where = or_(
                and_(Delivery.status.in_(("pending", "retrying")), Delivery.next_attempt_at <= now),
                and_(Delivery.status == "sending", Delivery.lease_until < now),
            )
        claims: list[Claim] = []
        async with self.sessionmaker() as session, session.begin():
            rows = (
                (
                    await session.execute(
                        select(Delivery)
                        .where(where)
                        .order_by(Delivery.next_attempt_at.nulls_first(), Delivery.id)
                        .limit(limit)
                        .with_for_update(skip_locked=True)
                    )
                )
                .scalars()
                .all()
            )
            for row in rows:
                if row.status == "sending":
                    await self._close_lost_attempt(session, row, now)
                row.attempts += 1
                row.status = "sending"
                row.lease_until = now + lease
                row.updated_at = now
                session.add(DeliveryAttempt(delivery_id=row.id, attempt_no=row.attempts, started_at=now))
                claims.append(Claim(row.id, row.notice_id, row.attempts))
        return claims

    async def _close_lost_attempt(self, session: AsyncSession, row: Delivery, now: datetime) -> None:
        attempt = (
            await session.execute(
                select(DeliveryAttempt).where(
                    DeliveryAttempt.delivery_id == row.id, DeliveryAttempt.attempt_no == row.attempts
                )
            )
        ).scalar_one_or_none()
        detail = (
            "no outcome recorded before the lease ran out (the sender stopped mid-attempt); "
            "sent again with the same " + ("Message-ID" if row.channel == "email" else "event id")
        )
        if attempt is not None and attempt.outcome is None:
            attempt.outcome, attempt.finished_at, attempt.detail = "unknown", now, detail
        ATTEMPTS.labels(row.channel, "unknown").inc()
        log.warning(
            "delivery %s (%s of notice %s): attempt %s has no outcome; sending again",
            row.id,
            row.channel,
            row.notice_id,
            row.attempts,
        )

    # ------------------------------------------------------------ sending

    def spawn(self, claim: Claim) -> asyncio.Task:
        task = asyncio.create_task(self.attempt(claim), name=f"delivery-{claim.delivery_id}")
        self.inflight[claim.delivery_id] = (claim.notice_id, task)

        def done(_: asyncio.Task) -> None:
            self.inflight.pop(claim.delivery_id, None)
            self._kicked.set()

        task.add_done_callback(done)
        return task

    async def attempt(self, claim: Claim) -> AttemptResult:
        """Send one claimed attempt and record its outcome; never raises for a failed delivery."""
        key_ids: list[str] | None = None
        try:
            async with self.sessionmaker() as session:
                delivery = await session.get(Delivery, claim.delivery_id)
                notice = await session.get(Notice, claim.notice_id)
                document = await session.get(NoticeDocument, claim.notice_id)
            if delivery is None or notice is None:
                raise LookupError(f"delivery {claim.delivery_id} or notice {claim.notice_id} not found")
            if delivery.channel == "email":
                message = email_message(self.settings, notice, delivery, document)
                assert delivery.target is not None  # only a delivery with an address is pending (and claimed)
                result = await asyncio.to_thread(self.mailer, self.settings, message, delivery.target)
            else:
                result, key_ids = await self._webhook(notice, delivery, claim.attempt_no, document)
        except Exception as exc:  # noqa: BLE001 - a fault of ours: recorded and retried like a temporary failure
            log.exception("delivery %s attempt %s failed unexpectedly", claim.delivery_id, claim.attempt_no)
            result = AttemptResult("temporary_failure", None, f"internal error: {type(exc).__name__}: {exc}"[:500])
        await self.record(claim, result, key_ids=key_ids)
        return result

    async def _webhook(
        self, notice: Notice, delivery: Delivery, attempt_no: int, document: NoticeDocument | None = None
    ) -> tuple[AttemptResult, list[str] | None]:
        try:
            url = check_target(delivery.target or "", self.settings.webhook_allowed_hosts)
        except TargetRefused as exc:
            return AttemptResult("refused", None, f"refused: {exc}"), None
        async with self.sessionmaker() as session, session.begin():
            in_force = await keys.signing_secrets(
                session,
                self.cipher,
                kind=delivery.recipient_kind,
                recipient_id=delivery.recipient_id,
                created_by="notify (first webhook)",
            )
        body = webhook_body(self.settings, notice, delivery, document)
        assert delivery.message_id is not None  # a delivery with a target has its event id from the start
        headers = {
            "Content-Type": "application/json",
            EVENT_ID_HEADER: delivery.message_id,
            "X-IPR-Notice-Id": notice.notice_id,
            "X-IPR-Delivery-Attempt": str(attempt_no),
            SIGNATURE_HEADER: signature_header([s for _, s in in_force], int(time.time()), body),
        }
        key_ids = [k for k, _ in in_force]
        try:
            async with asyncio.timeout(self.settings.webhook_timeout_s):
                response = await self.http.post(url, content=body, headers=headers)
        except TimeoutError:
            return AttemptResult(
                "temporary_failure", None, f"no answer within {self.settings.webhook_timeout_s} s"
            ), key_ids
        except httpx.TransportError as exc:
            return AttemptResult("temporary_failure", None, f"{type(exc).__name__}: {exc}"[:500]), key_ids
        return classify_http(response.status_code, response.headers.get("retry-after")), key_ids

    # ------------------------------------------------------------ recording

    async def record(self, claim: Claim, result: AttemptResult, *, key_ids: list[str] | None = None) -> None:
        """Record an attempt's outcome and decide what follows (served, retry at a time, or undeliverable)."""
        now = utcnow()
        async with self.sessionmaker() as session, session.begin():
            delivery = (
                await session.execute(select(Delivery).where(Delivery.id == claim.delivery_id).with_for_update())
            ).scalar_one()
            attempt = (
                await session.execute(
                    select(DeliveryAttempt).where(
                        DeliveryAttempt.delivery_id == claim.delivery_id, DeliveryAttempt.attempt_no == claim.attempt_no
                    )
                )
            ).scalar_one()
            lost = attempt.outcome is not None  # the lease ran out and the attempt was taken for lost
            attempt.finished_at, attempt.code, attempt.outcome = now, result.code, result.outcome
            attempt.detail = (f"finished after its lease ran out: {result.detail}" if lost else result.detail)[:2000]
            attempt.key_ids = key_ids
            ATTEMPTS.labels(delivery.channel, result.outcome).inc()
            current = delivery.status == "sending" and delivery.attempts == claim.attempt_no
            if result.outcome == "accepted":
                if delivery.status != "delivered":
                    delivery.status, delivery.served_at = "delivered", now
                    delivery.lease_until = delivery.next_attempt_at = None
                    delivery.detail = result.detail[:2000]
                    DELIVERIES.labels(delivery.channel, "delivered").inc()
            elif current:
                when = None
                if result.outcome == "temporary_failure":
                    when = self.policy.next_attempt(
                        attempt_no=claim.attempt_no,
                        now=now,
                        created_at=delivery.created_at,
                        rand=self.rand(),
                        retry_after_s=result.retry_after_s,
                    )
                delivery.lease_until = None
                if when is not None:
                    delivery.status, delivery.next_attempt_at = "retrying", when
                    delivery.detail = f"attempt {claim.attempt_no}: {result.detail}"[:2000]
                else:
                    delivery.status, delivery.next_attempt_at = "undeliverable", None
                    why = "retry window ended" if result.outcome == "temporary_failure" else "not retried"
                    delivery.detail = f"{why} after {claim.attempt_no} attempt(s); last: {result.detail}"[:2000]
                    DELIVERIES.labels(delivery.channel, "undeliverable").inc()
                    log.warning(
                        "delivery %s (%s of notice %s to %s %s) undeliverable: %s",
                        delivery.id,
                        delivery.channel,
                        delivery.notice_id,
                        delivery.recipient_kind,
                        delivery.recipient_id,
                        delivery.detail,
                    )
            delivery.updated_at = now

    # ------------------------------------------------------------ entry points

    async def deliver_now(self, notice_id: str, *, wait: float) -> None:
        """Start the first attempt of a new notice's deliveries and wait up to ``wait`` seconds for them."""
        for claim in await self.claim(notice_id=notice_id):
            self.spawn(claim)
        tasks = [task for (nid, task) in list(self.inflight.values()) if nid == notice_id]
        if tasks and wait > 0:
            await asyncio.wait(tasks, timeout=wait)  # on timeout the attempts go on; the caller gets what is known

    def kick(self) -> None:
        self._kicked.set()

    async def run_due(self) -> int:
        """One pass of the loop: claim what is due (up to the free capacity) and start sending it."""
        free = self.settings.delivery_concurrency - len(self.inflight)
        if free <= 0:
            return 0
        claims = await self.claim(limit=free)
        for claim in claims:
            self.spawn(claim)
        return len(claims)

    async def loop(self) -> None:
        """The background sender: retries, deliveries whose issuing request died, attempts whose lease ran out."""
        while True:
            started = await self.run_due()
            if started and len(self.inflight) < self.settings.delivery_concurrency:
                continue  # more may be due
            try:
                await asyncio.wait_for(self._kicked.wait(), timeout=self.settings.delivery_poll_seconds)
            except TimeoutError:
                pass
            self._kicked.clear()

    async def housekeeping(self) -> None:
        """Every 15 s: the backlog gauges, and erasing the secrets of signing keys whose overlap has ended."""
        while True:
            await self.refresh_gauges()
            async with self.sessionmaker() as session, session.begin():
                erased = await keys.erase_retired(session)
            if erased:
                log.info("erased %s retired webhook signing key(s)", erased)
            await asyncio.sleep(15)

    async def refresh_gauges(self) -> None:
        now = utcnow()
        async with self.sessionmaker() as session:
            rows = (
                await session.execute(
                    select(Delivery.channel, Delivery.status, func.count(), func.min(Delivery.created_at))
                    .where(Delivery.status.in_(OPEN_STATUSES))
                    .group_by(Delivery.channel, Delivery.status)
                )
            ).all()
        oldest: dict[str, float] = {"email": 0.0, "webhook": 0.0}
        seen = set()
        for channel, status, count, first in rows:
            OPEN.labels(channel, status).set(count)
            seen.add((channel, status))
            oldest[channel] = max(oldest.get(channel, 0.0), (now - first).total_seconds())
        for channel in ("email", "webhook"):
            for status in OPEN_STATUSES:
                if (channel, status) not in seen:
                    OPEN.labels(channel, status).set(0)
        for channel, age in oldest.items():
            OLDEST_OPEN.labels(channel).set(age)

    async def drain(self, grace_s: float) -> None:
        """On shutdown: let attempts in flight finish within ``grace_s``; what is cut off is sent again after its
        lease."""
        tasks = [task for _, task in list(self.inflight.values())]
        if tasks:
            await asyncio.wait(tasks, timeout=grace_s)
        for _, task in list(self.inflight.values()):
            task.cancel()
        await self.http.aclose()
