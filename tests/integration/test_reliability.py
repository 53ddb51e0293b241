"""Nothing stops the line: poison records, broker restarts and lost records, against the real stack.

The broker here is the one the stack runs (tansu with durable s3 storage on ``rclone serve s3``);
it is killed and restarted by PID, the way ``deploy.local.stack`` starts it.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import uuid
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from prometheus_client import REGISTRY
from sqlalchemy import MetaData, select, text
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

from deploy.local import stack as stack_mod
from shared.contracts.cases import consignment_case_id
from shared.contracts.declaration import DeclarationV1
from shared.contracts.events import TOPIC_DECLARATIONS, TOPIC_DECLARATIONS_DLQ, TOPIC_HOLDS, deterministic_event_id
from shared.db import outbox_table
from shared.kafka import EventConsumer, OutboxRelay, ensure_topics
from tests.factories import example_declaration
from tests.helpers import case_in_state, eventually, find_on_topic, produce, unique_id

pytestmark = pytest.mark.integration

SERVICES = ("intake", "risk", "holds", "notify", "disposal", "guarantees", "cases")


def declaration(prefix: str = "CN5300-REL", **changes) -> dict:
    return example_declaration(declaration_id=unique_id(prefix), **changes)


def engine(stack, db: str):
    return create_async_engine(stack_mod.database_url(stack.profile, stack.secrets, db), pool_size=1)


async def submit(http, stack, body: dict) -> None:
    r = await http.post(f"{stack.url('intake')}/v1/declarations", json=body, headers=stack.auth("clearance"))
    assert r.status_code == 202, r.text


async def assessed(http, stack, declaration_id: str, within: float = 60) -> dict:
    async def probe():
        r = await http.get(f"{stack.url('intake')}/v1/declarations/{declaration_id}", headers=stack.auth("officer"))
        return r.json() if r.status_code == 200 and r.json()["status"] == "assessed" else None

    return await eventually(probe, within=within, what=f"{declaration_id} assessed")


async def all_ready(http, stack, within: float = 90) -> None:
    async def probe():
        bodies = {}
        for service in SERVICES:
            r = await http.get(f"{stack.url(service)}/readyz")
            if r.status_code != 200:
                bodies[service] = r.json().get("checks")
        return True if not bodies else None

    await eventually(probe, within=within, what="every service ready again")


async def committed(bootstrap: str, group: str, topic: str, partitions: int = 3) -> dict[int, int | None]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
    await consumer.start()
    try:
        return {p: await consumer.committed(TopicPartition(topic, p)) for p in range(partitions)}
    finally:
        await consumer.stop()


async def metric(http, stack, service: str, name: str, **labels: str) -> float:
    """Sum of a metric's samples on a service's /metrics whose labels include ``labels``."""
    text_ = (await http.get(f"{stack.url(service)}/metrics")).text
    total = 0.0
    for line in text_.splitlines():
        if not line.startswith(name + "{") and not line.startswith(name + " "):
            continue
        series, _, value = line.rpartition(" ")
        if all(f'{k}="{v}"' in series for k, v in labels.items()):
            total += float(value)
    return total


def kill_broker(stack) -> int:
    pid = stack_mod.running_pid(stack.profile, "broker")
    assert pid
    os.kill(pid, signal.SIGKILL)
    return pid


async def wait_gone(pid: int) -> None:
    await eventually(lambda: asyncio.sleep(0, not stack_mod.alive(pid)), within=10, what=f"process {pid} gone")


# ---------------------------------------------------------------- poison records


async def test_year_9999_declaration_is_dead_lettered_and_the_next_is_still_assessed(http, stack) -> None:
    """The record that used to stop all targeting: straight onto the topic, bypassing intake's HTTP checks."""
    poison = declaration("CN5300-Y9999", submitted_at="9999-12-31T23:59:59Z")
    await produce(stack.kafka, TOPIC_DECLARATIONS, json.dumps(poison).encode(), key=poison["declaration_id"].encode())
    good = declaration()
    await submit(http, stack, good)

    view = await assessed(http, stack, good["declaration_id"])
    assert view["case_ids"] == [consignment_case_id(good["declaration_id"], "RH-0001")]
    dead = await find_on_topic(stack.kafka, TOPIC_DECLARATIONS_DLQ, lambda v: v.get("key") == poison["declaration_id"])
    assert dead["reason"], dead
    assert dead["source"]["topic"] == TOPIC_DECLARATIONS and dead["consumer"].split("/")[0] in ("intake", "risk")
    assert '"9999-12-31T23:59:59Z"' in dead["raw"]
    # the consumers are still running: every service ready, and a third declaration is assessed too
    await all_ready(http, stack)
    third = declaration()
    await produce(stack.kafka, TOPIC_DECLARATIONS, json.dumps(third).encode(), key=third["declaration_id"].encode())
    await assessed(http, stack, third["declaration_id"])


