"""Guarantees service: the guarantee and cost ledger behind detentions (general and per-case guarantees,
draws, storage and other costs, settlement and refund)."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from fastapi import FastAPI

from services.guarantees import service
from services.guarantees.api import cases, general, ops
from services.guarantees.settings import Settings
from shared.runtime import service_app

log = logging.getLogger(__name__)


async def _refresh_loop(app: FastAPI) -> None:
    settings = app.state.settings
    while True:
        try:
            await service.refresh_metrics(app.state.runtime.sessionmaker, settings)
        except Exception:  # noqa: BLE001 - metrics must never take the service down
            log.exception("refreshing guarantee metrics failed")
        await asyncio.sleep(settings.guarantee_metrics_refresh_seconds)


async def _start(app: FastAPI) -> None:
    app.state.metrics_task = asyncio.create_task(_refresh_loop(app), name="guarantee-metrics")


async def _stop(app: FastAPI) -> None:
    task = app.state.metrics_task
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


app = service_app(
    Settings(),
    title="IPR guarantees service",
    description="The guarantee and cost ledger behind detentions: holders' general guarantees and their "
    "balance, per-case guarantees and draws, storage, custody and disposal costs, settlement and refund, "
    "and alerts on balances, expiring letters and unpaid costs.",
    routers=[general, cases, ops],
    on_start=_start,
    on_stop=_stop,
)
