"""Intake against the real stack: contract checks, auth, idempotency, the Kafka path and the dead-letter topic."""

from __future__ import annotations

import json

import pytest

from shared.contracts.events import TOPIC_DECLARATIONS, TOPIC_DECLARATIONS_DLQ
from tests.factories import example_declaration
from tests.helpers import eventually, find_on_topic, produce, unique_id

pytestmark = pytest.mark.integration


def declaration(**changes) -> dict:
    return example_declaration(declaration_id=unique_id("CN5300-IT"), **changes)


async def post(http, stack, body, who="clearance", raw: bytes | None = None):
    headers = {**stack.auth(who), "Content-Type": "application/json"}
    content = raw if raw is not None else json.dumps(body).encode()
    return await http.post(f"{stack.url('intake')}/v1/declarations", content=content, headers=headers)


async def test_accepts_and_is_idempotent(http, stack) -> None:
    body = declaration()
    first = await post(http, stack, body)
    assert first.status_code == 202, first.text
    assert first.json()["declaration_id"] == body["declaration_id"] and first.json()["revision"] == 1
    again = await post(http, stack, body)
    assert again.status_code == 202
    assert again.json()["received_at"] == first.json()["received_at"]

    changed = {**body, "lines": [{**body["lines"][0], "quantity": 501}]}
    conflict = await post(http, stack, changed)
    assert conflict.status_code == 409
    assert conflict.json()["error"]["code"] == "revision_conflict"

    # a new revision is a new fact, accepted
    revised = await post(http, stack, {**changed, "revision": 2})
    assert revised.status_code == 202

    async def assessed():
        r = await http.get(
            f"{stack.url('intake')}/v1/declarations/{body['declaration_id']}?revision=1", headers=stack.auth("officer")
        )
        return r.json() if r.status_code == 200 and r.json()["status"] == "assessed" else None

    view = await eventually(assessed, what="assessment attached")
    assert view["revisions"] == [1, 2]
    events = [h["event"] for h in view["history"] if h["revision"] == 1]
    assert events == ["received", "assessed"]
    line1 = view["lines"][0]
    assert line1["assessment"]["suspected"] is True and line1["assessment"]["lane"] == "red"
    assert line1["case_id"] == f"IPR-{body['declaration_id']}-RH-0001"
    assert view["lines"][1]["assessment"]["suspected"] is False


@pytest.mark.parametrize(
    ("mutate", "status", "code"),
    [
        (lambda d: d.update(jurisdiction="XX"), 422, "unknown_jurisdiction"),
        (lambda d: d.update(lines=[]), 422, "schema_violation"),
        (lambda d: d["lines"][0].update(quantity=-5), 422, "schema_violation"),
        (lambda d: d["lines"][0].update(unit_value=-1), 422, "schema_violation"),
        (lambda d: d.update(unexpected_field=1), 422, "schema_violation"),
        (lambda d: d.pop("consignor"), 422, "schema_violation"),
        (lambda d: d.update(submitted_at="2026-11-20T08:15:00"), 422, "schema_violation"),
    ],
)
async def test_contract_violations_get_reasons(http, stack, mutate, status, code) -> None:
    body = declaration()
    mutate(body)
    response = await post(http, stack, body)
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code
    assert error["details"], "a machine-readable list of what is wrong"


async def test_malformed_json_and_oversized_bodies(http, stack) -> None:
    bad = await post(http, stack, None, raw=b'{"declaration_id": ')
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "malformed_json"
    huge = await post(http, stack, None, raw=b"{" + b" " * 2_000_000 + b"}")
    assert huge.status_code == 413 and huge.json()["error"]["code"] == "body_too_large"


