"""Risk service against the real stack: recordation lifecycle, targeting profiles with hit counts, trader
history from cases.events.v1, and the batched consumer's exactly-once-in-effect guarantees."""

from __future__ import annotations

import json
import time
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from aiokafka import AIOKafkaConsumer

from shared.contracts.events import TOPIC_ASSESSMENTS, TOPIC_CASE_EVENTS, TOPIC_DECLARATIONS
from tests.factories import example_declaration, example_recordation
from tests.helpers import eventually, find_on_topic, produce, unique_id

pytestmark = pytest.mark.integration


def today_cn() -> date:
    return datetime.now(ZoneInfo("Asia/Shanghai")).date()


def decl_with(mark: str, hs: str = "910211", **changes) -> dict:
    d = example_declaration(declaration_id=unique_id("D"), submitted_at=datetime.now(UTC).isoformat(), **changes)
    d["lines"] = [{**d["lines"][0], "hs_code": hs, "brand": mark, "description": "wrist watches", "unit_value": 3.0}]
    return d


async def assess(http, stack, body: dict) -> dict:
    r = await http.post(f"{stack.url('risk')}/v1/assess", json=body, headers=stack.auth("officer"))
    assert r.status_code == 200, r.text
    return r.json()["lines"][0]


async def test_recordation_lifecycle(http, stack) -> None:
    risk = stack.url("risk")
    mark = f"ZORBLAX{unique_id('')[-4:]}"
    rid = unique_id("CN-T")
    rec = example_recordation(
        recordation_id=rid,
        title=mark,
        aliases=[],
        goods_hs_prefixes=["9102"],
        genuine_unit_value=[],
        status="pending",
        valid_from="2026-01-01",
        valid_until="2026-12-31",
    )
    created = await http.post(f"{risk}/v1/recordations", json=rec, headers=stack.auth("officer"))
    assert created.status_code == 201 and created.json()["status"] == "pending"
    line = await assess(http, stack, decl_with(mark))
    assert line["hits"] == [] and line["suspected"] is False  # pending: not matched

    url = f"{risk}/v1/recordations/{rid}"
    assert (await http.post(f"{url}/approve", json={}, headers=stack.auth("officer"))).status_code == 403
    approved = await http.post(
        f"{url}/approve", json={"reason": "documents complete"}, headers=stack.auth("supervisor")
    )
    assert approved.status_code == 200, approved.text
    body = approved.json()
    start = today_cn()
    assert body["status"] == "active" and body["version"] == 2
    assert body["valid_from"] == start.isoformat()
    assert (
        body["valid_until"]
        == (
            date(start.year + 10, start.month, start.day if not (start.month == 2 and start.day == 29) else 28)
            - timedelta(days=1)
        ).isoformat()
    )
    again = await http.post(f"{url}/approve", json={}, headers=stack.auth("supervisor"))
    assert again.status_code == 409 and again.json()["error"]["code"] == "invalid_transition"
    line = await assess(http, stack, decl_with(mark))
    assert line["suspected"] is True and line["hits"][0]["match"] == "exact" and line["lane"] == "red"

    # amend: optimistic concurrency, amendable fields only, takes effect at once
    stale = await http.post(
        f"{url}/amend", json={"changes": {"aliases": ["ZBX PRO"]}, "expected_version": 1}, headers=stack.auth("officer")
    )
    assert stale.status_code == 409 and stale.json()["error"]["code"] == "version_conflict"
    bad = await http.post(f"{url}/amend", json={"changes": {"title": "OTHER"}}, headers=stack.auth("officer"))
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "field_not_amendable"
    amended = await http.post(
        f"{url}/amend",
        json={"changes": {"aliases": ["ZBX PRO"]}, "expected_version": 2, "reason": "holder added a sub-brand"},
        headers=stack.auth("officer"),
    )
    assert amended.status_code == 200 and amended.json()["version"] == 3
    # the holder's own amendment with nothing in it: a clear answer, never a server error
    empty = await http.post(f"{url}/amend", json={"changes": {}}, headers=stack.holder_auth(rec["holder"]["id"]))
    assert 400 <= empty.status_code < 500 or empty.status_code == 200, empty.text
    line = await assess(
        http, stack, {**decl_with(None), "lines": [{**decl_with(None)["lines"][0], "description": "watch zbx pro"}]}
    )
    assert line["hits"][0]["match"] == "alias"

    # renewal only in the 6 months before expiry
    early = await http.post(f"{url}/renew", json={}, headers=stack.auth("officer"))
    assert early.status_code == 409 and early.json()["error"]["code"] == "outside_renewal_window"

    # early expiry needs the lapsed right; then no longer matched
    refused = await http.post(f"{url}/expire", json={}, headers=stack.auth("officer"))
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "not_yet_expired"
    expired = await http.post(
        f"{url}/expire", json={"lapsed_right": True, "reason": "registration cancelled"}, headers=stack.auth("officer")
    )
    assert expired.status_code == 200 and expired.json()["status"] == "expired"
    assert (await assess(http, stack, decl_with(mark)))["hits"] == []

    got = (await http.get(url, headers=stack.auth("officer"))).json()
    assert [h["event"] for h in got["history"]] == ["created", "approved", "amended", "expired"]
    assert got["history"][1]["actor"] == "Zhang Min (zhang.min)" and got["history"][1]["reason"] == "documents complete"
    assert got["history"][2]["changes"] == ["aliases"]
    v1 = (await http.get(f"{url}/versions/1", headers=stack.auth("officer"))).json()
    assert v1["status"] == "pending" and v1["aliases"] == []
    assert (await http.get(f"{url}/versions/9", headers=stack.auth("officer"))).status_code == 404


