"""Risk service: the recordation registry, targeting profiles, line matching and scoring, and case starts."""

import gc
import sys
import time
from collections.abc import Callable

from fastapi import FastAPI
from prometheus_client import Histogram

from services.risk.api import router
from services.risk.capacity import CapacityGovernor
from services.risk.consumer import DeclarationBatchConsumer, case_events_handler
from services.risk.learning import jobs as learning_jobs
from services.risk.learning.api import router as learning_router
from services.risk.learning.serving import ModelServer
from services.risk.learning.settings import LearningSettings
from services.risk.live_registry import Registry
from services.risk.parcels import parse_parcel
from services.risk.pipeline import AssessmentPipeline
from services.risk.settings import Settings
from shared.contracts.events import TOPIC_CASE_EVENTS, TOPIC_DECLARATIONS, TOPIC_PARCELS
from shared.kafka import EventConsumer, consumers_ready, make_producer, start_client, stop_quietly
from shared.runtime import service_app
from shared.supervise import loop_every
from shared.temporal import LazyClient

settings = Settings()
learning = LearningSettings()

GC_PAUSE = Histogram(
    "ipr_risk_gc_pause_seconds",
    "Garbage-collector pauses of the risk service",
    ["generation"],
    buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5),
)
_gc_started = [0.0]


def _gc_callback(phase: str, info: dict) -> None:
    if phase == "start":
        _gc_started[0] = time.perf_counter()
    else:
        GC_PAUSE.labels(str(info.get("generation"))).observe(time.perf_counter() - _gc_started[0])


gc.callbacks.append(_gc_callback)
# A batch of declarations lives for a few milliseconds but allocates far more than 700 objects (the default
# young-generation threshold), so its objects were promoted and the full collections grew to hundreds of
# milliseconds. A larger young generation lets them die young; the long-lived index is frozen after builds.
# Full collections (hundreds of milliseconds over the caches) only every ~1000 middle-generation passes.
gc.set_threshold(settings.gc_young_threshold, 50, 1000)
# Assessment runs in the consumers' threads. When the event loop wakes for a database or broker answer it
# waits for the interpreter lock until the assessing thread's switch interval ends: 1 ms instead of 5.
sys.setswitchinterval(settings.switch_interval_s)


async def on_start(app: FastAPI) -> None:
    rt = app.state.runtime
    app.state.temporal = LazyClient(settings.temporal_address, settings.temporal_namespace)
    capacity = CapacityGovernor(
        default_share=settings.red_capacity,
        by_office=settings.red_capacity_by_office,
        base_threshold=settings.red_threshold,
        window=settings.capacity_window,
        min_samples=settings.capacity_min_samples,
    )
    app.state.registry = Registry(rt.sessionmaker, capacity=capacity)
    await app.state.registry.reload_all()
    # learning: the champion and the shadow model beside the rules, their refresh and scheduled training
    app.state.registry.models = ModelServer(
        weight=learning.model_weight,
        floor=learning.model_floor,
        red_threshold=settings.red_threshold,
        yellow_threshold=settings.yellow_threshold,
        enabled=learning.learning_enabled,
    )
    await app.state.registry.models.refresh(rt.sessionmaker)

    async def learning_loop(up: Callable[[], None]) -> None:
        up()
        await learning_jobs.run(
            app.state.registry.models,
            rt.sessionmaker,
            refresh_s=learning.model_refresh_s,
            train_every_s=learning.learning_train_every_s,
            seed=learning.learning_seed,
            red_threshold=settings.red_threshold,
        )

    rt.supervise("learning", learning_loop)
    rt.supervise(
        "registry-refresh",
        loop_every(app.state.registry.refresh, every=settings.registry_refresh_s, what="registry refresh"),
    )
    # Assessments leave on a producer of their own that lingers less than the shared one (latency).
    app.state.assessments_producer = make_producer(
        settings, linger_ms=settings.assessments_linger_ms, client_id="risk-assessments"
    )
    await start_client(app.state.assessments_producer, what="risk assessments producer")
    app.state.pipeline = AssessmentPipeline(
        sessionmaker=rt.sessionmaker,
        registry=app.state.registry,
        temporal=app.state.temporal,
        producer=app.state.assessments_producer,
        settings=settings,
    )
    rt.supervise("case-starter", app.state.pipeline.case_starter.run_forever)
    health = rt.health()
    app.state.consumers = [
        DeclarationBatchConsumer(
            settings=settings,
            topic=TOPIC_DECLARATIONS,
            group_id="risk-declarations",
            pipeline=app.state.pipeline,
            producer=rt.producer,
            health=health,
        ),
        DeclarationBatchConsumer(
            settings=settings,
            topic=TOPIC_PARCELS,
            group_id="risk-parcels",
            pipeline=app.state.pipeline,
            parser=parse_parcel,
            producer=rt.producer,
            health=health,
        ),
        EventConsumer(
            settings=settings,
            topics=[TOPIC_CASE_EVENTS],
            group_id="risk-case-outcomes",
            handler=case_events_handler(rt.sessionmaker, app.state.registry.history),
            producer=rt.producer,
            health=health,
        ),
    ]
    for consumer in app.state.consumers:
        await consumer.start()


async def on_stop(app: FastAPI) -> None:
    for consumer in app.state.consumers:
        await consumer.stop()
    await stop_quietly(app.state.assessments_producer)


app = service_app(
    settings,
    title="IPR risk service",
    description="Keeps the recordation registry (approval, amendment, renewal, expiry, revocation), the "
    "officers' targeting profiles and campaigns, matches every line of declarations and of manifests' parcels "
    "against the active recorded rights of its jurisdiction, scores it with reasons and a lane, publishes "
    "risk.assessments.v1 (declarations) and customs.parcel-results.v1 (parcels) and opens one case workflow "
    "per declaration (or parcel) and rights holder of the suspected lines.",
    routers=[router, learning_router],
    on_start=on_start,
    on_stop=on_stop,
    extra_readiness=lambda app: [*consumers_ready(app.state.consumers), app.state.temporal.check],
)
