"""Version 1 of the case workflow (the CN ex officio skeleton), kept so cases started under it replay.

``CaseWorkflow.run`` takes this path only for histories recorded before the
``case-workflow-v2`` patch marker existed. Do not change it: the replay test proves it
still reproduces every saved v1 history. New behaviour goes into ``workflow.py``.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from shared.contracts.cases import (
        CaseEventRecord,
        CaseInput,
        CaseState,
        Deadline,
        DispositionRequest,
        DispositionResult,
        HoldActionRequest,
        HoldResult,
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


class CaseWorkflowV1:
    """Mixin holding the v1 run path; its state lives on the CaseWorkflow instance."""

    # ------------------------------------------------------------------ run

    async def _run_v1(self, case: CaseInput) -> CaseState:
        cal = calendar_for(case.jurisdiction)
        self._log("case_opened", {"recordation_id": case.recordation_id, "mark": case.mark, "score": case.score,
                                  "reasons": case.reasons})
        hold: HoldResult = await self._v1_act("place_hold", PlaceHoldRequest(
            idempotency_key=f"{case.case_id}:hold", case_id=case.case_id, declaration_id=case.declaration_id,
            line_no=case.line_no, customs_office=case.customs_office,
            reason=f"suspected infringement of recorded right {case.recordation_id} ({case.mark})",
        ), HoldResult)
        self.hold_id = hold.hold_id

        served = workflow.now()
        reply_deadline = self._v1_open_deadline(cal, "holder_reply", cn.HOLDER_REPLY_WORKING_DAYS, served)
        self.accepting_reply = True
        notice = await self._v1_notify("suspension", reply_allowed=True, reply_deadline_at=reply_deadline.due_at)
        await self._v1_transition("suspended", "holder_notified", {"notice_id": notice.notice_id,
                                                                "email": notice.email_status,
                                                                "webhook": notice.webhook_status})

        replied = await self._v1_wait_until(self._reply_settled, reply_deadline.due_at)
        self.accepting_reply = False
        if not replied or self.reply is None:
            self._v1_close_deadline("holder_reply", "lapsed")
            reason = "no reply from the rights holder within 3 working days"
            if self.reply is not None:
                reason = "detention requested but no sufficient guarantee was posted within 3 working days"
            return await self._v1_release(reason)
        self._v1_close_deadline("holder_reply", "met")
        if self.reply.decision == "no_detention":
            return await self._v1_release("the rights holder stated that no detention is needed")

        return await self._v1_detain(cal)

    # ------------------------------------------------------------------ paths

    async def _v1_detain(self, cal: WorkingCalendar) -> CaseState:
        case = self.case
        await self._v1_act("hold_action", HoldActionRequest(
            idempotency_key=f"{case.case_id}:detain", hold_id=self.hold_id, action="detain",
            reason="rights holder requested detention and posted the guarantee"), HoldResult)
        detained_at = workflow.now()
        determination = self._v1_open_deadline(cal, "customs_determination", cn.DETERMINATION_WORKING_DAYS, detained_at)
        release = self._v1_open_deadline(cal, "court_notice_or_release", cn.EX_OFFICIO_RELEASE_WORKING_DAYS, detained_at)
        await self._v1_transition("detained", "goods_detained", {"guarantee": self.guarantee.model_dump(mode="json")
                                                              if self.guarantee else None})
        await self._v1_notify("detention")

        decided = await self._v1_wait_until(lambda: self.determination is not None or self.court_notice is not None,
                                         determination.due_at)
        if self.court_notice is not None:
            self._v1_close_deadline("customs_determination", "cancelled")
            return await self._v1_act_on_court_notice()
        if decided and self.determination is not None:
            self._v1_close_deadline("customs_determination", "met")
            if self.determination.outcome == "infringing":
                self._v1_close_deadline("court_notice_or_release", "cancelled")
                return await self._v1_confiscate()
            if self.determination.outcome == "not_infringing":
                self._v1_close_deadline("court_notice_or_release", "cancelled")
                return await self._v1_release("customs determined that the goods do not infringe")
        else:
            self._v1_close_deadline("customs_determination", "lapsed")

        # Customs could not determine infringement (said so, or 30 working days passed).
        await self._v1_transition("undetermined", "infringement_not_determined", {})
        await self._v1_notify("cannot_determine")
        await self._v1_wait_until(lambda: self.court_notice is not None, release.due_at)
        if self.court_notice is not None:
            return await self._v1_act_on_court_notice()
        self._v1_close_deadline("court_notice_or_release", "lapsed")
        return await self._v1_release("no court assistance notice within 50 working days of detention")

    async def _v1_act_on_court_notice(self) -> CaseState:
        notice = self.court_notice
        assert notice is not None
        self._v1_close_deadline("court_notice_or_release", "met")
        if notice.action == "release":
            return await self._v1_release(f"court assistance notice {notice.reference} orders release")
        case = self.case
        await self._v1_act("hold_action", HoldActionRequest(
            idempotency_key=f"{case.case_id}:court", hold_id=self.hold_id, action="hand_to_court",
            reason=f"court assistance notice {notice.reference} of {notice.court}"), HoldResult)
        await self._v1_dispose("handed_to_court", f"court assistance notice {notice.reference}")
        await self._v1_notify("court_handover")
        return await self._v1_finish("handed_to_court", "goods_handed_to_court", {"reference": notice.reference})

    async def _v1_confiscate(self) -> CaseState:
        case = self.case
        await self._v1_act("hold_action", HoldActionRequest(
            idempotency_key=f"{case.case_id}:confiscate", hold_id=self.hold_id, action="confiscate",
            reason="customs determined infringement"), HoldResult)
        await self._v1_dispose("confiscation", "customs determined infringement")
        await self._v1_notify("confiscation")
        return await self._v1_finish("confiscated", "goods_confiscated", {
            "fine_amount": str(self.disposition.fine_amount) if self.disposition else None,
            "disposal_method": self.disposition.disposal_method if self.disposition else None,
        })

    async def _v1_release(self, reason: str) -> CaseState:
        case = self.case
        for name, deadline in self.deadlines.items():
            if deadline.status == "pending":
                self._v1_close_deadline(name, "cancelled")
        await self._v1_act("hold_action", HoldActionRequest(
            idempotency_key=f"{case.case_id}:release", hold_id=self.hold_id, action="release", reason=reason),
            HoldResult)
        await self._v1_dispose("release", reason)
        await self._v1_notify("release", extra=reason)
        return await self._v1_finish("released", "goods_released", {"reason": reason})

    async def _v1_dispose(self, outcome: str, reason: str) -> None:
        case = self.case
        fine_tier = self.determination.fine_tier if self.determination else None
        self.disposition = await self._v1_act("record_disposition", DispositionRequest(
            idempotency_key=f"{case.case_id}:disposition", case_id=case.case_id, jurisdiction=case.jurisdiction,
            outcome=outcome, goods_value=case.goods_value, currency=case.currency, right_type=case.right_type,
            fine_tier=fine_tier, reason=reason), DispositionResult)

    async def _v1_finish(self, state: str, event: str, detail: dict) -> CaseState:
        await self._v1_transition(state, event, detail)
        # Signals that arrive while the last steps run are still recorded before the case closes.
        await workflow.wait_condition(workflow.all_handlers_finished)
        await self._v1_flush()
        return self.snapshot()

    async def _v1_wait_until(self, condition, due_at: datetime) -> bool:  # noqa: ANN001
        """Wait for ``condition`` until the deadline instant; False if the deadline passed first."""
        await self._v1_flush()
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

    def _v1_open_deadline(self, cal: WorkingCalendar, name: str, working_days: int, start: datetime) -> Deadline:
        start_day = cal.local_date(start)
        due = cal.add_working_days(start_day, working_days)
        deadline = Deadline(name=name, working_days=working_days, start=start_day, due_date=due,
                            due_at=cal.end_of_day(due))
        self.deadlines[name] = deadline
        self._log("deadline_set", {"name": name, "working_days": working_days, "due_date": due.isoformat(),
                                   "due_at": deadline.due_at.isoformat()})
        return deadline

    def _v1_close_deadline(self, name: str, status: str) -> None:
        deadline = self.deadlines.get(name)
        if deadline is not None and deadline.status == "pending":
            self.deadlines[name] = deadline.model_copy(update={"status": status})
            self._log("deadline_" + status, {"name": name})

    async def _v1_transition(self, state: str, event: str, detail: dict) -> None:
        self.state = state
        self._log(event, detail)
        await self._v1_flush()

    async def _v1_flush(self) -> None:
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

    async def _v1_notify(self, kind: str, *, reply_allowed: bool = False, reply_deadline_at: datetime | None = None,
                      extra: str | None = None) -> NoticeResult:
        case = self.case
        subject, body = _v1_notice_text(kind, case, self, reply_deadline_at, extra)
        result = await self._v1_act("send_notice", NoticeRequest(
            idempotency_key=f"{case.case_id}:notice:{kind}", case_id=case.case_id, kind=kind, holder=case.holder,
            subject=subject, body=body, reply_deadline_at=reply_deadline_at, reply_allowed=reply_allowed),
            NoticeResult)
        self.notice_ids.append(result.notice_id)
        self._log("notice_sent", {"kind": kind, "notice_id": result.notice_id, "email": result.email_status,
                                  "webhook": result.webhook_status})
        return result

    async def _v1_act(self, activity: str, request, result_type):  # noqa: ANN001, ANN202
        return await workflow.execute_activity(
            activity, request, result_type=result_type, start_to_close_timeout=ACTIVITY_TIMEOUT, retry_policy=RETRY,
        )




def _v1_notice_text(kind: str, case: CaseInput, wf: CaseWorkflowV1, deadline: datetime | None,
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
