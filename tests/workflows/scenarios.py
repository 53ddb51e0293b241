"""Fake step services and scripted case paths, shared by the workflow tests and the history recorder."""

from __future__ import annotations

import asyncio
import copy
import uuid
from collections.abc import Callable
from decimal import Decimal

from temporalio import activity
from temporalio.client import WorkflowHandle
from temporalio.exceptions import ApplicationError

from services.cases.activities import load_rules
from shared.case_opening import lines_revision
from shared.contracts.cases import (
    QUERY_STATE,
    SIGNAL_APPROVAL,
    SIGNAL_CALENDAR,
    SIGNAL_COURT_NOTICE,
    SIGNAL_DETERMINATION,
    SIGNAL_GUARANTEE,
    SIGNAL_HEARING,
    SIGNAL_HOLDER_REPLY,
    SIGNAL_LINES,
    SIGNAL_NOTICE_SERVED,
    SIGNAL_PARTY_SUBMISSION,
    ActorRef,
    ApprovalDecision,
    CalendarUpdate,
    CaseEventRecord,
    CaseInput,
    CaseState,
    CourtNotice,
    Determination,
    DispositionRequest,
    DispositionResult,
    GuaranteeInfo,
    HearingUpdate,
    HoldActionRequest,
    HolderReply,
    HoldResult,
    LineDetermination,
    LinesRevision,
    NoticeRequest,
    NoticeResult,
    NoticeServed,
    NoticeStatusRequest,
    PartyRef,
    PartySubmission,
    PlaceHoldRequest,
)
from shared.contracts.guarantees import (
    HoldGuaranteeRequest,
    HoldGuaranteeResult,
    SettleGuaranteeRequest,
    SettleGuaranteeResult,
)
from shared.rules.calendar import calendar_data
from tests.factories import ADIDAS, case_input, consignment_cases, declaration, recordation, shoe_line


def workflow_class():
    from services.cases.workflow import CaseWorkflow

    return CaseWorkflow


MONEY_MAX = Decimal(10) ** 12


