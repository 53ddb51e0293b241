"""Two risk replicas in one consumer group on one database: every record assessed once, and an office's red
quota of the day granted once in total, whichever replica assessed the line.

The replicas are the risk service's own consumer path (``DeclarationBatchConsumer`` around an
``AssessmentPipeline``), each with its own connections, producer and in-memory registry, on the stack's
broker and the stack's risk database. They read a topic of their own and publish on one of their own, so
the running risk service and intake are not part of the experiment.
"""

from __future__ import annotations

import asyncio
import json
import os
from types import SimpleNamespace
from unittest import mock

from aiokafka import AIOKafkaProducer
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from deploy.local import stack as stack_mod
from services.risk.consumer import DeclarationBatchConsumer
from services.risk.live_registry import Registry
from services.risk.pipeline import AssessmentPipeline
from shared.db import make_sessionmaker
from shared.kafka import ensure_topics
from tests.factories import example_declaration
from tests.helpers import eventually, find_on_topic, unique_id

QUOTA = 7
DECLARATIONS = 40


def replica_settings(bootstrap: str, fx: dict) -> SimpleNamespace:
    # Every line that is not suspected is red on its score (threshold 0), so each one draws on the quota.
    return SimpleNamespace(
        service_name="risk",
        kafka_bootstrap_servers=bootstrap,
        kafka_session_timeout_ms=10_000,
        kafka_heartbeat_interval_ms=1_000,
        consumer_batch_max=3,
        consumer_linger_ms=1,
        consumer_fetch_max_wait_ms=5,
        suspect_threshold=0.6,
        red_threshold=0.0,
        yellow_threshold=0.0,
        undervalue_ratio=__import__("decimal").Decimal("0.5"),
        small_parcel_value_cny=5000,
        transit_hubs=[],
        random_selection_rate=0.0,
        random_selection_salt="s",
        fx_rates_to_cny=fx,
    )


def plain_declaration(did: str, office: str) -> dict:
    d = example_declaration(declaration_id=did, customs_office=office)
    d["lines"] = [{**d["lines"][1], "line_no": 1, "description": "Kitchen towels of cotton terry", "hs_code": "630260"}]
    return d


class Replica:
    def __init__(self, name: str, url: str, settings: SimpleNamespace, topic: str, out_topic: str, group: str) -> None:
        self.name = name
        self.engine = create_async_engine(url)
        sessionmaker = make_sessionmaker(self.engine)
        self.registry = Registry(sessionmaker)
        self.producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap_servers, acks="all", linger_ms=1)
        self.pipeline = AssessmentPipeline(
            sessionmaker=sessionmaker,
            registry=self.registry,
            temporal=None,
            producer=self.producer,
            settings=settings,
            assessments_topic=out_topic,
        )
        self.consumer = DeclarationBatchConsumer(settings=settings, topic=topic, group_id=group, pipeline=self.pipeline)

    async def start(self) -> None:
        await self.registry.reload_all()
        await self.producer.start()
        await self.consumer.start()

    def assigned(self) -> set:
        return set(self.consumer._consumer.assignment()) if self.consumer._consumer else set()

    async def stop(self) -> None:
        await self.consumer.stop()
        await self.producer.stop()
        await self.engine.dispose()


async def test_two_replicas_assess_once_and_share_the_red_quota(http, stack) -> None:
    from services.risk.settings import Settings

    env = stack_mod.service_env(stack.profile, stack.secrets, "risk")
    with mock.patch.dict(os.environ, env):
        fx = dict(Settings().fx_rates_to_cny)
    office = "Q" + unique_id("").strip("-")[:8]
    r = await http.put(
        f"{stack.url('risk')}/v1/capacity/{office}/red-quota",
        json={"per_day": QUOTA, "reason": "two examination bays"},
        headers=stack.auth("officer"),
    )
    assert r.status_code == 403  # an officer may not set it
    r = await http.put(
        f"{stack.url('risk')}/v1/capacity/{office}/red-quota",
        json={"per_day": QUOTA, "reason": "two examination bays"},
        headers=stack.auth("supervisor"),
    )
    assert r.status_code == 200, r.text
    bad = await http.put(
        f"{stack.url('risk')}/v1/capacity/{office}/red-quota",
        json={"per_day": -1, "reason": "x"},
        headers=stack.auth("supervisor"),
    )
    assert bad.status_code == 422

    run = unique_id("RQ").lower()
    topic, out_topic, group = f"test.replicas.{run}", f"test.replicas.{run}.assessed", f"test-replicas-{run}"
    await ensure_topics(stack.kafka, [topic, out_topic], partitions=2)
    settings = replica_settings(stack.kafka, fx)
    replicas = [Replica(n, env["DATABASE_URL"], settings, topic, out_topic, group) for n in ("a", "b")]
    try:
        for replica in replicas:
            await replica.start()

        # both members hold a partition before anything is sent
        async def shared() -> bool:
            a, b = (r.assigned() for r in replicas)
            return bool(a and b and not a & b)

        await eventually(shared, within=60, what="the two partitions shared by the two replicas")

        ids = [f"{office}-{run}-{i:03d}" for i in range(DECLARATIONS)]
        producer = AIOKafkaProducer(bootstrap_servers=stack.kafka, acks="all")
        await producer.start()
        try:
            for n, did in enumerate(ids):
                value = json.dumps(plain_declaration(did, office)).encode()
                # each declaration twice, on both partitions: both replicas see it, one assessment is kept
                await producer.send_and_wait(topic, value=value, key=did.encode(), partition=n % 2)
                await producer.send_and_wait(topic, value=value, key=did.encode(), partition=(n + 1) % 2)
        finally:
            await producer.stop()

        async def stored():
            async with replicas[0].engine.connect() as conn:
                rows = (
                    await conn.execute(
                        text(
                            "SELECT declaration_id, result, published_at FROM assessments "
                            "WHERE declaration_id = ANY(:ids)"
                        ),
                        {"ids": ids},
                    )
                ).all()
            return rows if len(rows) == DECLARATIONS and all(r.published_at for r in rows) else None

        rows = await eventually(stored, within=120, what="every declaration assessed and published")
        lanes = [row.result["lines"][0]["lane"] for row in rows]
        assert lanes.count("red") == QUOTA
        assert lanes.count("yellow") == DECLARATIONS - QUOTA
        cut = [row.result["lines"][0] for row in rows if row.result["lines"][0]["lane"] == "yellow"]
        assert all(any("red quota of 7 lines" in reason for reason in line["reasons"]) for line in cut)

        async with replicas[0].engine.connect() as conn:
            day = (
                await conn.execute(
                    text("SELECT quota, granted, refused FROM red_quota_days WHERE customs_office = :o"), {"o": office}
                )
            ).all()
        assert [tuple(d) for d in day] == [(QUOTA, QUOTA, DECLARATIONS - QUOTA)]

        # what was published says the same as what was stored
        published = await find_on_topic(stack.kafka, out_topic, lambda v: v.get("correlation_id") == ids[-1])
        stored_lane = next(row.result for row in rows if row.declaration_id == ids[-1])["lines"][0]["lane"]
        assert published["payload"]["lines"][0]["lane"] == stored_lane

        view = (await http.get(f"{stack.url('risk')}/v1/capacity", headers=stack.auth("officer"))).json()
        mine = next(q for q in view["red_quotas"] if q["customs_office"] == office)
        assert mine["latest_day"]["granted"] == QUOTA and mine["set_by"].startswith("Zhang Min")
    finally:
        await asyncio.gather(*(r.stop() for r in replicas), return_exceptions=True)
