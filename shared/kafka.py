"""Kafka helpers over aiokafka: producer, topic set-up, a commit-after-apply consumer, the outbox relay.

Delivery is at-least-once everywhere; consumers are idempotent (they record applied
event ids in their own database), so every event takes effect exactly once. Offsets
are committed only after the database transaction that applied the batch.

Every record the platform publishes carries the CloudEvents attributes as Kafka headers (binary
content mode: ``ce_specversion``, ``ce_id``, ``ce_source``, ``ce_type``, ``ce_time``, ``content-type``;
see ``shared.contracts.topics``). Readers never require them.
Nothing stops the line: a record that cannot be applied goes to its topic's dead-letter
topic with the reason and the consumer moves on; a consumer or relay that stops for any
other reason (broker restart, rebalance, a bug) is started again by its supervisor
(``shared.supervise``), and ``/readyz`` names it while it is down. A committed offset
beyond the end of the log (a broker that lost data) is reset to the beginning: records
are read again, never skipped. The outbox relay reads back what it published and
publishes again what the broker no longer has.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol, TypeVar

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import CommitFailedError, IllegalStateError, OffsetOutOfRangeError, TopicAlreadyExistsError
from aiokafka.structs import RecordMetadata
from prometheus_client import Counter, Gauge
from sqlalchemy import Row, Table, and_, bindparam, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.sql.elements import BindParameter, ColumnElement

from shared.contracts.events import EventEnvelope, deterministic_event_id, dlq_topic_for
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
from shared.settings import ServiceSettings
from shared.supervise import Backoff, Supervised, describe, retry

log = logging.getLogger(__name__)
T = TypeVar("T")

CONSUMED = Counter("ipr_kafka_consumed_total", "Records consumed", ["service", "topic", "outcome"])
PRODUCED = Counter("ipr_kafka_produced_total", "Records produced", ["service", "topic"])
DEAD_LETTERED = Counter("ipr_kafka_dead_lettered_total", "Records sent to a dead-letter topic", ["service", "topic"])
HANDLER_ERRORS = Counter(
    "ipr_kafka_handler_errors_total", "Failed attempts to apply a consumed record", ["service", "group", "topic"]
)
CONSUMER_LAG = Gauge(
    "ipr_kafka_consumer_lag",
    "Records between a consumer's position and the end of the log",
    ["service", "group", "topic", "partition"],
)
CONSUMER_ASSIGNED = Gauge(
    "ipr_kafka_consumer_assigned_partitions", "Partitions assigned to a consumer", ["service", "group"]
)
CONSUMER_LAST_POLL = Gauge(
    "ipr_kafka_consumer_last_poll_timestamp_seconds",
    "When a consumer last received an answer to a fetch (Unix time)",
    ["service", "group"],
)
OFFSET_RESETS = Counter(
    "ipr_kafka_offset_resets_total",
    "Partitions whose position lay beyond the end of the log and were read again from the beginning",
    ["service", "group", "topic"],
)
COMMIT_FAILURES = Counter(
    "ipr_kafka_commit_failures_total",
    "Offset commits refused after a rebalance (the records are delivered again)",
    ["service", "group"],
)
BROKER_UP = Gauge("ipr_kafka_broker_up", "1 while the broker answers this service's metadata requests", ["service"])
OUTBOX_PENDING = Gauge("ipr_outbox_pending", "Outbox rows not yet published", ["service"])
OUTBOX_OLDEST = Gauge(
    "ipr_outbox_oldest_pending_seconds", "Age of the oldest unpublished outbox row (0 when none)", ["service"]
)
OUTBOX_REPUBLISHED = Counter(
    "ipr_outbox_republished_total",
    "Published outbox rows the broker no longer had, queued to be published again",
    ["service", "topic"],
)
OUTBOX_VERIFIED = Counter(
    "ipr_outbox_verified_total", "Published outbox rows read back from the broker", ["service", "topic"]
)
OUTBOX_ERRORS = Counter(
    "ipr_outbox_publish_errors_total", "Outbox relay passes that failed (broker or database away)", ["service"]
)
ACK_TIMEOUTS = Counter(
    "ipr_kafka_ack_timeouts_total",
    "Sends whose acknowledgement did not come within the bound (sent again)",
    ["service"],
)

# How long a send may wait for the broker's acknowledgement. The producer's own request timeout (15 s) ends
# most failures sooner; this bound is for the send whose future is never resolved (aiokafka can leave one
# pending when the broker dies mid-request), which would otherwise hold a relay, and its outbox rows, forever.
ACK_TIMEOUT_S = 45.0


class AckTimeout(Exception):
    """The broker did not acknowledge sent records in time; they are sent again (consumers drop duplicates)."""


async def acknowledged(
    futures: Sequence[Awaitable[T]], *, service: str, what: str, ack_timeout_s: float = ACK_TIMEOUT_S
) -> list[T]:
    """The broker's acknowledgements of ``futures`` (from ``producer.send``), or ``AckTimeout`` after
    ``ack_timeout_s``."""
    if not futures:
        return []
    try:
        return await asyncio.wait_for(asyncio.gather(*futures), timeout=ack_timeout_s)
    except TimeoutError:
        ACK_TIMEOUTS.labels(service).inc()
        raise AckTimeout(f"{what}: no acknowledgement from the broker within {ack_timeout_s:g} s") from None


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

    async def send(
        self,
        topic: str,
        value: Any = None,
        key: Any = None,
        partition: int | None = None,
        timestamp_ms: int | None = None,
        headers: KafkaHeaders | None = None,
    ) -> asyncio.Future[RecordMetadata]:
        headers = with_cloudevent_headers(headers, source=self.ce_source, time=datetime.now(UTC))
        return await super().send(
            topic, value=value, key=key, partition=partition, timestamp_ms=timestamp_ms, headers=headers
        )


def make_producer(settings: ServiceSettings, **overrides: Any) -> AIOKafkaProducer:
    """A producer that waits for every replica; it reconnects by itself after a broker restart."""
    options: dict[str, Any] = dict(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        acks="all",
        enable_idempotence=settings.kafka_enable_idempotence,
        linger_ms=5,
        max_batch_size=262_144,
        request_timeout_ms=15_000,
        retry_backoff_ms=200,
        client_id=settings.service_name,
    )
    options.update(overrides)
    return CloudEventsProducer(source=settings.service_name, **options)


class KafkaClient(Protocol):
    """A producer or a consumer, as started and stopped here."""

    async def start(self) -> None: ...
    async def stop(self) -> None: ...


async def start_client(client: KafkaClient, *, what: str) -> None:
    """Start an aiokafka client, waiting with back-off while the broker is away (never giving up)."""
    await retry(client.start, what=f"connecting {what} to the broker", backoff=Backoff(initial=0.5, cap=10.0))


async def stop_quietly(client: KafkaClient, grace_s: float = 10.0) -> None:
    """Stop a client without letting a dead broker hold up a restart or a shutdown (``grace_s`` at most)."""
    try:
        await asyncio.wait_for(client.stop(), timeout=grace_s)
    except (TimeoutError, Exception) as exc:  # noqa: BLE001
        log.warning("stopping a Kafka client failed: %s", describe(exc))


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
    """Publish one envelope and wait (within ``ACK_TIMEOUT_S``) for the broker's acknowledgement."""
    sent = await producer.send(
        topic,
        value=envelope.model_dump_json().encode(),
        key=key.encode(),
        headers=cloudevent_headers(
            event_id=str(envelope.event_id),
            event_type=envelope.event_type,
            source=ce_source(envelope.producer or service),
            time=envelope.occurred_at,
        ),
    )
    await acknowledged([sent], service=service, what=f"publishing to {topic}")
    PRODUCED.labels(service, topic).inc()


