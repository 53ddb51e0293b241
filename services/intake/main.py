"""Intake service: accepts declarations from clearance systems (HTTP and Kafka) and publishes them for risk."""

from datetime import timedelta

from fastapi import FastAPI

from services.intake import service
from services.intake.api import manifests_router, router
from services.intake.consumer import (
    assessments_handler,
    case_events_handler,
    declarations_handler,
    parcel_results_handler,
    parcels_handler,
)
from services.intake.models import outbox
from services.intake.settings import Settings
from shared.batch_consumer import BatchConsumer
from shared.contracts.events import (
    TOPIC_ASSESSMENTS,
    TOPIC_CASE_EVENTS,
    TOPIC_DECLARATIONS,
    TOPIC_PARCEL_RESULTS,
    TOPIC_PARCELS,
)
from shared.kafka import EventConsumer, consumers_ready
from shared.runtime import service_app
from shared.supervise import loop_every

settings = Settings()


async def on_start(app: FastAPI) -> None:
    rt = app.state.runtime
    health = rt.health()
    app.state.consumers = [
        EventConsumer(
            settings=settings,
            topics=[TOPIC_DECLARATIONS],
            group_id="intake-declarations",
            handler=declarations_handler(rt.sessionmaker),
            producer=rt.producer,
            health=health,
        ),
        # An assessment can overtake the declaration it assesses when both came by the topic: wait longer
        # for the declaration before giving up on the record.
        EventConsumer(
            settings=settings,
            topics=[TOPIC_ASSESSMENTS],
            group_id="intake-assessments",
            handler=assessments_handler(rt.sessionmaker),
            producer=rt.producer,
            health=health,
            max_attempts=12,
        ),
        EventConsumer(
            settings=settings,
            topics=[TOPIC_CASE_EVENTS],
            group_id="intake-case-events",
            handler=case_events_handler(rt.sessionmaker),
            producer=rt.producer,
            health=health,
        ),
        BatchConsumer(
            settings=settings,
            topic=TOPIC_PARCELS,
            group_id="intake-parcels",
            handle=parcels_handler(rt.sessionmaker, rt.kick),
            producer=rt.producer,
            health=health,
            max_records=settings.consumer_batch_max,
        ),
        BatchConsumer(
            settings=settings,
            topic=TOPIC_PARCEL_RESULTS,
            group_id="intake-parcel-results",
            handle=parcel_results_handler(rt.sessionmaker),
            producer=rt.producer,
            health=health,
            max_records=settings.consumer_batch_max,
        ),
    ]
    for consumer in app.state.consumers:
        await consumer.start()

    async def reconcile() -> None:
        async with rt.sessionmaker() as session, session.begin():
            queued = await service.republish_unassessed(
                session,
                older_than=timedelta(seconds=settings.reconcile_after_s),
                max_republish=settings.reconcile_max_republish,
            )
        if queued:
            rt.kick()

    rt.supervise(
        "reconcile-declarations",
        loop_every(reconcile, every=settings.reconcile_interval_s, what="publishing unassessed declarations again"),
    )


async def on_stop(app: FastAPI) -> None:
    for consumer in app.state.consumers:
        await consumer.stop()


app = service_app(
    settings,
    title="IPR intake service",
    description="Accepts customs declarations (contract declaration.v1) and parcel manifests (contract "
    "manifest.v1) from clearance systems over HTTP or the customs.declarations.v1 / customs.parcels.v1 topics, "
    "validates them strictly, stores each revision once and publishes it for risk assessment; keeps every "
    "parcel's result, readable by manifest. Bad records on the topics go to their .dlq topic with the reason. A "
    "declaration still unassessed after RECONCILE_AFTER_S is published again.",
    routers=[router, manifests_router],
    outbox=outbox,
    on_start=on_start,
    on_stop=on_stop,
    extra_readiness=lambda app: consumers_ready(app.state.consumers),
    body_limits={"/v1/manifests": settings.max_manifest_bytes},
    # a manifest is read as a stream; each parcel's text is checked as it is read (rejected alone)
    streamed_paths=("/v1/manifests",),
)


def _openapi() -> dict:
    """The generated schema, plus the manifest contract the streamed manifest route reads."""
    if app.openapi_schema:
        return app.openapi_schema
    from fastapi import FastAPI as _FastAPI

    from shared.contracts.parcels import ManifestV1

    schema = _FastAPI.openapi(app)
    manifest = ManifestV1.model_json_schema(ref_template="#/components/schemas/{model}")
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components.update(manifest.pop("$defs", {}))
    components["ManifestV1"] = manifest
    app.openapi_schema = schema
    return schema


# FastAPI serves /openapi.json through the app's ``openapi`` attribute: this app's own answers it.
vars(app)["openapi"] = _openapi
