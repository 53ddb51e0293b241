"""Notices to the parties of a case and their service (cases started under the ``case-parties`` patch).

The law gives some notices to the declarant, consignor, consignee or importer rather than to the
rights holder (``shared.rules.parties`` says which, to whom, and which clock each starts). A party's
notice counts as served when it is delivered (the mail server accepted it, or the party's registered
webhook answered 2xx) or when an officer records service on paper (the ``notice_served`` signal). Only
service starts the party's clock: a notice still being sent starts nothing, and one that cannot be
delivered becomes an officer's task (``party_notice_undeliverable``, on the escalation list) until an
officer serves it by other means.

The workflow learns of delivery without blocking: each notice has a watch, a durable loop of timers
(30 s, doubling up to an hour, as long as notify retries) and reads of the notice's service status
from the notify service, which ends when the notice is served; the procedures wait on the clock it
opens.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import cast

from temporalio import workflow
from temporalio.workflow import ActivityHandle

from services.cases.workflow import calls
from services.cases.workflow.deadlines import open_deadline
from services.cases.workflow.documents import party_notice_document
from services.cases.workflow.history import flush
from services.cases.workflow.state import CaseFile, CaseWithdrawn
from services.cases.workflow.steps import Refused, run_step
from services.cases.workflow.texts import party_notice_text

with workflow.unsafe.imports_passed_through():
    from shared.contracts.bounds import NoticeId
    from shared.contracts.cases import (
        NoticeAddressee,
        NoticeKind,
        NoticeRequest,
        NoticeResult,
        NoticeServed,
        NoticeStatusRequest,
        PartyNotice,
        PartyRef,
    )
    from shared.contracts.documents import PenaltyFacts
    from shared.rules import parties
    from shared.rules.pack import DeadlineRule

PATCH_PARTIES = "case-parties"
POLL_FIRST = timedelta(seconds=30)
POLL_MAX = timedelta(hours=1)


async def notify_party(
    f: CaseFile,
    kind: NoticeKind,
    *,
    clock: str | None = None,
    clock_rule: DeadlineRule | None = None,
    extra: str | None = None,
    penalty: PenaltyFacts | None = None,
) -> PartyNotice | None:
    """Send the party the law gives notice ``kind`` to, and watch it until served; its service opens ``clock``
    (a deadline of the rule pack, or ``clock_rule``) counted from the day of service. None: no party gets it."""
    case = f.case
    found = parties.addressee(case, kind)
    if found is None:
        return None
    role, party = found
    key = kind
    basis = parties.basis(case.jurisdiction, kind)
    subject, body = party_notice_text(kind, f, role, party.name, clock, clock_rule, extra)
    ref = cast(PartyRef, party)  # the case's own PartyRef
    request = NoticeRequest(
        idempotency_key=f"{case.case_id}:notice:{key}:{role}",
        case_id=case.case_id,
        kind=kind,
        holder=case.holder,
        subject=subject,
        body=body,
        addressee=NoticeAddressee(role=role, party=ref),
        **party_notice_document(f, kind, role, party, clock=clock, clock_rule=clock_rule, penalty=penalty),
    )
    task = (
        f"serve the {kind.replace('_', ' ')} notice on {party.name} ({role}) by other means and record "
        f"the service (POST /v1/cases/{case.case_id}/notices/{key}/service)"
    )
    result = await run_step(f, f"send_notice:{kind}:{role}", lambda: calls.send_notice(request), task=task)
    now = workflow.now()
    notice = PartyNotice(
        key=key, kind=kind, role=role, party_id=party.id, party_name=party.name, sent_at=now, clock=clock, basis=basis
    )
    if isinstance(result, Refused):
        f.party_notices[key] = notice.model_copy(update={"status": "not_sent"})
        f.log(
            "party_notice_sent",
            {
                "kind": kind,
                "role": role,
                "party_id": party.id,
                "notice_id": None,
                "email": "not_sent",
                "webhook": "not_sent",
                "basis": basis,
            },
        )
    else:
        f.party_notices[key] = notice.model_copy(update={"notice_id": result.notice_id})
        f.log(
            "party_notice_sent",
            {
                "kind": kind,
                "role": role,
                "party_id": party.id,
                "notice_id": result.notice_id,
                "email": result.email_status,
                "webhook": result.webhook_status,
                "basis": basis,
            },
        )
        _take_status(f, key, result)
    f.party_watches[key] = asyncio.create_task(_watch(f, key, clock, clock_rule, task))
    return f.party_notices[key]


def _take_status(f: CaseFile, key: str, result: NoticeResult) -> None:
    """What the notify service knows of the addressee's delivery: served, undeliverable, or still pending."""
    notice = f.party_notices[key]
    if notice.status != "pending":
        return
    if result.service == "served" or (result.service is None and result.served_at is not None):
        delivered = [
            (d, d.served_at) for d in result.deliveries if d.served_at is not None and d.recipient_kind == "party"
        ]
        first = min(delivered, key=lambda pair: pair[1])[0] if delivered else None
        served_at = result.served_at or workflow.now()
        # Service is never later than when the case learns of it, nor earlier than the notice went out.
        served_at = min(max(served_at, notice.sent_at or served_at), workflow.now())
        f.party_notices[key] = notice.model_copy(
            update={
                "status": "served",
                "served_at": served_at,
                "served_by": "delivered",
                "method": first.channel if first is not None else None,
            }
        )
    elif result.service == "undeliverable":
        f.party_notices[key] = notice.model_copy(update={"status": "undeliverable"})