class FakeServices:
    """Stand-ins for holds, notify and disposal that remember every call.

    ``refuse(activity, request)`` makes a step service answer 4xx (the activity raises the
    non-retryable ``ServiceRejected``, as ``CaseActivities`` does); ``failing(activity,
    request)`` is how many attempts fail first as if the service were down (retried). Like the
    real guarantees ledger, ``hold_guarantee`` refuses amounts above 10^12 with a 4xx.
    """

    def __init__(
        self,
        general_balance: Decimal = Decimal("200000"),
        refuse: Callable[[str, object], bool] | None = None,
        failing: Callable[[str, object], int] | None = None,
        party_service: str = "served",
        served_after_polls: int = 0,
    ) -> None:
        self.calls: list[tuple[str, object]] = []
        self.events: list[CaseEventRecord] = []
        self.general_balance = general_balance
        self.refuse = refuse
        self.failing = failing
        self.attempts: list[tuple[str, object]] = []
        # How notices to parties fare: "served" (delivered at once, or after ``served_after_polls`` reads of their
        # status), "undeliverable" (every channel bounced), "pending" (never delivered nor given up)
        self.party_service = party_service
        self.served_after_polls = served_after_polls
        self.polls: dict[str, int] = {}

    def _party_result(self, notice_id: str, *, polled: bool) -> NoticeResult:
        if self.party_service == "undeliverable":
            return NoticeResult(
                notice_id=notice_id,
                email_status="undeliverable",
                webhook_status="not_configured",
                service="undeliverable",
            )
        if self.party_service == "served" and (self.polls.get(notice_id, 0) >= self.served_after_polls):
            return NoticeResult(
                notice_id=notice_id, email_status="delivered", webhook_status="not_configured", service="served"
            )
        return NoticeResult(
            notice_id=notice_id, email_status="pending", webhook_status="not_configured", service="pending"
        )

    def _gate(self, name: str, req: object) -> None:
        self.attempts.append((name, req))
        if self.failing is not None and activity.info().attempt <= self.failing(name, req):
            raise RuntimeError(f"{name}: service unavailable (503)")
        if self.refuse is not None and self.refuse(name, req):
            raise ApplicationError(f"{name}: answered 422: refused", type="ServiceRejected", non_retryable=True)

    def activities(self) -> list:
        @activity.defn(name="place_hold")
        async def place_hold(req: PlaceHoldRequest) -> HoldResult:
            self._gate("place_hold", req)
            self.calls.append(("place_hold", req))
            return HoldResult(hold_id=f"HOLD-{req.case_id}", status="suspended")

        @activity.defn(name="hold_action")
        async def hold_action(req: HoldActionRequest) -> HoldResult:
            self._gate("hold_action", req)
            self.calls.append(("hold_action", req))
            return HoldResult(hold_id=req.hold_id, status=req.action)

        @activity.defn(name="send_notice")
        async def send_notice(req: NoticeRequest) -> NoticeResult:
            self._gate("send_notice", req)
            self.calls.append(("send_notice", req))
            if req.addressee is not None:
                return self._party_result(f"NTC-{len(self.calls)}", polled=False)
            return NoticeResult(
                notice_id=f"NTC-{len(self.calls)}", email_status="delivered", webhook_status="not_configured"
            )

        @activity.defn(name="notice_status")
        async def notice_status(req: NoticeStatusRequest) -> NoticeResult:
            self._gate("notice_status", req)
            self.polls[req.notice_id] = self.polls.get(req.notice_id, 0) + 1
            self.calls.append(("notice_status", req))
            return self._party_result(req.notice_id, polled=True)

        @activity.defn(name="record_disposition")
        async def record_disposition(req: DispositionRequest) -> DispositionResult:
            self._gate("record_disposition", req)
            self.calls.append(("record_disposition", req))
            if req.fine_amount is not None:
                fine = req.fine_amount
            else:  # v1 requests carry no amount: the service applied its fixed rate
                fine = (
                    (req.goods_value * Decimal("0.15")).quantize(Decimal("0.01"))
                    if req.outcome == "confiscation"
                    else Decimal(0)
                )
            return DispositionResult(
                disposition_id=f"DSP-{req.case_id}",
                outcome=req.outcome,
                fine_amount=fine,
                fine_currency=req.currency,
                disposal_method=req.disposal_method or ("destruction" if req.outcome == "confiscation" else None),
            )

        @activity.defn(name="record_case_events")
        async def record_case_events(records: list[CaseEventRecord]) -> None:
            self.events.extend(records)

        @activity.defn(name="hold_guarantee")
        async def hold_guarantee(req: HoldGuaranteeRequest) -> HoldGuaranteeResult:
            self._gate("hold_guarantee", req)
            if req.amount > MONEY_MAX or req.required_amount > MONEY_MAX:
                raise ApplicationError(
                    "hold_guarantee: answered 422: amount must not exceed 1,000,000,000,000",
                    type="ServiceRejected",
                    non_retryable=True,
                )
            self.calls.append(("hold_guarantee", req))
            ok = (
                req.form == "general_guarantee"
                and self.general_balance >= req.required_amount
                or req.form != "general_guarantee"
                and req.amount >= req.required_amount
            )
            if ok and req.form == "general_guarantee":
                self.general_balance -= req.required_amount
            return HoldGuaranteeResult(
                case_guarantee_id=f"CG-{req.case_id}",
                status="held" if ok else "refused",
                amount=req.required_amount if req.form == "general_guarantee" else req.amount,
                currency=req.currency,
                drawn_from="GG-1" if req.form == "general_guarantee" else None,
                reason=None if ok else "insufficient",
            )

        @activity.defn(name="settle_guarantee")
        async def settle_guarantee(req: SettleGuaranteeRequest) -> SettleGuaranteeResult:
            self._gate("settle_guarantee", req)
            self.calls.append(("settle_guarantee", req))
            return SettleGuaranteeResult(
                case_guarantee_id=f"CG-{req.case_id}",
                charged=Decimal("50.00"),
                refunded=Decimal("0.00"),
                currency="CNY",
                storage_days=1,
            )

        return [
            load_rules,
            place_hold,
            hold_action,
            send_notice,
            notice_status,
            record_disposition,
            record_case_events,
            hold_guarantee,
            settle_guarantee,
        ]

    def of(self, name: str) -> list:
        return [req for n, req in self.calls if n == name]

    def holder_notices(self) -> list[NoticeRequest]:
        """Notices to the rights holder of the case."""
        return [req for req in self.of("send_notice") if req.addressee is None]

    def party_notices(self) -> list[NoticeRequest]:
        """Notices to a party of the case (declarant, consignor, consignee, importer)."""
        return [req for req in self.of("send_notice") if req.addressee is not None]


