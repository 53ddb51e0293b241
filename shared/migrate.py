"""Schema migrations: each service owns its Alembic history under ``services/<name>/migrations``.

python -m shared.migrate <service>            # upgrade to head (reads DATABASE_URL)
python -m shared.migrate <service> revision "message"   # autogenerate a new revision
"""

from __future__ import annotations

import asyncio
import importlib
import os
import sys
from pathlib import Path

from alembic import command, context
from alembic.config import Config
from sqlalchemy import Connection, MetaData, pool
from sqlalchemy.ext.asyncio import create_async_engine

ROOT = Path(__file__).resolve().parents[1]


def alembic_config(service: str, url: str | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(ROOT / "services" / service / "migrations"))
    cfg.set_main_option("sqlalchemy.url", (url or os.environ["DATABASE_URL"]).replace("%", "%%"))
    cfg.attributes["service"] = service
    return cfg


def upgrade(service: str, url: str | None = None) -> None:
    command.upgrade(alembic_config(service, url), "head")


def run_env(target_metadata: MetaData) -> None:
    """Body of every service's ``migrations/env.py``."""
    url = context.config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("sqlalchemy.url is not set in the migration configuration")

    def do_run(connection: Connection) -> None:
        context.configure(connection=connection, target_metadata=target_metadata, compare_type=True)
        with context.begin_transaction():
            context.run_migrations()

    async def run_async() -> None:
        engine = create_async_engine(url, poolclass=pool.NullPool)
        async with engine.connect() as connection:
            await connection.run_sync(do_run)
        await engine.dispose()

    if context.is_offline_mode():
        context.configure(url=url, target_metadata=target_metadata, literal_binds=True)
        with context.begin_transaction():
            context.run_migrations()
    else:
        asyncio.run(run_async())


def main() -> None:
    if len(sys.argv) < 2:
        raise SystemExit(__doc__)
    service = sys.argv[1]
    importlib.import_module(f"services.{service}.models")
    if len(sys.argv) >= 4 and sys.argv[2] == "revision":
        command.revision(alembic_config(service), message=sys.argv[3], autogenerate=True)
    else:
        upgrade(service)


if __name__ == "__main__":
    main()
