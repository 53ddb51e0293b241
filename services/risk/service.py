"""Use cases of the risk service: keep the registry and the profiles, assess declarations, open cases."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import threading
import time
from collections import Counter as _Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

from prometheus_client import Counter, Gauge, Histogram
import orjson
from sqlalchemy import Date as SqlDate
from sqlalchemy import bindparam, func, select, text, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.risk import lifecycle
from services.risk.capacity import CapacityGovernor
from services.risk.history import TraderHistory
from services.risk.campaigns import CampaignSet, CampaignV1
from services.risk.learning.serving import store_features
from services.risk.matcher import RegistryIndex, describe_marks
from services.risk.models import (
    Assessment,
    Campaign,
    CampaignVersion,
    Recordation,
    RecordationEvent,
    RedQuota,
    RedQuotaDay,
    TargetingProfile,
    TargetingProfileVersion,
)
from services.risk.parcels import ParcelConsignment, parcel_result, result_envelope
from services.risk.profiles import ProfileSet, TargetingProfileV1
from services.risk.scoring import Context, Scoring, assess_line, seller_key
from shared.approvals import four_eyes
from shared.case_opening import (
    SuspectedLine,
    build_cases,
    lines_revision,
    signal_lines,
    start_case,
    without_lines,
)
from shared.contracts.cases import CaseInput, LineHit, LinesRevision
from shared.contracts.declaration import DeclarationV1
from shared.contracts.events import TOPIC_ASSESSMENTS, TOPIC_PARCEL_RESULTS, RiskAssessedV1, deterministic_event_id
from shared.contracts.recordation import RecordationV1
from shared.kafka import PRODUCED, acknowledged
from shared.supervise import Backoff, describe
from shared.rules.calendar import calendar_for
from shared.rules.pack import rule_pack
from shared.rules.personal_use import personal_use
from shared.errors import Conflict, DomainError, NotFound

log = logging.getLogger(__name__)

LINES = Counter("ipr_risk_lines_assessed_total", "Declaration lines assessed", ["lane", "suspected"])
CASES = Counter("ipr_risk_cases_started_total", "Cases opened or given a revision's lines (one per declaration and "
                "rights holder)")
PROFILE_HITS = Counter("ipr_risk_profile_hits_total", "Lines matched by a targeting profile", ["profile_id"])
CAMPAIGN_HITS = Counter("ipr_risk_campaign_hits_total", "Lines hit by a targeting campaign", ["campaign_id"])
RED_QUOTA_LINES = Counter("ipr_risk_red_quota_lines_total", "Red lines drawn on offices' daily red quotas, "
                          "granted or refused (refused ones go to documentary check)", ["outcome"])
PARCELS_ASSESSED = Counter("ipr_risk_parcels_assessed_total", "Parcels of manifests assessed", ["lane", "suspected"])
CAMPAIGNS_LOADED = Gauge("ipr_risk_campaigns_switched_on", "Targeting campaigns switched on")
ASSESS_SECONDS = Histogram("ipr_risk_assess_seconds", "Time to assess one declaration",
                           buckets=(0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25))
STAGE_SECONDS = Histogram("ipr_risk_stage_seconds", "Time of each consumer stage per batch (queue = waiting for it)",
                          ["stage"], buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1))
BATCH_SECONDS = Histogram("ipr_risk_batch_seconds", "Time to assess, store and publish one consumer batch",
                          buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5))
REGISTRY_SIZE = Gauge("ipr_risk_registry_active_recordations", "Active recordations in the matcher index")
REGISTRY_UPDATE_SECONDS = Histogram("ipr_risk_registry_update_seconds", "Time to take registry changes into the "
                                    "matcher index: incremental (the changed recordations) or full (a rebuild)",
                                    ["kind"], buckets=(0.001, 0.005, 0.02, 0.1, 0.5, 2, 10, 60, 300))
# Writes stamped up to this long before the latest one taken in are read again at the next look: a transaction
# that committed after a later one is not missed (and were it ever, the fingerprint check rebuilds the index).
CHANGE_OVERLAP = timedelta(minutes=2)
TAKE_IN_SLICE = 50  # recordations indexed between two turns of the event loop


_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


async def take_in(index: RegistryIndex, changed: list[RecordationV1 | dict], removed: list[str],
                  lock: threading.Lock | None = None) -> None:
    """Apply changed (recordations or their stored payloads) and removed recordations to a live index without
    holding up the event loop: the tables in slices of TAKE_IN_SLICE recordations (each a few milliseconds),
    the automaton of the Chinese marks, when they changed, rebuilt in a thread and swapped in. ``lock``: the
    index's lock, held by the assessment thread while it reads the index (a slice waits for at most one
    slice of assessment)."""
    guard = lock or contextlib.nullcontext()
    with guard:
        dirty: set[str] = set(index.update([], removed)) if removed else set()
    for i in range(0, len(changed), TAKE_IN_SLICE):
        recs = [r if isinstance(r, RecordationV1) else RecordationV1.model_validate(r)
                for r in changed[i:i + TAKE_IN_SLICE]]
        with guard:
            dirty |= index.update(recs)
        await asyncio.sleep(0)
    if dirty:
        automata = await asyncio.to_thread(index.build_automata, dirty)
        with guard:
            index.install_automata(automata)
PROFILES_LOADED = Gauge("ipr_risk_profiles_loaded", "Targeting profiles in force")


def scoring_from(settings) -> Scoring:  # noqa: ANN001
    return Scoring(
        suspect_threshold=settings.suspect_threshold, red_threshold=settings.red_threshold,
        yellow_threshold=settings.yellow_threshold, undervalue_ratio=settings.undervalue_ratio,
        small_parcel_value_cny=settings.small_parcel_value_cny, transit_hubs=frozenset(settings.transit_hubs),
        random_rate=settings.random_selection_rate, random_salt=settings.random_selection_salt,
        fx_rates_to_cny=dict(settings.fx_rates_to_cny),
        # settings objects built by hand (tests, tools) may leave the e-commerce weights out: none then
        direction_weights=dict(getattr(settings, "direction_weights", {})),
        mode_weights=dict(getattr(settings, "supervision_mode_weights", {})),
        platform_min_consignments=getattr(settings, "platform_min_consignments", 1000),
        platform_rate=getattr(settings, "platform_confiscation_rate", 0.001),
    )


def today_in(jurisdiction: str, now: datetime | None = None) -> date:
    return calendar_for(jurisdiction).local_date(now or datetime.now(timezone.utc))


class Registry:
    """What assessment reads, in memory: the matcher index, the profiles, trader history and office capacity.

    Rebuilt after writes in this process and, for writes made by other replicas, on a short period.
    """

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], *, capacity: CapacityGovernor | None = None
                 ) -> None:
        self.sessionmaker = sessionmaker
        self.index = RegistryIndex()
        self.profiles = ProfileSet()
        self.campaigns = CampaignSet()
        self.history = TraderHistory(sessionmaker)
        self.capacity = capacity
        self._fingerprint: tuple | None = None
        self._versions: dict[str, int] = {}  # active recordation -> version, as indexed
        self._seen: datetime | None = None  # the latest write taken in
        self._lock = asyncio.Lock()
        # Assessment runs in the consumers' threads: a change taken into the live index waits for the slice
        # of assessment reading it (a new index is swapped in whole, which needs no lock).
        self.index_lock = threading.Lock()

    def context(self) -> Context:
        return Context(history=self.history, profiles=self.profiles,
                       red_threshold_for=self.capacity.threshold if self.capacity else None,
                       campaigns=self.campaigns)

    async def reload(self, *, force: bool = True) -> None:
        """Take in the registry's changes: the first time by building the index (in a thread), then only the
        recordations written since the last look, a few keys each (``take_in``), so a change to a registry of
        100,000 marks is in force within milliseconds and never holds up assessment. ``force``: look even when
        the registry's fingerprint did not change (after a write in this process)."""
        async with self._lock:
            async with self.sessionmaker() as session:
                # one snapshot for the fingerprint and the rows, so the two agree
                await session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
                fp = tuple((await session.execute(select(func.count(), func.max(Recordation.updated_at),
                                                         func.sum(Recordation.version))
                                                  .where(Recordation.status == "active"))).one())
                if not force and fp == self._fingerprint:
                    return
                if self._seen is None:
                    rows = (await session.execute(select(Recordation.recordation_id, Recordation.status,
                                                         Recordation.version, Recordation.payload,
                                                         Recordation.updated_at)
                                                  .where(Recordation.status == "active"))).all()
                else:
                    rows = (await session.execute(select(Recordation.recordation_id, Recordation.status,
                                                         Recordation.version, Recordation.payload,
                                                         Recordation.updated_at)
                                                  .where(Recordation.updated_at >= self._seen - CHANGE_OVERLAP))
                            ).all()
            if self._seen is None or not self._agrees(fp, rows):
                await self._rebuild(fp, rows if self._seen is None else None)
                return
            started = time.perf_counter()
            changed, removed = [], []
            for rid, status, version, payload, _at in rows:
                if status == "active":
                    if self._versions.get(rid) != version:
                        changed.append(payload)
                        self._versions[rid] = version
                elif self._versions.pop(rid, None) is not None:
                    removed.append(rid)
            if changed or removed:
                await take_in(self.index, changed, removed, self.index_lock)
                REGISTRY_UPDATE_SECONDS.labels("incremental").observe(time.perf_counter() - started)
            self._seen = max([self._seen, *(at for *_, at in rows if at is not None)])
            self._fingerprint = fp
            REGISTRY_SIZE.set(self.index.size)

    def _agrees(self, fp: tuple, rows: list) -> bool:
        """Whether the rows read since the last look account for the registry as the fingerprint counts it
        (a write that committed later than CHANGE_OVERLAP after its timestamp would not): else rebuild."""
        versions = dict(self._versions)
        for rid, status, version, _payload, _at in rows:
            if status == "active":
                versions[rid] = version
            else:
                versions.pop(rid, None)
        count, _last, total = fp
        return len(versions) == count and sum(versions.values()) == int(total or 0)

    async def _rebuild(self, fp: tuple, rows: list | None) -> None:
        started = time.perf_counter()
        if rows is None:
            async with self.sessionmaker() as session:
                rows = (await session.execute(select(Recordation.recordation_id, Recordation.status,
                                                     Recordation.version, Recordation.payload, Recordation.updated_at)
                                              .where(Recordation.status == "active"))).all()
        # Building a large index takes a while: in a thread, the event loop answering meanwhile.
        index = await asyncio.to_thread(lambda: RegistryIndex.build(
            [RecordationV1.model_validate(payload) for _rid, _s, _v, payload, _at in rows]))
        self.index = index
        self._versions = {rid: version for rid, _s, version, _p, _at in rows}
        self._seen = max((at for *_, at in rows if at is not None), default=_EPOCH)
        self._fingerprint = fp
        # The index lives long: keep its objects out of the collector's full passes.
        gc.collect()
        gc.freeze()
        REGISTRY_SIZE.set(index.size)
        REGISTRY_UPDATE_SECONDS.labels("full").observe(time.perf_counter() - started)

    async def reload_profiles(self) -> None:
        async with self.sessionmaker() as session:
            rows = (await session.execute(select(TargetingProfile.payload)
                                          .where(TargetingProfile.active.is_(True)))).scalars().all()
        self.profiles = ProfileSet([TargetingProfileV1.model_validate(p) for p in rows])
        PROFILES_LOADED.set(len(self.profiles))

    async def reload_campaigns(self) -> None:
        async with self.sessionmaker() as session:
            rows = (await session.execute(select(Campaign.payload)
                                          .where(Campaign.active.is_(True)))).scalars().all()
        self.campaigns = CampaignSet([CampaignV1.model_validate(p) for p in rows])
        CAMPAIGNS_LOADED.set(len(self.campaigns))

    async def reload_all(self) -> None:
        await self.reload()
        await self.reload_profiles()
        await self.reload_campaigns()
        await self.history.reload()

    async def refresh(self) -> None:
        """Expire lapsed recordations and pick up what other replicas changed (run periodically)."""
        await expire_lapsed(self.sessionmaker)
        await self.reload(force=False)
        await self.reload_profiles()
        await self.reload_campaigns()
        await self.history.reload()


