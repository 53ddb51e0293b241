"""Records on every topic, as the running platform writes them, against the published contracts: the
CloudEvents headers (Kafka binding, binary content mode) and the key and value schemas in ``contracts/``.
Records without the headers are still read."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord

from shared.contracts.cases import consignment_case_id
from shared.contracts.events import (
    TOPIC_ASSESSMENTS,
    TOPIC_CASE_EVENTS,
    TOPIC_DECLARATIONS,
    TOPIC_DECLARATIONS_DLQ,
    TOPIC_HOLDS,
)
from shared.contracts.topics import cloudevent_headers, read_cloudevent
from tests.factories import example_declaration
from tests.helpers import case_in_state, eventually, produce, unique_id

pytestmark = pytest.mark.integration

PUBLISHED = Path(__file__).resolve().parents[2] / "contracts"


def _message(topic: str) -> dict[str, Any]:
    document = yaml.safe_load((PUBLISHED / "asyncapi.yaml").read_text(encoding="utf-8"))
    channel = next(c for c in document["channels"].values() if c["address"] == topic)
    return document["components"]["messages"][channel["messages"]["record"]["$ref"].rsplit("/", 1)[1]]


def _validator(name: str) -> jsonschema.Draft202012Validator:
    schema = json.loads((PUBLISHED / "schemas" / name).read_text(encoding="utf-8"))
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())


async def _records(bootstrap: str, topic: str, key: str, *, at_least: int = 1, within: float = 60) -> list:
    """The records of ``topic`` with ``key``, read from the beginning, once there are ``at_least`` of them."""
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, group_id=None, auto_offset_reset="earliest", enable_auto_commit=False
    )
    await consumer.start()
    found: list[ConsumerRecord] = []
    try:
        deadline = time.monotonic() + within
        while time.monotonic() < deadline and len(found) < at_least:
            for records in (await consumer.getmany(timeout_ms=500)).values():
                found += [r for r in records if r.key == key.encode()]
    finally:
        await consumer.stop()
    assert len(found) >= at_least, f"{len(found)} records with key {key} on {topic} within {within}s"
    return found


def _check(record: ConsumerRecord, topic: str) -> dict[str, str]:
    """The record's headers and value conform to the published contract; returns its CloudEvents attributes."""
    message = _message(topic)
    headers = {name: value.decode() for name, value in record.headers}
    errors = [e.message for e in jsonschema.Draft202012Validator(message["headers"]).iter_errors(headers)]
    assert not errors, (topic, headers, errors)
    value = json.loads(record.value)
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in _validator(f"{topic}-value.json").iter_errors(value)]
    assert not errors, (topic, errors)
    assert not list(_validator(f"{topic}-key.json").iter_errors(record.key.decode()))
    attributes = read_cloudevent(record.headers)
    assert attributes is not None, headers
    return attributes


async def test_every_topic_carries_cloudevents_headers_and_matches_its_schema(http, stack) -> None:
    body = example_declaration(declaration_id=unique_id("CN5300-CE"))
    declaration_id = body["declaration_id"]
    sent = await http.post(f"{stack.url('intake')}/v1/declarations", headers=stack.auth("clearance"), json=body)
    assert sent.status_code == 202, sent.text
    case_id = consignment_case_id(declaration_id, "RH-0001")
    await case_in_state(http, stack, case_id, "suspended", within=120)

    # intake's relay: the declaration as received, as-is, with the topic's event type
    (declared,) = await _records(stack.kafka, TOPIC_DECLARATIONS, declaration_id)
    ce = _check(declared, TOPIC_DECLARATIONS)
    assert ce["type"] == "declaration.submitted" and ce["source"] == "urn:ipr:service:intake"
    assert ce["specversion"] == "1.0" and ce["content-type"] == "application/json"

    # risk's own producer
    (assessed,) = await _records(stack.kafka, TOPIC_ASSESSMENTS, declaration_id)
    ce = _check(assessed, TOPIC_ASSESSMENTS)
    value = json.loads(assessed.value)
    assert (ce["type"], ce["id"], ce["source"]) == ("risk.assessed", value["event_id"], "urn:ipr:service:risk")

    # the holds outbox: the envelope's id, type and time
    hold = (await _records(stack.kafka, TOPIC_HOLDS, declaration_id))[0]
    ce = _check(hold, TOPIC_HOLDS)
    value = json.loads(hold.value)
    assert (ce["id"], ce["type"]) == (value["event_id"], "hold.placed") and value["payload"]["case_id"] == case_id
    assert ce["source"] == "urn:ipr:service:holds"

    # the case worker's events, one per state change
    events = await _records(stack.kafka, TOPIC_CASE_EVENTS, case_id, at_least=2)
    seen = [_check(r, TOPIC_CASE_EVENTS) for r in events]
    assert all(ce["type"] == json.loads(r.value)["event_type"] for ce, r in zip(seen, events, strict=True))
    assert len({ce["id"] for ce in seen}) == len(seen)


async def test_records_without_headers_are_read_and_refused_ones_keep_theirs(http, stack) -> None:
    # a partner's declaration without any CloudEvents header is taken like any other
    good = example_declaration(declaration_id=unique_id("CN5300-NOCE"))
    await produce(stack.kafka, TOPIC_DECLARATIONS, json.dumps(good).encode(), key=good["declaration_id"].encode())

    async def stored() -> bool:
        r = await http.get(
            f"{stack.url('intake')}/v1/declarations/{good['declaration_id']}", headers=stack.auth("officer")
        )
        return r.status_code == 200

    await eventually(stored, within=60, what="declaration published without headers stored")

    # an unusable record is dead-lettered with headers of its own and the refused record's attributes
    bad_key = unique_id("CE-BAD")
    await produce(stack.kafka, TOPIC_DECLARATIONS, b"{not json", key=bad_key.encode())
    (letter,) = await _records(stack.kafka, TOPIC_DECLARATIONS_DLQ, bad_key)
    ce = _check(letter, TOPIC_DECLARATIONS_DLQ)
    assert ce["type"] == "declaration.dead_lettered" and ce["source"] == "urn:ipr:service:intake"
    value = json.loads(letter.value)
    assert value["reason"] == "malformed_json" and value["cloudevent"] is None

    # a refused record that had the headers: the dead letter names its id, source and type
    key = unique_id("CE-BAD")
    producer = AIOKafkaProducer(bootstrap_servers=stack.kafka, acks="all")
    await producer.start()
    try:
        headers = cloudevent_headers(
            event_id=key,
            event_type="declaration.submitted",
            source="urn:example:clearance",
            time="2026-05-04T00:00:00Z",
        )
        await producer.send_and_wait(TOPIC_DECLARATIONS, value=b"[]", key=key.encode(), headers=headers)
    finally:
        await producer.stop()
    (letter,) = await _records(stack.kafka, TOPIC_DECLARATIONS_DLQ, key)
    _check(letter, TOPIC_DECLARATIONS_DLQ)
    value = json.loads(letter.value)
    assert value["reason"] == "schema_violation"
    assert value["cloudevent"]["id"] == key and value["cloudevent"]["source"] == "urn:example:clearance"
