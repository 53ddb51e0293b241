"""Cases service: the case read model, officers' instructions, the failed-case sweeper, and the worklist,
assignment and statistics behind the officers' workbench (services/web)."""

import asyncio
import contextlib
import logging
from datetime import timedelta

import httpx
from fastapi import FastAPI
from fastapi.responses import RedirectResponse

from services.cases import deadlines_view
from services.cases.api import escalations_router, router
from services.cases.failures import Sweeper
from services.cases.models import outbox
from services.cases.rules_api import router as rules_router
from services.cases.settings import Settings
from services.cases.workbench import router as workbench_router
from shared.runtime import service_app
from shared.service_auth import ServiceToken
from shared.temporal import LazyClient

settings = Settings()
log = logging.getLogger(__name__)


async def _refresh_loop(app: FastAPI) -> None:
    while True:
        try:
            await deadlines_view.refresh_metrics(app.state.runtime.sessionmaker)
        except Exception:  # noqa: BLE001 - metrics must never take the service down
            log.exception("refreshing case deadline metrics failed")
        await asyncio.sleep(settings.metrics_refresh_seconds)


async def on_start(app: FastAPI) -> None:
    app.state.temporal = LazyClient(settings.temporal_address, settings.temporal_namespace)
    app.state.http = httpx.AsyncClient(timeout=settings.http_timeout_s, auth=ServiceToken.from_settings(settings))
    app.state.metrics_task = asyncio.create_task(_refresh_loop(app), name="case-deadline-metrics")
    app.state.sweeper = Sweeper(
        temporal=app.state.temporal,
        sessionmaker=app.state.runtime.sessionmaker,
        interval_s=settings.case_sweep_interval_s,
        auto_repair_max=settings.case_auto_repair_max,
        lookback=timedelta(days=settings.case_sweep_lookback_days),
    )
    app.state.sweeper.start()


async def on_stop(app: FastAPI) -> None:
    app.state.metrics_task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await app.state.metrics_task
    await app.state.sweeper.stop()
    await app.state.http.aclose()


app = service_app(
    settings,
    title="IPR cases service",
    description="Cases of suspected IPR infringement: state, deadlines and history from the cases database (live "
    "cases from their Temporal workflow); customs' determinations, court assistance notices and guarantees sent to "
    "it as signals; repair of failed cases; deadlines across cases (provisional ones flagged); assignment, worklist "
    "and seizure statistics for the officers' workbench (services/web).",
    routers=[router, rules_router, escalations_router, deadlines_view.router, workbench_router],
    outbox=outbox,
    on_start=on_start,
    on_stop=on_stop,
    extra_readiness=lambda app: [app.state.temporal.check, app.state.sweeper.check],
)


@app.get("/console", include_in_schema=False)
async def console() -> RedirectResponse:
    """The officers' console of earlier versions: the workbench (services/web) took its place."""
    return RedirectResponse(f"{settings.workbench_url.rstrip('/')}/workbench", status_code=301)


@app.get("/", include_in_schema=False)
async def root() -> RedirectResponse:
    return RedirectResponse("/docs")
