"""Notice delivery against the running notify service, the real SMTP sink and webhook receiver:
a notice goes out once (repeats, and a notify that stops between recording and sending), webhooks are
signed per holder (checked by a verifier written here from the README), retried on 5xx/408/429/timeouts
and not on other 4xx, bounced e-mail is undeliverable, and the delivery log shows every attempt."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import os
import time
from collections import Counter
from unittest import mock

import pytest
from sqlalchemy.ext.asyncio import create_async_engine

from deploy.local import stack as stack_mod
from shared.contracts.cases import NoticeRequest
from shared.db import make_sessionmaker
from tests.helpers import eventually, unique_id

pytestmark = pytest.mark.integration


# ---------------------------------------------------------------- helpers


def verify(header: str, body: bytes, key: str, *, now: float | None = None, tolerance: int = 300) -> bool:
    """An independent receiver, from the README: X-IPR-Signature = t=<unix>,v1=<hex>[,v1=<hex>], HMAC-SHA256
    keyed with the signing key's UTF-8 bytes over '<t>.<raw body>', timestamps older than 5 minutes rejected."""
    fields = [item.split("=", 1) for item in header.split(",") if "=" in item]
    stamps = [v for k, v in fields if k == "t"]
    candidates = [v for k, v in fields if k == "v1"]
    if len(stamps) != 1 or not stamps[0].isdigit():
        return False
    if abs((time.time() if now is None else now) - int(stamps[0])) > tolerance:
        return False
    expected = hmac.new(key.encode(), stamps[0].encode() + b"." + body, hashlib.sha256).hexdigest()
    return any(hmac.compare_digest(expected, c) for c in candidates)


def notice_body(
    holder_id: str,
    *,
    email: str | None = None,
    hook: str | None = None,
    stack=None,
    key: str | None = None,
) -> dict:
    case_id = unique_id("CASE")
    return {
        "idempotency_key": key or f"{case_id}:notice:suspension",
        "case_id": case_id,
        "kind": "suspension",
        "holder": {
            "id": holder_id,
            "name": f"Holder {holder_id}",
            "contact_email": email or f"{holder_id.lower()}@example.org",
            "webhook_url": f"{stack.sink}/webhooks/{hook}" if hook else None,
        },
        "subject": "Suspension of release",
        "body": "Goods suspended.",
        "reply_allowed": True,
    }


async def issue(http, stack, body: dict):
    r = await http.post(f"{stack.url('notify')}/v1/notices", json=body, headers=stack.auth("system"))
    assert r.status_code == 201, r.text
    return r.json()


async def log_of(http, stack, notice_id: str, who: str = "officer") -> dict:
    r = await http.get(f"{stack.url('notify')}/v1/notices/{notice_id}/deliveries", headers=stack.auth(who))
    assert r.status_code == 200, r.text
    return r.json()


def channel(log: dict, name: str) -> dict:
    return next(d for d in log["deliveries"] if d["channel"] == name)


async def settled(http, stack, notice_id: str, name: str, status: str, within: float = 40) -> dict:
    async def probe():
        d = channel(await log_of(http, stack, notice_id), name)
        return d if d["status"] == status else None

    return await eventually(probe, within=within, what=f"{name} delivery of {notice_id} {status}")


async def mails_with(http, stack, message_id: str) -> list[dict]:
    return [m for m in (await http.get(f"{stack.sink}/mail")).json() if m["message_id"] == message_id]


async def hooks_for(http, stack, name: str) -> list[dict]:
    return [h for h in (await http.get(f"{stack.sink}/webhooks")).json() if h["name"] == name]


async def script_hook(http, stack, name: str, **script) -> None:
    assert (await http.put(f"{stack.sink}/control/webhooks/{name}", json=script)).status_code == 200


async def script_mail(http, stack, address: str, **script) -> None:
    assert (await http.put(f"{stack.sink}/control/mail/{address}", json=script)).status_code == 200


async def rotate(http, stack, holder_id: str, who: dict | None = None, **body) -> dict:
    r = await http.post(
        f"{stack.url('notify')}/v1/recipients/rights_holder/{holder_id}/webhook/rotate-key",
        json=body or None,
        headers=who or stack.holder_auth(holder_id),
    )
    assert r.status_code == 201, r.text
    return r.json()


