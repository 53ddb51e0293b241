"""Use cases of the risk service: keep the registry and the profiles, assess declarations, open cases."""

from __future__ import annotations

import asyncio
import json
import logging
from collections import Counter as _Counter
from datetime import date, datetime, timezone
from decimal import Decimal

from fastapi import HTTPException
from prometheus_client import Counter, Gauge, Histogram
from sqlalchemy import bindparam, func, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client
from temporalio.common import (
    SearchAttributeKey,
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import WorkflowAlreadyStartedError

from services.risk import lifecycle
from services.risk.capacity import CapacityGovernor
from services.risk.history import TraderHistory
from services.risk.matcher import RegistryIndex
from services.risk.models import Assessment, Recordation, RecordationEvent, TargetingProfile, TargetingProfileVersion
from services.risk.profiles import ProfileSet, TargetingProfileV1
from services.risk.scoring import Context, Scoring, assess_line
from shared.contracts.cases import CASE_TASK_QUEUE, CASE_WORKFLOW_TYPE, CaseInput, HolderRef, PartyRef, case_id_for
from shared.contracts.declaration import DeclarationV1
from shared.contracts.events import TOPIC_ASSESSMENTS, RiskAssessedV1, deterministic_event_id
from shared.contracts.recordation import RecordationV1
from shared.kafka import PRODUCED
from shared.rules.calendar import calendar_for

log = logging.getLogger(__name__)

LINES = Counter("ipr_risk_lines_assessed_total", "Declaration lines assessed", ["lane", "suspected"])
CASES = Counter("ipr_risk_cases_started_total", "Case workflows started for suspected lines")
PROFILE_HITS = Counter("ipr_risk_profile_hits_total", "Lines matched by a targeting profile", ["profile_id"])
ASSESS_SECONDS = Histogram("ipr_risk_assess_seconds", "Time to assess one declaration",
                           buckets=(0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25))
BATCH_SECONDS = Histogram("ipr_risk_batch_seconds", "Time to assess, store and publish one consumer batch",
                          buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5))
REGISTRY_SIZE = Gauge("ipr_risk_registry_active_recordations", "Active recordations in the matcher index")
PROFILES_LOADED = Gauge("ipr_risk_profiles_loaded", "Targeting profiles in force")

CASE_ID = SearchAttributeKey.for_keyword("CaseId")
HOLDER_ID = SearchAttributeKey.for_keyword("HolderId")
DECLARATION_ID = SearchAttributeKey.for_keyword("DeclarationId")


