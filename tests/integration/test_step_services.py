"""Holds, notify, disposal and the risk registry against the real stack: idempotency, lawful transitions,
allow-listed webhooks and who may call what."""

from __future__ import annotations

import pytest

from shared.contracts.events import TOPIC_HOLDS
from tests.factories import example_declaration, example_recordation
from tests.helpers import find_on_topic, unique_id

pytestmark = pytest.mark.integration


async def test_holds_follow_lawful_transitions_idempotently(http, stack) -> None:
    case_id = unique_id("CASE")
    url = f"{stack.url('holds')}/v1/holds"
    body = {
        "idempotency_key": f"{case_id}:hold",
        "case_id": case_id,
        "declaration_id": unique_id("D"),
        "line_no": 1,
        "customs_office": "CN5300",
        "reason": "test",
    }
    first = await http.post(url, json=body, headers=stack.auth("system"))
    assert first.status_code == 201, first.text
    hold_id = first.json()["hold_id"]
    assert first.json()["status"] == "suspended"
    replay = await http.post(url, json=body, headers=stack.auth("system"))
    assert replay.status_code == 201 and replay.json() == first.json()
    reused = await http.post(url, json={**body, "reason": "other"}, headers=stack.auth("system"))
    assert reused.status_code == 409 and reused.json()["error"]["code"] == "idempotency_conflict"

    async def act(action: str, key: str):
        return await http.post(
            f"{url}/{hold_id}/actions",
            headers=stack.auth("system"),
            json={"idempotency_key": key, "hold_id": hold_id, "action": action, "reason": action},
        )

    bad = await act("confiscate", f"{case_id}:c0")
    assert bad.status_code == 409 and bad.json()["error"]["code"] == "invalid_transition"
    assert (await act("detain", f"{case_id}:d")).json()["status"] == "detained"
    assert (await act("detain", f"{case_id}:d")).json()["status"] == "detained"
    assert (await act("release", f"{case_id}:r")).json()["status"] == "released"
    after = await act("detain", f"{case_id}:d2")
    assert after.status_code == 409
    view = (await http.get(f"{url}/{hold_id}", headers=stack.auth("officer"))).json()
    assert [h["status"] for h in view["history"]] == ["suspended", "detained", "released"]
    released = await find_on_topic(
        stack.kafka,
        TOPIC_HOLDS,
        lambda v: v.get("payload", {}).get("hold_id") == hold_id and v["event_type"] == "hold.released",
    )
    assert released["payload"]["case_id"] == case_id

    # clearance systems may read holds but not change them; rights holders may do neither
    assert (await http.post(url, json=body, headers=stack.auth("clearance"))).status_code == 403
    assert (await http.get(f"{url}/{hold_id}", headers=stack.auth("clearance"))).status_code == 200
    assert (await http.get(f"{url}/{hold_id}", headers=stack.auth("holder"))).status_code == 403


async def test_refused_webhook_is_recorded_and_the_email_still_goes_out(http, stack) -> None:
    case_id = unique_id("CASE")
    body = {
        "idempotency_key": f"{case_id}:n",
        "case_id": case_id,
        "kind": "suspension",
        "holder": {
            "id": "RH-0009",
            "name": "Holder Nine",
            "contact_email": "nine@example.org",
            "webhook_url": "https://rights-holder.example.com/hook",
        },
        "subject": "Suspension",
        "body": "text",
        "reply_allowed": False,
    }
    issued = await http.post(f"{stack.url('notify')}/v1/notices", json=body, headers=stack.auth("system"))
    assert issued.status_code == 201, issued.text
    result = issued.json()
    assert result["email_status"] == "delivered" and result["webhook_status"] == "undeliverable"
    again = await http.post(f"{stack.url('notify')}/v1/notices", json=body, headers=stack.auth("system"))
    assert again.json()["notice_id"] == result["notice_id"]
    notice = (
        await http.get(f"{stack.url('notify')}/v1/notices/{result['notice_id']}", headers=stack.auth("officer"))
    ).json()
    webhook = next(d for d in notice["deliveries"] if d["channel"] == "webhook")
    assert "allow-list" in webhook["detail"]
    assert len(notice["deliveries"]) == 2  # the repeat sent nothing twice
    mails = [m for m in (await http.get(f"{stack.sink}/mail")).json() if m["headers"].get("X-IPR-Case-Id") == case_id]
    assert len(mails) == 1 and mails[0]["to"] == "nine@example.org"
    reply = await http.post(
        f"{stack.url('notify')}/v1/notices/{result['notice_id']}/reply",
        headers=stack.holder_auth("RH-0009"),
        json={"decision": "no_detention"},
    )
    assert reply.status_code == 409 and reply.json()["error"]["code"] == "reply_not_expected"


