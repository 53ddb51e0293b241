"""Use cases of lane capacity: each office's daily red quota, what is drawn on it today, and setting it."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.risk.models import (
    RedQuota,
    RedQuotaDay,
)


async def red_quotas_view(session: AsyncSession, today: date | None = None) -> list[dict]:
    """Each office's red quota, with what was granted and refused on its current day."""
    out = []
    for q in (await session.execute(select(RedQuota).order_by(RedQuota.customs_office))).scalars():
        day = (
            (
                await session.execute(
                    select(RedQuotaDay)
                    .where(RedQuotaDay.customs_office == q.customs_office)
                    .order_by(RedQuotaDay.day.desc())
                    .limit(1)
                )
            )
            .scalars()
            .first()
        )
        out.append(
            {
                "customs_office": q.customs_office,
                "per_day": q.per_day,
                "reason": q.reason,
                "set_by": q.set_by,
                "set_at": q.set_at.isoformat() if q.set_at else None,
                "latest_day": None
                if day is None
                else {"day": day.day.isoformat(), "quota": day.quota, "granted": day.granted, "refused": day.refused},
            }
        )
    return out


async def set_red_quota(session: AsyncSession, *, office: str, per_day: int, reason: str, actor: str) -> dict:
    """Set an office's red quota; the counter of a day already open takes the new quota at once."""
    row = await session.get(RedQuota, office, with_for_update=True)
    if row is None:
        session.add(RedQuota(customs_office=office, per_day=per_day, reason=reason, set_by=actor))
    else:
        row.per_day, row.reason, row.set_by, row.set_at = per_day, reason, actor, datetime.now(UTC)
    # the day open in the office's jurisdiction is today or yesterday in UTC's terms, never earlier
    await session.execute(
        update(RedQuotaDay)
        .where(RedQuotaDay.customs_office == office, RedQuotaDay.day >= date.today() - timedelta(days=1))
        .values(quota=per_day)
    )
    await session.flush()
    return {"customs_office": office, "per_day": per_day, "reason": reason, "set_by": actor}
