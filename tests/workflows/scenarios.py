"""Fake step services and scripted case paths, shared by the workflow tests and the history recorder."""

from __future__ import annotations

import asyncio
import uuid
from decimal import Decimal

from temporalio import activity
from temporalio.client import WorkflowHandle

from shared.contracts.cases import (
    QUERY_STATE,
    SIGNAL_COURT_NOTICE,
    SIGNAL_DETERMINATION,
    SIGNAL_HOLDER_REPLY,
    CaseEventRecord,
    CaseState,
    CourtNotice,
    Determination,
    DispositionRequest,
    DispositionResult,
    GuaranteeInfo,
    HoldActionRequest,
    HolderReply,
    HoldResult,
    NoticeRequest,
    NoticeResult,
    PlaceHoldRequest,
)
from tests.factories import case_input


def workflow_class():  # noqa: ANN201
    from services.cases.workflow import CaseWorkflow

    return CaseWorkflow


class FakeServices:
    """Stand-ins for holds, notify and disposal that remember every call."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, object]] = []
        self.events: list[CaseEventRecord] = []

    def activities(self) -> list:
        @activity.defn(name="place_hold")
        async def place_hold(req: PlaceHoldRequest) -> HoldResult:
            self.calls.append(("place_hold", req))
            return HoldResult(hold_id=f"HOLD-{req.case_id}", status="suspended")

        @activity.defn(name="hold_action")
        async def hold_action(req: HoldActionRequest) -> HoldResult:
            self.calls.append(("hold_action", req))
            return HoldResult(hold_id=req.hold_id, status=req.action)

        @activity.defn(name="send_notice")
        async def send_notice(req: NoticeRequest) -> NoticeResult:
            self.calls.append(("send_notice", req))
            return NoticeResult(notice_id=f"NTC-{len(self.calls)}", email_status="delivered",
                                webhook_status="not_configured")

        @activity.defn(name="record_disposition")
        async def record_disposition(req: DispositionRequest) -> DispositionResult:
            self.calls.append(("record_disposition", req))
            fine = (req.goods_value * Decimal("0.15")).quantize(Decimal("0.01")) if req.outcome == "confiscation" \
                else Decimal(0)
            return DispositionResult(disposition_id=f"DSP-{req.case_id}", outcome=req.outcome, fine_amount=fine,
                                     fine_currency=req.currency,
                                     disposal_method="destruction" if req.outcome == "confiscation" else None)

        @activity.defn(name="record_case_events")
        async def record_case_events(records: list[CaseEventRecord]) -> None:
            self.events.extend(records)

        return [place_hold, hold_action, send_notice, record_disposition, record_case_events]

    def of(self, name: str) -> list:
        return [req for n, req in self.calls if n == name]


async def start(env, queue: str, **kw) -> WorkflowHandle:  # noqa: ANN001, ANN003
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


def guarantee(amount: str, ref: str = "G-1") -> GuaranteeInfo:
    return GuaranteeInfo(amount=Decimal(amount), currency="CNY", reference=ref)


async def silence_release(env, queue):  # noqa: ANN001, ANN201
    handle = await start(env, queue)
    await wait_state(handle, "suspended")
    return handle


async def no_detention(env, queue):  # noqa: ANN001, ANN201
    handle = await start(env, queue)
    await wait_state(handle, "suspended")
    await handle.signal(SIGNAL_HOLDER_REPLY, HolderReply(decision="no_detention"))
    return handle


async def confiscation(env, queue):  # noqa: ANN001, ANN201
    handle = await start(env, queue)
    await wait_state(handle, "suspended")
    await handle.signal(SIGNAL_HOLDER_REPLY, HolderReply(decision="detain", guarantee=guarantee("14910")))
    await wait_state(handle, "detained")
    await handle.signal(SIGNAL_DETERMINATION, Determination(outcome="infringing", fine_tier="ordinary", officer="o1"))
    return handle


async def undetermined_release(env, queue):  # noqa: ANN001, ANN201
    handle = await start(env, queue)
    await wait_state(handle, "suspended")
    await handle.signal(SIGNAL_HOLDER_REPLY, HolderReply(decision="detain", guarantee=guarantee("20000", "G-2")))
    await wait_state(handle, "detained")
    await handle.signal(SIGNAL_DETERMINATION, Determination(outcome="cannot_determine"))
    await wait_state(handle, "undetermined")
    return handle


async def court_handover(env, queue):  # noqa: ANN001, ANN201
    handle = await start(env, queue)
    await wait_state(handle, "suspended")
    await handle.signal(SIGNAL_HOLDER_REPLY, HolderReply(decision="detain", guarantee=guarantee("20000", "G-3")))
    await wait_state(handle, "detained")
    await handle.signal(SIGNAL_COURT_NOTICE, CourtNotice(reference="(2026) Hu 0115 Zhi Bao 12",
                                                         court="Shanghai Pudong", action="keep_detained_for_court"))
    return handle


ALL = {
    "silence_release": silence_release,
    "no_detention": no_detention,
    "confiscation": confiscation,
    "undetermined_release": undetermined_release,
    "court_handover": court_handover,
}
