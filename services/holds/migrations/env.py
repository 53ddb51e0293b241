"""Alembic environment of the holds service (shared body in shared.migrate)."""

from services.holds.models import metadata
from shared.migrate import run_env

run_env(metadata)
