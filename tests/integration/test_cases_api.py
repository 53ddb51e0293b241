"""The cases service against the real stack: rules endpoints, opening cases by hand, who may act on a case,
and the EU and US procedures running on the real worker and step services."""

from __future__ import annotations

import pytest

from tests.factories import example_declaration, example_recordation
from tests.helpers import approve_confiscation, case_in_state, eventually, unique_id

pytestmark = pytest.mark.integration


async def rules(http, stack, path: str, who: str = "officer"):
    return await http.get(f"{stack.url('cases')}/v1/rules/{path}", headers=stack.auth(who))


@pytest.mark.parametrize(
    ("query", "deadline"),
    [
        ("CN/deadline?start=2026-09-30&working_days=3", "2026-10-10"),  # National Day week, make-up Saturday 10 Oct
        ("CN/deadline?start=2026-02-13&working_days=1", "2026-02-14"),  # make-up Saturday before Spring Festival
        ("CN/deadline?start=2026-02-14&working_days=1", "2026-02-24"),  # Spring Festival 15-23 Feb
        ("CN/deadline?start=2026-11-20&working_days=3", "2026-11-25"),  # over a weekend
        ("US/deadline?start=2026-11-25&working_days=2", "2026-11-30"),  # Thanksgiving 26 Nov
        ("EU/deadline?start=2026-12-23&working_days=2", "2026-12-28"),  # Christmas 25-26 Dec (DE)
    ],
)
async def test_deadline_endpoint(http, stack, query, deadline) -> None:
    response = await rules(http, stack, query)
    assert response.status_code == 200, response.text
    assert response.json()["deadline"] == deadline


async def test_guarantee_and_fine_endpoints(http, stack) -> None:
    cases = {
        ("ex_officio", "19999.99"): "19999.99",
        ("ex_officio", "20000"): "20000.00",
        ("ex_officio", "150000"): "75000.00",
        ("ex_officio", "200000"): "100000.00",
        ("ex_officio", "200000.01"): "100000.00",
        ("application", "150000"): "150000.00",
    }
    for (mode, value), amount in cases.items():
        r = await rules(http, stack, f"CN/guarantee?mode={mode}&goods_value={value}&currency=CNY")
        assert r.status_code == 200 and r.json()["amount"] == amount, (mode, value, r.text)
    wrong = await rules(http, stack, "CN/guarantee?goods_value=100&currency=USD")
    assert wrong.status_code == 422 and wrong.json()["error"]["code"] == "currency_mismatch"
    fine = (await rules(http, stack, "CN/fine?goods_value=100000&tier=ordinary")).json()
    assert (fine["min"], fine["max"], fine["currency"]) == ("10000.00", "20000.00", "CNY")
    heavier = (await rules(http, stack, "CN/fine?goods_value=100000&tier=heavier")).json()
    assert heavier["max"] == "30000.00" and heavier["max_exclusive"] is False
    assert (await rules(http, stack, "CN/fine?goods_value=100&tier=unknown")).status_code == 422
    us = (await rules(http, stack, "US/fine?goods_value=1000&repeat=true")).json()
    assert us["max"] == "2000.00"
    eu = await rules(http, stack, "EU/fine?goods_value=1000")
    assert eu.status_code == 422 and "national law" in eu.json()["error"]["message"]
    assert (await rules(http, stack, "JP/deadline?start=2026-01-05&working_days=1")).status_code == 404
    assert (await rules(http, stack, "CN", who="clearance")).status_code == 403
    packs = (await rules(http, stack, "CN")).json()
    assert packs["settings"]["police_referral_goods_value"]["uncertain"] is True


async def _declare(http, stack, **changes) -> dict:
    body = example_declaration(declaration_id=unique_id("CN5300-API"), **changes)
    r = await http.post(f"{stack.url('intake')}/v1/declarations", json=body, headers=stack.auth("clearance"))
    assert r.status_code == 202, r.text
    return body


