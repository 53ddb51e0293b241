"""Trader history: earlier case outcomes per consignor and consignee, from ``cases.events.v1``.

Every case event names the case's consignor and consignee; the last terminal state of each case is
kept (``trader_case_outcomes``), applied once per event id (``applied_events``). The counts live in
memory for scoring and are rebuilt from the table periodically, so every replica sees every case.
"""

from __future__ import annotations

from collections import Counter as _Counter

from sqlalchemy import func, select, union_all
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.risk.models import TraderCaseOutcome, applied_events
from shared.contracts.cases import TERMINAL_STATES
from shared.contracts.events import CaseEventV1

TERMINAL = TERMINAL_STATES
INFRINGING = frozenset({"confiscated", "destroyed", "forfeited"})


class TraderHistory:
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession] | None = None) -> None:
        self.sessionmaker = sessionmaker
        self._confiscations: dict[str, int] = {}

    def confiscations(self, trader_id: str) -> int:
        return self._confiscations.get(trader_id, 0)

    def set_counts(self, counts: dict[str, int]) -> None:
        self._confiscations = dict(counts)

    async def reload(self) -> None:
        assert self.sessionmaker is not None
        t = TraderCaseOutcome
        parties = union_all(
            select(t.consignor_id.label("trader")).where(t.state.in_(INFRINGING), t.consignor_id.is_not(None)),
            select(t.consignee_id.label("trader")).where(t.state.in_(INFRINGING), t.consignee_id.is_not(None)),
        ).subquery()
        async with self.sessionmaker() as session:
            rows = (await session.execute(select(parties.c.trader, func.count()).group_by(parties.c.trader))).all()
        self._confiscations = {r[0]: int(r[1]) for r in rows}

    def bump(self, traders: list[str]) -> None:
        """Count new confiscations (after the transaction that recorded them committed)."""
        if traders:
            counts = _Counter(self._confiscations)
            counts.update(traders)
            self._confiscations = dict(counts)

    async def apply(self, session: AsyncSession, *, event_id: str, topic: str, event: CaseEventV1) -> list[str]:
        """Record one case event once; returns the traders whose confiscation count grows."""
        fresh = (await session.execute(insert(applied_events).values(event_id=event_id, topic=topic)
                                       .on_conflict_do_nothing().returning(applied_events.c.event_id))).first()
        if fresh is None or event.state not in TERMINAL:
            return []
        stmt = insert(TraderCaseOutcome).values(
            case_id=event.case_id, seq=event.seq, state=event.state, consignor_id=event.consignor_id,
            consignee_id=event.consignee_id, declaration_id=event.declaration_id, at=event.at)
        stmt = stmt.on_conflict_do_update(
            index_elements=[TraderCaseOutcome.case_id],
            set_={"seq": stmt.excluded.seq, "state": stmt.excluded.state, "at": stmt.excluded.at,
                  "consignor_id": stmt.excluded.consignor_id, "consignee_id": stmt.excluded.consignee_id},
            where=TraderCaseOutcome.seq < stmt.excluded.seq,
        ).returning(TraderCaseOutcome.case_id)
        changed = (await session.execute(stmt)).first() is not None
        if changed and event.state in INFRINGING:
            return sorted({event.consignor_id, event.consignee_id} - {None})
        return []
