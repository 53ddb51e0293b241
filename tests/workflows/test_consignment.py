"""Consignment cases under the time-skipping test server: one case per declaration and rights holder, the
guarantee and every threshold on the quantity the law names, decisions per line, and declaration revisions
that add, withdraw or move lines.

The cases are built exactly as the risk service builds them (``shared.case_opening``), from declarations of
several lines; only the step services are fakes.
"""

from __future__ import annotations

import asyncio
import uuid
from decimal import Decimal

import pytest
from temporalio.client import WorkflowFailureError, WorkflowHandle

from services.cases.workflow import CaseWorkflow
from shared.case_opening import lines_revision
from shared.contracts.cases import (
    SIGNAL_APPROVAL,
    SIGNAL_DETERMINATION,
    SIGNAL_HEARING,
    SIGNAL_HOLDER_REPLY,
    SIGNAL_LINES,
    SIGNAL_PARTY_SUBMISSION,
    ApprovalDecision,
    CaseInput,
    Determination,
    GuaranteeInfo,
    HearingUpdate,
    HolderReply,
    LineDetermination,
    LinesRevision,
    PartySubmission,
)
from tests.factories import ADIDAS, consignment_cases, declaration, recordation, shoe_line
from tests.workflows.scenarios import OFFICER, SUPERVISOR, determine, query, wait_event, wait_state

D = Decimal
NIKE = recordation()
ADIDAS_REC = recordation(**ADIDAS)


STARTED: list[WorkflowHandle] = []


@pytest.fixture(autouse=True)
async def _run_cases_to_their_end(harness):
    """Cases a test leaves waiting run to their lawful end in skipped time while the test's worker still runs:
    a case left open without its worker (or terminated) stops the test server from skipping time later."""
    yield
    while STARTED:
        handle = STARTED.pop()
        try:
            await asyncio.wait_for(handle.result(), timeout=60)
        except WorkflowFailureError:
            pass


async def start(env, queue: str, case: CaseInput, revision: LinesRevision | None = None) -> WorkflowHandle:
    handle = await env.client.start_workflow(
        CaseWorkflow.run,
        case,
        id=case.case_id,
        task_queue=queue,
        start_signal=SIGNAL_LINES,
        start_signal_args=[revision or lines_revision(case)],
    )
    STARTED.append(handle)
    return handle


def cny_lines(*values: str) -> list[dict]:
    """Lines in RMB of the given values (one pair each)."""
    return [shoe_line(n, quantity="1", unit_value=v) for n, v in enumerate(values, start=1)]


async def detain(handle: WorkflowHandle, amount: Decimal) -> None:
    await wait_state(handle, "suspended")
    await handle.signal(
        SIGNAL_HOLDER_REPLY,
        HolderReply(
            decision="detain",
            guarantee=GuaranteeInfo(amount=amount, currency="CNY", form="bank_letter", reference="LG-1"),
        ),
    )
    await wait_state(handle, "detained")


# ---------------------------------------------------------------------------- the case unit


async def test_four_lines_of_one_holder_are_one_case_with_one_guarantee_on_the_total(harness) -> None:
    env, fakes, queue = harness
    decl = declaration(
        cny_lines("6000", "6000", "6000", "6000"), currency="CNY", declaration_id=f"CN5300-C{uuid.uuid4().hex[:6]}"
    )
    cases = consignment_cases(decl, {n: NIKE for n in (1, 2, 3, 4)})
    assert len(cases) == 1 and [ln.line_no for ln in cases[0].lines] == [1, 2, 3, 4]
    handle = await start(env, queue, cases[0])
    state = await wait_state(handle, "suspended")
    # RMB 24,000 in one case: 50% but at least 20,000 -> 20,000 (four cases would have asked 4 x 6,000).
    assert state.required_guarantee == D("20000.00") and state.goods_value == D("24000.00")
    assert [ln.line_no for ln in state.lines] == [1, 2, 3, 4] and {ln.status for ln in state.lines} == {"held"}
    hold = fakes.of("place_hold")[0]
    assert hold.line_nos == [1, 2, 3, 4] and len(fakes.of("place_hold")) == 1
    assert len(fakes.holder_notices()) == 1, "one written notice for the consignment"
    opened = next(h for h in state.history if h.event == "case_opened")
    assert [ln["line_no"] for ln in opened.detail["lines"]] == [1, 2, 3, 4]


