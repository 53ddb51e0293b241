"""Alembic environment of the cases service (shared body in shared.migrate)."""

import services.cases.workbench  # noqa: F401  (its tables share the metadata)
from services.cases.models import metadata
from shared.migrate import run_env

run_env(metadata)