async def check_broker(producer: AIOKafkaProducer) -> None:
    """Readiness probe: the broker answers a metadata request."""
    await asyncio.wait_for(producer.client.force_metadata_update(), timeout=3)
    if not producer.client.cluster.brokers():
        raise RuntimeError("no broker in cluster metadata")


def record_where(record: ConsumerRecord) -> str:
    """``topic/partition@offset key=...`` of a record, for log lines."""
    key = record.key.decode(errors="replace") if record.key else None
    return f"{record.topic}/{record.partition}@{record.offset} key={key}"


async def dead_letter(
    producer: AIOKafkaProducer, record: ConsumerRecord, *, service: str, consumer: str, reason: str, details: Any = None
) -> None:
    """Send a record that cannot be applied to its topic's dead-letter topic, with the reason.

    Waits (with back-off) until the broker has it: a dead letter is never dropped.
    """
    dlq = dlq_topic_for(record.topic)
    raw = record.value or b""
    now = datetime.now(UTC)
    letter = DeadLetterV1(
        reason=reason,
        details=None,
        source=DeadLetterSourceV1(topic=record.topic, partition=record.partition, offset=record.offset),
        key=record.key.decode(errors="replace") if record.key else None,
        consumer=consumer,
        dead_lettered_at=now,
        raw=raw.decode(errors="replace")[:100_000],
        cloudevent=read_cloudevent(record.headers),
    )
    body = letter.model_dump(mode="json") | {"details": details}
    event_id = str(deterministic_event_id("dead-letter", record.topic, record.partition, record.offset))
    headers = cloudevent_headers(
        event_id=event_id, event_type=default_ce_type(dlq), source=ce_source(service), time=now
    )

    async def send() -> None:
        sent = await producer.send(dlq, value=dumps(body), key=record.key, headers=headers)
        await acknowledged([sent], service=service, what=f"dead-lettering to {dlq}")

    await retry(send, what=f"dead-lettering {record_where(record)}", backoff=Backoff(initial=0.5, cap=10.0))
    DEAD_LETTERED.labels(service, dlq).inc()
    log.warning("dead-lettered %s to %s by %s: %s", record_where(record), dlq, consumer, reason)


