"""Kafka consumers of the risk service.

* ``customs.declarations.v1``: every declaration revision is assessed once, in batches
  (``DeclarationBatchConsumer``: ``AssessmentPipeline.assess_rules`` and ``rows``, ``store``, ``deliver``).
  Offsets are committed only after the batch's assessments are stored, its cases started and its
  assessments published. Records that are not declarations are
  left to intake, which dead-letters them with the reason; here they are counted and skipped. A
  declaration that cannot be assessed is dead-lettered here, with the reason.
* ``cases.events.v1``: case outcomes per trader (consignor, consignee), applied once per event id.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord
from prometheus_client import Counter
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.risk.history import TraderHistory
from services.risk.learning import labels
from services.risk.metrics import BATCH_SECONDS, STAGE_SECONDS
from services.risk.parcels import ParcelConsignment
from services.risk.pipeline import AssessmentPipeline
from services.risk.settings import Settings
from shared.contracts.declaration import DeclarationV1
from shared.contracts.events import CaseEventV1, EventEnvelope, deterministic_event_id
from shared.kafka import (
    CONSUMED,
    HealthCheck,
    PoisonMessage,
    PositionWatch,
    all_healthy,
    commit_or_redeliver,
    dead_letter,
    group_consumer,
    record_where,
    start_client,
    stop_quietly,
)
from shared.supervise import Backoff, Supervised, describe

log = logging.getLogger(__name__)
Parser = Callable[[ConsumerRecord], DeclarationV1 | ParcelConsignment | None]  # None: not ours, skip
Step = Callable[[list], Awaitable[list | None]]  # a stage of the pipeline over rows
ASSESS_SLICE = 25  # declarations assessed under one hold of the index lock (a few milliseconds)
SKIPPED = Counter("ipr_risk_skipped_records_total", "Records on the declarations topic that are not valid declarations")


def parse(record: ConsumerRecord) -> DeclarationV1 | None:
    try:
        return DeclarationV1.model_validate_json(record.value or b"")
    except ValidationError:
        SKIPPED.inc()
        log.info(
            "skipping invalid declaration record at %s/%s (intake dead-letters it)", record.partition, record.offset
        )
        return None


def is_republication(record: ConsumerRecord, declaration_id: str, revision: int) -> bool:
    """Intake publishes a revision again (reconciliation) under an event id of its own, not the revision's first."""
    event_id = dict(record.headers or ()).get("event_id")
    first = str(deterministic_event_id("declaration", declaration_id, revision)).encode()
    return event_id is not None and event_id != first


def _key(item: DeclarationV1 | ParcelConsignment) -> tuple[str, int]:
    d = item.declaration if isinstance(item, ParcelConsignment) else item
    return d.declaration_id, d.revision


