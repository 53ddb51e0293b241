"""Notify service: written notices to rights holders by e-mail and webhook, and their replies."""

from fastapi import FastAPI

from services.notify import service
from services.notify.api import router
from services.notify.settings import Settings
from shared.runtime import service_app
from shared.temporal import LazyClient

settings = Settings()


async def on_start(app: FastAPI) -> None:
    app.state.temporal = LazyClient(settings.temporal_address, settings.temporal_namespace)
    runtime = app.state.runtime

    async def resignal(up) -> None:  # noqa: ANN001
        up()
        await service.resignal_pending(app.state.temporal, runtime.sessionmaker)

    runtime.supervise("resignal-replies", resignal)


app = service_app(
    settings,
    title="IPR notify service",
    description="Sends written notices to rights holders (e-mail, webhook on an allow-list), records every "
    "delivery, and takes the holder's authenticated reply, which it forwards to the case workflow.",
    routers=[router],
    on_start=on_start,
    extra_readiness=lambda app: [app.state.temporal.check],
)
