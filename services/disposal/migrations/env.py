"""Alembic environment of the disposal service (shared body in shared.migrate)."""

from services.disposal.models import metadata
from shared.migrate import run_env

run_env(metadata)
