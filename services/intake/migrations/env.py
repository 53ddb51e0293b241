"""Alembic environment of the intake service (shared body in shared.migrate)."""

from services.intake.models import metadata
from shared.migrate import run_env

run_env(metadata)
