"""Cases service: case status read from the case workflows, officers' instructions, and the officers' console."""

import httpx

from fastapi import FastAPI
from fastapi.responses import RedirectResponse

from services.cases.api import escalations_router, router
from services.cases.rules_api import router as rules_router
from services.cases.workbench import router as workbench_router
from services.cases.settings import Settings
from shared.runtime import service_app
from shared.service_auth import ServiceToken
from shared.temporal import LazyClient

settings = Settings()


async def on_start(app: FastAPI) -> None:
    app.state.temporal = LazyClient(settings.temporal_address, settings.temporal_namespace)
    app.state.http = httpx.AsyncClient(timeout=settings.http_timeout_s, auth=ServiceToken.from_settings(settings))


async def on_stop(app: FastAPI) -> None:
    await app.state.http.aclose()


app = service_app(
    settings,
    title="IPR cases service",
    description="Cases of suspected IPR infringement: state, deadlines and history read from each case's "
    "Temporal workflow; customs' determinations, court assistance notices and guarantees sent to it as signals; "
    "assignment, worklist and seizure statistics for the officers' workbench (services/web).",
    routers=[router, rules_router, escalations_router, workbench_router],
    on_start=on_start,
    on_stop=on_stop,
    extra_readiness=lambda app: [app.state.temporal.check],
)


@app.get("/console", include_in_schema=False)
async def console() -> RedirectResponse:
    """The officers' console of earlier versions: the workbench (services/web) took its place."""
    return RedirectResponse(f"{settings.workbench_url.rstrip('/')}/workbench", status_code=301)


@app.get("/", include_in_schema=False)
async def root() -> RedirectResponse:
    return RedirectResponse("/docs")