# ---------------------------------------------------------------- registry


def recordation_view(row: Recordation) -> dict:
    return {**row.payload, "marks": describe_marks(row.payload), "version": row.version,
            "created_at": row.created_at.isoformat() if row.created_at else None,
            "updated_at": row.updated_at.isoformat() if row.updated_at else None}


async def create_recordation(session: AsyncSession, *, rec: RecordationV1, actor: str,
                             actor_sub: str | None = None) -> tuple[int, dict]:
    """Record a right; the same recordation again is a no-op, different content under its id a conflict.

    A new application is ``pending`` until approved; ``active`` is accepted for a right already approved
    elsewhere (migration of existing records, the demo data).
    """
    payload = rec.model_dump(mode="json")
    existing = await session.get(Recordation, rec.recordation_id)
    if existing is not None:
        # compared as contracts: a record stored before a field was added reads with that field's default
        if existing.payload == payload or RecordationV1.model_validate(existing.payload) == rec:
            return 200, recordation_view(existing)
        raise Conflict("recordation_exists", f"recordation {rec.recordation_id} already exists with other content")
    row = Recordation(recordation_id=rec.recordation_id, jurisdiction=rec.jurisdiction, status=rec.status,
                      holder_id=rec.holder.id, valid_from=rec.valid_from, valid_until=rec.valid_until,
                      version=1, payload=payload)
    session.add(row)
    session.add(RecordationEvent(recordation_id=rec.recordation_id, version=1, event="created", payload=payload,
                                 actor=actor, actor_sub=actor_sub, changes=None))
    await session.flush()
    await session.refresh(row)
    return 201, recordation_view(row)