async def _watch(f: CaseFile, key: str, clock: str | None, clock_rule: DeadlineRule | None, task: str) -> None:
    delay = POLL_FIRST
    flagged = False
    # The watch is never cancelled (cancelling it mid-activity would lose what it learned): when the case ends it
    # sees ``watches_stopped`` and returns. It writes nothing itself: the procedure's waits write the history.
    while not f.watches_stopped:
        notice = f.party_notices[key]
        if notice.status == "served":
            break
        if notice.status in ("undeliverable", "not_sent"):
            if not flagged and notice.status == "undeliverable":
                flagged = True
                f.log(
                    "party_notice_undeliverable",
                    {
                        "step": f"serve_notice:{key}",
                        "kind": notice.kind,
                        "role": notice.role,
                        "party_id": notice.party_id,
                        "notice_id": notice.notice_id,
                        "task": task,
                        "reason": "the notice could not be delivered on any channel; no time limit runs until it is "
                        "served",
                    },
                )
            await workflow.wait_condition(lambda: f.party_notices[key].status == "served" or f.watches_stopped)
            continue
        try:
            await workflow.wait_condition(
                lambda: f.party_notices[key].status != "pending" or f.watches_stopped, timeout=delay
            )
            continue
        except TimeoutError:
            pass
        assert notice.notice_id is not None

        def status(notice_id: NoticeId = notice.notice_id) -> ActivityHandle[NoticeResult]:
            return calls.notice_status(NoticeStatusRequest(notice_id=notice_id))

        result = await run_step(
            f,
            f"notice_status:{key}",
            status,
            task="",
            escalate=False,
        )
        if not isinstance(result, Refused):
            _take_status(f, key, result)
        delay = min(delay * 2, POLL_MAX)
    if f.watches_stopped:
        return
    notice = f.party_notices[key]
    assert notice.served_at is not None
    detail = {
        "kind": notice.kind,
        "role": notice.role,
        "party_id": notice.party_id,
        "notice_id": notice.notice_id,
        "served_at": notice.served_at.isoformat(),
        "by": notice.served_by,
        "method": notice.method,
        "step": f"serve_notice:{key}",
    }
    if clock is not None:
        deadline = open_deadline(f, clock, notice.served_at, fallback=clock_rule, basis=notice.basis)
        detail.update(clock=clock, due_at=deadline.due_at.isoformat())
    f.log("party_notice_served", detail)


def on_paper_service(f: CaseFile, served: NoticeServed) -> None:
    """An officer served a party's notice by other means (signal side: recorded, the watch opens the clock)."""
    key = next((k for k, n in f.party_notices.items() if served.notice in (k, n.notice_id)), None)
    by = served.actor.name if served.actor is not None else None
    if key is None:
        f.log(
            "notice_service_ignored",
            {"notice": served.notice, "why": "no such notice to a party of this case", "by": by},
        )
        return
    notice = f.party_notices[key]
    if notice.status == "served":
        f.log("notice_service_ignored", {"notice": served.notice, "why": "already served", "by": by})
        return
    now = workflow.now()
    at = served.served_at if served.served_at is not None else now
    at = min(max(at, notice.sent_at or at), now)
    f.party_notices[key] = notice.model_copy(
        update={"status": "served", "served_at": at, "served_by": by or "an officer", "method": served.method}
    )
    f.log(
        "notice_served_on_paper",
        {
            "notice": key,
            "notice_id": notice.notice_id,
            "party_id": notice.party_id,
            "method": served.method,
            "served_at": at.isoformat(),
            "note": served.note,
            "officer": by,
            "officer_sub": served.actor.sub if served.actor else None,
        },
    )


def served(f: CaseFile, key: str) -> bool:
    notice = f.party_notices.get(key)
    return notice is not None and notice.status == "served"


def served_at(f: CaseFile, key: str) -> datetime | None:
    notice = f.party_notices.get(key)
    return notice.served_at if notice is not None else None


async def wait_fact(f: CaseFile, condition: Callable[[], bool]) -> None:
    """Wait for ``condition`` with no time limit (a fact only an officer or a party can bring about)."""
    await flush(f)
    while True:
        if f.withdrawn_all is not None:
            raise CaseWithdrawn(f.withdrawn_all)
        if condition():
            return
        generation = len(f.history)

        def woken(generation: int = generation) -> bool:
            return condition() or f.withdrawn_all is not None or len(f.history) != generation

        await workflow.wait_condition(woken)
        if len(f.history) > f.recorded_upto:
            await flush(f)


def stop_watches(f: CaseFile) -> None:
    """The case ends: every watch returns at its next step, opening no clock."""
    f.watches_stopped = True
