"""The workbench's APIs on the cases service (worklist, assignment, statistics) and the pages' handling of bad
input, against the running stack: office scoping, hand-over rules, CSRF, uploads, sign-in, escaping, headers."""

from __future__ import annotations

from urllib.parse import urljoin

import httpx
import pytest

from deploy.local.tokens import _forms
from tests.factories import example_declaration
from tests.helpers import case_in_state, eventually, unique_id

pytestmark = pytest.mark.integration


def _png() -> bytes:
    from io import BytesIO

    from PIL import Image

    out = BytesIO()
    Image.new("RGB", (32, 24), (90, 60, 30)).save(out, "PNG")
    return out.getvalue()


async def _case(http, stack, declaration_id: str, **changes) -> str:
    body = example_declaration(declaration_id=declaration_id, **changes)
    assert (
        await http.post(f"{stack.url('intake')}/v1/declarations", json=body, headers=stack.auth("clearance"))
    ).status_code == 202

    async def case_id():
        view = await http.get(f"{stack.url('intake')}/v1/declarations/{declaration_id}", headers=stack.auth("officer"))
        return view.status_code == 200 and (view.json().get("case_ids") or [None])[0]

    found = await eventually(case_id, within=60, what="a case")
    await case_in_state(http, stack, found, "suspended", within=60)
    return found


async def test_worklist_assignment_and_hand_over(http, stack) -> None:
    cases = stack.url("cases")
    case_id = await _case(http, stack, unique_id("CN5300-WL"))
    mine = stack.auth("officer")

    async def listed():
        r = await http.get(f"{cases}/v1/worklist", params={"q": case_id}, headers=mine)
        return r.json()["items"] if r.status_code == 200 and r.json()["items"] else None

    item = (await eventually(listed, what="the case on the worklist"))[0]
    assert item["next_deadline"]["name"] == "holder_reply" and 0 <= item["next_deadline"]["working_days_left"] <= 3
    assert (item["direction"], item["transport_mode"], item["origin_country"]) == ("export", "sea", "CN")
    # an officer of another office neither lists it nor takes it
    other = stack.auth("officer_b")
    assert case_id not in [
        i["case_id"]
        for i in (await http.get(f"{cases}/v1/worklist", params={"q": case_id}, headers=other)).json()["items"]
    ]
    refused = await http.post(f"{cases}/v1/cases/{case_id}/assignment", json={}, headers=other)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "outside_office"
    # take it, then a colleague of the same office cannot grab it; a supervisor hands it over
    taken = await http.post(f"{cases}/v1/cases/{case_id}/assignment", json={}, headers=mine)
    assert taken.status_code == 200 and taken.json()["assignee"]["sub"] == "wang.wei"
    stack.ensure_account("wb.colleague", role="officer", display_name="Colleague CN5300", offices=["CN5300"])
    grab = await http.post(f"{cases}/v1/cases/{case_id}/assignment", json={}, headers=stack.auth("wb.colleague"))
    assert grab.status_code == 409 and grab.json()["error"]["code"] == "assigned_to_another"
    handed = await http.post(
        f"{cases}/v1/cases/{case_id}/assignment",
        headers=stack.auth("supervisor"),
        json={"assignee_sub": "wb.colleague", "assignee_name": "Colleague CN5300", "note": "leave"},
    )
    assert handed.json()["event"] == "handed_over"
    record = (await http.get(f"{cases}/v1/cases/{case_id}/assignment", headers=mine)).json()
    assert [(h["event"], h["to"], h["by"]) for h in record["history"]] == [
        ("assigned", "wang.wei", "Wang Wei (wang.wei)"),
        ("handed_over", "wb.colleague", "Zhang Min (zhang.min)"),
    ]
    theirs = await http.get(f"{cases}/v1/worklist", params={"mine": "true"}, headers=stack.auth("wb.colleague"))
    assert case_id in [i["case_id"] for i in theirs.json()["items"]]
    # bad input: a 4xx with the reason, never a 5xx
    for params in ({"limit": 0}, {"offset": -1}, {"q": "x" * 200}):
        assert (await http.get(f"{cases}/v1/worklist", params=params, headers=mine)).status_code == 422
    bad = await http.get(f"{cases}/v1/statistics/seizures", params={"by": "colour"}, headers=mine)
    assert bad.status_code == 422
    assert (await http.get(f"{cases}/v1/worklist", headers=stack.auth("holder"))).status_code == 403