async def proposers_of(session: AsyncSession, recordation_id: str) -> list[str]:
    """Who shaped a pending application: its creator and whoever amended it since (legacy rows: the actor label)."""
    events = (await session.execute(select(RecordationEvent).where(
        RecordationEvent.recordation_id == recordation_id,
        RecordationEvent.event.in_(("created", "amended"))).order_by(RecordationEvent.id))).scalars()
    return [e.actor_sub or e.actor for e in events]


async def change_recordation(session: AsyncSession, *, recordation_id: str, command: str, actor: str,
                             actor_sub: str | None = None, actor_role: str | None = None,
                             reason: str | None = None, expected_version: int | None = None,
                             changes: dict | None = None, lapsed_right: bool = False,
                             today: date | None = None) -> dict:
    """Apply one lifecycle command as a new version, with its audit entry."""
    row = await session.get(Recordation, recordation_id, with_for_update=True)
    if row is None:
        raise NotFound("recordation_not_found", f"no recordation {recordation_id}")
    if expected_version is not None and expected_version != row.version:
        raise Conflict("version_conflict", f"recordation {recordation_id} is at version {row.version}, "
                                                    f"not {expected_version}")
    current = RecordationV1.model_validate(row.payload)
    if command == "approve" and current.status == "pending":
        for proposer in await proposers_of(session, recordation_id) or [None]:
            decision = four_eyes(proposer_sub=proposer, approver_sub=actor_sub or "", approver_role=actor_role or "")
            if not decision.allowed:
                raise DomainError(decision.status, decision.code, decision.message)
    day = today or today_in(current.jurisdiction)
    try:
        if command == "approve":
            new = lifecycle.approve(current, day)
        elif command == "refuse":
            new = lifecycle.refuse(current)
        elif command == "amend":
            new = lifecycle.amend(current, changes or {})
        elif command == "renew":
            new = lifecycle.renew(current, day)
        elif command == "expire":
            new = lifecycle.expire(current, day, lapsed_right=lapsed_right)
        elif command == "revoke":
            new = lifecycle.revoke(current)
        else:  # pragma: no cover - routes only name the commands above
            raise ValueError(command)
    except lifecycle.LifecycleError as exc:
        raise DomainError(exc.status, exc.code, exc.message) from exc
    payload = new.model_dump(mode="json")
    changed = lifecycle.changed_fields(row.payload, payload)
    row.payload = payload
    row.status = new.status
    row.valid_from = new.valid_from
    row.valid_until = new.valid_until
    row.holder_id = new.holder.id
    row.version += 1
    row.updated_at = datetime.now(timezone.utc)
    event = {"approve": "approved", "refuse": "refused", "amend": "amended", "renew": "renewed",
             "expire": "expired", "revoke": "revoked"}[command]
    session.add(RecordationEvent(recordation_id=recordation_id, version=row.version, event=event, payload=payload,
                                 actor=actor, actor_sub=actor_sub, reason=reason, changes=changed))
    await session.flush()
    return recordation_view(row)


async def expire_lapsed(sessionmaker: async_sessionmaker[AsyncSession]) -> int:
    """Mark active recordations whose last valid day has passed (in their jurisdiction) as expired."""
    n = 0
    async with sessionmaker() as session, session.begin():
        rows = (await session.execute(select(Recordation.recordation_id, Recordation.jurisdiction)
                                      .where(Recordation.status == "active",
                                             # the server's day may lag the jurisdiction's by one
                                             Recordation.valid_until <= date.today()))).all()
        for rid, jur in rows:
            row = await session.get(Recordation, rid, with_for_update=True)
            if row is None or row.status != "active" or row.valid_until >= today_in(jur):
                continue
            await change_recordation(session, recordation_id=rid, command="expire", actor="IPR risk service (risk)",
                                     actor_sub="risk",
                                     reason="last valid day has passed")
            n += 1
    return n


async def history_of(session: AsyncSession, recordation_id: str) -> list[dict]:
    events = (await session.execute(select(RecordationEvent).where(
        RecordationEvent.recordation_id == recordation_id).order_by(RecordationEvent.id))).scalars()
    return [{"version": e.version, "event": e.event, "actor": e.actor, "actor_sub": e.actor_sub,
             "at": e.at.isoformat(), "reason": e.reason, "changes": e.changes} for e in events]


async def version_of(session: AsyncSession, recordation_id: str, version: int) -> dict | None:
    e = (await session.execute(select(RecordationEvent).where(
        RecordationEvent.recordation_id == recordation_id, RecordationEvent.version == version))).scalars().first()
    return None if e is None else {**e.payload, "version": e.version}


# ---------------------------------------------------------------- targeting profiles


def profile_view(row: TargetingProfile) -> dict:
    return {**row.payload, "version": row.version, "hits": row.hits,
            "last_hit_at": row.last_hit_at.isoformat() if row.last_hit_at else None,
            "updated_at": row.updated_at.isoformat() if row.updated_at else None}


async def put_profile(session: AsyncSession, *, profile: TargetingProfileV1, actor: str) -> tuple[int, dict]:
    """Create a profile or store a new version of it (the same content again changes nothing)."""
    payload = profile.model_dump(mode="json")
    row = await session.get(TargetingProfile, profile.profile_id, with_for_update=True)
    if row is not None and row.payload == payload:
        return 200, profile_view(row)
    if row is None:
        row = TargetingProfile(profile_id=profile.profile_id, version=1, active=profile.active, payload=payload,
                               hits=0)
        session.add(row)
        status, event = 201, "created"
    else:
        row.version += 1
        row.payload = payload
        row.active = profile.active
        row.updated_at = datetime.now(timezone.utc)
        status, event = 200, "updated"
    session.add(TargetingProfileVersion(profile_id=profile.profile_id, version=row.version, event=event,
                                        payload=payload, actor=actor))
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
        row.updated_at = datetime.now(timezone.utc)
        session.add(TargetingProfileVersion(profile_id=profile_id, version=row.version, event="deactivated",
                                            payload=row.payload, actor=actor))
        await session.flush()
    return profile_view(row)


# ---------------------------------------------------------------- campaigns


def campaign_view(row: Campaign) -> dict:
    return {**row.payload, "version": row.version,
            "updated_at": row.updated_at.isoformat() if row.updated_at else None}


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
        row.updated_at = datetime.now(timezone.utc)
        status, event = 200, "updated"
    session.add(CampaignVersion(campaign_id=campaign.campaign_id, version=row.version, event=event, payload=payload,
                                actor=actor))
    await session.flush()
    await session.refresh(row)
    return status, campaign_view(row)


