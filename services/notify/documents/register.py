"""The register of the documents notices carried: number, render and keep each one as sent.

When a notice is recorded, its document is numbered (the running number of its kind for the issuing office and
year, taken in the notice's transaction so a number is never given twice nor skipped), rendered as HTML and
plain text from the facts the notice request carries, and stored beside the notice. The stored HTML is the
document: it is never rendered again from the templates, so a later template change leaves it as sent. The
PDF is made from the stored HTML the first time someone asks for it (about a second of CPU, kept off the path
that records and sends the notice) and stored from then on.

A document that cannot be made (a request from a workflow started before documents, a document the law does
not give, facts a template cannot use) never stops the notice: the row records why, and the notice goes out
as plain text.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from prometheus_client import Counter, Histogram
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.notify.documents import document_number, legal, render_html, render_text
from services.notify.documents.render import TEMPLATES, _with_kind
from services.notify.models import DocumentRegister, NoticeDocument
from services.notify.settings import Settings
from shared.contracts.cases import NoticeRequest
from shared.contracts.documents import DocumentData, DocumentFacts

log = logging.getLogger(__name__)

DOCUMENTS = Counter(
    "ipr_notice_documents_total",
    "Documents of notices, rendered or not (with the reason's class)",
    ["status", "reason"],
)
RENDER_SECONDS = Histogram(
    "ipr_document_render_seconds",
    "Time to render a document",
    ["format"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10),
)


def issue_day(facts: DocumentFacts, now: datetime) -> date:
    """The date of issue: the day in the jurisdiction's time zone when the notice is recorded."""
    return now.astimezone(ZoneInfo(facts.timezone or legal.TIMEZONES[facts.jurisdiction])).date()


async def next_sequence(session: AsyncSession, office: str, year: int, kind: str) -> int:
    """The next running number of ``kind`` for ``office`` in ``year`` (row-locked until the transaction ends)."""
    upsert = insert(DocumentRegister).values(office=office, year=year, kind=kind, last_sequence=1)
    stmt = upsert.on_conflict_do_update(
        index_elements=["office", "year", "kind"],
        set_={"last_sequence": DocumentRegister.last_sequence + 1},
    ).returning(DocumentRegister.last_sequence)
    return int((await session.execute(stmt)).scalar_one())


def _parties(facts: DocumentFacts) -> list[str]:
    ids = [
        p.id
        for p in (facts.case.declarant, facts.case.consignor, facts.case.consignee, facts.case.importer)
        if p is not None and p.id
    ]
    return list(dict.fromkeys(ids))


def reply_url(settings: Settings, notice_id: str) -> str:
    return f"{settings.public_url}/v1/notices/{notice_id}/reply"


def document_url(settings: Settings, notice_id: str, fmt: str = "html") -> str:
    return f"{settings.public_url}/v1/notices/{notice_id}/document?format={fmt}"


async def record(
    session: AsyncSession,
    *,
    notice_id: str,
    request: NoticeRequest,
    settings: Settings,
    now: datetime,
) -> NoticeDocument:
    """Number, render and store the document of a notice being recorded (in the notice's transaction)."""
    facts = request.document
    if facts is None:
        return _not_rendered(
            session,
            notice_id,
            "no_facts",
            (
                f"{request.document_note}; sent as plain text"
                if request.document_note
                else "the notice request carries no document facts (sent by a case started before documents); "
                "sent as plain text"
            ),
        )
    if request.reply_allowed and facts.reply_url is None:
        facts = facts.model_copy(update={"reply_url": reply_url(settings, notice_id)})
    day = issue_day(facts, now)
    try:
        async with session.begin_nested():  # the number is given back if the document cannot be rendered
            sequence = await next_sequence(session, facts.office.code, day.year, facts.kind)
            data = DocumentData.issue(
                facts, number=document_number(facts.office.code, day.year, facts.kind, sequence), issued_on=day
            )
            started = time.perf_counter()
            html, text = render_html(data), render_text(data)
            RENDER_SECONDS.labels("html+text").observe(time.perf_counter() - started)
            title = str(_with_kind(data)["title"](legal.languages(data.jurisdiction, data.member_state)[0]))
            row = NoticeDocument(
                notice_id=notice_id,
                status="rendered",
                number=data.number,
                kind=data.kind,
                jurisdiction=data.jurisdiction,
                languages=[lang.html for lang in legal.languages(data.jurisdiction, data.member_state)],
                title=title[:512],
                office=data.office.code,
                party_ids=_parties(facts),
                issued_on=day,
                html=html,
                text=text,
                html_sha256=hashlib.sha256(html.encode()).hexdigest(),
                created_at=now,
            )
            session.add(row)
            await session.flush()
    except Exception as exc:  # noqa: BLE001 - a notice never fails because of its document
        log.warning("document of notice %s (%s) not rendered: %s", notice_id, facts.kind, exc)
        return _not_rendered(
            session,
            notice_id,
            "render_failed",
            f"{facts.kind} could not be rendered: {type(exc).__name__}: {exc}"[:2000],
            kind=facts.kind,
            jurisdiction=facts.jurisdiction,
            office=facts.office.code,
            party_ids=_parties(facts),
        )
    DOCUMENTS.labels("rendered", "").inc()
    return row


