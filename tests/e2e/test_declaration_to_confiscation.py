"""End to end: the example declaration travels clearance system -> intake -> Kafka -> risk -> case workflow
-> holds -> notify -> rights-holder reply -> detention -> determination -> confiscation and disposal."""

from __future__ import annotations

import pytest

from shared.contracts.events import TOPIC_ASSESSMENTS, TOPIC_CASE_EVENTS, TOPIC_HOLDS
from tests.factories import example_declaration
from tests.helpers import approve_confiscation, case_in_state, eventually, find_on_topic, unique_id

pytestmark = pytest.mark.e2e


async def test_example_declaration_to_confiscation(http, stack) -> None:
    body = example_declaration(declaration_id=unique_id("CN5300-E2E"))
    accepted = await http.post(f"{stack.url('intake')}/v1/declarations", json=body, headers=stack.auth("clearance"))
    assert accepted.status_code == 202, accepted.text
    case_id = f"IPR-{body['declaration_id']}-RH-0001"

    # risk publishes the assessment; a case opens and waits for the rights holder
    assessed = await find_on_topic(
        stack.kafka, TOPIC_ASSESSMENTS, lambda v: v.get("payload", {}).get("declaration_id") == body["declaration_id"]
    )
    assert assessed["payload"]["case_ids"] == [case_id]
    case = await case_in_state(http, stack, case_id, "suspended")
    reply_deadline = next(d for d in case["deadlines"] if d["name"] == "holder_reply")
    assert reply_deadline["status"] == "pending" and reply_deadline["working_days"] == 3
    assert case["holder_id"] == "RH-0001"
    assert case["links"]["temporal_ui"] is None  # the test stack runs Temporal headless

    # the clearance system is told to hold the line
    placed = await find_on_topic(stack.kafka, TOPIC_HOLDS, lambda v: v.get("payload", {}).get("case_id") == case_id)
    assert placed["event_type"] == "hold.placed" and placed["payload"]["line_no"] == 1

    # the holder got the written notice by e-mail and webhook
    notices = (
        await http.get(f"{stack.url('notify')}/v1/notices?case_id={case_id}", headers=stack.auth("holder"))
    ).json()
    assert len(notices) == 1
    notice = notices[0]
    assert {d["channel"]: d["status"] for d in notice["deliveries"]} == {"email": "delivered", "webhook": "delivered"}
    mails = (await http.get(f"{stack.sink}/mail")).json()
    mail = next(m for m in mails if m["headers"].get("X-IPR-Case-Id") == case_id)
    assert mail["to"] == "brand-protection@example.com" and "Suspension of release" in mail["subject"]
    hooks = (await http.get(f"{stack.sink}/webhooks")).json()
    assert any(case_id in h["body"] for h in hooks)

    # another rights holder can see neither the case nor the notice, nor reply to it
    stranger = stack.holder_auth("RH-0002")
    assert (await http.get(f"{stack.url('cases')}/v1/cases/{case_id}", headers=stranger)).status_code == 404
    assert (
        await http.get(f"{stack.url('notify')}/v1/notices/{notice['notice_id']}", headers=stranger)
    ).status_code == 404
    refused = await http.post(
        f"{stack.url('notify')}/v1/notices/{notice['notice_id']}/reply",
        headers=stranger,
        json={"decision": "no_detention"},
    )
    assert refused.status_code == 404
    theirs = (await http.get(f"{stack.url('cases')}/v1/cases", headers=stranger)).json()
    assert case_id not in {c["case_id"] for c in theirs} and all(c["holder_id"] == "RH-0002" for c in theirs)

    # detention without a guarantee is refused with a reason
    no_guarantee = await http.post(
        f"{stack.url('notify')}/v1/notices/{notice['notice_id']}/reply",
        headers=stack.auth("holder"),
        json={"decision": "detain"},
    )
    assert no_guarantee.status_code == 422 and no_guarantee.json()["error"]["code"] == "guarantee_required"

    # the holder asks for detention and posts the guarantee the rules require
    required = case["required_guarantee_cny"]
    reply = {
        "decision": "detain",
        "guarantee": {"amount": required, "currency": "CNY", "form": "bank_letter", "reference": "BOC-LG-001"},
    }
    unknown = await http.post(
        f"{stack.url('notify')}/v1/notices/{notice['notice_id']}/reply",
        headers=stack.auth("holder"),
        json={**reply, "guarantee": {**reply["guarantee"], "valid_until": "9999-12-31"}},
    )
    assert unknown.status_code == 422, unknown.text  # an unknown field is refused, not taken as the reply
    answered = await http.post(
        f"{stack.url('notify')}/v1/notices/{notice['notice_id']}/reply", headers=stack.auth("holder"), json=reply
    )
    assert answered.status_code == 201, answered.text
    assert answered.json()["forwarded_to_case"] is True
    repeat = await http.post(
        f"{stack.url('notify')}/v1/notices/{notice['notice_id']}/reply", headers=stack.auth("holder"), json=reply
    )
    assert repeat.status_code == 200
    other = await http.post(
        f"{stack.url('notify')}/v1/notices/{notice['notice_id']}/reply",
        headers=stack.auth("holder"),
        json={"decision": "no_detention"},
    )
    assert other.status_code == 409 and other.json()["error"]["code"] == "already_replied"

    detained = await case_in_state(http, stack, case_id, "detained", who="holder")
    received = next(h for h in detained["history"] if h["event"] == "guarantee_received")
    assert received["detail"]["posted_by"]["sub"] == "nike.ip"  # who posted it, from the token
    deadlines = {d["name"]: d for d in detained["deadlines"]}
    assert deadlines["holder_reply"]["status"] == "met"
    assert deadlines["customs_determination"]["working_days"] == 30
    assert deadlines["release_ex_officio"]["working_days"] == 50

    # a holder may not decide for customs
    forbidden = await http.post(
        f"{stack.url('cases')}/v1/cases/{case_id}/determination",
        headers=stack.auth("holder"),
        json={"outcome": "infringing"},
    )
    assert forbidden.status_code == 403
    determined = await http.post(
        f"{stack.url('cases')}/v1/cases/{case_id}/determination",
        headers=stack.auth("officer"),
        json={"outcome": "infringing", "fine_tier": "ordinary"},
    )
    assert determined.status_code == 202, determined.text
    assert determined.json()["approval"] == "pending"  # four-eyes: a confiscation is a proposal until approved
    approval = f"{stack.url('cases')}/v1/cases/{case_id}/approval"
    not_supervisor = await http.post(approval, headers=stack.auth("officer"), json={"decision": "approve"})
    assert not_supervisor.status_code == 403

    # the proposer takes its proposal back (a supervisor who did not propose it may refuse it, not withdraw it)
    async def proposed() -> dict | None:
        case = (await http.get(f"{stack.url('cases')}/v1/cases/{case_id}", headers=stack.auth("officer"))).json()
        return next((h for h in case["history"] if h["event"] == "approval_requested"), None)

    await eventually(proposed, what="the confiscation proposed")
    not_theirs = await http.post(f"{approval}/withdraw", headers=stack.auth("supervisor"), json={})
    assert not_theirs.status_code == 403 and not_theirs.json()["error"]["code"] == "not_your_proposal"
    withdrawn = await http.post(f"{approval}/withdraw", headers=stack.auth("officer"), json={"note": "tier to check"})
    assert withdrawn.status_code == 202, withdrawn.text

    async def taken_back() -> dict | None:
        case = (await http.get(f"{stack.url('cases')}/v1/cases/{case_id}", headers=stack.auth("officer"))).json()
        return next((h for h in case["history"] if h["event"] == "approval_withdrawn"), None)

    entry = await eventually(taken_back, what="the proposal withdrawn")
    assert entry["detail"]["by_sub"] == "wang.wei" and entry["detail"]["note"] == "tier to check"
    nothing = await http.post(f"{approval}/withdraw", headers=stack.auth("officer"), json={})
    assert nothing.status_code == 409 and nothing.json()["error"]["code"] == "no_pending_approval"
    determined = await http.post(
        f"{stack.url('cases')}/v1/cases/{case_id}/determination",
        headers=stack.auth("officer"),
        json={"outcome": "infringing", "fine_tier": "ordinary"},
    )
    assert determined.status_code == 202 and determined.json()["approval"] == "pending", determined.text
    await approve_confiscation(http, stack, case_id, note="photos checked")

    final = await case_in_state(http, stack, case_id, "confiscated")
    granted = next(h for h in final["history"] if h["event"] == "approval_granted")
    assert granted["detail"]["by_sub"] == "zhang.min" and granted["detail"]["proposed_by"] == "Wang Wei"
    # CN fines are in RMB: the "ordinary" tier is 10-20% of the goods value (USD 2,100 = RMB 14,910);
    # without an amount from the officer the middle of the tier applies.
    value_cny = float(final["required_guarantee"])  # below RMB 20,000 the guarantee equals the goods value
    assert final["guarantee_currency"] == "CNY" and value_cny == pytest.approx(14910.0)
    assert float(final["fine_amount"]) == pytest.approx(value_cny * 0.15)
    assert final["guarantee_status"] == "settled" and final["disposal_method"] == "destruction"
    assert final["fine_currency"] == "CNY" and final["timezone"] == "Asia/Shanghai"
    events = [h["event"] for h in final["history"]]
    for expected in (
        "case_opened",
        "holder_notified",
        "holder_replied",
        "goods_detained",
        "customs_determined",
        "goods_confiscated",
    ):
        assert expected in events
    again = await http.post(
        f"{stack.url('cases')}/v1/cases/{case_id}/determination",
        headers=stack.auth("officer"),
        json={"outcome": "not_infringing"},
    )
    assert again.status_code == 409 and again.json()["error"]["code"] == "case_closed"

    # every step service holds its own record of what happened
    hold = (await http.get(f"{stack.url('holds')}/v1/holds/{final['hold_id']}", headers=stack.auth("clearance"))).json()
    assert [h["status"] for h in hold["history"]] == ["suspended", "detained", "confiscated"]
    disposition = (
        await http.get(
            f"{stack.url('disposal')}/v1/dispositions/{final['disposition_id']}", headers=stack.auth("officer")
        )
    ).json()
    assert disposition["outcome"] == "confiscation" and disposition["disposal_method"] == "destruction"
    assert disposition["currency"] == "CNY" and disposition["fine_tier"] == "ordinary"
    assert disposition["actor"] == "IPR case worker (case-worker) for Wang Wei (wang.wei)"  # who determined
    # the guarantee was held for the case and settled when it closed: storage charged, the rest refunded
    ledger = (
        await http.get(f"{stack.url('guarantees')}/v1/case-guarantees/{case_id}", headers=stack.auth("holder"))
    ).json()
    assert ledger["settled"] is True and ledger["outcome"] == "confiscated" and float(ledger["charged"]) > 0
    assert float(ledger["charged"]) + float(ledger["refunded"]) == pytest.approx(float(ledger["amount"]))
    assert float(ledger["amount"]) == pytest.approx(value_cny)
    confiscated = await find_on_topic(
        stack.kafka,
        TOPIC_HOLDS,
        lambda v: v.get("payload", {}).get("case_id") == case_id and v["payload"]["status"] == "confiscated",
    )
    assert confiscated["event_type"] == "hold.confiscated"
    closing = await find_on_topic(
        stack.kafka,
        TOPIC_CASE_EVENTS,
        lambda v: v.get("correlation_id") == case_id and v["payload"]["state"] == "confiscated",
    )
    assert closing["payload"]["holder_id"] == "RH-0001"

    # the case list (read model) shows the final state to officers and to the holder
    # clearance systems see each line's case and its state on the declaration
    async def declaration_shows_confiscated():
        view = (
            await http.get(
                f"{stack.url('intake')}/v1/declarations/{body['declaration_id']}", headers=stack.auth("clearance")
            )
        ).json()
        return view if view["lines"][0]["case_state"] == "confiscated" else None

    view = await eventually(declaration_shows_confiscated, what="case state on the declaration")
    assert view["lines"][0]["case_id"] == case_id and view["lines"][1]["case_id"] is None
    hold_history = [h["actor"] for h in hold["history"]]
    assert hold_history[-1] == "IPR case worker (case-worker) for Wang Wei (wang.wei)"  # who determined

    listed = (
        await http.get(
            f"{stack.url('cases')}/v1/cases?declaration_id={body['declaration_id']}", headers=stack.auth("holder")
        )
    ).json()
    assert [(c["case_id"], c["state"]) for c in listed] == [(case_id, "confiscated")]
    confiscation_mail = [
        m for m in (await http.get(f"{stack.sink}/mail")).json() if m["headers"].get("X-IPR-Case-Id") == case_id
    ]
    assert [m["subject"].split(" - ")[0] for m in confiscation_mail][-1] == "[Customs IPR] Goods confiscated"
