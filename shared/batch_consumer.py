"""A group consumer that applies records a batch at a time: one database transaction per batch.

For topics with many small records (one per parcel), a transaction per record would be a database
round trip per parcel. ``handle(records)`` applies a whole batch in one transaction and returns the
records to dead-letter, each with its reason; the offsets are committed after it returns. If a batch
keeps failing, it is applied one record at a time, so a record that can never be applied is
dead-lettered with the error and the others go on (at-least-once; the handler must be idempotent).
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from datetime import datetime, timezone
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord
from aiokafka.errors import CommitFailedError, IllegalStateError

from shared.kafka import CONSUMED, DEAD_LETTERED, dumps

log = logging.getLogger(__name__)

# records -> [(record, reason, details)] to dead-letter
BatchHandler = Callable[[list[ConsumerRecord]], Awaitable[list[tuple[ConsumerRecord, str, Any]]]]


class BatchConsumer:
    def __init__(self, *, settings, topic: str, group_id: str, handle: BatchHandler,  # noqa: ANN001
                 producer: AIOKafkaProducer, dlq_topic: str | None, max_records: int = 500,
                 attempts_before_split: int = 3, max_attempts: int = 8) -> None:
        self.settings = settings
        self.topic = topic
        self.group_id = group_id
        self.handle = handle
        self.producer = producer
        self.dlq_topic = dlq_topic
        self.max_records = max_records
        self.attempts_before_split = attempts_before_split
        self.max_attempts = max_attempts
        self.service = settings.service_name
        self._consumer: AIOKafkaConsumer | None = None
        self._task: asyncio.Task | None = None

    async def start(self) -> None:
        s = self.settings
        self._consumer = AIOKafkaConsumer(
            self.topic, bootstrap_servers=s.kafka_bootstrap_servers, group_id=self.group_id,
            enable_auto_commit=False, auto_offset_reset="earliest", session_timeout_ms=s.kafka_session_timeout_ms,
            heartbeat_interval_ms=s.kafka_heartbeat_interval_ms, max_poll_interval_ms=300_000,
            max_partition_fetch_bytes=4 * 1024 * 1024, client_id=f"{self.service}-{self.group_id}")
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
            batches = await self._consumer.getmany(timeout_ms=500, max_records=self.max_records)
            records = [r for recs in batches.values() for r in recs]
            if not records:
                continue
            await self._apply(records)
            try:
                await self._consumer.commit({tp: recs[-1].offset + 1 for tp, recs in batches.items()})
            except (CommitFailedError, IllegalStateError) as exc:
                log.warning("%s: offset commit refused after a rebalance (%s); records will be redelivered",
                            self.group_id, exc)

    async def _apply(self, records: list[ConsumerRecord]) -> None:
        attempt = 0
        while True:
            attempt += 1
            try:
                dead = await self.handle(records)
                break
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - database hiccup or one bad record: retry, then split
                if len(records) > 1 and attempt >= self.attempts_before_split:
                    log.warning("%s: batch of %d failed %d times (%s: %s); applying its records one by one",
                                self.group_id, len(records), attempt, type(exc).__name__, exc)
                    for record in records:
                        await self._apply_one(record)
                    return
                if len(records) == 1 and attempt >= self.max_attempts and self.dlq_topic:
                    log.exception("%s: giving up on %s/%s@%s", self.group_id, records[0].topic,
                                  records[0].partition, records[0].offset)
                    dead = [(records[0], f"failed after {attempt} attempts: {type(exc).__name__}: {exc}", None)]
                    break
                delay = min(30.0, 0.2 * 2 ** min(attempt, 8)) * (0.5 + random.random())
                log.warning("%s: applying %d records failed (attempt %d), retrying in %.1fs: %s: %s",
                            self.group_id, len(records), attempt, delay, type(exc).__name__, exc)
                await asyncio.sleep(delay)
        for record, reason, details in dead:
            await self._dead_letter(record, reason, details)
        CONSUMED.labels(self.service, self.topic, "applied").inc(len(records) - len(dead))
        CONSUMED.labels(self.service, self.topic, "dead_lettered").inc(len(dead))

    async def _apply_one(self, record: ConsumerRecord) -> None:
        await self._apply([record])

    async def _dead_letter(self, record: ConsumerRecord, reason: str, details: Any = None) -> None:
        if not self.dlq_topic:
            log.warning("dropping unusable record %s@%s/%s: %s", record.topic, record.partition, record.offset,
                        reason)
            return
        raw = record.value or b""
        body = {
            "reason": reason, "details": details,
            "source": {"topic": record.topic, "partition": record.partition, "offset": record.offset},
            "key": record.key.decode(errors="replace") if record.key else None,
            "consumer": f"{self.service}/{self.group_id}", "dead_lettered_at": datetime.now(timezone.utc).isoformat(),
            "raw": raw.decode(errors="replace")[:100_000],
        }
        await self.producer.send_and_wait(self.dlq_topic, value=dumps(body), key=record.key)
        DEAD_LETTERED.labels(self.service, self.dlq_topic).inc()
        log.warning("dead-lettered %s@%s/%s: %s", record.topic, record.partition, record.offset, reason)
