"""End to end: a consignment of several lines through the running system is one case per rights holder.

A 3-line declaration of one holder's goods opens one case with one guarantee on the consignment and one
hold on its three lines; a revision of the declaration moves a line to another holder's case and adds a
line; the officer decides per line (one line released, the others confiscated) and the clearance system
is told which lines on customs.holds.v1.
"""

from __future__ import annotations

import copy

import pytest

from shared.contracts.events import TOPIC_HOLDS
from tests.factories import example_declaration
from tests.helpers import approve_confiscation, case_in_state, eventually, find_on_topic, unique_id

pytestmark = pytest.mark.e2e


def shoes(line_no: int, quantity: int, brand: str = "NIKE") -> dict:
    line = copy.deepcopy(example_declaration()["lines"][0])
    line.update(
        line_no=line_no,
        quantity=quantity,
        brand=brand,
        model=None,
        description=f"Mens sports shoes, textile upper, {brand} style {line_no}",
    )
    return line


async def test_a_three_line_consignment_is_one_case_then_revised_and_decided_per_line(http, stack) -> None:
    did = unique_id("CN5300-CSG")
    body = example_declaration(declaration_id=did, lines=[shoes(1, 500), shoes(2, 300), shoes(3, 200)])
    accepted = await http.post(f"{stack.url('intake')}/v1/declarations", json=body, headers=stack.auth("clearance"))
    assert accepted.status_code == 202, accepted.text
    nike_id, adidas_id = f"IPR-{did}-RH-0001", f"IPR-{did}-RH-0002"

    # one case for the three lines, one guarantee on the consignment: 1,000 pairs x USD 4.20 = RMB 29,820 -> 50%
    case = await case_in_state(http, stack, nike_id, "suspended")
    assert [ln["line_no"] for ln in case["lines"]] == [1, 2, 3] and case["goods_value"] == "4200.00"
    assert case["required_guarantee"] == "20000.00"  # 50% is 14,910, but at least RMB 20,000
    view = (await http.get(f"{stack.url('intake')}/v1/declarations/{did}", headers=stack.auth("clearance"))).json()
    assert view["case_ids"] == [nike_id] and {ln["case_id"] for ln in view["lines"]} == {nike_id}
    placed = await find_on_topic(stack.kafka, TOPIC_HOLDS, lambda v: v.get("payload", {}).get("case_id") == nike_id)
    assert placed["event_type"] == "hold.placed" and placed["payload"]["line_nos"] == [1, 2, 3]
    notices = (
        await http.get(f"{stack.url('notify')}/v1/notices?case_id={nike_id}", headers=stack.auth("holder"))
    ).json()
    assert len(notices) == 1, "one written notice for the consignment"

    # revision 2: line 3 is now ADIDAS goods (another holder), a line 4 of NIKE shoes is added
    revised = example_declaration(
        declaration_id=did, revision=2, lines=[shoes(1, 500), shoes(2, 300), shoes(3, 200, "ADIDAS"), shoes(4, 100)]
    )
    r = await http.post(f"{stack.url('intake')}/v1/declarations", json=revised, headers=stack.auth("clearance"))
    assert r.status_code == 202, r.text

    async def moved():
        c = (await http.get(f"{stack.url('cases')}/v1/cases/{nike_id}", headers=stack.auth("officer"))).json()
        status = {ln["line_no"]: ln["status"] for ln in c["lines"]}
        return c if status == {1: "held", 2: "held", 3: "withdrawn", 4: "held"} else None

    case = await eventually(moved, what="line 3 leaving and line 4 joining the NIKE case")
    assert next(ln for ln in case["lines"] if ln["line_no"] == 3)["moved_to"] == adidas_id
    assert next(h for h in case["history"] if h["event"] == "line_moved")["detail"]["to_case"] == adidas_id
    adidas = await case_in_state(http, stack, adidas_id, "suspended")
    assert [ln["line_no"] for ln in adidas["lines"]] == [3] and adidas["holder_id"] == "RH-0002"
    assert next(h for h in adidas["history"] if h["event"] == "line_joined")["detail"]["from_case"] == nike_id
    released_3 = await find_on_topic(
        stack.kafka,
        TOPIC_HOLDS,
        lambda v: v.get("payload", {}).get("case_id") == nike_id and v["payload"]["status"] == "released",
    )
    assert released_3["payload"]["line_nos"] == [3]

    async def view_follows():
        v = (await http.get(f"{stack.url('intake')}/v1/declarations/{did}", headers=stack.auth("clearance"))).json()
        by_line = {ln["line_no"]: ln["case_id"] for ln in v["lines"]}
        return v if by_line == {1: nike_id, 2: nike_id, 3: adidas_id, 4: nike_id} else None

    await eventually(view_follows, what="each line's case on the declaration")

    # the holder detains with the guarantee on its goods now (lines 1, 2, 4: 900 pairs = RMB 26,838 -> 20,000)
    case = await case_in_state(http, stack, nike_id, "suspended")
    assert case["required_guarantee"] == "20000.00"
    notice = next(
        n
        for n in (
            await http.get(f"{stack.url('notify')}/v1/notices?case_id={nike_id}", headers=stack.auth("holder"))
        ).json()
        if n["kind"] == "suspension"
    )
    answered = await http.post(
        f"{stack.url('notify')}/v1/notices/{notice['notice_id']}/reply",
        headers=stack.auth("holder"),
        json={
            "decision": "detain",
            "guarantee": {"amount": "20000", "currency": "CNY", "form": "bank_letter", "reference": "BOC-LG-CSG"},
        },
    )
    assert answered.status_code == 201, answered.text
    await case_in_state(http, stack, nike_id, "detained")

    # the officer decides per line: line 2 does not infringe, lines 1 and 4 do
    outside = await http.post(
        f"{stack.url('cases')}/v1/cases/{nike_id}/determination",
        headers=stack.auth("officer"),
        json={"outcome": "infringing", "lines": [{"line_no": 3, "outcome": "not_infringing"}]},
    )
    assert outside.status_code == 422 and outside.json()["error"]["code"] == "line_not_in_case"
    decided = await http.post(
        f"{stack.url('cases')}/v1/cases/{nike_id}/determination",
        headers=stack.auth("officer"),
        json={"outcome": "infringing", "fine_tier": "ordinary", "lines": [{"line_no": 2, "outcome": "not_infringing"}]},
    )
    assert decided.status_code == 202, decided.text
    await approve_confiscation(http, stack, nike_id, note="line 2 checked: genuine stock")  # four eyes
    final = await case_in_state(http, stack, nike_id, "confiscated")
    assert {ln["line_no"]: ln["status"] for ln in final["lines"]} == {
        1: "confiscated",
        2: "released",
        3: "withdrawn",
        4: "confiscated",
    }
    # the fine is on the goods confiscated: 600 pairs x USD 4.20 = RMB 17,892, middle of 10-20%
    assert final["fine_amount"] == "2683.80"
    released_2 = await find_on_topic(
        stack.kafka,
        TOPIC_HOLDS,
        lambda v: (
            v.get("payload", {}).get("case_id") == nike_id
            and v["payload"]["status"] == "released"
            and v["payload"]["line_nos"] == [2]
        ),
    )
    assert {ln["line_no"]: ln["status"] for ln in released_2["payload"]["lines"]}[1] == "detained"
    confiscated = await find_on_topic(
        stack.kafka,
        TOPIC_HOLDS,
        lambda v: v.get("payload", {}).get("case_id") == nike_id and v["payload"]["status"] == "confiscated",
    )
    assert confiscated["payload"]["line_nos"] == [1, 4]
    hold = (await http.get(f"{stack.url('holds')}/v1/holds/{final['hold_id']}", headers=stack.auth("clearance"))).json()
    assert {ln["line_no"]: ln["status"] for ln in hold["lines"]} == {
        1: "confiscated",
        2: "released",
        3: "released",
        4: "confiscated",
    }
    disposition = (
        await http.get(
            f"{stack.url('disposal')}/v1/dispositions/{final['disposition_id']}", headers=stack.auth("officer")
        )
    ).json()
    assert disposition["goods_value"] == "17892.00" and disposition["fine_amount"] == "2683.80"
    assert {ln["line_no"]: ln["outcome"] for ln in disposition["lines"]} == {
        1: "confiscated",
        2: "released",
        3: "withdrawn",
        4: "confiscated",
    }
    listed = (
        await http.get(f"{stack.url('cases')}/v1/cases?declaration_id={did}", headers=stack.auth("officer"))
    ).json()
    assert {c["case_id"]: c["line_nos"] for c in listed} == {nike_id: [1, 2, 4], adidas_id: [3]}
