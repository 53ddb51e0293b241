"""Pure rules of notice delivery: stable message ids, what an answer means, the retry schedule, webhook
signatures (checked by a verifier written here from the documented spec), keys encrypted at rest, settings."""

from __future__ import annotations

import hashlib
import hmac
import os
import re
from datetime import UTC, datetime, timedelta
from email.headerregistry import HeaderRegistry
from unittest import mock

import pytest
from pydantic import ValidationError

from services.notify.domain import (
    Recipient,
    RetryPolicy,
    classify_http,
    classify_smtp_reply,
    event_id_for,
    message_id_for,
    signature_header,
)
from services.notify.keys import KeyCipher, new_secret
from shared.contracts.cases import NoticeResult

HOLDER = Recipient(kind="rights_holder", id="RH-0001", name="Nike", email="bp@example.com")


# ---------------------------------------------------------------- an independent verifier, from the README's spec


def verify(header: str, body: bytes, key: str, *, now: int, tolerance: int = 300) -> bool:
    """What a rights holder's receiver does: parse t and every v1, reject stale t, compare HMACs in constant time."""
    fields = [item.split("=", 1) for item in header.split(",") if "=" in item]
    stamps = [v for k, v in fields if k.strip() == "t"]
    candidates = [v.strip() for k, v in fields if k.strip() == "v1"]
    if len(stamps) != 1 or not stamps[0].strip().isdigit() or not candidates:
        return False
    t = stamps[0].strip()
    if abs(now - int(t)) > tolerance:
        return False
    expected = hmac.new(key.encode("utf-8"), t.encode() + b"." + body, hashlib.sha256).hexdigest()
    return any(hmac.compare_digest(expected, c) for c in candidates)


BODY = b'{"event_id":"NTC-1.rh-RH-0001","notice_id":"NTC-1","subject":"Suspension \xe6\x9a\x82\xe5\x81\x9c"}'


def test_signature_verifies_with_the_key_and_nothing_else() -> None:
    key, t = new_secret(), 1_790_000_000
    header = signature_header([key], t, BODY)
    assert re.fullmatch(r"t=1790000000,v1=[0-9a-f]{64}", header)
    assert verify(header, BODY, key, now=t)
    assert verify(header, BODY, key, now=t + 300)  # inside the replay window
    assert not verify(header, BODY.replace(b"Suspension", b"Suspensiom"), key, now=t)  # tampered body
    assert not verify(header, BODY + b" ", key, now=t)  # one byte more
    assert not verify(header, BODY, new_secret(), now=t)  # wrong key
    assert not verify(header, BODY, key, now=t + 301)  # too old: a replay
    assert not verify(header, BODY, key, now=t - 301)  # from the future
    assert not verify(header.replace("t=1790000000", "t=1790000100"), BODY, key, now=t + 100)  # t is signed


def test_rotation_overlap_signs_with_both_keys_current_first() -> None:
    new, old, t = new_secret(), new_secret(), 1_790_000_000
    header = signature_header([new, old], t, BODY)
    assert header.count("v1=") == 2
    assert verify(header, BODY, new, now=t) and verify(header, BODY, old, now=t)
    assert not verify(header, BODY, new_secret(), now=t)
    first = header.split(",")[1].removeprefix("v1=")
    assert first == hmac.new(new.encode(), f"{t}.".encode() + BODY, hashlib.sha256).hexdigest()


