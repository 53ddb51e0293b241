"""notify killed (SIGKILL) while a notice e-mail is on the wire: after the restart the notice is delivered,
every copy in the mail sink carries the one Message-ID, and the activity's retry sends nothing more."""

from __future__ import annotations

import asyncio
import os
import signal

import httpx
import pytest

from deploy.local import stack as stack_mod
from tests.helpers import eventually, unique_id

pytestmark = pytest.mark.e2e


async def test_notify_killed_mid_send_delivers_once_per_message_id(http, stack) -> None:
    holder = unique_id("RH")
    address = f"{holder.lower()}@example.org"
    case_id = unique_id("CASE")
    body = {
        "idempotency_key": f"{case_id}:notice:suspension",
        "case_id": case_id,
        "kind": "suspension",
        "holder": {"id": holder, "name": "Holder", "contact_email": address},
        "subject": "Suspension of release",
        "body": "Goods suspended.",
        "reply_allowed": True,
    }
    # the mail server stores the message but holds its answer back (long enough for a loaded machine)
    await http.put(f"{stack.sink}/control/mail/{address}", json={"delay_seconds": 240})
    notify_url = f"{stack.url('notify')}/v1/notices"

    async def post() -> httpx.Response:
        async with httpx.AsyncClient(timeout=30) as client:
            return await client.post(notify_url, json=body, headers=stack.auth("system"))

    request = asyncio.create_task(post())

    async def stored() -> list[dict]:
        return [m for m in (await http.get(f"{stack.sink}/mail")).json() if m["to"] == address]

    first_copy = (await eventually(stored, what="the message in the sink"))[0]
    pid = stack_mod.running_pid(stack.profile, "notify")
    assert pid
    os.killpg(pid, signal.SIGKILL)
    try:
        with pytest.raises(httpx.TransportError):
            await request  # the case worker's activity sees the connection drop, and will retry
    finally:  # whatever this test finds, the tests after it get notify back
        await http.delete(f"{stack.sink}/control/mail/{address}")
        stack_mod.start_service(stack.profile, stack.secrets, "notify")

    retried = await http.post(notify_url, json=body, headers=stack.auth("system"))  # the activity's retry
    assert retried.status_code == 201, retried.text
    notice_id = retried.json()["notice_id"]
    assert first_copy["headers"]["X-IPR-Notice-Id"] == notice_id

    async def delivered() -> dict | None:
        log = (
            await http.get(f"{stack.url('notify')}/v1/notices/{notice_id}/deliveries", headers=stack.auth("officer"))
        ).json()
        email = next(d for d in log["deliveries"] if d["channel"] == "email")
        return email if email["status"] == "delivered" else None

    email = await eventually(delivered, within=60, what="the e-mail delivered after the restart")
    assert [a["outcome"] for a in email["attempt_log"]] == ["unknown", "accepted"]
    copies = await stored()
    assert len(copies) == 2 and {m["message_id"] for m in copies} == {email["message_id"]}
    again = await http.post(notify_url, json=body, headers=stack.auth("system"))
    assert again.json()["notice_id"] == notice_id and again.json()["email_status"] == "delivered"
    assert len(await stored()) == 2