@pytest.mark.parametrize(
    ("values", "guarantee"),
    [
        (("4999.99", "5000", "5000", "5000"), "19999.99"),  # total below 20,000: the whole value
        (("5000", "5000", "5000", "5000"), "20000.00"),  # 20,000: 50% but at least 20,000
        (("25000", "25000", "25000", "25000"), "50000.00"),  # 100,000: 50%
        (("50000", "50000", "50000", "50000"), "100000.00"),  # 200,000, upper end of the 50% tier
        (("50000", "50000", "50000", "50000.01"), "100000.00"),  # above 200,000: RMB 100,000
    ],
)
async def test_guarantee_tier_boundaries_apply_to_the_total_of_the_case(harness, values, guarantee) -> None:
    env, fakes, queue = harness
    decl = declaration(cny_lines(*values), currency="CNY", declaration_id=f"CN5300-T{uuid.uuid4().hex[:6]}")
    handle = await start(env, queue, consignment_cases(decl, {n: NIKE for n in (1, 2, 3, 4)})[0])
    state = await wait_state(handle, "suspended")
    assert state.required_guarantee == D(guarantee)


async def test_two_holders_in_one_declaration_are_two_cases(harness) -> None:
    env, fakes, queue = harness
    decl = declaration(
        cny_lines("6000", "7000", "8000"), currency="CNY", declaration_id=f"CN5300-H{uuid.uuid4().hex[:6]}"
    )
    cases = consignment_cases(decl, {1: NIKE, 2: ADIDAS_REC, 3: NIKE})
    assert [c.case_id for c in cases] == [f"IPR-{decl.declaration_id}-RH-0001", f"IPR-{decl.declaration_id}-RH-0002"]
    nike, adidas = [await wait_state(await start(env, queue, c), "suspended") for c in cases]
    assert [ln.line_no for ln in nike.lines] == [1, 3] and nike.required_guarantee == D("14000.00")
    assert [ln.line_no for ln in adidas.lines] == [2] and adidas.required_guarantee == D("7000.00")
    assert nike.holder_id == "RH-0001" and adidas.holder_id == "RH-0002"
    assert nike.consignment.suspected_value == adidas.consignment.suspected_value == D("21000.00")


async def test_police_referral_is_reached_by_the_total_across_holders(harness) -> None:
    env, fakes, queue = harness
    # NIKE goods RMB 30,000 (below the RMB 50,000 threshold alone) + ADIDAS goods RMB 25,000 in one consignment.
    decl = declaration(
        cny_lines("15000", "15000", "25000"), currency="CNY", declaration_id=f"CN5300-P{uuid.uuid4().hex[:6]}"
    )
    nike = consignment_cases(decl, {1: NIKE, 2: NIKE, 3: ADIDAS_REC})[0]
    handle = await start(env, queue, nike)
    await detain(handle, D("20000"))
    await determine(handle, Determination(outcome="infringing", fine_tier="ordinary", officer="o1"))
    result = await handle.result()
    assert result.state == "confiscated" and result.police_referral is True
    referral = next(h for h in result.history if h.event == "referred_to_police")
    assert referral.detail["goods_value"] == "55000.00" and referral.detail["case_goods_value"] == "30000.00"
    assert referral.detail["measured_on"] == "all suspected goods of the consignment"
    # the fine is on the goods of the case only: the middle of 10-20% of RMB 30,000
    assert fakes.of("record_disposition")[0].fine_amount == D("4500.00")


async def test_police_referral_not_reached_when_the_consignment_stays_below(harness) -> None:
    env, fakes, queue = harness
    decl = declaration(
        cny_lines("15000", "15000", "19999.99"), currency="CNY", declaration_id=f"CN5300-Q{uuid.uuid4().hex[:6]}"
    )
    handle = await start(env, queue, consignment_cases(decl, {1: NIKE, 2: NIKE, 3: ADIDAS_REC})[0])
    await detain(handle, D("20000"))
    await determine(handle, Determination(outcome="infringing"))
    assert (await handle.result()).police_referral is False