async def test_officer_opens_a_case_by_hand_and_holders_apply_only_for_their_rights(http, stack) -> None:
    body = await _declare(http, stack)
    case_id = f"IPR-{body['declaration_id']}-RH-0001"
    suspended = await case_in_state(http, stack, case_id, "suspended")  # risk opened it for line 1 (NIKE)
    assert [ln["line_no"] for ln in suspended["lines"]] == [1]
    # line 2 (plain handbags) is green; an officer who has grounds adds it ex officio: it joins the holder's case
    opened = await http.post(
        f"{stack.url('cases')}/v1/cases",
        headers=stack.auth("officer"),
        json={
            "declaration_id": body["declaration_id"],
            "line_no": 2,
            "recordation_id": "CN-T-2019-004211",
            "note": "bags carry a swoosh under the plastic sheeting",
        },
    )
    assert opened.status_code == 200, opened.text
    assert opened.json()["case_id"] == case_id and opened.json()["joined_existing_case"] is True

    async def both_lines():
        r = await http.get(f"{stack.url('cases')}/v1/cases/{case_id}", headers=stack.auth("officer"))
        lines_in = [ln["line_no"] for ln in r.json()["lines"]]
        return r.json() if lines_in == [1, 2] and r.json()["required_guarantee"] != "14910.00" else None

    case = await eventually(both_lines, what="line 2 in the case, the guarantee following it")
    assert case["procedure"] == "cn_ex_officio" and case["rule_pack_version"].startswith("CN-")
    joined = next(h for h in case["history"] if h["event"] == "line_joined")
    assert joined["detail"]["source"] == "officer" and joined["detail"]["by"] == "Wang Wei (wang.wei)"
    # one guarantee on both lines: USD 2,100 + 620 = USD 2,720 = RMB 19,312 (below 20,000: the whole value)
    assert case["required_guarantee"] == "19312.00"
    again = await http.post(
        f"{stack.url('cases')}/v1/cases",
        headers=stack.auth("officer"),
        json={"declaration_id": body["declaration_id"], "line_no": 2, "recordation_id": "CN-T-2019-004211"},
    )
    assert again.status_code == 409 and again.json()["error"]["code"] == "line_in_case"
    missing = await http.post(
        f"{stack.url('cases')}/v1/cases",
        headers=stack.auth("officer"),
        json={"declaration_id": body["declaration_id"], "line_no": 9, "recordation_id": "CN-T-2019-004211"},
    )
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "line_not_found"

    # a declaration in which risk suspects nothing of RH-0001: the holder applies for line 2
    plain = dict(example_declaration()["lines"][0], brand=None, model=None, description="Mens sports shoes")
    other = await _declare(http, stack, lines=[plain, example_declaration()["lines"][1]])
    stranger = await http.post(
        f"{stack.url('cases')}/v1/cases",
        headers=stack.holder_auth("RH-0002"),
        json={
            "declaration_id": other["declaration_id"],
            "line_no": 2,
            "recordation_id": "CN-T-2019-004211",
            "mode": "application",
            "evidence": "test purchase",
        },
    )
    assert stranger.status_code == 403 and stranger.json()["error"]["code"] == "not_your_right"
    not_application = await http.post(
        f"{stack.url('cases')}/v1/cases",
        headers=stack.auth("holder"),
        json={"declaration_id": other["declaration_id"], "line_no": 2, "recordation_id": "CN-T-2019-004211"},
    )
    assert not_application.status_code == 403
    applied = await http.post(
        f"{stack.url('cases')}/v1/cases",
        headers=stack.auth("holder"),
        json={
            "declaration_id": other["declaration_id"],
            "line_no": 2,
            "recordation_id": "CN-T-2019-004211",
            "mode": "application",
            "evidence": "test purchase report TP-2026-118",
        },
    )
    assert applied.status_code == 201, applied.text
    assert applied.json()["case_id"] == f"IPR-{other['declaration_id']}-RH-0001"
    app_case = await case_in_state(http, stack, applied.json()["case_id"], "suspended", who="holder")
    assert app_case["procedure"] == "cn_application"
    assert app_case["required_guarantee"] == "4402.00"  # 200 x USD 3.10 = USD 620 = RMB 4,402: the full value

    # a holder may not make statements for the consignee
    refused = await http.post(
        f"{stack.url('cases')}/v1/cases/{case_id}/submissions",
        headers=stack.auth("holder"),
        json={"party": "consignee", "kind": "non_infringement_statement", "text": "x"},
    )
    assert refused.status_code == 403
    assert (await http.get(f"{stack.url('cases')}/v1/escalations", headers=stack.auth("supervisor"))).status_code == 200
    assert (await http.get(f"{stack.url('cases')}/v1/escalations", headers=stack.auth("holder"))).status_code == 403