def test_message_ids_are_stable_per_notice_and_recipient_and_valid_headers() -> None:
    mid = message_id_for("NTC-0123456789ABCDEF", HOLDER, "customs.example")
    assert mid == "<NTC-0123456789ABCDEF.rh-RH-0001@customs.example>"
    assert mid == message_id_for("NTC-0123456789ABCDEF", HOLDER, "customs.example")
    party = Recipient(kind="party", id="RH-0001", name="same id, other kind")
    assert message_id_for("NTC-0123456789ABCDEF", party, "customs.example") != mid
    assert (
        message_id_for(
            "NTC-0123456789ABCDEF", Recipient(kind="rights_holder", id="RH-0002", name="x"), "customs.example"
        )
        != mid
    )
    odd = Recipient(kind="party", id="91440300 MA5/ZZZ<>@x", name="a consignee")
    odd_id = message_id_for("NTC-0123456789ABCDEF", odd, "customs.example")
    assert re.fullmatch(r"<NTC-0123456789ABCDEF\.pt-[0-9a-f]{24}@customs\.example>", odd_id)
    for value in (mid, odd_id):
        header = HeaderRegistry()("Message-ID", value)
        assert not header.defects, header.defects
    assert event_id_for("NTC-0123456789ABCDEF", HOLDER) == "NTC-0123456789ABCDEF.rh-RH-0001"


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        (200, "accepted"),
        (202, "accepted"),
        (204, "accepted"),
        (408, "temporary_failure"),
        (429, "temporary_failure"),
        (500, "temporary_failure"),
        (502, "temporary_failure"),
        (503, "temporary_failure"),
        (504, "temporary_failure"),
        (400, "permanent_failure"),
        (401, "permanent_failure"),
        (403, "permanent_failure"),
        (404, "permanent_failure"),
        (410, "permanent_failure"),
        (413, "permanent_failure"),
        (422, "permanent_failure"),
        (301, "permanent_failure"),
        (307, "permanent_failure"),
    ],
)
def test_http_answers(status: int, outcome: str) -> None:
    result = classify_http(status)
    assert result.outcome == outcome and result.code == status


def test_retry_after_is_read_when_given_in_seconds() -> None:
    assert classify_http(429, "7").retry_after_s == 7
    assert classify_http(503, "Wed, 21 Oct 2026 07:28:00 GMT").retry_after_s is None
    assert classify_http(503, "-3").retry_after_s is None
    assert classify_http(503, "nan").retry_after_s is None


@pytest.mark.parametrize(
    ("stage", "code", "outcome"),
    [
        ("rcpt", 550, "permanent_failure"),
        ("rcpt", 553, "permanent_failure"),
        ("data", 554, "permanent_failure"),
        ("rcpt", 450, "temporary_failure"),
        ("rcpt", 451, "temporary_failure"),
        ("data", 452, "temporary_failure"),
        ("mail", 550, "temporary_failure"),  # our own sender refused: our fault, retried while the alert fires
        ("mail", 421, "temporary_failure"),
    ],
)
def test_smtp_replies(stage: str, code: int, outcome: str) -> None:
    result = classify_smtp_reply(stage, code, "5.1.1 text")  # type: ignore[arg-type]
    assert result.outcome == outcome and result.code == code and str(code) in result.detail


def test_retry_delays_grow_exponentially_up_to_the_cap_with_bounded_jitter() -> None:
    policy = RetryPolicy(base_s=30, max_interval_s=3600, window_s=86400, jitter=0.2)
    assert [policy.delay(n) for n in range(1, 10)] == [30, 60, 120, 240, 480, 960, 1920, 3600, 3600]
    assert policy.delay(1, rand=0.0) == pytest.approx(24) and policy.delay(1, rand=0.999999) == pytest.approx(36)
    assert policy.delay(50, rand=0.999999) == pytest.approx(4320)


def test_retries_stop_at_the_end_of_the_window_with_a_last_attempt_there() -> None:
    policy = RetryPolicy(base_s=30, max_interval_s=3600, window_s=86400)
    created = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
    assert policy.next_attempt(attempt_no=1, now=created, created_at=created) == created + timedelta(seconds=30)
    near_end = created + timedelta(hours=23, minutes=50)
    assert policy.next_attempt(attempt_no=20, now=near_end, created_at=created) == created + timedelta(hours=24)
    assert policy.next_attempt(attempt_no=21, now=created + timedelta(hours=24), created_at=created) is None
    # a receiver's Retry-After is honoured, never beyond the longest interval
    assert policy.next_attempt(attempt_no=1, now=created, created_at=created, retry_after_s=600) == created + timedelta(
        seconds=600
    )
    assert policy.next_attempt(
        attempt_no=1, now=created, created_at=created, retry_after_s=10**9
    ) == created + timedelta(seconds=3600)
    # with the defaults a delivery is tried about thirty times over a day
    now, n = created, 0
    while (when := policy.next_attempt(attempt_no=n + 1, now=now, created_at=created)) is not None:
        now, n = when, n + 1
    assert 25 <= n <= 35