async def switch_campaign(session: AsyncSession, *, campaign_id: str, on: bool, actor: str,
                          reason: str | None) -> dict:
    """Switch a campaign on or off (a new version, recorded with who and why)."""
    row = await session.get(Campaign, campaign_id, with_for_update=True)
    if row is None:
        raise NotFound("campaign_not_found", f"no campaign {campaign_id}")
    if row.active != on:
        row.active = on
        row.payload = {**row.payload, "active": on}
        row.version += 1
        row.updated_at = datetime.now(timezone.utc)
        session.add(CampaignVersion(campaign_id=campaign_id, version=row.version,
                                    event="switched_on" if on else "switched_off", payload=row.payload, actor=actor,
                                    reason=reason))
        await session.flush()
    return campaign_view(row)


async def campaign_history(session: AsyncSession, campaign_id: str) -> list[dict]:
    rows = (await session.execute(select(CampaignVersion).where(CampaignVersion.campaign_id == campaign_id)
                                  .order_by(CampaignVersion.id))).scalars()
    return [{"version": r.version, "event": r.event, "actor": r.actor, "reason": r.reason, "at": r.at.isoformat()}
            for r in rows]


_PERIODS = {"day": "day", "week": "week", "month": "month"}


async def campaign_report(session: AsyncSession, *, campaign_id: str, date_from: date | None, date_to: date | None,
                          period: str, office: str | None) -> dict:
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
    stmt = (select(h.customs_office, bucket, func.sum(h.consignments), func.sum(h.lines), func.sum(h.suspected_lines),
                   func.sum(h.cases))
            .select_from(CampaignHits.__table__).where(*where).group_by(h.customs_office, bucket)
            .order_by(bucket, h.customs_office))
    rows = (await session.execute(stmt, params)).all()
    out = [{"customs_office": r[0], "period": r[1].isoformat(), "consignments": int(r[2]), "lines": int(r[3]),
            "suspected_lines": int(r[4]), "cases_opened": int(r[5])} for r in rows]
    totals = {k: sum(x[k] for x in out) for k in ("consignments", "lines", "suspected_lines", "cases_opened")}
    by_office: dict[str, dict] = {}
    for x in out:
        o = by_office.setdefault(x["customs_office"], {k: 0 for k in totals})
        for k in totals:
            o[k] += x[k]
    return {"campaign_id": campaign_id, "name": row.payload.get("name"), "active": row.active,
            "valid_from": row.payload.get("valid_from"), "valid_until": row.payload.get("valid_until"),
            "period": period, "from": date_from.isoformat() if date_from else None,
            "to": date_to.isoformat() if date_to else None, "office": office, "totals": totals,
            "by_office": by_office, "rows": out}


# ---------------------------------------------------------------- assessment


def personal_use_exemptions(declaration: DeclarationV1, results: list, on_pack=rule_pack  # noqa: ANN001
                            ) -> tuple[dict[str, str], dict[str, str]]:
    """For an individual's consignment: the recordations whose suspected goods stay within the reasonable
    quantity for personal use ({recordation id: reason}: not suspected), and those beyond it (reasons)."""
    business_model = getattr(declaration, "business_model", None)
    if business_model is None or not any(r.best is not None for r in results):
        return {}, {}
    quantities: dict[str, Decimal] = {}
    titles: dict[str, str] = {}
    by_no = {ln.line_no: ln for ln in declaration.lines}
    for r in results:
        if r.best is not None:
            rid = r.best.recordation_id
            quantities[rid] = quantities.get(rid, Decimal(0)) + by_no[r.assessment.line_no].quantity
            titles[rid] = r.best.title
    exempt, beyond = {}, {}
    pack = on_pack(declaration.jurisdiction)
    for rid, qty in quantities.items():
        answer = personal_use(pack, transport_mode=declaration.transport_mode, direction=declaration.direction,
                              business_model=business_model, quantity=qty, what=f"goods under {titles[rid]!r}")
        if answer.exempt:
            exempt[rid] = answer.reason
        elif answer.applies:
            beyond[rid] = answer.reason
    return exempt, beyond


def assess(declaration: DeclarationV1, index: RegistryIndex, scoring: Scoring, rates: dict[str, Decimal],
           context: Context | None = None, *, now: datetime | None = None
           ) -> tuple[RiskAssessedV1, list[CaseInput], list[str]]:
    """Assess every line (pure); returns the assessment, the input of each case to open (one per rights
    holder of the suspected lines) and the profile hits."""
    lines, suspected, profile_hits = [], [], []
    now = now or datetime.now(timezone.utc)
    on_date = calendar_for(declaration.jurisdiction).local_date(declaration.submitted_at)
    results = [assess_line(index, declaration, line, scoring, context, on_date) for line in declaration.lines]
    exempt, beyond = personal_use_exemptions(declaration, results)
    if exempt:  # individuals' articles in a reasonable quantity are scored again, not suspected
        results = [assess_line(index, declaration, line, scoring, context, on_date, exempt)
                   if r.best is not None and r.best.recordation_id in exempt else r
                   for line, r in zip(declaration.lines, results)]
    if beyond:
        for r in results:
            if r.best is not None and r.best.recordation_id in beyond:
                r.assessment = r.assessment.model_copy(
                    update={"reasons": [*r.assessment.reasons, beyond[r.best.recordation_id]]})
    for line, result in zip(declaration.lines, results):
        a = result.assessment
        profile_hits.extend(result.profile_ids)
        if a.suspected and result.best is not None:
            rec = result.best
            hits = tuple(LineHit(recordation_id=h.recordation_id, mark=h.term, match=h.match, score=h.score)
                         for h in a.hits if h.suspected or h.recordation_id == rec.recordation_id)
            suspected.append(SuspectedLine(line=line, recordation=rec, score=a.score, reasons=tuple(a.reasons),
                                           hits=hits))
        lines.append(a)
    repeat = bool(context and context.history.confiscations(declaration.consignee.id))
    cases = build_cases(declaration, suspected, rates=rates, opened_at=now, repeat_infringer=repeat)
    case_of = {ln.line_no: c.case_id for c in cases for ln in c.lines}
    lines = [a.model_copy(update={"case_id": case_of[a.line_no]}) if a.line_no in case_of else a for a in lines]
    assessed = RiskAssessedV1(
        declaration_id=declaration.declaration_id, revision=declaration.revision,
        jurisdiction=declaration.jurisdiction, assessed_at=now, lines=lines, case_ids=[c.case_id for c in cases],
    )
    return assessed, cases, profile_hits


def envelope_json(event_id: str, declaration_id: str, result_json: bytes, occurred_at: datetime) -> bytes:
    """The ``risk.assessed`` envelope (same shape as ``EventEnvelope``) around the already-encoded result."""
    head = orjson.dumps({"event_id": event_id, "event_type": "risk.assessed", "event_version": 1,
                         "occurred_at": occurred_at.isoformat(), "producer": "risk",
                         "correlation_id": declaration_id, "causation_id": None})
    return head[:-1] + b',"payload":' + result_json + b"}"


