"""Kafka helpers over aiokafka: producer, topic set-up, a commit-after-apply consumer, the outbox relay.

Delivery is at-least-once everywhere; consumers are idempotent (they record applied
event ids in their own database), so every event takes effect exactly once. Offsets
are committed only after the database transaction that applied the batch.

Every record the platform publishes carries the CloudEvents attributes as Kafka headers (binary
content mode: ``ce_specversion``, ``ce_id``, ``ce_source``, ``ce_type``, ``ce_time``, ``content-type``;
see ``shared.contracts.topics``). Readers never require them.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from collections.abc import Awaitable, Callable
from datetime import datetime, timezone
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError
from prometheus_client import Counter
from sqlalchemy import Table, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.contracts.events import EventEnvelope, deterministic_event_id
from shared.contracts.topics import (
    DeadLetterSourceV1,
    DeadLetterV1,
    KafkaHeaders,
    ce_source,
    cloudevent_headers,
    default_ce_type,
    read_cloudevent,
    with_cloudevent_headers,
)

log = logging.getLogger(__name__)

CONSUMED = Counter("ipr_kafka_consumed_total", "Records consumed", ["service", "topic", "outcome"])
PRODUCED = Counter("ipr_kafka_produced_total", "Records produced", ["service", "topic"])
DEAD_LETTERED = Counter("ipr_kafka_dead_lettered_total", "Records sent to a dead-letter topic", ["service", "topic"])


class PoisonMessage(Exception):
    """The record can never be applied (unparseable, contract violation): dead-letter it with the reason."""

    def __init__(self, reason: str, details: Any = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.details = details


def dumps(obj: Any) -> bytes:
    return json.dumps(obj, separators=(",", ":"), default=str).encode()


class CloudEventsProducer(AIOKafkaProducer):
    """An ``AIOKafkaProducer`` that completes the CloudEvents headers of records sent with only the older
    ``event_id``/``event_type`` headers (the time is the time of sending). Records with ``ce_id``, or that
    name no event, are sent as they are."""

    def __init__(self, *, source: str, **config: Any) -> None:
        super().__init__(**config)
        self.ce_source = ce_source(source)

    async def send(self, topic: str, value: Any = None, key: Any = None, partition: Any = None,
                   timestamp_ms: Any = None, headers: KafkaHeaders | None = None) -> Any:
        headers = with_cloudevent_headers(headers, source=self.ce_source, time=datetime.now(timezone.utc))
        return await super().send(topic, value=value, key=key, partition=partition, timestamp_ms=timestamp_ms,
                                  headers=headers)


def make_producer(settings) -> AIOKafkaProducer:  # noqa: ANN001
    return CloudEventsProducer(
        source=settings.service_name,
        bootstrap_servers=settings.kafka_bootstrap_servers,
        acks="all",
        enable_idempotence=settings.kafka_enable_idempotence,
        linger_ms=5,
        max_batch_size=262_144,
        request_timeout_ms=15_000,
        client_id=settings.service_name,
    )


async def ensure_topics(bootstrap: str, topics: tuple[str, ...] | list[str], *, partitions: int = 3) -> None:
    """Create the platform's topics if they are missing (harmless when they exist)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [NewTopic(t, num_partitions=partitions, replication_factor=1) for t in topics if t not in existing]
        if missing:
            try:
                await admin.create_topics(missing)
            except TopicAlreadyExistsError:
                pass
    finally:
        await admin.close()


async def publish(producer: AIOKafkaProducer, service: str, topic: str, key: str, envelope: EventEnvelope) -> None:
    """Publish one envelope and wait for the broker's acknowledgement."""
    await producer.send_and_wait(
        topic,
        value=envelope.model_dump_json().encode(),
        key=key.encode(),
        headers=cloudevent_headers(event_id=str(envelope.event_id), event_type=envelope.event_type,
                                   source=ce_source(envelope.producer or service), time=envelope.occurred_at),
    )
    PRODUCED.labels(service, topic).inc()


async def check_broker(producer: AIOKafkaProducer) -> None:
    """Readiness probe: the broker answers a metadata request."""
    await asyncio.wait_for(producer.client.force_metadata_update(), timeout=3)
    if not producer.client.cluster.brokers():
        raise RuntimeError("no broker in cluster metadata")