@pytest.fixture
async def notify_inside(stack):
    """notify's own code, in this process, on notify's database: to stop 'a notify' at a chosen seam."""
    from services.notify.settings import Settings

    env = stack_mod.service_env(stack.profile, stack.secrets, "notify")
    with mock.patch.dict(os.environ, env):
        settings = Settings()
    engine = create_async_engine(env["DATABASE_URL"])
    yield settings, make_sessionmaker(engine)
    await engine.dispose()


# ---------------------------------------------------------------- a notice goes out once


async def test_the_same_notice_requested_again_is_delivered_once(http, stack) -> None:
    holder = unique_id("RH")
    body = notice_body(holder, hook=holder.lower(), stack=stack)
    # the activity and its retry arriving together, then once more after
    first, second = await asyncio.gather(issue(http, stack, body), issue(http, stack, body))
    third = await issue(http, stack, body)
    notice_id = first["notice_id"]
    assert second["notice_id"] == third["notice_id"] == notice_id
    log = await log_of(http, stack, notice_id)
    assert sorted(d["channel"] for d in log["deliveries"]) == ["email", "webhook"]
    email = await settled(http, stack, notice_id, "email", "delivered")
    assert email["attempts"] == 1 and email["message_id"] == f"<{notice_id}.rh-{holder}@customs.example>"
    assert email["served_at"] and log["served_at"]
    webhook = await settled(http, stack, notice_id, "webhook", "delivered")
    assert webhook["attempts"] == 1
    assert len(await mails_with(http, stack, email["message_id"])) == 1
    assert len(await hooks_for(http, stack, holder.lower())) == 1
    assert third["email_status"] == "delivered" and third["served_at"] is not None
    assert {(d["channel"], d["message_id"]) for d in third["deliveries"]} == {
        ("email", email["message_id"]),
        ("webhook", f"{notice_id}.rh-{holder}"),
    }


async def test_a_notice_recorded_but_never_sent_is_sent_once_by_notify(http, stack, notify_inside) -> None:
    """A notify that stops right after the notice's transaction committed: the running notify sends it, once."""
    from services.notify import service

    settings, sessionmaker = notify_inside
    holder = unique_id("RH")
    request = NoticeRequest.model_validate(notice_body(holder, stack=stack))
    async with sessionmaker() as session, session.begin():
        notice_id = await service.create(session, request=request, settings=settings)
    # ... and here that process died: nothing was sent.
    email = await settled(http, stack, notice_id, "email", "delivered")
    assert [a["outcome"] for a in email["attempt_log"]] == ["accepted"]
    assert len(await mails_with(http, stack, email["message_id"])) == 1
    # the case worker's retry of the activity finds the notice, and sends nothing again
    again = await issue(http, stack, request.model_dump(mode="json"))
    assert again["notice_id"] == notice_id and again["email_status"] == "delivered"
    assert len(await mails_with(http, stack, email["message_id"])) == 1


async def test_a_notice_claimed_but_not_sent_before_notify_stopped_is_sent_once(http, stack, notify_inside) -> None:
    """Stopped after claiming (the attempt is open) and before SMTP: after the lease the attempt counts as
    unknown and the running notify sends it, with the same Message-ID; the sink holds one copy."""
    from services.notify import service
    from services.notify.delivery import Dispatcher

    settings, sessionmaker = notify_inside
    request = NoticeRequest.model_validate(notice_body(unique_id("RH"), stack=stack))
    async with sessionmaker() as session, session.begin():
        notice_id = await service.create(session, request=request, settings=settings)
    claims = await Dispatcher(sessionmaker, settings).claim(notice_id=notice_id)
    assert {c.attempt_no for c in claims} == {1}
    # ... and here that process died, before it connected to the mail server.
    email = await settled(http, stack, notice_id, "email", "delivered")
    assert [a["outcome"] for a in email["attempt_log"]] == ["unknown", "accepted"]
    mails = await mails_with(http, stack, email["message_id"])
    assert len(mails) == 1 and mails[0]["headers"]["X-IPR-Notice-Id"] == notice_id


class Killed(BaseException):
    """The process ends here (not an error the sender could catch and record)."""


