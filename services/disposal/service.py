"""Use case of the disposal service: record the outcome of a case with its fine and disposal."""

from __future__ import annotations

from decimal import Decimal

from fastapi import HTTPException
from prometheus_client import Counter
from sqlalchemy.ext.asyncio import AsyncSession

from services.disposal import domain
from services.disposal.models import Disposition
from shared.contracts.cases import DispositionRequest
from shared.rules.pack import rule_pack

DISPOSITIONS = Counter("ipr_dispositions_total", "Case outcomes recorded", ["outcome"])
FINES = Counter("ipr_fines_amount_total", "Sum of fines imposed", ["currency"])


def view(d: Disposition) -> dict:
    return {
        "disposition_id": d.disposition_id, "case_id": d.case_id, "jurisdiction": d.jurisdiction,
        "outcome": d.outcome, "goods_value": str(d.goods_value), "currency": d.currency,
        "fine_tier": d.fine_tier, "fine_rate": str(d.fine_rate), "fine_amount": str(d.fine_amount),
        "fine_currency": d.currency, "disposal_method": d.disposal_method, "reason": d.reason,
        "actor": d.actor, "decided_at": d.decided_at.isoformat() if d.decided_at else None,
        "hearing": d.hearing, "police_referral": d.police_referral,
    }


def _check_fine(request: DispositionRequest) -> None:
    """A fine decided by the case must lie within the jurisdiction's rules; anything else is refused."""
    amount = request.fine_amount or Decimal(0)
    if request.outcome not in ("confiscation", "forfeiture"):
        if amount:
            raise HTTPException(422, detail={"code": "fine_not_allowed",
                                             "message": f"no fine goes with the outcome {request.outcome}"})
        return
    try:
        pack = rule_pack(request.jurisdiction)
        low, high = pack.fine_range(request.goods_value, request.fine_tier if request.outcome == "confiscation"
                                    else None, repeat=request.repeat)
    except (KeyError, ValueError) as exc:
        raise HTTPException(422, detail={"code": "fine_rules_unavailable", "message": str(exc)}) from exc
    if request.outcome == "forfeiture":
        low = Decimal(0)
    if not low <= amount <= high:
        raise HTTPException(422, detail={
            "code": "fine_outside_rules",
            "message": f"fine {amount} {request.currency} is outside {low}..{high} for tier "
                       f"{request.fine_tier or pack.fine.default_tier} of goods value {request.goods_value}",
        })


async def record(session: AsyncSession, *, request: DispositionRequest, fine_rate: Decimal, actor: str) -> tuple[int, dict]:
    """One disposition per case; a second request for the same case returns the first."""
    disposition_id = f"DSP-{request.case_id}"
    existing = await session.get(Disposition, disposition_id)
    if existing is not None:
        return 200, view(existing)
    confiscated = request.outcome in ("confiscation", "forfeiture", "destruction")
    if request.fine_amount is None:
        # Cases started before fines were decided in the case: the configured rate applies.
        rate = fine_rate if request.outcome == "confiscation" else Decimal(0)
        fine = domain.fine_for(request.goods_value, rate)
    else:
        _check_fine(request)
        fine = request.fine_amount.quantize(Decimal("0.01"))
        rate = (fine / request.goods_value).quantize(Decimal("0.0001")) if request.goods_value else Decimal(0)
    method = request.disposal_method or (domain.disposal_method(request.right_type) if confiscated else None)
    d = Disposition(
        disposition_id=disposition_id, case_id=request.case_id, jurisdiction=request.jurisdiction,
        outcome=request.outcome, goods_value=request.goods_value, currency=request.currency,
        right_type=request.right_type, fine_tier=request.fine_tier, fine_rate=rate, fine_amount=fine,
        disposal_method=method, reason=request.reason, actor=actor,
        hearing=request.hearing, police_referral=request.police_referral,
    )
    session.add(d)
    await session.flush()
    await session.refresh(d)
    DISPOSITIONS.labels(d.outcome).inc()
    FINES.labels(d.currency).inc(float(d.fine_amount))
    return 201, view(d)
