"""Alembic environment of the web service (shared body in shared.migrate)."""

from services.web.models import metadata
from shared.migrate import run_env

run_env(metadata)