async def _record(http, stack, rec: dict) -> None:
    r = await http.post(f"{stack.url('risk')}/v1/recordations", json=rec, headers=stack.auth("officer"))
    assert r.status_code in (200, 201), r.text


async def test_us_shipment_is_detained_and_forfeited_on_the_running_system(http, stack) -> None:
    await _record(
        http,
        stack,
        example_recordation(
            recordation_id="US-TMK-91-0417",
            jurisdiction="US",
            title="NIKE",
            registration_number="0978952",
            genuine_unit_value=[{"hs_prefix": "6404", "min": 90.0, "currency": "USD"}],
        ),
    )
    consignee = {**example_declaration()["consignee"], "contact_email": "imports@discount-footwear.example.com"}
    body = await _declare(
        http,
        stack,
        jurisdiction="US",
        customs_office="US2704",
        direction="import",
        destination_country="US",
        consignee=consignee,
    )
    case_id = f"IPR-{body['declaration_id']}-RH-0001"
    case = await case_in_state(http, stack, case_id, "detained", who="officer_us")  # an officer of US2704
    assert case["procedure"] == "us_detention"

    async def importer_window():  # it opens when the importer's notice of detention is served
        c = (await http.get(f"{stack.url('cases')}/v1/cases/{case_id}", headers=stack.auth("officer_us"))).json()
        return c if any(d["name"] == "importer_response" for d in c["deadlines"]) else None

    case = await eventually(importer_window, within=60, what="the importer's window after service")
    assert {d["name"] for d in case["deadlines"]} >= {"detention_notice", "importer_response", "detention_period"}
    assert case["party_notices"][0]["role"] == "importer" and case["party_notices"][0]["status"] == "served"
    unlawful = await http.post(
        f"{stack.url('cases')}/v1/cases/{case_id}/determination",
        headers=stack.auth("officer_us"),
        json={"outcome": "cannot_determine"},
    )
    assert unlawful.status_code == 422 and unlawful.json()["error"]["code"] == "finding_required"
    answered = await http.post(
        f"{stack.url('cases')}/v1/cases/{case_id}/submissions",
        headers=stack.auth("officer_us"),
        json={"party": "importer", "kind": "importer_response", "text": "they are genuine"},
    )
    assert answered.status_code == 202
    r = await http.post(
        f"{stack.url('cases')}/v1/cases/{case_id}/determination",
        headers=stack.auth("officer_us"),
        json={"outcome": "infringing", "fine_amount": "10000", "retail_value": "45000"},
    )
    assert r.status_code == 202, r.text

    async def second_proposal_refused() -> bool:  # once the case has recorded the first proposal
        again = await http.post(
            f"{stack.url('cases')}/v1/cases/{case_id}/determination",
            headers=stack.auth("officer_us"),
            json={"outcome": "infringing"},
        )
        return again.status_code == 409 and again.json()["error"]["code"] == "approval_pending"

    await eventually(second_proposal_refused)
    # nor does another officer overturn the pending proposal by finding otherwise
    contrary = await http.post(
        f"{stack.url('cases')}/v1/cases/{case_id}/determination",
        headers=stack.auth("officer_us"),
        json={"outcome": "not_infringing"},
    )
    assert contrary.status_code == 409 and contrary.json()["error"]["code"] == "approval_pending"
    await approve_confiscation(http, stack, case_id)
    seized = await case_in_state(
        http, stack, case_id, "seized", who="officer_us"
    )  # the officer's finding: notice of seizure
    petition = next(d for d in seized["deadlines"] if d["name"] == "petition")
    assert petition["working_days"] == 30 and petition["unit"] == "calendar_days"
    early = await http.post(
        f"{stack.url('cases')}/v1/cases/{case_id}/petition-decision",
        headers=stack.auth("officer_us"),
        json={"outcome": "denied"},
    )
    assert early.status_code == 409 and early.json()["error"]["code"] == "no_petition"
    filed = await http.post(
        f"{stack.url('cases')}/v1/cases/{case_id}/submissions",
        headers=stack.auth("officer_us"),
        json={"party": "importer", "kind": "petition", "text": "remission requested"},
    )
    assert filed.status_code == 202

    async def petition_pending():
        c = (await http.get(f"{stack.url('cases')}/v1/cases/{case_id}", headers=stack.auth("officer_us"))).json()
        return c if any(d["name"] == "petition_decision" for d in c["deadlines"]) else None

    await eventually(petition_pending, what="the petition awaiting a decision")
    denied = await http.post(
        f"{stack.url('cases')}/v1/cases/{case_id}/petition-decision",
        headers=stack.auth("officer_us"),
        json={"outcome": "denied", "note": "counterfeit"},
    )
    assert denied.status_code == 202, denied.text
    final = await case_in_state(http, stack, case_id, "forfeited", who="officer_us")
    assert final["fine_amount"] == "10000.00"
    disposition = (
        await http.get(
            f"{stack.url('disposal')}/v1/dispositions/{final['disposition_id']}", headers=stack.auth("officer")
        )
    ).json()
    assert disposition["outcome"] == "forfeiture" and disposition["currency"] == "USD"


