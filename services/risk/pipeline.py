"""The assessment pipeline: score declarations and parcels against the live registry (CPU, off the event loop), store
the assessments, features and red-quota draws in one transaction, publish the results."""

from __future__ import annotations

import time
from collections import Counter as _Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

import orjson
from aiokafka import AIOKafkaProducer
from sqlalchemy import Table, bindparam, func, select, text, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.risk.case_starter import CaseStarter
from services.risk.learning.serving import store_features
from services.risk.lifecycle import today_in
from services.risk.live_registry import Registry, scoring_from
from services.risk.matcher import RegistryIndex
from services.risk.metrics import ASSESS_SECONDS, CAMPAIGN_HITS, LINES, PARCELS_ASSESSED, PROFILE_HITS, RED_QUOTA_LINES
from services.risk.models import (
    Assessment,
    TargetingProfile,
)
from services.risk.parcels import ParcelConsignment, parcel_result, result_envelope
from services.risk.scoring import Context, Scoring, assess_line, seller_key
from services.risk.settings import Settings
from shared.case_opening import (
    SuspectedLine,
    build_cases,
)
from shared.contracts.cases import CaseInput, LineHit
from shared.contracts.declaration import DeclarationV1
from shared.contracts.events import TOPIC_ASSESSMENTS, TOPIC_PARCEL_RESULTS, RiskAssessedV1, deterministic_event_id
from shared.kafka import PRODUCED, acknowledged
from shared.rules.calendar import calendar_for
from shared.rules.pack import RulePack, rule_pack
from shared.rules.personal_use import personal_use
from shared.temporal import LazyClient


def personal_use_exemptions(
    declaration: DeclarationV1,
    results: list,
    on_pack: Callable[[str], RulePack] = rule_pack,
) -> tuple[dict[str, str], dict[str, str]]:
    """For an individual's consignment: the recordations whose suspected goods stay within the reasonable
    quantity for personal use ({recordation id: reason}: not suspected), and those beyond it (reasons)."""
    business_model = getattr(declaration, "business_model", None)
    if business_model is None or not any(r.best is not None for r in results):
        return {}, {}
    quantities: dict[str, Decimal] = {}
    titles: dict[str, str] = {}
    by_no = {ln.line_no: ln for ln in declaration.lines}
    for r in results:
        if r.best is not None:
            rid = r.best.recordation_id
            quantities[rid] = quantities.get(rid, Decimal(0)) + by_no[r.assessment.line_no].quantity
            titles[rid] = r.best.title
    exempt, beyond = {}, {}
    pack = on_pack(declaration.jurisdiction)
    for rid, qty in quantities.items():
        answer = personal_use(
            pack,
            transport_mode=declaration.transport_mode,
            direction=declaration.direction,
            business_model=business_model,
            quantity=qty,
            what=f"goods under {titles[rid]!r}",
        )
        if answer.exempt:
            exempt[rid] = answer.reason
        elif answer.applies:
            beyond[rid] = answer.reason
    return exempt, beyond


