"""EU: Regulation (EU) No 608/2013.

Ex officio -> application for action within 4 WD; the holder confirms infringement and agrees to
destruction within 10 WD (3 perishable, +10 once); the declarant's silence is deemed consent ->
destroyed; proceedings -> handed_to_court. Small consignments (post/express, few units or light)
are destroyed on the declarant's silence. Whether a consignment is small is decided on the whole
consignment (all its units and its gross weight, every holder's lines), not on the case's lines.

Cases started under ``case-parties``: the declarant (else the holder of the goods) is notified of the
suspension/detention within 1 working day (Art. 17(3), 18(3)); its time to agree to or object to
destruction (10 WD, 3 for perishables; small consignments 10 WD) runs from the day that notice is served,
never before: silence is deemed consent only once that time has run, and a notice that could not be
delivered destroys nothing until an officer has served it on paper and the time has run from then.
"""

from __future__ import annotations

from temporalio import workflow

from services.cases.workflow.deadlines import close, open_deadline, wait_until
from services.cases.workflow.disposition import dispose, finish, release
from services.cases.workflow.history import transition
from services.cases.workflow.holds import hold, place_hold
from services.cases.workflow.notices import notify
from services.cases.workflow.parties import notify_party, wait_fact
from services.cases.workflow.state import CaseFile

with workflow.unsafe.imports_passed_through():
    from shared.contracts.cases import CaseState
    from shared.rules import decisions


def is_small_consignment(f: CaseFile) -> bool:
    case, facts = f.case, f.consignment
    units, weight = (facts.units, facts.gross_weight_kg) if facts is not None else (case.quantity, case.gross_weight_kg)
    return decisions.small_consignment(f.pack, transport_mode=case.transport_mode, units=units, gross_weight_kg=weight)


async def run(f: CaseFile) -> CaseState:
    case = f.case
    small = is_small_consignment(f) and case.small_consignment_opt_in
    f.procedure = (
        "eu_small_consignment"
        if small and case.application_id
        else ("eu_ex_officio" if not case.application_id else "eu_application")
    )
    await place_hold(f, f"suspected infringement of right {case.recordation_id} ({case.mark})")
    await hold(f, "detain", "release suspended / goods detained under Regulation (EU) No 608/2013")
    if f.parties:
        await _notify_declarant(f, small=bool(small and case.application_id))
    if not case.application_id:
        window = open_deadline(f, "afa_after_ex_officio", workflow.now())
        await transition(f, "awaiting_application", "goods_detained_ex_officio", {})
        await notify(f, "application_needed", reply_deadline_at=window.due_at)
        filed = await wait_until(f, lambda: f.submitted("application_for_action"), window)
        if not filed:
            close(f, window.name, "lapsed")
            return await release(f, "no application for action within 4 working days")
        close(f, window.name, "met")
    if small and case.application_id:
        return await _small_consignment(f)
    return await _standard(f)


DECLARANT_CONSENT = "declarant_consent"
SMALL_DECLARANT = "small_consignment_declarant"


async def _notify_declarant(f: CaseFile, *, small: bool) -> None:
    """Notice of suspension/detention to the declarant within 1 working day; its service starts the declarant's
    time to agree to or object to destruction."""
    due = open_deadline(f, "notify_parties", workflow.now())
    if small:
        notice = await notify_party(f, "party_detention", clock=SMALL_DECLARANT)
    else:
        rule = f.pack.deadline("confirm_and_agree_perishable" if f.case.perishable else "confirm_and_agree")
        notice = await notify_party(f, "party_detention", clock=DECLARANT_CONSENT, clock_rule=rule)
    if notice is not None and notice.notice_id is not None:
        close(f, due.name, "met")


def _declarant_answered(f: CaseFile) -> bool:
    return f.submitted("objects_to_destruction") or f.submitted("agrees_to_destruction")


