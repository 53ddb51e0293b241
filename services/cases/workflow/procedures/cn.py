"""CN: Regulations on Customs Protection of IPR (Art. 16-27) and the Administrative Penalty Law.

Ex officio: suspended (3 WD reply) -> no reply / no detention / no guarantee -> released
    -> detained (30 WD determination, 50 WD court notice) -> infringing -> [hearing] ->
       confiscated (fine by tier, police referral above threshold, disposal in legal order)
    -> not infringing -> released; cannot determine -> undetermined -> court notice or released at 50 WD
    patents: a consignee counter-guarantee equal to the goods value releases the goods
Application: guarantee = goods value -> detained -> court notice within 20 WD or released

Consignment cases: the guarantee is set on the value of the holder's goods in the case (all its
lines); a determination may release some lines and confiscate the others, the fine and the hearing
threshold then apply to the goods confiscated, the police referral to the suspected goods of the
whole consignment (``shared.rules.decisions``).

Cases started under ``case-parties``: the party whose goods they are (the consignee on import, the
consignor on export) receives the detention receipt, and, as the party to be fined, the hearing-right
notice (its hearing window runs from the day that notice is served; no fine is decided before) and the
penalty decision; the rights holder keeps its own notices.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Literal

from temporalio import workflow

from services.cases.workflow.deadlines import close, open_deadline, wait_until
from services.cases.workflow.disposition import dispose, finish, release
from services.cases.workflow.documents import penalty_facts
from services.cases.workflow.guarantees import secured_within
from services.cases.workflow.history import transition
from services.cases.workflow.holds import hold, place_hold
from services.cases.workflow.lines import apply_line_determination
from services.cases.workflow.notices import delivery, notify
from services.cases.workflow.parties import notify_party, wait_fact
from services.cases.workflow.state import CaseFile

with workflow.unsafe.imports_passed_through():
    from shared.contracts.cases import CaseState, DisposalChoice
    from shared.rules import decisions
    from shared.rules.pack import DeadlineRule

COUNTER_GUARANTEED = "the consignee posted a counter-guarantee equal to the goods value"


async def ex_officio(f: CaseFile) -> CaseState:
    f.procedure = "cn_ex_officio"
    value = f.value_in_pack_currency()
    f.required_guarantee = decisions.guarantee(f.pack, "ex_officio", value) if value is not None else None
    f.required_guarantee_cny = f.required_guarantee
    await place_hold(f, f"suspected infringement of recorded right {f.case.recordation_id} ({f.case.mark})")
    reply = open_deadline(f, "holder_reply", workflow.now())
    f.accepting_reply = True
    notice = await notify(f, "suspension", reply_allowed=True, reply_deadline_at=reply.due_at)
    await transition(f, "suspended", "holder_notified", delivery(notice))

    settled = await secured_within(f, f.reply_settled, reply)
    f.accepting_reply = False
    if not settled or f.reply is None:
        close(f, "holder_reply", "lapsed")
        if f.reply is None:
            return await release(f, "no reply from the rights holder within 3 working days")
        return await release(f, "detention requested but no sufficient guarantee was posted within 3 working days")
    close(f, "holder_reply", "met")
    if f.reply.decision == "no_detention":
        return await release(f, "the rights holder stated that no detention is needed")
    return await _detained(f, mode="ex_officio")


async def application(f: CaseFile) -> CaseState:
    """Application mode: the holder applied with evidence; detention needs a guarantee equal to the value."""
    f.procedure = "cn_application"
    value = f.value_in_pack_currency()
    f.required_guarantee = decisions.guarantee(f.pack, "application", value) if value is not None else None
    f.required_guarantee_cny = f.required_guarantee
    f.log("application_received", {"evidence": f.case.evidence, "by": f.case.opened_by})
    await place_hold(f, f"rights holder's application concerning right {f.case.recordation_id}")
    window = open_deadline(f, "holder_reply", workflow.now())
    f.accepting_reply = True
    await notify(f, "suspension", reply_allowed=True, reply_deadline_at=window.due_at)
    await transition(f, "suspended", "application_accepted", {"required_guarantee": str(f.required_guarantee)})
    posted = await secured_within(f, lambda: f.guarantee is not None, window)
    f.accepting_reply = False
    if not posted:
        close(f, "holder_reply", "lapsed")
        return await release(f, "the applicant did not post the guarantee in time")
    close(f, "holder_reply", "met")
    return await _detained(f, mode="application")


async def _detained(f: CaseFile, *, mode: Literal["ex_officio", "application"]) -> CaseState:
    case = f.case
    await hold(f, "detain", "rights holder requested detention and the guarantee is held")
    detained_at = workflow.now()
    determination = open_deadline(f, "customs_determination", detained_at) if mode == "ex_officio" else None
    release_dl = open_deadline(f, "release_ex_officio" if mode == "ex_officio" else "release_application", detained_at)
    await transition(
        f,
        "detained",
        "goods_detained",
        {
            "guarantee": f.guarantee.model_dump(mode="json") if f.guarantee else None,
            "patent_counter_guarantee_possible": case.right_type == "patent",
        },
    )
    await notify(f, "detention")
    if f.parties:
        await notify_party(f, "party_detention")

    if determination is not None:
        await wait_until(
            f, lambda: f.determination is not None or f.court_notice is not None or f.counter_guaranteed, determination
        )
        if f.counter_guaranteed:
            return await release(f, COUNTER_GUARANTEED)
        if f.court_notice is not None:
            close(f, "customs_determination", "cancelled")
            return await _act_on_court_notice(f, release_dl.name)
        if f.determination is not None:
            close(f, "customs_determination", "met")
            outcome = await apply_line_determination(f)
            if outcome == "infringing":
                close(f, release_dl.name, "cancelled")
                return await _infringing(f)
            if outcome == "not_infringing":
                return await release(f, "customs determined that the goods do not infringe")
        else:
            close(f, "customs_determination", "lapsed")
        await transition(f, "undetermined", "infringement_not_determined", {})
        await notify(f, "cannot_determine")

    await wait_until(f, lambda: f.court_notice is not None or f.counter_guaranteed, release_dl)
    if f.counter_guaranteed:
        return await release(f, COUNTER_GUARANTEED)
    if f.court_notice is not None:
        return await _act_on_court_notice(f, release_dl.name)
    close(f, release_dl.name, "lapsed")
    days = f.pack.deadline(release_dl.name).amount
    return await release(f, f"no court assistance notice within {days} working days of detention")


async def _infringing(f: CaseFile) -> CaseState:
    rules, det = f.pack, f.determination
    assert det is not None
    # The goods of the case that are confiscated: every line still held (lines found not infringing are released).
    value = f.value_in_pack_currency() or f.goods_value()
    decided = decisions.fine(rules, value, det.fine_tier, det.fine_amount)
    fine, low, high = decided.amount, decided.low, decided.high
    proposed: dict[str, Any] = {
        "tier": decided.tier,
        "fine": str(fine),
        "range": [str(low), str(high)],
        "currency": rules.currency,
    }
    if f.v4:
        proposed.update(goods_value=str(value), lines=[ln.line_no for ln in f.held_lines()])
    f.log("penalty_proposed", proposed)

    if decisions.hearing_required(rules, fine, individual=f.case.consignor_is_individual):
        fine = await _hearing(f, fine, low, high)

    # The police referral counts every suspected good of the consignment, whatever holder's right it concerns.
    measured = f.consignment_suspected_value(value)
    if decisions.police_referral(rules, measured):
        f.police_referral = True
        referral = {
            "goods_value": str(measured),
            "currency": rules.currency,
            "threshold": str(decisions.police_referral_threshold(rules)),
        }
        if f.v4:
            referral.update(measured_on="all suspected goods of the consignment", case_goods_value=str(value))
        f.log("referred_to_police", referral)
        await notify(f, "police_referral")

    f.disposal_method = _choose_disposal(f)
    await hold(f, "confiscate", "customs determined infringement")
    await dispose(
        f,
        "confiscation",
        "customs determined infringement",
        fine_amount=fine,
        fine_value=value,
        currency=rules.currency,
    )
    if f.parties:
        await notify_party(
            f,
            "penalty_decision",
            extra=f"confiscation of the goods ({f.disposal_method}) and a fine of {rules.currency} {fine}",
            penalty=penalty_facts(f, fine, value=value),
        )
    await notify(f, "confiscation")
    return await finish(
        f,
        "confiscated",
        "goods_confiscated",
        {
            "fine_amount": str(fine),
            "currency": rules.currency,
            "disposal_method": f.disposal_method,
            "police_referral": f.police_referral,
        },
    )


async def _hearing(f: CaseFile, fine: Decimal, low: Decimal, high: Decimal) -> Decimal:
    """The party may ask for a hearing before a large fine (Penalty Regs Art. 49)."""
    if f.parties:
        return await _hearing_served(f, fine, low, high)
    window = open_deadline(
        f,
        "hearing_request",
        workflow.now(),
        amount=int(f.pack.setting("hearing_reply_working_days")),
        basis="Penalty Regs Art. 49",
    )
    f.hearing_open = True
    await transition(f, "hearing", "hearing_right_notified", {"proposed_fine": str(fine)})
    await notify(f, "hearing_right")
    await wait_until(f, lambda: f.hearing is not None, window)
    if f.hearing is None or f.hearing.kind == "waived":
        close(f, "hearing_request", "lapsed" if f.hearing is None else "met")
        f.hearing_open = False
        return fine
    close(f, "hearing_request", "met")
    return await _after_request(f, fine, low, high)


async def _hearing_served(f: CaseFile, fine: Decimal, low: Decimal, high: Decimal) -> Decimal:
    """The hearing-right notice goes to the party to be fined; its window runs from the day it is served."""
    rule = DeadlineRule(
        amount=int(f.pack.setting("hearing_reply_working_days")), unit="working_days", basis="Penalty Regs Art. 49"
    )
    f.hearing_open = True
    await transition(f, "hearing", "hearing_right_notified", {"proposed_fine": str(fine)})
    await notify_party(
        f,
        "hearing_right",
        clock="hearing_request",
        clock_rule=rule,
        extra=f"confiscation of the goods and a fine of {f.pack.currency} {fine}",
        penalty=penalty_facts(f, fine, low, high),
    )
    await wait_fact(f, lambda: f.hearing is not None or "hearing_request" in f.deadlines)
    if f.hearing is None:
        await wait_until(f, lambda: f.hearing is not None, f.deadlines["hearing_request"])
    if f.hearing is None or f.hearing.kind == "waived":
        close(f, "hearing_request", "lapsed" if f.hearing is None else "met")
        f.hearing_open = False
        return fine
    close(f, "hearing_request", "met")
    return await _after_request(f, fine, low, high)


async def _after_request(f: CaseFile, fine: Decimal, low: Decimal, high: Decimal) -> Decimal:
    assert f.hearing is not None
    if f.hearing.kind == "requested":
        conclusion = open_deadline(f, "hearing_conclusion", workflow.now(), amount=30, basis="platform setting")
        await wait_until(f, lambda: _hearing_concluded(f), conclusion)
        close(f, "hearing_conclusion", "met" if _hearing_concluded(f) else "lapsed")
    f.hearing_open = False
    if f.hearing.kind == "concluded" and f.hearing.fine_amount is not None:
        return min(max(f.hearing.fine_amount, low), high)
    return fine


def _hearing_concluded(f: CaseFile) -> bool:
    return f.hearing is not None and f.hearing.kind == "concluded"


def _choose_disposal(f: CaseFile) -> str:
    """First lawful option in the pack's order (CN Reg. Art. 27) for the facts the officers recorded."""
    choice = f.disposal_choice or DisposalChoice()
    right_types = {ln.right_type for ln in f.held_lines()} or {f.case.right_type}
    # A counterfeit trademark among the goods keeps the whole lot from auction.
    right_type = "trademark" if "trademark" in right_types else sorted(right_types)[0]
    return decisions.disposal_method(
        f.pack,
        right_type,
        usable_for_public_welfare=choice.usable_for_public_welfare,
        holder_buys=choice.holder_buys,
        infringing_features_removable=choice.infringing_features_removable,
    )


async def _act_on_court_notice(f: CaseFile, release_deadline: str) -> CaseState:
    notice = f.court_notice
    assert notice is not None
    close(f, release_deadline, "met")
    if notice.action == "release":
        return await release(f, f"court assistance notice {notice.reference} orders release")
    await hold(f, "hand_to_court", f"court assistance notice {notice.reference} of {notice.court}")
    await dispose(f, "handed_to_court", f"court assistance notice {notice.reference}")
    await notify(f, "court_handover")
    return await finish(f, "handed_to_court", "goods_handed_to_court", {"reference": notice.reference})
