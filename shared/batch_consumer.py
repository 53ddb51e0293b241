"""A group consumer that applies records a batch at a time: one database transaction per batch.

For topics with many small records (one per parcel), a transaction per record would be a database
round trip per parcel. ``handle(records)`` applies a whole batch in one transaction and returns the
records to dead-letter, each with its reason; the offsets are committed after it returns. If a batch
keeps failing, it is applied one record at a time, so a record that can never be applied is
dead-lettered (to ``<topic>.dlq``) with the error and the others go on (at-least-once; the handler
must be idempotent). While a dependency (``health``) is down, a record is retried without limit:
an outage delays work but dead-letters none of it.

Like ``shared.kafka.EventConsumer`` it runs under a supervisor: if it stops for any other reason it
is built and started again with back-off, and ``/readyz`` names it meanwhile.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord

from shared.kafka import (
    CONSUMED,
    AckTimeout,
    HealthCheck,
    PositionWatch,
    all_healthy,
    commit_or_redeliver,
    dead_letter,
    group_consumer,
    record_where,
    start_client,
    stop_quietly,
)
from shared.settings import ServiceSettings
from shared.supervise import Backoff, Supervised, describe

log = logging.getLogger(__name__)

# records -> [(record, reason, details)] to dead-letter
BatchHandler = Callable[[list[ConsumerRecord]], Awaitable[list[tuple[ConsumerRecord, str, Any]]]]


class BatchConsumer:
    def __init__(
        self,
        *,
        settings: ServiceSettings,
        topic: str,
        group_id: str,
        handle: BatchHandler,
        producer: AIOKafkaProducer,
        health: list[HealthCheck] | None = None,
        max_records: int = 500,
        attempts_before_split: int = 3,
        max_attempts: int = 8,
    ) -> None:
        self.settings = settings
        self.topic = topic
        self.group_id = group_id
        self.handle = handle
        self.producer = producer
        self.health = health or []
        self.max_records = max_records
        self.attempts_before_split = attempts_before_split
        self.max_attempts = max_attempts
        self.service = settings.service_name
        self.watch = PositionWatch(self.service, group_id)
        self.supervised = Supervised(group_id, self._consume, service=self.service, kind="consumer")

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
        consumer = group_consumer(
            self.settings, self.topic, group_id=self.group_id, max_partition_fetch_bytes=4 * 1024 * 1024
        )
        await start_client(consumer, what=f"consumer {self.group_id}")
        try:
            up()
            while True:
                await self._poll(consumer)
        finally:
            self.watch.clear()
            await stop_quietly(consumer)

    async def _poll(self, consumer: AIOKafkaConsumer) -> None:
        batches = await consumer.getmany(timeout_ms=500, max_records=self.max_records)
        records = [r for recs in batches.values() for r in recs]
        if records:
            await self._apply(records)
            await commit_or_redeliver(
                consumer,
                {tp: recs[-1].offset + 1 for tp, recs in batches.items()},
                service=self.service,
                group=self.group_id,
            )
        await self.watch.check(consumer)

    async def _apply(self, records: list[ConsumerRecord]) -> None:
        backoff = Backoff(initial=0.2, cap=30.0)
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
                    log.warning(
                        "%s: batch of %d failed %d times (%s); applying its records one by one",
                        self.group_id,
                        len(records),
                        attempt,
                        describe(exc),
                    )
                    for record in records:
                        await self._apply([record])
                    return
                # A send the broker never acknowledged is the broker's fault, not the record's: never dead-lettered.
                if (
                    len(records) == 1
                    and attempt >= self.max_attempts
                    and not isinstance(exc, AckTimeout)
                    and await all_healthy(self.health)
                ):
                    log.error(
                        "%s: giving up on %s after %d attempts: %s",
                        self.group_id,
                        record_where(records[0]),
                        attempt,
                        describe(exc),
                        exc_info=exc,
                    )
                    dead = [
                        (records[0], f"failed after {attempt} attempts: {describe(exc)}", {"error": type(exc).__name__})
                    ]
                    break
                delay = backoff.next_delay()
                log.warning(
                    "%s: applying %d records failed (attempt %d), retrying in %.1fs: %s",
                    self.group_id,
                    len(records),
                    attempt,
                    delay,
                    describe(exc),
                )
                await asyncio.sleep(delay)
        for record, reason, details in dead:
            await dead_letter(
                self.producer,
                record,
                service=self.service,
                consumer=f"{self.service}/{self.group_id}",
                reason=reason,
                details=details,
            )
        CONSUMED.labels(self.service, self.topic, "applied").inc(len(records) - len(dead))
        CONSUMED.labels(self.service, self.topic, "dead_lettered").inc(len(dead))