async def test_per_line_determination_releases_line_4_and_confiscates_the_rest(harness) -> None:
    env, fakes, queue = harness
    decl = declaration(
        cny_lines("10000", "10000", "10000", "5000"), currency="CNY", declaration_id=f"CN5300-L{uuid.uuid4().hex[:6]}"
    )
    handle = await start(env, queue, consignment_cases(decl, {n: NIKE for n in (1, 2, 3, 4)})[0])
    await detain(handle, D("20000"))
    await determine(
        handle,
        Determination(
            outcome="infringing",
            fine_tier="ordinary",
            officer="o1",
            lines=[LineDetermination(line_no=4, outcome="not_infringing")],
        ),
    )
    result = await handle.result()
    assert result.state == "confiscated"
    assert {ln.line_no: ln.status for ln in result.lines} == {
        1: "confiscated",
        2: "confiscated",
        3: "confiscated",
        4: "released",
    }
    actions = [(a.action, a.line_nos) for a in fakes.of("hold_action")]
    assert actions == [("detain", None), ("release", [4]), ("confiscate", None)]
    disposition = fakes.of("record_disposition")[0]
    # the fine is on the goods confiscated (RMB 30,000), not on line 4
    assert disposition.goods_value == D("30000.00") and disposition.fine_amount == D("4500.00")
    assert {ln.line_no: ln.outcome for ln in disposition.lines} == {
        1: "confiscated",
        2: "confiscated",
        3: "confiscated",
        4: "released",
    }
    kinds = [n.kind for n in fakes.holder_notices()]
    assert kinds == ["suspension", "detention", "partial_release", "confiscation"]
    assert next(h for h in result.history if h.event == "lines_released").detail["lines"] == [4]


async def test_per_line_determination_all_lines_cleared_releases_the_case(harness) -> None:
    env, fakes, queue = harness
    decl = declaration(cny_lines("10000", "10000"), currency="CNY", declaration_id=f"CN5300-N{uuid.uuid4().hex[:6]}")
    handle = await start(env, queue, consignment_cases(decl, {1: NIKE, 2: NIKE})[0])
    await detain(handle, D("20000"))
    await handle.signal(
        SIGNAL_DETERMINATION,
        Determination(
            outcome="infringing",
            lines=[
                LineDetermination(line_no=1, outcome="not_infringing"),
                LineDetermination(line_no=2, outcome="not_infringing"),
            ],
        ),
    )
    result = await handle.result()
    assert result.state == "released" and [a.action for a in fakes.of("hold_action")] == ["detain", "release"]
    assert "approval_requested" not in [h.event for h in result.history], "no line infringes: nothing to approve"


async def test_one_line_found_infringing_is_a_proposal_until_a_supervisor_approves(harness) -> None:
    env, fakes, queue = harness
    decl = declaration(
        cny_lines("10000", "10000", "10000"), currency="CNY", declaration_id=f"CN5300-E{uuid.uuid4().hex[:6]}"
    )
    handle = await start(env, queue, consignment_cases(decl, {1: NIKE, 2: NIKE, 3: NIKE})[0])
    await detain(handle, D("20000"))
    await wait_state(handle, "detained")
    # The case's outcome is "not infringing", but line 2 is found infringing: that is a confiscation proposed.
    await determine(
        handle,
        Determination(
            outcome="not_infringing", fine_tier="ordinary", lines=[LineDetermination(line_no=2, outcome="infringing")]
        ),
        approve=False,
    )
    state = await wait_event(handle, "approval_requested")
    requested = next(h.detail for h in state.history if h.event == "approval_requested")
    assert requested["lines"] == [{"line_no": 2, "outcome": "infringing"}]
    assert requested["proposed_by"] == OFFICER.name
    assert state.state == "detained" and {ln.status for ln in state.lines} == {"held"}
    assert [a.action for a in fakes.of("hold_action")] == ["detain"], "nothing released or confiscated yet"
    await handle.signal(SIGNAL_APPROVAL, ApprovalDecision(decision="approve", actor=OFFICER))  # the proposer
    await handle.signal(SIGNAL_APPROVAL, ApprovalDecision(decision="approve", actor=SUPERVISOR))
    result = await handle.result()
    assert result.state == "confiscated"
    assert {ln.line_no: ln.status for ln in result.lines} == {1: "released", 2: "confiscated", 3: "released"}
    ignored = [h.detail for h in result.history if h.event == "approval_ignored"]
    assert [i["code"] for i in ignored] == ["approver_not_supervisor"]
    determined = next(h.detail for h in result.history if h.event == "customs_determined")
    assert determined["approved_by"]["sub"] == SUPERVISOR.sub and determined["actor"]["sub"] == OFFICER.sub
    disposition = fakes.of("record_disposition")[0]
    assert disposition.goods_value == D("10000.00")  # line 2 only