def scoring_from(settings) -> Scoring:  # noqa: ANN001
    return Scoring(
        suspect_threshold=settings.suspect_threshold, red_threshold=settings.red_threshold,
        yellow_threshold=settings.yellow_threshold, undervalue_ratio=settings.undervalue_ratio,
        small_parcel_value_cny=settings.small_parcel_value_cny, transit_hubs=frozenset(settings.transit_hubs),
        random_rate=settings.random_selection_rate, random_salt=settings.random_selection_salt,
        fx_rates_to_cny=dict(settings.fx_rates_to_cny),
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
        self.history = TraderHistory(sessionmaker)
        self.capacity = capacity
        self._fingerprint: tuple | None = None
        self._lock = asyncio.Lock()

    def context(self) -> Context:
        return Context(history=self.history, profiles=self.profiles,
                       red_threshold_for=self.capacity.threshold if self.capacity else None)

    async def reload(self, *, force: bool = True) -> None:
        async with self._lock:
            async with self.sessionmaker() as session:
                fp = tuple((await session.execute(select(func.count(), func.max(Recordation.updated_at),
                                                         func.sum(Recordation.version))
                                                  .where(Recordation.status == "active"))).one())
                if not force and fp == self._fingerprint:
                    return
                rows = (await session.execute(select(Recordation.payload)
                                              .where(Recordation.status == "active"))).scalars().all()
            # Building a large index takes a moment: keep the event loop answering meanwhile.
            index = await asyncio.to_thread(lambda: RegistryIndex.build(
                [RecordationV1.model_validate(p) for p in rows]))
            self.index = index
            self._fingerprint = fp
            REGISTRY_SIZE.set(index.size)

    async def reload_profiles(self) -> None:
        async with self.sessionmaker() as session:
            rows = (await session.execute(select(TargetingProfile.payload)
                                          .where(TargetingProfile.active.is_(True)))).scalars().all()
        self.profiles = ProfileSet([TargetingProfileV1.model_validate(p) for p in rows])
        PROFILES_LOADED.set(len(self.profiles))

    async def reload_all(self) -> None:
        await self.reload()
        await self.reload_profiles()
        await self.history.reload()

    async def refresh_forever(self, every: float) -> None:
        while True:
            await asyncio.sleep(every)
            try:
                await expire_lapsed(self.sessionmaker)
                await self.reload(force=False)
                await self.reload_profiles()
                await self.history.reload()
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001
                log.exception("registry refresh failed")


# ---------------------------------------------------------------- registry


def recordation_view(row: Recordation) -> dict:
    return {**row.payload, "version": row.version,
            "created_at": row.created_at.isoformat() if row.created_at else None,
            "updated_at": row.updated_at.isoformat() if row.updated_at else None}


async def create_recordation(session: AsyncSession, *, rec: RecordationV1, actor: str) -> tuple[int, dict]:
    """Record a right; the same recordation again is a no-op, different content under its id a conflict.

    A new application is ``pending`` until approved; ``active`` is accepted for a right already approved
    elsewhere (migration of existing records, the demo data).
    """
    payload = rec.model_dump(mode="json")
    existing = await session.get(Recordation, rec.recordation_id)
    if existing is not None:
        if existing.payload == payload:
            return 200, recordation_view(existing)
        raise HTTPException(409, detail={"code": "recordation_exists",
                                         "message": f"recordation {rec.recordation_id} already exists with other content"})
    row = Recordation(recordation_id=rec.recordation_id, jurisdiction=rec.jurisdiction, status=rec.status,
                      holder_id=rec.holder.id, valid_from=rec.valid_from, valid_until=rec.valid_until,
                      version=1, payload=payload)
    session.add(row)
    session.add(RecordationEvent(recordation_id=rec.recordation_id, version=1, event="created", payload=payload,
                                 actor=actor, changes=None))
    await session.flush()
    await session.refresh(row)
    return 201, recordation_view(row)


async def change_recordation(session: AsyncSession, *, recordation_id: str, command: str, actor: str,
                             reason: str | None = None, expected_version: int | None = None,
                             changes: dict | None = None, lapsed_right: bool = False,
                             today: date | None = None) -> dict:
    """Apply one lifecycle command as a new version, with its audit entry."""
    row = await session.get(Recordation, recordation_id, with_for_update=True)
    if row is None:
        raise HTTPException(404, detail={"code": "recordation_not_found", "message": f"no recordation {recordation_id}"})
    if expected_version is not None and expected_version != row.version:
        raise HTTPException(409, detail={"code": "version_conflict",
                                         "message": f"recordation {recordation_id} is at version {row.version}, "
                                                    f"not {expected_version}"})
    current = RecordationV1.model_validate(row.payload)
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
        raise HTTPException(exc.status, detail={"code": exc.code, "message": exc.message}) from exc
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
                                 actor=actor, reason=reason, changes=changed))
    await session.flush()
    return recordation_view(row)


async def expire_lapsed(sessionmaker: async_sessionmaker[AsyncSession]) -> int:
    """Mark active recordations whose last valid day has passed (in their jurisdiction) as expired."""
    n = 0
    async with sessionmaker() as session, session.begin():
        rows = (await session.execute(select(Recordation.recordation_id, Recordation.jurisdiction)
                                      .where(Recordation.status == "active",
                                             Recordation.valid_until < date.today()))).all()
        for rid, jur in rows:
            row = await session.get(Recordation, rid, with_for_update=True)
            if row is None or row.status != "active" or row.valid_until >= today_in(jur):
                continue
            await change_recordation(session, recordation_id=rid, command="expire", actor="system:risk",
                                     reason="last valid day has passed")
            n += 1
    return n


async def history_of(session: AsyncSession, recordation_id: str) -> list[dict]:
    events = (await session.execute(select(RecordationEvent).where(
        RecordationEvent.recordation_id == recordation_id).order_by(RecordationEvent.id))).scalars()
    return [{"version": e.version, "event": e.event, "actor": e.actor, "at": e.at.isoformat(), "reason": e.reason,
             "changes": e.changes} for e in events]


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
        raise HTTPException(404, detail={"code": "profile_not_found", "message": f"no profile {profile_id}"})
    if row.active:
        row.active = False
        row.payload = {**row.payload, "active": False}
        row.version += 1
        row.updated_at = datetime.now(timezone.utc)
        session.add(TargetingProfileVersion(profile_id=profile_id, version=row.version, event="deactivated",
                                            payload=row.payload, actor=actor))
        await session.flush()
    return profile_view(row)


# ---------------------------------------------------------------- assessment


def to_cny(amount: Decimal, currency: str, rates: dict[str, Decimal]) -> Decimal | None:
    rate = rates.get(currency)
    return None if rate is None else (amount * rate).quantize(Decimal("0.01"))


