"""Kafka consumers of the intake service.

* ``customs.declarations.v1``: declarations published straight to the topic by clearance
  systems are validated and stored like HTTP ones; unusable records go to the dead-letter
  topic with the reason. Records intake itself published are recognised and skipped.
* ``risk.assessments.v1``: the assessment is attached to the stored declaration.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import TypeVar

from aiokafka import ConsumerRecord
from pydantic import BaseModel, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.intake import edge, service
from shared.batch_consumer import BatchHandler
from shared.contracts.bounds import unstorable_text
from shared.contracts.declaration import DeclarationV1
from shared.contracts.events import CaseEventV1, EventEnvelope, RiskAssessedV1
from shared.kafka import Handler, PoisonMessage

M = TypeVar("M", bound=BaseModel)


def parse_declaration(raw: bytes | None) -> DeclarationV1:
    """Parse a topic record into the contract, or explain why it cannot be used."""
    if not raw:
        raise PoisonMessage("empty record")
    try:
        declaration = DeclarationV1.model_validate_json(raw)
    except ValidationError as exc:
        errors = [{"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]} for e in exc.errors()]
        kind = "malformed_json" if any(e["type"] == "json_invalid" for e in errors) else "schema_violation"
        raise PoisonMessage(kind, errors) from exc
    refused = edge.refusals(declaration, now=edge.clock.now())
    if b"\\u0000" in raw:  # a NUL cannot be stored (unpaired surrogates the JSON parser refuses itself)
        refused += [
            {"loc": list(loc), "type": "unstorable_text", "msg": "text must not contain NUL characters"}
            for loc in unstorable_text(json.loads(raw))
        ]
    if refused:
        raise PoisonMessage("schema_violation", refused)
    return declaration


def declarations_handler(sessionmaker: async_sessionmaker[AsyncSession]) -> Handler:
    async def handle(record: ConsumerRecord) -> None:
        declaration = parse_declaration(record.value)
        try:
            async with sessionmaker() as session, session.begin():
                await service.accept(session, declaration=declaration, source="kafka")
        except service.RevisionConflict as exc:
            raise PoisonMessage("revision_conflict", str(exc)) from exc

    return handle


def _applied_once(
    sessionmaker: async_sessionmaker[AsyncSession],
    model: type[M],
    apply: Callable[[AsyncSession, M], Awaitable[None]],
    what: str,
) -> Handler:
    """A handler for platform events: parse the envelope, apply the payload once per event id."""

    async def handle(record: ConsumerRecord) -> None:
        try:
            envelope = EventEnvelope.model_validate_json(record.value or b"")
            payload = model.model_validate(envelope.payload)
        except ValidationError as exc:
            raise PoisonMessage(f"unreadable {what}", str(exc)) from exc
        async with sessionmaker() as session, session.begin():
            if await service.mark_applied(session, event_id=str(envelope.event_id), topic=record.topic):
                await apply(session, payload)

    return handle


def assessments_handler(sessionmaker: async_sessionmaker[AsyncSession]) -> Handler:
    """Attach each assessment to its stored declaration."""
    return _applied_once(
        sessionmaker,
        RiskAssessedV1,
        lambda session, assessed: service.attach_assessment(session, assessed=assessed),
        "assessment",
    )


def case_events_handler(sessionmaker: async_sessionmaker[AsyncSession]) -> Handler:
    """Follow each case's state per declaration line."""
    return _applied_once(
        sessionmaker, CaseEventV1, lambda session, event: service.track_case(session, event=event), "case event"
    )


def parcels_handler(sessionmaker: async_sessionmaker[AsyncSession], kick: Callable[[], None]) -> BatchHandler:
    """Parcels published straight to ``customs.parcels.v1``: stored once per batch; rejected ones get a result."""
    from services.intake.manifests import apply_topic_parcels, parse_topic_parcel

    async def handle(records: list[ConsumerRecord]) -> list[tuple]:
        parsed = [parse_topic_parcel(r) for r in records]
        async with sessionmaker() as session, session.begin():
            dead = await apply_topic_parcels(session, parsed)
        kick()
        return dead

    return handle


def parcel_results_handler(sessionmaker: async_sessionmaker[AsyncSession]) -> BatchHandler:
    """Per-parcel results from ``customs.parcel-results.v1``: kept per parcel, readable by manifest."""
    from services.intake.manifests import apply_results
    from shared.contracts.parcels import ParcelResultV1

    async def handle(records: list[ConsumerRecord]) -> list[tuple]:
        results, dead = [], []
        for record in records:
            try:
                envelope = EventEnvelope.model_validate_json(record.value or b"")
                results.append(ParcelResultV1.model_validate(envelope.payload))
            except ValidationError as exc:
                dead.append((record, "unreadable parcel result", str(exc)))
        if results:
            async with sessionmaker() as session, session.begin():
                await apply_results(session, results)
        return dead

    return handle