class PositionWatch:
    """Lag per partition, and the reset of a position that lies beyond the end of the log.

    The high watermark comes from fetch responses (correct on Apache Kafka and on the embedded
    broker, whose ListOffsets answer is not). A position above it means the broker lost records
    the group had consumed (a broker restarted without its data): Apache Kafka answers
    OFFSET_OUT_OF_RANGE and the client resets to ``earliest``; a broker that answers nothing is
    caught here, and the partition is read again from the beginning (consumers skip what they
    already applied), never skipped.
    """

    def __init__(self, service: str, group: str) -> None:
        self.service = service
        self.group = group
        self._labels: set[tuple[str, str]] = set()

    async def check(self, consumer: AIOKafkaConsumer) -> None:
        CONSUMER_LAST_POLL.labels(self.service, self.group).set(time.time())
        seen: set[tuple[str, str]] = set()
        try:
            assignment = consumer.assignment()
            CONSUMER_ASSIGNED.labels(self.service, self.group).set(len(assignment))
            for tp in assignment:
                high = consumer.highwater(tp)
                if high is None:
                    continue
                position = await asyncio.wait_for(consumer.position(tp), timeout=1)
                if position > high:
                    log.warning(
                        "%s: position %d of %s/%d is beyond the end of the log (%d): the broker lost "
                        "records; reading the partition again from the beginning",
                        self.group,
                        position,
                        tp.topic,
                        tp.partition,
                        high,
                    )
                    OFFSET_RESETS.labels(self.service, self.group, tp.topic).inc()
                    await consumer.seek_to_beginning(tp)
                    continue
                labels = (tp.topic, str(tp.partition))
                seen.add(labels)
                CONSUMER_LAG.labels(self.service, self.group, *labels).set(high - position)
        except (TimeoutError, IllegalStateError, AssertionError):
            return  # a rebalance is under way; look again after the next poll
        for labels in self._labels - seen:
            try:
                CONSUMER_LAG.remove(self.service, self.group, *labels)
            except KeyError:
                pass
        self._labels = seen

    def clear(self) -> None:
        for labels in self._labels:
            try:
                CONSUMER_LAG.remove(self.service, self.group, *labels)
            except KeyError:
                pass
        self._labels = set()
        CONSUMER_ASSIGNED.labels(self.service, self.group).set(0)


async def commit_or_redeliver(
    consumer: AIOKafkaConsumer, offsets: dict[TopicPartition, int], *, service: str, group: str
) -> None:
    """Commit offsets; a commit refused after a rebalance only means the records come again (idempotent)."""
    try:
        await consumer.commit(offsets)
    except (CommitFailedError, IllegalStateError) as exc:
        COMMIT_FAILURES.labels(service, group).inc()
        log.warning("%s: offset commit refused (%s); the records will be delivered again", group, describe(exc))