def assess(
    declaration: DeclarationV1,
    index: RegistryIndex,
    scoring: Scoring,
    rates: dict[str, Decimal],
    context: Context | None = None,
    *,
    now: datetime | None = None,
) -> tuple[RiskAssessedV1, list[CaseInput], list[str]]:
    """Assess every line (pure); returns the assessment, the input of each case to open (one per rights
    holder of the suspected lines) and the profile hits."""
    lines, suspected, profile_hits = [], [], []
    now = now or datetime.now(UTC)
    on_date = calendar_for(declaration.jurisdiction).local_date(declaration.submitted_at)
    results = [assess_line(index, declaration, line, scoring, context, on_date) for line in declaration.lines]
    exempt, beyond = personal_use_exemptions(declaration, results)
    if exempt:  # individuals' articles in a reasonable quantity are scored again, not suspected
        results = [
            assess_line(index, declaration, line, scoring, context, on_date, exempt)
            if r.best is not None and r.best.recordation_id in exempt
            else r
            for line, r in zip(declaration.lines, results, strict=True)
        ]
    if beyond:
        for r in results:
            if r.best is not None and r.best.recordation_id in beyond:
                r.assessment = r.assessment.model_copy(
                    update={"reasons": [*r.assessment.reasons, beyond[r.best.recordation_id]]}
                )
    for line, result in zip(declaration.lines, results, strict=True):
        a = result.assessment
        profile_hits.extend(result.profile_ids)
        if a.suspected and result.best is not None:
            rec = result.best
            hits = tuple(
                LineHit(recordation_id=h.recordation_id, mark=h.term, match=h.match, score=h.score)
                for h in a.hits
                if h.suspected or h.recordation_id == rec.recordation_id
            )
            suspected.append(
                SuspectedLine(line=line, recordation=rec, score=a.score, reasons=tuple(a.reasons), hits=hits)
            )
        lines.append(a)
    repeat = bool(context and context.history.confiscations(declaration.consignee.id))
    cases = build_cases(declaration, suspected, rates=rates, opened_at=now, repeat_infringer=repeat)
    case_of = {ln.line_no: c.case_id for c in cases for ln in c.lines}
    lines = [a.model_copy(update={"case_id": case_of[a.line_no]}) if a.line_no in case_of else a for a in lines]
    assessed = RiskAssessedV1(
        declaration_id=declaration.declaration_id,
        revision=declaration.revision,
        jurisdiction=declaration.jurisdiction,
        assessed_at=now,
        lines=lines,
        case_ids=[c.case_id for c in cases],
    )
    return assessed, cases, profile_hits


def with_model_reasons(cases: list[CaseInput], assessed: RiskAssessedV1) -> list[CaseInput]:
    """The cases with the model's reason beside the rules' on each line it added points to (the officers' case
    view shows why the goods were targeted). Cases open only on the rules' suspicion, before the model scores a
    batch: its reasons are added here."""
    said = {a.line_no: [c.reason for c in a.contributions if c.signal == "model"] for a in assessed.lines}
    if not any(said.values()):
        return cases
    out = []
    for case in cases:
        extra = [r for n in ([ln.line_no for ln in case.lines] or [case.line_no]) for r in said.get(n, ())]
        if not extra:
            out.append(case)
            continue
        lines = [
            ln.model_copy(update={"reasons": [*ln.reasons, *said[ln.line_no]]}) if said.get(ln.line_no) else ln
            for ln in case.lines
        ]
        out.append(case.model_copy(update={"lines": lines, "reasons": list(dict.fromkeys([*case.reasons, *extra]))}))
    return out


def envelope_json(event_id: str, declaration_id: str, result_json: bytes, occurred_at: datetime) -> bytes:
    """The ``risk.assessed`` envelope (same shape as ``EventEnvelope``) around the already-encoded result."""
    head = orjson.dumps(
        {
            "event_id": event_id,
            "event_type": "risk.assessed",
            "event_version": 1,
            "occurred_at": occurred_at.isoformat(),
            "producer": "risk",
            "correlation_id": declaration_id,
            "causation_id": None,
        }
    )
    return head[:-1] + b',"payload":' + result_json + b"}"


@dataclass
class _Row:
    """One declaration revision on its way through the consumer path."""

    declaration_id: str
    revision: int
    result_json: bytes
    case_inputs: list
    lines: list | None = None  # LineAssessmentV1, for metrics (fresh assessments only)
    office: str | None = None
    profile_hits: list | None = None
    features: list | None = None  # learning: the lines' feature rows (line_features)
    cases_started: bool = False
    published: bool = False
    parcel: dict | None = None  # a parcel of a manifest: its route (manifest id, parcel no, waybill)
    parcel_json: bytes | None = None  # its parcel.assessed envelope
    parcel_event_id: str | None = None
    seller_key: str | None = None
    platform_id: str | None = None
    day: date | None = None  # the consignment's date in its jurisdiction (campaign report)
    assessed: RiskAssessedV1 | None = None  # fresh assessments only (a line may still lose its red lane)
    quota_day: date | None = None  # today in the office's jurisdiction: the red quota drawn on
    republication: bool = False  # intake published the revision again: its assessment never arrived there

    @property
    def key(self) -> tuple[str, int]:
        return (self.declaration_id, self.revision)


