"""The case starter: opens one case per consignment and rights holder for the suspected lines of each stored assessment
(or gives an open case a revision's lines), from the database, once."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import Table, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.risk.metrics import CASES
from services.risk.models import (
    Assessment,
)
from shared.case_opening import (
    lines_revision,
    signal_lines,
    start_case,
    without_lines,
)
from shared.contracts.cases import CaseInput, LinesRevision
from shared.supervise import Backoff, describe
from shared.temporal import LazyClient

log = logging.getLogger(__name__)


def plan_revision(
    declaration_id: str, revision: int, cases: list[CaseInput], prior: dict[int, list[CaseInput]]
) -> list:
    """What opening a revision's cases takes (pure): one call per case of the revision, and one per case of
    an earlier revision the revision no longer names. Each item is ``async (client) -> bool``."""
    legacy = {c.line_no for cs in prior.values() for c in cs if not c.lines}  # per-line cases keep their line
    if legacy:
        cases = [c for c in (without_lines(c, legacy) for c in cases) if c is not None]
    line_cases = {ln.line_no: c.case_id for c in cases for ln in c.lines}
    previous = {ln.line_no: c.case_id for c in prior[max(prior)] for ln in c.lines} if prior else {}
    jobs = []
    for c in cases:
        rev = lines_revision(c, line_cases=line_cases, previous_line_cases=previous)
        jobs.append(lambda client, c=c, rev=rev: start_case(client, c, rev))
    dropped = sorted({c.case_id for cs in prior.values() for c in cs if c.lines} - {c.case_id for c in cases})
    facts = cases[0].consignment if cases else None
    for case_id in dropped:
        rev = LinesRevision(
            declaration_id=declaration_id,
            revision=revision,
            lines=[],
            consignment=facts,
            line_cases=line_cases,
            previous_line_cases=previous,
        )
        jobs.append(lambda client, case_id=case_id, rev=rev: signal_lines(client, case_id, rev))
    return jobs


class CaseStarter:
    """Opens the cases of stored assessments, and gives later revisions to the cases they change: the
    assessments table is its outbox.

    A row whose suspected lines have cases to open (or a later revision, which may take lines out of
    earlier cases) keeps ``cases_started_at`` empty until this task has started each case with its lines
    (signal-with-start: a running case takes the revision's lines instead; deterministic ids, so a second
    start is harmless), told each case of an earlier revision that the revision no longer names that its
    risk lines left it (moved, where the line is now another holder's), and marked the row. Lines that have
    a per-line case from before consignment cases stay with it. It runs beside the consumer, so a slow
    Temporal never holds up the assessments, and it resumes after a restart from what the table says.
    """

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], temporal: LazyClient) -> None:
        self.sessionmaker = sessionmaker
        self.temporal = temporal
        self._kick = asyncio.Event()

    def kick(self) -> None:
        self._kick.set()

    async def run_once(self, limit: int = 200) -> int:
        a = Assessment.__table__.c
        async with self.sessionmaker() as session, session.begin():
            # No row lock while Temporal answers: the consumer's transactions must not wait for it. Two
            # starters picking the same row start the same workflow id twice, which Temporal refuses.
            rows = (
                await session.execute(
                    select(a.declaration_id, a.revision, a.case_inputs)
                    .where(a.cases_started_at.is_(None))
                    .order_by(a.assessed_at)
                    .limit(limit)
                )
            ).all()
            later = sorted({r.declaration_id for r in rows if r.revision > 1})
            earlier: dict[str, dict[int, list[CaseInput]]] = {}
            if later:
                for x in (
                    await session.execute(
                        select(a.declaration_id, a.revision, a.case_inputs).where(a.declaration_id.in_(later))
                    )
                ).all():
                    earlier.setdefault(x.declaration_id, {})[x.revision] = [
                        CaseInput.model_validate(c) for c in x.case_inputs
                    ]
        if not rows:
            return 0
        jobs = []
        for r in rows:
            cases = [CaseInput.model_validate(c) for c in r.case_inputs]
            prior = {rev: cs for rev, cs in earlier.get(r.declaration_id, {}).items() if rev < r.revision}
            jobs.extend(plan_revision(r.declaration_id, r.revision, cases, prior))
        if jobs:
            client = await self.temporal.get()
            started = await asyncio.gather(*(job(client) for job in jobs))
            CASES.inc(sum(1 for ok in started if ok))
        table = Assessment.__table__
        assert isinstance(table, Table)  # a declarative model's table
        async with self.sessionmaker() as session, session.begin():
            await session.execute(
                update(table)
                .where(tuple_(a.declaration_id, a.revision).in_([(r.declaration_id, r.revision) for r in rows]))
                .values(cases_started_at=datetime.now(UTC))
            )
        return len(rows)

    async def run_forever(self, up: Callable[[], None] | None = None, idle: float = 1.0) -> None:
        """Start cases as assessments are stored; the body of a supervised loop."""
        if up is not None:
            up()
        backoff = Backoff(initial=0.2, cap=30.0)
        while True:
            try:
                while await self.run_once() > 0:
                    pass
                backoff.reset()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - Temporal or database away: try again
                delay = backoff.next_delay()
                log.warning(
                    "starting cases failed (attempt %d), retrying in %.1fs: %s", backoff.attempt, delay, describe(exc)
                )
                await asyncio.sleep(delay)
                continue
            try:
                await asyncio.wait_for(self._kick.wait(), timeout=idle)
            except TimeoutError:
                pass
            self._kick.clear()