async def test_a_refused_line_proposal_leaves_the_lines_held(harness) -> None:
    env, fakes, queue = harness
    decl = declaration(cny_lines("10000", "10000"), currency="CNY", declaration_id=f"CN5300-F{uuid.uuid4().hex[:6]}")
    handle = await start(env, queue, consignment_cases(decl, {1: NIKE, 2: NIKE})[0])
    await detain(handle, D("20000"))
    await wait_state(handle, "detained")
    await determine(
        handle,
        Determination(outcome="infringing", lines=[LineDetermination(line_no=1, outcome="not_infringing")]),
        approve=False,
    )
    await wait_event(handle, "approval_requested")
    await handle.signal(SIGNAL_APPROVAL, ApprovalDecision(decision="refuse", note="photos unclear", actor=SUPERVISOR))
    state = await wait_event(handle, "approval_refused")
    assert state.state == "detained" and {ln.status for ln in state.lines} == {"held"}
    assert [a.action for a in fakes.of("hold_action")] == ["detain"]
    # Made again, all lines not infringing: no proposal, the goods are released.
    await handle.signal(SIGNAL_DETERMINATION, Determination(outcome="not_infringing", actor=OFFICER))
    result = await handle.result()
    assert result.state == "released"
    assert [h.event for h in result.history].count("approval_requested") == 1


async def test_a_determination_naming_a_line_outside_the_case_is_ignored(harness) -> None:
    env, fakes, queue = harness
    decl = declaration(cny_lines("10000", "10000"), currency="CNY", declaration_id=f"CN5300-X{uuid.uuid4().hex[:6]}")
    handle = await start(env, queue, consignment_cases(decl, {1: NIKE, 2: NIKE})[0])
    await detain(handle, D("20000"))
    await handle.signal(
        SIGNAL_DETERMINATION,
        Determination(outcome="infringing", lines=[LineDetermination(line_no=7, outcome="not_infringing")]),
    )
    state = await query(handle)
    ignored = next(h for h in state.history if h.event == "determination_ignored")
    assert "not held" in ignored.detail["why"] and state.state == "detained"


# ---------------------------------------------------------------------------- EU small consignments


async def test_eu_small_consignment_is_decided_on_the_whole_consignment(harness) -> None:
    env, fakes, queue = harness
    # The holder's line alone is 2 units by post, but the consignment has 6 units and 5 kg: not small.
    decl = declaration(
        [
            shoe_line(1, quantity="2", gross_weight_kg="0.8"),
            shoe_line(2, quantity="4", brand=None, gross_weight_kg="4.2"),
        ],
        jurisdiction="EU",
        currency="EUR",
        transport_mode="post",
        customs_office="DE004851",
        declaration_id=f"DE-S{uuid.uuid4().hex[:6]}",
    )
    eu_nike = recordation(jurisdiction="EU", recordation_id="EU-AFA-1")
    handle = await start(env, queue, consignment_cases(decl, {1: eu_nike})[0])
    state = await wait_state(handle, "detained")
    assert state.procedure == "eu_application", "6 units and 5 kg in the consignment: the standard procedure"
    # Three units in all by post: small, although the case has only its own line.
    decl = declaration(
        [
            shoe_line(1, quantity="2", gross_weight_kg="2.5"),
            shoe_line(2, quantity="1", brand=None, gross_weight_kg="0.5"),
        ],
        jurisdiction="EU",
        currency="EUR",
        transport_mode="post",
        customs_office="DE004851",
        declaration_id=f"DE-T{uuid.uuid4().hex[:6]}",
    )
    handle = await start(env, queue, consignment_cases(decl, {1: eu_nike})[0])
    state = await wait_state(handle, "detained")
    assert state.procedure == "eu_small_consignment"
    entry = next(h for h in state.history if h.event == "small_consignment_procedure")
    assert entry.detail["units"] == "3" and entry.detail["measured_on"] == "the whole consignment"
    assert (await handle.result()).state == "destroyed"