async def start(env, queue: str, **kw) -> WorkflowHandle:
    case = case_input(case_id=f"IPR-T-{uuid.uuid4().hex[:8]}-L1", **kw)
    return await env.client.start_workflow(workflow_class().run, case, id=case.case_id, task_queue=queue)


async def query(handle: WorkflowHandle) -> CaseState:
    return await handle.query(QUERY_STATE, result_type=CaseState)


async def wait_state(handle: WorkflowHandle, state: str) -> CaseState:
    current = None
    for _ in range(250):
        current = await query(handle)
        if current.state == state:
            return current
        await asyncio.sleep(0.02)  # real-time poll of the query, not a wait for a deadline
    raise AssertionError(f"case never reached {state}; last state {current.state if current else None}")


OFFICER = ActorRef(sub="officer-wang", name="Wang Wei", role="officer")
SUPERVISOR = ActorRef(sub="supervisor-zhang", name="Zhang Min", role="supervisor")


async def determine(handle: WorkflowHandle, determination: Determination, *, approve: bool = True) -> None:
    """An officer's determination; an infringing one is a proposal a supervisor approves (four-eyes)."""
    if determination.actor is None:
        determination = determination.model_copy(update={"actor": OFFICER})
    await handle.signal(SIGNAL_DETERMINATION, determination)
    infringing = determination.outcome == "infringing" or any(ln.outcome == "infringing" for ln in determination.lines)
    if approve and infringing:  # on a consignment case, any line found infringing makes it a proposal
        await handle.signal(SIGNAL_APPROVAL, ApprovalDecision(decision="approve", actor=SUPERVISOR))


def guarantee(amount: str, ref: str = "G-1") -> GuaranteeInfo:
    return GuaranteeInfo(amount=Decimal(amount), currency="CNY", reference=ref)


async def silence_release(env, queue):
    handle = await start(env, queue)
    await wait_state(handle, "suspended")
    return handle


async def no_detention(env, queue):
    handle = await start(env, queue)
    await wait_state(handle, "suspended")
    await handle.signal(SIGNAL_HOLDER_REPLY, HolderReply(decision="no_detention"))
    return handle


async def confiscation(env, queue):
    handle = await start(env, queue)
    await wait_state(handle, "suspended")
    await handle.signal(SIGNAL_HOLDER_REPLY, HolderReply(decision="detain", guarantee=guarantee("14910")))
    await wait_state(handle, "detained")
    await determine(handle, Determination(outcome="infringing", fine_tier="ordinary", officer="o1"))
    return handle


async def proposal_withdrawn(env, queue):
    """The proposer withdraws its confiscation proposal (case-proposal-withdraw), then a new one is approved."""
    handle = await start(env, queue)
    await wait_state(handle, "suspended")
    await handle.signal(SIGNAL_HOLDER_REPLY, HolderReply(decision="detain", guarantee=guarantee("14910", "G-W")))
    await wait_state(handle, "detained")
    await determine(handle, Determination(outcome="infringing", fine_tier="heavier"), approve=False)
    await handle.signal(SIGNAL_APPROVAL, ApprovalDecision(decision="withdraw", note="wrong tier", actor=OFFICER))
    await wait_event(handle, "approval_withdrawn")
    await determine(handle, Determination(outcome="infringing", fine_tier="ordinary"))
    return handle


