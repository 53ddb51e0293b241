"""Holds service: places and lifts holds on declaration lines and tells clearance systems on customs.holds.v1."""

from services.holds.api import router
from services.holds.models import outbox
from services.holds.settings import Settings
from shared.runtime import service_app

app = service_app(
    Settings(),
    title="IPR holds service",
    description="Suspends, detains, releases and confiscates declaration lines; "
    "publishes the instructions for clearance systems on customs.holds.v1.",
    routers=[router],
    outbox=outbox,
)