async def test_callers_are_checked(http, stack) -> None:
    body = declaration()
    url = f"{stack.url('intake')}/v1/declarations"
    missing = await http.post(url, json=body)
    assert missing.status_code == 401 and missing.json()["error"]["code"] == "missing_token"
    wrong = await post(http, stack, body, who="not-a-real-token-at-all")
    assert wrong.status_code == 401 and wrong.json()["error"]["code"] == "malformed_token"
    officer = await post(http, stack, body, who="officer")
    assert officer.status_code == 403 and officer.json()["error"]["code"] == "forbidden_role"
    holder = await post(http, stack, body, who="holder")
    assert holder.status_code == 403
    unknown = await http.get(f"{url}/NO-SUCH-DECL", headers=stack.auth("officer"))
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "declaration_not_found"


async def test_an_officer_reads_the_declarations_of_its_own_offices_only(http, stack) -> None:
    body = declaration()  # lodged at CN5300
    assert (await post(http, stack, body)).status_code == 202
    url = f"{stack.url('intake')}/v1/declarations/{body['declaration_id']}"
    own = await http.get(url, headers=stack.auth("officer"))
    assert own.status_code == 200 and own.json()["declaration"]["customs_office"] == "CN5300"
    other = await http.get(url, headers=stack.auth("officer_b"))  # CN2200
    assert other.status_code == 403 and other.json()["error"]["code"] == "outside_office"
    assert "CN5300" in other.json()["error"]["message"]
    other = await http.get(f"{url}?revision=1", headers=stack.auth("officer_b"))
    assert other.status_code == 403
    for who in ("supervisor", "clearance"):
        r = await http.get(url, headers=stack.auth(who))
        assert r.status_code == 200, (who, r.text)


async def test_declarations_published_straight_to_the_topic_are_taken_and_bad_ones_dead_lettered(http, stack) -> None:
    garbage_key = unique_id("GARBAGE").encode()
    await produce(stack.kafka, TOPIC_DECLARATIONS, b"{not json", key=garbage_key)
    invalid = declaration(jurisdiction="XX")
    await produce(stack.kafka, TOPIC_DECLARATIONS, json.dumps(invalid).encode(), key=invalid["declaration_id"].encode())
    good = declaration()
    await produce(stack.kafka, TOPIC_DECLARATIONS, json.dumps(good).encode(), key=good["declaration_id"].encode())

    async def stored():
        r = await http.get(
            f"{stack.url('intake')}/v1/declarations/{good['declaration_id']}", headers=stack.auth("clearance")
        )
        return r.json() if r.status_code == 200 and r.json()["status"] == "assessed" else None

    view = await eventually(stored, what="declaration from the topic stored and assessed")
    assert view["source"] == "kafka"
    assert view["case_ids"] == [f"IPR-{good['declaration_id']}-RH-0001"]

    dead = await find_on_topic(stack.kafka, TOPIC_DECLARATIONS_DLQ, lambda v: v.get("key") == garbage_key.decode())
    assert dead["reason"] == "malformed_json" and dead["raw"] == "{not json"
    dead2 = await find_on_topic(
        stack.kafka, TOPIC_DECLARATIONS_DLQ, lambda v: v.get("key") == invalid["declaration_id"]
    )
    assert dead2["reason"] == "schema_violation"
    assert "unknown jurisdiction" in json.dumps(dead2["details"])
    missing = await http.get(
        f"{stack.url('intake')}/v1/declarations/{invalid['declaration_id']}", headers=stack.auth("clearance")
    )
    assert missing.status_code == 404


async def test_every_service_reports_health_readiness_metrics_and_docs(http, stack) -> None:
    for service in ("intake", "risk", "holds", "notify", "disposal", "guarantees", "cases"):
        base = stack.url(service)
        assert (await http.get(f"{base}/healthz")).json()["status"] == "ok"
        ready = await http.get(f"{base}/readyz")
        assert ready.status_code == 200, ready.text
        assert {"database", "broker"} <= set(ready.json()["checks"])
        metrics = (await http.get(f"{base}/metrics")).text
        assert "ipr_http_requests_total" in metrics
        assert (await http.get(f"{base}/openapi.json")).json()["info"]["title"].startswith("IPR")
        docs = (await http.get(f"{base}/docs")).text
        assert "cdn." not in docs, "the API docs must load without outside network access"