async def undetermined_release(env, queue):
    handle = await start(env, queue)
    await wait_state(handle, "suspended")
    await handle.signal(SIGNAL_HOLDER_REPLY, HolderReply(decision="detain", guarantee=guarantee("20000", "G-2")))
    await wait_state(handle, "detained")
    await handle.signal(SIGNAL_DETERMINATION, Determination(outcome="cannot_determine"))
    await wait_state(handle, "undetermined")
    return handle


async def court_handover(env, queue):
    handle = await start(env, queue)
    await wait_state(handle, "suspended")
    await handle.signal(SIGNAL_HOLDER_REPLY, HolderReply(decision="detain", guarantee=guarantee("20000", "G-3")))
    await wait_state(handle, "detained")
    await handle.signal(
        SIGNAL_COURT_NOTICE,
        CourtNotice(reference="(2026) Hu 0115 Zhi Bao 12", court="Shanghai Pudong", action="keep_detained_for_court"),
    )
    return handle


async def cn_application_court(env, queue):
    handle = await start(env, queue, mode="application")
    await wait_state(handle, "suspended")
    await handle.signal(SIGNAL_GUARANTEE, guarantee("14910", "LG-A"))
    await wait_state(handle, "detained")
    await handle.signal(
        SIGNAL_COURT_NOTICE,
        CourtNotice(reference="(2026) Yue 03 Zhi Bao 7", court="Shenzhen", action="keep_detained_for_court"),
    )
    return handle


async def cn_hearing_confiscation(env, queue):
    handle = await start(env, queue, goods_value="140845.07", goods_value_cny="1000000.00")
    await wait_state(handle, "suspended")
    await handle.signal(SIGNAL_HOLDER_REPLY, HolderReply(decision="detain", guarantee=guarantee("100000")))
    await wait_state(handle, "detained")
    await determine(handle, Determination(outcome="infringing", fine_tier="heavier"))
    await wait_state(handle, "hearing")
    await handle.signal(SIGNAL_HEARING, HearingUpdate(kind="waived"))
    return handle


async def eu_deemed_consent(env, queue):
    handle = await start(env, queue, jurisdiction="EU", currency="EUR", goods_value_cny=None, application_id="EU-AFA-1")
    await wait_state(handle, "detained")
    await handle.signal(SIGNAL_PARTY_SUBMISSION, PartySubmission(party="holder", kind="confirms_infringement"))
    return handle


async def us_deemed_exclusion(env, queue):
    """No officer's finding within 30 days of presentation: excluded, not forfeited."""
    handle = await start(
        env, queue, jurisdiction="US", currency="USD", goods_value_cny=None, genuine_unit_value=Decimal("120")
    )
    await wait_state(handle, "detained")
    return handle


async def us_seizure_forfeiture(env, queue):
    """The importer answers; an officer finds the goods counterfeit; no petition: forfeited."""
    handle = await start(
        env, queue, jurisdiction="US", currency="USD", goods_value_cny=None, genuine_unit_value=Decimal("120")
    )
    await wait_state(handle, "detained")
    await handle.signal(SIGNAL_PARTY_SUBMISSION, PartySubmission(party="importer", kind="importer_response"))
    await determine(handle, Determination(outcome="infringing", officer="cbp.1", fine_amount=Decimal("1000")))
    return handle


async def start_consignment(env, queue, case: CaseInput, revision: LinesRevision | None = None):
    return await env.client.start_workflow(
        workflow_class().run,
        case,
        id=case.case_id,
        task_queue=queue,
        start_signal=SIGNAL_LINES,
        start_signal_args=[revision or lines_revision(case)],
    )


