"""No refusal, payload or outage strands a case: each takes its lawful path and the case ends on time.

The step services are fakes that refuse (4xx) or fail (as if down) on request; signals carry
payloads a well-behaved client would never send. No workflow may fail and no workflow task
may fail: every case reaches a lawful end state when its deadlines say.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from temporalio.api.common.v1 import Payload
from temporalio.api.enums.v1 import EventType, WorkflowTaskFailedCause
from temporalio.client import WorkflowExecutionStatus, WorkflowHandle
from temporalio.common import RawValue

from shared.contracts.cases import (
    SIGNAL_DETERMINATION,
    SIGNAL_GUARANTEE,
    SIGNAL_HOLDER_REPLY,
    Determination,
    GuaranteeInfo,
)
from tests.workflows.conftest import harness_with
from tests.workflows.scenarios import FakeServices, determine, query, start, wait_state

# The server's own task failure when a signal arrives while a task completes the workflow (the task runs again).
UNHANDLED_COMMAND = WorkflowTaskFailedCause.WORKFLOW_TASK_FAILED_CAUSE_UNHANDLED_COMMAND
OVERSIZED = {
    "decision": "detain",
    "guarantee": {"amount": "2000000000000", "currency": "CNY", "form": "bank_letter", "reference": "LG-BIG"},
}


def events(state) -> list[str]:
    return [h.event for h in state.history]


def entries(state, event: str) -> list[dict]:
    return [h.detail for h in state.history if h.event == event]


async def no_task_failed(handle: WorkflowHandle) -> None:
    """The case completed, and no workflow task ever failed on the way (no retry loop on a bad signal)."""
    assert (await handle.describe()).status == WorkflowExecutionStatus.COMPLETED
    history = await handle.fetch_history()
    failed = [
        e
        for e in history.events
        if e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED
        and e.workflow_task_failed_event_attributes.cause != UNHANDLED_COMMAND
    ]
    assert not failed, failed


async def wait_event(handle: WorkflowHandle, event: str) -> None:
    from tests.helpers import eventually

    async def seen() -> bool:
        return event in events(await query(handle))

    await eventually(seen, within=10, what=f"history entry {event}")


async def test_oversized_guarantee_in_a_reply_is_refused_in_writing_and_can_be_replaced(harness) -> None:
    env, fakes, queue = harness
    handle = await start(env, queue)
    await wait_state(handle, "suspended")
    await handle.signal(SIGNAL_HOLDER_REPLY, OVERSIZED)
    await wait_event(handle, "notice_sent")
    state = await query(handle)
    assert state.state == "suspended"
    assert "holder_replied" in events(state) and "guarantee_rejected" in events(state)
    assert "1000000000000" in entries(state, "guarantee_rejected")[0]["reason"]
    refused = [n for n in fakes.holder_notices() if n.kind == "guarantee_refused"]
    assert len(refused) == 1 and "1000000000000" in refused[0].body
    # The holder replaces it before the reply deadline: detained against the new guarantee.
    await handle.signal(SIGNAL_GUARANTEE, GuaranteeInfo(amount=Decimal("14910"), currency="CNY", reference="LG-OK"))
    await wait_state(handle, "detained")
    assert not fakes.of("hold_guarantee")[0].amount > Decimal(10) ** 12
    await handle.signal(SIGNAL_DETERMINATION, Determination(outcome="not_infringing"))
    assert (await handle.result()).state == "released"
    await no_task_failed(handle)


async def test_oversized_guarantee_not_replaced_means_release_at_the_reply_deadline(harness) -> None:
    env, fakes, queue = harness
    handle = await start(env, queue)
    state = await wait_state(handle, "suspended")
    due = next(d for d in state.deadlines if d.name == "holder_reply").due_at
    await handle.signal(SIGNAL_HOLDER_REPLY, OVERSIZED)
    result = await handle.result()
    assert result.state == "released"
    assert "no sufficient guarantee" in result.history[-1].detail["reason"]
    released_at = next(h.at for h in result.history if h.event == "deadline_lapsed")
    assert released_at >= due and (released_at - due).total_seconds() < 60
    assert [a.action for a in fakes.of("hold_action")] == ["release"]
    assert not fakes.of("hold_guarantee"), "an amount out of bounds never reaches the ledger"
    await no_task_failed(handle)


@pytest.mark.parametrize(
    "faulty_harness",
    [{"refuse": lambda name, req: name == "hold_guarantee" and req.reference == "LG-1"}],
    indirect=True,
)
async def test_ledger_refusing_with_4xx_is_the_refused_guarantee_path(faulty_harness) -> None:
    env, fakes, queue = faulty_harness
    handle = await start(env, queue)
    await wait_state(handle, "suspended")
    await handle.signal(
        SIGNAL_HOLDER_REPLY,
        {
            "decision": "detain",
            "guarantee": {"amount": "14910", "currency": "CNY", "form": "bank_letter", "reference": "LG-1"},
        },
    )
    await wait_event(handle, "notice_sent")
    await wait_event(handle, "guarantee_refused")
    state = await query(handle)
    assert state.state == "suspended" and state.guarantee_status == "refused"
    await handle.signal(SIGNAL_GUARANTEE, GuaranteeInfo(amount=Decimal("14910"), currency="CNY", reference="LG-2"))
    await wait_state(handle, "detained")
    await determine(handle, Determination(outcome="infringing", fine_tier="ordinary"))
    result = await handle.result()
    assert result.state == "confiscated"
    assert "step_refused" not in events(result), "a refused guarantee is the holder's matter, not an officer's task"
    await no_task_failed(handle)


@pytest.mark.parametrize(
    "payload",
    [
        pytest.param([], id="no-payload"),
        pytest.param([{"decision": "detain"}, {"decision": "no_detention"}], id="two-payloads"),
        pytest.param(["detain"], id="not-an-object"),
        pytest.param([RawValue(Payload(metadata={"encoding": b"binary/plain"}, data=b"\x00\xff"))], id="binary"),
        pytest.param([RawValue(Payload(metadata={"encoding": b"json/plain"}, data=b"{not json"))], id="bad-json"),
        pytest.param([{"decision": "maybe"}], id="wrong-contract"),
    ],
)
async def test_undecodable_reply_is_recorded_as_ignored_and_the_case_goes_on(harness, payload) -> None:
    env, fakes, queue = harness
    handle = await start(env, queue)
    await wait_state(handle, "suspended")
    await handle.signal(SIGNAL_HOLDER_REPLY, args=payload)
    await wait_event(handle, "signal_ignored")
    ignored = entries(await query(handle), "signal_ignored")
    assert ignored[0]["signal"] == SIGNAL_HOLDER_REPLY and ignored[0]["why"]
    await handle.signal(SIGNAL_HOLDER_REPLY, {"decision": "no_detention"})
    result = await handle.result()
    assert result.state == "released" and "no detention is needed" in result.history[-1].detail["reason"]
    await no_task_failed(handle)


async def test_out_of_bounds_amounts_and_unknown_signals_are_ignored_with_the_reason(harness) -> None:
    env, fakes, queue = harness
    handle = await start(env, queue)
    await wait_state(handle, "suspended")
    await handle.signal("no_such_signal", {"x": 1})
    await handle.signal(SIGNAL_HOLDER_REPLY, {"decision": "detain"})  # the guarantee follows
    await handle.signal(SIGNAL_GUARANTEE, {"amount": "NaN", "currency": "CNY", "reference": "G"})
    await handle.signal(SIGNAL_GUARANTEE, {"amount": "100.001", "currency": "CNY", "reference": "G"})
    await handle.signal(SIGNAL_GUARANTEE, {"amount": "14910", "currency": "USD", "reference": "G"})
    await handle.signal(SIGNAL_GUARANTEE, {"amount": "-5", "currency": "CNY", "reference": "G"})
    await handle.signal(SIGNAL_DETERMINATION, {"outcome": "infringing", "fine_amount": "1e400"})
    await handle.signal(SIGNAL_GUARANTEE, {"amount": "14910", "currency": "CNY", "reference": "G-OK"})
    await wait_state(handle, "detained")
    await handle.signal(SIGNAL_DETERMINATION, {"outcome": "infringing", "fine_amount": "-1"})
    await determine(handle, Determination(outcome="infringing", fine_tier="ordinary"))
    result = await handle.result()
    assert result.state == "confiscated"
    ignored = [(d["signal"], d["why"]) for d in entries(result, "signal_ignored")]
    assert ("no_such_signal", "unknown signal") in ignored
    # guarantees that cannot be taken while the reply window is open are refused in writing instead
    rejected = [d["reason"] for d in entries(result, "guarantee_rejected")]
    assert len(rejected) == 4 and any("currency USD" in r for r in rejected) and any("decimal" in r for r in rejected)
    assert sum(1 for s, _ in ignored if s == SIGNAL_DETERMINATION) == 2
    assert all(r.fine_amount is None or r.fine_amount >= 0 for r in fakes.of("record_disposition"))
    await no_task_failed(handle)


@pytest.mark.parametrize(
    "faulty_harness", [{"refuse": lambda name, req: name == "hold_action" and req.action == "release"}], indirect=True
)
async def test_refused_release_is_an_officers_task_and_the_case_still_ends(faulty_harness) -> None:
    env, fakes, queue = faulty_harness
    handle = await start(env, queue)
    await wait_state(handle, "suspended")
    result = await handle.result()  # no reply: released when the reply window closes
    assert result.state == "released"
    refused = entries(result, "step_refused")
    assert refused and refused[0]["step"] == "hold_action:release" and "by hand" in refused[0]["task"]
    assert fakes.of("record_disposition")[0].outcome == "release", "the outcome is still recorded"
    await no_task_failed(handle)


@pytest.mark.parametrize(
    "faulty_harness",
    [{"refuse": lambda name, req: name in ("place_hold", "send_notice", "record_disposition")}],
    indirect=True,
)
async def test_refused_hold_notices_and_disposition_leave_tasks_and_deadlines_run(faulty_harness) -> None:
    env, fakes, queue = faulty_harness
    handle = await start(env, queue)
    state = await wait_state(handle, "suspended")
    assert state.hold_id is None and not state.notice_ids
    result = await handle.result()
    assert result.state == "released" and result.disposition_id is None
    steps = [d["step"] for d in entries(result, "step_refused")]
    assert steps == [
        "place_hold",
        "send_notice:suspension",
        "hold_action:release",
        "record_disposition:release",
        "send_notice:release",
    ]
    await no_task_failed(handle)


@pytest.mark.parametrize(
    "faulty_harness", [{"failing": lambda name, req: 25 if name == "hold_action" else 0}], indirect=True
)
async def test_a_step_failing_for_an_hour_is_escalated_and_recovers(faulty_harness) -> None:
    env, fakes, queue = faulty_harness
    handle = await start(env, queue)
    await wait_state(handle, "suspended")
    await handle.signal(SIGNAL_HOLDER_REPLY, {"decision": "no_detention"})
    result = await handle.result()
    assert result.state == "released"
    delayed = entries(result, "step_delayed")
    assert [d["step"] for d in delayed] == ["hold_action:release"]
    assert entries(result, "step_recovered") == [{"step": "hold_action:release", "outcome": "done"}]
    assert len([1 for n, _ in fakes.attempts if n == "hold_action"]) == 26
    await no_task_failed(handle)


@pytest.fixture
async def faulty_harness(env, request):
    async for h in harness_with(env, FakeServices(**request.param)):
        yield h
