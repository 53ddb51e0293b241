"""Four-eyes on confiscations: an infringing determination waits for a supervisor who did not propose it,
and a pending approval never stretches a legal deadline (time-skipping server)."""

from __future__ import annotations

import asyncio
from decimal import Decimal

from shared.contracts.cases import (
    SIGNAL_APPROVAL,
    SIGNAL_DETERMINATION,
    SIGNAL_HEARING,
    ActorRef,
    ApprovalDecision,
    Determination,
    HearingUpdate,
)
from tests.workflows.scenarios import OFFICER, SUPERVISOR, determine, query
from tests.workflows.scenarios import wait_state as wait_state_of
from tests.workflows.test_procedures import detained_cn, events, open_case

OTHER_OFFICER = ActorRef(sub="officer-li", name="Li Na", role="officer")
SUPERVISOR_WHO_PROPOSED = ActorRef(sub="supervisor-sun", name="Sun Li", role="supervisor")


def entries(state, event: str) -> list[dict]:
    return [h.detail for h in state.history if h.event == event]


async def wait_event(handle, event: str) -> None:
    for _ in range(200):
        if event in events(await query(handle)):
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"no {event} in the history")


async def test_confiscation_waits_for_a_second_person_and_names_both(harness) -> None:
    env, fakes, queue = harness
    handle = await open_case(env, queue)
    await detained_cn(handle)
    await determine(handle, Determination(outcome="infringing", fine_tier="ordinary"), approve=False)
    await wait_event(handle, "approval_requested")
    state = await query(handle)
    assert state.state == "detained", "a proposal alone changes nothing"
    requested = entries(state, "approval_requested")[0]
    # written to the audit trail while the case waits (the worklist shows the pending approval)
    for _ in range(200):
        if any(r.event == "approval_requested" for r in fakes.events):
            break
        await asyncio.sleep(0.05)
    else:
        raise AssertionError("the proposal was not written to the audit trail while the case waits")
    assert requested["proposed_by"] == OFFICER.name and requested["deadline"] == "customs_determination"
    # The proposer, another officer, and a second proposal do not decide it.
    await handle.signal(SIGNAL_APPROVAL, ApprovalDecision(decision="approve", actor=OFFICER))
    await handle.signal(SIGNAL_APPROVAL, ApprovalDecision(decision="approve", actor=OTHER_OFFICER))
    await handle.signal(SIGNAL_DETERMINATION, Determination(outcome="infringing", actor=OTHER_OFFICER))
    await handle.signal(SIGNAL_APPROVAL, ApprovalDecision(decision="approve", note="photos checked", actor=SUPERVISOR))
    result = await handle.result()
    assert result.state == "confiscated"
    ignored = entries(result, "approval_ignored")
    assert [i["code"] for i in ignored] == ["approver_not_supervisor", "approver_not_supervisor"]
    assert any("already waits" in d.get("why", "") for d in entries(result, "determination_ignored"))
    granted = entries(result, "approval_granted")
    assert granted == [
        {
            "kind": "confiscation",
            "what": "determination",
            "outcome": "infringing",
            "proposed_by": OFFICER.name,
            "by": SUPERVISOR.name,
            "by_sub": SUPERVISOR.sub,
            "note": "photos checked",
        }
    ]
    determined = entries(result, "customs_determined")[0]
    assert determined["actor"]["sub"] == OFFICER.sub and determined["approved_by"]["sub"] == SUPERVISOR.sub
    assert len(fakes.of("record_disposition")) == 1


async def test_a_supervisor_cannot_approve_its_own_proposal(harness) -> None:
    env, fakes, queue = harness
    handle = await open_case(env, queue)
    await detained_cn(handle)
    await handle.signal(SIGNAL_DETERMINATION, Determination(outcome="infringing", actor=SUPERVISOR_WHO_PROPOSED))
    await handle.signal(SIGNAL_APPROVAL, ApprovalDecision(decision="approve", actor=SUPERVISOR_WHO_PROPOSED))
    await wait_event(handle, "approval_ignored")
    assert entries(await query(handle), "approval_ignored")[0]["code"] == "same_person"
    await handle.signal(SIGNAL_APPROVAL, ApprovalDecision(decision="approve", actor=SUPERVISOR))
    assert (await handle.result()).state == "confiscated"


async def test_a_refused_proposal_can_be_made_again(harness) -> None:
    env, fakes, queue = harness
    handle = await open_case(env, queue)
    await detained_cn(handle)
    await determine(handle, Determination(outcome="infringing", fine_tier="heavier"), approve=False)
    await handle.signal(SIGNAL_APPROVAL, ApprovalDecision(decision="refuse", note="tier too high", actor=SUPERVISOR))
    await wait_event(handle, "approval_refused")
    assert (await query(handle)).state == "detained"
    await determine(handle, Determination(outcome="infringing", fine_tier="ordinary"))
    result = await handle.result()
    assert result.state == "confiscated"
    assert [e for e in events(result) if e.startswith("approval_")] == [
        "approval_requested",
        "approval_refused",
        "approval_requested",
        "approval_granted",
    ]