def _rmb_lines(*values: str) -> list[dict]:
    return [shoe_line(n, quantity="1", unit_value=v) for n, v in enumerate(values, start=1)]


async def consignment_partial_release(env, queue):
    """Four lines of one holder: line 4 found not infringing and released, lines 1-3 confiscated."""
    decl = declaration(
        _rmb_lines("10000", "10000", "10000", "5000"), currency="CNY", declaration_id=f"CN5300-{uuid.uuid4().hex[:8]}"
    )
    handle = await start_consignment(env, queue, consignment_cases(decl, {n: recordation() for n in (1, 2, 3, 4)})[0])
    await wait_state(handle, "suspended")
    await handle.signal(SIGNAL_HOLDER_REPLY, HolderReply(decision="detain", guarantee=guarantee("20000")))
    await wait_state(handle, "detained")
    await determine(
        handle,
        Determination(
            outcome="infringing",
            fine_tier="ordinary",
            officer="o1",
            lines=[LineDetermination(line_no=4, outcome="not_infringing")],
        ),
    )
    return handle


async def lines_revised(env, queue):
    """Revision 2 moves line 3 to another holder's case and adds line 4; the holder does not reply."""
    did = f"CN5300-{uuid.uuid4().hex[:8]}"
    nike = consignment_cases(
        declaration(_rmb_lines("6000", "6000", "6000"), currency="CNY", declaration_id=did),
        {1: recordation(), 2: recordation(), 3: recordation()},
    )[0]
    handle = await start_consignment(env, queue, nike)
    await wait_state(handle, "suspended")
    second = declaration(_rmb_lines("6000", "6000", "6000", "9000"), currency="CNY", declaration_id=did, revision=2)
    cases = consignment_cases(second, {1: recordation(), 2: recordation(), 3: recordation(**ADIDAS), 4: recordation()})
    line_cases = {ln.line_no: c.case_id for c in cases for ln in c.lines}
    await handle.signal(
        SIGNAL_LINES,
        lines_revision(
            cases[0], line_cases=line_cases, previous_line_cases={1: nike.case_id, 2: nike.case_id, 3: nike.case_id}
        ),
    )
    return handle


async def calendar_retimed(env, queue):
    """A detained case whose determination window runs into an unpublished year; the schedule is published."""
    handle = await start(env, queue)
    await wait_state(handle, "suspended")
    await handle.signal(SIGNAL_HOLDER_REPLY, HolderReply(decision="detain", guarantee=guarantee("14910")))
    state = await wait_state(handle, "detained")
    window = next(d for d in state.deadlines if d.name == "customs_determination")
    data = copy.deepcopy(calendar_data("cn"))
    year = data["years"].setdefault(str(window.due_date.year), {"holidays": [], "adjusted_working_days": []})
    year["status"] = "official"
    year["holidays"].append({"date": window.due_date.isoformat(), "name": "bridge day"})
    data["version"] = "CN-recorded-1"
    await handle.signal(SIGNAL_CALENDAR, CalendarUpdate(calendar=data, version=data["version"], published_by="ops"))
    await determine(handle, Determination(outcome="infringing", fine_tier="ordinary", officer="o1"))
    return handle


async def eu_small_consignment(env, queue):
    """Three units in the whole consignment by post: destroyed on the declarant's silence."""
    decl = declaration(
        [
            shoe_line(1, quantity="2", gross_weight_kg="2.5"),
            shoe_line(2, quantity="1", brand=None, gross_weight_kg="0.5"),
        ],
        jurisdiction="EU",
        currency="EUR",
        transport_mode="post",
        customs_office="DE004851",
        declaration_id=f"DE-{uuid.uuid4().hex[:8]}",
    )
    case = consignment_cases(decl, {1: recordation(jurisdiction="EU", recordation_id="EU-AFA-1")})[0]
    handle = await start_consignment(env, queue, case)
    await wait_state(handle, "detained")
    return handle


