"""Alembic environment of the notify service (shared body in shared.migrate)."""

from services.notify.models import metadata
from shared.migrate import run_env

run_env(metadata)