async def test_eu_holder_confirms_and_declarant_agrees_goods_destroyed(http, stack) -> None:
    await _record(
        http,
        stack,
        example_recordation(
            recordation_id="EU-AFA-DE-2026-0091",
            jurisdiction="EU",
            title="NIKE",
            registration_number="EUTM-000001",
            holder={"id": "RH-0001", "name": "Nike Innovate C.V.", "contact_email": "brand-protection@example.com"},
        ),
    )
    body = await _declare(
        http,
        stack,
        jurisdiction="EU",
        customs_office="DE004851",
        direction="import",
        destination_country="DE",
        currency="EUR",
    )
    case_id = f"IPR-{body['declaration_id']}-RH-0001"
    case = await case_in_state(http, stack, case_id, "detained", who="holder")
    assert case["procedure"] == "eu_application"
    window = next(d for d in case["deadlines"] if d["name"] == "confirm_and_agree")
    assert window["working_days"] == 10
    confirm = await http.post(
        f"{stack.url('cases')}/v1/cases/{case_id}/submissions",
        headers=stack.auth("holder"),
        json={"party": "holder", "kind": "confirms_infringement", "text": "counterfeit"},
    )
    assert confirm.status_code == 202, confirm.text
    agree = await http.post(
        f"{stack.url('cases')}/v1/cases/{case_id}/submissions",
        headers=stack.auth("officer_eu"),
        json={"party": "declarant", "kind": "agrees_to_destruction"},
    )
    assert agree.status_code == 202
    final = await case_in_state(http, stack, case_id, "destroyed", who="officer_eu")
    assert final["disposal_method"] == "destruction" and final["fine_amount"] == "0.00"
    late = await http.post(
        f"{stack.url('cases')}/v1/cases/{case_id}/submissions",
        headers=stack.auth("holder"),
        json={"party": "holder", "kind": "proceedings_started"},
    )
    assert late.status_code == 409 and late.json()["error"]["code"] == "case_closed"