async def _declarant_window(f: CaseFile, name: str) -> bool:
    """Wait for the declarant's answer until its time, counted from the service of its notice, has run (waiting
    as long as the notice is not served); True if it answered."""
    await wait_fact(f, lambda: _declarant_answered(f) or name in f.deadlines)
    if _declarant_answered(f):
        close(f, name, "met")
        return True
    answered = await wait_until(f, lambda: _declarant_answered(f), f.deadlines[name])
    close(f, name, "met" if answered else "lapsed")
    return answered


async def _small_consignment(f: CaseFile) -> CaseState:
    if f.parties:
        return await _small_consignment_served(f)
    window = open_deadline(f, "small_consignment_declarant", workflow.now())
    facts = f.consignment
    detail: dict[str, object] = {"units": str(facts.units if facts is not None else f.case.quantity)}
    if facts is not None:
        detail.update(
            gross_weight_kg=str(facts.gross_weight_kg) if facts.gross_weight_kg is not None else None,
            measured_on="the whole consignment",
            consignment_lines=facts.line_count,
        )
    await transition(f, "detained", "small_consignment_procedure", detail)
    objected = await wait_until(
        f, lambda: f.submitted("objects_to_destruction") or f.submitted("agrees_to_destruction"), window
    )
    if objected and f.submitted("objects_to_destruction"):
        close(f, window.name, "met")
        proceedings = open_deadline(f, "small_consignment_holder_proceedings", workflow.now())
        await notify(f, "declarant_objected", reply_deadline_at=proceedings.due_at)
        started = await wait_until(f, lambda: f.submitted("proceedings_started"), proceedings)
        if not started:
            close(f, proceedings.name, "lapsed")
            return await release(f, "the declarant objected and no proceedings were started in time")
        close(f, proceedings.name, "met")
        return await _to_court(f, "the rights holder started proceedings")
    close(f, window.name, "met" if objected else "lapsed")
    how = "the declarant agreed" if objected else "the declarant did not object within 10 working days"
    return await _destroy(f, f"small consignment destroyed: {how}")


def _small_detail(f: CaseFile) -> dict[str, object]:
    facts = f.consignment
    detail: dict[str, object] = {"units": str(facts.units if facts is not None else f.case.quantity)}
    if facts is not None:
        detail.update(
            gross_weight_kg=str(facts.gross_weight_kg) if facts.gross_weight_kg is not None else None,
            measured_on="the whole consignment",
            consignment_lines=facts.line_count,
        )
    return detail


async def _small_consignment_served(f: CaseFile) -> CaseState:
    await transition(f, "detained", "small_consignment_procedure", _small_detail(f))
    answered = await _declarant_window(f, SMALL_DECLARANT)
    if answered and f.submitted("objects_to_destruction"):
        return await _objected(
            f, "small_consignment_holder_proceedings", "the declarant objected and no proceedings were started in time"
        )
    how = (
        "the declarant agreed"
        if answered
        else (
            f"the declarant did not object within {f.pack.deadline(SMALL_DECLARANT).amount} working days of the "
            f"service of its notice"
        )
    )
    return await _destroy(f, f"small consignment destroyed: {how}")


async def _objected(f: CaseFile, name: str, release_reason: str) -> CaseState:
    """The declarant objected: the holder has its time from now to start proceedings (Art. 23(3), 26(9))."""
    proceedings = open_deadline(f, name, workflow.now(), fallback=f.pack.deadline("confirm_and_agree"))
    await notify(f, "declarant_objected", reply_deadline_at=proceedings.due_at)
    started = await wait_until(f, lambda: f.submitted("proceedings_started"), proceedings)
    close(f, proceedings.name, "met" if started else "lapsed")
    if started:
        return await _to_court(f, "the declarant objected; the rights holder started proceedings")
    return await release(f, release_reason)