V1_PATHS = ("silence_release", "no_detention", "confiscation", "undetermined_release", "court_handover")
# Per-line cases of the second version (their saved histories end in v2_).
V2_PATHS = (
    "silence_release",
    "no_detention",
    "confiscation",
    "undetermined_release",
    "court_handover",
    "cn_application_court",
    "cn_hearing_confiscation",
    "eu_deemed_consent",
    "us_forfeiture",
)
# Per-line cases of the third version (refused steps as outcomes, ignored signals recorded; histories v3_).
V3_PATHS = (
    *V2_PATHS,
    "guarantee_oversized_replaced",
    "bad_signals",
    "refused_steps",
    "ledger_refusal_replaced",
    "step_delayed",
)

# Every path of the current version (consignment cases with four-eyes approval and notices to parties; histories
# v5_), with FAULTY.
ALL = {
    "silence_release": silence_release,
    "no_detention": no_detention,
    "confiscation": confiscation,
    "undetermined_release": undetermined_release,
    "court_handover": court_handover,
    "cn_application_court": cn_application_court,
    "cn_hearing_confiscation": cn_hearing_confiscation,
    "eu_deemed_consent": eu_deemed_consent,
    "us_deemed_exclusion": us_deemed_exclusion,
    "us_seizure_forfeiture": us_seizure_forfeiture,
    "consignment_partial_release": consignment_partial_release,
    "lines_revised": lines_revised,
    "calendar_retimed": calendar_retimed,
    "eu_small_consignment": eu_small_consignment,
    "proposal_withdrawn": proposal_withdrawn,
}


# ---------------------------------------------------------------------------- paths of v3: refusals and bad input


async def guarantee_oversized_replaced(env, queue):
    handle = await start(env, queue)
    await wait_state(handle, "suspended")
    await handle.signal(
        SIGNAL_HOLDER_REPLY,
        {
            "decision": "detain",
            "guarantee": {"amount": "2000000000000", "currency": "CNY", "form": "bank_letter", "reference": "LG-BIG"},
        },
    )
    await wait_event(handle, "notice_sent", 2)
    await handle.signal(SIGNAL_GUARANTEE, guarantee("14910", "LG-OK"))
    await wait_state(handle, "detained")
    await handle.signal(SIGNAL_DETERMINATION, Determination(outcome="not_infringing"))
    return handle


async def bad_signals(env, queue):
    handle = await start(env, queue)
    await wait_state(handle, "suspended")
    await handle.signal(SIGNAL_HOLDER_REPLY, args=[])
    await handle.signal(SIGNAL_DETERMINATION, args=[{"outcome": "infringing"}, {"outcome": "not_infringing"}])
    await handle.signal("no_such_signal", {"x": 1})
    await handle.signal(SIGNAL_GUARANTEE, {"amount": "NaN", "currency": "CNY", "reference": "G"})
    await wait_event(handle, "signal_ignored", 3)
    await wait_event(handle, "guarantee_rejected", 1)
    await handle.signal(SIGNAL_HOLDER_REPLY, HolderReply(decision="no_detention"))
    return handle


async def refused_steps(env, queue):
    handle = await start(env, queue)
    await wait_state(handle, "suspended")
    return handle


async def ledger_refusal_replaced(env, queue):
    handle = await start(env, queue)
    await wait_state(handle, "suspended")
    await handle.signal(SIGNAL_HOLDER_REPLY, HolderReply(decision="detain", guarantee=guarantee("14910", "LG-1")))
    await wait_event(handle, "guarantee_refused", 1)
    await handle.signal(SIGNAL_GUARANTEE, guarantee("14910", "LG-2"))
    await wait_state(handle, "detained")
    await determine(handle, Determination(outcome="infringing", fine_tier="ordinary"))
    return handle