Handler = Callable[[ConsumerRecord], Awaitable[None]]


class EventConsumer:
    """A group consumer that applies records one by one and commits each partition's offset afterwards.

    ``handler`` must be idempotent (dedupe on an event id in the same transaction as its
    effect). ``PoisonMessage`` sends the record to ``dlq_topic`` with the reason and moves
    on; any other error is retried with back-off and the offset is not committed, so a
    database or Temporal outage delays work but loses none.
    """

    def __init__(
        self,
        *,
        settings,  # noqa: ANN001
        topics: list[str],
        group_id: str,
        handler: Handler,
        producer: AIOKafkaProducer,
        dlq_topic: str | None = None,
        max_attempts: int = 8,
    ) -> None:
        self.settings = settings
        self.topics = topics
        self.group_id = group_id
        self.handler = handler
        self.producer = producer
        self.dlq_topic = dlq_topic
        self.max_attempts = max_attempts
        self._consumer: AIOKafkaConsumer | None = None
        self._task: asyncio.Task | None = None
        self._stopping = asyncio.Event()
        self.service = settings.service_name

    async def start(self) -> None:
        self._consumer = AIOKafkaConsumer(
            *self.topics,
            bootstrap_servers=self.settings.kafka_bootstrap_servers,
            group_id=self.group_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            session_timeout_ms=self.settings.kafka_session_timeout_ms,
            heartbeat_interval_ms=self.settings.kafka_heartbeat_interval_ms,
            max_poll_interval_ms=300_000,
            client_id=f"{self.service}-{self.group_id}",
        )
        await self._consumer.start()
        self._task = asyncio.create_task(self._run(), name=f"consumer-{self.group_id}")

    async def stop(self) -> None:
        self._stopping.set()
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
        while not self._stopping.is_set():
            batches = await self._consumer.getmany(timeout_ms=500, max_records=200)
            for tp, records in batches.items():
                for record in records:
                    await self._apply(record)
                await self._consumer.commit({tp: records[-1].offset + 1})

    async def _apply(self, record: ConsumerRecord) -> None:
        attempt = 0
        while True:
            attempt += 1
            try:
                await self.handler(record)
                CONSUMED.labels(self.service, record.topic, "applied").inc()
                return
            except PoisonMessage as exc:
                await self._dead_letter(record, exc.reason, exc.details)
                CONSUMED.labels(self.service, record.topic, "dead_lettered").inc()
                return
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - anything else is retried
                if attempt >= self.max_attempts and self.dlq_topic:
                    log.exception("giving up on %s@%s/%s", record.topic, record.partition, record.offset)
                    await self._dead_letter(record, f"failed after {attempt} attempts: {type(exc).__name__}: {exc}")
                    CONSUMED.labels(self.service, record.topic, "dead_lettered").inc()
                    return
                delay = min(30.0, 0.2 * 2 ** min(attempt, 8)) * (0.5 + random.random())
                log.warning(
                    "retrying %s@%s/%s in %.1fs after %s: %s",
                    record.topic, record.partition, record.offset, delay, type(exc).__name__, exc,
                )
                await asyncio.sleep(delay)

    async def _dead_letter(self, record: ConsumerRecord, reason: str, details: Any = None) -> None:
        if not self.dlq_topic:
            log.warning("dropping unusable record %s@%s/%s: %s", record.topic, record.partition, record.offset, reason)
            return
        raw = record.value or b""
        now = datetime.now(timezone.utc)
        letter = DeadLetterV1(
            reason=reason,
            details=None,
            source=DeadLetterSourceV1(topic=record.topic, partition=record.partition, offset=record.offset),
            key=record.key.decode(errors="replace") if record.key else None,
            consumer=f"{self.service}/{self.group_id}",
            dead_lettered_at=now,
            raw=raw.decode(errors="replace")[:100_000],
            cloudevent=read_cloudevent(record.headers),
        )
        body = letter.model_dump(mode="json") | {"details": details}
        event_id = str(deterministic_event_id("dead-letter", record.topic, record.partition, record.offset))
        await self.producer.send_and_wait(
            self.dlq_topic, value=dumps(body), key=record.key,
            headers=cloudevent_headers(event_id=event_id, event_type=default_ce_type(self.dlq_topic),
                                       source=ce_source(self.service), time=now))
        DEAD_LETTERED.labels(self.service, self.dlq_topic).inc()
        log.warning("dead-lettered %s@%s/%s: %s", record.topic, record.partition, record.offset, reason)


