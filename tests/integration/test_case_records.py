"""Case records outlive their workflow; a failed or terminated case workflow is shown, answered and repaired.

Against the real stack: the Temporal dev server, the case worker, PostgreSQL and the cases
service with its failed-case sweeper (every 2 s in the test profile).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import asyncpg
import pytest
from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.enums.v1 import EventType
from temporalio.api.workflowservice.v1 import DeleteWorkflowExecutionRequest
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.service import RPCError, RPCStatusCode

from deploy.local.stack import NAMESPACE
from shared.temporal import connect
from tests.factories import example_declaration
from tests.helpers import case_in_state, eventually, unique_id

pytestmark = pytest.mark.integration


@pytest.fixture
async def temporal(stack) -> Client:
    return await connect(stack.temporal, NAMESPACE)


async def open_case(http, stack) -> str:
    body = example_declaration(declaration_id=unique_id("CN5300-REC"))
    r = await http.post(f"{stack.url('intake')}/v1/declarations", json=body, headers=stack.auth("clearance"))
    assert r.status_code == 202, r.text
    case_id = f"IPR-{body['declaration_id']}-RH-0001"
    await case_in_state(http, stack, case_id, "suspended")
    return case_id


async def reply(http, stack, case_id: str, decision: dict) -> None:
    notices = (
        await http.get(f"{stack.url('notify')}/v1/notices?case_id={case_id}", headers=stack.auth("holder"))
    ).json()
    suspension = next(n for n in notices if n["kind"] == "suspension")
    r = await http.post(
        f"{stack.url('notify')}/v1/notices/{suspension['notice_id']}/reply", headers=stack.auth("holder"), json=decision
    )
    assert r.status_code in (200, 201), r.text


async def get_case(http, stack, case_id: str, who: str = "officer") -> dict:
    r = await http.get(f"{stack.url('cases')}/v1/cases/{case_id}", headers=stack.auth(who))
    assert r.status_code == 200, r.text
    return r.json()


async def test_a_closed_case_is_served_in_full_after_its_workflow_history_is_gone(http, stack, temporal) -> None:
    case_id = await open_case(http, stack)
    await reply(http, stack, case_id, {"decision": "no_detention"})
    await case_in_state(http, stack, case_id, "released")

    async def stored() -> dict | None:  # once the workflow has closed, the database answers
        c = await get_case(http, stack, case_id)
        return c if c["source"] == "database" else None

    closed = await eventually(stored, what="closed case served from the database")
    assert closed["state"] == "released" and closed["closed_at"]

    # Temporal's retention has passed (here: the closed workflow is deleted)
    await temporal.workflow_service.delete_workflow_execution(
        DeleteWorkflowExecutionRequest(namespace=NAMESPACE, workflow_execution=WorkflowExecution(workflow_id=case_id))
    )

    async def gone() -> bool:
        try:
            await temporal.get_workflow_handle(case_id).describe()
        except RPCError as exc:
            return exc.status == RPCStatusCode.NOT_FOUND
        return False

    await eventually(gone, within=120, what="workflow deleted (Temporal deletes in the background)")
    kept = await get_case(http, stack, case_id)
    assert kept["state"] == "released" and kept["source"] == "database"
    assert kept["history"] == closed["history"]
    events = [h["event"] for h in kept["history"]]
    assert [h["seq"] for h in kept["history"]] == list(range(1, len(events) + 1))
    assert events[0] == "case_opened" and "holder_replied" in events and events[-1] == "goods_released"
    assert {d["name"]: d["status"] for d in kept["deadlines"]} == {"holder_reply": "met"}
    assert kept["procedure"] == "cn_ex_officio" and kept["hold_id"] and kept["notice_ids"]
    # the holder still sees its own case, another holder still does not
    assert (await get_case(http, stack, case_id, who="holder"))["state"] == "released"
    stranger = await http.get(f"{stack.url('cases')}/v1/cases/{case_id}", headers=stack.holder_auth("RH-0002"))
    assert stranger.status_code == 404
    # instructions to it are refused with the reason, never a server error
    r = await http.post(
        f"{stack.url('cases')}/v1/cases/{case_id}/disposal-facts",
        headers=stack.auth("officer"),
        json={"holder_buys": True},
    )
    assert r.status_code == 409 and r.json()["error"]["code"] == "case_closed"


async def test_a_terminated_case_is_failed_refuses_instructions_and_a_supervisor_repairs_it(
    http, stack, temporal
) -> None:
    case_id = await open_case(http, stack)
    await temporal.get_workflow_handle(case_id).terminate(reason="operator error in the test")

    failed = await case_in_state(http, stack, case_id, "failed")
    assert failed["failure"]["status"] == "terminated" and "operator error" in failed["failure"]["reason"]
    assert failed["workflow_state"] == "suspended" and failed["source"] == "database"
    assert [d["status"] for d in failed["deadlines"] if d["name"] == "holder_reply"] == ["pending"]
    for path, body in (
        ("guarantee", {"amount": "14910", "currency": "CNY", "reference": "LG-1"}),
        ("submissions", {"party": "consignee", "kind": "non_infringement_statement", "text": "x"}),
        ("disposal-facts", {"holder_buys": True}),
    ):
        r = await http.post(f"{stack.url('cases')}/v1/cases/{case_id}/{path}", headers=stack.auth("officer"), json=body)
        assert r.status_code == 409 and r.json()["error"]["code"] == "case_failed", (path, r.text)

    listed = (await http.get(f"{stack.url('cases')}/v1/cases?state=failed", headers=stack.auth("officer"))).json()
    assert case_id in {c["case_id"] for c in listed}

    async def escalated() -> bool:
        open_ = (await http.get(f"{stack.url('cases')}/v1/escalations", headers=stack.auth("officer"))).json()
        return any(e["case_id"] == case_id and e["kind"] == "case_failed" for e in open_)

    await eventually(escalated, what="case_failed escalation")

    async def gauge() -> bool:
        text = (await http.get(f"{stack.url('cases')}/metrics")).text
        line = next((x for x in text.splitlines() if x.startswith("ipr_cases_failed ")), "ipr_cases_failed 0")
        return float(line.split()[1]) >= 1

    await eventually(gauge, what="ipr_cases_failed gauge")

    # officers may not repair; a supervisor does, with a reason
    denied = await http.post(
        f"{stack.url('cases')}/v1/cases/{case_id}/repair",
        headers=stack.auth("officer"),
        json={"reason": "terminated by mistake"},
    )
    assert denied.status_code == 403
    repaired = await http.post(
        f"{stack.url('cases')}/v1/cases/{case_id}/repair",
        headers=stack.auth("supervisor"),
        json={"reason": "terminated by mistake"},
    )
    assert repaired.status_code == 200, repaired.text
    assert repaired.json()["new_run_id"] and repaired.json()["reset_to_event_id"] > 0
    again = await http.post(
        f"{stack.url('cases')}/v1/cases/{case_id}/repair", headers=stack.auth("supervisor"), json={"reason": "twice"}
    )
    assert again.status_code == 409 and again.json()["error"]["code"] == "not_repairable"

    case = await case_in_state(http, stack, case_id, "suspended")
    assert case["source"] == "workflow" and case["failure"] is None

    async def repaired_in_history() -> dict | None:
        c = await get_case(http, stack, case_id)
        return next((h for h in c["history"] if h["event"] == "case_repaired"), None)

    entry = await eventually(repaired_in_history, what="case_repaired in the case history")
    assert entry["detail"]["reason"] == "terminated by mistake" and entry["detail"]["by"]
    assert [i["event"] for i in case["interventions"]] == ["case_failed", "case_repaired"]

    # the repaired case works: the holder's reply releases the goods
    await reply(http, stack, case_id, {"decision": "no_detention"})
    await case_in_state(http, stack, case_id, "released")
    resolved = (
        await http.get(f"{stack.url('cases')}/v1/escalations?include_resolved=true", headers=stack.auth("officer"))
    ).json()
    assert any(
        e["case_id"] == case_id and e["kind"] == "case_failed" and e["resolution"] == "repaired" for e in resolved
    )


async def test_the_sweeper_repairs_a_failed_case_and_one_whose_deadline_has_passed(http, stack, temporal) -> None:
    # a failed (here: cancelled) workflow is repaired by the sweeper at once
    cancelled = await open_case(http, stack)
    await temporal.get_workflow_handle(cancelled).cancel()

    async def back(case_id: str) -> dict | None:
        c = await get_case(http, stack, case_id)
        events = [i["event"] for i in c["interventions"]]
        return c if c["state"] == "suspended" and "case_repaired" in events else None

    case = await eventually(lambda: back(cancelled), within=60, what="automatic repair of a cancelled case")
    assert next(i for i in case["interventions"] if i["event"] == "case_repaired")["by"] == "cases-sweeper"
    handle = temporal.get_workflow_handle(cancelled)
    assert (await handle.describe()).status == WorkflowExecutionStatus.RUNNING
    assert not [
        e
        for e in (await handle.fetch_history()).events
        if e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCEL_REQUESTED
    ], "cancel not reapplied"

    # a terminated one waits for a supervisor, until a legal deadline of it has passed
    terminated = await open_case(http, stack)
    await temporal.get_workflow_handle(terminated).terminate(reason="test")
    await case_in_state(http, stack, terminated, "failed")
    conn = await asyncpg.connect(stack_dsn(stack))
    try:
        await conn.execute(
            "UPDATE cases SET next_due_at = $1 WHERE case_id = $2",
            datetime.now(UTC) - timedelta(minutes=1),
            terminated,
        )
    finally:
        await conn.close()
    case = await eventually(lambda: back(terminated), within=60, what="repair of a failed case with a due deadline")
    repair = next(i for i in case["interventions"] if i["event"] == "case_repaired")
    assert "deadline has passed" in repair["detail"]["reason"]


def stack_dsn(stack) -> str:
    from deploy.local.stack import database_url

    return database_url(stack.profile, stack.secrets, "cases").replace("postgresql+asyncpg://", "postgresql://")
