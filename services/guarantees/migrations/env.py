"""Alembic environment of the guarantees service (shared body in shared.migrate)."""

from services.guarantees.models import metadata
from shared.migrate import run_env

run_env(metadata)
