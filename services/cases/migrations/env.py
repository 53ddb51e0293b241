"""Alembic environment of the cases service (shared body in shared.migrate)."""

from services.cases.models import metadata
import services.cases.workbench  # noqa: F401  (its tables share the metadata)
from shared.migrate import run_env

run_env(metadata)
