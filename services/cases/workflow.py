"""The case workflow: the legal process of one suspected infringement on one declaration line.

CN ex officio path (Regulations on Customs Protection of IPR, Art. 16, 20, 24, 27):

    opened -> suspended (hold placed, holder notified, 3 working days to reply)
      no reply / "no detention" / no sufficient guarantee in time -> released
      "detain" + guarantee -> detained (customs determines within 30 working days)
        infringing      -> confiscated (fine, disposal, holder notified)
        not infringing  -> released
        cannot determine / 30 WD lapse -> undetermined (holder told; released at 50 WD
                                          unless a court assistance notice arrives)
        court notice    -> handed_to_court, or released, as the notice says

The workflow orchestrates; the step services act. Every step is an activity that calls
the owning service with an idempotency key born here. Deadlines are durable timers at the
end of the N-th working day in the jurisdiction's calendar.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from decimal import Decimal

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from shared.contracts.cases import (
        CASE_WORKFLOW_TYPE,
        QUERY_STATE,
        SIGNAL_COURT_NOTICE,
        SIGNAL_DETERMINATION,
        SIGNAL_GUARANTEE,
        SIGNAL_HOLDER_REPLY,
        CaseEventRecord,
        CaseInput,
        CaseState,
        CourtNotice,
        Deadline,
        Determination,
        DispositionRequest,
        DispositionResult,
        GuaranteeInfo,
        HistoryEntry,
        HoldActionRequest,
        HoldResult,
        HolderReply,
        NoticeRequest,
        NoticeResult,
        PlaceHoldRequest,
    )
    from shared.rules import cn
    from shared.rules.calendar import WorkingCalendar, calendar_for

ACTIVITY_TIMEOUT = timedelta(seconds=30)
RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=5),
    non_retryable_error_types=["ServiceRejected"],
)


@workflow.defn(name=CASE_WORKFLOW_TYPE)
class CaseWorkflow:
    @workflow.init
    def __init__(self, case: CaseInput) -> None:
        self.case = case
        self.state = "opened"
        self.history: list[HistoryEntry] = []
        self.recorded_upto = 0
        self.deadlines: dict[str, Deadline] = {}
        self.hold_id: str | None = None
        self.notice_ids: list[str] = []
        self.disposition: DispositionResult | None = None
        self.reply: HolderReply | None = None
        self.guarantee: GuaranteeInfo | None = None
        self.determination: Determination | None = None
        self.court_notice: CourtNotice | None = None
        self.accepting_reply = False
        value_cny = case.goods_value_cny if case.goods_value_cny is not None else (
            case.goods_value if case.currency == "CNY" else None)
        self.required_guarantee_cny: Decimal | None = (
            cn.ex_officio_guarantee_cny(value_cny) if value_cny is not None else None
        )

    # ------------------------------------------------------------------ run

    @workflow.run
    async def run(self, case: CaseInput) -> CaseState:
        cal = calendar_for(case.jurisdiction)
        self._log("case_opened", {"recordation_id": case.recordation_id, "mark": case.mark, "score": case.score,
                                  "reasons": case.reasons})
        hold: HoldResult = await self._act("place_hold", PlaceHoldRequest(
            idempotency_key=f"{case.case_id}:hold", case_id=case.case_id, declaration_id=case.declaration_id,
            line_no=case.line_no, customs_office=case.customs_office,
            reason=f"suspected infringement of recorded right {case.recordation_id} ({case.mark})",
        ), HoldResult)
        self.hold_id = hold.hold_id

        served = workflow.now()
        reply_deadline = self._open_deadline(cal, "holder_reply", cn.HOLDER_REPLY_WORKING_DAYS, served)
        self.accepting_reply = True
        notice = await self._notify("suspension", reply_allowed=True, reply_deadline_at=reply_deadline.due_at)
        await self._transition("suspended", "holder_notified", {"notice_id": notice.notice_id,
                                                                "email": notice.email_status,
                                                                "webhook": notice.webhook_status})

        replied = await self._wait_until(self._reply_settled, reply_deadline.due_at)
        self.accepting_reply = False
        if not replied or self.reply is None:
            self._close_deadline("holder_reply", "lapsed")
            reason = "no reply from the rights holder within 3 working days"
            if self.reply is not None:
                reason = "detention requested but no sufficient guarantee was posted within 3 working days"
            return await self._release(reason)
        self._close_deadline("holder_reply", "met")
        if self.reply.decision == "no_detention":
            return await self._release("the rights holder stated that no detention is needed")

        return await self._detain(cal)

    # ------------------------------------------------------------------ paths

    async def _detain(self, cal: WorkingCalendar) -> CaseState:
        case = self.case
        await self._act("hold_action", HoldActionRequest(
            idempotency_key=f"{case.case_id}:detain", hold_id=self.hold_id, action="detain",
            reason="rights holder requested detention and posted the guarantee"), HoldResult)
        detained_at = workflow.now()
        determination = self._open_deadline(cal, "customs_determination", cn.DETERMINATION_WORKING_DAYS, detained_at)
        release = self._open_deadline(cal, "court_notice_or_release", cn.EX_OFFICIO_RELEASE_WORKING_DAYS, detained_at)
        await self._transition("detained", "goods_detained", {"guarantee": self.guarantee.model_dump(mode="json")
                                                              if self.guarantee else None})
        await self._notify("detention")

        decided = await self._wait_until(lambda: self.determination is not None or self.court_notice is not None,
                                         determination.due_at)
        if self.court_notice is not None:
            self._close_deadline("customs_determination", "cancelled")
            return await self._act_on_court_notice()
        if decided and self.determination is not None:
            self._close_deadline("customs_determination", "met")
            if self.determination.outcome == "infringing":
                self._close_deadline("court_notice_or_release", "cancelled")
                return await self._confiscate()
            if self.determination.outcome == "not_infringing":
                self._close_deadline("court_notice_or_release", "cancelled")
                return await self._release("customs determined that the goods do not infringe")
        else:
            self._close_deadline("customs_determination", "lapsed")

        # Customs could not determine infringement (said so, or 30 working days passed).
        await self._transition("undetermined", "infringement_not_determined", {})
        await self._notify("cannot_determine")
        await self._wait_until(lambda: self.court_notice is not None, release.due_at)
        if self.court_notice is not None:
            return await self._act_on_court_notice()
        self._close_deadline("court_notice_or_release", "lapsed")
        return await self._release("no court assistance notice within 50 working days of detention")

    async def _act_on_court_notice(self) -> CaseState:
        notice = self.court_notice
        assert notice is not None
        self._close_deadline("court_notice_or_release", "met")
        if notice.action == "release":
            return await self._release(f"court assistance notice {notice.reference} orders release")
        case = self.case
        await self._act("hold_action", HoldActionRequest(
            idempotency_key=f"{case.case_id}:court", hold_id=self.hold_id, action="hand_to_court",
            reason=f"court assistance notice {notice.reference} of {notice.court}"), HoldResult)
        await self._dispose("handed_to_court", f"court assistance notice {notice.reference}")
        await self._notify("court_handover")
        return await self._finish("handed_to_court", "goods_handed_to_court", {"reference": notice.reference})

    async def _confiscate(self) -> CaseState:
        case = self.case
        await self._act("hold_action", HoldActionRequest(
            idempotency_key=f"{case.case_id}:confiscate", hold_id=self.hold_id, action="confiscate",
            reason="customs determined infringement"), HoldResult)
        await self._dispose("confiscation", "customs determined infringement")
        await self._notify("confiscation")
        return await self._finish("confiscated", "goods_confiscated", {
            "fine_amount": str(self.disposition.fine_amount) if self.disposition else None,
            "disposal_method": self.disposition.disposal_method if self.disposition else None,
        })

    async def _release(self, reason: str) -> CaseState:
        case = self.case
        for name, deadline in self.deadlines.items():
            if deadline.status == "pending":
                self._close_deadline(name, "cancelled")
        await self._act("hold_action", HoldActionRequest(
            idempotency_key=f"{case.case_id}:release", hold_id=self.hold_id, action="release", reason=reason),
            HoldResult)
        await self._dispose("release", reason)
        await self._notify("release", extra=reason)
        return await self._finish("released", "goods_released", {"reason": reason})

    async def _dispose(self, outcome: str, reason: str) -> None:
        case = self.case
        fine_tier = self.determination.fine_tier if self.determination else None
        self.disposition = await self._act("record_disposition", DispositionRequest(
            idempotency_key=f"{case.case_id}:disposition", case_id=case.case_id, jurisdiction=case.jurisdiction,
            outcome=outcome, goods_value=case.goods_value, currency=case.currency, right_type=case.right_type,
            fine_tier=fine_tier, reason=reason), DispositionResult)

    async def _finish(self, state: str, event: str, detail: dict) -> CaseState:
        await self._transition(state, event, detail)
        # Signals that arrive while the last steps run are still recorded before the case closes.
        await workflow.wait_condition(workflow.all_handlers_finished)
        await self._flush()
        return self.snapshot()

    # ------------------------------------------------------------------ signals & query

    @workflow.signal(name=SIGNAL_HOLDER_REPLY)
    def on_holder_reply(self, reply: HolderReply) -> None:
        if not self.accepting_reply or self.reply is not None:
            self._log("reply_ignored", {"decision": reply.decision,
                                        "why": "reply window closed" if not self.accepting_reply else "already replied"})
            return
        self.reply = reply
        if reply.guarantee is not None:
            self._take_guarantee(reply.guarantee)
        self._log("holder_replied", {"decision": reply.decision, "by": reply.replied_by,
                                     "notice_id": reply.notice_id})

    @workflow.signal(name=SIGNAL_GUARANTEE)
    def on_guarantee(self, guarantee: GuaranteeInfo) -> None:
        if not self.accepting_reply:
            self._log("guarantee_ignored", {"reference": guarantee.reference, "why": "reply window closed"})
            return
        self._take_guarantee(guarantee)

    @workflow.signal(name=SIGNAL_DETERMINATION)
    def on_determination(self, determination: Determination) -> None:
        if self.state != "detained" or self.determination is not None:
            self._log("determination_ignored", {"outcome": determination.outcome, "state": self.state})
            return
        self.determination = determination
        self._log("customs_determined", determination.model_dump(mode="json"))

    @workflow.signal(name=SIGNAL_COURT_NOTICE)
    def on_court_notice(self, notice: CourtNotice) -> None:
        if self.state not in ("detained", "undetermined") or self.court_notice is not None:
            self._log("court_notice_ignored", {"reference": notice.reference, "state": self.state})
            return
        self.court_notice = notice
        self._log("court_notice_received", notice.model_dump(mode="json"))

    @workflow.query(name=QUERY_STATE)
    def snapshot(self) -> CaseState:
        case = self.case
        return CaseState(
            case_id=case.case_id, state=self.state, jurisdiction=case.jurisdiction, holder_id=case.holder.id,
            declaration_id=case.declaration_id, line_no=case.line_no, goods_value=case.goods_value,
            currency=case.currency, required_guarantee_cny=self.required_guarantee_cny, hold_id=self.hold_id,
            notice_ids=list(self.notice_ids),
            disposition_id=self.disposition.disposition_id if self.disposition else None,
            fine_amount=self.disposition.fine_amount if self.disposition else None,
            deadlines=list(self.deadlines.values()), history=list(self.history),
        )

    # ------------------------------------------------------------------ helpers

    def _take_guarantee(self, guarantee: GuaranteeInfo) -> None:
        ok = self._sufficient(guarantee)
        if ok:
            self.guarantee = guarantee
        self._log("guarantee_received" if ok else "guarantee_insufficient", {
            **guarantee.model_dump(mode="json"),
            "required_cny": str(self.required_guarantee_cny) if self.required_guarantee_cny is not None else None,
        })

    def _sufficient(self, guarantee: GuaranteeInfo) -> bool:
        if self.required_guarantee_cny is None:
            return True  # goods value unknown in RMB: the officer checks the guarantee
        return guarantee.currency == "CNY" and guarantee.amount >= self.required_guarantee_cny

    def _reply_settled(self) -> bool:
        if self.reply is None:
            return False
        return self.reply.decision == "no_detention" or self.guarantee is not None

    async def _wait_until(self, condition, due_at: datetime) -> bool:  # noqa: ANN001
        """Wait for ``condition`` until the deadline instant; False if the deadline passed first."""
        await self._flush()
        remaining = due_at - workflow.now()
        if condition():
            return True
        if remaining <= timedelta(0):
            return False
        try:
            await workflow.wait_condition(condition, timeout=remaining)
            return True
        except asyncio.TimeoutError:
            return condition()

    def _open_deadline(self, cal: WorkingCalendar, name: str, working_days: int, start: datetime) -> Deadline:
        start_day = cal.local_date(start)
        due = cal.add_working_days(start_day, working_days)
        deadline = Deadline(name=name, working_days=working_days, start=start_day, due_date=due,
                            due_at=cal.end_of_day(due))
        self.deadlines[name] = deadline
        self._log("deadline_set", {"name": name, "working_days": working_days, "due_date": due.isoformat(),
                                   "due_at": deadline.due_at.isoformat()})
        return deadline

    def _close_deadline(self, name: str, status: str) -> None:
        deadline = self.deadlines.get(name)
        if deadline is not None and deadline.status == "pending":
            self.deadlines[name] = deadline.model_copy(update={"status": status})
            self._log("deadline_" + status, {"name": name})

    def _log(self, event: str, detail: dict) -> None:
        self.history.append(HistoryEntry(seq=len(self.history) + 1, at=workflow.now(), state=self.state,
                                         event=event, detail=detail))

    async def _transition(self, state: str, event: str, detail: dict) -> None:
        self.state = state
        self._log(event, detail)
        await self._flush()

    async def _flush(self) -> None:
        """Write history entries not yet recorded to the case audit trail (and cases.events.v1)."""
        pending = self.history[self.recorded_upto:]
        if not pending:
            return
        self.recorded_upto = len(self.history)
        await workflow.execute_activity(
            "record_case_events",
            [CaseEventRecord(case_id=self.case.case_id, seq=h.seq, at=h.at, state=h.state, event=h.event,
                             detail=h.detail, case_input=self.case) for h in pending],
            start_to_close_timeout=ACTIVITY_TIMEOUT, retry_policy=RETRY,
        )

    async def _notify(self, kind: str, *, reply_allowed: bool = False, reply_deadline_at: datetime | None = None,
                      extra: str | None = None) -> NoticeResult:
        case = self.case
        subject, body = _notice_text(kind, case, self, reply_deadline_at, extra)
        result = await self._act("send_notice", NoticeRequest(
            idempotency_key=f"{case.case_id}:notice:{kind}", case_id=case.case_id, kind=kind, holder=case.holder,
            subject=subject, body=body, reply_deadline_at=reply_deadline_at, reply_allowed=reply_allowed),
            NoticeResult)
        self.notice_ids.append(result.notice_id)
        self._log("notice_sent", {"kind": kind, "notice_id": result.notice_id, "email": result.email_status,
                                  "webhook": result.webhook_status})
        return result

    async def _act(self, activity: str, request, result_type):  # noqa: ANN001, ANN202
        return await workflow.execute_activity(
            activity, request, result_type=result_type, start_to_close_timeout=ACTIVITY_TIMEOUT, retry_policy=RETRY,
        )


def _notice_text(kind: str, case: CaseInput, wf: CaseWorkflow, deadline: datetime | None,
                 extra: str | None) -> tuple[str, str]:
    goods = (f"declaration {case.declaration_id} line {case.line_no}: {case.description} "
             f"(HS {case.hs_code}, {case.quantity} {case.unit}, value {case.goods_value} {case.currency})")
    head = f"Case {case.case_id} - recorded right {case.recordation_id} ({case.mark})"
    if kind == "suspension":
        guarantee = (f"RMB {wf.required_guarantee_cny}" if wf.required_guarantee_cny is not None
                     else "an amount set by customs")
        return (f"[Customs IPR] Suspension of release - reply by {deadline.isoformat() if deadline else '-'}",
                f"{head}\n\nCustoms ({case.customs_office}) has suspended release of goods suspected of infringing "
                f"your recorded right: {goods}.\nConsignor: {case.consignor.name}; consignee: {case.consignee.name}.\n\n"
                f"Within 3 working days (until {deadline.isoformat() if deadline else '-'}) either request detention "
                f"and post a guarantee of {guarantee}, or state that no detention is needed. Without a reply the "
                f"goods are released.\nReply: POST /v1/notices/<notice id>/reply on the notify service.")
    texts = {
        "detention": ("Goods detained", "The goods are detained. Customs will determine infringement within 30 "
                                        "working days of detention."),
        "cannot_determine": ("Infringement could not be determined",
                             "Customs could not determine infringement. The goods will be released 50 working days "
                             "after detention unless a court assistance notice is received."),
        "confiscation": ("Goods confiscated", "Customs determined infringement; the goods are confiscated."),
        "release": ("Goods released", f"The goods are released. Reason: {extra}."),
        "court_handover": ("Goods held for the court", "Acting on the court assistance notice, the goods are held "
                                                       "for the court."),
    }
    title, text = texts[kind]
    return f"[Customs IPR] {title} - {case.case_id}", f"{head}\n\n{text}\n\nGoods: {goods}."
