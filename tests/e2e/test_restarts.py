"""Processes stopped mid-flow lose nothing: work waits for them and resumes when they are back."""

from __future__ import annotations

import pytest

from deploy.local import stack as stack_mod
from tests.factories import example_declaration
from tests.helpers import case_in_state, unique_id

pytestmark = pytest.mark.e2e


async def test_risk_down_then_back_assesses_what_arrived_meanwhile(http, stack) -> None:
    stack_mod.stop_pid(stack.profile, "risk")
    try:
        body = example_declaration(declaration_id=unique_id("CN5300-RST"))
        accepted = await http.post(f"{stack.url('intake')}/v1/declarations", json=body, headers=stack.auth("clearance"))
        assert accepted.status_code == 202
        view = (
            await http.get(
                f"{stack.url('intake')}/v1/declarations/{body['declaration_id']}", headers=stack.auth("clearance")
            )
        ).json()
        assert view["status"] == "received" and view["case_ids"] == []
    finally:
        stack_mod.start_service(stack.profile, stack.secrets, "risk")
    case_id = f"IPR-{body['declaration_id']}-RH-0001"
    await case_in_state(http, stack, case_id, "suspended", within=60)


async def test_worker_down_while_holder_replies_then_back_detains(http, stack) -> None:
    body = example_declaration(declaration_id=unique_id("CN5300-WRK"))
    assert (
        await http.post(f"{stack.url('intake')}/v1/declarations", json=body, headers=stack.auth("clearance"))
    ).status_code == 202
    case_id = f"IPR-{body['declaration_id']}-RH-0001"

    await case_in_state(http, stack, case_id, "suspended")
    notice = (
        await http.get(f"{stack.url('notify')}/v1/notices?case_id={case_id}", headers=stack.auth("holder"))
    ).json()[0]
    case = (await http.get(f"{stack.url('cases')}/v1/cases/{case_id}", headers=stack.auth("officer"))).json()

    stack_mod.stop_pid(stack.profile, "worker")
    try:
        reply = await http.post(
            f"{stack.url('notify')}/v1/notices/{notice['notice_id']}/reply",
            headers=stack.auth("holder"),
            json={
                "decision": "detain",
                "guarantee": {"amount": case["required_guarantee_cny"], "currency": "CNY", "reference": "LG-RESTART"},
            },
        )
        # the reply is recorded and handed to Temporal even though no worker runs
        assert reply.status_code == 201 and reply.json()["forwarded_to_case"] is True
    finally:
        stack_mod.start_service(stack.profile, stack.secrets, "worker")

    await case_in_state(http, stack, case_id, "detained", within=60)