# ---------------------------------------------------------------------------- revisions


async def test_a_revision_adds_and_moves_lines_recorded_in_both_histories(harness) -> None:
    env, fakes, queue = harness
    did = f"CN5300-R{uuid.uuid4().hex[:6]}"
    first = declaration(cny_lines("6000", "6000", "6000"), currency="CNY", declaration_id=did)
    nike = consignment_cases(first, {1: NIKE, 2: NIKE, 3: NIKE})[0]
    handle = await start(env, queue, nike)
    await wait_state(handle, "suspended")
    # Revision 2: line 3 is now ADIDAS goods, a new NIKE line 4 appears.
    second = declaration(cny_lines("6000", "6000", "6000", "9000"), currency="CNY", declaration_id=did, revision=2)
    cases = consignment_cases(second, {1: NIKE, 2: NIKE, 3: ADIDAS_REC, 4: NIKE})
    line_cases = {ln.line_no: c.case_id for c in cases for ln in c.lines}
    previous = {1: nike.case_id, 2: nike.case_id, 3: nike.case_id}
    nike2, adidas2 = cases
    await handle.signal(SIGNAL_LINES, lines_revision(nike2, line_cases=line_cases, previous_line_cases=previous))
    adidas_handle = await start(
        env, queue, adidas2, lines_revision(adidas2, line_cases=line_cases, previous_line_cases=previous)
    )
    await adidas_handle.signal(
        SIGNAL_LINES, lines_revision(adidas2, line_cases=line_cases, previous_line_cases=previous)
    )
    for _ in range(200):
        state = await query(handle)
        if any(n.kind == "lines_changed" for n in fakes.holder_notices()):
            break
    state = await query(handle)
    assert {ln.line_no: ln.status for ln in state.lines} == {1: "held", 2: "held", 3: "withdrawn", 4: "held"}
    moved = next(h for h in state.history if h.event == "line_moved")
    assert moved.detail == {
        "line_no": 3,
        "to_case": adidas2.case_id,
        "revision": 2,
        "why": "the line is now suspected of another holder's right",
    }
    assert next(h for h in state.history if h.event == "line_joined").detail["line_no"] == 4
    # the guarantee follows the holder's goods: RMB 21,000 now -> 50%, at least 20,000
    assert state.required_guarantee == D("20000.00") and state.revision == 2
    assert [(a.action, a.line_nos) for a in fakes.of("hold_action")] == [("suspend", [4]), ("release", [3])]
    adidas = await wait_state(adidas_handle, "suspended")
    assert [ln["line_no"] for ln in next(h for h in adidas.history if h.event == "case_opened").detail["lines"]] == [3]
    # the line's arrival from the NIKE case is recorded in the case it opened, once
    joined = [h for h in adidas.history if h.event == "line_joined"]
    assert len(joined) == 1 and joined[0].detail["line_no"] == 3 and joined[0].detail["from_case"] == nike.case_id
    # a redelivered revision changes nothing
    await handle.signal(SIGNAL_LINES, lines_revision(nike2, line_cases=line_cases, previous_line_cases=previous))
    assert [h.event for h in (await query(handle)).history].count("line_moved") == 1


async def test_a_line_moving_into_a_running_case_names_where_it_came_from(harness) -> None:
    env, fakes, queue = harness
    did = f"CN5300-M{uuid.uuid4().hex[:6]}"
    first = declaration(cny_lines("6000", "6000"), currency="CNY", declaration_id=did)
    _, adidas = consignment_cases(first, {1: NIKE, 2: ADIDAS_REC})
    handle = await start(env, queue, adidas)
    await wait_state(handle, "suspended")
    second = declaration(cny_lines("6000", "6000"), currency="CNY", declaration_id=did, revision=2)
    (adidas2,) = consignment_cases(second, {1: ADIDAS_REC, 2: ADIDAS_REC})
    nike_id = f"IPR-{did}-RH-0001"
    await handle.signal(
        SIGNAL_LINES,
        lines_revision(
            adidas2,
            line_cases={1: adidas2.case_id, 2: adidas2.case_id},
            previous_line_cases={1: nike_id, 2: adidas.case_id},
        ),
    )
    for _ in range(200):
        state = await query(handle)
        if any(h.event == "line_joined" for h in state.history):
            break
    joined = next(h for h in state.history if h.event == "line_joined")
    assert joined.detail["line_no"] == 1 and joined.detail["from_case"] == nike_id


