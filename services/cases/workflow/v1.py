"""Version 1 of the case workflow (the CN ex officio skeleton), kept so cases started under it replay.

``CaseWorkflow`` hands a case to ``CaseV1`` only when its history was recorded before the
``case-workflow-v2`` patch marker existed; signals and the state query then go to it too.
It keeps its own state and helpers and shares nothing with the current version, so no
change there can reach it. Do not change it: the replay test proves it still reproduces
every saved v1 history. New behaviour goes into the current version.

What only v1 needs lives here too: its fixed time limits, its guarantee formula and its fine
(a fixed share of the goods value that the disposal service used to apply, now sent with the
disposition, since the disposal service no longer decides fines).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from services.cases.activities import CaseActivities
    from shared.contracts.cases import (
        CaseEventRecord,
        CaseInput,
        CaseState,
        CaseStateName,
        CourtNotice,
        Deadline,
        DeadlineStatus,
        Determination,
        DisposalChoice,
        DispositionOutcome,
        DispositionRequest,
        DispositionResult,
        GuaranteeInfo,
        HearingUpdate,
        HistoryEntry,
        HoldAction,
        HoldActionRequest,
        HolderReply,
        NoticeKind,
        NoticeRequest,
        NoticeResult,
        PartySubmission,
        PlaceHoldRequest,
    )
    from shared.rules.calendar import WorkingCalendar, calendar_for

ACTIVITY_TIMEOUT = timedelta(seconds=30)
RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=5),
    non_retryable_error_types=["ServiceRejected"],
)
TERMINAL = ("released", "confiscated", "destroyed", "forfeited", "handed_to_court")

# v1's rules (Reg. Art. 16, 20, 24(2); GACC Measures guarantee tiers), frozen with it.
HOLDER_REPLY_WORKING_DAYS = 3
DETERMINATION_WORKING_DAYS = 30
EX_OFFICIO_RELEASE_WORKING_DAYS = 50
V1_FINE_RATE = Decimal("0.15")  # the share of the goods value v1 cases were fined (the old FINE_RATE default)
V1_FINE_TIER = "ordinary"  # the discretion tier (10-20%) that share falls in


def _money(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def ex_officio_guarantee_cny(goods_value_cny: Decimal) -> Decimal:
    """v1's ex officio guarantee: 100% below RMB 20,000, 50% (at least 20,000) up to 200,000, then 100,000."""
    if goods_value_cny < Decimal("20000"):
        return _money(goods_value_cny)
    if goods_value_cny <= Decimal("200000"):
        return _money(max(goods_value_cny * Decimal("0.5"), Decimal("20000")))
    return Decimal("100000.00")


def v1_disposal_method(right_type: str) -> str:
    """v1 never asked for disposal facts: counterfeit trademarks were destroyed, other goods auctioned."""
    return "destruction" if right_type == "trademark" else "auction_after_removal"