async def test_a_handler_error_dead_letters_the_record_and_consumption_goes_on(stack) -> None:
    """The shared consumer: an exception that is not a PoisonMessage, on a healthy service, ends in the dead-letter
    topic with the reason after a few attempts; the records behind it are applied."""
    topic = f"test.handler-errors.{uuid.uuid4().hex[:8]}"
    await ensure_topics(stack.kafka, [topic, f"{topic}.dlq"], partitions=1)
    applied: list[bytes] = []

    async def handler(record) -> None:
        if record.value == b"boom":
            raise OverflowError("date value out of range")
        applied.append(record.value)

    settings = SimpleNamespace(
        kafka_bootstrap_servers=stack.kafka,
        service_name="reliability-test",
        kafka_session_timeout_ms=6000,
        kafka_heartbeat_interval_ms=500,
    )
    producer = AIOKafkaProducer(bootstrap_servers=stack.kafka, acks="all")
    await producer.start()
    consumer = EventConsumer(
        settings=settings,
        topics=[topic],
        group_id=f"g-{topic}",
        handler=handler,
        producer=producer,
        max_attempts=2,
        retry_cap=0.2,
    )
    try:
        for value in (b"one", b"boom", b"two"):
            await producer.send_and_wait(topic, value=value, key=b"k-" + value)
        await consumer.start()
        await eventually(lambda: asyncio.sleep(0, applied == [b"one", b"two"]), what="records around the bad one")
        dead = await find_on_topic(stack.kafka, f"{topic}.dlq", lambda v: v.get("key") == "k-boom")
        assert dead["reason"] == "failed after 2 attempts: OverflowError: date value out of range"
        assert dead["source"] == {"topic": topic, "partition": 0, "offset": 1}
        assert dead["consumer"] == f"reliability-test/g-{topic}"
        assert (
            REGISTRY.get_sample_value(
                "ipr_kafka_dead_lettered_total", {"service": "reliability-test", "topic": f"{topic}.dlq"}
            )
            == 1
        )
        assert consumer.running
    finally:
        await consumer.stop()
        await producer.stop()


async def test_a_committed_offset_beyond_the_log_end_is_read_again_not_skipped(stack) -> None:
    """What a broker that restarted without its data leaves behind: the group's offset lies past the log's end."""
    topic = f"test.beyond-end.{uuid.uuid4().hex[:8]}"
    group = f"g-{topic}"
    await ensure_topics(stack.kafka, [topic, f"{topic}.dlq"], partitions=1)
    producer = AIOKafkaProducer(bootstrap_servers=stack.kafka, acks="all")
    await producer.start()
    tp = TopicPartition(topic, 0)
    setter = AIOKafkaConsumer(bootstrap_servers=stack.kafka, group_id=group, enable_auto_commit=False)
    await setter.start()
    try:
        for i in range(5):
            await producer.send_and_wait(topic, value=b"r%d" % i)
        setter.assign([tp])
        await setter.commit({tp: 1000})
    finally:
        await setter.stop()
    seen: list[bytes] = []

    async def handler(record) -> None:
        seen.append(record.value)

    settings = SimpleNamespace(
        kafka_bootstrap_servers=stack.kafka,
        service_name="reliability-test",
        kafka_session_timeout_ms=6000,
        kafka_heartbeat_interval_ms=500,
    )
    consumer = EventConsumer(settings=settings, topics=[topic], group_id=group, handler=handler, producer=producer)
    try:
        await consumer.start()
        await eventually(lambda: asyncio.sleep(0, len(seen) >= 5), what="the partition read again")
        assert seen[:5] == [b"r0", b"r1", b"r2", b"r3", b"r4"]
        assert (
            REGISTRY.get_sample_value(
                "ipr_kafka_offset_resets_total", {"service": "reliability-test", "group": group, "topic": topic}
            )
            == 1
        )

        async def all_committed():
            return (await committed(stack.kafka, group, topic, 1))[0] == 5 or None

        await eventually(all_committed, what="the offset after the fifth record committed")
    finally:
        await consumer.stop()
        await producer.stop()


# ---------------------------------------------------------------- the broker dies


