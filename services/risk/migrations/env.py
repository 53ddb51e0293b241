"""Alembic environment of the risk service (shared body in shared.migrate)."""

from services.risk.models import metadata
from shared.migrate import run_env

run_env(metadata)