@dataclass
class _Row:
    """One declaration revision on its way through the consumer path."""

    declaration_id: str
    revision: int
    result_json: bytes
    case_inputs: list
    lines: list | None = None  # LineAssessmentV1, for metrics (fresh assessments only)
    office: str | None = None
    profile_hits: list | None = None
    features: list | None = None  # learning: the lines' feature rows (line_features)
    cases_started: bool = False
    published: bool = False
    parcel: dict | None = None  # a parcel of a manifest: its route (manifest id, parcel no, waybill)
    parcel_json: bytes | None = None  # its parcel.assessed envelope
    parcel_event_id: str | None = None
    seller_key: str | None = None
    platform_id: str | None = None
    day: date | None = None  # the consignment's date in its jurisdiction (campaign report)
    assessed: RiskAssessedV1 | None = None  # fresh assessments only (a line may still lose its red lane)
    quota_day: date | None = None  # today in the office's jurisdiction: the red quota drawn on
    republication: bool = False  # intake published the revision again: its assessment never arrived there

    @property
    def key(self) -> tuple[str, int]:
        return (self.declaration_id, self.revision)


class AssessmentPipeline:
    """Consumer path: assess once per revision, open the cases, publish the assessment -- each step idempotent.

    Three steps per batch, which the consumer runs as a pipeline (one batch is stored while the next is
    assessed and the previous one published):

    * ``prepare``: assess every new revision (CPU only, no I/O);
    * ``store``: one transaction inserts the batch's assessments in one multi-row statement (a revision
      stored before -- redelivery, another replica -- is not inserted again; its stored result is used)
      and adds the profile hits;
    * ``deliver``: start the cases of the suspected lines (deterministic workflow ids), publish every
      assessment and await the broker's acknowledgements together. Only then does the consumer commit
      the offsets. Which rows were delivered is recorded in the next store transaction (or by
      ``flush_marks``); a redelivered revision that was not yet marked is delivered again with the same
      event id, which consumers drop, and the same case id, which Temporal refuses to start twice.
    """

    def __init__(self, *, sessionmaker, registry: Registry, temporal, producer, settings,  # noqa: ANN001
                 assessments_topic: str = TOPIC_ASSESSMENTS) -> None:
        self.sessionmaker = sessionmaker
        self.assessments_topic = assessments_topic
        self.registry = registry
        self.temporal = temporal
        self.producer = producer
        self.settings = settings
        self.scoring = scoring_from(settings)
        self._marks: list[tuple[str, int]] = []
        self.case_starter: CaseStarter | None = CaseStarter(sessionmaker, temporal) if temporal is not None else None

    async def handle(self, declaration: DeclarationV1) -> None:
        await self.handle_batch([declaration])

    async def handle_batch(self, declarations: list[DeclarationV1]) -> None:
        rows = await self.store(self.prepare(declarations))
        if self.case_starter is not None:
            await self.case_starter.run_once()
        await self.deliver(rows)
        await self.flush_marks()

    def prepare(self, declarations: list[DeclarationV1 | ParcelConsignment]) -> list[_Row]:
        """Assess declarations and parcels of manifests (a parcel is assessed as its own declaration)."""
        unique: dict[tuple[str, int], DeclarationV1 | ParcelConsignment] = {}
        for item in declarations:
            d = item.declaration if isinstance(item, ParcelConsignment) else item
            unique.setdefault((d.declaration_id, d.revision), item)
        index, context = self.registry.index, self.registry.context()
        now = datetime.now(timezone.utc)
        today: dict[str, date] = {}
        done = []
        for (did, rev), item in unique.items():
            d = item.declaration if isinstance(item, ParcelConsignment) else item
            t0 = time.perf_counter()
            assessed, cases, profile_hits = assess(d, index, self.scoring, self.settings.fx_rates_to_cny, context,
                                                   now=now)
            ASSESS_SECONDS.observe(time.perf_counter() - t0)
            done.append((item, d, assessed, cases, profile_hits))
        # ---- learning: features of every line, the model's points beside the rules (one call per batch)
        learned: dict[tuple[str, int], list] = {}
        models = getattr(self.registry, "models", None)
        if models is not None:
            for f in models.apply([(d, a) for _i, d, a, _c, _h in done], index, self.settings.fx_rates_to_cny,
                                  context.red_threshold_for):
                learned.setdefault((f["declaration_id"], f["revision"]), []).append(f)
        # ----
        rows = []
        for item, d, assessed, cases, profile_hits in done:
            row = _Row(d.declaration_id, d.revision, assessed.__pydantic_serializer__.to_json(assessed),
                       [c.model_dump(mode="json") for c in cases], lines=assessed.lines,
                       office=d.customs_office, profile_hits=profile_hits, seller_key=seller_key(d),
                       platform_id=d.platform.id if getattr(d, "platform", None) is not None else None,
                       day=calendar_for(d.jurisdiction).local_date(d.submitted_at), assessed=assessed,
                       features=learned.get((d.declaration_id, d.revision)))
            row.quota_day = today.get(d.jurisdiction) or today.setdefault(d.jurisdiction, today_in(d.jurisdiction, now))
            if isinstance(item, ParcelConsignment):
                row.parcel = item.route
                row.parcel_event_id, row.parcel_json = result_envelope(parcel_result(assessed, item.route), now)
            rows.append(row)
        return rows

    async def store(self, rows: list[_Row]) -> list[_Row]:
        """Insert the fresh assessments; returns what is left to deliver (fresh and earlier undelivered rows)."""
        a = Assessment.__table__.c
        first: dict[tuple[str, int], _Row] = {}
        for r in rows:
            first.setdefault(r.key, r)
        rows = list(first.values())
        marks, self._marks = self._marks, []
        try:
            async with self.sessionmaker() as session, session.begin():
                if marks:
                    await self._mark(session, marks)
                inserted: set[tuple[str, int]] = set()
                if rows:
                    # One statement whatever the batch size (arrays unnested by PostgreSQL), so it is
                    # prepared once instead of once per distinct number of rows.
                    inserted = {(x[0], x[1]) for x in (await session.execute(_INSERT_ASSESSMENTS, {
                        "dids": [r.declaration_id for r in rows], "revs": [r.revision for r in rows],
                        "results": [r.result_json.decode() for r in rows],
                        "cases": [orjson.dumps(r.case_inputs).decode() for r in rows],
                        # A later revision without suspected lines may still withdraw lines of earlier cases.
                        "started": [not r.case_inputs and r.revision == 1 for r in rows],
                        "at": datetime.now(timezone.utc),
                        "parcels": [orjson.dumps(r.parcel).decode() if r.parcel else None for r in rows],
                    })).all()}
                await store_features(session, [f for r in rows if r.key in inserted for f in r.features or ()])
                hits: _Counter = _Counter()
                for r in rows:
                    if r.key in inserted and r.profile_hits:
                        hits.update(r.profile_hits)
                if hits:
                    t = TargetingProfile.__table__
                    await session.execute(
                        update(t).where(t.c.profile_id == bindparam("pid"))
                        .values(hits=t.c.hits + bindparam("n"), last_hit_at=func.now()),
                        [{"pid": pid, "n": n} for pid, n in hits.items()])
                fresh_rows = [r for r in rows if r.key in inserted]
                rewrites, quota_counts = await _draw_red_quota(session, fresh_rows)
                volume, campaign_hits = await _store_commerce(session, fresh_rows)
                lost = [r.key for r in rows if r.key not in inserted]
                stored: list[_Row] = []
                if lost:
                    # Assessed before (redelivery, or another replica was first): not assessed again; what was
                    # stored is delivered if it was not yet, or if intake published the revision again because
                    # the assessment never reached it (same event id: consumers that had it drop it).
                    again = {r.key for r in rows if r.republication}
                    for x in (await session.execute(
                            select(a.declaration_id, a.revision, a.result, a.case_inputs, a.published_at, a.parcel)
                            .where(tuple_(a.declaration_id, a.revision).in_(lost)))).all():
                        if x.published_at is None or (x.declaration_id, x.revision) in again:
                            stored.append(_Row(x.declaration_id, x.revision, orjson.dumps(x.result), x.case_inputs,
                                               parcel=x.parcel))
        except BaseException:
            self._marks = marks + self._marks
            raise
        for r in rows:
            if r.key in rewrites:
                r.assessed, r.result_json, r.parcel_json = rewrites[r.key]
                r.lines = r.assessed.lines
        for outcome, n in quota_counts.items():
            RED_QUOTA_LINES.labels(outcome).inc(n)
        capacity = self.registry.capacity
        lanes: _Counter = _Counter()
        fresh = [r for r in rows if r.key in inserted]
        for r in fresh:
            for line in r.lines or ():
                lanes[(line.lane, "true" if line.suspected else "false")] += 1
                if capacity is not None:
                    capacity.observe(r.office or "", line.score)
        for (lane, suspected), n in lanes.items():
            LINES.labels(lane, suspected).inc(n)
        for pid, n in hits.items():
            PROFILE_HITS.labels(pid).inc(n)
        for cid, n in campaign_hits.items():
            CAMPAIGN_HITS.labels(cid).inc(n)
        self.registry.history.add_volume(volume)
        for r in fresh:
            if r.parcel is not None and r.lines:
                worst = max(r.lines, key=lambda ln: ("green", "yellow", "red").index(ln.lane))
                PARCELS_ASSESSED.labels(worst.lane, "true" if any(ln.suspected for ln in r.lines) else "false").inc()
        if any(r.case_inputs or r.revision > 1 for r in fresh) and self.case_starter is not None:
            self.case_starter.kick()
        return fresh + stored

    async def deliver(self, rows: list[_Row]) -> None:
        """Publish the assessments and await the broker's acknowledgements together."""
        futures = []
        occurred = datetime.now(timezone.utc)
        for r in rows:
            if r.published:
                continue
            if r.parcel is not None:  # a parcel of a manifest: its result, keyed by the manifest id
                if r.parcel_json is None:
                    r.parcel_event_id, r.parcel_json = result_envelope(
                        parcel_result(RiskAssessedV1.model_validate_json(r.result_json), r.parcel), occurred)
                futures.append(await self.producer.send(
                    TOPIC_PARCEL_RESULTS, value=r.parcel_json, key=r.parcel["manifest_id"].encode(),
                    headers=[("event_id", (r.parcel_event_id or "").encode()), ("event_type", b"parcel.assessed")]))
                continue
            event_id = str(deterministic_event_id("assessment", r.declaration_id, r.revision))
            futures.append(await self.producer.send(
                self.assessments_topic, value=envelope_json(event_id, r.declaration_id, r.result_json, occurred),
                key=r.declaration_id.encode(),
                headers=[("event_id", event_id.encode()), ("event_type", b"risk.assessed")]))
        if futures:
            await acknowledged(futures, service="risk", what="publishing assessments")
            n_parcels = sum(1 for r in rows if not r.published and r.parcel is not None)
            PRODUCED.labels("risk", self.assessments_topic).inc(len(futures) - n_parcels)
            if n_parcels:
                PRODUCED.labels("risk", TOPIC_PARCEL_RESULTS).inc(n_parcels)
        self._marks.extend(r.key for r in rows)

    async def flush_marks(self) -> None:
        marks, self._marks = self._marks, []
        if not marks:
            return
        try:
            async with self.sessionmaker() as session, session.begin():
                await self._mark(session, marks)
        except BaseException:
            self._marks = marks + self._marks
            raise

    @staticmethod
    async def _mark(session: AsyncSession, keys: list[tuple[str, int]]) -> None:
        await session.execute(_MARK_PUBLISHED, {"dids": [k[0] for k in keys], "revs": [k[1] for k in keys],
                                                "now": datetime.now(timezone.utc)})


