"""The parties of a case on the running system: the declarant's notice reaches the mail sink, the declarant
answers with its own token, a party without an account answers with a case access code an officer gave it,
and a party outside the case (or an answer that is not its own) is refused."""

from __future__ import annotations

import httpx
import pytest

from tests.factories import example_declaration, example_recordation
from tests.helpers import case_in_state, eventually, unique_id

pytestmark = pytest.mark.e2e

DECLARANT_ID = "91440300MA5XXXX1"  # the party account of the stack (swift.forwarding) declares for these goods


async def _eu_consignment(http, stack, *, declarant_email: str) -> tuple[str, dict]:
    r = await http.post(
        f"{stack.url('risk')}/v1/recordations",
        headers=stack.auth("officer"),
        json=example_recordation(
            recordation_id="EU-AFA-DE-2026-0091",
            jurisdiction="EU",
            title="NIKE",
            registration_number="EUTM-000001",
            holder={"id": "RH-0001", "name": "Nike Innovate C.V.", "contact_email": "brand-protection@example.com"},
        ),
    )
    assert r.status_code in (200, 201), r.text
    body = example_declaration(
        declaration_id=unique_id("DE-PARTY"),
        jurisdiction="EU",
        customs_office="DE004851",
        direction="import",
        destination_country="DE",
        currency="EUR",
    )
    body["declarant"] = {**body["declarant"], "id": DECLARANT_ID, "contact_email": declarant_email}
    r = await http.post(f"{stack.url('intake')}/v1/declarations", json=body, headers=stack.auth("clearance"))
    assert r.status_code == 202, r.text
    return f"IPR-{body['declaration_id']}-RH-0001", body


async def test_declarants_notice_is_in_the_sink_and_the_declarant_answers_with_its_token(http, stack) -> None:
    address = f"customs-{unique_id('d').lower()}@swift.example.cn"
    case_id, _ = await _eu_consignment(http, stack, declarant_email=address)
    await case_in_state(http, stack, case_id, "detained", who="officer_eu")

    async def served() -> dict | None:
        case = (await http.get(f"{stack.url('cases')}/v1/cases/{case_id}", headers=stack.auth("officer_eu"))).json()
        notices = case.get("party_notices") or []
        return case if notices and notices[0]["status"] == "served" else None

    case = await eventually(served, within=60, what="the declarant's notice served")
    [notice] = case["party_notices"]
    assert (notice["kind"], notice["role"], notice["party_id"]) == ("party_detention", "declarant", DECLARANT_ID)
    consent = next(d for d in case["deadlines"] if d["name"] == "declarant_consent")
    assert consent["working_days"] == 10
    mails = (await http.get(f"{stack.sink}/mail")).json()
    mail = next(m for m in mails if m["to"] == address)
    assert mail["headers"].get("X-IPR-Case-Id") == case_id and "suspension" in mail["subject"].lower()

    # the declarant reads its own notice at notify; the rights holder does not see it
    party = stack.auth("party")
    mine = (await http.get(f"{stack.url('notify')}/v1/notices?case_id={case_id}", headers=party)).json()
    assert [n["notice_id"] for n in mine] == [notice["notice_id"]]
    holder_view = await http.get(
        f"{stack.url('notify')}/v1/notices/{notice['notice_id']}", headers=stack.auth("holder")
    )
    assert holder_view.status_code == 404
    # with its legal document, in German and English, stating its time as running from service
    document = await http.get(
        f"{stack.url('notify')}/v1/notices/{notice['notice_id']}/document?format=txt", headers=party
    )
    assert document.status_code == 200, document.text
    assert "Mitteilung über die Aussetzung der Überlassung" in document.text
    assert "10 working days from the day this document is served on you" in document.text
    assert (
        await http.get(
            f"{stack.url('notify')}/v1/notices/{notice['notice_id']}/document?format=txt", headers=stack.auth("holder")
        )
    ).status_code == 404

    # answers that are not the declarant's are refused with a reason
    wrong = await http.post(
        f"{stack.url('cases')}/v1/cases/{case_id}/answers", headers=party, json={"kind": "importer_response"}
    )
    assert wrong.status_code == 403 and wrong.json()["error"]["code"] == "answer_not_in_jurisdiction"
    stranger = await http.post(
        f"{stack.url('cases')}/v1/cases/{case_id}/answers",
        headers=stack.auth("holder"),
        json={"kind": "objects_to_destruction"},
    )
    assert stranger.status_code == 403

    objection = await http.post(
        f"{stack.url('cases')}/v1/cases/{case_id}/answers",
        headers=party,
        json={"kind": "objects_to_destruction", "text": "the goods are genuine"},
    )
    assert objection.status_code == 202, objection.text
    assert objection.json()["as"] == "declarant"

    async def recorded() -> dict | None:
        case = (await http.get(f"{stack.url('cases')}/v1/cases/{case_id}", headers=stack.auth("officer_eu"))).json()
        entry = next((h for h in case["history"] if h["event"] == "party_submission"), None)
        return entry

    entry = await eventually(recorded, what="the objection in the case history")
    assert entry["detail"]["kind"] == "objects_to_destruction" and entry["detail"]["party"] == "declarant"
    assert entry["detail"]["actor"]["role"] == "party"