async def _signed_in(stack, account: str) -> httpx.AsyncClient:
    """A browser-like client signed in to the pages through the provider's sign-in form."""
    client = httpx.AsyncClient(timeout=30, follow_redirects=False)
    r = await client.get(f"{stack.url('web')}/signin")
    for _ in range(10):
        if r.status_code in (302, 303):
            r = await client.get(urljoin(str(r.url), r.headers["location"]))
            continue
        page = _forms(r.text)
        login = next((f for f in page.forms if f["action"].split("?")[0].endswith("/login")), None)
        if login is None:
            break
        r = await client.post(
            urljoin(str(r.url), login["action"]), data={"username": account, "password": stack.password}
        )
    assert str(r.url).startswith(stack.url("web")), r.url
    return client


def _csrf(page: str) -> str:
    form = next(f for f in _forms(page).forms if "csrf" in f["fields"])
    return form["fields"]["csrf"]


async def test_pages_refuse_bad_input_with_the_reason(http, stack) -> None:
    web = stack.url("web")
    # not signed in: to the provider's sign-in, and back to the page asked for
    anonymous = await http.get(f"{web}/workbench/cases/x", follow_redirects=False)
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/signin?next=")
    # a return address elsewhere is never followed
    evil = await http.get(f"{web}/signin", params={"next": "//evil.example/"}, follow_redirects=False)
    assert evil.status_code == 303
    case_id = await _case(http, stack, unique_id("CN5300-BAD"))
    client = await _signed_in(stack, "wang.wei")
    try:
        page = await client.get(f"{web}/workbench/cases/{case_id}")
        assert page.status_code == 200
        headers = page.headers
        assert "script-src 'self'" in headers["content-security-policy"]
        assert headers["x-frame-options"] == "DENY" and headers["x-content-type-options"] == "nosniff"
        token = _csrf(page.text)
        # a form without (or with a wrong) CSRF token does nothing and goes back with a message
        for data in ({}, {"csrf": "forged"}):
            r = await client.post(f"{web}/workbench/cases/{case_id}/act/take", data=data)
            assert r.status_code == 303 and "msg=csrf" in r.headers["location"]
        assert (
            await http.get(f"{stack.url('cases')}/v1/cases/{case_id}/assignment", headers=stack.auth("officer"))
        ).json()["assignee"] is None
        # uploads: no file, a disguised file, too big: the error beside the field, nothing stored
        r = await client.post(f"{web}/workbench/cases/{case_id}/evidence", data={"csrf": token})
        assert r.status_code == 422 and 'id="error-file"' in r.text
        r = await client.post(
            f"{web}/workbench/cases/{case_id}/evidence",
            data={"csrf": token},
            files={"file": ("photo.jpg", b"#!/bin/sh\nrm -rf /\n", "image/jpeg")},
        )
        assert r.status_code == 422 and "Only photos (JPEG, PNG, WebP) and PDF documents are accepted" in r.text
        r = await client.post(  # a PNG signature and nothing of a picture behind it
            f"{web}/workbench/cases/{case_id}/evidence",
            data={"csrf": token},
            files={"file": ("photo.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "image/png")},
        )
        assert r.status_code == 422 and "The file is damaged or incomplete" in r.text
        big = b"\x89PNG\r\n\x1a\n" + b"\x00" * (20 * 1024 * 1024 + 10)
        r = await client.post(
            f"{web}/workbench/cases/{case_id}/evidence",
            data={"csrf": token},
            files={"file": ("big.png", big, "image/png")},
        )
        assert r.status_code in (413, 422)
        assert "No evidence yet." in (await client.get(f"{web}/workbench/cases/{case_id}")).text
        # a determination on a suspended case: the service's reason beside the form (409 there, 422 here)
        r = await client.post(
            f"{web}/workbench/cases/{case_id}/act/determination",
            data={"csrf": token, "outcome": "infringing", "fine_tier": "ordinary"},
        )
        assert r.status_code == 422 and "a determination is possible when the case is detained" in r.text
        # a hand-over with no one named: the error beside the field
        r = await client.post(f"{web}/workbench/cases/{case_id}/act/handover", data={"csrf": token})
        assert r.status_code == 422 and 'id="error-assignee_sub"' in r.text
        # stored files of other cases, or that do not exist, are not found
        assert (await client.get(f"{web}/files/999999")).status_code == 404
        assert (await client.get(f"{web}/files/0")).status_code == 404
        # statistics: a wrong date is an error beside the field; the CSV never starts a cell with a formula
        r = await client.get(f"{web}/workbench/statistics", params={"from": "2026-13-45"})
        assert r.status_code == 200 and 'id="error-from"' in r.text
        # an option not offered, or an end before the start, is said beside the field, not silently replaced
        r = await client.get(f"{web}/workbench/statistics", params={"by": "colour", "period": "week"})
        assert 'id="error-by"' in r.text and 'id="error-period"' in r.text
        r = await client.get(f"{web}/workbench/statistics", params={"from": "2027-01-01", "to": "2026-01-01"})
        assert 'id="error-to"' in r.text and "The end is before the start." in r.text
        # a rights holder is not an officer
        holder = await _signed_in(stack, "nike.ip")
        try:
            # a rights holder who opens the workbench is sent to its portal
            sent = await holder.get(f"{web}/workbench")
            assert sent.status_code == 303 and sent.headers["location"] == "/portal"
            # and an officer who opens the portal to the workbench
            back_to = await client.get(f"{web}/portal")
            assert back_to.status_code == 303 and back_to.headers["location"] == "/workbench"
            assert (await holder.get(f"{web}/portal/cases/{case_id}")).status_code == 200
            other = await holder.get(f"{web}/portal/cases/IPR-NOT-YOURS-L1")
            assert other.status_code == 404
        finally:
            await holder.aclose()
    finally:
        await client.aclose()


async def test_a_closed_case_is_not_taken_handed_over_or_given_evidence(http, stack) -> None:
    cases, web = stack.url("cases"), stack.url("web")
    case_id = await _case(http, stack, unique_id("CN5300-CLO"))
    notices = (
        await http.get(f"{stack.url('notify')}/v1/notices?case_id={case_id}", headers=stack.auth("holder"))
    ).json()
    suspension = next(n for n in notices if n["kind"] == "suspension")
    r = await http.post(
        f"{stack.url('notify')}/v1/notices/{suspension['notice_id']}/reply",
        headers=stack.auth("holder"),
        json={"decision": "no_detention"},
    )
    assert r.status_code in (200, 201), r.text
    await case_in_state(http, stack, case_id, "released", within=60)

    async def closed_in_read_model():
        r = await http.post(f"{cases}/v1/cases/{case_id}/assignment", json={}, headers=stack.auth("officer"))
        return r if r.status_code == 409 else None

    refused = await eventually(closed_in_read_model, what="assignment of a closed case refused")
    assert refused.json()["error"]["code"] == "case_closed"
    client = await _signed_in(stack, "wang.wei")
    try:
        page = await client.get(f"{web}/workbench/cases/{case_id}")
        assert page.status_code == 200 and 'id="closed-note"' in page.text
        assert 'id="take-case"' not in page.text and 'id="evidence-form"' not in page.text
        # the targeting reasons are on the page
        assert 'id="risk-reasons"' in page.text
        r = await client.post(
            f"{web}/workbench/cases/{case_id}/evidence",
            data={"csrf": _csrf(page.text)},
            files={"file": ("photo.png", _png(), "image/png")},
        )
        assert r.status_code == 409 and "nothing more can be added" in r.text
    finally:
        await client.aclose()


async def test_an_officer_issues_a_case_access_code_on_the_case_page(http, stack) -> None:
    web = stack.url("web")
    declaration_id = unique_id("CN5300-ACC")
    case_id = await _case(http, stack, declaration_id)
    consignee = example_declaration(declaration_id=declaration_id)["consignee"]
    client = await _signed_in(stack, "wang.wei")
    try:
        page = await client.get(f"{web}/workbench/cases/{case_id}")
        assert page.status_code == 200 and 'id="access-code-form"' in page.text
        token = _csrf(page.text)
        r = await client.post(
            f"{web}/workbench/cases/{case_id}/access-code", data={"csrf": token, "party_id": "NOBODY-9"}
        )
        assert r.status_code == 404 and "is not a party of case" in r.text and 'id="access-code"' not in r.text
        r = await client.post(
            f"{web}/workbench/cases/{case_id}/access-code", data={"csrf": token, "party_id": consignee["id"]}
        )
        assert r.status_code == 200 and 'id="access-code"' in r.text, r.text[-2000:]
        code = r.text.split('<code class="code">', 1)[1].split("<", 1)[0]
        assert len(code) == 29 and code.count("-") == 5
        # shown once: the page shown again names the issue, not the code
        again = await client.get(f"{web}/workbench/cases/{case_id}")
        assert code not in again.text and "case access code issued" in again.text
    finally:
        await client.aclose()
    exchanged = await http.post(
        f"{stack.issuer}/token",
        data={
            "grant_type": "urn:ipr:params:oauth:grant-type:case-access-code",
            "client_id": "case-access",
            "access_code": code,
        },
    )
    assert exchanged.status_code == 200, exchanged.text
    party = {"Authorization": f"Bearer {exchanged.json()['access_token']}"}
    assert (await http.get(f"{stack.url('cases')}/v1/cases/{case_id}", headers=party)).status_code == 200
