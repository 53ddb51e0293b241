"""Risk service: the recordation registry, line matching and scoring, and the start of case workflows."""

import asyncio

from fastapi import FastAPI

from services.risk.api import router
from services.risk.consumer import declarations_handler
from services.risk.service import AssessmentPipeline, Registry
from services.risk.settings import Settings
from shared.contracts.events import TOPIC_DECLARATIONS
from shared.kafka import EventConsumer, consumers_ready
from shared.runtime import service_app
from shared.temporal import LazyClient

settings = Settings()


async def on_start(app: FastAPI) -> None:
    rt = app.state.runtime
    app.state.temporal = LazyClient(settings.temporal_address, settings.temporal_namespace)
    app.state.registry = Registry(rt.sessionmaker)
    await app.state.registry.reload()
    app.state.refresh = asyncio.create_task(app.state.registry.refresh_forever(settings.registry_refresh_s))
    app.state.pipeline = AssessmentPipeline(sessionmaker=rt.sessionmaker, registry=app.state.registry,
                                            temporal=app.state.temporal, producer=rt.producer, settings=settings)
    app.state.consumers = [
        EventConsumer(settings=settings, topics=[TOPIC_DECLARATIONS], group_id="risk-declarations",
                      handler=declarations_handler(app.state.pipeline), producer=rt.producer),
    ]
    for consumer in app.state.consumers:
        await consumer.start()


async def on_stop(app: FastAPI) -> None:
    app.state.refresh.cancel()
    for consumer in app.state.consumers:
        await consumer.stop()


app = service_app(
    settings,
    title="IPR risk service",
    description="Keeps the recordation registry, matches every declaration line against the active recorded "
    "rights of its jurisdiction, scores it with reasons and a lane, publishes risk.assessments.v1 and opens "
    "one case workflow per suspected line.",
    routers=[router],
    on_start=on_start,
    on_stop=on_stop,
    extra_readiness=lambda app: [*consumers_ready(app.state.consumers), app.state.temporal.check],
)