async def test_an_undelivered_notice_is_an_officers_task_until_served_on_paper(http, stack) -> None:
    address = f"{unique_id('gone').lower()}@bounce.example.org"
    r = await http.put(
        f"{stack.sink}/control/mail/{address}", json={"replies": [], "then": "550 5.1.1 no such mailbox"}
    )
    assert r.status_code == 200
    case_id, _ = await _eu_consignment(http, stack, declarant_email=address)

    async def undeliverable() -> dict | None:
        case = (await http.get(f"{stack.url('cases')}/v1/cases/{case_id}", headers=stack.auth("officer_eu"))).json()
        notices = case.get("party_notices") or []
        return case if notices and notices[0]["status"] == "undeliverable" else None

    case = await eventually(undeliverable, within=60, what="the declarant's notice undeliverable")
    assert not any(d["name"] == "declarant_consent" for d in case["deadlines"]), "no clock before service"
    notice = case["party_notices"][0]

    async def task() -> dict | None:
        listed = (await http.get(f"{stack.url('cases')}/v1/escalations", headers=stack.auth("officer_eu"))).json()
        return next((e for e in listed if e["case_id"] == case_id and "serve_notice" in str(e)), None)

    escalation = await eventually(task, what="the officer's task to serve the notice")
    # a note that it was done is not service: the party's clock starts only from recorded service
    refused = await http.post(
        f"{stack.url('cases')}/v1/escalations/{escalation['id']}/resolve",
        headers=stack.auth("officer_eu"),
        json={"note": "sent it somehow"},
    )
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "service_not_recorded", refused.text
    served = await http.post(
        f"{stack.url('cases')}/v1/cases/{case_id}/notices/{notice['key']}/service",
        headers=stack.auth("officer_eu"),
        json={"method": "post", "note": "registered letter"},
    )
    assert served.status_code == 202, served.text

    async def clock() -> dict | None:
        case = (await http.get(f"{stack.url('cases')}/v1/cases/{case_id}", headers=stack.auth("officer_eu"))).json()
        return case if any(d["name"] == "declarant_consent" for d in case["deadlines"]) else None

    case = await eventually(clock, what="the declarant's clock after paper service")
    entry = next(h for h in case["history"] if h["event"] == "notice_served_on_paper")
    assert entry["detail"]["method"] == "post" and entry["detail"]["officer"]
    assert await task() is None  # the recorded service resolved the task
    again = await http.post(
        f"{stack.url('cases')}/v1/cases/{case_id}/notices/{notice['key']}/service",
        headers=stack.auth("officer_eu"),
        json={"method": "post"},
    )
    assert again.status_code == 409 and again.json()["error"]["code"] == "already_served"
    await http.delete(f"{stack.sink}/control/mail/{address}")


CASE_ACCESS_GRANT = "urn:ipr:params:oauth:grant-type:case-access-code"