async def _standard(f: CaseFile) -> CaseState:
    case, rules = f.case, f.pack
    name = "confirm_and_agree_perishable" if case.perishable else "confirm_and_agree"
    window = open_deadline(f, name, workflow.now())
    await transition(f, "detained", "holder_and_declarant_notified", {"perishable": case.perishable})
    await notify(f, "confirmation_needed", reply_deadline_at=window.due_at)
    extended = False
    while True:

        def answered(extended: bool = extended) -> bool:
            return (
                f.submitted("confirms_infringement")
                or f.submitted("proceedings_started")
                or (not extended and not case.perishable and f.submitted("extension_request"))
            )

        await wait_until(f, answered, window)
        if (
            not extended
            and not case.perishable
            and f.submitted("extension_request")
            and not (f.submitted("confirms_infringement") or f.submitted("proceedings_started"))
        ):
            extended = True
            close(f, window.name, "cancelled")
            window = open_deadline(f, "extension", workflow.now(), start_day=window.due_date)
            f.log("deadline_extended", {"until": window.due_date.isoformat()})
            continue
        break
    if f.submitted("proceedings_started"):
        close(f, window.name, "met")
        return await _to_court(f, "the rights holder started proceedings")
    if not f.submitted("confirms_infringement"):
        close(f, window.name, "lapsed")
        return await release(f, "the rights holder neither confirmed infringement nor started proceedings")
    if f.parties:
        close(f, window.name, "met")
        return await _declarant_decides(f)
    # Holder confirmed and agreed to destruction: the declarant's agreement, or silence if deemed consent.
    await wait_until(f, lambda: f.submitted("objects_to_destruction") or f.submitted("agrees_to_destruction"), window)
    if f.submitted("objects_to_destruction"):
        f.log("declarant_objected", {})
        await notify(f, "declarant_objected", reply_deadline_at=window.due_at)
        started = await wait_until(f, lambda: f.submitted("proceedings_started"), window)
        close(f, window.name, "met" if started else "lapsed")
        if started:
            return await _to_court(f, "the declarant objected; the rights holder started proceedings")
        return await release(f, "the declarant objected and no proceedings were started in time")
    close(f, window.name, "met")
    if f.submitted("agrees_to_destruction"):
        return await _destroy(f, "the holder confirmed infringement and the declarant agreed to destruction")
    if rules.setting("deemed_consent"):
        return await _destroy(f, "the holder confirmed infringement; the declarant's silence is deemed consent")
    return await release(f, "the declarant did not agree to destruction and consent is not deemed")


async def _declarant_decides(f: CaseFile) -> CaseState:
    """The holder confirmed and agreed to destruction: the declarant's agreement, or its silence once its time from
    the service of its notice has run (deemed consent, if the rule pack deems it)."""
    answered = await _declarant_window(f, DECLARANT_CONSENT)
    if answered and f.submitted("objects_to_destruction"):
        f.log("declarant_objected", {})
        return await _objected(
            f, "holder_proceedings", "the declarant objected and no proceedings were started in time"
        )
    if answered:
        return await _destroy(f, "the holder confirmed infringement and the declarant agreed to destruction")
    days = f.deadlines[DECLARANT_CONSENT].working_days
    if f.pack.setting("deemed_consent"):
        return await _destroy(
            f,
            f"the holder confirmed infringement; the declarant did not object within {days} "
            f"working days of the service of its notice: deemed consent",
        )
    return await release(f, "the declarant did not agree to destruction and consent is not deemed")


async def _destroy(f: CaseFile, reason: str) -> CaseState:
    f.disposal_method = "destruction"
    await hold(f, "destroy", reason)
    await dispose(f, "destruction", reason)
    await notify(f, "destruction", extra=reason)
    return await finish(f, "destroyed", "goods_destroyed", {"reason": reason})


async def _to_court(f: CaseFile, reason: str) -> CaseState:
    await hold(f, "hand_to_court", reason)
    await dispose(f, "handed_to_court", reason)
    await notify(f, "court_handover")
    return await finish(f, "handed_to_court", "goods_handed_to_court", {"reason": reason})