async def test_a_notice_sent_but_not_recorded_is_sent_again_with_the_same_message_id(
    http, stack, notify_inside
) -> None:
    """Stopped after the mail server accepted the message and before the outcome was recorded: the running
    notify sends it again with the same Message-ID, so the sink holds exactly one distinct Message-ID."""
    from services.notify import service
    from services.notify.delivery import Dispatcher, smtp_send

    settings, sessionmaker = notify_inside

    def send_then_die(s, message, recipient):
        result = smtp_send(s, message, recipient)
        assert result.outcome == "accepted", result
        raise Killed()

    request = NoticeRequest.model_validate(notice_body(unique_id("RH"), stack=stack))
    async with sessionmaker() as session, session.begin():
        notice_id = await service.create(session, request=request, settings=settings)
    dying = Dispatcher(sessionmaker, settings, mailer=send_then_die)
    (claim,) = [c for c in await dying.claim(notice_id=notice_id)]
    with pytest.raises(Killed):
        await dying.attempt(claim)
    await dying.http.aclose()
    email = await settled(http, stack, notice_id, "email", "delivered")
    assert [a["outcome"] for a in email["attempt_log"]] == ["unknown", "accepted"]
    mails = await mails_with(http, stack, email["message_id"])
    assert len(mails) == 2 and len({m["message_id"] for m in mails}) == 1  # receivers de-duplicate on it


# ---------------------------------------------------------------- webhooks: signature, rotation, retries


async def test_webhooks_are_signed_per_holder_and_rotation_overlaps(http, stack) -> None:
    holder = unique_id("RH")
    hook = holder.lower()
    first = await rotate(http, stack, holder)  # the holder registers: its first key, shown once
    assert first["previous_key_id"] is None and first["secret"].startswith("whsec_")
    key1 = first["secret"]

    notice = await issue(http, stack, notice_body(holder, hook=hook, stack=stack))
    assert notice["webhook_status"] == "delivered"
    (received,) = await hooks_for(http, stack, hook)
    header, body = received["headers"]["x-ipr-signature"], received["body"].encode()
    assert received["headers"]["x-ipr-event-id"] == f"{notice['notice_id']}.rh-{holder}"
    assert json.loads(body)["event_id"] == received["headers"]["x-ipr-event-id"]
    assert header.count("v1=") == 1
    t = int(header.split(",")[0].removeprefix("t="))
    assert abs(time.time() - t) < 120
    assert verify(header, body, key1)
    assert not verify(header, body.replace(b"Goods suspended", b"Goods released"), key1)  # tampered body
    assert not verify(header, body, key1 + "x")  # wrong key
    assert not verify(header, body, key1, now=t + 301)  # a replay after the window

    second = await rotate(http, stack, holder)  # default overlap: the old key keeps signing
    assert second["previous_key_id"] == first["key_id"] and second["previous_key_signs_until"]
    await issue(http, stack, notice_body(holder, hook=hook, stack=stack))
    header2, body2 = [
        (h["headers"]["x-ipr-signature"], h["body"].encode()) for h in await hooks_for(http, stack, hook)
    ][-1]
    assert header2.count("v1=") == 2
    assert verify(header2, body2, second["secret"]) and verify(header2, body2, key1)
    assert header2.split(",")[1] != header2.split(",")[2]

    third = await rotate(http, stack, holder, who=stack.auth("officer"), overlap_hours=0)  # an officer, ends it now
    assert third["created_by"] == "Wang Wei (wang.wei)"
    await issue(http, stack, notice_body(holder, hook=hook, stack=stack))
    header3, body3 = [
        (h["headers"]["x-ipr-signature"], h["body"].encode()) for h in await hooks_for(http, stack, hook)
    ][-1]
    assert header3.count("v1=") == 1
    assert verify(header3, body3, third["secret"])
    assert not verify(header3, body3, second["secret"]) and not verify(header3, body3, key1)

    view = await http.get(
        f"{stack.url('notify')}/v1/recipients/rights_holder/{holder}/webhook", headers=stack.holder_auth(holder)
    )
    assert view.status_code == 200
    for secret in (key1, second["secret"], third["secret"]):
        assert secret not in view.text  # a secret is shown once, when it is made
    statuses = {k["key_id"]: k["status"] for k in view.json()["keys"]}
    assert statuses == {third["key_id"]: "current", second["key_id"]: "retired", first["key_id"]: "retired"}
    assert view.json()["webhook_url"].endswith(f"/webhooks/{hook}")
    assert view.json()["signature"]["replay_window_seconds"] == 300


async def test_only_the_holder_itself_and_officers_manage_its_keys(http, stack) -> None:
    holder = unique_id("RH")
    url = f"{stack.url('notify')}/v1/recipients/rights_holder/{holder}/webhook"
    for who, status in (
        (stack.holder_auth(unique_id("RH")), 403),
        (stack.auth("clearance"), 403),
        (stack.auth("system"), 403),
        ({}, 401),
    ):
        assert (await http.post(f"{url}/rotate-key", headers=who)).status_code == status
        assert (await http.get(url, headers=who)).status_code == status
    assert (await http.get(url, headers=stack.auth("officer"))).status_code == 200
    assert (
        await http.post(f"{url}/rotate-key", json={"overlap_hours": 500}, headers=stack.holder_auth(holder))
    ).status_code == 422
    bad = await http.get(
        f"{stack.url('notify')}/v1/recipients/rights_holder/..%2Fx/webhook", headers=stack.auth("officer")
    )
    assert bad.status_code in (404, 422)


