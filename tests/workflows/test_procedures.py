"""Every lawful path of the CN, EU and US procedures under the time-skipping test server.

Deadlines of days, weeks and months pass in skipped time; nothing sleeps in real time
except the short polls of the case query between signals.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from temporalio.client import WorkflowHandle

from services.cases.workflow import CaseWorkflow
from shared.contracts.cases import (
    SIGNAL_APPROVAL,
    SIGNAL_COURT_NOTICE,
    SIGNAL_DETERMINATION,
    SIGNAL_DISPOSAL_CHOICE,
    SIGNAL_GUARANTEE,
    SIGNAL_HEARING,
    SIGNAL_HOLDER_REPLY,
    SIGNAL_PARTY_SUBMISSION,
    SIGNAL_PETITION_DECISION,
    ApprovalDecision,
    CourtNotice,
    Determination,
    DisposalChoice,
    GuaranteeInfo,
    HearingUpdate,
    HolderReply,
    PartySubmission,
    PetitionDecision,
)
from shared.rules.calendar import calendar_for
from tests.factories import case_input
from tests.workflows.scenarios import OFFICER, SUPERVISOR, determine, query, wait_deadline, wait_state


async def open_case(env, queue, **kw) -> WorkflowHandle:
    case = case_input(case_id=f"IPR-P-{uuid.uuid4().hex[:8]}-L1", **kw)
    return await env.client.start_workflow(CaseWorkflow.run, case, id=case.case_id, task_queue=queue)


def cny(amount: str, form: str = "bank_letter", ref: str = "LG-1") -> GuaranteeInfo:
    return GuaranteeInfo(amount=Decimal(amount), currency="CNY", form=form, reference=ref)


async def detained_cn(handle: WorkflowHandle, amount: str = "14910") -> None:
    await wait_state(handle, "suspended")
    await handle.signal(SIGNAL_HOLDER_REPLY, HolderReply(decision="detain", guarantee=cny(amount)))
    await wait_state(handle, "detained")


def events(state) -> list[str]:
    return [h.event for h in state.history]


def submission(kind: str, party: str = "holder", **kw) -> PartySubmission:
    return PartySubmission(party=party, kind=kind, **kw)


# ---------------------------------------------------------------------------- CN ex officio


async def test_cn_determination_lapses_after_30_working_days_then_release_at_50(harness) -> None:
    env, fakes, queue = harness
    handle = await open_case(env, queue)
    await detained_cn(handle)
    result = await handle.result()
    assert result.state == "released"
    deadlines = {d.name: d.status for d in result.deadlines}
    assert deadlines["customs_determination"] == "lapsed" and deadlines["release_ex_officio"] == "lapsed"
    assert events(result).index("infringement_not_determined") < events(result).index("goods_released")
    assert [n.kind for n in fakes.holder_notices()] == ["suspension", "detention", "cannot_determine", "release"]
    assert fakes.of("settle_guarantee"), "the guarantee is settled when the case ends"


async def test_cn_guarantee_is_held_by_the_guarantee_service_and_settled(harness) -> None:
    env, fakes, queue = harness
    handle = await open_case(env, queue)
    await detained_cn(handle)
    state = await query(handle)
    assert state.guarantee_status == "held" and state.required_guarantee == Decimal("14910.00")
    held = fakes.of("hold_guarantee")[0]
    assert held.required_amount == Decimal("14910.00") and held.currency == "CNY" and held.form == "bank_letter"
    await handle.signal(SIGNAL_DETERMINATION, Determination(outcome="not_infringing"))
    result = await handle.result()
    assert result.state == "released"
    assert fakes.of("settle_guarantee")[0].outcome == "released"
    assert "guarantee_settled" in events(result)


async def reply_with_general_guarantee(env, queue) -> WorkflowHandle:
    handle = await open_case(env, queue)
    await wait_state(handle, "suspended")
    await handle.signal(
        SIGNAL_HOLDER_REPLY,
        HolderReply(decision="detain", guarantee=cny("14910", form="general_guarantee", ref="GG-RH-0001-2026")),
    )
    return handle


async def test_cn_general_guarantee_draw_refused_means_release(low_balance_harness) -> None:
    env, fakes, queue = low_balance_harness
    result = await (await reply_with_general_guarantee(env, queue)).result()
    assert result.state == "released"
    assert fakes.of("hold_guarantee")[0].form == "general_guarantee"
    assert "guarantee_refused" in events(result)
    assert "guarantee_refused" in [n.kind for n in fakes.holder_notices()]
    assert not [a for a in fakes.of("hold_action") if a.action == "detain"]


async def test_cn_refused_guarantee_can_be_replaced_before_the_deadline(low_balance_harness) -> None:
    env, fakes, queue = low_balance_harness
    handle = await reply_with_general_guarantee(env, queue)
    for _ in range(200):
        if "guarantee_refused" in [n.kind for n in fakes.holder_notices()]:
            break
        await asyncio.sleep(0.02)  # real-time poll for the refusal notice, not a deadline
    assert (await query(handle)).state == "suspended"
    await handle.signal(SIGNAL_GUARANTEE, cny("14910", ref="BOC-LG-9"))
    await wait_state(handle, "detained")
    keys = [g.idempotency_key for g in fakes.of("hold_guarantee")]
    assert len(keys) == 2 and len(set(keys)) == 2, "each attempt has its own idempotency key"
    await handle.signal(SIGNAL_DETERMINATION, Determination(outcome="not_infringing"))
    assert (await handle.result()).state == "released"


async def test_cn_large_fine_offers_a_hearing_and_the_concluded_fine_applies(harness) -> None:
    env, fakes, queue = harness
    # RMB 1,000,000 of goods: heavier tier 20-30% -> fine far above the RMB 100,000 hearing threshold
    handle = await open_case(env, queue, goods_value="140845.07", goods_value_cny="1000000.00")
    await detained_cn(handle, amount="100000")
    await determine(handle, Determination(outcome="infringing", fine_tier="heavier", officer="o1"))
    await wait_state(handle, "hearing")
    state = await wait_deadline(handle, "hearing_request")  # opened when the hearing-right notice is served
    assert any(d.name == "hearing_request" and d.status == "pending" for d in state.deadlines)
    assert [h.detail for h in state.history if h.event == "penalty_proposed"][0]["fine"] == "250000.00"
    await handle.signal(SIGNAL_HEARING, HearingUpdate(kind="requested", by="consignor"))
    await handle.signal(
        SIGNAL_HEARING, HearingUpdate(kind="concluded", fine_amount=Decimal("210000"), by="o2", actor=OFFICER)
    )
    # four-eyes: a fine above the hearing threshold is approved by a supervisor who did not propose it
    await handle.signal(SIGNAL_APPROVAL, ApprovalDecision(decision="approve", actor=SUPERVISOR))
    result = await handle.result()
    assert result.state == "confiscated"
    disposition = fakes.of("record_disposition")[0]
    assert disposition.fine_amount == Decimal("210000") and disposition.hearing == "concluded"
    # goods of RMB 1,000,000 are far above the referral threshold
    assert result.police_referral is True and disposition.police_referral is True
    assert "police_referral" in [n.kind for n in fakes.holder_notices()]


async def test_cn_hearing_not_requested_in_time_keeps_the_proposed_fine(harness) -> None:
    env, fakes, queue = harness
    handle = await open_case(env, queue, goods_value="140845.07", goods_value_cny="1000000.00")
    await detained_cn(handle, amount="100000")
    await determine(handle, Determination(outcome="infringing", fine_tier="ordinary"))
    await wait_state(handle, "hearing")
    result = await handle.result()
    assert result.state == "confiscated"
    assert fakes.of("record_disposition")[0].fine_amount == Decimal("150000.00")
    assert {d.name: d.status for d in result.deadlines}["hearing_request"] == "lapsed"


async def test_cn_fine_tiers_bound_the_officers_amount(harness) -> None:
    env, fakes, queue = harness
    handle = await open_case(env, queue)  # RMB 14,910: lighter tier is below 10% -> at most 1,490.99
    await detained_cn(handle)
    await determine(handle, Determination(outcome="infringing", fine_tier="lighter", fine_amount=Decimal("5000")))
    result = await handle.result()
    fine = fakes.of("record_disposition")[0].fine_amount
    assert fine == Decimal("1490.99") and result.police_referral is False


async def test_cn_mitigated_tier_is_confiscation_without_fine(harness) -> None:
    env, fakes, queue = harness
    handle = await open_case(env, queue)
    await detained_cn(handle)
    await determine(handle, Determination(outcome="infringing", fine_tier="mitigated"))
    result = await handle.result()
    assert result.state == "confiscated" and fakes.of("record_disposition")[0].fine_amount == Decimal("0.00")


@pytest.mark.parametrize(
    ("choice", "right_type", "method"),
    [
        (DisposalChoice(usable_for_public_welfare=True), "trademark", "public_welfare"),
        (DisposalChoice(holder_buys=True), "trademark", "sale_to_holder"),
        (DisposalChoice(infringing_features_removable=True), "trademark", "destruction"),
        (DisposalChoice(infringing_features_removable=True), "copyright", "auction_after_removal"),
        (DisposalChoice(), "copyright", "destruction"),
    ],
)
async def test_cn_disposal_follows_the_legal_order(harness, choice, right_type, method) -> None:
    env, fakes, queue = harness
    handle = await open_case(env, queue, right_type=right_type)
    await detained_cn(handle)
    await handle.signal(SIGNAL_DISPOSAL_CHOICE, choice)
    await determine(handle, Determination(outcome="infringing", fine_tier="ordinary"))
    result = await handle.result()
    assert result.disposal_method == method
    assert fakes.of("record_disposition")[0].disposal_method == method
    assert [n.kind for n in fakes.holder_notices()][-1] == "confiscation"  # holder notified in writing


async def test_cn_patent_counter_guarantee_releases_and_statements_are_recorded(harness) -> None:
    env, fakes, queue = harness
    handle = await open_case(env, queue, right_type="patent")
    await detained_cn(handle)
    await handle.signal(
        SIGNAL_PARTY_SUBMISSION,
        submission("non_infringement_statement", party="consignee", text="our design differs in claims 1-3"),
    )
    await handle.signal(SIGNAL_PARTY_SUBMISSION, submission("inspection_request", party="consignee"))
    await handle.signal(
        SIGNAL_PARTY_SUBMISSION,
        submission("counter_guarantee", party="consignee", amount=Decimal("1000"), currency="CNY"),
    )
    state = await query(handle)
    assert state.state == "detained"  # RMB 1,000 is below the goods value
    await handle.signal(
        SIGNAL_PARTY_SUBMISSION,
        submission("counter_guarantee", party="consignee", amount=Decimal("14910"), currency="CNY"),
    )
    result = await handle.result()
    assert result.state == "released"
    assert "counter-guarantee" in result.history[-1].detail["reason"]
    kinds = [s.kind for s in result.submissions]
    assert kinds == ["non_infringement_statement", "inspection_request", "counter_guarantee", "counter_guarantee"]
    accepted = [
        h.detail["accepted"]
        for h in result.history
        if h.event == "party_submission" and h.detail["kind"] == "counter_guarantee"
    ]
    assert accepted == [False, True]


async def test_cn_counter_guarantee_does_not_release_trademark_goods(harness) -> None:
    env, fakes, queue = harness
    handle = await open_case(env, queue)
    await detained_cn(handle)
    await handle.signal(
        SIGNAL_PARTY_SUBMISSION,
        submission("counter_guarantee", party="consignee", amount=Decimal("99999"), currency="CNY"),
    )
    await determine(handle, Determination(outcome="infringing"))
    assert (await handle.result()).state == "confiscated"


# ---------------------------------------------------------------------------- CN application mode


async def test_cn_application_mode_release_at_20_working_days(harness) -> None:
    env, fakes, queue = harness
    handle = await open_case(env, queue, mode="application", evidence="test purchase report 2026-11")
    state = await wait_state(handle, "suspended")
    assert state.procedure == "cn_application"
    assert state.required_guarantee == Decimal("14910.00")  # equal to the goods value
    await handle.signal(SIGNAL_GUARANTEE, cny("14000"))
    await handle.signal(SIGNAL_GUARANTEE, cny("14910", ref="LG-2"))
    state = await wait_state(handle, "detained")
    release = next(d for d in state.deadlines if d.name == "release_application")
    assert release.due_date == calendar_for("CN").add_working_days(release.start, 20)
    assert not any(d.name == "customs_determination" for d in state.deadlines)
    result = await handle.result()
    assert result.state == "released"
    assert "20 working days" in result.history[-1].detail["reason"]


async def test_cn_application_mode_court_notice_hands_goods_to_court(harness) -> None:
    env, fakes, queue = harness
    handle = await open_case(env, queue, mode="application")
    await wait_state(handle, "suspended")
    await handle.signal(SIGNAL_GUARANTEE, cny("14910"))
    await wait_state(handle, "detained")
    await handle.signal(
        SIGNAL_COURT_NOTICE,
        CourtNotice(reference="(2026) Yue 03 Zhi Bao 7", court="Shenzhen", action="keep_detained_for_court"),
    )
    assert (await handle.result()).state == "handed_to_court"


async def test_cn_application_without_guarantee_is_released(harness) -> None:
    env, fakes, queue = harness
    handle = await open_case(env, queue, mode="application")
    result = await handle.result()
    assert result.state == "released" and "did not post the guarantee" in result.history[-1].detail["reason"]


# ---------------------------------------------------------------------------- escalation


async def test_supervisors_are_alerted_one_working_day_before_a_deadline(harness) -> None:
    env, fakes, queue = harness
    handle = await open_case(env, queue)
    state = await wait_state(handle, "suspended")
    reply = next(d for d in state.deadlines if d.name == "holder_reply")
    cal = calendar_for("CN")
    assert reply.escalate_at == cal.end_of_day(cal.previous_working_day(reply.due_date))
    assert not reply.escalated
    await env.sleep(reply.escalate_at - await env.get_current_time() + timedelta(minutes=1))
    state = await query(handle)
    assert state.state == "suspended"
    assert next(d for d in state.deadlines if d.name == "holder_reply").escalated is True
    escalated = [h for h in state.history if h.event == "deadline_escalated"]
    assert escalated and escalated[0].detail["name"] == "holder_reply"
    result = await handle.result()
    assert "deadline_escalated" in [e.event for e in fakes.events], "the escalation reaches the audit trail"
    assert result.state == "released"


async def test_no_escalation_when_the_deadline_is_met_first(harness) -> None:
    env, fakes, queue = harness
    handle = await open_case(env, queue)
    await wait_state(handle, "suspended")
    await handle.signal(SIGNAL_HOLDER_REPLY, HolderReply(decision="no_detention"))
    result = await handle.result()
    assert "deadline_escalated" not in events(result)


# ---------------------------------------------------------------------------- EU


async def test_eu_ex_officio_without_application_is_released_after_4_working_days(harness) -> None:
    env, fakes, queue = harness
    handle = await open_case(env, queue, jurisdiction="EU", currency="EUR", goods_value_cny=None)
    state = await wait_state(handle, "awaiting_application")
    window = next(d for d in state.deadlines if d.name == "afa_after_ex_officio")
    assert window.due_date == calendar_for("DE").add_working_days(window.start, 4)
    result = await handle.result()
    assert result.state == "released" and "4 working days" in result.history[-1].detail["reason"]
    assert not fakes.of("hold_guarantee"), "no guarantee in the EU"


async def test_eu_confirmed_and_declarant_silent_is_destroyed_by_deemed_consent(harness) -> None:
    env, fakes, queue = harness
    handle = await open_case(env, queue, jurisdiction="EU", currency="EUR", goods_value_cny=None)
    await wait_state(handle, "awaiting_application")
    await handle.signal(SIGNAL_PARTY_SUBMISSION, submission("application_for_action", reference="DE-AFA-2026-1"))
    state = await wait_state(handle, "detained")
    window = next(d for d in state.deadlines if d.name == "confirm_and_agree")
    assert window.due_date == calendar_for("DE").add_working_days(window.start, 10)
    await handle.signal(SIGNAL_PARTY_SUBMISSION, submission("confirms_infringement"))
    result = await handle.result()
    assert result.state == "destroyed"
    assert "deemed consent" in result.history[-1].detail["reason"]
    assert [a.action for a in fakes.of("hold_action")] == ["detain", "destroy"]
    assert fakes.of("record_disposition")[0].outcome == "destruction"


async def test_eu_declarant_objects_and_holder_goes_to_court(harness) -> None:
    env, fakes, queue = harness
    handle = await open_case(
        env, queue, jurisdiction="EU", currency="EUR", goods_value_cny=None, application_id="EU-AFA-77"
    )
    await wait_state(handle, "detained")
    await handle.signal(SIGNAL_PARTY_SUBMISSION, submission("confirms_infringement"))
    await handle.signal(SIGNAL_PARTY_SUBMISSION, submission("objects_to_destruction", party="declarant"))
    await handle.signal(SIGNAL_PARTY_SUBMISSION, submission("proceedings_started", reference="LG Hamburg 312 O 1/26"))
    result = await handle.result()
    assert result.state == "handed_to_court"


async def test_eu_perishable_goods_have_3_working_days(harness) -> None:
    env, fakes, queue = harness
    handle = await open_case(
        env, queue, jurisdiction="EU", currency="EUR", goods_value_cny=None, application_id="EU-AFA-78", perishable=True
    )
    state = await wait_state(handle, "detained")
    window = next(d for d in state.deadlines if d.name == "confirm_and_agree_perishable")
    assert window.due_date == calendar_for("DE").add_working_days(window.start, 3)
    await handle.signal(SIGNAL_PARTY_SUBMISSION, submission("extension_request"))  # not for perishables
    result = await handle.result()
    assert result.state == "released"
    assert not any(d.name == "extension" for d in result.deadlines)


async def test_eu_extension_once_then_confirmation_and_agreement(harness) -> None:
    env, fakes, queue = harness
    handle = await open_case(
        env, queue, jurisdiction="EU", currency="EUR", goods_value_cny=None, application_id="EU-AFA-79"
    )
    state = await wait_state(handle, "detained")
    first = next(d for d in state.deadlines if d.name == "confirm_and_agree")
    await handle.signal(SIGNAL_PARTY_SUBMISSION, submission("extension_request"))
    for _ in range(100):
        state = await query(handle)
        if any(d.name == "extension" for d in state.deadlines):
            break
    extension = next(d for d in state.deadlines if d.name == "extension")
    assert extension.due_date == calendar_for("DE").add_working_days(first.due_date, 10)
    await handle.signal(SIGNAL_PARTY_SUBMISSION, submission("confirms_infringement"))
    await handle.signal(SIGNAL_PARTY_SUBMISSION, submission("agrees_to_destruction", party="declarant"))
    result = await handle.result()
    assert result.state == "destroyed" and "declarant agreed" in result.history[-1].detail["reason"]


async def test_eu_small_consignment_destroyed_on_declarants_silence(harness) -> None:
    env, fakes, queue = harness
    handle = await open_case(
        env,
        queue,
        jurisdiction="EU",
        currency="EUR",
        goods_value_cny=None,
        quantity="2",
        application_id="EU-AFA-80",
        transport_mode="post",
        gross_weight_kg=Decimal("0.8"),
    )
    state = await wait_state(handle, "detained")
    assert state.procedure == "eu_small_consignment"
    result = await handle.result()
    assert result.state == "destroyed"
    assert "did not object" in result.history[-1].detail["reason"]
    assert not any(n.kind == "confirmation_needed" for n in fakes.holder_notices()), "the holder is not involved"


async def test_eu_small_consignment_objection_without_proceedings_is_released(harness) -> None:
    env, fakes, queue = harness
    handle = await open_case(
        env,
        queue,
        jurisdiction="EU",
        currency="EUR",
        goods_value_cny=None,
        quantity="3",
        application_id="EU-AFA-81",
        transport_mode="express",
    )
    await wait_state(handle, "detained")
    await handle.signal(SIGNAL_PARTY_SUBMISSION, submission("objects_to_destruction", party="declarant"))
    result = await handle.result()
    assert result.state == "released"
    assert "declarant_objected" in [n.kind for n in fakes.holder_notices()]


# ---------------------------------------------------------------------------- US


async def test_us_importer_notice_7_business_days_disclosure_then_officers_seizure_finding(harness) -> None:
    env, fakes, queue = harness
    handle = await open_case(
        env, queue, jurisdiction="US", currency="USD", goods_value_cny=None, genuine_unit_value=Decimal("120")
    )
    await wait_state(handle, "detained")
    state = await wait_deadline(handle, "importer_response")  # opened once the importer's notice is served
    names = {d.name: d for d in state.deadlines}
    assert names["detention_notice"].status == "met"
    response = names["importer_response"]
    assert response.due_date == calendar_for("US").add_working_days(response.start, 7)
    period = names["detention_period"]
    assert period.unit == "calendar_days" and period.due_date == period.start + timedelta(days=30)
    # The officer finds the goods counterfeit while the importer's window runs: it takes effect after it.
    await determine(handle, Determination(outcome="infringing", officer="cbp.officer.lee", fine_amount=Decimal("5000")))
    await env.sleep(response.due_at - await env.get_current_time() - timedelta(minutes=1))
    assert (await query(handle)).state == "detained", "no seizure before the importer's 7 business days"
    await env.sleep(timedelta(minutes=2))
    seized = await wait_state(handle, "seized")
    assert "disclosure" in [n.kind for n in fakes.holder_notices()]
    for _ in range(200):  # the notice of seizure follows the state change (its activity may still be running)
        if [n.kind for n in fakes.holder_notices()][-1] == "seizure":
            break
        await asyncio.sleep(0.05)
    assert [n.kind for n in fakes.holder_notices()][-1] == "seizure"
    entry = next(h for h in seized.history if h.event == "seized")
    assert entry.detail["finding_by"] == "cbp.officer.lee"
    assert entry.detail["fine_cap"] == "60000.00"  # 500 pairs x USD 120 genuine retail value
    petition = next(d for d in seized.deadlines if d.name == "petition")
    assert petition.unit == "calendar_days" and petition.due_date == petition.start + timedelta(days=30)
    assert [a.action for a in fakes.of("hold_action")] == ["detain", "seize"]
    result = await handle.result()  # no petition within 30 days of the notice of seizure
    assert result.state == "forfeited"
    assert [a.action for a in fakes.of("hold_action")] == ["detain", "seize", "forfeit"]
    disposition = fakes.of("record_disposition")[0]
    assert disposition.outcome == "forfeiture" and disposition.fine_amount == Decimal("5000")
    assert {d.name: d.status for d in result.deadlines}["petition"] == "lapsed"


async def test_us_lapse_without_finding_is_deemed_exclusion_not_forfeiture(harness) -> None:
    env, fakes, queue = harness
    handle = await open_case(
        env, queue, jurisdiction="US", currency="USD", goods_value_cny=None, genuine_unit_value=Decimal("120")
    )
    await wait_state(handle, "detained")
    result = await handle.result()
    assert result.state == "excluded"
    assert {d.name: d.status for d in result.deadlines}["detention_period"] == "lapsed"
    assert [a.action for a in fakes.of("hold_action")] == ["detain", "exclude"]
    assert fakes.of("record_disposition")[0].outcome == "exclusion"
    assert fakes.of("record_disposition")[0].fine_amount == Decimal("0")
    assert "1499(c)(5)(A)" in result.history[-1].detail["reason"]
    assert "forfeiture" not in [n.kind for n in fakes.holder_notices()]
    assert "disclosure" in [n.kind for n in fakes.holder_notices()]


async def test_us_petition_granted_releases_the_seized_goods(harness) -> None:
    env, fakes, queue = harness
    handle = await open_case(env, queue, jurisdiction="US", currency="USD", goods_value_cny=None)
    await wait_state(handle, "detained")
    await handle.signal(SIGNAL_PARTY_SUBMISSION, submission("importer_response", party="importer", text="genuine"))
    await determine(handle, Determination(outcome="infringing", officer="o1"))
    await wait_state(handle, "seized")
    early = await handle.signal(SIGNAL_PETITION_DECISION, PetitionDecision(outcome="granted", officer="o2"))
    assert early is None and not any(h.event == "petition_decided" for h in (await query(handle)).history)
    await handle.signal(SIGNAL_PARTY_SUBMISSION, submission("petition", party="importer", text="remission"))
    for _ in range(100):
        if any(d.name == "petition_decision" for d in (await query(handle)).deadlines):
            break
        await asyncio.sleep(0.02)  # real-time poll of the query, not a legal deadline
    await handle.signal(SIGNAL_PETITION_DECISION, PetitionDecision(outcome="granted", officer="o2"))
    result = await handle.result()
    assert result.state == "released" and "petition was granted" in result.history[-1].detail["reason"]
    assert [a.action for a in fakes.of("hold_action")] == ["detain", "seize", "release"]


async def test_us_repeat_infringer_fine_cap_is_twice_the_retail_value(harness) -> None:
    env, fakes, queue = harness
    handle = await open_case(
        env,
        queue,
        jurisdiction="US",
        currency="USD",
        goods_value_cny=None,
        genuine_unit_value=Decimal("120"),
        repeat_infringer=True,
    )
    await wait_state(handle, "detained")
    await wait_deadline(handle, "importer_response")
    await handle.signal(SIGNAL_PARTY_SUBMISSION, submission("importer_response", party="importer", text="genuine"))
    await determine(handle, Determination(outcome="infringing", fine_amount=Decimal("150000")))
    result = await handle.result()  # seized, no petition, forfeited
    assert result.state == "forfeited"
    assert fakes.of("record_disposition")[0].fine_amount == Decimal("120000.00")
    assert "disclosure" not in [n.kind for n in fakes.holder_notices()]


async def test_us_not_counterfeit_is_released(harness) -> None:
    env, fakes, queue = harness
    handle = await open_case(env, queue, jurisdiction="US", currency="USD", goods_value_cny=None)
    await wait_state(handle, "detained")
    await handle.signal(SIGNAL_DETERMINATION, Determination(outcome="not_infringing"))
    assert (await handle.result()).state == "released"
