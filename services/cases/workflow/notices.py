"""Written notices to the rights holder, sent by the notify service with an idempotency key per notice."""

from __future__ import annotations

from datetime import datetime

from temporalio import workflow

from services.cases.workflow import calls
from services.cases.workflow.state import CaseFile
from services.cases.workflow.texts import notice_text

with workflow.unsafe.imports_passed_through():
    from shared.contracts.cases import NoticeKind, NoticeRequest, NoticeResult


async def notify(f: CaseFile, kind: NoticeKind, *, reply_allowed: bool = False,
                 reply_deadline_at: datetime | None = None, extra: str | None = None,
                 key: str | None = None) -> NoticeResult:
    case = f.case
    subject, body = notice_text(kind, f, reply_deadline_at, extra)
    result = await calls.send_notice(NoticeRequest(
        idempotency_key=f"{case.case_id}:notice:{key or kind}", case_id=case.case_id, kind=kind, holder=case.holder,
        subject=subject, body=body, reply_deadline_at=reply_deadline_at, reply_allowed=reply_allowed))
    f.notice_ids.append(result.notice_id)
    f.log("notice_sent", {"kind": kind, "notice_id": result.notice_id, "email": result.email_status,
                          "webhook": result.webhook_status})
    return result