def assess(declaration: DeclarationV1, index: RegistryIndex, scoring: Scoring, rates: dict[str, Decimal],
           context: Context | None = None, *, now: datetime | None = None
           ) -> tuple[RiskAssessedV1, list[CaseInput], list[str]]:
    """Assess every line (pure); returns the assessment, the input of each case to open and the profile hits."""
    lines, cases, profile_hits = [], [], []
    now = now or datetime.now(timezone.utc)
    on_date = calendar_for(declaration.jurisdiction).local_date(declaration.submitted_at)
    for line in declaration.lines:
        result = assess_line(index, declaration, line, scoring, context, on_date)
        a = result.assessment
        profile_hits.extend(result.profile_ids)
        if a.suspected and result.best is not None:
            rec = result.best
            case_id = case_id_for(declaration.declaration_id, line.line_no)
            a = a.model_copy(update={"case_id": case_id})
            cases.append(CaseInput(
                case_id=case_id, jurisdiction=declaration.jurisdiction, customs_office=declaration.customs_office,
                direction=declaration.direction, declaration_id=declaration.declaration_id,
                revision=declaration.revision, line_no=line.line_no, hs_code=line.hs_code,
                description=line.description, brand=line.brand, quantity=line.quantity, unit=line.unit,
                unit_value=line.unit_value, currency=declaration.currency, goods_value=line.line_value,
                goods_value_cny=to_cny(line.line_value, declaration.currency, rates),
                consignor=PartyRef(**declaration.consignor.model_dump()),
                consignee=PartyRef(**declaration.consignee.model_dump()),
                recordation_id=rec.recordation_id, right_type=rec.right_type, mark=rec.title,
                holder=HolderRef(id=rec.holder.id, name=rec.holder.name, contact_email=str(rec.holder.contact_email),
                                 webhook_url=str(rec.holder.webhook_url) if rec.holder.webhook_url else None),
                score=a.score, reasons=a.reasons, opened_at=now,
            ))
        lines.append(a)
    assessed = RiskAssessedV1(
        declaration_id=declaration.declaration_id, revision=declaration.revision,
        jurisdiction=declaration.jurisdiction, assessed_at=now, lines=lines, case_ids=[c.case_id for c in cases],
    )
    return assessed, cases, profile_hits


async def start_case(client: Client, case: CaseInput) -> None:
    """Start the case workflow; its id is deterministic, so a second start is a no-op."""
    try:
        await client.start_workflow(
            CASE_WORKFLOW_TYPE, case, id=case.case_id, task_queue=CASE_TASK_QUEUE,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            search_attributes=TypedSearchAttributes([
                SearchAttributePair(CASE_ID, case.case_id),
                SearchAttributePair(HOLDER_ID, case.holder.id),
                SearchAttributePair(DECLARATION_ID, case.declaration_id),
            ]),
        )
        CASES.inc()
    except WorkflowAlreadyStartedError:
        pass


def envelope_json(declaration_id: str, revision: int, result: dict, occurred_at: datetime) -> bytes:
    """The ``risk.assessed`` envelope (same shape as ``EventEnvelope``), serialised once, without a model pass."""
    event_id = deterministic_event_id("assessment", declaration_id, revision)
    body = {"event_id": str(event_id), "event_type": "risk.assessed", "event_version": 1,
            "occurred_at": occurred_at.isoformat(), "producer": "risk", "correlation_id": declaration_id,
            "causation_id": None, "payload": result}
    return json.dumps(body, separators=(",", ":"), default=str).encode()