class AssessmentPipeline:
    """Consumer path: assess once per revision, open the cases, publish the assessment -- each step idempotent.

    Three steps per batch, which the consumer runs as a pipeline (one batch is stored while the next is
    assessed and the previous one published):

    * ``prepare``: assess every new revision (CPU only, no I/O);
    * ``store``: one transaction inserts the batch's assessments in one multi-row statement (a revision
      stored before -- redelivery, another replica -- is not inserted again; its stored result is used)
      and adds the profile hits;
    * ``deliver``: start the cases of the suspected lines (deterministic workflow ids), publish every
      assessment and await the broker's acknowledgements together. Only then does the consumer commit
      the offsets. Which rows were delivered is recorded in the next store transaction (or by
      ``flush_marks``); a redelivered revision that was not yet marked is delivered again with the same
      event id, which consumers drop, and the same case id, which Temporal refuses to start twice.
    """

    def __init__(
        self,
        *,
        sessionmaker: async_sessionmaker[AsyncSession],
        registry: Registry,
        temporal: LazyClient | None,
        producer: AIOKafkaProducer,
        settings: Settings,
        assessments_topic: str = TOPIC_ASSESSMENTS,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.assessments_topic = assessments_topic
        self.registry = registry
        self.temporal = temporal
        self.producer = producer
        self.settings = settings
        self.scoring = scoring_from(settings)
        self._marks: list[tuple[str, int]] = []
        self.case_starter: CaseStarter | None = CaseStarter(sessionmaker, temporal) if temporal is not None else None

    def prepare(self, declarations: list[DeclarationV1 | ParcelConsignment]) -> list[_Row]:
        """Assess declarations and parcels of manifests (a parcel is assessed as its own declaration)."""
        return self.rows(self.assess_rules(declarations))

    def assess_rules(self, declarations: list[DeclarationV1 | ParcelConsignment]) -> list[tuple]:
        """The rules' assessment of each declaration revision once (the first of repeated ones), in order; run it
        under the index lock, a slice at a time, so a registry change is taken in between two slices."""
        unique: dict[tuple[str, int], DeclarationV1 | ParcelConsignment] = {}
        for item in declarations:
            d = item.declaration if isinstance(item, ParcelConsignment) else item
            unique.setdefault((d.declaration_id, d.revision), item)
        index, context = self.registry.index, self.registry.context()
        now = datetime.now(UTC)
        done = []
        for item in unique.values():
            d = item.declaration if isinstance(item, ParcelConsignment) else item
            t0 = time.perf_counter()
            assessed, cases, profile_hits = assess(
                d, index, self.scoring, self.settings.fx_rates_to_cny, context, now=now
            )
            ASSESS_SECONDS.observe(time.perf_counter() - t0)
            done.append((item, d, assessed, cases, profile_hits))
        return done

    def rows(self, done: list[tuple]) -> list[_Row]:
        """The model beside the rules (one vectorised call for everything given) and the rows to store and
        deliver. Declarations assessed by ``assess_rules`` in several slices are best given here together (a
        revision given twice is stored once: ``store`` keeps the first)."""
        index, context = self.registry.index, self.registry.context()
        now = datetime.now(UTC)
        today: dict[str, date] = {}
        # ---- learning: features of every line, the model's points beside the rules (one call per batch)
        learned: dict[tuple[str, int], list] = {}
        models = self.registry.models
        if models is not None:
            for f in models.apply(
                [(d, a) for _i, d, a, _c, _h in done], index, self.settings.fx_rates_to_cny, context.red_threshold_for
            ):
                learned.setdefault((f["declaration_id"], f["revision"]), []).append(f)
            done = [(i, d, a, with_model_reasons(c, a), h) for i, d, a, c, h in done]
        # ----
        rows = []
        for item, d, assessed, cases, profile_hits in done:
            platform = getattr(d, "platform", None)
            row = _Row(
                d.declaration_id,
                d.revision,
                assessed.__pydantic_serializer__.to_json(assessed),
                [c.model_dump(mode="json") for c in cases],
                lines=assessed.lines,
                office=d.customs_office,
                profile_hits=profile_hits,
                seller_key=seller_key(d),
                platform_id=platform.id if platform is not None else None,
                day=calendar_for(d.jurisdiction).local_date(d.submitted_at),
                assessed=assessed,
                features=learned.get((d.declaration_id, d.revision)),
            )
            row.quota_day = today.get(d.jurisdiction) or today.setdefault(d.jurisdiction, today_in(d.jurisdiction, now))
            if isinstance(item, ParcelConsignment):
                row.parcel = item.route
                row.parcel_event_id, row.parcel_json = result_envelope(parcel_result(assessed, item.route), now)
            rows.append(row)
        return rows

    async def store(self, rows: list[_Row]) -> list[_Row]:
        """Insert the fresh assessments; returns what is left to deliver (fresh and earlier undelivered rows)."""
        a = Assessment.__table__.c
        first: dict[tuple[str, int], _Row] = {}
        for r in rows:
            first.setdefault(r.key, r)
        rows = list(first.values())
        marks, self._marks = self._marks, []
        try:
            async with self.sessionmaker() as session, session.begin():
                if marks:
                    await self._mark(session, marks)
                inserted: set[tuple[str, int]] = set()
                if rows:
                    # One statement whatever the batch size (arrays unnested by PostgreSQL), so it is
                    # prepared once instead of once per distinct number of rows.
                    inserted = {
                        (x[0], x[1])
                        for x in (
                            await session.execute(
                                _INSERT_ASSESSMENTS,
                                {
                                    "dids": [r.declaration_id for r in rows],
                                    "revs": [r.revision for r in rows],
                                    "results": [r.result_json.decode() for r in rows],
                                    "cases": [orjson.dumps(r.case_inputs).decode() for r in rows],
                                    # A later revision without suspected lines may still withdraw lines of
                                    # earlier cases.
                                    "started": [not r.case_inputs and r.revision == 1 for r in rows],
                                    "at": datetime.now(UTC),
                                    "parcels": [orjson.dumps(r.parcel).decode() if r.parcel else None for r in rows],
                                },
                            )
                        ).all()
                    }
                await store_features(session, [f for r in rows if r.key in inserted for f in r.features or ()])
                hits: _Counter = _Counter()
                for r in rows:
                    if r.key in inserted and r.profile_hits:
                        hits.update(r.profile_hits)
                if hits:
                    t = TargetingProfile.__table__
                    assert isinstance(t, Table)  # a declarative model's table
                    await session.execute(
                        update(t)
                        .where(t.c.profile_id == bindparam("pid"))
                        .values(hits=t.c.hits + bindparam("n"), last_hit_at=func.now()),
                        [{"pid": pid, "n": n} for pid, n in hits.items()],
                    )
                fresh_rows = [r for r in rows if r.key in inserted]
                rewrites, quota_counts = await _draw_red_quota(session, fresh_rows)
                volume, campaign_hits = await _store_commerce(session, fresh_rows)
                lost = [r.key for r in rows if r.key not in inserted]
                stored: list[_Row] = []
                if lost:
                    # Assessed before (redelivery, or another replica was first): not assessed again; what was
                    # stored is delivered if it was not yet, or if intake published the revision again because
                    # the assessment never reached it (same event id: consumers that had it drop it).
                    again = {r.key for r in rows if r.republication}
                    for x in (
                        await session.execute(
                            select(
                                a.declaration_id, a.revision, a.result, a.case_inputs, a.published_at, a.parcel
                            ).where(tuple_(a.declaration_id, a.revision).in_(lost))
                        )
                    ).all():
                        if x.published_at is None or (x.declaration_id, x.revision) in again:
                            stored.append(
                                _Row(
                                    x.declaration_id, x.revision, orjson.dumps(x.result), x.case_inputs, parcel=x.parcel
                                )
                            )
        except BaseException:
            self._marks = marks + self._marks
            raise
        for r in rows:
            if r.key in rewrites:
                r.assessed, r.result_json, r.parcel_json = rewrites[r.key]
                r.lines = r.assessed.lines
        for outcome, n in quota_counts.items():
            RED_QUOTA_LINES.labels(outcome).inc(n)
        capacity = self.registry.capacity
        lanes: _Counter = _Counter()
        fresh = [r for r in rows if r.key in inserted]
        for r in fresh:
            for line in r.lines or ():
                lanes[(line.lane, "true" if line.suspected else "false")] += 1
                if capacity is not None:
                    capacity.observe(r.office or "", line.score)
        for (lane, suspected), n in lanes.items():
            LINES.labels(lane, suspected).inc(n)
        for pid, n in hits.items():
            PROFILE_HITS.labels(pid).inc(n)
        for cid, n in campaign_hits.items():
            CAMPAIGN_HITS.labels(cid).inc(n)
        self.registry.history.add_volume(volume)
        for r in fresh:
            if r.parcel is not None and r.lines:
                worst = max(r.lines, key=lambda ln: ("green", "yellow", "red").index(ln.lane))
                PARCELS_ASSESSED.labels(worst.lane, "true" if any(ln.suspected for ln in r.lines) else "false").inc()
        if any(r.case_inputs or r.revision > 1 for r in fresh) and self.case_starter is not None:
            self.case_starter.kick()
        return fresh + stored

    async def deliver(self, rows: list[_Row]) -> None:
        """Publish the assessments and await the broker's acknowledgements together."""
        futures = []
        occurred = datetime.now(UTC)
        for r in rows:
            if r.published:
                continue
            if r.parcel is not None:  # a parcel of a manifest: its result, keyed by the manifest id
                if r.parcel_json is None:
                    r.parcel_event_id, r.parcel_json = result_envelope(
                        parcel_result(RiskAssessedV1.model_validate_json(r.result_json), r.parcel), occurred
                    )
                futures.append(
                    await self.producer.send(
                        TOPIC_PARCEL_RESULTS,
                        value=r.parcel_json,
                        key=r.parcel["manifest_id"].encode(),
                        headers=[("event_id", (r.parcel_event_id or "").encode()), ("event_type", b"parcel.assessed")],
                    )
                )
                continue
            event_id = str(deterministic_event_id("assessment", r.declaration_id, r.revision))
            futures.append(
                await self.producer.send(
                    self.assessments_topic,
                    value=envelope_json(event_id, r.declaration_id, r.result_json, occurred),
                    key=r.declaration_id.encode(),
                    headers=[("event_id", event_id.encode()), ("event_type", b"risk.assessed")],
                )
            )
        if futures:
            await acknowledged(futures, service="risk", what="publishing assessments")
            n_parcels = sum(1 for r in rows if not r.published and r.parcel is not None)
            PRODUCED.labels("risk", self.assessments_topic).inc(len(futures) - n_parcels)
            if n_parcels:
                PRODUCED.labels("risk", TOPIC_PARCEL_RESULTS).inc(n_parcels)
        self._marks.extend(r.key for r in rows)

    async def flush_marks(self) -> None:
        marks, self._marks = self._marks, []
        if not marks:
            return
        try:
            async with self.sessionmaker() as session, session.begin():
                await self._mark(session, marks)
        except BaseException:
            self._marks = marks + self._marks
            raise

    @staticmethod
    async def _mark(session: AsyncSession, keys: list[tuple[str, int]]) -> None:
        await session.execute(
            _MARK_PUBLISHED,
            {"dids": [k[0] for k in keys], "revs": [k[1] for k in keys], "now": datetime.now(UTC)},
        )


_INSERT_ASSESSMENTS = text("""
    INSERT INTO assessments (declaration_id, revision, result, case_inputs, assessed_at, cases_started_at, parcel)
    SELECT t.did, t.rev, t.result::jsonb, t.cases::jsonb, CAST(:at AS timestamptz),
           CASE WHEN t.started THEN CAST(:at AS timestamptz) END, t.parcel::jsonb
    FROM unnest(CAST(:dids AS text[]), CAST(:revs AS integer[]), CAST(:results AS text[]),
                CAST(:cases AS text[]), CAST(:started AS boolean[]), CAST(:parcels AS text[]))
         AS t(did, rev, result, cases, started, parcel)
    ON CONFLICT DO NOTHING
    RETURNING declaration_id, revision
""")


_OPEN_QUOTA_DAYS = text("""
    INSERT INTO red_quota_days (customs_office, day, quota, granted, refused, last_grant)
    SELECT q.customs_office, k.day, q.per_day, 0, 0, 0
    FROM unnest(CAST(:offices AS text[]), CAST(:days AS date[])) AS k(office, day)
    JOIN red_quotas AS q ON q.customs_office = k.office
    ORDER BY k.office, k.day
    ON CONFLICT DO NOTHING
""")


# Every right-hand side reads the row as it was: what this draw got is what is left, up to what it asked for.
# The row stays locked to the transaction's end, so concurrent replicas draw one after the other.
_DRAW_RED_QUOTA = text("""
    UPDATE red_quota_days
    SET last_grant = GREATEST(0, LEAST(quota - granted, :n)),
        granted = granted + GREATEST(0, LEAST(quota - granted, :n)),
        refused = refused + :n - GREATEST(0, LEAST(quota - granted, :n))
    WHERE customs_office = :office AND day = :day
    RETURNING last_grant, quota
""")


_REWRITE_RESULTS = text("""
    UPDATE assessments AS a SET result = k.result::jsonb
    FROM unnest(CAST(:dids AS text[]), CAST(:revs AS integer[]), CAST(:results AS text[])) AS k(did, rev, result)
    WHERE a.declaration_id = k.did AND a.revision = k.rev
""")


_CASE_SELLERS = text("""
    INSERT INTO case_sellers (case_id, seller_key, platform_id)
    SELECT * FROM unnest(CAST(:cids AS text[]), CAST(:sellers AS text[]), CAST(:platforms AS text[]))
    ON CONFLICT DO NOTHING
""")


_PLATFORM_VOLUME = text("""
    INSERT INTO platform_volume (platform_id, consignments)
    SELECT * FROM unnest(CAST(:pids AS text[]), CAST(:ns AS bigint[]))
    ON CONFLICT (platform_id) DO UPDATE SET consignments = platform_volume.consignments + EXCLUDED.consignments
""")


_CAMPAIGN_HITS = text("""
    INSERT INTO campaign_hits (campaign_id, customs_office, day, consignments, lines, suspected_lines, cases)
    SELECT * FROM unnest(CAST(:cids AS text[]), CAST(:offices AS text[]), CAST(:days AS date[]),
                         CAST(:consignments AS bigint[]), CAST(:lines AS bigint[]), CAST(:suspected AS bigint[]),
                         CAST(:cases AS bigint[]))
    ON CONFLICT (campaign_id, customs_office, day) DO UPDATE SET
        consignments = campaign_hits.consignments + EXCLUDED.consignments,
        lines = campaign_hits.lines + EXCLUDED.lines,
        suspected_lines = campaign_hits.suspected_lines + EXCLUDED.suspected_lines,
        cases = campaign_hits.cases + EXCLUDED.cases
""")


def quota_lines(row: _Row) -> list:
    """The lines of a fresh assessment that are red on their score alone: they draw on the office's red quota
    (suspected lines are red whatever the quota; the random control sample is never cut short)."""
    return [ln for ln in row.lines or () if ln.lane == "red" and not ln.suspected and not ln.random_selection]


async def _draw_red_quota(
    session: AsyncSession, fresh: list[_Row]
) -> tuple[dict[tuple[str, int], tuple], dict[str, int]]:
    """Draw the batch's score-red lines on their offices' quotas of the day, in the batch's own transaction
    (only for assessments this transaction inserted, so a redelivered record never draws twice). Lines refused
    go to documentary check with the reason; their stored result is rewritten. Offices without a quota: no
    draw. Returns the rewritten rows (key -> assessment, result JSON, parcel envelope) and the counts."""
    wants: dict[tuple[str, date], list[tuple[_Row, int]]] = {}
    for r in fresh:
        if r.office and r.quota_day and r.assessed is not None:
            for ln in quota_lines(r):
                wants.setdefault((r.office, r.quota_day), []).append((r, ln.line_no))
    if not wants:
        return {}, {}
    keys = sorted(wants)  # one lock order for every replica: no deadlock between two batches
    await session.execute(_OPEN_QUOTA_DAYS, {"offices": [k[0] for k in keys], "days": [k[1] for k in keys]})
    refused: dict[tuple[str, int], dict[int, str]] = {}
    counts: _Counter = _Counter()
    for office, day in keys:
        asked = wants[(office, day)]
        drawn = (await session.execute(_DRAW_RED_QUOTA, {"office": office, "day": day, "n": len(asked)})).first()
        if drawn is None:  # no quota set for this office
            continue
        got, quota = drawn
        counts["granted"] += got
        counts["refused"] += len(asked) - got
        reason = (
            f"office {office} has used its red quota of {quota} lines for {day.isoformat()}, shared by "
            "every risk replica: documentary check instead"
        )
        for r, line_no in asked[got:]:
            refused.setdefault(r.key, {})[line_no] = reason
    if not refused:
        return {}, dict(counts)
    rewrites: dict[tuple[str, int], tuple] = {}
    now = datetime.now(UTC)
    for r in fresh:
        cut = refused.get(r.key)
        if not cut:
            continue
        assert r.assessed is not None  # only fresh assessments ask for a red lane
        lines = [
            ln.model_copy(update={"lane": "yellow", "reasons": [*ln.reasons, cut[ln.line_no]]})
            if ln.line_no in cut
            else ln
            for ln in r.assessed.lines
        ]
        assessed = r.assessed.model_copy(update={"lines": lines})
        parcel_json = r.parcel_json
        if r.parcel is not None:
            _eid, parcel_json = result_envelope(parcel_result(assessed, r.parcel), now)
        rewrites[r.key] = (assessed, assessed.__pydantic_serializer__.to_json(assessed), parcel_json)
    keys2 = list(rewrites)
    await session.execute(
        _REWRITE_RESULTS,
        {
            "dids": [k[0] for k in keys2],
            "revs": [k[1] for k in keys2],
            "results": [rewrites[k][1].decode() for k in keys2],
        },
    )
    return rewrites, dict(counts)


async def _store_commerce(session: AsyncSession, fresh: list[_Row]) -> tuple[dict[str, int], dict[str, int]]:
    """In the batch's transaction, one statement each: the seller and platform of each case opened, the
    consignments per platform, and what each campaign hit per office and day. Returns (platform volume,
    campaign line hits) for the in-memory counts, applied once the transaction committed."""
    sellers: list[tuple[str, str | None, str | None]] = []
    volume: _Counter = _Counter()
    campaigns: dict[tuple[str, str, date], list[int]] = {}
    line_hits: _Counter = _Counter()
    for r in fresh:
        if r.platform_id:
            volume[r.platform_id] += 1
        if (r.seller_key or r.platform_id) and r.case_inputs:
            sellers.extend((c["case_id"], r.seller_key, r.platform_id) for c in r.case_inputs)
        per: dict[str, list] = {}
        for ln in r.lines or ():
            for cid in ln.campaign_ids:
                acc = per.setdefault(cid, [0, 0, set()])
                acc[0] += 1
                acc[1] += 1 if ln.suspected else 0
                if ln.case_id:
                    acc[2].add(ln.case_id)
                line_hits[cid] += 1
        for cid, (n_lines, n_suspected, case_ids) in per.items():
            key = (cid, r.office or "", r.day or date.today())
            tot = campaigns.setdefault(key, [0, 0, 0, 0])
            tot[0] += 1
            tot[1] += n_lines
            tot[2] += n_suspected
            tot[3] += len(case_ids)
    if sellers:
        await session.execute(
            _CASE_SELLERS,
            {"cids": [x[0] for x in sellers], "sellers": [x[1] for x in sellers], "platforms": [x[2] for x in sellers]},
        )
    if volume:
        await session.execute(_PLATFORM_VOLUME, {"pids": list(volume), "ns": list(volume.values())})
    if campaigns:
        keys = list(campaigns)
        await session.execute(
            _CAMPAIGN_HITS,
            {
                "cids": [k[0] for k in keys],
                "offices": [k[1] for k in keys],
                "days": [k[2] for k in keys],
                "consignments": [campaigns[k][0] for k in keys],
                "lines": [campaigns[k][1] for k in keys],
                "suspected": [campaigns[k][2] for k in keys],
                "cases": [campaigns[k][3] for k in keys],
            },
        )
    return dict(volume), dict(line_hits)


_MARK_PUBLISHED = text("""
    UPDATE assessments AS a SET published_at = COALESCE(a.published_at, CAST(:now AS timestamptz))
    FROM unnest(CAST(:dids AS text[]), CAST(:revs AS integer[])) AS k(did, rev)
    WHERE a.declaration_id = k.did AND a.revision = k.rev
""")
