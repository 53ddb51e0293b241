"""The holder's guarantee: taken from a reply or signal, held by the guarantees ledger, settled at the end.

A guarantee that cannot be taken (its amount out of bounds, the wrong currency) or that the
ledger refuses (its answer ``refused``, or a 4xx) takes the lawful path: the holder is told in
writing and may post another one until the reply deadline; without one the goods are
released when it passes. Also the consignee's patent counter-guarantee (CN Reg. Art. 24),
which releases the goods.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from temporalio import workflow

from services.cases.workflow import calls
from services.cases.workflow.deadlines import wait_until
from services.cases.workflow.notices import notify
from services.cases.workflow.state import CaseFile
from services.cases.workflow.steps import Refused, run_step

with workflow.unsafe.imports_passed_through():
    from shared.contracts.cases import Deadline, GuaranteeInfo, PartySubmission
    from shared.contracts.guarantees import HoldGuaranteeRequest, SettleGuaranteeRequest
    from shared.rules import decisions


def take_guarantee(f: CaseFile, guarantee: GuaranteeInfo) -> None:
    """Record a guarantee the holder posted (signal side; the ledger holds it later)."""
    ok = sufficient(f, guarantee)
    if ok:
        f.guarantee = guarantee
    f.log(
        "guarantee_received" if ok else "guarantee_insufficient",
        {
            **guarantee.model_dump(mode="json"),
            "required_cny": str(f.required_guarantee_cny) if f.required_guarantee_cny is not None else None,
        },
    )
    if not ok and f.v3:
        _tell_holder(
            f, f"{guarantee.currency} {guarantee.amount} does not cover the required CNY {f.required_guarantee_cny}"
        )


def reject_guarantee(f: CaseFile, guarantee: object, reason: str) -> None:
    """A guarantee the case cannot take (v3): recorded, and the holder is told in writing by the waiting step."""
    f.log("guarantee_rejected", {"guarantee": guarantee, "reason": reason})
    _tell_holder(f, reason)


def _tell_holder(f: CaseFile, reason: str) -> None:
    f.guarantee_rejections += 1
    f.pending_rejection = reason


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
        if f.v3:
            met = await wait_until(f, lambda: settled() or f.pending_rejection is not None, deadline)
            if f.pending_rejection is not None:
                reason, f.pending_rejection = f.pending_rejection, None
                due_at = f.deadlines[deadline.name].due_at  # as a published calendar may have re-timed it
                if workflow.now() < due_at:
                    await notify(
                        f,
                        "guarantee_refused",
                        reply_deadline_at=due_at,
                        extra=reason,
                        key=f"guarantee_rejected:{f.guarantee_rejections}",
                    )
                if not settled():
                    continue
            elif not met:
                return False
        elif not await wait_until(f, settled, deadline):
            return False
        if f.reply is not None and f.reply.decision == "no_detention":
            return True
        if await secure_guarantee(f):
            return True
        f.guarantee = None
        await notify(
            f,
            "guarantee_refused",
            reply_deadline_at=f.deadlines[deadline.name].due_at,
            key=f"guarantee_refused:{f.guarantee_attempts}",
        )


async def secure_guarantee(f: CaseFile) -> bool:
    """Have the guarantees service hold the guarantee (or draw it from a general guarantee)."""
    rules = f.pack
    if not rules.guarantee.required or f.guarantee is None:
        return True
    g, case = f.guarantee, f.case
    f.guarantee_attempts += 1
    # A case started before v3 may carry a guarantee taken before the contracts had bounds: it goes to
    # the ledger as it was given (which refuses it, as it did then), not checked again here.
    request = HoldGuaranteeRequest if f.v3 else HoldGuaranteeRequest.model_construct
    result = await run_step(
        f,
        "hold_guarantee",
        lambda: calls.hold_guarantee(
            request(
                idempotency_key=f"{case.case_id}:guarantee:{f.guarantee_attempts}",
                case_id=case.case_id,
                holder_id=case.holder.id,
                jurisdiction=case.jurisdiction,
                required_amount=f.required_guarantee or Decimal(0),
                currency=rules.currency,
                form=g.form,
                amount=g.amount,
                reference=g.reference,
            )
        ),
        task="none: the holder is told in writing",
        escalate=False,
    )
    if isinstance(result, Refused):
        # The ledger refused the request itself (4xx): the same lawful path as a refused guarantee.
        f.guarantee_status, f.guarantee_held = "refused", False
        f.log("guarantee_refused", {"reference": g.reference, "form": g.form, "reason": result.reason})
        return False
    f.guarantee_status = result.status
    f.guarantee_held = result.status == "held"
    f.log("guarantee_" + result.status, result.model_dump(mode="json"))
    return f.guarantee_held


async def settle(f: CaseFile, outcome: str) -> None:
    """The case has ended: the ledger charges storage and refunds the remainder of a held guarantee."""
    if not f.guarantee_held:
        return
    settled = await run_step(
        f,
        "settle_guarantee",
        lambda: calls.settle_guarantee(
            SettleGuaranteeRequest(
                idempotency_key=f"{f.case.case_id}:settle",
                case_id=f.case.case_id,
                outcome=outcome,
                ended_at=workflow.now(),
            )
        ),
        task="settle the guarantee by hand: charge the costs and refund the rest",
    )
    if isinstance(settled, Refused):
        return
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
    detail = {
        "from": str(f.required_guarantee),
        "to": str(required),
        "goods_value": str(value),
        "currency": f.pack.currency,
    }
    if f.guarantee_held and f.required_guarantee is not None and required > f.required_guarantee:
        detail["shortfall"] = str(required - f.required_guarantee)  # the holder is asked in writing for the rest
    f.required_guarantee = f.required_guarantee_cny = required
    f.log("guarantee_recomputed", detail)
