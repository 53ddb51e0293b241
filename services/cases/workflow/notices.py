"""Written notices to the rights holder, sent by the notify service with an idempotency key per notice.

A notice the notify service refuses is recorded as an officer's task (serve it by other means);
the case and its deadlines go on.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from temporalio import workflow

from services.cases.workflow import calls
from services.cases.workflow.documents import notice_document
from services.cases.workflow.state import CaseFile
from services.cases.workflow.steps import Refused, run_step
from services.cases.workflow.texts import notice_text

with workflow.unsafe.imports_passed_through():
    from shared.contracts.cases import NoticeKind, NoticeRequest, NoticeResult


async def notify(
    f: CaseFile,
    kind: NoticeKind,
    *,
    reply_allowed: bool = False,
    reply_deadline_at: datetime | None = None,
    extra: str | None = None,
    key: str | None = None,
) -> NoticeResult | None:
    """Send a notice; None if the notify service refused it (recorded as an officer's task)."""
    case = f.case
    subject, body = notice_text(kind, f, reply_deadline_at, extra)
    result = await run_step(
        f,
        f"send_notice:{kind}",
        lambda: calls.send_notice(
            NoticeRequest(
                idempotency_key=f"{case.case_id}:notice:{key or kind}",
                case_id=case.case_id,
                kind=kind,
                holder=case.holder,
                subject=subject,
                body=body,
                reply_deadline_at=reply_deadline_at,
                reply_allowed=reply_allowed,
                **notice_document(f, kind, reply_deadline_at, extra),
            )
        ),
        task=f"serve the {kind.replace('_', ' ')} notice to {case.holder.name} by other means",
    )
    if isinstance(result, Refused):
        return None
    f.notice_ids.append(result.notice_id)
    f.log(
        "notice_sent",
        {"kind": kind, "notice_id": result.notice_id, "email": result.email_status, "webhook": result.webhook_status},
    )
    return result


def delivery(notice: NoticeResult | None) -> dict[str, Any]:
    """How a notice went out, for the history (``not_sent`` when the notify service refused it)."""
    if notice is None:
        return {"notice_id": None, "email": "not_sent", "webhook": "not_sent"}
    return {"notice_id": notice.notice_id, "email": notice.email_status, "webhook": notice.webhook_status}