_INSERT_ASSESSMENTS = text("""
    INSERT INTO assessments (declaration_id, revision, result, case_inputs, assessed_at, cases_started_at, parcel)
    SELECT t.did, t.rev, t.result::jsonb, t.cases::jsonb, CAST(:at AS timestamptz),
           CASE WHEN t.started THEN CAST(:at AS timestamptz) END, t.parcel::jsonb
    FROM unnest(CAST(:dids AS text[]), CAST(:revs AS integer[]), CAST(:results AS text[]),
                CAST(:cases AS text[]), CAST(:started AS boolean[]), CAST(:parcels AS text[]))
         AS t(did, rev, result, cases, started, parcel)
    ON CONFLICT DO NOTHING
    RETURNING declaration_id, revision
""")
_OPEN_QUOTA_DAYS = text("""
    INSERT INTO red_quota_days (customs_office, day, quota, granted, refused, last_grant)
    SELECT q.customs_office, k.day, q.per_day, 0, 0, 0
    FROM unnest(CAST(:offices AS text[]), CAST(:days AS date[])) AS k(office, day)
    JOIN red_quotas AS q ON q.customs_office = k.office
    ORDER BY k.office, k.day
    ON CONFLICT DO NOTHING
""")
# Every right-hand side reads the row as it was: what this draw got is what is left, up to what it asked for.
# The row stays locked to the transaction's end, so concurrent replicas draw one after the other.
_DRAW_RED_QUOTA = text("""
    UPDATE red_quota_days
    SET last_grant = GREATEST(0, LEAST(quota - granted, :n)),
        granted = granted + GREATEST(0, LEAST(quota - granted, :n)),
        refused = refused + :n - GREATEST(0, LEAST(quota - granted, :n))
    WHERE customs_office = :office AND day = :day
    RETURNING last_grant, quota
""")
_REWRITE_RESULTS = text("""
    UPDATE assessments AS a SET result = k.result::jsonb
    FROM unnest(CAST(:dids AS text[]), CAST(:revs AS integer[]), CAST(:results AS text[])) AS k(did, rev, result)
    WHERE a.declaration_id = k.did AND a.revision = k.rev
""")
_CASE_SELLERS = text("""
    INSERT INTO case_sellers (case_id, seller_key, platform_id)
    SELECT * FROM unnest(CAST(:cids AS text[]), CAST(:sellers AS text[]), CAST(:platforms AS text[]))
    ON CONFLICT DO NOTHING
""")
_PLATFORM_VOLUME = text("""
    INSERT INTO platform_volume (platform_id, consignments)
    SELECT * FROM unnest(CAST(:pids AS text[]), CAST(:ns AS bigint[]))
    ON CONFLICT (platform_id) DO UPDATE SET consignments = platform_volume.consignments + EXCLUDED.consignments
""")
_CAMPAIGN_HITS = text("""
    INSERT INTO campaign_hits (campaign_id, customs_office, day, consignments, lines, suspected_lines, cases)
    SELECT * FROM unnest(CAST(:cids AS text[]), CAST(:offices AS text[]), CAST(:days AS date[]),
                         CAST(:consignments AS bigint[]), CAST(:lines AS bigint[]), CAST(:suspected AS bigint[]),
                         CAST(:cases AS bigint[]))
    ON CONFLICT (campaign_id, customs_office, day) DO UPDATE SET
        consignments = campaign_hits.consignments + EXCLUDED.consignments,
        lines = campaign_hits.lines + EXCLUDED.lines,
        suspected_lines = campaign_hits.suspected_lines + EXCLUDED.suspected_lines,
        cases = campaign_hits.cases + EXCLUDED.cases
""")