@pytest.mark.timeout(600)
async def test_broker_kill_9_keeps_topics_offsets_and_dead_letters(http, stack) -> None:
    poison_key = unique_id("POISON-K9")
    await produce(stack.kafka, TOPIC_DECLARATIONS, b"{broken", key=poison_key.encode())
    before_kill = declaration()
    await submit(http, stack, before_kill)
    await assessed(http, stack, before_kill["declaration_id"])
    await find_on_topic(stack.kafka, TOPIC_DECLARATIONS_DLQ, lambda v: v.get("key") == poison_key)
    offsets_before = await committed(stack.kafka, "risk-declarations", TOPIC_DECLARATIONS)
    assert sum(o or 0 for o in offsets_before.values()) > 0

    pid = kill_broker(stack)
    await wait_gone(pid)
    await asyncio.to_thread(stack_mod.start_broker, stack.profile, stack.secrets)
    assert stack_mod.running_pid(stack.profile, "broker") not in (None, pid)

    # records, dead letters and committed offsets are all still there
    await find_on_topic(stack.kafka, TOPIC_DECLARATIONS_DLQ, lambda v: v.get("key") == poison_key)
    await find_on_topic(
        stack.kafka, TOPIC_DECLARATIONS, lambda v: v.get("declaration_id") == before_kill["declaration_id"]
    )
    offsets_after = await committed(stack.kafka, "risk-declarations", TOPIC_DECLARATIONS)
    for partition, offset in offsets_before.items():
        assert offset is None or (offsets_after[partition] or -1) >= offset, (offsets_before, offsets_after)

    # and the flow goes on by itself, appending after what was there instead of over it
    after = declaration()
    await submit(http, stack, after)
    await assessed(http, stack, after["declaration_id"], within=120)
    await all_ready(http, stack)
    await find_on_topic(stack.kafka, TOPIC_DECLARATIONS_DLQ, lambda v: v.get("key") == poison_key)
    await find_on_topic(
        stack.kafka, TOPIC_DECLARATIONS, lambda v: v.get("declaration_id") == before_kill["declaration_id"]
    )


@pytest.mark.timeout(600)
async def test_broker_restart_under_load_loses_nothing_and_every_service_recovers(http, stack) -> None:
    """Declarations keep coming, by HTTP and straight onto the topic, while the broker and its store are stopped the
    way ``make down`` stops them and started the way ``make up`` starts them."""
    accepted: list[str] = []
    stop = asyncio.Event()
    producer = AIOKafkaProducer(bootstrap_servers=stack.kafka, acks="all", request_timeout_ms=3000)
    await producer.start()

    async def load() -> None:
        i = 0
        while not stop.is_set():
            body = declaration("CN5300-LOAD")
            if i % 2:
                await submit(http, stack, body)
            else:
                while True:  # a clearance system retries until the broker acknowledges
                    try:
                        await producer.send_and_wait(
                            TOPIC_DECLARATIONS, value=json.dumps(body).encode(), key=body["declaration_id"].encode()
                        )
                        break
                    except Exception:  # noqa: BLE001
                        await asyncio.sleep(0.3)
            accepted.append(body["declaration_id"])
            i += 1
            await asyncio.sleep(0.1)

    task = asyncio.create_task(load())
    try:
        await asyncio.sleep(3)
        for name in ("broker", "s3gate", "broker-s3"):
            await asyncio.to_thread(stack_mod.stop_pid, stack.profile, name)
        await asyncio.sleep(2)
        await asyncio.to_thread(stack_mod.start_broker, stack.profile, stack.secrets)
        await asyncio.sleep(4)
    finally:
        stop.set()
        await task
        await producer.stop()
    assert len(accepted) >= 20

    db = engine(stack, "intake")
    try:

        async def all_assessed():
            async with db.connect() as conn:
                n = (
                    await conn.execute(
                        text(
                            "SELECT count(*) FROM declarations WHERE status = 'assessed' AND declaration_id = ANY(:ids)"
                        ),
                        {"ids": accepted},
                    )
                ).scalar()
            return n == len(accepted) or None

        await eventually(all_assessed, within=180, what=f"all {len(accepted)} declarations assessed")
    finally:
        await db.dispose()
    await all_ready(http, stack)


# ---------------------------------------------------------------- reconciliation