async def test_a_holder_without_a_key_gets_one_on_its_first_webhook(http, stack) -> None:
    holder = unique_id("RH")
    await issue(http, stack, notice_body(holder, hook=holder.lower(), stack=stack))
    view = (
        await http.get(
            f"{stack.url('notify')}/v1/recipients/rights_holder/{holder}/webhook", headers=stack.holder_auth(holder)
        )
    ).json()
    (key,) = view["keys"]
    assert key["status"] == "current" and key["created_by"] == "notify (first webhook)"
    rotated = await rotate(http, stack, holder)  # how the holder gets a key it can verify with
    assert rotated["previous_key_id"] == key["key_id"]


async def test_webhook_5xx_is_retried_until_it_succeeds_with_the_same_event_id(http, stack) -> None:
    holder = unique_id("RH")
    hook = holder.lower()
    key = (await rotate(http, stack, holder))["secret"]
    await script_hook(http, stack, hook, statuses=[503, 500], then=200)
    result = await issue(http, stack, notice_body(holder, hook=hook, stack=stack))
    assert result["email_status"] == "delivered" and result["webhook_status"] == "pending"
    webhook = await settled(http, stack, result["notice_id"], "webhook", "delivered")
    assert [(a["outcome"], a["code"]) for a in webhook["attempt_log"]] == [
        ("temporary_failure", 503),
        ("temporary_failure", 500),
        ("accepted", 200),
    ]
    assert webhook["served_at"] == webhook["attempt_log"][-1]["finished_at"]
    received = await hooks_for(http, stack, hook)
    assert [h["answered"] for h in received] == [503, 500, 200]
    assert {h["headers"]["x-ipr-event-id"] for h in received} == {webhook["message_id"]}
    assert [h["headers"]["x-ipr-delivery-attempt"] for h in received] == ["1", "2", "3"]
    assert all(verify(h["headers"]["x-ipr-signature"], h["body"].encode(), key) for h in received)
    assert len({h["body"] for h in received}) == 1  # the same event each time


async def test_webhook_408_and_429_are_retried_other_4xx_are_final(http, stack) -> None:
    holder = unique_id("RH")
    await script_hook(http, stack, holder.lower(), statuses=[429, 408], then=200, retry_after="1")
    retried = await issue(http, stack, notice_body(holder, hook=holder.lower(), stack=stack))
    webhook = await settled(http, stack, retried["notice_id"], "webhook", "delivered")
    assert [a["code"] for a in webhook["attempt_log"]] == [429, 408, 200]

    gone = unique_id("RH")
    await script_hook(http, stack, gone.lower(), statuses=[], then=410)
    final = await issue(http, stack, notice_body(gone, hook=gone.lower(), stack=stack))
    assert final["webhook_status"] == "undeliverable" and final["email_status"] == "delivered"
    webhook = channel(await log_of(http, stack, final["notice_id"]), "webhook")
    assert [(a["outcome"], a["code"]) for a in webhook["attempt_log"]] == [("permanent_failure", 410)]
    assert webhook["served_at"] is None and "not retried" in webhook["detail"]
    await asyncio.sleep(1.5)  # several retry intervals of the test stack: still one request
    assert len(await hooks_for(http, stack, gone.lower())) == 1


async def test_a_slow_webhook_does_not_hold_up_the_notice(http, stack) -> None:
    holder = unique_id("RH")
    await script_hook(http, stack, holder.lower(), then=200, delay_seconds=30)
    result = await issue(http, stack, notice_body(holder, hook=holder.lower(), stack=stack))
    # answered with what is known: the e-mail is served, the webhook is still being tried
    assert result["email_status"] == "delivered" and result["webhook_status"] == "pending"
    assert result["served_at"] is not None
    await script_hook(http, stack, holder.lower(), then=200)
    webhook = await settled(http, stack, result["notice_id"], "webhook", "delivered")
    first = webhook["attempt_log"][0]
    assert first["outcome"] == "temporary_failure" and "no answer within" in first["detail"]
    assert webhook["attempt_log"][-1]["outcome"] == "accepted"


