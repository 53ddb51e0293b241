"""The holder's guarantee: taken from a reply or signal, held by the guarantees ledger, settled at the end.

Also the consignee's patent counter-guarantee (CN Reg. Art. 24), which releases the goods.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from temporalio import workflow

from services.cases.workflow import calls
from services.cases.workflow.deadlines import wait_until
from services.cases.workflow.notices import notify
from services.cases.workflow.state import CaseFile

with workflow.unsafe.imports_passed_through():
    from shared.contracts.cases import Deadline, GuaranteeInfo, PartySubmission
    from shared.contracts.guarantees import HoldGuaranteeRequest, SettleGuaranteeRequest
    from shared.rules import decisions


def take_guarantee(f: CaseFile, guarantee: GuaranteeInfo) -> None:
    """Record a guarantee the holder posted (signal side; the ledger holds it later)."""
    ok = sufficient(f, guarantee)
    if ok:
        f.guarantee = guarantee
    f.log("guarantee_received" if ok else "guarantee_insufficient", {
        **guarantee.model_dump(mode="json"),
        "required_cny": str(f.required_guarantee_cny) if f.required_guarantee_cny is not None else None,
    })


def sufficient(f: CaseFile, guarantee: GuaranteeInfo) -> bool:
    if guarantee.form == "general_guarantee":
        return True  # the guarantees service checks the balance when it draws the amount
    if f.required_guarantee_cny is None:
        return True  # goods value unknown in RMB: the officer checks the guarantee
    return guarantee.currency == "CNY" and guarantee.amount >= f.required_guarantee_cny


def counter_guarantee_ok(f: CaseFile, s: PartySubmission) -> bool:
    if f.case.right_type != "patent" or f.rules is None or s.amount is None:
        return False
    value = f.value_in_pack_currency()
    if value is None or (s.currency or f.rules.currency) != f.rules.currency:
        return False
    return s.amount >= decisions.guarantee(f.rules, "counter_guarantee", value)


async def secured_within(f: CaseFile, settled: Callable[[], bool], deadline: Deadline) -> bool:
    """Wait until ``settled`` before the deadline with the guarantee held by the ledger. A guarantee the
    ledger refuses (e.g. a general guarantee without enough balance) may be replaced until the deadline."""
    while True:
        if not await wait_until(f, settled, deadline):
            return False
        if f.reply is not None and f.reply.decision == "no_detention":
            return True
        if await secure_guarantee(f):
            return True
        f.guarantee = None
        await notify(f, "guarantee_refused", reply_deadline_at=f.deadlines[deadline.name].due_at,
                     key=f"guarantee_refused:{f.guarantee_attempts}")


async def secure_guarantee(f: CaseFile) -> bool:
    """Have the guarantees service hold the guarantee (or draw it from a general guarantee)."""
    rules = f.pack
    if not rules.guarantee.required or f.guarantee is None:
        return True
    g, case = f.guarantee, f.case
    f.guarantee_attempts += 1
    result = await calls.hold_guarantee(HoldGuaranteeRequest(
        idempotency_key=f"{case.case_id}:guarantee:{f.guarantee_attempts}", case_id=case.case_id,
        holder_id=case.holder.id,
        jurisdiction=case.jurisdiction, required_amount=f.required_guarantee or Decimal(0),
        currency=rules.currency, form=g.form, amount=g.amount, reference=g.reference))
    f.guarantee_status = result.status
    f.guarantee_held = result.status == "held"
    f.log("guarantee_" + result.status, result.model_dump(mode="json"))
    return f.guarantee_held


async def settle(f: CaseFile, outcome: str) -> None:
    """The case has ended: the ledger charges storage and refunds the remainder of a held guarantee."""
    if not f.guarantee_held:
        return
    settled = await calls.settle_guarantee(SettleGuaranteeRequest(
        idempotency_key=f"{f.case.case_id}:settle", case_id=f.case.case_id, outcome=outcome,
        ended_at=workflow.now()))
    f.guarantee_status = "settled"
    f.log("guarantee_settled", settled.model_dump(mode="json"))


def recompute_required(f: CaseFile) -> None:
    """Lines joined or left the case: the CN guarantee follows the value of the holder's goods in it."""
    if f.rules is None or f.procedure not in ("cn_ex_officio", "cn_application"):
        return
    value = f.value_in_pack_currency()
    if value is None:
        return
    mode = "application" if f.procedure == "cn_application" else "ex_officio"
    required = decisions.guarantee(f.pack, mode, value)
    if required == f.required_guarantee:
        return
    detail = {"from": str(f.required_guarantee), "to": str(required), "goods_value": str(value),
              "currency": f.pack.currency}
    if f.guarantee_held and f.required_guarantee is not None and required > f.required_guarantee:
        detail["shortfall"] = str(required - f.required_guarantee)  # the holder is asked in writing for the rest
    f.required_guarantee = f.required_guarantee_cny = required
    f.log("guarantee_recomputed", detail)
