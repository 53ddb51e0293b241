"""Alembic environment of the identity service (shared body in shared.migrate)."""

from services.identity.models import metadata
from shared.migrate import run_env

run_env(metadata)