async def test_renew_inside_the_window_revoke_and_refuse(http, stack) -> None:
    risk = stack.url("risk")
    today = today_cn()
    rid = unique_id("CN-T")
    rec = example_recordation(
        recordation_id=rid,
        title=f"QUENTAL{unique_id('')[-4:]}",
        aliases=[],
        valid_from=(today - timedelta(days=3600)).isoformat(),
        valid_until=(today + timedelta(days=30)).isoformat(),
    )
    assert (await http.post(f"{risk}/v1/recordations", json=rec, headers=stack.auth("officer"))).status_code == 201
    url = f"{risk}/v1/recordations/{rid}"
    renewed = await http.post(f"{url}/renew", json={"expected_version": 1}, headers=stack.auth("officer"))
    assert renewed.status_code == 200, renewed.text
    end = today + timedelta(days=30)
    assert renewed.json()["valid_until"] > end.isoformat()
    assert renewed.json()["valid_until"].startswith(str(end.year + 10))

    no_reason = await http.post(f"{url}/revoke", json={}, headers=stack.auth("supervisor"))
    assert no_reason.status_code == 422
    assert (
        await http.post(f"{url}/revoke", json={"reason": "untrue information"}, headers=stack.auth("officer"))
    ).status_code == 403
    revoked = await http.post(f"{url}/revoke", json={"reason": "untrue information"}, headers=stack.auth("supervisor"))
    assert revoked.status_code == 200 and revoked.json()["status"] == "revoked"
    assert (await http.post(f"{url}/renew", json={}, headers=stack.auth("officer"))).status_code == 409

    pending = example_recordation(recordation_id=unique_id("CN-T"), status="pending")
    assert (await http.post(f"{risk}/v1/recordations", json=pending, headers=stack.auth("officer"))).status_code == 201
    refused = await http.post(
        f"{risk}/v1/recordations/{pending['recordation_id']}/refuse",
        json={"reason": "applicant is not the holder"},
        headers=stack.auth("supervisor"),
    )
    assert refused.status_code == 200 and refused.json()["status"] == "refused"
    missing = await http.post(f"{risk}/v1/recordations/NOPE-1/approve", json={}, headers=stack.auth("supervisor"))
    assert missing.status_code == 404
    listed = (await http.get(f"{risk}/v1/recordations?status=refused", headers=stack.auth("officer"))).json()
    assert pending["recordation_id"] in [r["recordation_id"] for r in listed]