async def test_intake_publishes_an_unassessed_declaration_again(http, stack) -> None:
    """A declaration stored by intake whose record the broker lost is published again and assessed once."""
    lost = DeclarationV1.model_validate(declaration("CN5300-LOST"))
    db = engine(stack, "intake")
    try:
        async with db.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO declarations (declaration_id, revision, content_hash, payload, jurisdiction, source, "
                    "status, received_at) VALUES (:id, 1, :hash, CAST(:payload AS jsonb), 'CN', 'http', 'received', "
                    ":at)"
                ),
                {
                    "id": lost.declaration_id,
                    "hash": lost.content_hash(),
                    "payload": lost.model_dump_json(),
                    "at": datetime.now(UTC) - timedelta(hours=1),
                },
            )
        before = await metric(http, stack, "intake", "ipr_intake_republished_total")
        view = await assessed(http, stack, lost.declaration_id)
        assert view["case_ids"] == [consignment_case_id(lost.declaration_id, "RH-0001")]
        republished = [h for h in view["history"] if h["event"] == "republished"]
        assert len(republished) == 1 and republished[0]["detail"]["actor"] == "system:intake-reconciliation"
        assert await metric(http, stack, "intake", "ipr_intake_republished_total") >= before + 1

        # Now the assessment is what got lost: risk does not assess the revision again, it publishes what it stored.
        assessed_at = view["assessed_at"]
        async with db.begin() as conn:
            await conn.execute(
                text(
                    "UPDATE declarations SET status = 'received', assessed_at = NULL, assessment = "
                    "NULL, received_at = :at, republished_at = NULL WHERE declaration_id = :id"
                ),
                {"id": lost.declaration_id, "at": datetime.now(UTC) - timedelta(hours=1)},
            )
            await conn.execute(
                text("DELETE FROM applied_events WHERE event_id = :e"),
                {"e": str(deterministic_event_id("assessment", lost.declaration_id, 1))},
            )
        again = await assessed(http, stack, lost.declaration_id)
        assert again["assessed_at"] == assessed_at  # the stored assessment, not a new one
        assert len([h for h in again["history"] if h["event"] == "republished"]) == 2
    finally:
        await db.dispose()
    await case_in_state(http, stack, consignment_case_id(lost.declaration_id, "RH-0001"), "suspended", within=60)


async def test_outbox_rows_the_broker_lost_are_published_again(http, stack) -> None:
    """The holds outbox reads back what it published: a record missing at its offset is published again, and a
    partition whose latest verified record is now another record has all its recent rows published again."""
    body = declaration("CN5300-OBX")
    await submit(http, stack, body)
    await case_in_state(http, stack, consignment_case_id(body["declaration_id"], "RH-0001"), "suspended", within=60)
    db = engine(stack, "holds")
    try:

        async def verified_row():
            async with db.connect() as conn:
                return (
                    await conn.execute(
                        text(
                            "SELECT id, event_id, kafka_partition, kafka_offset FROM outbox WHERE key = :k AND "
                            "verified_at IS NOT NULL ORDER BY id LIMIT 1"
                        ),
                        {"k": body["declaration_id"]},
                    )
                ).first()

        row = await eventually(verified_row, within=60, what="the hold event read back from the broker")
        # 1. the broker no longer has it where it was acknowledged
        before = await metric(http, stack, "holds", "ipr_outbox_republished_total", topic=TOPIC_HOLDS)
        async with db.begin() as conn:
            await conn.execute(
                text("UPDATE outbox SET kafka_offset = kafka_offset + 1000000000, verified_at = NULL WHERE id = :id"),
                {"id": row.id},
            )

        async def republished():
            async with db.connect() as conn:
                again = (
                    await conn.execute(
                        text("SELECT kafka_offset, verified_at, attempts FROM outbox WHERE id = :id"), {"id": row.id}
                    )
                ).first()
            return again if again.verified_at is not None and again.kafka_offset < 1000000000 else None

        again = await eventually(republished, within=60, what="the lost hold event published again and read back")
        assert again.attempts >= 1 and again.kafka_offset != row.kafka_offset
        assert await metric(http, stack, "holds", "ipr_outbox_republished_total", topic=TOPIC_HOLDS) >= before + 1
        record = await find_on_topic(stack.kafka, TOPIC_HOLDS, lambda v: v.get("event_id") == row.event_id)
        assert record["payload"]["declaration_id"] == body["declaration_id"]

        # 2. the latest verified record of the partition is now another record: the broker lost data later
        before = await metric(http, stack, "holds", "ipr_outbox_republished_total")
        async with db.begin() as conn:
            canary = (
                await conn.execute(
                    text(
                        "SELECT id, kafka_partition FROM outbox WHERE verified_at IS NOT NULL "
                        "ORDER BY kafka_offset DESC, id LIMIT 1"
                    )
                )
            ).first()
            partition_rows = (
                await conn.execute(
                    text("SELECT count(*) FROM outbox WHERE kafka_partition = :p AND verified_at IS NOT NULL"),
                    {"p": canary.kafka_partition},
                )
            ).scalar()
            await conn.execute(
                text("UPDATE outbox SET event_id = :e WHERE id = :id"), {"e": str(uuid.uuid4()), "id": canary.id}
            )

        async def partition_requeued():
            return await metric(http, stack, "holds", "ipr_outbox_republished_total") >= before + partition_rows

        await eventually(partition_requeued, within=60, what="every row of the partition published again")
    finally:
        await db.dispose()


