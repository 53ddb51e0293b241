"""Use cases of targeting profiles and campaigns: write (versioned), switch on and off, history, report."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import Date as SqlDate
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from services.risk.campaigns import CampaignV1
from services.risk.models import (
    Campaign,
    CampaignVersion,
    TargetingProfile,
    TargetingProfileVersion,
)
from services.risk.profiles import TargetingProfileV1
from shared.errors import NotFound


def profile_view(row: TargetingProfile) -> dict:
    return {
        **row.payload,
        "version": row.version,
        "hits": row.hits,
        "last_hit_at": row.last_hit_at.isoformat() if row.last_hit_at else None,
        "updated_at": row.updated_at.isoformat() if row.updated_at else None,
    }


async def put_profile(session: AsyncSession, *, profile: TargetingProfileV1, actor: str) -> tuple[int, dict]:
    """Create a profile or store a new version of it (the same content again changes nothing)."""
    payload = profile.model_dump(mode="json")
    row = await session.get(TargetingProfile, profile.profile_id, with_for_update=True)
    if row is not None and row.payload == payload:
        return 200, profile_view(row)
    if row is None:
        row = TargetingProfile(profile_id=profile.profile_id, version=1, active=profile.active, payload=payload, hits=0)
        session.add(row)
        status, event = 201, "created"
    else:
        row.version += 1
        row.payload = payload
        row.active = profile.active
        row.updated_at = datetime.now(UTC)
        status, event = 200, "updated"
    session.add(
        TargetingProfileVersion(
            profile_id=profile.profile_id, version=row.version, event=event, payload=payload, actor=actor
        )
    )
    await session.flush()
    await session.refresh(row)
    return status, profile_view(row)


async def deactivate_profile(session: AsyncSession, *, profile_id: str, actor: str) -> dict:
    row = await session.get(TargetingProfile, profile_id, with_for_update=True)
    if row is None:
        raise NotFound("profile_not_found", f"no profile {profile_id}")
    if row.active:
        row.active = False
        row.payload = {**row.payload, "active": False}
        row.version += 1
        row.updated_at = datetime.now(UTC)
        session.add(
            TargetingProfileVersion(
                profile_id=profile_id, version=row.version, event="deactivated", payload=row.payload, actor=actor
            )
        )
        await session.flush()
    return profile_view(row)


def campaign_view(row: Campaign) -> dict:
    return {**row.payload, "version": row.version, "updated_at": row.updated_at.isoformat() if row.updated_at else None}


async def put_campaign(session: AsyncSession, *, campaign: CampaignV1, actor: str) -> tuple[int, dict]:
    """Create a campaign or store a new version of it (the same content again changes nothing)."""
    payload = campaign.model_dump(mode="json")
    row = await session.get(Campaign, campaign.campaign_id, with_for_update=True)
    if row is not None and row.payload == payload:
        return 200, campaign_view(row)
    if row is None:
        row = Campaign(campaign_id=campaign.campaign_id, version=1, active=campaign.active, payload=payload)
        session.add(row)
        status, event = 201, "created"
    else:
        row.version += 1
        row.payload = payload
        row.active = campaign.active
        row.updated_at = datetime.now(UTC)
        status, event = 200, "updated"
    session.add(
        CampaignVersion(
            campaign_id=campaign.campaign_id, version=row.version, event=event, payload=payload, actor=actor
        )
    )
    await session.flush()
    await session.refresh(row)
    return status, campaign_view(row)


async def switch_campaign(session: AsyncSession, *, campaign_id: str, on: bool, actor: str, reason: str | None) -> dict:
    """Switch a campaign on or off (a new version, recorded with who and why)."""
    row = await session.get(Campaign, campaign_id, with_for_update=True)
    if row is None:
        raise NotFound("campaign_not_found", f"no campaign {campaign_id}")
    if row.active != on:
        row.active = on
        row.payload = {**row.payload, "active": on}
        row.version += 1
        row.updated_at = datetime.now(UTC)
        session.add(
            CampaignVersion(
                campaign_id=campaign_id,
                version=row.version,
                event="switched_on" if on else "switched_off",
                payload=row.payload,
                actor=actor,
                reason=reason,
            )
        )
        await session.flush()
    return campaign_view(row)


async def campaign_history(session: AsyncSession, campaign_id: str) -> list[dict]:
    rows = (
        await session.execute(
            select(CampaignVersion).where(CampaignVersion.campaign_id == campaign_id).order_by(CampaignVersion.id)
        )
    ).scalars()
    return [
        {"version": r.version, "event": r.event, "actor": r.actor, "reason": r.reason, "at": r.at.isoformat()}
        for r in rows
    ]


_PERIODS = {"day": "day", "week": "week", "month": "month"}


async def campaign_report(
    session: AsyncSession,
    *,
    campaign_id: str,
    date_from: date | None,
    date_to: date | None,
    period: str,
    office: str | None,
) -> dict:
    """Hits, lines, suspected lines and cases opened of a campaign, by office and period, with totals."""
    row = await session.get(Campaign, campaign_id)
    if row is None:
        raise NotFound("campaign_not_found", f"no campaign {campaign_id}")
    bucket = func.date_trunc(_PERIODS[period], text("day")).cast(SqlDate).label("period")
    where = [text("campaign_id = :cid")]
    params: dict = {"cid": campaign_id}
    if date_from:
        where.append(text("day >= :dfrom"))
        params["dfrom"] = date_from
    if date_to:
        where.append(text("day <= :dto"))
        params["dto"] = date_to
    if office:
        where.append(text("customs_office = :office"))
        params["office"] = office
    from services.risk.models import CampaignHits

    h = CampaignHits.__table__.c
    stmt = (
        select(
            h.customs_office,
            bucket,
            func.sum(h.consignments),
            func.sum(h.lines),
            func.sum(h.suspected_lines),
            func.sum(h.cases),
        )
        .select_from(CampaignHits.__table__)
        .where(*where)
        .group_by(h.customs_office, bucket)
        .order_by(bucket, h.customs_office)
    )
    rows = (await session.execute(stmt, params)).all()
    out = [
        {
            "customs_office": r[0],
            "period": r[1].isoformat(),
            "consignments": int(r[2]),
            "lines": int(r[3]),
            "suspected_lines": int(r[4]),
            "cases_opened": int(r[5]),
        }
        for r in rows
    ]
    totals = {k: sum(x[k] for x in out) for k in ("consignments", "lines", "suspected_lines", "cases_opened")}
    by_office: dict[str, dict] = {}
    for x in out:
        o = by_office.setdefault(x["customs_office"], {k: 0 for k in totals})
        for k in totals:
            o[k] += x[k]
    return {
        "campaign_id": campaign_id,
        "name": row.payload.get("name"),
        "active": row.active,
        "valid_from": row.payload.get("valid_from"),
        "valid_until": row.payload.get("valid_until"),
        "period": period,
        "from": date_from.isoformat() if date_from else None,
        "to": date_to.isoformat() if date_to else None,
        "office": office,
        "totals": totals,
        "by_office": by_office,
        "rows": out,
    }