async def _exchange(http, stack, code: str) -> httpx.Response:
    return await http.post(
        f"{stack.issuer}/token",
        data={
            "grant_type": CASE_ACCESS_GRANT,
            "client_id": "case-access",
            "access_code": code,
            "resource": "urn:ipr:api",
        },
    )


async def test_a_consignee_without_an_account_answers_with_a_case_access_code(http, stack) -> None:
    address = f"customs-{unique_id('d').lower()}@swift.example.cn"
    case_id, body = await _eu_consignment(http, stack, declarant_email=address)
    consignee = body["consignee"]
    await case_in_state(http, stack, case_id, "detained", who="officer_eu")
    officer = stack.auth("officer_eu")
    codes = f"{stack.url('cases')}/v1/cases/{case_id}/access-codes"

    # only an officer of the case's office issues one, and only for a party of the case
    assert (await http.post(codes, headers=stack.auth("holder"), json={"party_id": consignee["id"]})).status_code == 403
    assert (await http.post(codes, headers=stack.auth("officer"), json={"party_id": consignee["id"]})).status_code in (
        403,
        404,
    )  # a CN officer: outside its offices
    stranger = await http.post(codes, headers=officer, json={"party_id": "NOT-A-PARTY-1"})
    assert stranger.status_code == 404 and stranger.json()["error"]["code"] == "party_not_found"
    issued = await http.post(codes, headers=officer, json={"party_id": consignee["id"], "valid_days": 10})
    assert issued.status_code == 201, issued.text
    grant = issued.json()
    assert grant["party_id"] == consignee["id"] and "holder_of_goods" in grant["roles"]
    assert grant["exchange"] == {
        "token_endpoint": f"{stack.issuer}/token",
        "grant_type": CASE_ACCESS_GRANT,
        "client_id": "case-access",
    }
    code = grant["code"]
    assert len(code.replace("-", "")) == 24

    # the code, typed from paper in lower case, buys a 5-minute token of role party bound to this case
    r = await _exchange(http, stack, code.lower())
    assert r.status_code == 200, r.text
    token = r.json()
    assert token["case_id"] == case_id and "refresh_token" not in token and token["expires_in"] <= 300
    me = (
        await http.get(f"{stack.url('identity')}/v1/me", headers={"Authorization": f"Bearer {token['access_token']}"})
    ).json()
    assert (me["role"], me["party_id"], me["case_id"]) == ("party", consignee["id"], case_id)
    assert me["name"] == consignee["name"]
    party = {"Authorization": f"Bearer {token['access_token']}"}

    view = await http.get(f"{stack.url('cases')}/v1/cases/{case_id}", headers=party)
    assert view.status_code == 200, view.text
    mine = (await http.get(f"{stack.url('cases')}/v1/cases", headers=party)).json()
    listed = mine["cases"] if isinstance(mine, dict) else mine
    assert {c["case_id"] for c in listed} == {case_id}, "the token shows its one case"
    endpoint = await http.put(
        f"{stack.url('notify')}/v1/recipients/party/{consignee['id']}/webhook/endpoint",
        headers=party,
        json={"webhook_url": "http://127.0.0.1:9/hooks/consignee"},
    )
    assert endpoint.status_code == 403 and endpoint.json()["error"]["code"] == "case_bound_token", endpoint.text
    other_case, _ = await _eu_consignment(http, stack, declarant_email=f"x-{unique_id('o').lower()}@example.org")
    assert (await http.get(f"{stack.url('cases')}/v1/cases/{other_case}", headers=party)).status_code == 404

    objection = await http.post(
        f"{stack.url('cases')}/v1/cases/{case_id}/answers",
        headers=party,
        json={"kind": "objects_to_destruction", "text": "we ordered genuine goods"},
    )
    assert objection.status_code == 202, objection.text
    assert objection.json()["as"] == "holder_of_goods"

    async def recorded() -> dict | None:
        case = (await http.get(f"{stack.url('cases')}/v1/cases/{case_id}", headers=officer)).json()
        return next((h for h in case["history"] if h["event"] == "party_submission"), None)

    entry = await eventually(recorded, what="the consignee's objection in the case history")
    assert entry["detail"]["kind"] == "objects_to_destruction"
    assert entry["detail"]["actor"]["sub"] == f"case-access:{grant['access_id']}"

    # a code of the declarant (which also has an account, with cases beyond this one) sees this case's deliveries
    declarant_code = await http.post(codes, headers=officer, json={"party_id": DECLARANT_ID})
    assert declarant_code.status_code == 201, declarant_code.text
    bound = (await _exchange(http, stack, declarant_code.json()["code"])).json()["access_token"]

    async def logs() -> tuple[list, list] | None:
        mine = (
            await http.get(f"{stack.url('notify')}/v1/deliveries", headers={"Authorization": f"Bearer {bound}"})
        ).json()
        everywhere = (await http.get(f"{stack.url('notify')}/v1/deliveries", headers=stack.auth("party"))).json()
        return (
            (mine, everywhere)
            if mine and {d["notice_id"] for d in everywhere} - {d["notice_id"] for d in mine}
            else None
        )

    mine, everywhere = await eventually(logs, within=60, what="the declarant's deliveries in two cases")
    this_case = {
        n["notice_id"]
        for n in (await http.get(f"{stack.url('notify')}/v1/notices?case_id={case_id}", headers=officer)).json()
    }
    assert {d["notice_id"] for d in mine} <= this_case, "the code sees its one case's deliveries"
    assert {d["notice_id"] for d in everywhere} - this_case, "the declarant's account sees its other cases' too"

    # wrong codes are refused; a revoked code buys nothing more; the issue and the revocation are on the case
    wrong = await _exchange(http, stack, "0000-0000-0000-0000-0000-0000")
    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_grant"
    revoked = await http.post(
        f"{codes}/{grant['access_id']}/revoke", headers=officer, json={"reason": "the consignee answered"}
    )
    assert revoked.status_code == 200 and revoked.json()["status"] == "revoked", revoked.text
    again = await _exchange(http, stack, code)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
    listed_codes = {c["access_id"]: c for c in (await http.get(codes, headers=officer)).json()}
    assert (listed_codes[grant["access_id"]]["status"], listed_codes[grant["access_id"]]["uses"]) == ("revoked", 1)
    assert len(listed_codes) == 2 and all("code" not in c for c in listed_codes.values())
    again = await http.post(f"{codes}/{grant['access_id']}/revoke", headers=officer, json={})
    assert again.status_code == 200 and again.json()["status"] == "revoked"  # once is recorded once
    case = (await http.get(f"{stack.url('cases')}/v1/cases/{case_id}", headers=officer)).json()
    events = [i["event"] for i in case["interventions"]]
    assert events.count("case_access_revoked") == 1 and events[-2:] == ["case_access_issued", "case_access_revoked"]
    # a true is not a number of days
    assert (
        await http.post(codes, headers=officer, json={"party_id": consignee["id"], "valid_days": True})
    ).status_code == 422

    # five wrong codes hold the address back for the window (IDENTITY_CASE_ACCESS_HOLD_S: 60 s, 5 s on the test
    # stack), with the reason; a right code goes through again once it has passed
    for _ in range(5):
        await _exchange(http, stack, "0000-0000-0000-0000-0000-0001")
    held = await _exchange(http, stack, "0000-0000-0000-0000-0000-0002")
    assert held.status_code == 429 and held.json()["error"] == "slow_down", held.text
    assert held.headers.get("retry-after") == "5"
    fresh = await http.post(codes, headers=officer, json={"party_id": consignee["id"]})
    assert fresh.status_code == 201, fresh.text
    assert (await _exchange(http, stack, fresh.json()["code"])).status_code == 429, "held back: even a right code"

    async def let_through() -> httpx.Response | None:
        r = await _exchange(http, stack, fresh.json()["code"])
        return r if r.status_code == 200 else None

    await eventually(let_through, within=15, what="the address let through after the hold")
