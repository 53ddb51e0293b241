"""The live registry of one risk replica: the matcher index of the recordations in force, the targeting profiles and
campaigns switched on, trader history and lane capacity, kept up to date from the database."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import threading
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Row, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.risk.campaigns import CampaignSet, CampaignV1
from services.risk.capacity import CapacityGovernor
from services.risk.history import TraderHistory
from services.risk.matcher import RegistryIndex
from services.risk.metrics import CAMPAIGNS_LOADED, PROFILES_LOADED, REGISTRY_SIZE, REGISTRY_UPDATE_SECONDS
from services.risk.models import (
    Campaign,
    Recordation,
    TargetingProfile,
)
from services.risk.profiles import ProfileSet, TargetingProfileV1
from services.risk.recordations import expire_lapsed
from services.risk.scoring import Context, Scoring
from shared.contracts.recordation import RecordationV1

if TYPE_CHECKING:
    from services.risk.learning.serving import ModelServer
    from services.risk.settings import Settings


# Writes stamped up to this long before the latest one taken in are read again at the next look: a transaction
# that committed after a later one is not missed (and were it ever, the fingerprint check rebuilds the index).
CHANGE_OVERLAP = timedelta(minutes=2)


TAKE_IN_SLICE = 50  # recordations indexed between two turns of the event loop


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


async def take_in(
    index: RegistryIndex, changed: list[RecordationV1 | dict], removed: list[str], lock: threading.Lock | None = None
) -> None:
    """Apply changed (recordations or their stored payloads) and removed recordations to a live index without
    holding up the event loop: the tables in slices of TAKE_IN_SLICE recordations (each a few milliseconds),
    the automaton of the Chinese marks, when they changed, rebuilt in a thread and swapped in. ``lock``: the
    index's lock, held by the assessment thread while it reads the index (a slice waits for at most one
    slice of assessment)."""
    guard = lock or contextlib.nullcontext()
    with guard:
        dirty: set[str] = set(index.update([], removed)) if removed else set()
    for i in range(0, len(changed), TAKE_IN_SLICE):
        recs = [
            r if isinstance(r, RecordationV1) else RecordationV1.model_validate(r)
            for r in changed[i : i + TAKE_IN_SLICE]
        ]
        with guard:
            dirty |= index.update(recs)
        await asyncio.sleep(0)
    if dirty:
        automata = await asyncio.to_thread(index.build_automata, dirty)
        with guard:
            index.install_automata(automata)


def scoring_from(settings: Settings) -> Scoring:
    return Scoring(
        suspect_threshold=settings.suspect_threshold,
        red_threshold=settings.red_threshold,
        yellow_threshold=settings.yellow_threshold,
        undervalue_ratio=settings.undervalue_ratio,
        small_parcel_value_cny=settings.small_parcel_value_cny,
        transit_hubs=frozenset(settings.transit_hubs),
        random_rate=settings.random_selection_rate,
        random_salt=settings.random_selection_salt,
        fx_rates_to_cny=dict(settings.fx_rates_to_cny),
        # settings objects built by hand (tests, tools) may leave the e-commerce weights out: none then
        direction_weights=dict(getattr(settings, "direction_weights", {})),
        mode_weights=dict(getattr(settings, "supervision_mode_weights", {})),
        platform_min_consignments=getattr(settings, "platform_min_consignments", 1000),
        platform_rate=getattr(settings, "platform_confiscation_rate", 0.001),
    )


class Registry:
    """What assessment reads, in memory: the matcher index, the profiles, trader history and office capacity.

    Rebuilt after writes in this process and, for writes made by other replicas, on a short period.
    """

    def __init__(
        self, sessionmaker: async_sessionmaker[AsyncSession], *, capacity: CapacityGovernor | None = None
    ) -> None:
        self.sessionmaker = sessionmaker
        self.index = RegistryIndex()
        self.profiles = ProfileSet()
        self.campaigns = CampaignSet()
        self.history = TraderHistory(sessionmaker)
        self.capacity = capacity
        self.models: ModelServer | None = None  # the targeting model beside the rules (set at start when learning)
        self._fingerprint: tuple | None = None
        self._versions: dict[str, int] = {}  # active recordation -> version, as indexed
        self._seen: datetime | None = None  # the latest write taken in
        self._lock = asyncio.Lock()
        # Assessment runs in the consumers' threads: a change taken into the live index waits for the slice
        # of assessment reading it (a new index is swapped in whole, which needs no lock).
        self.index_lock = threading.Lock()

    def context(self) -> Context:
        return Context(
            history=self.history,
            profiles=self.profiles,
            red_threshold_for=self.capacity.threshold if self.capacity else None,
            campaigns=self.campaigns,
        )

    async def reload(self, *, force: bool = True) -> None:
        """Take in the registry's changes: the first time by building the index (in a thread), then only the
        recordations written since the last look, a few keys each (``take_in``), so a change to a registry of
        100,000 marks is in force within milliseconds and never holds up assessment. ``force``: look even when
        the registry's fingerprint did not change (after a write in this process)."""
        async with self._lock:
            async with self.sessionmaker() as session:
                # one snapshot for the fingerprint and the rows, so the two agree
                await session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
                fp = tuple(
                    (
                        await session.execute(
                            select(func.count(), func.max(Recordation.updated_at), func.sum(Recordation.version)).where(
                                Recordation.status == "active"
                            )
                        )
                    ).one()
                )
                if not force and fp == self._fingerprint:
                    return
                if self._seen is None:
                    rows = (
                        await session.execute(
                            select(
                                Recordation.recordation_id,
                                Recordation.status,
                                Recordation.version,
                                Recordation.payload,
                                Recordation.updated_at,
                            ).where(Recordation.status == "active")
                        )
                    ).all()
                else:
                    rows = (
                        await session.execute(
                            select(
                                Recordation.recordation_id,
                                Recordation.status,
                                Recordation.version,
                                Recordation.payload,
                                Recordation.updated_at,
                            ).where(Recordation.updated_at >= self._seen - CHANGE_OVERLAP)
                        )
                    ).all()
            if self._seen is None or not self._agrees(fp, rows):
                await self._rebuild(fp, rows if self._seen is None else None)
                return
            started = time.perf_counter()
            changed, removed = [], []
            for rid, status, version, payload, _at in rows:
                if status == "active":
                    if self._versions.get(rid) != version:
                        changed.append(payload)
                        self._versions[rid] = version
                elif self._versions.pop(rid, None) is not None:
                    removed.append(rid)
            if changed or removed:
                await take_in(self.index, changed, removed, self.index_lock)
                REGISTRY_UPDATE_SECONDS.labels("incremental").observe(time.perf_counter() - started)
            self._seen = max([self._seen, *(at for *_, at in rows if at is not None)])
            self._fingerprint = fp
            REGISTRY_SIZE.set(self.index.size)

    def _agrees(self, fp: tuple, rows: Sequence[Row[*tuple[Any, ...]]]) -> bool:
        """Whether the rows read since the last look account for the registry as the fingerprint counts it
        (a write that committed later than CHANGE_OVERLAP after its timestamp would not): else rebuild."""
        versions = dict(self._versions)
        for rid, status, version, _payload, _at in rows:
            if status == "active":
                versions[rid] = version
            else:
                versions.pop(rid, None)
        count, _last, total = fp
        return len(versions) == count and sum(versions.values()) == int(total or 0)

    async def _rebuild(self, fp: tuple, rows: Sequence[Row[*tuple[Any, ...]]] | None) -> None:
        started = time.perf_counter()
        if rows is None:
            async with self.sessionmaker() as session:
                rows = (
                    await session.execute(
                        select(
                            Recordation.recordation_id,
                            Recordation.status,
                            Recordation.version,
                            Recordation.payload,
                            Recordation.updated_at,
                        ).where(Recordation.status == "active")
                    )
                ).all()
        # Building a large index takes a while: in a thread, the event loop answering meanwhile.
        index = await asyncio.to_thread(
            lambda: RegistryIndex.build([RecordationV1.model_validate(payload) for _rid, _s, _v, payload, _at in rows])
        )
        self.index = index
        self._versions = {rid: version for rid, _s, version, _p, _at in rows}
        self._seen = max((at for *_, at in rows if at is not None), default=_EPOCH)
        self._fingerprint = fp
        # The index lives long: keep its objects out of the collector's full passes.
        gc.collect()
        gc.freeze()
        REGISTRY_SIZE.set(index.size)
        REGISTRY_UPDATE_SECONDS.labels("full").observe(time.perf_counter() - started)

    async def reload_profiles(self) -> None:
        async with self.sessionmaker() as session:
            rows = (
                (await session.execute(select(TargetingProfile.payload).where(TargetingProfile.active.is_(True))))
                .scalars()
                .all()
            )
        self.profiles = ProfileSet([TargetingProfileV1.model_validate(p) for p in rows])
        PROFILES_LOADED.set(len(self.profiles))

    async def reload_campaigns(self) -> None:
        async with self.sessionmaker() as session:
            rows = (await session.execute(select(Campaign.payload).where(Campaign.active.is_(True)))).scalars().all()
        self.campaigns = CampaignSet([CampaignV1.model_validate(p) for p in rows])
        CAMPAIGNS_LOADED.set(len(self.campaigns))

    async def reload_all(self) -> None:
        await self.reload()
        await self.reload_profiles()
        await self.reload_campaigns()
        await self.history.reload()

    async def refresh(self) -> None:
        """Expire lapsed recordations and pick up what other replicas changed (run periodically)."""
        await expire_lapsed(self.sessionmaker)
        await self.reload(force=False)
        await self.reload_profiles()
        await self.reload_campaigns()
        await self.history.reload()
