"""Use cases of the risk service: keep the registry, assess declarations, open cases for suspected lines."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timezone
from decimal import Decimal

from fastapi import HTTPException
from prometheus_client import Counter, Gauge, Histogram
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client
from temporalio.common import SearchAttributeKey, SearchAttributePair, TypedSearchAttributes, WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

from services.risk.matcher import RegistryIndex, Scoring, assess_line
from services.risk.models import Assessment, Recordation, RecordationEvent
from shared.contracts.cases import CASE_TASK_QUEUE, CASE_WORKFLOW_TYPE, CaseInput, HolderRef, PartyRef, case_id_for
from shared.contracts.declaration import DeclarationV1
from shared.contracts.events import (
    TOPIC_ASSESSMENTS,
    EventEnvelope,
    RiskAssessedV1,
    deterministic_event_id,
)
from shared.contracts.recordation import RecordationV1
from shared.kafka import publish

log = logging.getLogger(__name__)

LINES = Counter("ipr_risk_lines_assessed_total", "Declaration lines assessed", ["lane", "suspected"])
CASES = Counter("ipr_risk_cases_started_total", "Case workflows started for suspected lines")
ASSESS_SECONDS = Histogram("ipr_risk_assess_seconds", "Time to assess one declaration",
                           buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25))
REGISTRY_SIZE = Gauge("ipr_risk_registry_active_recordations", "Active recordations in the matcher index")

CASE_ID = SearchAttributeKey.for_keyword("CaseId")
HOLDER_ID = SearchAttributeKey.for_keyword("HolderId")
DECLARATION_ID = SearchAttributeKey.for_keyword("DeclarationId")


class Registry:
    """In-memory matcher index over the recordations table, rebuilt after writes and periodically."""

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession]) -> None:
        self.sessionmaker = sessionmaker
        self.index = RegistryIndex()
        self._lock = asyncio.Lock()

    async def reload(self) -> None:
        async with self._lock:
            async with self.sessionmaker() as session:
                rows = (await session.execute(select(Recordation.payload).where(Recordation.status == "active"))).scalars()
                recs = [RecordationV1.model_validate(p) for p in rows]
            self.index = RegistryIndex.build(recs)
            REGISTRY_SIZE.set(self.index.size)

    async def refresh_forever(self, every: float) -> None:
        while True:
            await asyncio.sleep(every)
            try:
                await self.reload()
            except Exception:  # noqa: BLE001
                log.exception("registry refresh failed")


# ---------------------------------------------------------------- registry


async def create_recordation(session: AsyncSession, *, rec: RecordationV1, actor: str) -> tuple[int, dict]:
    """Record a right; the same recordation again is a no-op, different content under its id a conflict."""
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
                                 actor=actor))
    await session.flush()
    await session.refresh(row)
    return 201, recordation_view(row)


def recordation_view(row: Recordation) -> dict:
    return {**row.payload, "version": row.version,
            "created_at": row.created_at.isoformat() if row.created_at else None,
            "updated_at": row.updated_at.isoformat() if row.updated_at else None}


# ---------------------------------------------------------------- assessment


def to_cny(amount: Decimal, currency: str, rates: dict[str, Decimal]) -> Decimal | None:
    rate = rates.get(currency)
    return None if rate is None else (amount * rate).quantize(Decimal("0.01"))


def assess(declaration: DeclarationV1, index: RegistryIndex, scoring: Scoring,
           rates: dict[str, Decimal]) -> tuple[RiskAssessedV1, list[CaseInput]]:
    """Assess every line; returns the assessment and the input of each case to open."""
    lines, cases = [], []
    now = datetime.now(timezone.utc)
    for line in declaration.lines:
        result = assess_line(index, declaration, line, scoring)
        a = result.assessment
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
                **procedure_facts(declaration, line, rec),
            ))
        LINES.labels(a.lane, str(a.suspected).lower()).inc()
        lines.append(a)
    assessed = RiskAssessedV1(
        declaration_id=declaration.declaration_id, revision=declaration.revision,
        jurisdiction=declaration.jurisdiction, assessed_at=now, lines=lines, case_ids=[c.case_id for c in cases],
    )
    return assessed, cases


def procedure_facts(declaration: DeclarationV1, line, rec: RecordationV1) -> dict:  # noqa: ANN001
    """What the case procedure needs beyond the line itself (EU: the application for action is the recordation)."""
    genuine = [g for g in rec.genuine_unit_value
               if line.hs_code.startswith(g.hs_prefix) and g.currency == declaration.currency]
    return {
        "transport_mode": declaration.transport_mode,
        "gross_weight_kg": line.gross_weight_kg,
        "genuine_unit_value": max(genuine, key=lambda g: len(g.hs_prefix)).min if genuine else None,
        "application_id": rec.recordation_id if declaration.jurisdiction == "EU" else None,
    }


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


class AssessmentPipeline:
    """Consumer path: assess once per revision, open the cases, publish the assessment — each step idempotent."""

    def __init__(self, *, sessionmaker, registry: Registry, temporal, producer, settings) -> None:  # noqa: ANN001
        self.sessionmaker = sessionmaker
        self.registry = registry
        self.temporal = temporal
        self.producer = producer
        self.settings = settings
        self.scoring = Scoring(settings.suspect_threshold, settings.red_threshold, settings.yellow_threshold,
                               settings.undervalue_ratio)

    async def handle(self, declaration: DeclarationV1) -> None:
        key = (declaration.declaration_id, declaration.revision)
        async with self.sessionmaker() as session, session.begin():
            row = await session.get(Assessment, key, with_for_update=True)
            if row is None:
                with ASSESS_SECONDS.time():
                    assessed, cases = assess(declaration, self.registry.index, self.scoring,
                                             self.settings.fx_rates_to_cny)
                row = Assessment(declaration_id=key[0], revision=key[1], result=assessed.model_dump(mode="json"),
                                 case_inputs=[c.model_dump(mode="json") for c in cases],
                                 assessed_at=assessed.assessed_at)
                session.add(row)
        if row.cases_started_at is None:
            if row.case_inputs:
                client = await self.temporal.get()
                for case in row.case_inputs:
                    await start_case(client, CaseInput.model_validate(case))
            await self._mark(key, cases_started_at=datetime.now(timezone.utc))
        if row.published_at is None:
            envelope = EventEnvelope(
                event_id=deterministic_event_id("assessment", *key), event_type="risk.assessed", producer="risk",
                correlation_id=declaration.declaration_id, payload=row.result,
            )
            await publish(self.producer, "risk", TOPIC_ASSESSMENTS, declaration.declaration_id, envelope)
            await self._mark(key, published_at=datetime.now(timezone.utc))

    async def _mark(self, key: tuple[str, int], **values: datetime) -> None:
        async with self.sessionmaker() as session, session.begin():
            row = await session.get(Assessment, key)
            for name, value in values.items():
                setattr(row, name, value)
