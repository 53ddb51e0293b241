"""The shared back-off and the supervisor that starts stopped background loops again."""

from __future__ import annotations

import asyncio

import pytest
from prometheus_client import REGISTRY

from shared.supervise import Backoff, Supervised, loop_every, retry
from tests.helpers import eventually


def test_backoff_grows_to_its_cap_and_resets() -> None:
    b = Backoff(initial=0.5, cap=4.0, jitter=False)
    assert [b.next_delay() for _ in range(6)] == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]
    b.reset()
    assert b.next_delay() == 0.5


def test_backoff_jitter_stays_within_half_and_one_and_a_half() -> None:
    b = Backoff(initial=1.0, cap=1.0)
    delays = [b.next_delay() for _ in range(200)]
    assert all(0.5 <= d <= 1.5 for d in delays) and len(set(delays)) > 1


async def test_retry_gives_up_after_its_attempts_and_returns_on_success() -> None:
    calls = []

    async def flaky() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise ConnectionError("away")
        return "ok"

    assert await retry(flaky, what="flaky", backoff=Backoff(initial=0.001, jitter=False)) == "ok"
    assert len(calls) == 3

    async def broken() -> None:
        raise ValueError("never")

    with pytest.raises(ValueError):
        await retry(broken, what="broken", backoff=Backoff(initial=0.001), attempts=2)


async def test_a_stopped_loop_is_started_again_and_reported_down_meanwhile() -> None:
    runs = []
    release = asyncio.Event()

    async def body(up) -> None:
        runs.append(1)
        if len(runs) == 1:
            up()
            raise RuntimeError("UnknownMemberIdError on commit")
        await release.wait()  # the second run waits before it says it is up
        up()
        await asyncio.Event().wait()

    loop = Supervised(
        "risk-declarations-test", body, service="unit", kind="consumer", backoff=Backoff(initial=0.01, jitter=False)
    )
    loop.start()
    try:
        await eventually(lambda: len(runs) >= 2, within=10, every=0.005, what="the second run")
        assert not loop.running
        with pytest.raises(
            RuntimeError,
            match=r"consumer risk-declarations-test down: RuntimeError: "
            r"UnknownMemberIdError on commit \(restart 1 in 0\.0s\)",
        ):
            await loop.check()()
        assert (
            REGISTRY.get_sample_value(
                "ipr_background_task_up", {"service": "unit", "task": "risk-declarations-test", "kind": "consumer"}
            )
            == 0
        )
        assert (
            REGISTRY.get_sample_value(
                "ipr_background_task_restarts_total",
                {"service": "unit", "task": "risk-declarations-test", "kind": "consumer", "error": "RuntimeError"},
            )
            == 1
        )
        release.set()
        await eventually(lambda: loop.running, within=10, every=0.005, what="the loop up again")
        await loop.check()()  # ready again
        assert loop.check().__name__ == "risk-declarations-test"
        assert (
            REGISTRY.get_sample_value(
                "ipr_background_task_up", {"service": "unit", "task": "risk-declarations-test", "kind": "consumer"}
            )
            == 1
        )
    finally:
        await loop.stop()
    assert len(runs) == 2


async def test_a_loop_that_returns_is_started_again_too() -> None:
    runs = []

    async def body(up) -> None:
        up()
        runs.append(1)
        if len(runs) >= 3:
            await asyncio.Event().wait()

    loop = Supervised("returns", body, service="unit", backoff=Backoff(initial=0.001, jitter=False))
    loop.start()
    try:
        await eventually(lambda: len(runs) >= 3, within=10, every=0.005, what="the third run")
        assert loop.restarts == 2
        assert (
            REGISTRY.get_sample_value(
                "ipr_background_task_restarts_total",
                {"service": "unit", "task": "returns", "kind": "loop", "error": "returned"},
            )
            == 2
        )
    finally:
        await loop.stop()


async def test_a_periodic_duty_survives_failing_steps() -> None:
    calls = []

    async def step() -> None:
        calls.append(1)
        if len(calls) % 2:
            raise OSError("database away")

    loop = Supervised("duty", loop_every(step, every=0.001, what="duty"), service="unit")
    loop.start()
    try:
        await eventually(lambda: len(calls) >= 5, within=10, every=0.005, what="five steps")
        assert loop.running and loop.restarts == 0
    finally:
        await loop.stop()