async def test_publishing_a_calendar_re_times_the_running_case_and_clears_its_provisional_flag(http, stack) -> None:
    import copy
    from datetime import date, timedelta

    from services.cases.calendars import publish
    from shared.rules.calendar import calendar_data, calendar_for, calendar_from_data
    from shared.temporal import connect

    body = await _declare(http, stack)
    case_id = f"IPR-{body['declaration_id']}-RH-0001"
    case = await case_in_state(http, stack, case_id, "suspended")
    notice = (
        await http.get(f"{stack.url('notify')}/v1/notices?case_id={case_id}", headers=stack.auth("holder"))
    ).json()
    await http.post(
        f"{stack.url('notify')}/v1/notices/{notice[0]['notice_id']}/reply",
        headers=stack.auth("holder"),
        json={
            "decision": "detain",
            "guarantee": {"amount": case["required_guarantee"], "currency": "CNY", "reference": "LG-CAL"},
        },
    )
    case = await case_in_state(http, stack, case_id, "detained")
    window = next(d for d in case["deadlines"] if d["name"] == "customs_determination")
    cal = calendar_for("CN")
    start, due = date.fromisoformat(window["start"]), date.fromisoformat(window["due_date"])
    assert window["provisional"] is cal.is_provisional_span(start, due)
    if window["provisional"]:

        async def listed():
            rows = (
                await http.get(f"{stack.url('cases')}/v1/deadlines/provisional", headers=stack.auth("officer"))
            ).json()
            return [r for r in rows if r["case_id"] == case_id]

        rows = await eventually(listed, what="the provisional deadline listed")
        assert {r["deadline"] for r in rows} >= {"customs_determination"}
        assert (
            await http.get(f"{stack.url('cases')}/v1/deadlines/provisional", headers=stack.auth("holder"))
        ).status_code == 403

    # The schedule for the years the window covers is published, with a bridge day inside the window.
    data = copy.deepcopy(calendar_data("cn"))
    last = max(date.fromisoformat(d["due_date"]) for d in case["deadlines"] if d["status"] == "pending")
    for year in range(start.year, last.year + 1):
        data["years"].setdefault(str(year), {"holidays": [], "adjusted_working_days": []})["status"] = "official"
    bridge = next(d for d in (start + timedelta(days=i) for i in range(1, 40)) if cal.is_working_day(d))
    data["years"][str(bridge.year)]["holidays"].append({"date": bridge.isoformat(), "name": "bridge day"})
    data["version"] = f"CN-test-{unique_id('V')}"
    client = await connect(stack.temporal, "customs-ipr")
    result = await publish(client, data, by="ops.test", where=f'DeclarationId = "{body["declaration_id"]}"')
    assert result["signalled"] == 1

    async def retimed():
        c = (await http.get(f"{stack.url('cases')}/v1/cases/{case_id}", headers=stack.auth("officer"))).json()
        return c if c["calendar_version"] == data["version"] else None

    case = await eventually(retimed, what="the case on the published calendar")
    moved = next(d for d in case["deadlines"] if d["name"] == "customs_determination")
    assert moved["due_date"] == calendar_from_data(data).add_working_days(start, 30).isoformat()
    assert moved["due_date"] > window["due_date"] and moved["provisional"] is False
    events = [h["event"] for h in case["history"]]
    assert "calendar_published" in events and "deadline_retimed" in events

    async def cleared():
        rows = (await http.get(f"{stack.url('cases')}/v1/deadlines/provisional", headers=stack.auth("officer"))).json()
        return not [r for r in rows if r["case_id"] == case_id]

    await eventually(cleared, what="the provisional flag cleared")