def group_consumer(settings: ServiceSettings, *topics: str, group_id: str, **overrides: Any) -> AIOKafkaConsumer:
    """A group consumer with manual commits that starts at the earliest record of a new partition."""
    options: dict[str, Any] = dict(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        group_id=group_id,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        session_timeout_ms=settings.kafka_session_timeout_ms,
        heartbeat_interval_ms=settings.kafka_heartbeat_interval_ms,
        max_poll_interval_ms=300_000,
        retry_backoff_ms=200,
        client_id=f"{settings.service_name}-{group_id}",
    )
    options.update(overrides)
    return AIOKafkaConsumer(*topics, **options)


Handler = Callable[[ConsumerRecord], Awaitable[None]]
HealthCheck = Callable[[], Awaitable[None]]


async def all_healthy(checks: list[HealthCheck]) -> bool:
    """True when every check passes (the service's database and broker answer)."""
    for check in checks:
        try:
            await check()
        except Exception:  # noqa: BLE001
            return False
    return True


class EventConsumer:
    """A group consumer that applies records one by one and commits each partition's offset afterwards.

    ``handler`` must be idempotent (dedupe on an event id in the same transaction as its
    effect). ``PoisonMessage`` sends the record to ``<topic>.dlq`` with the reason and moves on.
    Any other error is retried with back-off and the offset is not committed; once a record has
    failed ``max_attempts`` times while the service's dependencies (``health``) answer, it is
    dead-lettered with the error as the reason. While a dependency is down the record is retried
    without limit, so a database outage delays work but dead-letters none of it.

    The consumer runs under a supervisor: if it stops for any other reason it is built and
    started again with back-off, and ``running`` is false (``/readyz`` names it) meanwhile.
    """

    def __init__(
        self,
        *,
        settings: ServiceSettings,
        topics: list[str],
        group_id: str,
        handler: Handler,
        producer: AIOKafkaProducer,
        health: list[HealthCheck] | None = None,
        max_attempts: int = 6,
        retry_cap: float = 10.0,
    ) -> None:
        self.settings = settings
        self.topics = topics
        self.group_id = group_id
        self.handler = handler
        self.producer = producer
        self.health = health or []
        self.max_attempts = max_attempts
        self.retry_cap = retry_cap
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
        consumer = group_consumer(self.settings, *self.topics, group_id=self.group_id)
        await start_client(consumer, what=f"consumer {self.group_id}")
        try:
            up()
            while True:
                batches = await consumer.getmany(timeout_ms=500, max_records=200)
                for tp, records in batches.items():
                    for record in records:
                        await self._apply(record)
                    await commit_or_redeliver(
                        consumer, {tp: records[-1].offset + 1}, service=self.service, group=self.group_id
                    )
                await self.watch.check(consumer)
        finally:
            self.watch.clear()
            await stop_quietly(consumer)

    async def _apply(self, record: ConsumerRecord) -> None:
        backoff = Backoff(initial=0.2, cap=self.retry_cap)
        failures = 0
        while True:
            try:
                await self.handler(record)
                CONSUMED.labels(self.service, record.topic, "applied").inc()
                return
            except PoisonMessage as exc:
                log.warning("%s: unusable record %s: %s", self.group_id, record_where(record), exc.reason)
                await self._dead_letter(record, exc.reason, exc.details)
                return
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - retried, then dead-lettered if it keeps failing
                failures += 1
                HANDLER_ERRORS.labels(self.service, self.group_id, record.topic).inc()
                if failures >= self.max_attempts and not isinstance(exc, AckTimeout) and await all_healthy(self.health):
                    log.error(
                        "%s: giving up on %s after %d attempts: %s",
                        self.group_id,
                        record_where(record),
                        failures,
                        describe(exc),
                        exc_info=exc,
                    )
                    await self._dead_letter(
                        record, f"failed after {failures} attempts: {describe(exc)}", {"error": type(exc).__name__}
                    )
                    return
                delay = backoff.next_delay()
                log.warning(
                    "%s: %s failed (attempt %d), retrying in %.1fs: %s",
                    self.group_id,
                    record_where(record),
                    failures,
                    delay,
                    describe(exc),
                )
                await asyncio.sleep(delay)

    async def _dead_letter(self, record: ConsumerRecord, reason: str, details: Any = None) -> None:
        await dead_letter(
            self.producer,
            record,
            service=self.service,
            consumer=f"{self.service}/{self.group_id}",
            reason=reason,
            details=details,
        )
        CONSUMED.labels(self.service, record.topic, "dead_lettered").inc()


