"""Use case of the disposal service: record the outcome of a case with its fine and disposal."""

from __future__ import annotations

from decimal import Decimal

from prometheus_client import Counter
from sqlalchemy.ext.asyncio import AsyncSession

from services.disposal import domain
from services.disposal.models import Disposition
from shared.contracts.cases import DispositionRequest

DISPOSITIONS = Counter("ipr_dispositions_total", "Case outcomes recorded", ["outcome"])
FINES = Counter("ipr_fines_amount_total", "Sum of fines imposed", ["currency"])


def view(d: Disposition) -> dict:
    return {
        "disposition_id": d.disposition_id, "case_id": d.case_id, "jurisdiction": d.jurisdiction,
        "outcome": d.outcome, "goods_value": str(d.goods_value), "currency": d.currency,
        "fine_tier": d.fine_tier, "fine_rate": str(d.fine_rate), "fine_amount": str(d.fine_amount),
        "fine_currency": d.currency, "disposal_method": d.disposal_method, "reason": d.reason,
        "actor": d.actor, "decided_at": d.decided_at.isoformat() if d.decided_at else None,
    }


async def record(session: AsyncSession, *, request: DispositionRequest, fine_rate: Decimal, actor: str) -> tuple[int, dict]:
    """One disposition per case; a second request for the same case returns the first."""
    disposition_id = f"DSP-{request.case_id}"
    existing = await session.get(Disposition, disposition_id)
    if existing is not None:
        return 200, view(existing)
    confiscated = request.outcome == "confiscation"
    rate = fine_rate if confiscated else Decimal(0)
    d = Disposition(
        disposition_id=disposition_id, case_id=request.case_id, jurisdiction=request.jurisdiction,
        outcome=request.outcome, goods_value=request.goods_value, currency=request.currency,
        right_type=request.right_type, fine_tier=request.fine_tier, fine_rate=rate,
        fine_amount=domain.fine_for(request.goods_value, rate),
        disposal_method=domain.disposal_method(request.right_type) if confiscated else None,
        reason=request.reason, actor=actor,
    )
    session.add(d)
    await session.flush()
    await session.refresh(d)
    DISPOSITIONS.labels(d.outcome).inc()
    FINES.labels(d.currency).inc(float(d.fine_amount))
    return 201, view(d)
