"""Disposal service: records release or confiscation, the fine and the disposal of the goods."""

from services.disposal.api import router
from services.disposal.settings import Settings
from shared.runtime import service_app

app = service_app(
    Settings(),
    title="IPR disposal service",
    description=(
        "Records case outcomes with the fine and disposal method each case decided, re-checked against the rule packs."
    ),
    routers=[router],
)