class OutboxRelay:
    """Publishes rows of a service's outbox table in order, then marks them published."""

    def __init__(
        self,
        *,
        sessionmaker: async_sessionmaker[AsyncSession],
        outbox: Table,
        producer: AIOKafkaProducer,
        service: str,
        interval: float = 0.5,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.outbox = outbox
        self.producer = producer
        self.service = service
        self.interval = interval
        self._kick = asyncio.Event()
        self._task: asyncio.Task | None = None

    def kick(self) -> None:
        """Wake the relay now (called after a commit that wrote to the outbox)."""
        self._kick.set()

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"outbox-{self.service}")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            try:
                await self._task
            except (asyncio.CancelledError, Exception):  # noqa: BLE001
                pass

    async def _run(self) -> None:
        while True:
            try:
                while await self.flush() > 0:
                    pass
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - broker or DB hiccup: try again shortly
                log.exception("outbox relay failed; will retry")
            try:
                await asyncio.wait_for(self._kick.wait(), timeout=self.interval)
            except asyncio.TimeoutError:
                pass
            self._kick.clear()

    def _headers(self, row: Any) -> KafkaHeaders:
        """CloudEvents headers of an outbox row: from its envelope, or for a contract published as-is
        (no envelope) the topic's event type and the time the row was written."""
        value = row.envelope
        if isinstance(value, dict) and isinstance(value.get("event_type"), str):
            return cloudevent_headers(event_id=row.event_id, event_type=value["event_type"],
                                      source=ce_source(str(value.get("producer") or self.service)),
                                      time=str(value.get("occurred_at") or row.created_at.isoformat()))
        return cloudevent_headers(event_id=row.event_id, event_type=default_ce_type(row.topic),
                                  source=ce_source(self.service), time=row.created_at)

    async def flush(self, limit: int = 500) -> int:
        """Publish up to ``limit`` pending rows; returns how many were published."""
        o = self.outbox
        async with self.sessionmaker() as session, session.begin():
            rows = (
                await session.execute(
                    select(o.c.id, o.c.topic, o.c.key, o.c.envelope, o.c.event_id, o.c.created_at)
                    .where(o.c.published_at.is_(None))
                    .order_by(o.c.id)
                    .limit(limit)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            if not rows:
                return 0
            futures = []
            for row in rows:
                futures.append(
                    await self.producer.send(
                        row.topic,
                        value=dumps(row.envelope),
                        key=row.key.encode(),
                        headers=self._headers(row),
                    )
                )
            await asyncio.gather(*futures)
            for row in rows:
                PRODUCED.labels(self.service, row.topic).inc()
            await session.execute(
                update(o).where(o.c.id.in_([r.id for r in rows])).values(published_at=datetime.now(timezone.utc))
            )
        return len(rows)


async def add_to_outbox(session: AsyncSession, outbox: Table, *, topic: str, key: str, envelope: EventEnvelope) -> None:
    """Queue an event in the caller's transaction; it leaves only if that transaction commits."""
    await add_raw_to_outbox(session, outbox, topic=topic, key=key, event_id=str(envelope.event_id),
                            value=json.loads(envelope.model_dump_json()))


async def add_raw_to_outbox(
    session: AsyncSession, outbox: Table, *, topic: str, key: str, event_id: str, value: Any
) -> None:
    """Queue any JSON value (e.g. a contract published as-is) in the caller's transaction."""
    await session.execute(outbox.insert().values(event_id=event_id, topic=topic, key=key, envelope=value))


def consumers_ready(consumers: list[EventConsumer]) -> list[Callable[[], Awaitable[None]]]:
    """Readiness check: every consumer task of the service is still running."""

    async def consumers_running() -> None:
        stopped = [c.group_id for c in consumers if not c.running]
        if stopped:
            raise RuntimeError(f"consumer stopped: {', '.join(stopped)}")

    return [consumers_running]