class CaseV1:
    """A v1 case: its state, its run path, and how it takes signals and answers the state query."""

    def __init__(self, case: CaseInput) -> None:
        self.case = case
        self.state: CaseStateName = "opened"
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
        self.submissions: list[PartySubmission] = []
        self.disposal_choice: DisposalChoice | None = None
        value_cny = (
            case.goods_value_cny
            if case.goods_value_cny is not None
            else (case.goods_value if case.currency == "CNY" else None)
        )
        self.required_guarantee_cny: Decimal | None = (
            ex_officio_guarantee_cny(value_cny) if value_cny is not None and case.jurisdiction == "CN" else None
        )

    # ------------------------------------------------------------------ run

    async def run(self) -> CaseState:
        case = self.case
        cal = calendar_for(case.jurisdiction)
        self._log(
            "case_opened",
            {"recordation_id": case.recordation_id, "mark": case.mark, "score": case.score, "reasons": case.reasons},
        )
        hold = await workflow.execute_activity_method(
            CaseActivities.place_hold,
            PlaceHoldRequest(
                idempotency_key=f"{case.case_id}:hold",
                case_id=case.case_id,
                declaration_id=case.declaration_id,
                line_no=case.line_no,
                customs_office=case.customs_office,
                reason=f"suspected infringement of recorded right {case.recordation_id} ({case.mark})",
            ),
            start_to_close_timeout=ACTIVITY_TIMEOUT,
            retry_policy=RETRY,
        )
        self.hold_id = hold.hold_id

        served = workflow.now()
        reply_deadline = self._open_deadline(cal, "holder_reply", HOLDER_REPLY_WORKING_DAYS, served)
        self.accepting_reply = True
        notice = await self._notify("suspension", reply_allowed=True, reply_deadline_at=reply_deadline.due_at)
        await self._transition(
            "suspended",
            "holder_notified",
            {"notice_id": notice.notice_id, "email": notice.email_status, "webhook": notice.webhook_status},
        )

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
        await self._hold_action("detain", "rights holder requested detention and posted the guarantee")
        detained_at = workflow.now()
        determination = self._open_deadline(cal, "customs_determination", DETERMINATION_WORKING_DAYS, detained_at)
        release = self._open_deadline(cal, "court_notice_or_release", EX_OFFICIO_RELEASE_WORKING_DAYS, detained_at)
        await self._transition(
            "detained",
            "goods_detained",
            {"guarantee": self.guarantee.model_dump(mode="json") if self.guarantee else None},
        )
        await self._notify("detention")

        decided = await self._wait_until(
            lambda: self.determination is not None or self.court_notice is not None, determination.due_at
        )
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
        await self._hold_action(
            "hand_to_court", f"court assistance notice {notice.reference} of {notice.court}", key="court"
        )
        await self._dispose("handed_to_court", f"court assistance notice {notice.reference}")
        await self._notify("court_handover")
        return await self._finish("handed_to_court", "goods_handed_to_court", {"reference": notice.reference})

    async def _confiscate(self) -> CaseState:
        await self._hold_action("confiscate", "customs determined infringement")
        await self._dispose("confiscation", "customs determined infringement")
        await self._notify("confiscation")
        return await self._finish(
            "confiscated",
            "goods_confiscated",
            {
                "fine_amount": str(self.disposition.fine_amount) if self.disposition else None,
                "disposal_method": self.disposition.disposal_method if self.disposition else None,
            },
        )

    async def _release(self, reason: str) -> CaseState:
        for name, deadline in self.deadlines.items():
            if deadline.status == "pending":
                self._close_deadline(name, "cancelled")
        await self._hold_action("release", reason)
        await self._dispose("release", reason)
        await self._notify("release", extra=reason)
        return await self._finish("released", "goods_released", {"reason": reason})

    # ------------------------------------------------------------------ steps

    async def _hold_action(self, action: HoldAction, reason: str, *, key: str | None = None) -> None:
        assert self.hold_id is not None
        await workflow.execute_activity_method(
            CaseActivities.hold_action,
            HoldActionRequest(
                idempotency_key=f"{self.case.case_id}:{key or action}",
                hold_id=self.hold_id,
                action=action,
                reason=reason,
            ),
            start_to_close_timeout=ACTIVITY_TIMEOUT,
            retry_policy=RETRY,
        )

    async def _dispose(self, outcome: DispositionOutcome, reason: str) -> None:
        case = self.case
        confiscated = outcome == "confiscation"
        self.disposition = await workflow.execute_activity_method(
            CaseActivities.record_disposition,
            DispositionRequest(
                idempotency_key=f"{case.case_id}:disposition",
                case_id=case.case_id,
                jurisdiction=case.jurisdiction,
                outcome=outcome,
                goods_value=case.goods_value,
                currency=case.currency,
                right_type=case.right_type,
                fine_tier=V1_FINE_TIER if confiscated else None,
                reason=reason,
                fine_amount=_money(case.goods_value * V1_FINE_RATE) if confiscated else Decimal(0),
                disposal_method=v1_disposal_method(case.right_type) if confiscated else None,
                decided_by=self.determination.officer if self.determination else None,
            ),
            start_to_close_timeout=ACTIVITY_TIMEOUT,
            retry_policy=RETRY,
        )

    async def _finish(self, state: CaseStateName, event: str, detail: dict[str, Any]) -> CaseState:
        await self._transition(state, event, detail)
        # Signals that arrive while the last steps run are still recorded before the case closes.
        await workflow.wait_condition(workflow.all_handlers_finished)
        await self._flush()
        return self.snapshot()

    async def _wait_until(self, condition: Callable[[], bool], due_at: datetime) -> bool:
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
        except TimeoutError:
            return condition()

    def _open_deadline(self, cal: WorkingCalendar, name: str, working_days: int, start: datetime) -> Deadline:
        start_day = cal.local_date(start)
        due = cal.add_working_days(start_day, working_days)
        deadline = Deadline(
            name=name, working_days=working_days, start=start_day, due_date=due, due_at=cal.end_of_day(due)
        )
        self.deadlines[name] = deadline
        self._log(
            "deadline_set",
            {
                "name": name,
                "working_days": working_days,
                "due_date": due.isoformat(),
                "due_at": deadline.due_at.isoformat(),
            },
        )
        return deadline

    def _close_deadline(self, name: str, status: DeadlineStatus) -> None:
        deadline = self.deadlines.get(name)
        if deadline is not None and deadline.status == "pending":
            self.deadlines[name] = deadline.model_copy(update={"status": status})
            self._log("deadline_" + status, {"name": name})

    def _log(self, event: str, detail: dict[str, Any]) -> None:
        self.history.append(
            HistoryEntry(seq=len(self.history) + 1, at=workflow.now(), state=self.state, event=event, detail=detail)
        )

    async def _transition(self, state: CaseStateName, event: str, detail: dict[str, Any]) -> None:
        self.state = state
        self._log(event, detail)
        await self._flush()

    async def _flush(self) -> None:
        """Write history entries not yet recorded to the case audit trail (and cases.events.v1)."""
        pending = self.history[self.recorded_upto :]
        if not pending:
            return
        self.recorded_upto = len(self.history)
        await workflow.execute_activity_method(
            CaseActivities.record_case_events,
            [
                CaseEventRecord(
                    case_id=self.case.case_id,
                    seq=h.seq,
                    at=h.at,
                    state=h.state,
                    event=h.event,
                    detail=h.detail,
                    case_input=self.case,
                )
                for h in pending
            ],
            start_to_close_timeout=ACTIVITY_TIMEOUT,
            retry_policy=RETRY,
        )

    async def _notify(
        self,
        kind: NoticeKind,
        *,
        reply_allowed: bool = False,
        reply_deadline_at: datetime | None = None,
        extra: str | None = None,
    ) -> NoticeResult:
        case = self.case
        subject, body = _notice_text(kind, self, reply_deadline_at, extra)
        result = await workflow.execute_activity_method(
            CaseActivities.send_notice,
            NoticeRequest(
                idempotency_key=f"{case.case_id}:notice:{kind}",
                case_id=case.case_id,
                kind=kind,
                holder=case.holder,
                subject=subject,
                body=body,
                reply_deadline_at=reply_deadline_at,
                reply_allowed=reply_allowed,
            ),
            start_to_close_timeout=ACTIVITY_TIMEOUT,
            retry_policy=RETRY,
        )
        self.notice_ids.append(result.notice_id)
        self._log(
            "notice_sent",
            {
                "kind": kind,
                "notice_id": result.notice_id,
                "email": result.email_status,
                "webhook": result.webhook_status,
            },
        )
        return result

    # ------------------------------------------------------------------ signals and query

    def _reply_settled(self) -> bool:
        if self.reply is None:
            return False
        return self.reply.decision == "no_detention" or self.guarantee is not None

    def _take_guarantee(self, guarantee: GuaranteeInfo) -> None:
        ok = (
            guarantee.form == "general_guarantee"
            or self.required_guarantee_cny is None
            or (guarantee.currency == "CNY" and guarantee.amount >= self.required_guarantee_cny)
        )
        if ok:
            self.guarantee = guarantee
        self._log(
            "guarantee_received" if ok else "guarantee_insufficient",
            {
                **guarantee.model_dump(mode="json"),
                "required_cny": str(self.required_guarantee_cny) if self.required_guarantee_cny is not None else None,
            },
        )

    def on_holder_reply(self, reply: HolderReply) -> None:
        if not self.accepting_reply or self.reply is not None:
            self._log(
                "reply_ignored",
                {
                    "decision": reply.decision,
                    "why": "reply window closed" if not self.accepting_reply else "already replied",
                },
            )
            return
        self.reply = reply
        if reply.guarantee is not None:
            self._take_guarantee(reply.guarantee)
        self._log("holder_replied", {"decision": reply.decision, "by": reply.replied_by, "notice_id": reply.notice_id})

    def on_guarantee(self, guarantee: GuaranteeInfo) -> None:
        if not self.accepting_reply:
            self._log("guarantee_ignored", {"reference": guarantee.reference, "why": "reply window closed"})
            return
        self._take_guarantee(guarantee)

    def on_determination(self, determination: Determination) -> None:
        if self.state != "detained" or self.determination is not None:
            self._log("determination_ignored", {"outcome": determination.outcome, "state": self.state})
            return
        self.determination = determination
        self._log("customs_determined", determination.model_dump(mode="json"))

    def on_court_notice(self, notice: CourtNotice) -> None:
        if self.state not in ("detained", "undetermined") or self.court_notice is not None:
            self._log("court_notice_ignored", {"reference": notice.reference, "state": self.state})
            return
        self.court_notice = notice
        self._log("court_notice_received", notice.model_dump(mode="json"))

    def on_party_submission(self, submission: PartySubmission) -> None:
        if self.state in TERMINAL:
            self._log("submission_ignored", {"kind": submission.kind, "state": self.state})
            return
        self.submissions.append(submission)
        detail = submission.model_dump(mode="json", exclude_none=True)
        if submission.kind == "counter_guarantee":
            detail["accepted"] = False  # v1 knows no counter-guarantee
        self._log("party_submission", detail)

    def on_hearing(self, update: HearingUpdate) -> None:
        self._log("hearing_update_ignored", {"kind": update.kind, "state": self.state})  # v1 holds no hearings

    def on_ignored(self, event: str, detail: dict[str, Any]) -> None:
        """A signal of a later version's step, which v1 does not have: recorded, nothing else."""
        self._log(event, detail)

    def on_disposal_choice(self, choice: DisposalChoice) -> None:
        self.disposal_choice = choice
        self._log("disposal_facts_recorded", choice.model_dump(mode="json", exclude_none=True))

    def snapshot(self) -> CaseState:
        case = self.case
        return CaseState(
            case_id=case.case_id,
            state=self.state,
            jurisdiction=case.jurisdiction,
            holder_id=case.holder.id,
            declaration_id=case.declaration_id,
            line_no=case.line_no,
            goods_value=case.goods_value,
            currency=case.currency,
            required_guarantee_cny=self.required_guarantee_cny,
            hold_id=self.hold_id,
            notice_ids=list(self.notice_ids),
            disposition_id=self.disposition.disposition_id if self.disposition else None,
            fine_amount=self.disposition.fine_amount if self.disposition else None,
            deadlines=list(self.deadlines.values()),
            history=list(self.history),
            submissions=list(self.submissions),
            fine_currency=self.disposition.fine_currency if self.disposition else None,
            customs_office=case.customs_office,  # queries are not in the history: who may see it, for v1 cases too
            party_ids=[p.id for p in (case.declarant, case.consignor, case.consignee) if p is not None],
        )