async def test_case_events_leave_through_the_cases_outbox(http, stack) -> None:
    body = declaration("CN5300-CEV")
    await submit(http, stack, body)
    case_id = consignment_case_id(body["declaration_id"], "RH-0001")
    await case_in_state(http, stack, case_id, "suspended", within=60)
    db = engine(stack, "cases")
    try:

        async def read_back():
            async with db.connect() as conn:
                rows = (
                    await conn.execute(
                        text("SELECT published_at, verified_at FROM outbox WHERE key = :k"), {"k": case_id}
                    )
                ).all()
            return rows if rows and all(r.verified_at is not None for r in rows) else None

        rows = await eventually(read_back, what="the case's events published and read back")
        async with db.connect() as conn:
            events = (
                await conn.execute(text("SELECT count(*) FROM case_events WHERE case_id = :k"), {"k": case_id})
            ).scalar()
        assert len(rows) == events
    finally:
        await db.dispose()
    event = await find_on_topic(stack.kafka, "cases.events.v1", lambda v: v.get("correlation_id") == case_id)
    assert event["payload"]["case_id"] == case_id


class StallingProducer:
    """A real producer whose first send is never acknowledged: what aiokafka can leave behind when the broker
    dies in the middle of a produce request (a future that is never resolved)."""

    def __init__(self, real: AIOKafkaProducer) -> None:
        self.real = real
        self.stalled = 0

    async def send(self, *args, **kwargs):
        if not self.stalled:
            self.stalled += 1
            return asyncio.get_running_loop().create_future()
        return await self.real.send(*args, **kwargs)


async def test_an_outbox_send_never_acknowledged_is_sent_again_not_waited_for_forever(stack) -> None:
    """The relay bounds its wait for the broker's acknowledgement; the rows of a stalled send stay unpublished,
    go out on the next pass, and the relay keeps running."""
    schema = f"relay_{uuid.uuid4().hex[:8]}"
    topic = f"test.relay-stall.{uuid.uuid4().hex[:8]}"
    await ensure_topics(stack.kafka, [topic], partitions=1)
    outbox = outbox_table(MetaData(schema=schema))
    db = engine(stack, "holds")
    async with db.begin() as conn:
        await conn.execute(text(f"CREATE SCHEMA {schema}"))
        await conn.run_sync(outbox.metadata.create_all)
        for n in (1, 2):
            await conn.execute(
                outbox.insert().values(event_id=str(uuid.uuid4()), topic=topic, key=f"k{n}", envelope={"n": n})
            )
    real = AIOKafkaProducer(bootstrap_servers=stack.kafka, acks="all")
    await real.start()
    relay = OutboxRelay(
        sessionmaker=async_sessionmaker(db),
        outbox=outbox,
        producer=StallingProducer(real),
        service="relay-stall-test",
        interval=0.1,
        ack_timeout=1.0,
    )
    try:
        await relay.start()

        async def all_published():
            async with db.connect() as conn:
                rows = (await conn.execute(select(outbox.c.published_at, outbox.c.kafka_offset))).all()
            return rows if all(r.published_at is not None for r in rows) else None

        rows = await eventually(all_published, what="the stalled rows published on a later pass")
        # the stalled pass had sent row 2 (offset 0) before its wait ran out; the next pass sent both again
        # (the same event ids: consumers drop the repeat), and the rows keep where that pass put them
        assert sorted(r.kafka_offset for r in rows) == [1, 2]
        assert REGISTRY.get_sample_value("ipr_kafka_ack_timeouts_total", {"service": "relay-stall-test"}) == 1
        assert relay.supervised.running
        first = await find_on_topic(stack.kafka, topic, lambda v: v.get("n") == 1)
        assert first == {"n": 1}
    finally:
        await relay.stop()
        await real.stop()
        async with db.begin() as conn:
            await conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        await db.dispose()