def quota_lines(row: _Row) -> list:
    """The lines of a fresh assessment that are red on their score alone: they draw on the office's red quota
    (suspected lines are red whatever the quota; the random control sample is never cut short)."""
    return [ln for ln in row.lines or () if ln.lane == "red" and not ln.suspected and not ln.random_selection]


async def _draw_red_quota(session: AsyncSession, fresh: list[_Row]
                          ) -> tuple[dict[tuple[str, int], tuple], dict[str, int]]:
    """Draw the batch's score-red lines on their offices' quotas of the day, in the batch's own transaction
    (only for assessments this transaction inserted, so a redelivered record never draws twice). Lines refused
    go to documentary check with the reason; their stored result is rewritten. Offices without a quota: no
    draw. Returns the rewritten rows (key -> assessment, result JSON, parcel envelope) and the counts."""
    wants: dict[tuple[str, date], list[tuple[_Row, int]]] = {}
    for r in fresh:
        if r.office and r.quota_day and r.assessed is not None:
            for ln in quota_lines(r):
                wants.setdefault((r.office, r.quota_day), []).append((r, ln.line_no))
    if not wants:
        return {}, {}
    keys = sorted(wants)  # one lock order for every replica: no deadlock between two batches
    await session.execute(_OPEN_QUOTA_DAYS, {"offices": [k[0] for k in keys], "days": [k[1] for k in keys]})
    refused: dict[tuple[str, int], dict[int, str]] = {}
    counts: _Counter = _Counter()
    for office, day in keys:
        asked = wants[(office, day)]
        drawn = (await session.execute(_DRAW_RED_QUOTA, {"office": office, "day": day, "n": len(asked)})).first()
        if drawn is None:  # no quota set for this office
            continue
        got, quota = drawn
        counts["granted"] += got
        counts["refused"] += len(asked) - got
        reason = (f"office {office} has used its red quota of {quota} lines for {day.isoformat()}, shared by "
                  "every risk replica: documentary check instead")
        for r, line_no in asked[got:]:
            refused.setdefault(r.key, {})[line_no] = reason
    if not refused:
        return {}, dict(counts)
    rewrites: dict[tuple[str, int], tuple] = {}
    now = datetime.now(timezone.utc)
    for r in fresh:
        cut = refused.get(r.key)
        if not cut:
            continue
        lines = [ln.model_copy(update={"lane": "yellow", "reasons": [*ln.reasons, cut[ln.line_no]]})
                 if ln.line_no in cut else ln for ln in r.assessed.lines]
        assessed = r.assessed.model_copy(update={"lines": lines})
        parcel_json = r.parcel_json
        if r.parcel is not None:
            _eid, parcel_json = result_envelope(parcel_result(assessed, r.parcel), now)
        rewrites[r.key] = (assessed, assessed.__pydantic_serializer__.to_json(assessed), parcel_json)
    keys2 = list(rewrites)
    await session.execute(_REWRITE_RESULTS, {"dids": [k[0] for k in keys2], "revs": [k[1] for k in keys2],
                                             "results": [rewrites[k][1].decode() for k in keys2]})
    return rewrites, dict(counts)


async def red_quotas_view(session: AsyncSession, today: date | None = None) -> list[dict]:
    """Each office's red quota, with what was granted and refused on its current day."""
    out = []
    for q in (await session.execute(select(RedQuota).order_by(RedQuota.customs_office))).scalars():
        day = (await session.execute(select(RedQuotaDay).where(RedQuotaDay.customs_office == q.customs_office)
                                     .order_by(RedQuotaDay.day.desc()).limit(1))).scalars().first()
        out.append({"customs_office": q.customs_office, "per_day": q.per_day, "reason": q.reason, "set_by": q.set_by,
                    "set_at": q.set_at.isoformat() if q.set_at else None,
                    "latest_day": None if day is None else {"day": day.day.isoformat(), "quota": day.quota,
                                                            "granted": day.granted, "refused": day.refused}})
    return out


async def set_red_quota(session: AsyncSession, *, office: str, per_day: int, reason: str, actor: str) -> dict:
    """Set an office's red quota; the counter of a day already open takes the new quota at once."""
    row = await session.get(RedQuota, office, with_for_update=True)
    if row is None:
        session.add(RedQuota(customs_office=office, per_day=per_day, reason=reason, set_by=actor))
    else:
        row.per_day, row.reason, row.set_by, row.set_at = per_day, reason, actor, datetime.now(timezone.utc)
    # the day open in the office's jurisdiction is today or yesterday in UTC's terms, never earlier
    await session.execute(update(RedQuotaDay).where(RedQuotaDay.customs_office == office,
                                                    RedQuotaDay.day >= date.today() - timedelta(days=1))
                          .values(quota=per_day))
    await session.flush()
    return {"customs_office": office, "per_day": per_day, "reason": reason, "set_by": actor}