def _notice_text(kind: NoticeKind, case_v1: CaseV1, deadline: datetime | None, extra: str | None) -> tuple[str, str]:
    case = case_v1.case
    goods = (
        f"declaration {case.declaration_id} line {case.line_no}: {case.description} "
        f"(HS {case.hs_code}, {case.quantity} {case.unit}, value {case.goods_value} {case.currency})"
    )
    head = f"Case {case.case_id} - recorded right {case.recordation_id} ({case.mark})"
    if kind == "suspension":
        guarantee = (
            f"RMB {case_v1.required_guarantee_cny}"
            if case_v1.required_guarantee_cny is not None
            else "an amount set by customs"
        )
        return (
            f"[Customs IPR] Suspension of release - reply by {deadline.isoformat() if deadline else '-'}",
            f"{head}\n\nCustoms ({case.customs_office}) has suspended release of goods suspected of infringing "
            f"your recorded right: {goods}.\nConsignor: {case.consignor.name}; consignee: {case.consignee.name}.\n\n"
            f"Within 3 working days (until {deadline.isoformat() if deadline else '-'}) either request detention "
            f"and post a guarantee of {guarantee}, or state that no detention is needed. Without a reply the "
            f"goods are released.\nReply: POST /v1/notices/<notice id>/reply on the notify service.",
        )
    texts: dict[str, tuple[str, str]] = {
        "detention": (
            "Goods detained",
            "The goods are detained. Customs will determine infringement within 30 working days of detention.",
        ),
        "cannot_determine": (
            "Infringement could not be determined",
            "Customs could not determine infringement. The goods will be released 50 working days "
            "after detention unless a court assistance notice is received.",
        ),
        "confiscation": ("Goods confiscated", "Customs determined infringement; the goods are confiscated."),
        "release": ("Goods released", f"The goods are released. Reason: {extra}."),
        "court_handover": (
            "Goods held for the court",
            "Acting on the court assistance notice, the goods are held for the court.",
        ),
    }
    title, text = texts[kind]
    return f"[Customs IPR] {title} - {case.case_id}", f"{head}\n\n{text}\n\nGoods: {goods}."
