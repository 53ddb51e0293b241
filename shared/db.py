"""Database helpers: one async engine per service, one session per request or message.

Each service owns its own database; the tables every service needs in the same shape
(the transactional outbox, the applied-events ledger, idempotency records) are built
here onto the service's own metadata so the shape cannot drift between services.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import JSON, BigInteger, Column, DateTime, Index, Integer, MetaData, String, Table, func, text
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

JsonType = JSON().with_variant(JSONB(), "postgresql")


def make_metadata() -> MetaData:
    return MetaData(naming_convention=NAMING)


def make_engine(url: str, *, pool_size: int = 5) -> AsyncEngine:
    return create_async_engine(url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True)


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


async def ping(engine: AsyncEngine) -> None:
    async with engine.connect() as conn:
        await conn.execute(text("SELECT 1"))


def outbox_table(metadata: MetaData) -> Table:
    """Events written in the same transaction as the change they announce; a relay publishes them."""
    return Table(
        "outbox",
        metadata,
        Column("id", BigInteger, primary_key=True, autoincrement=True),
        Column("event_id", String(36), nullable=False, unique=True),
        Column("topic", String(128), nullable=False),
        Column("key", String(256), nullable=False),
        Column("envelope", JsonType, nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Column("published_at", DateTime(timezone=True), nullable=True, index=True),
        Column("attempts", Integer, nullable=False, server_default="0"),
        # Where the broker put the record, and when the relay read it back from there (see OutboxRelay.verify).
        Column("kafka_partition", Integer, nullable=True),
        Column("kafka_offset", BigInteger, nullable=True),
        Column("verified_at", DateTime(timezone=True), nullable=True),
        Index(None, "topic", "kafka_partition", "kafka_offset"),
    )


def applied_events_table(metadata: MetaData) -> Table:
    """Ids of consumed events already applied: the consumer's dedupe ledger."""
    return Table(
        "applied_events",
        metadata,
        Column("event_id", String(128), primary_key=True),
        Column("topic", String(128), nullable=False),
        Column("applied_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    )


async def apply_once(session: AsyncSession, applied: Table, *, event_id: str, topic: str) -> bool:
    """Record a consumed event id in the ``applied_events`` ledger, in the caller's transaction; False if it
    was applied before (a redelivery: the caller changes nothing). The one answer to "apply each event once"."""
    stmt = insert(applied).values(event_id=event_id, topic=topic).on_conflict_do_nothing()
    return (await session.execute(stmt.returning(applied.c.event_id))).first() is not None


def idempotency_table(metadata: MetaData) -> Table:
    """Answers already given to a command carrying an idempotency key."""
    return Table(
        "idempotency_keys",
        metadata,
        Column("key", String(200), primary_key=True),
        Column("request_hash", String(64), nullable=False),
        Column("status_code", Integer, nullable=False),
        Column("response", JsonType, nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    )


def now_utc() -> datetime:

    return datetime.now(UTC)
