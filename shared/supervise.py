"""Back-off and supervised background loops: the one place that decides how the platform retries.

* ``Backoff``: capped exponential delays with jitter, reset after a success.
* ``retry``: run one step until it succeeds (database, broker or Temporal away), logging each failure.
* ``Supervised``: a long-running loop (a consumer, an outbox relay, a refresher) that is started again
  with back-off whenever it stops for any reason other than the service shutting down. While it is
  down, ``check`` (a readiness check) fails with the loop's name and the reason, and
  ``ipr_background_task_up`` is 0 for it, so ``/readyz`` and the alert rules both name it.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from prometheus_client import Counter, Gauge

log = logging.getLogger(__name__)

TASK_UP = Gauge(
    "ipr_background_task_up",
    "1 while a supervised background loop runs, 0 while it is down (kind: consumer, outbox, loop)",
    ["service", "task", "kind"],
)
TASK_RESTARTS = Counter(
    "ipr_background_task_restarts_total",
    "Supervised background loops started again after they stopped",
    ["service", "task", "kind", "error"],
)

T = TypeVar("T")


class Backoff:
    """Capped exponential back-off with jitter: ``initial * factor**n`` up to ``cap``, times 0.5..1.5."""

    def __init__(self, *, initial: float = 0.2, cap: float = 30.0, factor: float = 2.0, jitter: bool = True) -> None:
        self.initial = initial
        self.cap = cap
        self.factor = factor
        self.jitter = jitter
        self.attempt = 0

    def next_delay(self) -> float:
        """The delay before the next attempt (and count this attempt)."""
        delay = min(self.cap, self.initial * self.factor ** min(self.attempt, 32))
        self.attempt += 1
        return delay * (0.5 + random.random()) if self.jitter else delay

    async def sleep(self) -> float:
        delay = self.next_delay()
        await asyncio.sleep(delay)
        return delay

    def reset(self) -> None:
        self.attempt = 0


def describe(exc: BaseException) -> str:
    """``Type: message`` of an exception, short enough for a log line, a readiness body or a record."""
    text = str(exc) or repr(exc)
    return f"{type(exc).__name__}: {text}"[:500]


async def retry(
    step: Callable[[], Awaitable[T]], *, what: str, backoff: Backoff | None = None, attempts: int | None = None
) -> T:
    """Run ``step`` until it succeeds (or ``attempts`` ran out: the last error is raised), with back-off."""
    backoff = backoff or Backoff()
    while True:
        try:
            return await step()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - the caller decides what is worth retrying by what it passes
            if attempts is not None and backoff.attempt + 1 >= attempts:
                raise
            delay = backoff.next_delay()
            log.warning("%s failed (attempt %d), retrying in %.1fs: %s", what, backoff.attempt, delay, describe(exc))
            await asyncio.sleep(delay)


class Supervised:
    """Runs ``body`` as a background task and starts it again, with back-off, whenever it stops.

    ``body`` receives a callback to call once it is up (connected, subscribed); until then, and
    after any failure until the next start succeeds, the loop counts as down. A body that ran for
    ``stable_after`` seconds before failing starts again after the shortest delay.
    """

    def __init__(
        self,
        name: str,
        body: Callable[[Callable[[], None]], Awaitable[None]],
        *,
        service: str,
        kind: str = "background task",
        backoff: Backoff | None = None,
        stable_after: float = 30.0,
    ) -> None:
        self.name = name
        self.body = body
        self.service = service
        self.kind = kind
        self.backoff = backoff or Backoff(initial=0.5, cap=30.0)
        self.stable_after = stable_after
        self.up = False
        self.reason: str | None = "starting"
        self.restarts = 0
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._up = TASK_UP.labels(service, name, self.metric_kind)
        self._up.set(0)

    @property
    def metric_kind(self) -> str:
        """The ``kind`` label: ``consumer``, ``outbox`` or ``loop``."""
        return {"consumer": "consumer", "outbox relay": "outbox"}.get(self.kind, "loop")

    def start(self) -> None:
        self._stopping = False
        self._task = asyncio.create_task(self._supervise(), name=f"supervised-{self.name}")

    async def stop(self) -> None:
        self._stopping = True
        if self._task:
            self._task.cancel()
            try:
                await self._task
            except (asyncio.CancelledError, Exception):  # noqa: BLE001
                pass
        self._set_up(False, "stopped")

    def _set_up(self, up: bool, reason: str | None = None) -> None:
        self.up = up
        self.reason = None if up else reason
        self._up.set(1 if up else 0)

    async def _supervise(self) -> None:
        while not self._stopping:
            started = time.monotonic()
            self._set_up(False, self.reason or "starting")
            try:
                await self.body(lambda: self._set_up(True))
                if self._stopping:
                    return
                error = "returned"
                reason = "stopped without an error"
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - whatever stopped it, start it again
                if self._stopping:
                    return
                error = type(exc).__name__
                reason = describe(exc)
                log.error("%s %s stopped: %s", self.kind, self.name, reason, exc_info=exc)
            if time.monotonic() - started >= self.stable_after:
                self.backoff.reset()
            delay = self.backoff.next_delay()
            self.restarts += 1
            TASK_RESTARTS.labels(self.service, self.name, self.metric_kind, error).inc()
            self._set_up(False, f"{reason} (restart {self.restarts} in {delay:.1f}s)")
            log.warning("%s %s starts again in %.1fs", self.kind, self.name, delay)
            await asyncio.sleep(delay)

    @property
    def running(self) -> bool:
        return self.up

    def check(self) -> Callable[[], Awaitable[None]]:
        """A readiness check that fails, naming this loop and why, while it is down."""

        async def check() -> None:
            if not self.up:
                raise RuntimeError(f"{self.kind} {self.name} down: {self.reason}")

        check.__name__ = self.name
        return check


def run_forever(run: Callable[[], Awaitable[object]]) -> Callable[[Callable[[], None]], Awaitable[None]]:
    """The body of a loop that runs until it fails (a sender, a poller), for ``Supervised``: up once started."""

    async def body(up: Callable[[], None]) -> None:
        up()
        await run()

    return body


def loop_every(
    step: Callable[[], Awaitable[object]], *, every: float, what: str
) -> Callable[[Callable[[], None]], Awaitable[None]]:
    """The body of a periodic duty for ``Supervised``: run ``step`` every ``every`` seconds, logging failures.

    A failing step does not stop the loop (the next period tries again), so the loop stays up while its
    dependencies are away; the step's own metrics and the dependencies' readiness checks show that.
    """

    async def body(up: Callable[[], None]) -> None:
        up()
        while True:
            try:
                await step()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001
                log.warning("%s failed, trying again in %.0fs: %s", what, every, describe(exc))
            await asyncio.sleep(every)

    return body
