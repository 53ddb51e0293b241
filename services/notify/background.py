"""Supervised background loops: a loop that fails is logged, counted and restarted with backoff, and
``/readyz`` names it (with the error) until it runs again."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable

from prometheus_client import Counter

log = logging.getLogger(__name__)

RESTARTS = Counter("ipr_notify_loop_restarts_total", "Background loops of notify restarted after a failure", ["loop"])


class Supervised:
    """Runs ``factory()`` forever; after a failure waits 1, 2, 4 … 30 s and starts it again."""

    def __init__(self, name: str, factory: Callable[[], Awaitable[None]], *, first_backoff: float = 1.0,
                 max_backoff: float = 30.0) -> None:
        self.name = name
        self.factory = factory
        self.first_backoff = first_backoff
        self.max_backoff = max_backoff
        self.last_error: str | None = None
        self.restarting = False
        self._task: asyncio.Task | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"supervised-{self.name}")

    async def _run(self) -> None:
        failures = 0
        while True:
            started = time.monotonic()
            try:
                self.restarting = False
                await self.factory()
                raise RuntimeError("loop returned")
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - supervised: log, count, back off, restart
                failures = 1 if time.monotonic() - started > 60 else failures + 1
                self.last_error = f"{type(exc).__name__}: {exc}"[:300]
                self.restarting = True
                RESTARTS.labels(self.name).inc()
                delay = min(self.first_backoff * 2 ** (failures - 1), self.max_backoff)
                log.exception("%s loop failed (%s in a row); restarting in %.0f s", self.name, failures, delay)
                await asyncio.sleep(delay)

    async def check(self) -> None:
        """Readiness: the loop runs (not waiting to restart after a failure)."""
        if self._task is None or self._task.done():
            raise RuntimeError(f"{self.name} loop is not running")
        if self.restarting:
            raise RuntimeError(f"{self.name} loop is restarting after: {self.last_error}")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
