"""Every operation of the risk service against the running stack answers what the committed OpenAPI
(``contracts/openapi/risk.json``) declares: the status is one it names, and the body validates against the schema
it gives for that status, success and refusal alike."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import httpx
import pytest
from jsonschema import Draft202012Validator

from tests.factories import ROOT, example_declaration, example_recordation
from tests.helpers import unique_id

pytestmark = pytest.mark.integration

OPENAPI = json.loads((ROOT / "contracts" / "openapi" / "risk.json").read_text())


def answer(r: httpx.Response, path: str, *expected: int) -> dict:
    """The body of ``r``, once it is checked against the operation ``path`` (its template) of the document."""
    method = r.request.method.lower()
    responses = OPENAPI["paths"][path][method]["responses"]
    assert str(r.status_code) in responses, f"{method.upper()} {path} answered {r.status_code}, undeclared: {r.text}"
    if expected:
        assert r.status_code in expected, f"{method.upper()} {path}: {r.status_code} {r.text}"
    schema = responses[str(r.status_code)]["content"]["application/json"]["schema"]
    body = r.json()
    errors = sorted(
        Draft202012Validator(
            {**schema, "components": OPENAPI["components"]}, format_checker=Draft202012Validator.FORMAT_CHECKER
        ).iter_errors(body),
        key=str,
    )
    assert not errors, f"{method.upper()} {path} {r.status_code}: {errors[0].message} at {list(errors[0].path)}"
    return body


async def test_recordations_answer_as_declared(http, stack) -> None:
    risk, officer, supervisor = stack.url("risk"), stack.auth("officer"), stack.auth("supervisor")
    n = unique_id("")[-6:]
    han = "佐布拉" + "".join("零一二三四五六七八九ABCDEF"[int(c, 16)] for c in n)  # a mark nobody declares
    rec = example_recordation(
        recordation_id=unique_id("CN-T"),
        title=f"ZORBLAX{n}",
        aliases=[han],
        status="pending",
        goods_hs_prefixes=["9102"],
        genuine_unit_value=[],
    )
    rid = rec["recordation_id"]
    url = f"{risk}/v1/recordations/{rid}"
    created = answer(await http.post(f"{risk}/v1/recordations", json=rec, headers=officer), "/v1/recordations", 201)
    assert [m.get("pinyin") is not None for m in created["marks"]] == [False, True]
    assert (
        answer(await http.post(f"{risk}/v1/recordations", json=rec, headers=officer), "/v1/recordations", 200)
        == created
    )
    answer(
        await http.post(f"{risk}/v1/recordations", json={**rec, "title": "OTHER"}, headers=officer),
        "/v1/recordations",
        409,
    )
    answer(
        await http.post(f"{risk}/v1/recordations", json={**rec, "valid_until": "1999-01-01"}, headers=officer),
        "/v1/recordations",
        422,
    )
    answer(
        await http.post(
            f"{risk}/v1/recordations", content=b"{", headers={**officer, "content-type": "application/json"}
        ),
        "/v1/recordations",
        400,
    )

    amended = answer(
        await http.post(f"{url}/amend", json={"changes": {"genuine_ports": ["CNSZX"]}}, headers=officer),
        "/v1/recordations/{recordation_id}/amend",
        200,
    )
    assert amended["version"] == 2 and amended["marks"] == created["marks"]
    approved = answer(
        await http.post(f"{url}/approve", json={"reason": "documents complete"}, headers=supervisor),
        "/v1/recordations/{recordation_id}/approve",
        200,
    )
    assert approved["status"] == "active"
    answer(
        await http.post(f"{url}/approve", json={"expected_version": 1}, headers=supervisor),
        "/v1/recordations/{recordation_id}/approve",
        409,
    )
    answer(await http.post(f"{url}/renew", json={}, headers=officer), "/v1/recordations/{recordation_id}/renew", 409)
    answer(
        await http.post(f"{url}/revoke", json={"reason": "untrue information"}, headers=supervisor),
        "/v1/recordations/{recordation_id}/revoke",
        200,
    )
    answer(
        await http.post(f"{url}/expire", json={"lapsed_right": True}, headers=officer),
        "/v1/recordations/{recordation_id}/expire",
        409,
    )
    answer(
        await http.post(f"{url}/refuse", json={"reason": "x"}, headers=supervisor),
        "/v1/recordations/{recordation_id}/refuse",
        422,
    )

    full = answer(await http.get(url, headers=officer), "/v1/recordations/{recordation_id}", 200)
    assert [h["event"] for h in full["history"]] == ["created", "amended", "approved", "revoked"]
    assert full["history"][1]["changes"] == ["genuine_ports"]
    first = answer(
        await http.get(f"{url}/versions/1", headers=officer),
        "/v1/recordations/{recordation_id}/versions/{version}",
        200,
    )
    assert first["version"] == 1 and first["status"] == "pending" and "marks" not in first
    answer(
        await http.get(f"{url}/versions/9", headers=officer),
        "/v1/recordations/{recordation_id}/versions/{version}",
        404,
    )
    listed = answer(
        await http.get(f"{risk}/v1/recordations", params={"status": "revoked", "limit": 1000}, headers=officer),
        "/v1/recordations",
        200,
    )
    assert rid in [r["recordation_id"] for r in listed]
    answer(
        await http.get(f"{risk}/v1/recordations/NOPE-{n}", headers=officer), "/v1/recordations/{recordation_id}", 404
    )
    answer(await http.get(url, headers=stack.auth("clearance")), "/v1/recordations/{recordation_id}", 403)
    answer(await http.get(url), "/v1/recordations/{recordation_id}", 401)

    other = example_recordation(recordation_id=unique_id("CN-T"), title=f"QUIBBLE{n}", aliases=[], status="pending")
    answer(await http.post(f"{risk}/v1/recordations", json=other, headers=officer), "/v1/recordations", 201)
    refused = answer(
        await http.post(
            f"{risk}/v1/recordations/{other['recordation_id']}/refuse",
            json={"reason": "applicant is not the holder"},
            headers=supervisor,
        ),
        "/v1/recordations/{recordation_id}/refuse",
        200,
    )
    assert refused["status"] == "refused"


async def test_profiles_campaigns_and_assessment_answer_as_declared(http, stack) -> None:
    risk, officer, supervisor = stack.url("risk"), stack.auth("officer"), stack.auth("supervisor")
    office = f"Q{unique_id('')[-6:]}"  # an office no other test declares at: nothing here changes their scores
    pid = unique_id("P")
    profile = {
        "profile_id": pid,
        "name": "watches at one office",
        "owner": "officer.chen",
        "weight": 0.3,
        "valid_from": "2026-01-01",
        "valid_until": "2030-12-31",
        "customs_offices": [office],
        "conditions": [
            {"field": "line.hs_code", "op": "prefix", "value": ["9102", "9101"]},
            {"field": "lines.count", "op": "ge", "value": 1},
            {"field": "line.unit_value", "op": "lt", "value": 99.5},
            {"field": "line.model", "op": "absent"},
        ],
    }
    purl = f"{risk}/v1/profiles/{pid}"
    answer(await http.put(purl, json=profile, headers=officer), "/v1/profiles/{profile_id}", 201)
    answer(await http.put(purl, json=profile, headers=officer), "/v1/profiles/{profile_id}", 200)
    answer(
        await http.put(purl, json={**profile, "profile_id": pid + "-X"}, headers=officer),
        "/v1/profiles/{profile_id}",
        422,
    )
    got = answer(await http.get(purl, headers=officer), "/v1/profiles/{profile_id}", 200)
    assert [c["value"] for c in got["conditions"]] == [["9102", "9101"], 1, 99.5, None]
    answer(await http.get(f"{risk}/v1/profiles", headers=officer), "/v1/profiles", 200)
    imported = answer(
        await http.post(f"{risk}/v1/profiles/import", json=[{**profile, "profile_id": pid + "-2"}], headers=officer),
        "/v1/profiles/import",
        200,
    )
    assert imported == {"stored": 1, "created": 1, "profiles": [pid + "-2"]}
    answer(
        await http.post(f"{risk}/v1/profiles/import", json=[{**profile, "weight": 3}], headers=officer),
        "/v1/profiles/import",
        422,
    )
    for p in (pid, pid + "-2"):
        gone = answer(await http.delete(f"{risk}/v1/profiles/{p}", headers=officer), "/v1/profiles/{profile_id}", 200)
        assert gone["active"] is False
    answer(await http.get(f"{purl}-3", headers=officer), "/v1/profiles/{profile_id}", 404)

    cid = unique_id("C")
    campaign = {
        "campaign_id": cid,
        "name": "watches",
        "owner": "GACC IPR division",
        "valid_from": "2026-01-01",
        "valid_until": "2030-12-31",
        "customs_offices": [office],
        "directions": ["export"],
        "transport_modes": ["express"],
        "supervision_modes": ["9610"],
        "weight": 0.1,
        "active": False,
        "sectors": [{"name": "watches", "hs_prefixes": ["9102"]}],
    }
    curl = f"{risk}/v1/campaigns/{cid}"
    answer(await http.put(curl, json=campaign, headers=officer), "/v1/campaigns/{campaign_id}", 201)
    answer(await http.put(curl, json={**campaign, "weight": 0.2}, headers=officer), "/v1/campaigns/{campaign_id}", 200)
    answer(
        await http.post(f"{curl}/switch-on", json={"reason": "season"}, headers=officer),
        "/v1/campaigns/{campaign_id}/switch-on",
        200,
    )
    answer(
        await http.post(f"{curl}/switch-off", json={}, headers=officer), "/v1/campaigns/{campaign_id}/switch-off", 200
    )
    answer(
        await http.post(f"{curl}-X/switch-off", json={}, headers=officer), "/v1/campaigns/{campaign_id}/switch-off", 404
    )
    full = answer(await http.get(curl, headers=officer), "/v1/campaigns/{campaign_id}", 200)
    assert [h["event"] for h in full["history"]] == ["created", "updated", "switched_on", "switched_off"]
    answer(await http.get(f"{risk}/v1/campaigns", headers=officer), "/v1/campaigns", 200)
    report = answer(
        await http.get(f"{curl}/report", params={"from": "2026-01-01", "period": "week"}, headers=officer),
        "/v1/campaigns/{campaign_id}/report",
        200,
    )
    assert report["from"] == "2026-01-01" and report["to"] is None and report["rows"] == []
    answer(
        await http.get(f"{curl}/report", params={"from": "2026-02-01", "to": "2026-01-01"}, headers=officer),
        "/v1/campaigns/{campaign_id}/report",
        422,
    )

    d = example_declaration(
        declaration_id=unique_id("D"), customs_office=office, submitted_at=datetime.now(UTC).isoformat()
    )
    assessed = answer(await http.post(f"{risk}/v1/assess", json=d, headers=officer), "/v1/assess", 200)
    assert assessed["declaration_id"] == d["declaration_id"] and any(line["hits"] for line in assessed["lines"])
    answer(await http.post(f"{risk}/v1/assess", json={**d, "lines": []}, headers=officer), "/v1/assess", 422)
    answer(
        await http.post(f"{risk}/v1/assess", content="x", headers={**officer, "content-type": "text/plain"}),
        "/v1/assess",
        415,
    )

    answer(
        await http.put(
            f"{risk}/v1/capacity/{office}/red-quota", json={"per_day": 12, "reason": "one team"}, headers=supervisor
        ),
        "/v1/capacity/{customs_office}/red-quota",
        200,
    )
    capacity = answer(await http.get(f"{risk}/v1/capacity", headers=officer), "/v1/capacity", 200)
    assert office in [q["customs_office"] for q in capacity["red_quotas"]]
    answer(await http.get(f"{risk}/v1/capacity"), "/v1/capacity", 401)
    history = answer(
        await http.post(f"{risk}/v1/traders/history", json={"trader_id": "DE/1234 56"}, headers=officer),
        "/v1/traders/history",
        200,
    )
    assert history == {"trader_id": "DE/1234 56", "infringing_cases": 0, "repeat_infringer": False}


async def test_learning_answers_as_declared(http, stack) -> None:
    risk, officer, supervisor = stack.url("risk"), stack.auth("officer"), stack.auth("supervisor")
    answer(await http.get(f"{risk}/v1/labels", params={"limit": 1000}, headers=officer), "/v1/labels", 200)
    answer(await http.get(f"{risk}/v1/models", headers=officer), "/v1/models", 200)
    answer(await http.get(f"{risk}/v1/models/m-9999", headers=officer), "/v1/models/{version}", 404)
    unknown = answer(
        await http.get(f"{risk}/v1/line-features/{unique_id('D')}", headers=officer),
        "/v1/line-features/{declaration_id}",
        404,
    )
    assert unknown["error"]["code"] == "line_not_assessed"
    answer(
        await http.post(
            f"{risk}/v1/control-results",
            headers=officer,
            json={"declaration_id": unique_id("D"), "line_no": 1, "result": "infringement_found"},
        ),
        "/v1/control-results",
        404,
    )
    answer(await http.post(f"{risk}/v1/models/train", json={"seed": 5}, headers=officer), "/v1/models/train")
    answer(
        await http.post(f"{risk}/v1/models/rollback", json={"reason": "x"}, headers=supervisor),
        "/v1/models/rollback",
        422,
    )
    for action, who in (("propose", officer), ("promote", supervisor), ("reject", supervisor)):
        answer(
            await http.post(f"{risk}/v1/models/m-9999/{action}", json={"reason": "not seen in use"}, headers=who),
            f"/v1/models/{{version}}/{action}",
            404,
        )
