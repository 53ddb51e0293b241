"""The bounded wait for the broker's acknowledgements (``shared.kafka.acknowledged``)."""

from __future__ import annotations

import asyncio

import pytest
from prometheus_client import REGISTRY

from shared.kafka import AckTimeout, acknowledged


def timeouts(service: str) -> float:
    return REGISTRY.get_sample_value("ipr_kafka_ack_timeouts_total", {"service": service}) or 0.0


async def test_acknowledgements_come_back_in_order() -> None:
    loop = asyncio.get_running_loop()
    futures = [loop.create_future() for _ in range(3)]
    for n, f in enumerate(futures):
        loop.call_later(0.01 * (3 - n), f.set_result, n)
    assert await acknowledged(futures, service="ack-unit-a", what="test", ack_timeout_s=1) == [0, 1, 2]
    assert timeouts("ack-unit-a") == 0
    assert await acknowledged([], service="ack-unit-a", what="nothing") == []


async def test_a_future_never_resolved_ends_in_ack_timeout_and_is_counted() -> None:
    loop = asyncio.get_running_loop()
    done, never = loop.create_future(), loop.create_future()
    done.set_result(1)
    with pytest.raises(AckTimeout, match=r"outbox of x: no acknowledgement from the broker within 0.05 s"):
        await acknowledged([done, never], service="ack-unit-b", what="outbox of x", ack_timeout_s=0.05)
    assert timeouts("ack-unit-b") == 1
    assert never.cancelled(), "the abandoned wait does not linger"


async def test_a_send_error_is_raised_as_it_is() -> None:
    loop = asyncio.get_running_loop()
    failed = loop.create_future()
    failed.set_exception(ConnectionError("broker away"))
    with pytest.raises(ConnectionError):
        await acknowledged([failed], service="ack-unit-c", what="test", ack_timeout_s=1)
    assert timeouts("ack-unit-c") == 0
