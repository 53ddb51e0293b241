"""Composition root of a service: its engine, session factory, Kafka producer, outbox relay and background loops.

Built from settings in the app's lifespan and kept on ``app.state.runtime``; request
handlers get a session per request through ``session_dep``. Every background loop of a
service runs under ``Runtime.supervise``, so it is started again when it stops and
``/readyz`` names it while it is down.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated, Any

from aiokafka import AIOKafkaProducer
from fastapi import APIRouter, Depends, FastAPI, Request
from sqlalchemy import Table
from sqlalchemy.ext.asyncio import AsyncSession

from shared.db import make_engine, make_sessionmaker, ping
from shared.kafka import BROKER_UP, HealthCheck, OutboxRelay, check_broker, make_producer, start_client, stop_quietly
from shared.settings import ServiceSettings
from shared.supervise import Supervised, loop_every


def configure_logging(level: str) -> None:
    logging.basicConfig(
        level=level.upper(),
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
    )


class Runtime:
    def __init__(self, settings: ServiceSettings, *, outbox: Table | None = None, kafka: bool = True) -> None:
        self.settings = settings
        self.engine = make_engine(settings.database_url, pool_size=settings.db_pool_size)
        self.sessionmaker = make_sessionmaker(self.engine)
        self.producer: AIOKafkaProducer | None = make_producer(settings) if kafka else None
        self.relay: OutboxRelay | None = None
        self.loops: list[Supervised] = []
        if outbox is not None and self.producer is not None:
            self.relay = OutboxRelay(
                sessionmaker=self.sessionmaker,
                outbox=outbox,
                producer=self.producer,
                service=settings.service_name,
                bootstrap=settings.kafka_bootstrap_servers,
                verify_every=settings.outbox_verify_interval_s,
            )

    async def start(self) -> None:
        configure_logging(self.settings.log_level)
        if self.producer:
            await start_client(self.producer, what=f"{self.settings.service_name} producer")
            self.supervise(
                "broker-probe",
                loop_every(self._probe_broker, every=self.settings.kafka_probe_interval_s, what="broker probe"),
            )
        if self.relay:
            await self.relay.start()

    async def stop(self) -> None:
        for loop in reversed(self.loops):
            await loop.stop()
        if self.relay:
            await self.relay.stop()
        if self.producer:
            await stop_quietly(self.producer)
        await self.engine.dispose()

    def kick(self) -> None:
        if self.relay:
            self.relay.kick()

    def supervise(
        self, name: str, body: Callable[[Callable[[], None]], Awaitable[None]], *, kind: str = "background task"
    ) -> Supervised:
        """Run a background loop of this service under a supervisor (started now, stopped with the runtime)."""
        loop = Supervised(name, body, service=self.settings.service_name, kind=kind)
        loop.start()
        self.loops.append(loop)
        return loop

    async def _probe_broker(self) -> None:
        assert self.producer is not None
        try:
            await check_broker(self.producer)
        except Exception:
            BROKER_UP.labels(self.settings.service_name).set(0)
            raise
        BROKER_UP.labels(self.settings.service_name).set(1)

    def health(self) -> list[HealthCheck]:
        """The checks of what this service depends on: its database and, if it has one, the broker."""

        async def database() -> None:
            await ping(self.engine)

        checks: list[HealthCheck] = [database]
        if self.producer:
            producer = self.producer

            async def broker() -> None:
                await check_broker(producer)

            checks.append(broker)
        return checks

    def readiness(self) -> list[HealthCheck]:
        checks = self.health()
        if self.relay:
            checks.append(self.relay.check())
        return checks + [loop.check() for loop in self.loops]


async def session_dep(request: Request) -> AsyncIterator[AsyncSession]:
    """One session per request, never shared across tasks."""
    async with request.app.state.runtime.sessionmaker() as session:
        yield session


def runtime_of(app: FastAPI) -> Runtime:
    runtime: Runtime = app.state.runtime
    return runtime


def from_state(name: str) -> Callable[[Request], Any]:
    """A dependency that hands a route the collaborator the service put on its app at start (``app.state.<name>``):
    ``Registry_ = Annotated[Registry, Depends(from_state("registry"))]``, so a route declares what it uses."""

    def collaborator(request: Request) -> Any:
        return getattr(request.app.state, name)

    collaborator.__name__ = f"app_state_{name}"
    return collaborator


def current_runtime(request: Request) -> Runtime:
    return runtime_of(request.app)


RuntimeDep = Annotated[Runtime, Depends(current_runtime)]


def service_app(
    settings: ServiceSettings,
    *,
    title: str,
    description: str,
    routers: list[APIRouter],
    outbox: Table | None = None,
    on_start: Callable[[FastAPI], Awaitable[None]] | None = None,  # after the runtime started
    on_stop: Callable[[FastAPI], Awaitable[None]] | None = None,  # before the runtime stops
    extra_readiness: Callable[[FastAPI], list[HealthCheck]] | None = None,
    kafka: bool = True,
    json_only: bool = True,
    body_limits: dict[str, int] | None = None,  # path prefix -> largest body in bytes (default max_body_bytes)
    streamed_paths: tuple[str, ...] = (),  # path prefixes whose routes read and check the body as a stream
) -> FastAPI:
    """A service app with its runtime wired in the lifespan; the same shape for every service."""
    from shared.web import create_app, declare_refusals

    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime = Runtime(settings, outbox=outbox, kafka=kafka)
        app.state.runtime = runtime
        await runtime.start()
        try:
            if on_start:
                await on_start(app)
            yield
        finally:
            if on_stop:
                await on_stop(app)
            await runtime.stop()

    def readiness(app: FastAPI) -> list[HealthCheck]:
        checks = runtime_of(app).readiness()
        return checks + (extra_readiness(app) if extra_readiness else [])

    app = create_app(
        settings=settings,
        title=title,
        description=description,
        lifespan=lifespan,
        readiness=readiness,
        json_only=json_only,
        body_limits=body_limits,
        streamed_paths=streamed_paths,
    )
    for router in routers:
        declare_refusals(router)
        app.include_router(router)
    return app