async def test_a_revision_withdrawing_every_line_releases_the_case(harness) -> None:
    env, fakes, queue = harness
    did = f"CN5300-W{uuid.uuid4().hex[:6]}"
    nike = consignment_cases(
        declaration(cny_lines("6000", "6000"), currency="CNY", declaration_id=did), {1: NIKE, 2: NIKE}
    )[0]
    handle = await start(env, queue, nike)
    await wait_state(handle, "suspended")
    second = declaration(
        [shoe_line(1, quantity="1", unit_value="6000", brand=None)], currency="CNY", declaration_id=did, revision=2
    )
    from shared.case_opening import consignment_facts
    from shared.fx import DEFAULT_RATES_TO_CNY

    await handle.signal(
        SIGNAL_LINES,
        LinesRevision(
            declaration_id=did,
            revision=2,
            lines=[],
            consignment=consignment_facts(second, [], dict(DEFAULT_RATES_TO_CNY)),
        ),
    )
    result = await handle.result()
    assert result.state == "released" and "took every line out" in result.history[-1].detail["reason"]
    assert {ln.status for ln in result.lines} == {"withdrawn"}
    assert [h.event for h in result.history].count("line_withdrawn") == 2


async def test_a_revision_after_the_determination_is_recorded_but_not_applied(harness) -> None:
    env, fakes, queue = harness
    did = f"CN5300-Z{uuid.uuid4().hex[:6]}"
    nike = consignment_cases(
        declaration(cny_lines("600000", "600000"), currency="CNY", declaration_id=did), {1: NIKE, 2: NIKE}
    )[0]
    handle = await start(env, queue, nike)
    await detain(handle, D("100000"))
    await handle.signal(SIGNAL_PARTY_SUBMISSION, PartySubmission(party="consignee", kind="non_infringement_statement"))
    await determine(handle, Determination(outcome="infringing", fine_tier="heavier"))
    await wait_state(handle, "hearing")  # the fine is above the hearing threshold
    second = declaration(cny_lines("600000"), currency="CNY", declaration_id=did, revision=2)
    (nike2,) = consignment_cases(second, {1: NIKE})
    await handle.signal(SIGNAL_LINES, lines_revision(nike2))
    await handle.signal(SIGNAL_HEARING, HearingUpdate(kind="waived"))
    result = await handle.result()
    assert result.state == "confiscated"
    assert {ln.status for ln in result.lines} == {"confiscated"}
    not_applied = [h for h in result.history if h.event == "revision_not_applied"]
    assert not_applied and not_applied[0].detail["withdrawn"] == [2]


async def test_a_record_in_rmb_of_a_usd_declaration_states_each_line_in_rmb(harness) -> None:
    """The disposal record of a CN case is kept in RMB (the fine's currency); its lines are stated in RMB too,
    not in the declaration's dollars beside an RMB total."""
    env, fakes, queue = harness
    decl = declaration(
        [shoe_line(1, quantity="1", unit_value="2000"), shoe_line(2, quantity="1", unit_value="1000")],
        currency="USD",
        declaration_id=f"CN5300-U{uuid.uuid4().hex[:6]}",
    )
    [case] = consignment_cases(decl, {1: NIKE, 2: NIKE})
    handle = await start(env, queue, case)
    await detain(handle, D("20000"))
    await determine(handle, Determination(outcome="infringing", fine_tier="ordinary", officer="o1"))
    assert (await handle.result()).state == "confiscated"
    record = fakes.of("record_disposition")[0]
    assert record.currency == "CNY"
    by_line = {ln.line_no: ln.goods_value for ln in record.lines}
    assert by_line == {ln.line_no: ln.goods_value_cny for ln in case.lines}
    assert sum(by_line.values()) == record.goods_value and by_line[1] > D("2000")