async def step_delayed(env, queue):
    handle = await start(env, queue)
    await wait_state(handle, "suspended")
    await handle.signal(SIGNAL_HOLDER_REPLY, HolderReply(decision="no_detention"))
    return handle


async def wait_event(handle: WorkflowHandle, event: str, count: int = 1) -> CaseState:
    current = None
    for _ in range(250):
        current = await query(handle)
        if sum(1 for h in current.history if h.event == event) >= count:
            return current
        await asyncio.sleep(0.02)  # real-time poll of the query, not a wait for a deadline
    raise AssertionError(f"case never recorded {count} x {event}")


async def wait_deadline(handle: WorkflowHandle, name: str) -> CaseState:
    """The case once deadline ``name`` is open (a party's clock opens when its notice is served)."""
    current = None
    for _ in range(250):
        current = await query(handle)
        if any(d.name == name for d in current.deadlines):
            return current
        await asyncio.sleep(0.02)  # real-time poll of the query, not a wait for a deadline
    raise AssertionError(f"deadline {name} never opened")


async def eu_declarant_served_on_paper(env, queue):
    """The declarant's notice bounces; an officer serves it on paper; its silence then counts from that service."""
    handle = await start(
        env,
        queue,
        jurisdiction="EU",
        currency="EUR",
        goods_value_cny=None,
        application_id="EU-AFA-1",
        declarant=PartyRef(id="DE-EORI-1", name="Broker GmbH", contact_email="broker@bounce.example"),
    )
    await wait_state(handle, "detained")
    await handle.signal(SIGNAL_PARTY_SUBMISSION, PartySubmission(party="holder", kind="confirms_infringement"))
    await wait_event(handle, "party_notice_undeliverable")
    await handle.signal(SIGNAL_NOTICE_SERVED, NoticeServed(notice="party_detention", method="post", actor=OFFICER))
    return handle


async def us_importer_served_late(env, queue):
    """The importer's notice is delivered after notify's retries; the importer answers; the officer finds."""
    handle = await start(
        env, queue, jurisdiction="US", currency="USD", goods_value_cny=None, genuine_unit_value=Decimal("120")
    )
    await wait_event(handle, "party_notice_sent")
    await handle.signal(SIGNAL_PARTY_SUBMISSION, PartySubmission(party="importer", kind="importer_response"))
    await determine(handle, Determination(outcome="infringing", officer="cbp.1", fine_amount=Decimal("1000")))
    return handle


def _refusing(*steps: str) -> Callable[[str, object], bool]:
    return lambda name, req: name in steps


# path -> (scenario, what the fake step services do)
FAULTY = {
    "guarantee_oversized_replaced": (guarantee_oversized_replaced, {}),
    "bad_signals": (bad_signals, {}),
    "refused_steps": (refused_steps, {"refuse": _refusing("place_hold", "send_notice", "record_disposition")}),
    "ledger_refusal_replaced": (
        ledger_refusal_replaced,
        {"refuse": lambda name, req: name == "hold_guarantee" and req.reference == "LG-1"},
    ),
    "step_delayed": (step_delayed, {"failing": lambda name, req: 25 if name == "hold_action" else 0}),
    # notices to parties (case-parties): one that bounced and was served on paper, one delivered after retries
    "eu_declarant_served_on_paper": (eu_declarant_served_on_paper, {"party_service": "undeliverable"}),
    "us_importer_served_late": (us_importer_served_late, {"served_after_polls": 3}),
}
# Paths of v5 (notices to parties, before a proposal could be withdrawn; histories v5_).
V5_PATHS = (*(p for p in ALL if p != "proposal_withdrawn"), *FAULTY)
# Paths of v4 (consignment cases before notices to parties; histories v4_), with the faulty ones of then.
V4_PATHS = (
    *(p for p in ALL if p != "proposal_withdrawn"),
    "guarantee_oversized_replaced",
    "bad_signals",
    "refused_steps",
    "ledger_refusal_replaced",
    "step_delayed",
)
