"""Trader history: earlier case outcomes per consignor and consignee, seller and platform, from ``cases.events.v1``.

Every case event names the case's consignor and consignee; the last terminal state of each case is
kept (``trader_case_outcomes``), applied once per event id (``applied_events``). Sellers and platforms
are not in the case events: the risk service records them when it opens a case (``case_sellers``) and
joins them in when the case ends. Each platform's consignments assessed are counted per batch
(``platform_volume``), so a platform is judged by its rate of confiscations, not by its size. The
counts live in memory for scoring and are rebuilt from the tables periodically, so every replica sees
every case.
"""

from __future__ import annotations

from collections import Counter as _Counter

from sqlalchemy import func, select, union_all
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.risk.models import CaseSeller, PlatformVolume, TraderCaseOutcome, applied_events
from shared.contracts.cases import TERMINAL_STATES
from shared.contracts.events import CaseEventV1
from shared.db import apply_once

TERMINAL = TERMINAL_STATES
INFRINGING = frozenset({"confiscated", "destroyed", "forfeited"})


class TraderHistory:
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession] | None = None) -> None:
        self.sessionmaker = sessionmaker
        self._confiscations: dict[str, int] = {}
        self._sellers: dict[str, int] = {}
        self._platform_confiscations: dict[str, int] = {}
        self._platform_volume: dict[str, int] = {}

    def confiscations(self, trader_id: str) -> int:
        return self._confiscations.get(trader_id, 0)

    def seller_confiscations(self, seller_key: str) -> int:
        return self._sellers.get(seller_key, 0)

    def platform_record(self, platform_id: str) -> tuple[int, int]:
        """(confiscations, consignments assessed) of a platform."""
        return self._platform_confiscations.get(platform_id, 0), self._platform_volume.get(platform_id, 0)

    def set_counts(
        self,
        counts: dict[str, int],
        *,
        sellers: dict[str, int] | None = None,
        platforms: dict[str, tuple[int, int]] | None = None,
    ) -> None:
        self._confiscations = dict(counts)
        self._sellers = dict(sellers or {})
        self._platform_confiscations = {k: v[0] for k, v in (platforms or {}).items()}
        self._platform_volume = {k: v[1] for k, v in (platforms or {}).items()}

    def add_volume(self, volume: dict[str, int]) -> None:
        """Count consignments assessed per platform (after the transaction that stored them committed)."""
        if volume:
            counts = _Counter(self._platform_volume)
            counts.update(volume)
            self._platform_volume = dict(counts)

    async def reload(self) -> None:
        assert self.sessionmaker is not None
        t = TraderCaseOutcome
        parties = union_all(
            select(t.consignor_id.label("trader")).where(t.state.in_(INFRINGING), t.consignor_id.is_not(None)),
            select(t.consignee_id.label("trader")).where(t.state.in_(INFRINGING), t.consignee_id.is_not(None)),
        ).subquery()
        async with self.sessionmaker() as session:
            rows = (await session.execute(select(parties.c.trader, func.count()).group_by(parties.c.trader))).all()
            sellers = (
                await session.execute(
                    select(t.seller_key, func.count())
                    .where(t.state.in_(INFRINGING), t.seller_key.is_not(None))
                    .group_by(t.seller_key)
                )
            ).all()
            platforms = (
                await session.execute(
                    select(t.platform_id, func.count())
                    .where(t.state.in_(INFRINGING), t.platform_id.is_not(None))
                    .group_by(t.platform_id)
                )
            ).all()
            volume = (await session.execute(select(PlatformVolume.platform_id, PlatformVolume.consignments))).all()
        self._confiscations = {r[0]: int(r[1]) for r in rows}
        self._sellers = {r[0]: int(r[1]) for r in sellers if r[0] is not None}  # the query leaves out None
        self._platform_confiscations = {r[0]: int(r[1]) for r in platforms if r[0] is not None}
        self._platform_volume = {r[0]: int(r[1]) for r in volume}

    def bump(self, traders: list[str], sellers: list[str] | None = None, platforms: list[str] | None = None) -> None:
        """Count new confiscations (after the transaction that recorded them committed)."""
        for attr, keys in (("_confiscations", traders), ("_sellers", sellers), ("_platform_confiscations", platforms)):
            if keys:
                counts = _Counter(getattr(self, attr))
                counts.update(keys)
                setattr(self, attr, dict(counts))

    async def apply(
        self, session: AsyncSession, *, event_id: str, topic: str, event: CaseEventV1
    ) -> tuple[list[str], list[str], list[str]]:
        """Record one case event once; returns the traders, sellers and platforms whose confiscation count grows."""
        fresh = await apply_once(session, applied_events, event_id=event_id, topic=topic)
        if not fresh or event.state not in TERMINAL:
            return [], [], []
        seller = (
            await session.execute(
                select(CaseSeller.seller_key, CaseSeller.platform_id).where(CaseSeller.case_id == event.case_id)
            )
        ).first()
        seller_key, platform_id = (seller.seller_key, seller.platform_id) if seller else (None, None)
        stmt = insert(TraderCaseOutcome).values(
            case_id=event.case_id,
            seq=event.seq,
            state=event.state,
            consignor_id=event.consignor_id,
            consignee_id=event.consignee_id,
            declaration_id=event.declaration_id,
            at=event.at,
            seller_key=seller_key,
            platform_id=platform_id,
        )
        upsert = stmt.on_conflict_do_update(
            index_elements=[TraderCaseOutcome.case_id],
            set_={
                "seq": stmt.excluded.seq,
                "state": stmt.excluded.state,
                "at": stmt.excluded.at,
                "consignor_id": stmt.excluded.consignor_id,
                "consignee_id": stmt.excluded.consignee_id,
                "seller_key": stmt.excluded.seller_key,
                "platform_id": stmt.excluded.platform_id,
            },
            where=TraderCaseOutcome.seq < stmt.excluded.seq,
        ).returning(TraderCaseOutcome.case_id)
        changed = (await session.execute(upsert)).first() is not None
        if changed and event.state in INFRINGING:
            return (
                sorted({p for p in (event.consignor_id, event.consignee_id) if p is not None}),
                [seller_key] if seller_key else [],
                [platform_id] if platform_id else [],
            )
        return [], [], []