class Checked(Protocol):
    """A consumer (or anything else) that names itself and its reason in a readiness check while it is down."""

    def check(self) -> HealthCheck: ...


def consumers_ready(consumers: Sequence[Checked]) -> list[HealthCheck]:
    """Readiness checks: each consumer is running (each names itself and the reason while it is down)."""
    return [c.check() for c in consumers]


# ---------------------------------------------------------------- outbox


async def read_event_ids(
    bootstrap: str, ranges: dict[TopicPartition, tuple[int, int]], *, within: float = 10.0
) -> dict[TopicPartition, tuple[dict[int, str | None], int | None, int | None]]:
    """Read the records of each partition between two offsets.

    Returns per partition ``{offset: event_id header}``, the high watermark seen and the log start
    when the broker named it (``None`` when it did not answer for that partition). It reads for ``within``
    seconds at most.
    """
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="none",
        client_id="outbox-verify",
    )
    await consumer.start()
    found: dict[TopicPartition, dict[int, str | None]] = {tp: {} for tp in ranges}
    high: dict[TopicPartition, int | None] = {tp: None for tp in ranges}
    low: dict[TopicPartition, int | None] = {tp: None for tp in ranges}
    try:
        consumer.assign(list(ranges))
        for tp, (lo, _hi) in ranges.items():
            consumer.seek(tp, lo)
        pending = set(ranges)
        deadline = time.monotonic() + within
        quiet = 0
        while pending and time.monotonic() < deadline:
            try:
                batches = await consumer.getmany(*pending, timeout_ms=300, max_records=2000)
            except OffsetOutOfRangeError as exc:
                # Apache Kafka: before the log start (retention) or past the end of the log
                for tp in list(exc.args[0] if exc.args and isinstance(exc.args[0], dict) else {}):
                    if tp not in pending:
                        continue
                    low[tp] = (await consumer.beginning_offsets([tp])).get(tp)
                    high[tp] = (await consumer.end_offsets([tp])).get(tp)
                    start, end = low[tp], high[tp]
                    if start is not None and end is not None and ranges[tp][0] < start < end:
                        consumer.seek(tp, start)
                    else:
                        pending.discard(tp)
                continue
            for tp, records in batches.items():
                for r in records:
                    event_id = dict(r.headers or ()).get("event_id")
                    found[tp][r.offset] = event_id.decode() if event_id else None
            quiet = 0 if batches else quiet + 1
            for tp in list(pending):
                h = consumer.highwater(tp)
                if h is not None:
                    high[tp] = h
                position = await consumer.position(tp)
                if position > ranges[tp][1] or (h is not None and position >= h):
                    pending.discard(tp)
            if quiet >= 3:
                break
    finally:
        await stop_quietly(consumer)
    return {tp: (found[tp], high[tp], low[tp]) for tp in ranges}