def test_signing_keys_are_encrypted_and_bound_to_their_row() -> None:
    cipher = KeyCipher("a-master-secret-of-the-deployment")
    secret = new_secret()
    blob = cipher.encrypt(secret, key_id="whk_1", kind="rights_holder", recipient_id="RH-0001")
    assert secret.encode() not in blob and secret[6:].encode() not in blob
    assert cipher.decrypt(blob, key_id="whk_1", kind="rights_holder", recipient_id="RH-0001") == secret
    with pytest.raises(ValueError):  # moved to another holder's row
        cipher.decrypt(blob, key_id="whk_1", kind="rights_holder", recipient_id="RH-0002")
    with pytest.raises(ValueError):  # another master secret
        KeyCipher("another-master-secret-entirely").decrypt(
            blob, key_id="whk_1", kind="rights_holder", recipient_id="RH-0001"
        )
    assert re.fullmatch(r"whsec_[A-Za-z0-9_-]{43}", secret) and new_secret() != secret


def _notify_env(**extra: str) -> dict[str, str]:
    base = {
        "WEBHOOK_KEY_ENCRYPTION_SECRET": "webhook_key_encryption_secret-0123456789abcdef",
        "OIDC_ISSUER": "https://id.customs.example",
    }
    return {**base, "DATABASE_URL": "postgresql+asyncpg://u:p@127.0.0.1/notify", **extra}


def test_notify_settings_refuse_a_missing_key_secret_and_a_lease_shorter_than_an_attempt() -> None:
    from services.notify.settings import Settings

    with mock.patch.dict(os.environ, _notify_env(), clear=True):
        settings = Settings()
    assert settings.message_id_domain == "customs.example"
    assert settings.delivery_retry_window_seconds == 86400 and settings.webhook_key_overlap_hours == 24
    env = _notify_env()
    del env["WEBHOOK_KEY_ENCRYPTION_SECRET"]
    with mock.patch.dict(os.environ, env, clear=True), pytest.raises(ValidationError):
        Settings()
    with (
        mock.patch.dict(os.environ, _notify_env(WEBHOOK_KEY_ENCRYPTION_SECRET="changeme"), clear=True),
        pytest.raises(ValidationError),
    ):
        Settings()
    with (
        mock.patch.dict(os.environ, _notify_env(DELIVERY_LEASE_SECONDS="10", SMTP_TIMEOUT_S="10"), clear=True),
        pytest.raises(ValidationError, match="DELIVERY_LEASE_SECONDS"),
    ):
        Settings()


def test_notice_result_stays_compatible() -> None:
    old = NoticeResult.model_validate({"notice_id": "NTC-1", "email_status": "delivered", "webhook_status": "pending"})
    assert old.served_at is None and old.deliveries == []
    new = NoticeResult.model_validate(
        {
            "notice_id": "NTC-1",
            "email_status": "delivered",
            "webhook_status": "pending",
            "served_at": "2026-12-01T08:00:00Z",
            "something_later": 1,
            "deliveries": [
                {
                    "recipient_kind": "rights_holder",
                    "recipient_id": "RH-0001",
                    "channel": "email",
                    "status": "delivered",
                    "message_id": "<a@b>",
                    "attempts": 1,
                    "served_at": "2026-12-01T08:00:00Z",
                }
            ],
        }
    )
    assert new.deliveries[0].served_at == new.served_at


async def test_a_failing_background_loop_is_restarted_and_named_in_readiness() -> None:
    """Notify's loops (the sender, its housekeeping, re-signalling replies) run under the shared supervisor."""
    import asyncio

    from shared.supervise import TASK_RESTARTS, Backoff, Supervised, run_forever

    runs: list[int] = []
    release = asyncio.Event()

    async def flaky() -> None:
        runs.append(len(runs))
        if len(runs) <= 2:
            raise ConnectionError("database went away")
        await release.wait()
        await asyncio.sleep(3600)

    restarts = TASK_RESTARTS.labels("notify", "test-loop", "loop", "ConnectionError")
    before = restarts._value.get()
    loop = Supervised(
        "test-loop",
        run_forever(flaky),
        service="notify",
        kind="loop",
        backoff=Backoff(initial=0.2, cap=0.2, jitter=False),
    )
    loop.start()
    await asyncio.sleep(0.05)
    with pytest.raises(RuntimeError, match="loop test-loop down: ConnectionError: database went away"):
        await loop.check()()
    for _ in range(100):
        if len(runs) == 3:
            break
        await asyncio.sleep(0.05)
    assert len(runs) == 3
    await loop.check()()  # running again
    assert restarts._value.get() - before == 2
    await loop.stop()
    with pytest.raises(RuntimeError, match="stopped"):
        await loop.check()()
