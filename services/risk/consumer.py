"""Kafka consumers of the risk service.

* ``customs.declarations.v1``: every declaration revision is assessed once, in batches (see
  ``AssessmentPipeline.handle_batch``). Offsets are committed only after the batch's assessments
  are stored, its cases started and its assessments published. Unusable records are left to
  intake, which dead-letters them with the reason; here they are counted and skipped.
* ``cases.events.v1``: case outcomes per trader (consignor, consignee), applied once per event id.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from concurrent.futures import ThreadPoolExecutor

from aiokafka import AIOKafkaConsumer, ConsumerRecord
from aiokafka.errors import CommitFailedError, IllegalStateError
from prometheus_client import Counter
from pydantic import ValidationError

from services.risk.history import TraderHistory
from services.risk.service import BATCH_SECONDS, STAGE_SECONDS, AssessmentPipeline
from shared.contracts.declaration import DeclarationV1
from shared.contracts.events import CaseEventV1, EventEnvelope
from shared.kafka import CONSUMED, PoisonMessage

log = logging.getLogger(__name__)
ASSESS_SLICE = 25  # declarations assessed under one hold of the index lock (a few milliseconds)
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
    """Group consumer that assesses declarations (or parcels of manifests) in batches, as a three-stage pipeline.

    fetch + parse + assess (CPU) -> store (one transaction) -> start cases + publish -> commit offsets.
    While one batch waits for the database or the broker, the next is being assessed; offsets are
    committed strictly in order and only after their batch was stored and delivered. Any failure is
    retried with back-off in its stage (never skipped); the stages before it wait (bounded queues).
    """

    def __init__(self, *, settings, topic: str, group_id: str, pipeline: AssessmentPipeline,  # noqa: ANN001
                 parser=None) -> None:  # noqa: ANN001 - record -> declaration or parcel consignment (None: skip)
        self.settings = settings
        # Parsing and scoring (CPU) run in a thread of their own, so the event loop goes on storing,
        # publishing, fetching and answering HTTP while a batch is assessed.
        self._executor: ThreadPoolExecutor | None = None
        self.topic = topic
        self.group_id = group_id
        self.pipeline = pipeline
        self.parse = parser or parse
        self._consumer: AIOKafkaConsumer | None = None
        self._tasks: list[asyncio.Task] = []

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
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"{self.group_id}-assess")
        to_store: asyncio.Queue = asyncio.Queue(maxsize=8)
        to_deliver: asyncio.Queue = asyncio.Queue(maxsize=8)
        self._tasks = [
            asyncio.create_task(self._assess_stage(to_store), name=f"{self.group_id}-assess"),
            asyncio.create_task(self._store_stage(to_store, to_deliver), name=f"{self.group_id}-store"),
            asyncio.create_task(self._deliver_stage(to_deliver), name=f"{self.group_id}-deliver"),
        ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            try:
                await task
            except (asyncio.CancelledError, Exception):  # noqa: BLE001
                pass
        if self._consumer:
            try:
                await self.pipeline.flush_marks()
            except Exception:  # noqa: BLE001 - marks are bookkeeping; redelivery is harmless
                log.warning("could not record the last delivered assessments")
            await self._consumer.stop()
        if self._executor is not None:
            # a batch still being assessed is dropped: nothing of it was stored, its records come again
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None

    @property
    def running(self) -> bool:
        return bool(self._tasks) and all(not t.done() for t in self._tasks)

    async def _fetch(self) -> dict:
        """One batch: what the first poll returns, topped up for a few milliseconds up to the batch size."""
        assert self._consumer is not None
        limit = self.settings.consumer_batch_max
        batches = await self._consumer.getmany(timeout_ms=200, max_records=limit)
        total = sum(len(v) for v in batches.values())
        deadline = time.monotonic() + self.settings.consumer_linger_ms / 1000
        while batches and total < limit and time.monotonic() < deadline:
            more = await self._consumer.getmany(timeout_ms=1, max_records=limit - total)
            if not more:
                await asyncio.sleep(0.001)
                continue
            for tp, recs in more.items():
                batches.setdefault(tp, []).extend(recs)
                total += len(recs)
        return batches

    async def _assess_stage(self, out: asyncio.Queue) -> None:
        while True:
            batches = await self._fetch()
            if not batches:
                if out.empty():
                    await self._flush_marks()
                continue
            started = time.perf_counter()
            records = [r for recs in batches.values() for r in recs]
            if records and records[0].timestamp:
                STAGE_SECONDS.labels("broker_to_fetch").observe(max(0.0, time.time() - records[0].timestamp / 1000))
            rows = await asyncio.get_running_loop().run_in_executor(self._executor, self._assess, records)
            offsets = {tp: recs[-1].offset + 1 for tp, recs in batches.items()}
            t = time.perf_counter()
            STAGE_SECONDS.labels("assess").observe(t - started)
            await out.put((t, started, len(records), offsets, rows))
            await asyncio.sleep(0)  # let the other stages move between two CPU-bound batches

    def _assess(self, records: list[ConsumerRecord]) -> list:
        """In the assessment thread: parse and assess, in slices under the index's lock (a registry change
        is taken in between two slices)."""
        declarations = [d for d in (self.parse(r) for r in records) if d is not None]
        lock = getattr(self.pipeline.registry, "index_lock", None) or contextlib.nullcontext()
        rows = []
        for i in range(0, len(declarations), ASSESS_SLICE):
            with lock:
                rows.extend(self.pipeline.prepare(declarations[i:i + ASSESS_SLICE]))
        return rows

    async def _store_stage(self, inp: asyncio.Queue, out: asyncio.Queue) -> None:
        while True:
            queued, started, n, offsets, rows = self._merge(await inp.get(), inp)
            t = time.perf_counter()
            STAGE_SECONDS.labels("queue_store").observe(t - queued)
            pending = await self._retry("store", len(rows), lambda: self.pipeline.store(rows)) if rows else []
            t2 = time.perf_counter()
            STAGE_SECONDS.labels("store").observe(t2 - t)
            await out.put((t2, started, n, offsets, pending))

    async def _deliver_stage(self, inp: asyncio.Queue) -> None:
        assert self._consumer is not None
        while True:
            queued, started, n, offsets, pending = self._merge(await inp.get(), inp)
            t = time.perf_counter()
            STAGE_SECONDS.labels("queue_deliver").observe(t - queued)
            if pending:
                await self._retry("deliver", len(pending), lambda: self.pipeline.deliver(pending))
            t2 = time.perf_counter()
            STAGE_SECONDS.labels("deliver").observe(t2 - t)
            try:
                await self._consumer.commit(offsets)
            except (CommitFailedError, IllegalStateError) as exc:
                # partitions moved to another member: it gets these records again, and skips what is stored
                log.warning("offset commit refused after a rebalance (%s); records will be redelivered", exc)
            CONSUMED.labels("risk", self.topic, "applied").inc(n)
            BATCH_SECONDS.observe(time.perf_counter() - started)

    @staticmethod
    def _merge(first: tuple, inp: asyncio.Queue) -> tuple:
        """Take every batch already waiting together with the first (group commit): under load the
        batches grow and the per-batch round trips are shared; when idle, nothing waits."""
        queued, started, n, offsets, rows = first
        offsets = dict(offsets)
        rows = list(rows)
        while not inp.empty():
            _q, _s, n2, offsets2, rows2 = inp.get_nowait()
            n += n2
            offsets.update(offsets2)  # later batches carry the higher offsets of a partition
            rows.extend(rows2)
        return queued, started, n, offsets, rows

    async def _flush_marks(self) -> None:
        try:
            await self.pipeline.flush_marks()
        except Exception as exc:  # noqa: BLE001
            log.warning("recording delivered assessments failed, will retry: %s", exc)

    @staticmethod
    async def _retry(what: str, size: int, step):  # noqa: ANN001, ANN205
        attempt = 0
        while True:
            attempt += 1
            try:
                return await step()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - database, broker or Temporal hiccup: retry, never skip
                delay = min(30.0, 0.2 * 2 ** min(attempt, 8)) * (0.5 + random.random())
                log.warning("retrying %s of %d assessments in %.1fs after %s: %s", what, size, delay,
                            type(exc).__name__, exc)
                await asyncio.sleep(delay)


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
        history.bump(*grown)

    return handle