class AssessmentPipeline:
    """Consumer path: assess once per revision, open the cases, publish the assessment -- each step idempotent.

    Works on batches: one database transaction stores the assessments of a whole batch (one multi-row
    insert; a revision already assessed is skipped), then the cases of the suspected lines start, then
    every assessment is published (the broker's acknowledgements awaited together), then one update
    marks them; the caller commits the offsets only after all of that. Redelivery never re-assesses a
    revision, never opens a second case (deterministic workflow id) and republishes only what was not
    marked published (with the same event id, so consumers drop the duplicate).
    """

    def __init__(self, *, sessionmaker, registry: Registry, temporal, producer, settings) -> None:  # noqa: ANN001
        self.sessionmaker = sessionmaker
        self.registry = registry
        self.temporal = temporal
        self.producer = producer
        self.settings = settings
        self.scoring = scoring_from(settings)

    async def handle(self, declaration: DeclarationV1) -> None:
        await self.handle_batch([declaration])

    async def handle_batch(self, declarations: list[DeclarationV1]) -> None:
        started = asyncio.get_running_loop().time()
        unique: dict[tuple[str, int], DeclarationV1] = {}
        for d in declarations:
            unique.setdefault((d.declaration_id, d.revision), d)
        keys = list(unique)
        a = Assessment.__table__.c
        pending: list[dict] = []  # rows still to start cases for / publish
        async with self.sessionmaker() as session, session.begin():
            stored = {(r.declaration_id, r.revision): r for r in (await session.execute(
                select(a.declaration_id, a.revision, a.result, a.case_inputs, a.cases_started_at, a.published_at)
                .where(tuple_(a.declaration_id, a.revision).in_(keys)))).all()}
            fresh_rows, hits = [], _Counter()
            index, context, capacity = self.registry.index, self.registry.context(), self.registry.capacity
            now = datetime.now(timezone.utc)
            for key, d in unique.items():
                if key in stored:
                    continue
                with ASSESS_SECONDS.time():
                    assessed, cases, profile_hits = assess(d, index, self.scoring, self.settings.fx_rates_to_cny,
                                                           context, now=now)
                hits.update(profile_hits)
                for line in assessed.lines:
                    if capacity is not None:
                        capacity.observe(d.customs_office, line.score)
                fresh_rows.append({"declaration_id": key[0], "revision": key[1],
                                   "result": assessed.model_dump(mode="json"),
                                   "case_inputs": [c.model_dump(mode="json") for c in cases], "assessed_at": now,
                                   "lines": assessed.lines})
            inserted: set[tuple[str, int]] = set()
            if fresh_rows:
                stmt = insert(Assessment.__table__).on_conflict_do_nothing().returning(a.declaration_id, a.revision)
                params = [{k: v for k, v in r.items() if k != "lines"} for r in fresh_rows]
                inserted = {(x[0], x[1]) for x in (await session.execute(stmt, params)).all()}
            if hits:
                await session.execute(
                    update(TargetingProfile.__table__)
                    .where(TargetingProfile.__table__.c.profile_id == bindparam("pid"))
                    .values(hits=TargetingProfile.__table__.c.hits + bindparam("n"), last_hit_at=now),
                    [{"pid": pid, "n": n} for pid, n in hits.items()],
                )
            for r in fresh_rows:
                key = (r["declaration_id"], r["revision"])
                if key in inserted:
                    pending.append({**r, "cases_started_at": None, "published_at": None})
                    for line in r["lines"]:
                        LINES.labels(line.lane, "true" if line.suspected else "false").inc()
            lost = [(r["declaration_id"], r["revision"]) for r in fresh_rows
                    if (r["declaration_id"], r["revision"]) not in inserted]
            if lost:  # another consumer stored them first: carry on with what it stored
                for r in (await session.execute(
                        select(a.declaration_id, a.revision, a.result, a.case_inputs, a.cases_started_at,
                               a.published_at).where(tuple_(a.declaration_id, a.revision).in_(lost)))).all():
                    stored[(r.declaration_id, r.revision)] = r
        for pid, n in hits.items():
            PROFILE_HITS.labels(pid).inc(n)
        for key, r in stored.items():
            if r.cases_started_at is None or r.published_at is None:
                pending.append({"declaration_id": key[0], "revision": key[1], "result": r.result,
                                "case_inputs": r.case_inputs, "assessed_at": None,
                                "cases_started_at": r.cases_started_at, "published_at": r.published_at})
        if not pending:
            return
        to_start = [c for r in pending if r["cases_started_at"] is None for c in r["case_inputs"]]
        if to_start:
            client = await self.temporal.get()
            await asyncio.gather(*(start_case(client, CaseInput.model_validate(c)) for c in to_start))
        futures = []
        occurred = datetime.now(timezone.utc)
        for r in pending:
            if r["published_at"] is None:
                value = envelope_json(r["declaration_id"], r["revision"], r["result"], occurred)
                event_id = str(deterministic_event_id("assessment", r["declaration_id"], r["revision"]))
                futures.append(await self.producer.send(
                    TOPIC_ASSESSMENTS, value=value, key=r["declaration_id"].encode(),
                    headers=[("event_id", event_id.encode()), ("event_type", b"risk.assessed")]))
        if futures:
            await asyncio.gather(*futures)
            PRODUCED.labels("risk", TOPIC_ASSESSMENTS).inc(len(futures))
        done = [(r["declaration_id"], r["revision"]) for r in pending]
        async with self.sessionmaker() as session, session.begin():
            mark = datetime.now(timezone.utc)
            await session.execute(
                update(Assessment.__table__).where(tuple_(a.declaration_id, a.revision).in_(done))
                .values(cases_started_at=func.coalesce(a.cases_started_at, mark),
                        published_at=func.coalesce(a.published_at, mark)))
        BATCH_SECONDS.observe(asyncio.get_running_loop().time() - started)