# ---------------------------------------------------------------- e-mail bounces and retries


async def test_a_bounced_email_is_undeliverable_and_listed_for_officers(http, stack) -> None:
    holder = unique_id("RH")
    address = f"{holder.lower()}@bounce.example.org"
    await script_mail(http, stack, address, then="550 5.1.1 mailbox unavailable")
    result = await issue(http, stack, notice_body(holder, email=address, stack=stack))
    assert result["email_status"] == "undeliverable" and result["webhook_status"] == "not_configured"
    assert result["served_at"] is None
    email = channel(await log_of(http, stack, result["notice_id"]), "email")
    assert [(a["outcome"], a["code"]) for a in email["attempt_log"]] == [("permanent_failure", 550)]
    assert "550 5.1.1 mailbox unavailable" in email["detail"] and email["served_at"] is None
    assert not await mails_with(http, stack, email["message_id"])
    listed = (
        await http.get(
            f"{stack.url('notify')}/v1/deliveries?status=undeliverable&channel=email", headers=stack.auth("officer")
        )
    ).json()
    assert result["notice_id"] in {d["notice_id"] for d in listed}
    bad = await http.get(f"{stack.url('notify')}/v1/deliveries?status=bogus", headers=stack.auth("officer"))
    assert bad.status_code == 422


async def test_a_temporarily_refused_email_is_retried_with_the_same_message_id(http, stack) -> None:
    holder = unique_id("RH")
    address = f"{holder.lower()}@greylist.example.org"
    await script_mail(http, stack, address, replies=["451 4.7.1 greylisted, try again"], then="250 OK")
    result = await issue(http, stack, notice_body(holder, email=address, stack=stack))
    email = await settled(http, stack, result["notice_id"], "email", "delivered")
    assert [(a["outcome"], a["code"]) for a in email["attempt_log"]] == [("temporary_failure", 451), ("accepted", 250)]
    assert len(await mails_with(http, stack, email["message_id"])) == 1


async def test_an_smtp_timeout_is_retried_and_the_copy_carries_the_same_message_id(http, stack) -> None:
    """The server stored the message but its answer never came (unknown outcome): sent again, same Message-ID."""
    holder = unique_id("RH")
    address = f"{holder.lower()}@slow.example.org"
    await script_mail(http, stack, address, delay_seconds=8)
    result = await issue(http, stack, notice_body(holder, email=address, stack=stack))
    assert result["email_status"] == "pending"
    await http.delete(f"{stack.sink}/control/mail/{address}")
    email = await settled(http, stack, result["notice_id"], "email", "delivered")
    assert email["attempt_log"][0]["outcome"] == "temporary_failure"
    assert email["attempt_log"][-1]["outcome"] == "accepted"
    copies = Counter(m["message_id"] for m in (await http.get(f"{stack.sink}/mail")).json() if m["to"] == address)
    assert list(copies) == [email["message_id"]] and copies[email["message_id"]] >= 2


# ---------------------------------------------------------------- the delivery log and who sees it


async def test_the_delivery_log_is_shown_to_its_holder_and_officers_only(http, stack) -> None:
    holder = unique_id("RH")
    result = await issue(http, stack, notice_body(holder, hook=holder.lower(), stack=stack))
    notice_id = result["notice_id"]
    mine = await http.get(f"{stack.url('notify')}/v1/notices/{notice_id}/deliveries", headers=stack.holder_auth(holder))
    assert mine.status_code == 200
    entry = channel(mine.json(), "email")
    assert entry["recipient"] == {"kind": "rights_holder", "id": holder, "name": f"Holder {holder}"}
    assert {"attempt", "started_at", "finished_at", "outcome", "code", "detail"} <= set(entry["attempt_log"][0])
    other = stack.holder_auth(unique_id("RH"))
    assert (
        await http.get(f"{stack.url('notify')}/v1/notices/{notice_id}/deliveries", headers=other)
    ).status_code == 404
    assert (
        await http.get(f"{stack.url('notify')}/v1/notices/{notice_id}/deliveries", headers=stack.auth("clearance"))
    ).status_code == 403
    theirs = (await http.get(f"{stack.url('notify')}/v1/deliveries?recipient_id={holder}", headers=other)).json()
    assert theirs == []  # a holder's filter is always its own id
    own = (await http.get(f"{stack.url('notify')}/v1/deliveries", headers=stack.holder_auth(holder))).json()
    assert {d["notice_id"] for d in own} == {notice_id} and len(own) == 2
