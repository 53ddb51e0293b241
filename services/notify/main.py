"""Notify service: written notices to rights holders (and, next, parties) by e-mail and webhook, and their replies."""

from fastapi import FastAPI

from services.notify import service
from services.notify.api import deliveries_router, recipients_router, router
from services.notify.delivery import Dispatcher
from services.notify.settings import Settings
from shared.runtime import service_app
from shared.supervise import Supervised, run_forever
from shared.temporal import LazyClient

settings = Settings()


async def on_start(app: FastAPI) -> None:
    sessionmaker = app.state.runtime.sessionmaker
    app.state.temporal = LazyClient(settings.temporal_address, settings.temporal_namespace)
    app.state.dispatcher = dispatcher = Dispatcher(sessionmaker, settings)
    app.state.loops = [
        Supervised("delivery-sender", run_forever(dispatcher.loop), service="notify", kind="loop"),
        Supervised("delivery-housekeeping", run_forever(dispatcher.housekeeping), service="notify", kind="loop"),
        Supervised(
            "reply-resignal",
            run_forever(lambda: service.resignal_pending(app.state.temporal, sessionmaker)),
            service="notify",
            kind="loop",
        ),
    ]
    for loop in app.state.loops:
        loop.start()


async def on_stop(app: FastAPI) -> None:
    for loop in app.state.loops:
        await loop.stop()
    await app.state.dispatcher.drain(grace_s=5.0)


def _loop_checks(app: FastAPI) -> list:
    async def temporal() -> None:
        await app.state.temporal.check()

    return [temporal, *(loop.check() for loop in app.state.loops)]


app = service_app(
    settings,
    title="IPR notify service",
    description="Sends written notices to rights holders (e-mail, webhook on an allow-list, signed per recipient), "
    "records every delivery and attempt before and after sending, retries from its outbox, and takes the holder's "
    "authenticated reply, which it forwards to the case workflow.",
    routers=[router, deliveries_router, recipients_router],
    on_start=on_start,
    on_stop=on_stop,
    extra_readiness=_loop_checks,
)
