"""Background work of learning in the risk service: take in registry changes (a new champion, a rollback) and,
when ``LEARNING_TRAIN_EVERY_S`` is set, train on schedule (one replica at a time, by an advisory lock)."""

from __future__ import annotations

import asyncio
import logging
import time

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.risk.learning.serving import ModelServer
from services.risk.learning.train import train

log = logging.getLogger(__name__)
TRAIN_LOCK = 0x1EA24  # pg advisory lock: one training replica at a time


async def scheduled_train(sessionmaker: async_sessionmaker[AsyncSession], *, seed: int, red_threshold: float) -> dict:
    async with sessionmaker() as session:
        locked = (await session.execute(select(func.pg_try_advisory_lock(TRAIN_LOCK)))).scalar()
        if not locked:
            return {"skipped": "another replica is training"}
        try:
            return await train(
                sessionmaker, actor="scheduled training", actor_sub="risk", seed=seed, red_threshold=red_threshold
            )
        finally:
            await session.execute(select(func.pg_advisory_unlock(TRAIN_LOCK)))


async def run(
    models: ModelServer,
    sessionmaker: async_sessionmaker[AsyncSession],
    *,
    refresh_s: float,
    train_every_s: float,
    seed: int,
    red_threshold: float,
) -> None:
    last_train = time.monotonic()
    while True:
        try:
            await models.refresh(sessionmaker)
            if train_every_s > 0 and time.monotonic() - last_train >= train_every_s:
                last_train = time.monotonic()
                result = await scheduled_train(sessionmaker, seed=seed, red_threshold=red_threshold)
                log.info("scheduled training: %s", {k: v for k, v in result.items() if k != "metrics"})
                await models.refresh(sessionmaker)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("learning refresh failed")
        await asyncio.sleep(refresh_s)