async def test_disposition_fine_and_idempotency(http, stack) -> None:
    case_id = unique_id("CASE")
    body = {
        "idempotency_key": f"{case_id}:disp",
        "case_id": case_id,
        "jurisdiction": "CN",
        "outcome": "confiscation",
        "goods_value": "10000.00",
        "currency": "CNY",
        "right_type": "trademark",
        "fine_tier": "ordinary",
        "reason": "infringing",
    }
    url = f"{stack.url('disposal')}/v1/dispositions"
    # The case decides the fine; the disposal service only re-checks it against the rules (no rate of its own).
    undecided = await http.post(url, json=body, headers=stack.auth("system"))
    assert undecided.status_code == 422 and undecided.json()["error"]["code"] == "fine_required"
    too_high = await http.post(
        url, json={**body, "idempotency_key": f"{case_id}:high", "fine_amount": "2500"}, headers=stack.auth("system")
    )  # 25% is outside the ordinary tier (10-20%)
    assert too_high.status_code == 422 and too_high.json()["error"]["code"] == "fine_outside_rules"
    unlawful = await http.post(
        url,
        json={
            **body,
            "idempotency_key": f"{case_id}:m",
            "fine_amount": "1500",
            "disposal_method": "export_to_third_country",
        },
        headers=stack.auth("system"),
    )
    assert unlawful.status_code == 422 and unlawful.json()["error"]["code"] == "disposal_not_allowed"
    body = {
        **body,
        "fine_amount": "1500",
        "lines": [
            {"line_no": 1, "outcome": "confiscated", "goods_value": "6000"},
            {"line_no": 2, "outcome": "released", "goods_value": "4000"},
        ],
    }
    first = await http.post(url, json=body, headers=stack.auth("system"))
    assert first.status_code == 201, first.text
    assert first.json()["fine_amount"] == "1500.00" and first.json()["disposal_method"] == "destruction"
    assert [ln["outcome"] for ln in first.json()["lines"]] == ["confiscated", "released"]
    assert (await http.post(url, json=body, headers=stack.auth("system"))).json() == first.json()
    negative = await http.post(
        url, json={**body, "idempotency_key": "x", "goods_value": "-1"}, headers=stack.auth("system")
    )
    assert negative.status_code == 422
    assert (await http.post(url, json=body, headers=stack.auth("holder"))).status_code == 403


async def test_registry_and_side_effect_free_assessment(http, stack) -> None:
    rec = example_recordation(
        recordation_id=unique_id("CN-T"), title="ZYLOFLEX", aliases=["Z-FLX PRO"], goods_hs_prefixes=["9102"]
    )
    url = f"{stack.url('risk')}/v1/recordations"
    created = await http.post(url, json=rec, headers=stack.auth("officer"))
    assert created.status_code == 201, created.text
    assert (await http.post(url, json=rec, headers=stack.auth("officer"))).status_code == 200
    changed = await http.post(url, json={**rec, "title": "OTHER"}, headers=stack.auth("officer"))
    assert changed.status_code == 409
    assert (await http.post(url, json=rec, headers=stack.auth("clearance"))).status_code == 403
    bad = await http.post(url, json={**rec, "jurisdiction": "XX"}, headers=stack.auth("officer"))
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "unknown_jurisdiction"
    got = (await http.get(f"{url}/{rec['recordation_id']}", headers=stack.auth("officer"))).json()
    assert got["history"][0]["event"] == "created" and got["version"] == 1

    decl = example_declaration(declaration_id=unique_id("D"))
    decl["lines"] = [
        {**decl["lines"][0], "hs_code": "910211", "brand": None, "description": "wrist watches, z flx pro style"}
    ]
    assessed = await http.post(f"{stack.url('risk')}/v1/assess", json=decl, headers=stack.auth("officer"))
    assert assessed.status_code == 200, assessed.text
    line = assessed.json()["lines"][0]
    assert line["suspected"] is True and line["hits"][0]["recordation_id"] == rec["recordation_id"]
    assert line["hits"][0]["match"] == "alias"
    # nothing was stored: intake never saw it, no case exists
    missing = await http.get(
        f"{stack.url('intake')}/v1/declarations/{decl['declaration_id']}", headers=stack.auth("officer")
    )
    assert missing.status_code == 404
    cases = (
        await http.get(
            f"{stack.url('cases')}/v1/cases?declaration_id={decl['declaration_id']}", headers=stack.auth("officer")
        )
    ).json()
    assert cases == []
