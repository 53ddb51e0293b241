"""US: 19 CFR 133 (counterfeit trademarks) and 19 U.S.C. 1526(e).

Detained -> the importer's 7 business days -> disclosure to the mark owner -> seizure and
forfeiture at 30 days, fine up to the genuine retail value (twice for repeat infringers).
"""

from __future__ import annotations

from decimal import Decimal

from temporalio import workflow

from services.cases.workflow.deadlines import close, open_deadline, wait_until
from services.cases.workflow.disposition import dispose, finish, release
from services.cases.workflow.history import transition
from services.cases.workflow.holds import hold, place_hold
from services.cases.workflow.notices import notify
from services.cases.workflow.state import CaseFile

with workflow.unsafe.imports_passed_through():
    from shared.contracts.cases import CaseState


async def run(f: CaseFile) -> CaseState:
    case, rules = f.case, f.pack
    f.procedure = "us_detention"
    presented_at = case.opened_at or workflow.now()
    await place_hold(f, f"suspected counterfeit of recorded mark {case.recordation_id} ({case.mark})")
    notice_dl = open_deadline(f, "detention_notice", workflow.now())
    await hold(f, "detain", "notice of detention: the importer may within 7 business days show that the "
                            "goods are not counterfeit (19 CFR 133.21)")
    close(f, notice_dl.name, "met")
    response = open_deadline(f, "importer_response", workflow.now())
    seizure = open_deadline(f, "seizure", presented_at)
    await transition(f, "detained", "detention_notice_issued", {"to": case.consignee.name})
    await notify(f, "detention")  # limited importation information to the mark owner
    await wait_until(f, lambda: f.submitted("importer_response") or f.determination is not None, response.due_at)
    if f.submitted("importer_response"):
        close(f, response.name, "met")
    else:
        # (v3) a determination that ends the wait before the importer's time is up does not make it lapse
        early = f.v3 and workflow.now() < response.due_at
        close(f, response.name, "cancelled" if early else "lapsed")
        f.log("disclosure_to_mark_owner", {"why": "no importer response within 7 business days"})
        await notify(f, "disclosure")
    await wait_until(f, lambda: f.determination is not None, seizure.due_at)
    det = f.determination
    if det is not None and det.outcome == "not_infringing":
        return await release(f, "CBP determined that the goods are not counterfeit")
    close(f, seizure.name, "met" if det is not None else "lapsed")
    retail = det.retail_value if det and det.retail_value \
        else (case.genuine_unit_value * case.quantity if case.genuine_unit_value is not None else case.goods_value)
    _, cap = rules.fine_range(retail, None, repeat=case.repeat_infringer)
    fine = det.fine_amount if det and det.fine_amount is not None else Decimal("0.00")
    fine = min(fine, cap)
    f.disposal_method = rules.disposal_order[0]
    f.log("seized", {"retail_value": str(retail), "fine_cap": str(cap), "repeat": case.repeat_infringer})
    await hold(f, "forfeit", "seized as counterfeit and forfeited (19 U.S.C. 1526(e))")
    await dispose(f, "forfeiture", "seized as counterfeit", fine_amount=fine, fine_value=retail,
                  currency=case.currency)
    await notify(f, "forfeiture")
    return await finish(f, "forfeited", "goods_forfeited", {"fine_amount": str(fine), "fine_cap": str(cap)})
