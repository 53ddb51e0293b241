"""US: 19 CFR 133 (counterfeit trademarks), 19 U.S.C. 1526(e), 1499(c), 1618.

Detained -> notice of detention; the importer's 7 business days -> disclosure to the mark owner
if the importer did not answer -> an officer's finding before the detention period (30 days from
presentation) ends:
    counterfeit -> seized (notice of seizure, petition window 30 days) -> no petition: forfeited
                   (fine up to the genuine retail value of the goods seized, twice for a repeat
                   infringer); petition -> the officer decides it: granted -> released, denied -> forfeited
    not counterfeit -> released (lines the officer clears are released, the others seized)
    no finding within the detention period -> deemed exclusion (19 U.S.C. 1499(c)(5)(A)): excluded,
                   never forfeited by default

Cases started under ``case-parties``: the notice of detention goes to the importer (the consignee, else the
declarant) within 5 business days (19 CFR 133.21(b)); the importer's 7 business days run from the day it is
served. A notice not served within the detention period opens no window and discloses nothing.

Cases opened before the officer's finding was required (per-line cases) take this path too from
the point they have not reached yet (``PATCH_US_FINDING``); their recorded histories keep theirs.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from temporalio import workflow

from services.cases.workflow.deadlines import close, close_pending, open_deadline, wait_until
from services.cases.workflow.disposition import dispose, finish, release
from services.cases.workflow.history import flush, transition
from services.cases.workflow.holds import hold, place_hold
from services.cases.workflow.lines import apply_line_determination
from services.cases.workflow.notices import notify
from services.cases.workflow.parties import notify_party
from services.cases.workflow.state import CaseFile

with workflow.unsafe.imports_passed_through():
    from shared.contracts.cases import CaseState
    from shared.rules import decisions
    from shared.rules.pack import DeadlineRule

PATCH_US_FINDING = "us-seizure-on-finding"
# For cases whose rule pack predates these deadlines.
DETENTION_PERIOD = DeadlineRule(amount=30, unit="calendar_days", basis="19 CFR 133.25; 19 U.S.C. 1499(c)")
PETITION = DeadlineRule(amount=30, unit="calendar_days", basis="19 U.S.C. 1618; 19 CFR 171.2")
PETITION_DECISION = DeadlineRule(amount=30, unit="working_days", basis="platform setting")


async def run(f: CaseFile) -> CaseState:
    case, rules = f.case, f.pack
    f.procedure = "us_detention"
    presented_at = case.opened_at or workflow.now()
    await place_hold(f, f"suspected counterfeit of recorded mark {case.recordation_id} ({case.mark})")
    notice_dl = open_deadline(f, "detention_notice", workflow.now())
    await hold(
        f,
        "detain",
        "notice of detention: the importer may within 7 business days show that the "
        "goods are not counterfeit (19 CFR 133.21)",
    )
    if f.parties:
        return await _importer_served(f, notice_dl.name, presented_at)
    close(f, notice_dl.name, "met")
    response = open_deadline(f, "importer_response", workflow.now())
    period = open_deadline(
        f,
        "detention_period" if "detention_period" in rules.deadlines else "seizure",
        presented_at,
        fallback=DETENTION_PERIOD,
    )
    await transition(f, "detained", "detention_notice_issued", {"to": case.consignee.name})
    await notify(f, "detention")  # limited importation information to the mark owner
    # The officer's finding takes effect only once the importer has had its 7 business days.
    await wait_until(
        f, lambda: f.submitted("importer_response") or (not f.v4 and f.determination is not None), response
    )
    if f.submitted("importer_response"):
        close(f, response.name, "met")
    else:
        # (v3) a determination that ends the wait before the importer's time is up does not make it lapse
        early = f.v3 and workflow.now() < f.deadlines[response.name].due_at
        close(f, response.name, "cancelled" if early else "lapsed")
        f.log("disclosure_to_mark_owner", {"why": "no importer response within 7 business days"})
        await notify(f, "disclosure")
    await wait_until(f, lambda: f.determination is not None, period)
    det = f.determination
    if det is not None and det.outcome == "not_infringing" and not det.lines:
        return await release(f, "CBP determined that the goods are not counterfeit")
    if f.v4 or workflow.patched(PATCH_US_FINDING):
        return await _finding_or_exclusion(f, period.name)
    # Per-line cases that passed this point before the finding was required (their histories replay).
    close(f, period.name, "met" if det is not None else "lapsed")
    retail = (
        det.retail_value
        if det and det.retail_value
        else (case.genuine_unit_value * case.quantity if case.genuine_unit_value is not None else case.goods_value)
    )
    cap = decisions.us_fine_cap(rules, retail, repeat=case.repeat_infringer)
    fine = det.fine_amount if det and det.fine_amount is not None else Decimal("0.00")
    fine = min(fine, cap)
    f.disposal_method = rules.disposal_order[0]
    f.log("seized", {"retail_value": str(retail), "fine_cap": str(cap), "repeat": case.repeat_infringer})
    await hold(f, "forfeit", "seized as counterfeit and forfeited (19 U.S.C. 1526(e))")
    await dispose(f, "forfeiture", "seized as counterfeit", fine_amount=fine, fine_value=retail, currency=case.currency)
    await notify(f, "forfeiture")
    return await finish(f, "forfeited", "goods_forfeited", {"fine_amount": str(fine), "fine_cap": str(cap)})


async def _importer_served(f: CaseFile, notice_deadline: str, presented_at: datetime) -> CaseState:
    """The importer's notice of detention; its 7 business days from service; disclosure; the officer's finding."""
    rules = f.pack
    period = open_deadline(
        f,
        "detention_period" if "detention_period" in rules.deadlines else "seizure",
        presented_at,
        fallback=DETENTION_PERIOD,
    )
    importer = f.case.consignee
    await transition(f, "detained", "detention_notice_issued", {"to": importer.name})
    await notify(f, "detention")  # limited importation information to the mark owner
    notice = await notify_party(f, "party_detention", clock="importer_response")
    if notice is not None and notice.notice_id is not None:
        close(f, notice_deadline, "met")
    response = "importer_response"
    # The importer's window opens when its notice is served; the finding takes effect only after it.
    await wait_until(f, lambda: response in f.deadlines or f.submitted("importer_response"), period)
    if response in f.deadlines and not f.submitted("importer_response"):
        await wait_until(f, lambda: f.submitted("importer_response"), f.deadlines[response])
    if f.submitted("importer_response"):
        close(f, response, "met")
    elif response in f.deadlines:
        close(f, response, "lapsed")
        f.log(
            "disclosure_to_mark_owner",
            {"why": "no importer response within 7 business days of the service of the notice of detention"},
        )
        await notify(f, "disclosure")
    else:
        f.log(
            "importer_not_served",
            {
                "why": "the notice of detention was not served within the detention period: "
                "no importer window ran and nothing is disclosed"
            },
        )
    await wait_until(f, lambda: f.determination is not None, period)
    det = f.determination
    if det is not None and det.outcome == "not_infringing" and not det.lines:
        return await release(f, "CBP determined that the goods are not counterfeit")
    return await _finding_or_exclusion(f, period.name)


def _retail_value(f: CaseFile) -> Decimal:
    """The value the seized goods would have had if genuine (MSRP): the officer's, else the recorded genuine
    value per unit of each line seized (its declared value where none is recorded)."""
    det = f.determination
    if det is not None and det.retail_value:
        return det.retail_value
    return sum(
        (
            (ln.genuine_unit_value * ln.quantity) if ln.genuine_unit_value is not None else ln.goods_value
            for ln in f.held_lines()
        ),
        Decimal("0.00"),
    ).quantize(Decimal("0.01"))


async def _finding_or_exclusion(f: CaseFile, period: str) -> CaseState:
    det = f.determination
    if det is None:
        close(f, period, "lapsed")
        return await _deemed_exclusion(f)
    close(f, period, "met")
    if await apply_line_determination(f) == "not_infringing":
        return await release(f, "CBP determined that the goods are not counterfeit")
    case, rules = f.case, f.pack
    retail = _retail_value(f)
    cap = decisions.us_fine_cap(rules, retail, repeat=case.repeat_infringer)
    seized = [ln.line_no for ln in f.held_lines()]
    await hold(f, "seize", f"seized as counterfeit on the finding of {det.officer or 'an officer'} (19 U.S.C. 1526(e))")
    petition = open_deadline(f, "petition", workflow.now(), fallback=PETITION)
    await transition(
        f,
        "seized",
        "seized",
        {
            "finding_by": det.officer,
            "lines": seized,
            "retail_value": str(retail),
            "fine_cap": str(cap),
            "repeat": case.repeat_infringer,
            "petition_until": petition.due_date.isoformat(),
        },
    )
    await notify(f, "seizure", reply_deadline_at=petition.due_at)
    if await wait_until(f, lambda: f.submitted("petition"), petition):
        close(f, petition.name, "met")
        decision = open_deadline(f, "petition_decision", workflow.now(), fallback=PETITION_DECISION)
        if await wait_until(f, lambda: f.petition_decision is not None, decision):
            close(f, decision.name, "met")
        else:
            close(f, decision.name, "lapsed")
            f.log("petition_decision_overdue", {"why": "the goods stay seized until an officer decides the petition"})
            await flush(f)
            await workflow.wait_condition(lambda: f.petition_decision is not None)
        assert f.petition_decision is not None
        if f.petition_decision.outcome == "granted":
            return await release(
                f,
                f"the petition was granted by {f.petition_decision.officer or 'an officer'}: "
                f"the seized goods are released",
            )
        reason = "the petition was denied: the seized goods are forfeited (19 U.S.C. 1526(e))"
    else:
        close(f, petition.name, "lapsed")
        reason = (
            "no petition within 30 days of the notice of seizure: the seized goods are forfeited (19 U.S.C. 1526(e))"
        )
    decided = decisions.us_fine(rules, retail, repeat=case.repeat_infringer, proposed=det.fine_amount)
    f.disposal_method = rules.disposal_order[0]
    await hold(f, "forfeit", reason)
    await dispose(f, "forfeiture", reason, fine_amount=decided.amount, fine_value=retail, currency=case.currency)
    await notify(f, "forfeiture")
    return await finish(
        f, "forfeited", "goods_forfeited", {"fine_amount": str(decided.amount), "fine_cap": str(cap), "reason": reason}
    )


async def _deemed_exclusion(f: CaseFile) -> CaseState:
    """No finding within the detention period: the law treats the goods as excluded, not as forfeited."""
    days = f.pack.settings.get("protest_period_days")
    protest = int(days.value) if days is not None and days.value is not None else 180
    reason = (
        f"no officer's finding within 30 days of presentation: the goods are treated as excluded "
        f"(19 U.S.C. 1499(c)(5)(A)); the importer may protest within {protest} days (19 U.S.C. 1514)"
    )
    close_pending(f)
    await hold(f, "exclude", reason)
    await dispose(f, "exclusion", reason)
    await notify(f, "exclusion", extra=reason)
    return await finish(
        f, "excluded", "goods_excluded", {"reason": reason, "basis": "19 U.S.C. 1499(c)(5)(A)", "protest_days": protest}
    )
