"""Guarantees service: the guarantee and cost ledger behind detentions (general and per-case guarantees,
draws, storage and other costs, settlement and refund)."""

from __future__ import annotations

from fastapi import FastAPI

from services.guarantees import service
from services.guarantees.api import cases, general, ops
from services.guarantees.settings import Settings
from shared.runtime import service_app
from shared.supervise import loop_every


async def _start(app: FastAPI) -> None:
    settings = app.state.settings
    runtime = app.state.runtime

    async def refresh() -> None:
        await service.refresh_metrics(runtime.sessionmaker, settings)

    runtime.supervise(
        "guarantee-metrics",
        loop_every(refresh, every=settings.guarantee_metrics_refresh_seconds, what="refreshing guarantee metrics"),
    )


app = service_app(
    Settings(),
    title="IPR guarantees service",
    description="The guarantee and cost ledger behind detentions: holders' general guarantees and their "
    "balance, per-case guarantees and draws, storage, custody and disposal costs, settlement and refund, "
    "and alerts on balances, expiring letters and unpaid costs.",
    routers=[general, cases, ops],
    on_start=_start,
)
