"""Kafka consumers of the risk service.

* ``customs.declarations.v1``: every declaration revision is assessed once, in batches (see
  ``AssessmentPipeline.handle_batch``). Offsets are committed only after the batch's assessments
  are stored, its cases started and its assessments published. Unusable records are left to
  intake, which dead-letters them with the reason; here they are counted and skipped.
* ``cases.events.v1``: case outcomes per trader (consignor, consignee), applied once per event id.
"""

from __future__ import annotations

import asyncio
import logging
import random

from aiokafka import AIOKafkaConsumer, ConsumerRecord
from prometheus_client import Counter
from pydantic import ValidationError

from services.risk.history import TraderHistory
from services.risk.service import AssessmentPipeline
from shared.contracts.declaration import DeclarationV1
from shared.contracts.events import CaseEventV1, EventEnvelope
from shared.kafka import CONSUMED, PoisonMessage

log = logging.getLogger(__name__)
SKIPPED = Counter("ipr_risk_skipped_records_total", "Records on the declarations topic that are not valid declarations")


def parse(record: ConsumerRecord) -> DeclarationV1 | None:
    try:
        return DeclarationV1.model_validate_json(record.value or b"")
    except ValidationError:
        SKIPPED.inc()
        log.info("skipping invalid declaration record at %s/%s (intake dead-letters it)",
                 record.partition, record.offset)
        return None


def declarations_handler(pipeline: AssessmentPipeline):  # noqa: ANN201
    """One record at a time (kept for callers that feed single records)."""

    async def handle(record: ConsumerRecord) -> None:
        declaration = parse(record)
        if declaration is not None:
            await pipeline.handle(declaration)

    return handle


class DeclarationBatchConsumer:
    """Group consumer that assesses what each poll returns as one batch, then commits the offsets."""

    def __init__(self, *, settings, topic: str, group_id: str, pipeline: AssessmentPipeline) -> None:  # noqa: ANN001
        self.settings = settings
        self.topic = topic
        self.group_id = group_id
        self.pipeline = pipeline
        self._consumer: AIOKafkaConsumer | None = None
        self._task: asyncio.Task | None = None

    async def start(self) -> None:
        s = self.settings
        self._consumer = AIOKafkaConsumer(
            self.topic,
            bootstrap_servers=s.kafka_bootstrap_servers,
            group_id=self.group_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            session_timeout_ms=s.kafka_session_timeout_ms,
            heartbeat_interval_ms=s.kafka_heartbeat_interval_ms,
            max_poll_interval_ms=300_000,
            fetch_max_wait_ms=s.consumer_fetch_max_wait_ms,
            max_partition_fetch_bytes=4 * 1024 * 1024,
            client_id=f"{s.service_name}-{self.group_id}",
        )
        await self._consumer.start()
        self._task = asyncio.create_task(self._run(), name=f"consumer-{self.group_id}")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            try:
                await self._task
            except (asyncio.CancelledError, Exception):  # noqa: BLE001
                pass
        if self._consumer:
            await self._consumer.stop()

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def _run(self) -> None:
        assert self._consumer is not None
        while True:
            batches = await self._consumer.getmany(timeout_ms=200, max_records=self.settings.consumer_batch_max)
            if not batches:
                continue
            records = [r for recs in batches.values() for r in recs]
            declarations = [d for d in (parse(r) for r in records) if d is not None]
            attempt = 0
            while declarations:
                attempt += 1
                try:
                    await self.pipeline.handle_batch(declarations)
                    break
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # noqa: BLE001 - database, broker or Temporal hiccup: retry, never skip
                    delay = min(30.0, 0.2 * 2 ** min(attempt, 8)) * (0.5 + random.random())
                    log.warning("retrying a batch of %d declarations in %.1fs after %s: %s", len(declarations),
                                delay, type(exc).__name__, exc)
                    await asyncio.sleep(delay)
            CONSUMED.labels("risk", self.topic, "applied").inc(len(records))
            await self._consumer.commit({tp: recs[-1].offset + 1 for tp, recs in batches.items()})


def case_events_handler(sessionmaker, history: TraderHistory):  # noqa: ANN001, ANN201
    """Keep each case's outcome per trader, once per event id."""

    async def handle(record: ConsumerRecord) -> None:
        try:
            envelope = EventEnvelope.model_validate_json(record.value or b"")
            event = CaseEventV1.model_validate(envelope.payload)
        except ValidationError as exc:
            raise PoisonMessage("unreadable case event", str(exc)) from exc
        async with sessionmaker() as session, session.begin():
            grown = await history.apply(session, event_id=str(envelope.event_id), topic=record.topic, event=event)
        history.bump(grown)

    return handle
