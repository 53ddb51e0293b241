"""Parcel manifests against the real stack: HTTP (streamed) and the topic, per-parcel results, one case per
parcel and rights holder, rejected parcels with their reasons, idempotency and the manifest's limits."""

from __future__ import annotations

import json
from datetime import UTC

import pytest

from shared.contracts.events import TOPIC_PARCEL_RESULTS, TOPIC_PARCELS, TOPIC_PARCELS_DLQ
from shared.contracts.parcels import consignment_id
from tests.factories import SUSPECT_LINES, parcel_manifest
from tests.helpers import eventually, unique_id

pytestmark = pytest.mark.integration

SUSPECTS = {137: SUSPECT_LINES[0], 500: SUSPECT_LINES[1], 862: SUSPECT_LINES[2]}
HOLDERS = {137: "RH-0001", 500: "RH-0002", 862: "RH-0003"}
BAD = {
    404: {
        "lines": [
            {
                "line_no": 1,
                "hs_code": "610910",
                "description": "t-shirts",
                "quantity": -2,
                "unit": "piece",
                "unit_value": 3.5,
            }
        ]
    }
}


def _chunks(body: bytes, size: int = 16_384):
    async def gen():
        for i in range(0, len(body), size):
            yield body[i : i + size]

    return gen()


async def post_manifest(http, stack, manifest: dict | bytes, who: str = "clearance"):
    body = manifest if isinstance(manifest, bytes) else json.dumps(manifest).encode()
    headers = {**stack.auth(who), "Content-Type": "application/json"}
    # sent in chunks without a length, as a clearance system streaming a large manifest would
    return await http.post(f"{stack.url('intake')}/v1/manifests", content=_chunks(body), headers=headers)


async def manifest_view(http, stack, manifest_id: str, **params) -> dict:
    r = await http.get(
        f"{stack.url('intake')}/v1/manifests/{manifest_id}", params=params, headers=stack.auth("officer")
    )
    assert r.status_code == 200, r.text
    return r.json()


async def all_parcels(http, stack, manifest_id: str) -> list[dict]:
    out, after = [], 0
    while True:
        page = await manifest_view(http, stack, manifest_id, after=after, limit=1000)
        out.extend(page["parcels"])
        if page["next_after"] is None:
            return out
        after = page["next_after"]


