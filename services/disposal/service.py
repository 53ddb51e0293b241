"""Use case of the disposal service: record the outcome of a case with its fine and disposal.

The service decides nothing of the law itself: the case decides the fine and the disposal method
with ``shared.rules.decisions``, and the service re-checks them against the same rules before it
records them (a fine outside the tier, or a method the jurisdiction does not allow, is refused).
"""

from __future__ import annotations

from decimal import Decimal

from prometheus_client import Counter
from sqlalchemy.ext.asyncio import AsyncSession

from services.disposal.models import Disposition
from shared.contracts.cases import DispositionRequest
from shared.errors import Refused
from shared.rules import decisions
from shared.rules.pack import rule_pack

DISPOSITIONS = Counter("ipr_dispositions_total", "Case outcomes recorded", ["outcome"])
FINES = Counter("ipr_fines_amount_total", "Sum of fines imposed", ["currency"])
FINED = ("confiscation", "forfeiture")
DISPOSED = ("confiscation", "forfeiture", "destruction")


def view(d: Disposition) -> dict:
    return {
        "disposition_id": d.disposition_id,
        "case_id": d.case_id,
        "jurisdiction": d.jurisdiction,
        "outcome": d.outcome,
        "goods_value": str(d.goods_value),
        "currency": d.currency,
        "fine_tier": d.fine_tier,
        "fine_rate": str(d.fine_rate),
        "fine_amount": str(d.fine_amount),
        "fine_currency": d.currency,
        "disposal_method": d.disposal_method,
        "reason": d.reason,
        "actor": d.actor,
        "decided_at": d.decided_at.isoformat() if d.decided_at else None,
        "hearing": d.hearing,
        "police_referral": d.police_referral,
        "lines": d.lines or [],
    }


def _unprocessable(code: str, message: str) -> Refused:
    return Refused(code, message)


def _check(request: DispositionRequest) -> tuple[Decimal, str | None]:
    """The fine and the disposal method, re-checked against the jurisdiction's rules."""
    try:
        pack = rule_pack(request.jurisdiction)
    except KeyError as exc:
        raise _unprocessable("fine_rules_unavailable", str(exc)) from exc
    if request.fine_amount is None and request.outcome in FINED:
        raise _unprocessable("fine_required", f"a {request.outcome} carries the fine the case decided (0 for none)")
    amount = (request.fine_amount or Decimal(0)).quantize(Decimal("0.01"))
    try:
        decisions.check_fine(
            pack,
            outcome=request.outcome,
            goods_value=request.goods_value,
            tier=request.fine_tier if request.outcome == "confiscation" else None,
            amount=amount,
            repeat=request.repeat,
        )
    except decisions.FineOutsideRules as exc:
        code = "fine_not_allowed" if request.outcome not in FINED else "fine_outside_rules"
        raise _unprocessable(code, str(exc)) from exc
    except ValueError as exc:
        raise _unprocessable("fine_rules_unavailable", str(exc)) from exc
    method = request.disposal_method
    if request.outcome in DISPOSED:
        method = method or decisions.disposal_method(pack, request.right_type)
        if not decisions.lawful_disposal(pack, method):
            raise _unprocessable(
                "disposal_not_allowed",
                f"{request.jurisdiction} disposes of goods by {', '.join(pack.disposal_order)}, not {method}",
            )
    return amount, method


async def record(session: AsyncSession, *, request: DispositionRequest, actor: str) -> tuple[int, dict]:
    """One disposition per case; a second request for the same case returns the first."""
    disposition_id = f"DSP-{request.case_id}"
    existing = await session.get(Disposition, disposition_id)
    if existing is not None:
        return 200, view(existing)
    fine, method = _check(request)
    rate = (fine / request.goods_value).quantize(Decimal("0.0001")) if request.goods_value else Decimal(0)
    d = Disposition(
        disposition_id=disposition_id,
        case_id=request.case_id,
        jurisdiction=request.jurisdiction,
        outcome=request.outcome,
        goods_value=request.goods_value,
        currency=request.currency,
        right_type=request.right_type,
        fine_tier=request.fine_tier,
        fine_rate=rate,
        fine_amount=fine,
        disposal_method=method,
        reason=request.reason,
        actor=actor,
        hearing=request.hearing,
        police_referral=request.police_referral,
        lines=[ln.model_dump(mode="json") for ln in request.lines] or None,
    )
    session.add(d)
    await session.flush()
    await session.refresh(d)
    DISPOSITIONS.labels(d.outcome).inc()
    FINES.labels(d.currency).inc(float(d.fine_amount))
    return 201, view(d)
