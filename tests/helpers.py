"""Helpers for tests that drive the running system."""

from __future__ import annotations

import asyncio
import inspect
import json
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer


async def eventually(
    probe: Callable[[], Awaitable[Any]] | Callable[[], Any],
    *,
    within: float = 30.0,
    every: float = 0.2,
    what: str = "condition",
) -> Any:
    """Poll ``probe`` (a coroutine function or a plain one) every ``every`` seconds until it returns something
    truthy, for ``within`` seconds at most (asynchronous processing, not a legal deadline)."""
    deadline = time.monotonic() + within
    last: Any = None
    while time.monotonic() < deadline:
        last = probe()
        if inspect.isawaitable(last):
            last = await last
        if last:
            return last
        await asyncio.sleep(every)
    raise AssertionError(f"{what} not reached within {within}s; last value: {last!r}")


async def case_in_state(
    http,
    stack,
    case_id: str,
    state: str,
    *,
    who: str = "officer",
    within: float = 30.0,
) -> dict:
    """The case as ``who`` sees it, once it has reached ``state``."""

    async def probe():
        r = await http.get(f"{stack.url('cases')}/v1/cases/{case_id}", headers=stack.auth(who))
        return r.json() if r.status_code == 200 and r.json()["state"] == state else None

    return await eventually(probe, within=within, what=f"case {case_id} in state {state}")


def unique_id(prefix: str = "T") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10].upper()}"


async def produce(bootstrap: str, topic: str, value: bytes, key: bytes | None = None) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        await producer.send_and_wait(topic, value=value, key=key)
    finally:
        await producer.stop()


async def find_on_topic(bootstrap: str, topic: str, match: Callable[[dict], bool], *, within: float = 30.0) -> dict:
    """Read ``topic`` from the beginning until a JSON object record satisfies ``match`` (records that are not
    JSON objects, such as the poison records other tests put on the topic, are passed over)."""
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, group_id=None, auto_offset_reset="earliest", enable_auto_commit=False
    )
    await consumer.start()
    try:
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            batches = await consumer.getmany(timeout_ms=500)
            for records in batches.values():
                for record in records:
                    try:
                        value = json.loads(record.value)
                    except (ValueError, TypeError):
                        continue
                    if isinstance(value, dict) and match(value):
                        return value
        raise AssertionError(f"no matching record on {topic} within {within}s")
    finally:
        await consumer.stop()


async def approve_confiscation(
    http,
    stack,
    case_id: str,
    who: str = "supervisor",
    note: str | None = None,
) -> dict:
    """A supervisor approves the confiscation proposed on ``case_id`` (four-eyes), once the case has recorded
    the proposal; returns the API's answer."""

    async def attempt() -> dict | None:
        r = await http.post(
            f"{stack.url('cases')}/v1/cases/{case_id}/approval",
            headers=stack.auth(who),
            json={"decision": "approve", "note": note},
        )
        if r.status_code == 409 and r.json()["error"]["code"] == "no_pending_approval":
            return None
        assert r.status_code == 202, r.text
        return r.json()

    return await eventually(attempt, what=f"a proposal to approve on {case_id}")