async def results_on_topic(stack, manifest_id: str, expected: int, within: float = 120) -> list[dict]:
    """Every per-parcel result of a manifest on customs.parcel-results.v1 (keyed by the manifest id)."""
    import asyncio
    import time

    from aiokafka import AIOKafkaConsumer

    consumer = AIOKafkaConsumer(
        TOPIC_PARCEL_RESULTS,
        bootstrap_servers=stack.kafka,
        group_id=None,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    found: dict[tuple, dict] = {}
    try:
        deadline = time.monotonic() + within
        while time.monotonic() < deadline and len(found) < expected:
            for records in (await consumer.getmany(timeout_ms=500, max_records=5000)).values():
                for record in records:
                    if record.key != manifest_id.encode():
                        continue
                    envelope = json.loads(record.value)
                    p = envelope["payload"]
                    found[(p["parcel_no"], p.get("position"))] = envelope
            await asyncio.sleep(0)
    finally:
        await consumer.stop()
    return list(found.values())


async def check_three_cases(http, stack, manifest_id: str, total: int) -> None:
    async def assessed():
        r = await http.get(
            f"{stack.url('intake')}/v1/manifests/{manifest_id}", params={"limit": 1}, headers=stack.auth("officer")
        )
        if r.status_code == 404 and r.json()["error"]["code"] == "manifest_not_found":
            return None  # risk's first results can be kept before intake read a parcel of the manifest
        assert r.status_code == 200, r.text
        view = r.json()
        return view if view["counts"]["assessed"] == total - len(BAD) else None

    view = await eventually(assessed, within=180, what=f"{total - len(BAD)} parcels of {manifest_id} assessed")
    assert view["counts"]["rejected"] == len(BAD)
    assert view["counts"]["suspected"] == 3
    parcels = await all_parcels(http, stack, manifest_id)
    assert len(parcels) == total
    suspected = {p["parcel_no"]: p for p in parcels if p["suspected"]}
    assert set(suspected) == set(SUSPECTS)
    case_ids = {c for p in parcels for c in p["case_ids"]}
    assert len(case_ids) == 3, case_ids  # exactly one case per suspected parcel (and rights holder)
    for no, p in suspected.items():
        assert p["lane"] == "red" and len(p["case_ids"]) == 1
        assert p["case_ids"][0].startswith(f"IPR-{consignment_id(manifest_id, no)}")
        r = await http.get(f"{stack.url('cases')}/v1/cases/{p['case_ids'][0]}", headers=stack.auth("officer"))
        assert r.status_code == 200, r.text
    rejected = [p for p in parcels if p["status"] == "rejected"]
    assert [p["parcel_no"] for p in rejected] == [404]
    assert rejected[0]["rejection"]["code"] == "schema_violation"

    results = await results_on_topic(stack, manifest_id, total)
    assert len(results) == total  # one result per parcel, the rejected one included
    by_status = {}
    for e in results:
        by_status.setdefault(e["payload"]["status"], []).append(e["payload"])
    assert len(by_status["assessed"]) == total - 1 and len(by_status["rejected"]) == 1
    assert {p["parcel_no"] for p in by_status["assessed"] if p["suspected"]} == set(SUSPECTS)
    detail = await http.get(
        f"{stack.url('intake')}/v1/manifests/{manifest_id}/parcels/137", headers=stack.auth("clearance")
    )
    assert detail.status_code == 200
    lines = detail.json()["result"]["lines"]
    assert any("declared 'no_brand'" in r for r in lines[0]["reasons"])  # a false "no brand" is a signal


async def test_manifest_of_1000_parcels_by_http(http, stack) -> None:
    mid = unique_id("M-HTTP")
    manifest = parcel_manifest(mid, 1000, suspects=SUSPECTS, bad=BAD)
    first = await post_manifest(http, stack, manifest)
    assert first.status_code == 202, first.text
    answer = first.json()
    assert answer["accepted"] == 999 and answer["rejected"] == 1
    assert answer["rejections"][0]["parcel_no"] == 404 and answer["rejections"][0]["code"] == "schema_violation"
    assert answer["rejections"][0]["details"], "the reason names what is wrong"

    again = await post_manifest(http, stack, manifest)  # re-sent: the same answer, nothing new
    assert again.status_code == 202 and again.json() == answer

    await check_three_cases(http, stack, mid, 1000)

    changed = parcel_manifest(mid, 1000, suspects=SUSPECTS, bad=BAD)
    changed["parcels"][10]["declared_value"] = 99
    conflict = await post_manifest(http, stack, changed)
    assert conflict.status_code == 409 and conflict.json()["error"]["code"] == "manifest_conflict"


async def test_manifest_of_1000_parcels_on_the_topic(http, stack) -> None:
    from aiokafka import AIOKafkaProducer

    mid = unique_id("M-TOPIC")
    manifest = parcel_manifest(mid, 1000, suspects=SUSPECTS, bad=BAD)
    parcels = manifest.pop("parcels")
    producer = AIOKafkaProducer(bootstrap_servers=stack.kafka, acks="all", linger_ms=5)
    await producer.start()
    try:
        sizes = []
        for p in parcels:
            value = json.dumps({"manifest": manifest, "parcel": p}).encode()
            sizes.append(len(value))
            await producer.send(TOPIC_PARCELS, value=value, key=mid.encode())
        await producer.flush()
    finally:
        await producer.stop()
    assert max(sizes) < 10_000  # one parcel per record, far below the broker's 1 MB
    await check_three_cases(http, stack, mid, 1000)


@pytest.mark.parametrize(
    ("mutate", "status", "code"),
    [
        (lambda m: m.update(parcel_count=10_001), 413, "too_many_parcels"),
        (lambda m: m.update(parcel_count=4), 422, "parcel_count_mismatch"),
        (lambda m: m.update(parcel_count=2), 422, "parcel_count_mismatch"),
        (lambda m: m.update(jurisdiction="XX"), 422, "unknown_jurisdiction"),
        (lambda m: m.update(supervision_mode="9710"), 422, "schema_violation"),  # B2B mode on a B2C manifest
        (lambda m: m.update(unexpected=1, parcels=m.pop("parcels")), 422, "schema_violation"),
        (lambda m: m.update(parcels={"not": "a list"}), 422, "not_a_manifest"),
    ],
)
async def test_manifest_refused_whole_with_the_reason(http, stack, mutate, status, code) -> None:
    manifest = parcel_manifest(unique_id("M-BAD"), 3)
    mutate(manifest)
    r = await post_manifest(http, stack, manifest)
    assert r.status_code == status, r.text
    error = r.json()["error"]
    assert error["code"] == code
    if code == "too_many_parcels":
        assert error["details"]["limit"] == 10_000


async def test_header_after_parcels_and_malformed_json_are_refused(http, stack) -> None:
    manifest = parcel_manifest(unique_id("M-ORDER"), 2)
    parcels = manifest.pop("parcels")
    body = json.dumps({"parcels": parcels, **manifest}).encode()
    r = await post_manifest(http, stack, body)
    assert r.status_code == 422 and r.json()["error"]["code"] == "header_after_parcels"
    r = await post_manifest(http, stack, json.dumps(parcel_manifest(unique_id("M-JSON"), 2)).encode()[:-40])
    assert r.status_code == 400 and r.json()["error"]["code"] == "malformed_json"
    r = await post_manifest(http, stack, parcel_manifest(unique_id("M-AUTH"), 2), who="officer")
    assert r.status_code == 403


async def test_each_broken_parcel_is_rejected_alone(http, stack) -> None:
    mid = unique_id("M-PARCELS")
    manifest = parcel_manifest(mid, 6)
    manifest["parcels"][1]["order_no"] = None  # 9610 needs the order number
    manifest["parcels"][2]["waybill_no"] = manifest["parcels"][0]["waybill_no"]
    manifest["parcels"][3]["parcel_no"] = 1
    manifest["parcels"][4]["consignee"]["name"] = "bad\u0000name"
    r = await post_manifest(http, stack, manifest)
    assert r.status_code == 202, r.text
    answer = r.json()
    codes = {x["position"]: x["code"] for x in answer["rejections"]}
    assert codes == {2: "order_no_required", 3: "duplicate_waybill", 4: "duplicate_parcel_no", 5: "unstorable_text"}
    assert answer["accepted"] == 2

    async def assessed():
        view = await manifest_view(http, stack, mid)
        return view if view["counts"]["assessed"] == 2 else None

    await eventually(assessed, within=60, what="the two good parcels assessed")
    # an officer sees the manifests of its own offices only (this one is CN5300's)
    other = await http.get(f"{stack.url('intake')}/v1/manifests/{mid}", headers=stack.auth("officer_b"))
    assert other.status_code == 403 and other.json()["error"]["code"] == "outside_office"
    other = await http.get(f"{stack.url('intake')}/v1/manifests/{mid}/parcels/1", headers=stack.auth("officer_b"))
    assert other.status_code == 403
    # a supervisor sees the manifests of every office
    sup = await http.get(f"{stack.url('intake')}/v1/manifests/{mid}", headers=stack.auth("supervisor"))
    assert sup.status_code == 200 and sup.json()["header"]["customs_office"] == "CN5300"
    sup = await http.get(f"{stack.url('intake')}/v1/manifests/{mid}/parcels/1", headers=stack.auth("supervisor"))
    assert sup.status_code == 200 and sup.json()["customs_office"] == "CN5300"


async def test_invalid_parcel_record_on_the_topic_is_rejected_and_dead_lettered(http, stack) -> None:
    from tests.helpers import find_on_topic, produce

    mid = unique_id("M-DLQ")
    manifest = parcel_manifest(mid, 1)
    parcel = manifest.pop("parcels")[0]
    parcel["declared_value"] = -1
    await produce(
        stack.kafka, TOPIC_PARCELS, json.dumps({"manifest": manifest, "parcel": parcel}).encode(), key=mid.encode()
    )
    dead = await find_on_topic(stack.kafka, TOPIC_PARCELS_DLQ, lambda v: v.get("key") == mid)
    assert dead["reason"] == "schema_violation"

    async def rejected():
        view = await manifest_view(http, stack, mid)  # the header was good: the office's officer reads it
        return view if view["counts"]["rejected"] == 1 else None

    view = await eventually(rejected, what="rejected parcel recorded")
    assert view["parcels"][0]["rejection"]["code"] == "schema_violation"
    assert view["header"]["customs_office"] == "CN5300"

    # a record whose header is broken too: rejected, and the manifest is its sender's to read (no office known)
    mid2 = unique_id("M-DLQ")
    manifest = parcel_manifest(mid2, 1)
    parcel = manifest.pop("parcels")[0]
    manifest["currency"] = "dollars"
    await produce(
        stack.kafka, TOPIC_PARCELS, json.dumps({"manifest": manifest, "parcel": parcel}).encode(), key=mid2.encode()
    )

    async def sender_reads():
        r = await http.get(f"{stack.url('intake')}/v1/manifests/{mid2}", headers=stack.auth("clearance"))
        return r.json() if r.status_code == 200 and r.json()["counts"]["rejected"] == 1 else None

    await eventually(sender_reads, what="rejected parcel of a broken header recorded")
    officer = await http.get(f"{stack.url('intake')}/v1/manifests/{mid2}", headers=stack.auth("officer"))
    assert officer.status_code == 403 and officer.json()["error"]["code"] == "outside_office"
    sup = await http.get(f"{stack.url('intake')}/v1/manifests/{mid2}", headers=stack.auth("supervisor"))
    assert sup.status_code == 200 and sup.json()["counts"]["rejected"] == 1


async def test_campaign_api_hits_and_report(http, stack) -> None:
    from datetime import datetime

    risk = stack.url("risk")
    cid = unique_id("C-EXPORT")
    today = datetime.now(UTC).date()
    campaign = {
        "campaign_id": cid,
        "name": "export campaign",
        "owner": "IPR division",
        "jurisdiction": "CN",
        "valid_from": f"{today.year}-01-01",
        "valid_until": f"{today.year}-12-31",
        "directions": ["export"],
        "customs_offices": ["CN5399"],
        "weight": 0.2,
        "sectors": [{"name": "bags", "hs_prefixes": ["4202"]}, {"name": "footwear", "hs_prefixes": ["64"]}],
    }
    for bad, fragment in (
        ({**campaign, "colour": "red"}, "colour"),
        ({**campaign, "valid_until": f"{today.year - 1}-12-31"}, "before it starts"),
    ):
        r = await http.put(f"{risk}/v1/campaigns/{cid}", json=bad, headers=stack.auth("officer"))
        assert r.status_code == 422 and fragment in r.text, r.text
    r = await http.put(f"{risk}/v1/campaigns/{cid}", json=campaign, headers=stack.auth("officer"))
    assert r.status_code == 201, r.text

    mid = unique_id("M-CAMP")
    manifest = parcel_manifest(
        mid,
        4,
        suspects={2: SUSPECT_LINES[0]},
        customs_office="CN5399",
        submitted_at=datetime.now(UTC).isoformat(),
    )
    manifest["parcels"][2]["lines"][0]["hs_code"] = "420222"  # bags, not suspected
    assert (await post_manifest(http, stack, manifest)).status_code == 202

    async def reported():
        rep = await http.get(
            f"{risk}/v1/campaigns/{cid}/report", params={"period": "day"}, headers=stack.auth("officer")
        )
        return rep.json() if rep.status_code == 200 and rep.json()["totals"]["lines"] == 2 else None

    report = await eventually(reported, within=60, what="campaign hits reported")
    assert report["totals"] == {"consignments": 2, "lines": 2, "suspected_lines": 1, "cases_opened": 1}
    assert report["rows"][0]["customs_office"] == "CN5399"

    async def parcel_result():  # intake keeps the result a moment after risk counted it
        r = await http.get(f"{stack.url('intake')}/v1/manifests/{mid}/parcels/3", headers=stack.auth("clearance"))
        return r.json()["result"] if r.status_code == 200 and r.json()["result"] else None

    result = await eventually(parcel_result, what="parcel 3's result kept by intake")
    assert result["lines"][0]["campaign_ids"] == [cid]

    off = await http.post(
        f"{risk}/v1/campaigns/{cid}/switch-off", json={"reason": "ended early"}, headers=stack.auth("officer")
    )
    assert off.status_code == 200 and off.json()["active"] is False
    detail = (await http.get(f"{risk}/v1/campaigns/{cid}", headers=stack.auth("officer"))).json()
    assert [h["event"] for h in detail["history"]] == ["created", "switched_off"]
    assert detail["history"][1]["reason"] == "ended early" and detail["totals"]["lines"] == 2
