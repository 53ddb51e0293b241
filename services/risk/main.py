"""Risk service: the recordation registry, targeting profiles, line matching and scoring, and case starts."""

import asyncio

from fastapi import FastAPI

from services.risk.api import router
from services.risk.capacity import CapacityGovernor
from services.risk.consumer import DeclarationBatchConsumer, case_events_handler
from services.risk.service import AssessmentPipeline, Registry
from services.risk.settings import Settings
from shared.contracts.events import TOPIC_CASE_EVENTS, TOPIC_DECLARATIONS
from shared.kafka import EventConsumer, consumers_ready
from shared.runtime import service_app
from shared.temporal import LazyClient

settings = Settings()


async def on_start(app: FastAPI) -> None:
    rt = app.state.runtime
    app.state.temporal = LazyClient(settings.temporal_address, settings.temporal_namespace)
    capacity = CapacityGovernor(default_share=settings.red_capacity, by_office=settings.red_capacity_by_office,
                                base_threshold=settings.red_threshold, window=settings.capacity_window,
                                min_samples=settings.capacity_min_samples)
    app.state.registry = Registry(rt.sessionmaker, capacity=capacity)
    await app.state.registry.reload_all()
    app.state.refresh = asyncio.create_task(app.state.registry.refresh_forever(settings.registry_refresh_s))
    app.state.pipeline = AssessmentPipeline(sessionmaker=rt.sessionmaker, registry=app.state.registry,
                                            temporal=app.state.temporal, producer=rt.producer, settings=settings)
    app.state.case_starter = asyncio.create_task(app.state.pipeline.case_starter.run_forever())
    app.state.consumers = [
        DeclarationBatchConsumer(settings=settings, topic=TOPIC_DECLARATIONS, group_id="risk-declarations",
                                 pipeline=app.state.pipeline),
        EventConsumer(settings=settings, topics=[TOPIC_CASE_EVENTS], group_id="risk-case-outcomes",
                      handler=case_events_handler(rt.sessionmaker, app.state.registry.history),
                      producer=rt.producer),
    ]
    for consumer in app.state.consumers:
        await consumer.start()


async def on_stop(app: FastAPI) -> None:
    app.state.refresh.cancel()
    app.state.case_starter.cancel()
    for consumer in app.state.consumers:
        await consumer.stop()


app = service_app(
    settings,
    title="IPR risk service",
    description="Keeps the recordation registry (approval, amendment, renewal, expiry, revocation) and the "
    "officers' targeting profiles, matches every declaration line against the active recorded rights of its "
    "jurisdiction, scores it with reasons and a lane, publishes risk.assessments.v1 and opens one case workflow "
    "per suspected line.",
    routers=[router],
    on_start=on_start,
    on_stop=on_stop,
    extra_readiness=lambda app: [*consumers_ready(app.state.consumers), app.state.temporal.check],
)