async def test_a_pending_approval_lapses_with_the_legal_deadline(harness) -> None:
    env, fakes, queue = harness
    handle = await open_case(env, queue)
    await detained_cn(handle)
    await determine(handle, Determination(outcome="infringing"), approve=False)
    result = await handle.result()  # nobody approves: the 30-WD determination limit passes, then release at 50 WD
    assert result.state == "released"
    deadlines = {d.name: d.status for d in result.deadlines}
    assert deadlines["customs_determination"] == "lapsed", "the proposal did not stretch the deadline"
    lapsed = entries(result, "approval_lapsed")
    assert len(lapsed) == 1 and "customs_determination" in lapsed[0]["why"]
    order = events(result)
    assert order.index("approval_lapsed") < order.index("infringement_not_determined")
    assert all(d.outcome != "confiscation" for d in fakes.of("record_disposition"))
    # an approval arriving after the lapse decides nothing
    assert "approval_granted" not in order


async def test_a_fine_concluded_at_a_hearing_needs_a_second_person_too(harness) -> None:
    env, fakes, queue = harness
    handle = await open_case(env, queue, goods_value="140845.07", goods_value_cny="1000000.00")
    await detained_cn(handle, amount="100000")
    await determine(handle, Determination(outcome="infringing", fine_tier="heavier"))
    await wait_state_of(handle, "hearing")
    await handle.signal(SIGNAL_HEARING, HearingUpdate(kind="requested", by="consignor"))
    await handle.signal(SIGNAL_HEARING, HearingUpdate(kind="concluded", fine_amount=Decimal("210000"), actor=OFFICER))
    await wait_event(handle, "approval_requested")
    assert (await query(handle)).state == "hearing", "the fine is not set by one person"
    await handle.signal(SIGNAL_APPROVAL, ApprovalDecision(decision="approve", actor=SUPERVISOR))
    result = await handle.result()
    assert result.state == "confiscated"
    fine = entries(result, "approval_granted")[-1]
    assert fine["kind"] == "fine" and fine["fine_amount"] == "210000" and fine["by_sub"] == SUPERVISOR.sub
    assert fakes.of("record_disposition")[0].fine_amount == Decimal("210000")


async def test_an_unapproved_hearing_fine_lapses_and_the_proposed_fine_applies(harness) -> None:
    env, fakes, queue = harness
    handle = await open_case(env, queue, goods_value="140845.07", goods_value_cny="1000000.00")
    await detained_cn(handle, amount="100000")
    await determine(handle, Determination(outcome="infringing", fine_tier="heavier"))
    await wait_state_of(handle, "hearing")
    await handle.signal(SIGNAL_HEARING, HearingUpdate(kind="requested", by="consignor"))
    await handle.signal(SIGNAL_HEARING, HearingUpdate(kind="concluded", fine_amount=Decimal("210000"), actor=OFFICER))
    result = await handle.result()
    assert result.state == "confiscated"
    lapsed = entries(result, "approval_lapsed")
    assert len(lapsed) == 1 and lapsed[0]["kind"] == "fine" and "hearing_conclusion" in lapsed[0]["why"]
    proposed = entries(result, "penalty_proposed")[0]["fine"]
    assert fakes.of("record_disposition")[0].fine_amount == Decimal(proposed)


async def test_the_proposer_withdraws_its_proposal_and_no_one_else_can(harness) -> None:
    env, fakes, queue = harness
    handle = await open_case(env, queue)
    await detained_cn(handle)
    await handle.signal(
        SIGNAL_DETERMINATION,
        Determination(
            outcome="infringing", fine_tier="heavier", note="logos misprinted", actor=SUPERVISOR_WHO_PROPOSED
        ),
    )
    await wait_event(handle, "approval_requested")
    proposed = await query(handle)
    assert proposed.proposals_withdrawable
    assert entries(proposed, "approval_requested")[0]["note"] == "logos misprinted", "the approver reads why"
    # another supervisor (who may refuse it) and an officer do not withdraw it: that is its proposer's
    await handle.signal(SIGNAL_APPROVAL, ApprovalDecision(decision="withdraw", actor=SUPERVISOR))
    await handle.signal(SIGNAL_APPROVAL, ApprovalDecision(decision="withdraw", actor=OTHER_OFFICER))
    await handle.signal(
        SIGNAL_APPROVAL, ApprovalDecision(decision="withdraw", note="wrong tier", actor=SUPERVISOR_WHO_PROPOSED)
    )
    await wait_event(handle, "approval_withdrawn")
    state = await query(handle)
    assert state.state == "detained" and state.deadlines, "the case waits for a new determination"
    assert [i["why"] for i in entries(state, "approval_ignored")] == [
        "only the person who proposed it withdraws a proposal"
    ] * 2
    assert entries(state, "approval_withdrawn") == [
        {
            "kind": "confiscation",
            "what": "determination",
            "outcome": "infringing",
            "proposed_by": SUPERVISOR_WHO_PROPOSED.name,
            "by": SUPERVISOR_WHO_PROPOSED.name,
            "by_sub": SUPERVISOR_WHO_PROPOSED.sub,
            "note": "wrong tier",
        }
    ]
    # a withdrawn proposal is not approved later; a new one is
    await handle.signal(SIGNAL_APPROVAL, ApprovalDecision(decision="approve", actor=SUPERVISOR))
    await wait_event(handle, "approval_ignored")
    await determine(handle, Determination(outcome="infringing", fine_tier="ordinary"))
    result = await handle.result()
    assert result.state == "confiscated"
    assert [e for e in events(result) if e.startswith("approval_") and e != "approval_ignored"] == [
        "approval_requested",
        "approval_withdrawn",
        "approval_requested",
        "approval_granted",
    ]
