"""Notify service: written notices to rights holders by e-mail and webhook, and their replies."""

import asyncio

from fastapi import FastAPI

from services.notify import service
from services.notify.api import router
from services.notify.settings import Settings
from shared.runtime import service_app
from shared.temporal import LazyClient

settings = Settings()


async def on_start(app: FastAPI) -> None:
    app.state.temporal = LazyClient(settings.temporal_address, settings.temporal_namespace)
    app.state.resignal = asyncio.create_task(service.resignal_pending(app.state.temporal, app.state.runtime.sessionmaker))


async def on_stop(app: FastAPI) -> None:
    app.state.resignal.cancel()


app = service_app(
    settings,
    title="IPR notify service",
    description="Sends written notices to rights holders (e-mail, webhook on an allow-list), records every "
    "delivery, and takes the holder's authenticated reply, which it forwards to the case workflow.",
    routers=[router],
    on_start=on_start,
    on_stop=on_stop,
    extra_readiness=lambda app: [app.state.temporal.check],
)