async def _store_commerce(session: AsyncSession, fresh: list[_Row]) -> tuple[dict[str, int], dict[str, int]]:
    """In the batch's transaction, one statement each: the seller and platform of each case opened, the
    consignments per platform, and what each campaign hit per office and day. Returns (platform volume,
    campaign line hits) for the in-memory counts, applied once the transaction committed."""
    sellers: list[tuple[str, str | None, str | None]] = []
    volume: _Counter = _Counter()
    campaigns: dict[tuple[str, str, date], list[int]] = {}
    line_hits: _Counter = _Counter()
    for r in fresh:
        if r.platform_id:
            volume[r.platform_id] += 1
        if (r.seller_key or r.platform_id) and r.case_inputs:
            sellers.extend((c["case_id"], r.seller_key, r.platform_id) for c in r.case_inputs)
        per: dict[str, list] = {}
        for ln in r.lines or ():
            for cid in ln.campaign_ids:
                acc = per.setdefault(cid, [0, 0, set()])
                acc[0] += 1
                acc[1] += 1 if ln.suspected else 0
                if ln.case_id:
                    acc[2].add(ln.case_id)
                line_hits[cid] += 1
        for cid, (n_lines, n_suspected, case_ids) in per.items():
            key = (cid, r.office or "", r.day or date.today())
            tot = campaigns.setdefault(key, [0, 0, 0, 0])
            tot[0] += 1
            tot[1] += n_lines
            tot[2] += n_suspected
            tot[3] += len(case_ids)
    if sellers:
        await session.execute(_CASE_SELLERS, {"cids": [x[0] for x in sellers], "sellers": [x[1] for x in sellers],
                                              "platforms": [x[2] for x in sellers]})
    if volume:
        await session.execute(_PLATFORM_VOLUME, {"pids": list(volume), "ns": list(volume.values())})
    if campaigns:
        keys = list(campaigns)
        await session.execute(_CAMPAIGN_HITS, {
            "cids": [k[0] for k in keys], "offices": [k[1] for k in keys], "days": [k[2] for k in keys],
            "consignments": [campaigns[k][0] for k in keys], "lines": [campaigns[k][1] for k in keys],
            "suspected": [campaigns[k][2] for k in keys], "cases": [campaigns[k][3] for k in keys]})
    return dict(volume), dict(line_hits)
_MARK_PUBLISHED = text("""
    UPDATE assessments AS a SET published_at = COALESCE(a.published_at, CAST(:now AS timestamptz))
    FROM unnest(CAST(:dids AS text[]), CAST(:revs AS integer[])) AS k(did, rev)
    WHERE a.declaration_id = k.did AND a.revision = k.rev
""")


def plan_revision(declaration_id: str, revision: int, cases: list[CaseInput],
                  prior: dict[int, list[CaseInput]]) -> list:
    """What opening a revision's cases takes (pure): one call per case of the revision, and one per case of
    an earlier revision the revision no longer names. Each item is ``async (client) -> bool``."""
    legacy = {c.line_no for cs in prior.values() for c in cs if not c.lines}  # per-line cases keep their line
    if legacy:
        cases = [c for c in (without_lines(c, legacy) for c in cases) if c is not None]
    line_cases = {ln.line_no: c.case_id for c in cases for ln in c.lines}
    previous = {ln.line_no: c.case_id for c in prior[max(prior)] for ln in c.lines} if prior else {}
    jobs = []
    for c in cases:
        rev = lines_revision(c, line_cases=line_cases, previous_line_cases=previous)
        jobs.append(lambda client, c=c, rev=rev: start_case(client, c, rev))
    dropped = sorted({c.case_id for cs in prior.values() for c in cs if c.lines} - {c.case_id for c in cases})
    facts = cases[0].consignment if cases else None
    for case_id in dropped:
        rev = LinesRevision(declaration_id=declaration_id, revision=revision, lines=[], consignment=facts,
                            line_cases=line_cases, previous_line_cases=previous)
        jobs.append(lambda client, case_id=case_id, rev=rev: signal_lines(client, case_id, rev))
    return jobs


class CaseStarter:
    """Opens the cases of stored assessments, and gives later revisions to the cases they change: the
    assessments table is its outbox.

    A row whose suspected lines have cases to open (or a later revision, which may take lines out of
    earlier cases) keeps ``cases_started_at`` empty until this task has started each case with its lines
    (signal-with-start: a running case takes the revision's lines instead; deterministic ids, so a second
    start is harmless), told each case of an earlier revision that the revision no longer names that its
    risk lines left it (moved, where the line is now another holder's), and marked the row. Lines that have
    a per-line case from before consignment cases stay with it. It runs beside the consumer, so a slow
    Temporal never holds up the assessments, and it resumes after a restart from what the table says.
    """

    def __init__(self, sessionmaker, temporal) -> None:  # noqa: ANN001
        self.sessionmaker = sessionmaker
        self.temporal = temporal
        self._kick = asyncio.Event()

    def kick(self) -> None:
        self._kick.set()

    async def run_once(self, limit: int = 200) -> int:
        a = Assessment.__table__.c
        async with self.sessionmaker() as session, session.begin():
            # No row lock while Temporal answers: the consumer's transactions must not wait for it. Two
            # starters picking the same row start the same workflow id twice, which Temporal refuses.
            rows = (await session.execute(
                select(a.declaration_id, a.revision, a.case_inputs).where(a.cases_started_at.is_(None))
                .order_by(a.assessed_at).limit(limit))).all()
            later = sorted({r.declaration_id for r in rows if r.revision > 1})
            earlier: dict[str, dict[int, list[CaseInput]]] = {}
            if later:
                for x in (await session.execute(select(a.declaration_id, a.revision, a.case_inputs)
                                                .where(a.declaration_id.in_(later)))).all():
                    earlier.setdefault(x.declaration_id, {})[x.revision] = [
                        CaseInput.model_validate(c) for c in x.case_inputs]
        if not rows:
            return 0
        jobs = []
        for r in rows:
            cases = [CaseInput.model_validate(c) for c in r.case_inputs]
            prior = {rev: cs for rev, cs in earlier.get(r.declaration_id, {}).items() if rev < r.revision}
            jobs.extend(plan_revision(r.declaration_id, r.revision, cases, prior))
        if jobs:
            client = await self.temporal.get()
            started = await asyncio.gather(*(job(client) for job in jobs))
            CASES.inc(sum(1 for ok in started if ok))
        async with self.sessionmaker() as session, session.begin():
            await session.execute(
                update(Assessment.__table__)
                .where(tuple_(a.declaration_id, a.revision).in_([(r.declaration_id, r.revision) for r in rows]))
                .values(cases_started_at=datetime.now(timezone.utc)))
        return len(rows)

    async def run_forever(self, up=None, idle: float = 1.0) -> None:  # noqa: ANN001
        """Start cases as assessments are stored; the body of a supervised loop."""
        if up is not None:
            up()
        backoff = Backoff(initial=0.2, cap=30.0)
        while True:
            try:
                while await self.run_once() > 0:
                    pass
                backoff.reset()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - Temporal or database away: try again
                delay = backoff.next_delay()
                log.warning("starting cases failed (attempt %d), retrying in %.1fs: %s", backoff.attempt, delay,
                            describe(exc))
                await asyncio.sleep(delay)
                continue
            try:
                await asyncio.wait_for(self._kick.wait(), timeout=idle)
            except asyncio.TimeoutError:
                pass
            self._kick.clear()
