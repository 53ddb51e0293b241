"""Idempotent commands: the key is born in the caller (the case workflow) and enforced here.

The first request with a key does the work and stores the answer in the same
transaction; a repeat with the same body gets the stored answer; a repeat with a
different body is a conflict (409), never a second effect.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import Table, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from shared.errors import Conflict


def request_hash(payload: Any) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


async def run_once(
    session: AsyncSession,
    table: Table,
    *,
    key: str,
    payload: Any,
    work: Callable[[], Awaitable[tuple[int, dict[str, Any]]]],
) -> tuple[int, dict[str, Any]]:
    """Run ``work`` once per ``key`` inside the caller's transaction; replay its answer afterwards."""
    digest = request_hash(payload)
    inserted = await session.execute(
        insert(table)
        .values(key=key, request_hash=digest, status_code=0, response={})
        .on_conflict_do_nothing(index_elements=[table.c.key])
        .returning(table.c.key)
    )
    if inserted.first() is None:
        row = (await session.execute(select(table).where(table.c.key == key))).one()
        if row.request_hash != digest:
            raise Conflict("idempotency_conflict", f"idempotency key {key!r} was already used with a different request")
        return row.status_code, row.response
    status_code, response = await work()
    await session.execute(table.update().where(table.c.key == key).values(status_code=status_code, response=response))
    return status_code, response