def _not_rendered(
    session: AsyncSession, notice_id: str, reason_class: str, reason: str, **fields: Any
) -> NoticeDocument:
    row = NoticeDocument(notice_id=notice_id, status="not_rendered", reason=reason[:2048], **fields)
    session.add(row)
    DOCUMENTS.labels("not_rendered", reason_class).inc()
    return row


def _pdf_of(html: str) -> bytes:
    from weasyprint import HTML  # imported here: the HTML and text renderers need no Pango

    return HTML(string=html, base_url=str(TEMPLATES)).write_pdf()


_PDF_LOCKS: dict[str, asyncio.Lock] = {}


async def pdf(sessionmaker: async_sessionmaker[AsyncSession], notice_id: str) -> bytes:
    """The document's PDF: the stored one, or made now from the stored HTML (in a worker thread) and stored."""
    async with sessionmaker() as session:
        stored = (
            await session.execute(select(NoticeDocument.pdf).where(NoticeDocument.notice_id == notice_id))
        ).scalar_one_or_none()
    if stored is not None:
        return stored
    lock = _PDF_LOCKS.setdefault(notice_id, asyncio.Lock())
    async with lock:  # concurrent first requests in this process make it once
        try:
            async with sessionmaker() as session:
                doc = await session.get(NoticeDocument, notice_id)
                if doc is None or doc.html is None:
                    raise LookupError(f"notice {notice_id} has no stored document")
                if doc.pdf is not None:
                    return doc.pdf
                html = doc.html
            started = time.perf_counter()
            data = await asyncio.to_thread(_pdf_of, html)
            RENDER_SECONDS.labels("pdf").observe(time.perf_counter() - started)
            async with sessionmaker() as session, session.begin():
                row = await session.get(NoticeDocument, notice_id, with_for_update=True)
                assert row is not None
                if row.pdf is None:  # another replica may have stored one meanwhile: the first is kept
                    row.pdf, row.pdf_rendered_at = data, datetime.now(UTC)
                return row.pdf or data
        finally:
            _PDF_LOCKS.pop(notice_id, None)


def view(doc: NoticeDocument | None, settings: Settings) -> dict | None:
    """The document as the notice listing shows it."""
    if doc is None:
        return None
    if doc.status != "rendered":
        return {"status": doc.status, "reason": doc.reason, "kind": doc.kind}
    return {
        "status": "rendered",
        "number": doc.number,
        "kind": doc.kind,
        "title": doc.title,
        "jurisdiction": doc.jurisdiction,
        "languages": doc.languages,
        "language": (doc.languages or [None])[0],
        "issued_on": doc.issued_on.isoformat() if doc.issued_on else None,
        "html_url": document_url(settings, doc.notice_id, "html"),
        "pdf_url": document_url(settings, doc.notice_id, "pdf"),
        "txt_url": document_url(settings, doc.notice_id, "txt"),
    }
