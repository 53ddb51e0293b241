"""EU: Regulation (EU) No 608/2013.

Ex officio -> application for action within 4 WD; the holder confirms infringement and agrees to
destruction within 10 WD (3 perishable, +10 once); the declarant's silence is deemed consent ->
destroyed; proceedings -> handed_to_court. Small consignments (post/express, few units or light)
are destroyed on the declarant's silence. Whether a consignment is small is decided on the whole
consignment (all its units and its gross weight, every holder's lines), not on the case's lines.
"""

from __future__ import annotations

from temporalio import workflow

from services.cases.workflow.deadlines import close, open_deadline, wait_until
from services.cases.workflow.disposition import dispose, finish, release
from services.cases.workflow.history import transition
from services.cases.workflow.holds import hold, place_hold
from services.cases.workflow.notices import notify
from services.cases.workflow.state import CaseFile

with workflow.unsafe.imports_passed_through():
    from shared.contracts.cases import CaseState
    from shared.rules import decisions


def is_small_consignment(f: CaseFile) -> bool:
    case, facts = f.case, f.consignment
    units, weight = (facts.units, facts.gross_weight_kg) if facts is not None else (case.quantity,
                                                                                    case.gross_weight_kg)
    return decisions.small_consignment(f.pack, transport_mode=case.transport_mode, units=units,
                                       gross_weight_kg=weight)


async def run(f: CaseFile) -> CaseState:
    case = f.case
    small = is_small_consignment(f) and case.small_consignment_opt_in
    f.procedure = "eu_small_consignment" if small and case.application_id else (
        "eu_ex_officio" if not case.application_id else "eu_application")
    await place_hold(f, f"suspected infringement of right {case.recordation_id} ({case.mark})")
    await hold(f, "detain", "release suspended / goods detained under Regulation (EU) No 608/2013")
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


async def _small_consignment(f: CaseFile) -> CaseState:
    window = open_deadline(f, "small_consignment_declarant", workflow.now())
    facts = f.consignment
    detail: dict[str, object] = {"units": str(facts.units if facts is not None else f.case.quantity)}
    if facts is not None:
        detail.update(gross_weight_kg=str(facts.gross_weight_kg) if facts.gross_weight_kg is not None else None,
                      measured_on="the whole consignment", consignment_lines=facts.line_count)
    await transition(f, "detained", "small_consignment_procedure", detail)
    objected = await wait_until(f, lambda: f.submitted("objects_to_destruction") or
                                f.submitted("agrees_to_destruction"), window)
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


async def _standard(f: CaseFile) -> CaseState:
    case, rules = f.case, f.pack
    name = "confirm_and_agree_perishable" if case.perishable else "confirm_and_agree"
    window = open_deadline(f, name, workflow.now())
    await transition(f, "detained", "holder_and_declarant_notified", {"perishable": case.perishable})
    await notify(f, "confirmation_needed", reply_deadline_at=window.due_at)
    extended = False
    while True:
        await wait_until(f, lambda: f.submitted("confirms_infringement") or f.submitted("proceedings_started") or
                         (not extended and not case.perishable and f.submitted("extension_request")),
                         window)
        if not extended and not case.perishable and f.submitted("extension_request") and not (
                f.submitted("confirms_infringement") or f.submitted("proceedings_started")):
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
    # Holder confirmed and agreed to destruction: the declarant's agreement, or silence if deemed consent.
    await wait_until(f, lambda: f.submitted("objects_to_destruction") or f.submitted("agrees_to_destruction"),
                     window)
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