async def test_profiles_load_without_restart_and_count_hits(http, stack) -> None:
    risk = stack.url("risk")
    pid = unique_id("P")
    office = f"CN{unique_id('')[-4:]}"
    profile = {
        "profile_id": pid,
        "name": "express sneakers from one office",
        "owner": "officer.chen",
        "weight": 0.5,
        "valid_from": "2026-01-01",
        "valid_until": "2030-12-31",
        "customs_offices": [office],
        "conditions": [
            {"field": "line.hs_code", "op": "prefix", "value": "6404"},
            {"field": "transport_mode", "op": "eq", "value": "express"},
        ],
    }
    bad = await http.put(
        f"{risk}/v1/profiles/{pid}",
        json={**profile, "conditions": [{"field": "line.colour", "op": "eq", "value": "red"}]},
        headers=stack.auth("officer"),
    )
    assert bad.status_code == 422
    put = await http.put(f"{risk}/v1/profiles/{pid}", json=profile, headers=stack.auth("officer"))
    assert put.status_code == 201, put.text
    assert (await http.put(f"{risk}/v1/profiles/{pid}", json=profile, headers=stack.auth("officer"))).status_code == 200

    d = example_declaration(declaration_id=unique_id("D"), customs_office=office, transport_mode="express")
    d["lines"] = [{**d["lines"][0], "brand": None, "description": "canvas sneakers", "unit_value": 9}]
    line = await assess(http, stack, d)
    assert line["profile_ids"] == [pid] and line["suspected"] is False and line["score"] >= 0.5
    assert (await http.get(f"{risk}/v1/profiles/{pid}", headers=stack.auth("officer"))).json()["hits"] == 0

    # the consumer path counts the hit (stored and in Prometheus); /v1/assess did not
    await produce(stack.kafka, TOPIC_DECLARATIONS, json.dumps(d).encode(), d["declaration_id"].encode())

    async def counted():
        return (await http.get(f"{risk}/v1/profiles/{pid}", headers=stack.auth("officer"))).json()["hits"] == 1

    await eventually(counted, what="profile hit counted")
    metrics = (await http.get(f"{risk}/metrics")).text
    assert f'ipr_risk_profile_hits_total{{profile_id="{pid}"}} 1.0' in metrics

    imported = await http.post(
        f"{risk}/v1/profiles/import",
        json=[{**profile, "profile_id": pid + "-2"}, {**profile, "profile_id": pid + "-3", "weight": 3}],
        headers=stack.auth("officer"),
    )
    assert imported.status_code == 422 and imported.json()["error"]["details"][0]["index"] == 1
    assert (await http.get(f"{risk}/v1/profiles/{pid}-2", headers=stack.auth("officer"))).status_code == 404
    deleted = await http.delete(f"{risk}/v1/profiles/{pid}", headers=stack.auth("officer"))
    assert deleted.status_code == 200 and deleted.json()["active"] is False
    assert (await assess(http, stack, d))["profile_ids"] == []
    assert (await http.get(f"{risk}/v1/profiles", headers=stack.auth("clearance"))).status_code == 403


async def test_trader_history_from_case_events_is_applied_once(http, stack) -> None:
    trader = unique_id("SELLER")
    case_id = unique_id("IPR-X")
    event_id = unique_id("evt")
    envelope = {
        "event_id": "5b0f8f51-8a52-4f0e-9d8e-" + f"{abs(hash(event_id)) % 10**12:012d}",
        "event_type": "case.transition",
        "producer": "cases",
        "correlation_id": case_id,
        "payload": {
            "case_id": case_id,
            "seq": 7,
            "state": "confiscated",
            "event": "determination",
            "at": datetime.now(UTC).isoformat(),
            "consignor_id": trader,
            "consignee_id": None,
        },
    }
    raw = json.dumps(envelope).encode()
    await produce(stack.kafka, TOPIC_CASE_EVENTS, raw, case_id.encode())
    await produce(stack.kafka, TOPIC_CASE_EVENTS, raw, case_id.encode())  # redelivered: counted once
    d = example_declaration(
        declaration_id=unique_id("D"),
        consignor={"id": trader, "name": "Repeat Offender Trading", "country": "CN"},
        consignee={"id": unique_id("BUYER"), "name": "First Time Buyer", "country": "US"},
    )

    async def history_seen():
        line = await assess(http, stack, d)
        signals = {c["signal"]: c["points"] for c in line["contributions"]}
        return signals if "trader_history" in signals else None

    signals = await eventually(history_seen, within=40, what="trader history applied")
    assert signals["trader_history"] == 0.2  # one confiscation, not two
    line = await assess(http, stack, d)
    assert any(f"consignor {trader} had 1 earlier case ending in confiscation" in r for r in line["reasons"])


