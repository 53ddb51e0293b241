"""Outside input beyond the contract bounds gets a 4xx naming the field (or a dead letter), never a 5xx,
and the flow goes on."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from shared.contracts.events import TOPIC_DECLARATIONS, TOPIC_DECLARATIONS_DLQ
from tests.factories import example_declaration
from tests.helpers import eventually, find_on_topic, produce, unique_id

pytestmark = pytest.mark.integration


def _locs(response) -> list[list]:
    return [d["loc"] for d in response.json()["error"].get("details") or []]


def _refused(response, field: str, status: int = 422) -> dict:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert any(field in loc for loc in _locs(response)), error
    return error


async def test_year_9999_declaration_is_refused_at_the_http_edge_naming_the_field(http, stack) -> None:
    url = f"{stack.url('intake')}/v1/declarations"
    body = example_declaration(declaration_id=unique_id("BND"), submitted_at="9999-12-31T23:59:59Z")
    _refused(await http.post(url, json=body, headers=stack.auth("clearance")), "submitted_at")

    ahead = datetime.now(UTC) + timedelta(days=2)
    body = example_declaration(declaration_id=unique_id("BND"), submitted_at=ahead.isoformat())
    error = _refused(await http.post(url, json=body, headers=stack.auth("clearance")), "submitted_at")
    assert error["details"][0]["type"] == "submitted_in_future"

    soon = datetime.now(UTC) + timedelta(hours=1)
    body = example_declaration(declaration_id=unique_id("BND"), submitted_at=soon.isoformat())
    assert (await http.post(url, json=body, headers=stack.auth("clearance"))).status_code == 202


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("quantity", "1e400"),
        ("quantity", "NaN"),
        ("unit_value", "Infinity"),
        ("unit_value", 2000000000000),
        ("gross_weight_kg", -1),
        ("unit_value", "0.00001"),
    ],
)
async def test_declared_amounts_beyond_the_bounds_are_refused(http, stack, field, value) -> None:
    body = example_declaration(declaration_id=unique_id("BND"))
    body["lines"][0][field] = value
    response = await http.post(f"{stack.url('intake')}/v1/declarations", json=body, headers=stack.auth("clearance"))
    _refused(response, field)


async def test_a_year_9999_record_on_the_topic_is_dead_lettered_and_assessment_goes_on(http, stack) -> None:
    poison_id, good_id = unique_id("BND-9999"), unique_id("BND-OK")
    poison = example_declaration(declaration_id=poison_id, submitted_at="9999-12-31T23:59:59Z")
    good = example_declaration(declaration_id=good_id, submitted_at=datetime.now(UTC).isoformat())
    await produce(stack.kafka, TOPIC_DECLARATIONS, json.dumps(poison).encode(), key=poison_id.encode())
    await produce(stack.kafka, TOPIC_DECLARATIONS, json.dumps(good).encode(), key=good_id.encode())

    dead = await find_on_topic(stack.kafka, TOPIC_DECLARATIONS_DLQ, lambda v: poison_id in json.dumps(v))
    assert "submitted_at" in json.dumps(dead.get("details"))

    async def assessed():
        r = await http.get(f"{stack.url('intake')}/v1/declarations/{good_id}", headers=stack.auth("officer"))
        return r.status_code == 200 and r.json()["status"] == "assessed"

    await eventually(assessed, what="the next declaration assessed")
    ready = await http.get(f"{stack.url('risk')}/readyz")
    assert ready.status_code == 200, ready.text


async def test_path_integers_beyond_int32_are_refused(http, stack) -> None:
    url = f"{stack.url('risk')}/v1/recordations/CN-T-2019-004211/versions/99999999999999999999"
    _refused(await http.get(url, headers=stack.auth("officer")), "version")
    url = f"{stack.url('intake')}/v1/declarations/CN5300-2026-0000123?revision=99999999999"
    _refused(await http.get(url, headers=stack.auth("officer")), "revision")


async def test_rules_endpoints_refuse_dates_and_amounts_beyond_the_bounds(http, stack) -> None:
    base = f"{stack.url('cases')}/v1/rules/CN"
    _refused(await http.get(f"{base}/deadline?start=9999-12-31&working_days=3", headers=stack.auth("officer")), "start")
    _refused(
        await http.get(f"{base}/fine?goods_value=1e30&tier=ordinary", headers=stack.auth("officer")), "goods_value"
    )
    _refused(await http.get(f"{base}/guarantee?goods_value=NaN", headers=stack.auth("officer")), "goods_value")
    last = await http.get(f"{base}/deadline?start=2099-12-31&working_days=3", headers=stack.auth("officer"))
    assert last.status_code == 200, last.text


async def test_assess_refuses_a_year_9999_declaration(http, stack) -> None:
    body = example_declaration(declaration_id=unique_id("BND"), submitted_at="9999-12-31T23:59:59Z")
    response = await http.post(f"{stack.url('risk')}/v1/assess", json=body, headers=stack.auth("officer"))
    _refused(response, "submitted_at")


@pytest.mark.parametrize("declaration_id", ["CN5300?x=1", "CN5300-2026-0000123/../x", "CN5300-ÄÖ", "..", "a b c"])
async def test_opening_a_case_refuses_ids_that_could_change_the_url(http, stack, declaration_id) -> None:
    response = await http.post(
        f"{stack.url('cases')}/v1/cases",
        headers=stack.auth("officer"),
        json={"declaration_id": declaration_id, "line_no": 1, "recordation_id": "CN-T-2019-004211"},
    )
    _refused(response, "declaration_id")
    response = await http.post(
        f"{stack.url('cases')}/v1/cases",
        headers=stack.auth("officer"),
        json={"declaration_id": "CN5300-2026-0000123", "line_no": 1, "recordation_id": declaration_id},
    )
    _refused(response, "recordation_id")


async def test_ids_in_paths_are_checked_before_any_lookup(http, stack) -> None:
    checks = [
        ("cases", "/v1/cases/IPR-%C3%84-L1", "case_id"),
        ("intake", "/v1/declarations/a%3Fb", "declaration_id"),
        ("notify", "/v1/notices/NTC%2F1", "notice_id"),
        ("holds", "/v1/holds/H%20x", "hold_id"),
        ("guarantees", "/v1/general-guarantees/GG%25", "guarantee_id"),
        ("disposal", "/v1/dispositions/%2E%2E", "disposition_id"),
    ]
    for service, path, field in checks:
        response = await http.get(f"{stack.url(service)}{path}", headers=stack.auth("officer"))
        assert response.status_code in (404, 422), (service, path, response.text)
        if response.status_code == 422:
            assert any(field in loc for loc in _locs(response)), (service, response.text)


async def test_listing_cases_by_an_unknown_state_names_the_allowed_states(http, stack) -> None:
    response = await http.get(f"{stack.url('cases')}/v1/cases?state=bogus", headers=stack.auth("officer"))
    error = _refused(response, "state")
    message = json.dumps(error)
    assert "suspended" in message and "confiscated" in message
    assert (
        await http.get(f"{stack.url('cases')}/v1/cases?state=suspended", headers=stack.auth("officer"))
    ).status_code == 200


@pytest.mark.parametrize(
    "amount", ['"2000000000000"', "2000000000000", '"1e400"', "1e400", '"NaN"', "-5", "0", '"10.001"']
)
async def test_a_holder_reply_with_a_guarantee_beyond_the_bounds_is_refused_at_notify(http, stack, amount) -> None:
    case_id = f"IPR-{unique_id('BND')}-L1"
    notice = await http.post(
        f"{stack.url('notify')}/v1/notices",
        headers=stack.auth("system"),
        json={
            "idempotency_key": f"{case_id}:notice:suspension",
            "case_id": case_id,
            "kind": "suspension",
            "holder": {"id": "RH-0001", "name": "Nike Innovate C.V.", "contact_email": "bp@example.com"},
            "subject": "Suspension",
            "body": "text",
            "reply_allowed": True,
            "reply_deadline_at": (datetime.now(UTC) + timedelta(days=3)).isoformat(),
        },
    )
    assert notice.status_code == 201, notice.text
    url = f"{stack.url('notify')}/v1/notices/{notice.json()['notice_id']}"
    raw = json.dumps(
        {
            "decision": "detain",
            "guarantee": {"amount": "__AMOUNT__", "currency": "CNY", "form": "bank_letter", "reference": "BOC-LG-1"},
        }
    )
    raw = raw.replace('"__AMOUNT__"', amount)  # as written: a JSON number or string
    reply = await http.post(
        f"{url}/reply", content=raw, headers={**stack.auth("holder"), "Content-Type": "application/json"}
    )
    _refused(reply, "amount")
    stored = (await http.get(url, headers=stack.auth("holder"))).json()
    assert stored["reply"] is None  # nothing recorded, so nothing is forwarded to the case


async def test_an_officers_guarantee_beyond_the_bounds_is_refused_before_the_case_is_asked(http, stack) -> None:
    url = f"{stack.url('cases')}/v1/cases/IPR-{unique_id('BND')}-L1/guarantee"
    for amount in ("1e400", "2000000000000", "Infinity"):
        response = await http.post(
            url,
            headers=stack.auth("officer"),
            json={"amount": amount, "currency": "CNY", "form": "bank_letter", "reference": "BOC-LG-1"},
        )
        _refused(response, "amount")
    within = await http.post(
        url,
        headers=stack.auth("officer"),
        json={"amount": "14910", "currency": "CNY", "form": "bank_letter", "reference": "BOC-LG-1"},
    )
    assert within.status_code == 404  # a valid guarantee reaches the lookup: that case does not exist


async def test_step_services_refuse_out_of_bounds_amounts_from_any_caller(http, stack) -> None:
    case_id = f"IPR-{unique_id('BND')}-L1"
    guarantee = await http.post(
        f"{stack.url('guarantees')}/v1/case-guarantees",
        headers=stack.auth("system"),
        json={
            "idempotency_key": f"{case_id}:guarantee:1",
            "case_id": case_id,
            "holder_id": "RH-0001",
            "jurisdiction": "CN",
            "required_amount": "14910",
            "currency": "CNY",
            "form": "bank_letter",
            "amount": "2000000000000",
            "reference": "BOC-LG-1",
        },
    )
    _refused(guarantee, "amount")
    disposition = await http.post(
        f"{stack.url('disposal')}/v1/dispositions",
        headers=stack.auth("system"),
        json={
            "idempotency_key": f"{case_id}:disposition",
            "case_id": case_id,
            "jurisdiction": "CN",
            "outcome": "confiscation",
            "goods_value": "1e400",
            "currency": "CNY",
            "right_type": "trademark",
            "reason": "test",
        },
    )
    _refused(disposition, "goods_value")