class DeclarationBatchConsumer:
    """Group consumer that assesses declarations (or parcels of manifests) in batches, as a three-stage pipeline.

    fetch + parse + assess (CPU) -> store (one transaction) -> start cases + publish -> commit offsets.
    While one batch waits for the database or the broker, the next is being assessed; offsets are
    committed strictly in order and only after their batch was stored and delivered.

    A declaration that cannot be assessed goes to ``customs.declarations.v1.dlq`` with the reason and
    the others go on. A failing store or publish is retried with back-off (never skipped) while the
    database or the broker is away; if it keeps failing while both answer, the batch is split and
    the declarations that fail on their own are dead-lettered. Anything else that stops a stage
    stops the consumer, and its supervisor builds and starts it again (the uncommitted batches are
    delivered again and skipped where already stored); ``/readyz`` names it meanwhile.
    """

    def __init__(
        self,
        *,
        settings: Settings,
        topic: str,
        group_id: str,
        pipeline: AssessmentPipeline,
        parser: Parser | None = None,
        producer: AIOKafkaProducer | None = None,
        health: list[HealthCheck] | None = None,
        max_attempts: int = 5,
    ) -> None:
        self.settings = settings
        # Parsing and scoring (CPU) run in a thread of their own, so the event loop goes on storing,
        # publishing, fetching and answering HTTP while a batch is assessed.
        self._executor: ThreadPoolExecutor | None = None
        self.topic = topic
        self.group_id = group_id
        self.pipeline = pipeline
        self.parse = parser or parse
        self.producer = producer or pipeline.producer
        self.health = health or []
        self.max_attempts = max_attempts
        self.service = settings.service_name
        self.watch = PositionWatch(self.service, group_id)
        self.supervised = Supervised(group_id, self._consume, service=self.service, kind="consumer")
        self._consumer: AIOKafkaConsumer | None = None

    async def start(self) -> None:
        self.supervised.start()

    async def stop(self) -> None:
        await self.supervised.stop()

    @property
    def running(self) -> bool:
        return self.supervised.running

    def check(self) -> HealthCheck:
        return self.supervised.check()

    async def _consume(self, up: Callable[[], None]) -> None:
        s = self.settings
        consumer = group_consumer(
            s,
            self.topic,
            group_id=self.group_id,
            fetch_max_wait_ms=s.consumer_fetch_max_wait_ms,
            max_partition_fetch_bytes=4 * 1024 * 1024,
        )
        await start_client(consumer, what=f"consumer {self.group_id}")
        self._consumer = consumer
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"{self.group_id}-assess")
        to_store: asyncio.Queue = asyncio.Queue(maxsize=8)
        to_deliver: asyncio.Queue = asyncio.Queue(maxsize=8)
        tasks = [
            asyncio.create_task(self._assess_stage(to_store), name=f"{self.group_id}-assess"),
            asyncio.create_task(self._store_stage(to_store, to_deliver), name=f"{self.group_id}-store"),
            asyncio.create_task(self._deliver_stage(to_deliver), name=f"{self.group_id}-deliver"),
        ]
        try:
            up()
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                task.result()  # raises what stopped the stage
            raise RuntimeError(f"stage {next(iter(done)).get_name()} ended")
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                try:
                    await task
                except (asyncio.CancelledError, Exception):  # noqa: BLE001
                    pass
            try:
                await self.pipeline.flush_marks()
            except Exception:  # noqa: BLE001 - marks are bookkeeping; redelivery is harmless
                log.warning("could not record the last delivered assessments")
            self.watch.clear()
            self._consumer = None
            await stop_quietly(consumer)
            if self._executor is not None:
                # a batch still being assessed is dropped: nothing of it was stored, its records come again
                self._executor.shutdown(wait=False, cancel_futures=True)
                self._executor = None

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
        await self.watch.check(self._consumer)
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
            rows, sources, failed = await asyncio.get_running_loop().run_in_executor(
                self._executor, self._assess, records
            )
            for record, exc in failed:
                log.error("%s: cannot assess %s: %s", self.group_id, record_where(record), describe(exc), exc_info=exc)
                await self._dead_letter(record, f"assessment_failed: {describe(exc)}")
            for row in rows:
                record = sources.get(row.key)
                if record is not None and self.parse is parse:  # declarations only: intake republishes them
                    row.republication = is_republication(record, row.declaration_id, row.revision)
            offsets = {tp: recs[-1].offset + 1 for tp, recs in batches.items()}
            t = time.perf_counter()
            STAGE_SECONDS.labels("assess").observe(t - started)
            await out.put((t, started, len(records), offsets, rows, sources))
            await asyncio.sleep(0)  # let the other stages move between two CPU-bound batches

    def _assess(self, records: list[ConsumerRecord]) -> tuple[list, dict, list]:
        """In the assessment thread: parse, and assess by the rules in slices under the index's lock (a registry
        change is taken in between two slices); then the model and the rows for the whole batch at once (one
        vectorised call). A slice that fails is assessed item by item, and so is a batch whose rows fail; the
        records that fail on their own are returned to be dead-lettered."""
        parsed = [(r, d) for r, d in ((r, self.parse(r)) for r in records) if d is not None]
        sources = {_key(d): r for r, d in parsed}
        lock = getattr(self.pipeline.registry, "index_lock", None) or contextlib.nullcontext()
        done: list = []
        assessed: list = []  # (record, item) of what ``done`` holds
        failed: list = []
        for i in range(0, len(parsed), ASSESS_SLICE):
            part = parsed[i : i + ASSESS_SLICE]
            with lock:
                try:
                    done.extend(self.pipeline.assess_rules([d for _, d in part]))
                    assessed.extend(part)
                    continue
                except Exception:  # noqa: BLE001 - find the item that cannot be assessed
                    pass
                for record, item in part:
                    try:
                        done.extend(self.pipeline.assess_rules([item]))
                        assessed.append((record, item))
                    except Exception as exc:  # noqa: BLE001
                        failed.append((record, exc))
        with lock:
            try:
                return self.pipeline.rows(done), sources, failed
            except Exception:  # noqa: BLE001 - find the item whose row cannot be made
                log.warning("%s: the rows of a batch of %d failed; making them one by one", self.group_id, len(done))
        rows: list = []
        for record, item in assessed:  # from the start: the failed call may have scored some lines already
            with lock:
                try:
                    rows.extend(self.pipeline.prepare([item]))
                except Exception as exc:  # noqa: BLE001
                    failed.append((record, exc))
        return rows, sources, failed

    async def _store_stage(self, inp: asyncio.Queue, out: asyncio.Queue) -> None:
        while True:
            queued, started, n, offsets, rows, sources = self._merge(await inp.get(), inp)
            t = time.perf_counter()
            STAGE_SECONDS.labels("queue_store").observe(t - queued)
            pending = await self._retry("store", rows, self.pipeline.store, sources) if rows else []
            t2 = time.perf_counter()
            STAGE_SECONDS.labels("store").observe(t2 - t)
            await out.put((t2, started, n, offsets, pending, sources))

    async def _deliver_stage(self, inp: asyncio.Queue) -> None:
        while True:
            queued, started, n, offsets, pending, sources = self._merge(await inp.get(), inp)
            t = time.perf_counter()
            STAGE_SECONDS.labels("queue_deliver").observe(t - queued)
            if pending:
                await self._retry("deliver", pending, self.pipeline.deliver, sources)
            t2 = time.perf_counter()
            STAGE_SECONDS.labels("deliver").observe(t2 - t)
            assert self._consumer is not None
            await commit_or_redeliver(self._consumer, offsets, service=self.service, group=self.group_id)
            CONSUMED.labels("risk", self.topic, "applied").inc(n)
            BATCH_SECONDS.observe(time.perf_counter() - started)

    @staticmethod
    def _merge(first: tuple, inp: asyncio.Queue) -> tuple:
        """Take every batch already waiting together with the first (group commit): under load the
        batches grow and the per-batch round trips are shared; when idle, nothing waits."""
        queued, started, n, offsets, rows, sources = first
        offsets = dict(offsets)
        rows = list(rows)
        sources = dict(sources)
        while not inp.empty():
            _q, _s, n2, offsets2, rows2, sources2 = inp.get_nowait()
            n += n2
            offsets.update(offsets2)  # later batches carry the higher offsets of a partition
            rows.extend(rows2)
            sources.update(sources2)
        return queued, started, n, offsets, rows, sources

    async def _flush_marks(self) -> None:
        try:
            await self.pipeline.flush_marks()
        except Exception as exc:  # noqa: BLE001
            log.warning("recording delivered assessments failed, will retry: %s", exc)

    async def _retry(self, what: str, rows: list, step: Step, sources: dict) -> list:
        """Run ``step(rows)`` until it succeeds. After ``max_attempts`` failures while the database and the
        broker answer, run it row by row and dead-letter the rows that fail on their own."""
        backoff = Backoff(initial=0.2, cap=30.0)
        failures = 0
        while True:
            try:
                return await step(rows) or []
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - database, broker or Temporal hiccup: retry, never skip
                failures += 1
                if failures >= self.max_attempts and await all_healthy(self.health):
                    log.error(
                        "%s of %d assessments failed %d times while the database and the broker answer; "
                        "trying them one by one: %s",
                        what,
                        len(rows),
                        failures,
                        describe(exc),
                    )
                    return await self._one_by_one(what, rows, step, sources)
                delay = backoff.next_delay()
                log.warning("retrying %s of %d assessments in %.1fs after %s", what, len(rows), delay, describe(exc))
                await asyncio.sleep(delay)

    async def _one_by_one(self, what: str, rows: list, step: Step, sources: dict) -> list:
        results: list = []
        for row in rows:
            try:
                results.extend(await step([row]) or [])
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001
                if not await all_healthy(self.health):
                    raise  # an outage after all: the consumer starts again and the batch comes again
                record = sources.get(row.key)
                log.error(
                    "%s: %s of %s r%s failed on its own: %s",
                    self.group_id,
                    what,
                    row.declaration_id,
                    row.revision,
                    describe(exc),
                    exc_info=exc,
                )
                if record is not None:
                    await self._dead_letter(record, f"{what}_failed: {describe(exc)}")
        return results

    async def _dead_letter(self, record: ConsumerRecord, reason: str) -> None:
        await dead_letter(
            self.producer, record, service=self.service, consumer=f"{self.service}/{self.group_id}", reason=reason
        )
        CONSUMED.labels(self.service, record.topic, "dead_lettered").inc()


def case_events_handler(
    sessionmaker: async_sessionmaker[AsyncSession], history: TraderHistory
) -> Callable[[ConsumerRecord], Awaitable[None]]:
    """Keep each case's outcome per trader, once per event id."""

    async def handle(record: ConsumerRecord) -> None:
        try:
            envelope = EventEnvelope.model_validate_json(record.value or b"")
            event = CaseEventV1.model_validate(envelope.payload)
        except ValidationError as exc:
            raise PoisonMessage("unreadable case event", str(exc)) from exc
        async with sessionmaker() as session, session.begin():
            grown = await history.apply(session, event_id=str(envelope.event_id), topic=record.topic, event=event)
            await labels.apply_case_event(session, event_id=str(envelope.event_id), event=event)  # learning
        history.bump(*grown)

    return handle