async def test_redelivered_declaration_is_assessed_and_published_once(http, stack) -> None:
    d = example_declaration(declaration_id=unique_id("D"))
    raw, key = json.dumps(d).encode(), d["declaration_id"].encode()
    await produce(stack.kafka, TOPIC_DECLARATIONS, raw, key)
    first = await find_on_topic(
        stack.kafka, TOPIC_ASSESSMENTS, lambda v: v.get("payload", {}).get("declaration_id") == d["declaration_id"]
    )
    assert first["payload"]["case_ids"] == [f"IPR-{d['declaration_id']}-RH-0001"]
    await produce(stack.kafka, TOPIC_DECLARATIONS, raw, key)
    await produce(stack.kafka, TOPIC_DECLARATIONS, raw, key)
    marker = example_declaration(declaration_id=unique_id("D"))  # published after the repeats were handled
    await produce(stack.kafka, TOPIC_DECLARATIONS, json.dumps(marker).encode(), marker["declaration_id"].encode())
    await find_on_topic(
        stack.kafka, TOPIC_ASSESSMENTS, lambda v: v.get("payload", {}).get("declaration_id") == marker["declaration_id"]
    )
    consumer = AIOKafkaConsumer(
        TOPIC_ASSESSMENTS,
        bootstrap_servers=stack.kafka,
        group_id=None,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    seen = []
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            batches = await consumer.getmany(timeout_ms=500)
            if not batches and seen:
                break
            for recs in batches.values():
                seen += [r for r in recs if r.key == key]
    finally:
        await consumer.stop()
    assert len(seen) == 1  # the repeats found the stored, published assessment
    case = await http.get(
        f"{stack.url('cases')}/v1/cases/IPR-{d['declaration_id']}-RH-0001", headers=stack.auth("officer")
    )
    assert case.status_code == 200


async def test_a_replica_takes_in_another_replicas_change_without_a_rebuild(http, stack) -> None:
    """A second risk replica (the service's own Registry, in this process, on risk's database) takes in a
    recordation written through the running service a recordation at a time, not by rebuilding its index."""
    import os
    from unittest import mock

    from prometheus_client import REGISTRY
    from sqlalchemy.ext.asyncio import create_async_engine

    from deploy.local import stack as stack_mod
    from services.risk.live_registry import Registry
    from shared.db import make_sessionmaker

    def updates(kind: str) -> float:
        return REGISTRY.get_sample_value("ipr_risk_registry_update_seconds_count", {"kind": kind}) or 0.0

    env = stack_mod.service_env(stack.profile, stack.secrets, "risk")
    with mock.patch.dict(os.environ, env):
        engine = create_async_engine(env["DATABASE_URL"])
    try:
        replica = Registry(make_sessionmaker(engine))
        await replica.reload()
        full, incremental = updates("full"), updates("incremental")
        size = replica.index.size
        rid, mark = unique_id("CN-T"), f"QUOXEL{unique_id('')[-4:]}"
        rec = example_recordation(
            recordation_id=rid, title=mark, aliases=["夸克索"], goods_hs_prefixes=["9102"], genuine_unit_value=[]
        )
        r = await http.post(f"{stack.url('risk')}/v1/recordations", json=rec, headers=stack.auth("officer"))
        assert r.status_code == 201, r.text
        await replica.reload(force=False)
        assert rid in replica.index and replica.index.size == size + 1
        assert replica.index.lookup("CN", "夸克索")[0].recordation.recordation_id == rid
        assert updates("incremental") == incremental + 1 and updates("full") == full  # no rebuild
        revoked = await http.post(
            f"{stack.url('risk')}/v1/recordations/{rid}/revoke",
            json={"reason": "test"},
            headers=stack.auth("supervisor"),
        )
        assert revoked.status_code == 200, revoked.text
        await replica.reload(force=False)
        assert rid not in replica.index and replica.index.lookup("CN", "夸克索") == []
    finally:
        await engine.dispose()