class OutboxRelay:
    """Publishes rows of a service's outbox table in order, marks them published, and checks the broker kept them.

    Each published row keeps the partition and offset the broker gave it. A verification pass
    (every ``verify_every`` seconds) reads them back: a row whose record is missing or is another
    record (the broker lost data, or restarted empty) is published again with the same event id,
    which consumers drop if they applied it before. After a row is verified, the latest verified row
    of each partition is read back on every pass, so data lost later is found too, and every row of
    that partition published within ``reverify_window`` goes out again.
    """

    def __init__(
        self,
        *,
        sessionmaker: async_sessionmaker[AsyncSession],
        outbox: Table,
        producer: AIOKafkaProducer,
        service: str,
        bootstrap: str | None = None,
        interval: float = 0.5,
        verify_every: float = 30.0,
        settle: float = 5.0,
        reverify_window: timedelta = timedelta(days=7),
        stats_every: float = 5.0,
        ack_timeout: float = ACK_TIMEOUT_S,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.outbox = outbox
        self.producer = producer
        self.service = service
        self.bootstrap = bootstrap
        self.interval = interval
        self.verify_every = verify_every
        self.settle = settle
        self.reverify_window = reverify_window
        self.stats_every = stats_every
        self.ack_timeout = ack_timeout
        self._kick = asyncio.Event()
        self.supervised = Supervised(f"outbox-{service}", self._run, service=service, kind="outbox relay")

    def kick(self) -> None:
        """Wake the relay now (called after a commit that wrote to the outbox)."""
        self._kick.set()

    async def start(self) -> None:
        self.supervised.start()

    async def stop(self) -> None:
        await self.supervised.stop()

    def check(self) -> HealthCheck:
        return self.supervised.check()

    async def _run(self, up: Callable[[], None]) -> None:
        up()
        backoff = Backoff(initial=0.2, cap=10.0)
        next_stats = next_verify = 0.0
        while True:
            now = time.monotonic()
            try:
                while await self.flush() > 0:
                    pass
                if now >= next_stats:
                    next_stats = now + self.stats_every
                    await self.refresh_stats()
                if self.bootstrap and self.verify_every and now >= next_verify:
                    next_verify = now + self.verify_every
                    if await self.verify():
                        continue
                backoff.reset()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - broker or DB away: try again after a pause
                OUTBOX_ERRORS.labels(self.service).inc()
                delay = backoff.next_delay()
                log.warning("outbox relay of %s failed, retrying in %.1fs: %s", self.service, delay, describe(exc))
                await asyncio.sleep(delay)
                continue
            try:
                await asyncio.wait_for(self._kick.wait(), timeout=self.interval)
            except TimeoutError:
                pass
            self._kick.clear()

    def _headers(self, row: Any) -> KafkaHeaders:
        """CloudEvents headers of an outbox row: from its envelope, or for a contract published as-is
        (no envelope) the topic's event type and the time the row was written."""
        value = row.envelope
        if isinstance(value, dict) and isinstance(value.get("event_type"), str):
            return cloudevent_headers(
                event_id=row.event_id,
                event_type=value["event_type"],
                source=ce_source(str(value.get("producer") or self.service)),
                time=str(value.get("occurred_at") or row.created_at.isoformat()),
            )
        return cloudevent_headers(
            event_id=row.event_id,
            event_type=default_ce_type(row.topic),
            source=ce_source(self.service),
            time=row.created_at,
        )

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
            acks = await acknowledged(
                futures, service=self.service, what=f"outbox of {self.service}", ack_timeout_s=self.ack_timeout
            )
            now = datetime.now(UTC)
            for row in rows:
                PRODUCED.labels(self.service, row.topic).inc()
            await session.execute(
                update(o)
                .where(o.c.id == _bind("rid"))
                .values(published_at=now, kafka_partition=_bind("p"), kafka_offset=_bind("off"), verified_at=None),
                [{"rid": row.id, "p": ack.partition, "off": ack.offset} for row, ack in zip(rows, acks, strict=True)],
            )
        return len(rows)

    async def refresh_stats(self) -> None:
        o = self.outbox
        async with self.sessionmaker() as session:
            count, oldest = (
                await session.execute(select(func.count(), func.min(o.c.created_at)).where(o.c.published_at.is_(None)))
            ).one()
        OUTBOX_PENDING.labels(self.service).set(count)
        age = (datetime.now(UTC) - oldest).total_seconds() if oldest is not None else 0.0
        OUTBOX_OLDEST.labels(self.service).set(max(0.0, age))

    async def verify(self, limit: int = 2000) -> int:
        """Read back published rows (and the latest verified row of each partition); queue what the broker lost.

        Returns how many rows were queued to be published again.
        """
        o = self.outbox
        now = datetime.now(UTC)
        async with self.sessionmaker() as session:
            fresh = (
                await session.execute(
                    select(o.c.id, o.c.topic, o.c.kafka_partition, o.c.kafka_offset, o.c.event_id)
                    .where(
                        o.c.published_at.is_not(None),
                        o.c.verified_at.is_(None),
                        o.c.kafka_partition.is_not(None),
                        o.c.published_at < now - timedelta(seconds=self.settle),
                    )
                    .order_by(o.c.id)
                    .limit(limit)
                )
            ).all()
            canaries = (
                await session.execute(
                    select(o.c.id, o.c.topic, o.c.kafka_partition, o.c.kafka_offset, o.c.event_id)
                    .distinct(o.c.topic, o.c.kafka_partition)
                    .where(
                        o.c.verified_at.is_not(None), o.c.kafka_partition.is_not(None), o.c.published_at.is_not(None)
                    )
                    .order_by(o.c.topic, o.c.kafka_partition, o.c.kafka_offset.desc())
                )
            ).all()
        if not fresh and not canaries:
            return 0
        ranges: dict[TopicPartition, tuple[int, int]] = {}
        for row in [*fresh, *canaries]:
            tp = TopicPartition(row.topic, row.kafka_partition)
            lo, hi = ranges.get(tp, (row.kafka_offset, row.kafka_offset))
            ranges[tp] = (min(lo, row.kafka_offset), max(hi, row.kafka_offset))
        assert self.bootstrap is not None
        seen = await read_event_ids(self.bootstrap, ranges)

        def state(row: Row[*tuple[Any, ...]]) -> str:
            records, high, low = seen[TopicPartition(row.topic, row.kafka_partition)]
            offset = row.kafka_offset
            if offset in records:
                return "kept" if records[offset] == row.event_id else "lost"
            if high is None:
                return "unknown"  # the broker did not answer for this partition: next pass
            if offset >= high or (records and min(records) <= offset <= max(records)):
                return "lost"  # past the end of the log, or a hole where it was
            if low is not None and offset < low:
                return "kept"  # older than the log start: removed by retention after it was there
            return "unknown"

        verified = [r for r in fresh if state(r) == "kept"]
        lost = [r for r in fresh if state(r) == "lost"]
        lost_partitions = [(r.topic, r.kafka_partition) for r in canaries if state(r) == "lost"]
        queued = 0
        async with self.sessionmaker() as session, session.begin():
            if verified:
                await session.execute(update(o).where(o.c.id.in_([r.id for r in verified])).values(verified_at=now))
                for r in verified:
                    OUTBOX_VERIFIED.labels(self.service, r.topic).inc()
            conditions: list[ColumnElement[bool]] = []
            if lost:
                conditions.append(o.c.id.in_([r.id for r in lost]))
            for topic, partition in lost_partitions:
                conditions.append(
                    and_(
                        o.c.topic == topic,
                        o.c.kafka_partition == partition,
                        o.c.published_at > now - self.reverify_window,
                    )
                )
            for condition in conditions:
                requeued = (
                    (
                        await session.execute(
                            update(o)
                            .where(condition, o.c.published_at.is_not(None))
                            .values(
                                published_at=None,
                                kafka_partition=None,
                                kafka_offset=None,
                                verified_at=None,
                                attempts=o.c.attempts + 1,
                            )
                            .returning(o.c.topic)
                        )
                    )
                    .scalars()
                    .all()
                )
                for topic in requeued:
                    OUTBOX_REPUBLISHED.labels(self.service, topic).inc()
                queued += len(requeued)
        if queued:
            log.warning(
                "outbox of %s: the broker no longer has %d published records (%s); publishing them again",
                self.service,
                queued,
                ", ".join(
                    sorted({f"{t}/{p}" for t, p in lost_partitions} | {f"{r.topic}/{r.kafka_partition}" for r in lost})
                ),
            )
            self.kick()
        return queued


def _bind(name: str) -> BindParameter[Any]:
    return bindparam(name)


async def add_to_outbox(session: AsyncSession, outbox: Table, *, topic: str, key: str, envelope: EventEnvelope) -> None:
    """Queue an event in the caller's transaction; it leaves only if that transaction commits."""
    await add_raw_to_outbox(
        session,
        outbox,
        topic=topic,
        key=key,
        event_id=str(envelope.event_id),
        value=json.loads(envelope.model_dump_json()),
    )


async def add_raw_to_outbox(
    session: AsyncSession, outbox: Table, *, topic: str, key: str, event_id: str, value: Any
) -> None:
    """Queue any JSON value (e.g. a contract published as-is) in the caller's transaction."""
    await session.execute(outbox.insert().values(event_id=event_id, topic=topic, key=key, envelope=value))
