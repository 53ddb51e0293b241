"""Use cases of parcel manifests: accept one as a stream, take parcels from the topic, keep per-parcel results.

A manifest sent by HTTP is read as it arrives (``ManifestStream``): the header is checked first, then
each parcel on its own; accepted parcels and rejections are written in batches in one transaction
(parcels, and their outbox records for ``customs.parcels.v1`` and ``customs.parcel-results.v1``), so
only a batch is ever held in memory. The same manifest again (same id, revision and content) answers
what it answered the first time; other content under the same id and revision is refused (409).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import orjson
from aiokafka import ConsumerRecord
from prometheus_client import Counter, Histogram
from pydantic import ValidationError
from sqlalchemy import Table, and_, func, or_, select, text, tuple_
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.intake import edge
from services.intake.manifest_stream import ManifestFormatError, ManifestStream
from services.intake.models import Base, DeclarationCase, Manifest, ManifestParcel, outbox
from shared.contracts.events import TOPIC_PARCEL_RESULTS, TOPIC_PARCELS, deterministic_event_id
from shared.contracts.parcels import (
    MANIFEST_ID_PATTERN,
    MAX_PARCELS,
    ManifestHeaderV1,
    ParcelRecordV1,
    ParcelResultV1,
    ParcelV1,
    Rejection,
    consignment_id,
    content_hash,
    parcel_problems,
    validation_details,
)
from shared.errors import DomainError, NotFound


def _table_of(entity: type[Base]) -> Table:
    """The Core table a mapped class is declared on (what a PostgreSQL INSERT ... ON CONFLICT is built on)."""
    table = entity.__table__
    assert isinstance(table, Table)  # each class of services.intake.models declares one table
    return table


MANIFEST_TABLE = _table_of(Manifest)
MANIFEST_PARCEL_TABLE = _table_of(ManifestParcel)

MANIFESTS = Counter("ipr_manifests_received_total", "Parcel manifests received", ["source", "outcome"])
PARCELS = Counter("ipr_parcels_received_total", "Parcels received", ["source", "outcome"])
MANIFEST_SECONDS = Histogram(
    "ipr_manifest_accept_seconds",
    "Time to read, check and store one manifest (HTTP)",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
BATCH = 500  # parcels written per statement


class ManifestRefused(DomainError):
    """The manifest as a whole cannot be accepted (nothing of it is stored): ``ManifestRefused(413, code,
    message, details)``."""


def unstorable(value: Any) -> bool:
    """True if ``value`` (parsed JSON) holds text no database column or message can carry (NUL, lone surrogates)."""
    if isinstance(value, str):
        if "\x00" in value:
            return True
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return True
        return False
    if isinstance(value, dict):
        return any(unstorable(k) or unstorable(v) for k, v in value.items())
    if isinstance(value, list):
        return any(unstorable(v) for v in value)
    return False


def _ahead(header: ManifestHeaderV1) -> str | None:
    """Why the manifest is dated too far ahead of intake's clock (the rule declarations follow), or None."""
    now = edge.clock.now()
    if header.submitted_at > now + edge.MAX_AHEAD:
        return (
            f"submitted_at {header.submitted_at.isoformat()} is more than a day ahead of the intake's clock "
            f"({now.isoformat(timespec='seconds')})"
        )
    return None


def _lock_key(manifest_id: str, revision: int) -> int:
    digest = hashlib.blake2b(f"manifest|{manifest_id}|{revision}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def _now() -> datetime:
    return datetime.now(UTC)


def rejected_result(
    header_id: str,
    revision: int,
    *,
    parcel_no: int | None,
    waybill_no: str | None,
    position: int | None,
    rejection: Rejection,
    at: datetime,
) -> dict:
    """The envelope of a ``parcel.rejected`` result (as stored in the outbox)."""
    result = ParcelResultV1(
        manifest_id=header_id,
        revision=revision,
        parcel_no=parcel_no,
        waybill_no=waybill_no,
        consignment_id=consignment_id(header_id, parcel_no) if parcel_no is not None else None,
        status="rejected",
        position=position,
        at=at,
        rejection=rejection,
    )
    ident = parcel_no if parcel_no is not None else f"pos{position}"
    event_id = deterministic_event_id("parcel-rejected", header_id, revision, ident, position)
    return {
        "event_id": str(event_id),
        "event_type": "parcel.rejected",
        "event_version": 1,
        "occurred_at": at.isoformat(),
        "producer": "intake",
        "correlation_id": header_id,
        "causation_id": None,
        "payload": result.model_dump(mode="json"),
    }


class _Writer:
    """Collects parcel rows and outbox rows and writes them in batches (one statement per table and batch)."""

    def __init__(self, session: AsyncSession, *, write: bool) -> None:
        self.session = session
        self.write = write
        self.parcels: list[dict] = []
        self.outbox: list[dict] = []

    async def add(self, parcel_row: dict | None, outbox_row: dict) -> None:
        if not self.write:
            return
        if parcel_row is not None:
            self.parcels.append(parcel_row)
        self.outbox.append(outbox_row)
        if len(self.outbox) >= BATCH:
            await self.flush()

    async def flush(self) -> None:
        if self.parcels:
            rows, self.parcels = self.parcels, []
            await self.session.execute(
                _INSERT_PARCELS,
                {
                    **{
                        k: [r[k] for r in rows]
                        for k in (
                            "manifest_id",
                            "revision",
                            "parcel_no",
                            "consignment_id",
                            "waybill_no",
                            "status",
                            "content_hash",
                        )
                    },
                    "payload": [_json_text(r["payload"]) for r in rows],
                    "rejection": [_json_text(r["rejection"]) for r in rows],
                    "at": rows[0]["received_at"],
                },
            )
        if self.outbox:
            rows, self.outbox = self.outbox, []
            await self.session.execute(
                _INSERT_OUTBOX,
                {
                    "event_id": [r["event_id"] for r in rows],
                    "topic": [r["topic"] for r in rows],
                    "key": [r["key"] for r in rows],
                    "envelope": [_json_text(r["envelope"]) for r in rows],
                },
            )


def _json_text(value: Any) -> str | None:
    """JSON text of a value, or of JSON already encoded (bytes)."""
    if value is None:
        return None
    if isinstance(value, bytes):
        return value.decode()
    return orjson.dumps(value).decode()


# One statement per batch whatever its size (arrays unnested by PostgreSQL), with JSON encoded once, in C.
_INSERT_PARCELS = text("""
    INSERT INTO manifest_parcels (manifest_id, revision, parcel_no, consignment_id, waybill_no, status, content_hash,
                                  payload, rejection, received_at)
    SELECT t.mid, t.rev, t.no, t.cid, t.waybill, t.status, t.hash, t.payload::jsonb, t.rejection::jsonb,
           CAST(:at AS timestamptz)
    FROM unnest(CAST(:manifest_id AS text[]), CAST(:revision AS integer[]), CAST(:parcel_no AS integer[]),
                CAST(:consignment_id AS text[]), CAST(:waybill_no AS text[]), CAST(:status AS text[]),
                CAST(:content_hash AS text[]), CAST(:payload AS text[]), CAST(:rejection AS text[]))
         AS t(mid, rev, no, cid, waybill, status, hash, payload, rejection)
    ON CONFLICT DO NOTHING
""")
_INSERT_OUTBOX = text("""
    INSERT INTO outbox (event_id, topic, key, envelope)
    SELECT t.event_id, t.topic, t.key, t.envelope::jsonb
    FROM unnest(CAST(:event_id AS text[]), CAST(:topic AS text[]), CAST(:key AS text[]), CAST(:envelope AS text[]))
         AS t(event_id, topic, key, envelope)
    ON CONFLICT DO NOTHING
""")


async def accept_http(session: AsyncSession, body: AsyncIterator[bytes]) -> tuple[int, dict]:
    """Read, check and store a manifest sent by HTTP; returns (status, answer). Raises ``ManifestRefused``."""
    started = _now()
    stream = ManifestStream()
    state: dict[str, Any] = {}
    try:
        async with session.begin():
            async for chunk in body:
                for kind, value in stream.feed(chunk):
                    await _on(session, state, kind, value)
            for kind, value in stream.close():
                await _on(session, state, kind, value)
            status, answer = await _finish(session, state)
    except ManifestFormatError as exc:
        MANIFESTS.labels("http", exc.code).inc()
        raise ManifestRefused(400 if exc.code == "malformed_json" else 422, exc.code, exc.message) from exc
    except ManifestRefused as exc:
        MANIFESTS.labels("http", exc.code).inc()
        raise
    MANIFEST_SECONDS.observe((_now() - started).total_seconds())
    return status, answer


async def _on(session: AsyncSession, state: dict, kind: str, value: Any) -> None:
    if kind == "header":
        await _header(session, state, value)
    elif kind == "parcel":
        await _parcel(state, value)
    elif kind == "end":
        state["ended"] = True


async def _header(session: AsyncSession, state: dict, raw: dict) -> None:
    count = raw.get("parcel_count")
    if isinstance(count, int) and not isinstance(count, bool) and count > MAX_PARCELS:
        raise ManifestRefused(
            413,
            "too_many_parcels",
            f"a manifest carries at most {MAX_PARCELS:,} parcels; this one declares {count:,}: "
            "split it into several manifests",
            {"limit": MAX_PARCELS, "parcel_count": count},
        )
    if unstorable(raw):
        raise ManifestRefused(422, "unstorable_text", "the header holds a NUL character or an unpaired surrogate")
    try:
        header = ManifestHeaderV1.model_validate(raw)
    except ValidationError as exc:
        details = validation_details(exc)
        code = (
            "unknown_jurisdiction"
            if any("unknown jurisdiction" in str(e["msg"]) for e in details)
            else "schema_violation"
        )
        raise ManifestRefused(422, code, "the manifest header does not match the contract", details) from exc
    ahead = _ahead(header)
    if ahead:
        raise ManifestRefused(
            422, "submitted_in_future", ahead, [{"loc": ["submitted_at"], "msg": ahead, "type": "submitted_in_future"}]
        )
    await session.execute(
        text("SELECT pg_advisory_xact_lock(:k)"), {"k": _lock_key(header.manifest_id, header.revision)}
    )
    existing = await session.get(Manifest, (header.manifest_id, header.revision))
    if existing is not None and existing.content_hash is None:
        raise ManifestRefused(
            409,
            "manifest_exists",
            f"manifest {header.manifest_id} revision {header.revision} arrived on the topic "
            "customs.parcels.v1; send a new revision",
        )
    header_json = header.model_dump(mode="json")
    state.update(
        header=header,
        header_json=header_json,
        header_bytes=header.__pydantic_serializer__.to_json(header),
        existing=existing,
        count=0,
        accepted=0,
        rejections=[],
        parcel_nos=set(),
        waybills=set(),
        digest=hashlib.sha256(content_hash(header).encode()),
        at=_now(),
        writer=_Writer(session, write=existing is None),
    )


def _reject(
    state: dict, position: int, raw: Any, code: str, message: str, details: Any = None, *, keep_row: bool = True
) -> tuple[dict | None, dict]:
    header: ManifestHeaderV1 = state["header"]
    no = raw.get("parcel_no") if isinstance(raw, dict) else None
    no = no if isinstance(no, int) and not isinstance(no, bool) and 1 <= no <= MAX_PARCELS else None
    waybill = raw.get("waybill_no") if isinstance(raw, dict) else None
    waybill = waybill[:40] if isinstance(waybill, str) and waybill and not unstorable(waybill) else None
    rejection = Rejection(code=code, message=message, details=details)
    entry = {"position": position, "parcel_no": no, "waybill_no": waybill, "code": code, "message": message}
    if details is not None:
        entry["details"] = details
    state["rejections"].append(entry)
    PARCELS.labels("http", "rejected").inc()
    stored_no = no if keep_row and no is not None and no not in state["parcel_nos"] else None
    if stored_no is not None:
        state["parcel_nos"].add(stored_no)
    envelope = rejected_result(
        header.manifest_id,
        header.revision,
        parcel_no=no,
        waybill_no=waybill,
        position=position,
        rejection=rejection,
        at=state["at"],
    )
    outbox_row = {
        "event_id": envelope["event_id"],
        "topic": TOPIC_PARCEL_RESULTS,
        "key": header.manifest_id,
        "envelope": envelope,
    }
    row = None
    if stored_no is not None:
        row = {
            "manifest_id": header.manifest_id,
            "revision": header.revision,
            "parcel_no": stored_no,
            "consignment_id": consignment_id(header.manifest_id, stored_no),
            "waybill_no": waybill,
            "status": "rejected",
            "content_hash": None,
            "payload": None,
            "rejection": rejection.model_dump(mode="json"),
            "received_at": state["at"],
        }
    return row, outbox_row


async def _parcel(state: dict, raw: Any) -> None:
    if "header" not in state:  # pragma: no cover - the stream gives the header first
        raise ManifestRefused(422, "schema_violation", "the manifest header is missing")
    state["count"] += 1
    position = state["count"]
    header: ManifestHeaderV1 = state["header"]
    if position > MAX_PARCELS:
        raise ManifestRefused(
            413,
            "too_many_parcels",
            f"a manifest carries at most {MAX_PARCELS:,} parcels; split it into several manifests",
            {"limit": MAX_PARCELS},
        )
    if position > header.parcel_count:
        raise ManifestRefused(
            422,
            "parcel_count_mismatch",
            f"parcel_count is {header.parcel_count} but the manifest has more parcels",
            {"parcel_count": header.parcel_count},
        )
    writer: _Writer = state["writer"]
    if unstorable(raw):
        state["digest"].update(hashlib.sha256(repr(raw).encode(errors="surrogatepass")).digest())
        await writer.add(
            *_reject(
                state, position, raw, "unstorable_text", "the parcel holds a NUL character or an unpaired surrogate"
            )
        )
        return
    if not isinstance(raw, dict):
        state["digest"].update(content_hash(raw).encode())
        await writer.add(*_reject(state, position, raw, "schema_violation", "a parcel must be a JSON object"))
        return
    try:
        parcel = ParcelV1.model_validate(raw)
    except ValidationError as exc:
        state["digest"].update(content_hash(raw).encode())
        await writer.add(
            *_reject(
                state,
                position,
                raw,
                "schema_violation",
                "the parcel does not match the contract",
                validation_details(exc),
            )
        )
        return
    digest = content_hash(parcel)
    state["digest"].update(digest.encode())
    if parcel.parcel_no in state["parcel_nos"]:
        await writer.add(
            *_reject(
                state,
                position,
                raw,
                "duplicate_parcel_no",
                f"parcel_no {parcel.parcel_no} appears earlier in the manifest",
                keep_row=False,
            )
        )
        return
    if parcel.waybill_no in state["waybills"]:
        await writer.add(
            *_reject(
                state,
                position,
                raw,
                "duplicate_waybill",
                f"waybill_no {parcel.waybill_no} appears earlier in the manifest",
            )
        )
        return
    problems = parcel_problems(header, parcel)
    if problems:
        await writer.add(
            *_reject(
                state,
                position,
                raw,
                problems[0][0],
                "; ".join(m for _, m in problems),
                [{"code": c, "msg": m} for c, m in problems],
            )
        )
        return
    state["parcel_nos"].add(parcel.parcel_no)
    state["waybills"].add(parcel.waybill_no)
    state["accepted"] += 1
    PARCELS.labels("http", "accepted").inc()
    payload = parcel.__pydantic_serializer__.to_json(parcel)  # encoded once, in C
    mid, rev = header.manifest_id, header.revision
    await writer.add(
        {
            "manifest_id": mid,
            "revision": rev,
            "parcel_no": parcel.parcel_no,
            "consignment_id": consignment_id(mid, parcel.parcel_no),
            "waybill_no": parcel.waybill_no,
            "status": "accepted",
            "content_hash": digest,
            "payload": payload,
            "rejection": None,
            "received_at": state["at"],
        },
        {
            "event_id": str(deterministic_event_id("parcel", mid, rev, parcel.parcel_no)),
            "topic": TOPIC_PARCELS,
            "key": mid,
            "envelope": b'{"manifest":' + state["header_bytes"] + b',"parcel":' + payload + b"}",
        },
    )


async def _finish(session: AsyncSession, state: dict) -> tuple[int, dict]:
    header: ManifestHeaderV1 = state["header"]
    if state["count"] != header.parcel_count:
        raise ManifestRefused(
            422,
            "parcel_count_mismatch",
            f"parcel_count is {header.parcel_count} but the manifest has {state['count']} parcels",
            {"parcel_count": header.parcel_count, "parcels": state["count"]},
        )
    digest = state["digest"].hexdigest()
    existing: Manifest | None = state["existing"]
    if existing is not None:
        if existing.content_hash != digest:
            MANIFESTS.labels("http", "conflict").inc()
            raise ManifestRefused(
                409,
                "manifest_conflict",
                f"manifest {header.manifest_id} revision {header.revision} was already received "
                "with different content; send a new revision",
            )
        MANIFESTS.labels("http", "duplicate").inc()
        return 202, existing.answer or {}
    await state["writer"].flush()
    answer = {
        "manifest_id": header.manifest_id,
        "revision": header.revision,
        "status": "received",
        "parcel_count": header.parcel_count,
        "accepted": state["accepted"],
        "rejected": len(state["rejections"]),
        "rejections": state["rejections"],
        "received_at": state["at"].isoformat(),
        "links": {"self": f"/v1/manifests/{header.manifest_id}?revision={header.revision}"},
    }
    inserted = (
        await session.execute(
            insert(MANIFEST_TABLE)
            .values(
                manifest_id=header.manifest_id,
                revision=header.revision,
                content_hash=digest,
                header=state["header_json"],
                jurisdiction=header.jurisdiction,
                customs_office=header.customs_office,
                parcel_count=header.parcel_count,
                source="http",
                received_at=state["at"],
                answer=answer,
            )
            .on_conflict_do_nothing()
            .returning(Manifest.manifest_id)
        )
    ).first()
    if inserted is None:  # the same id and revision arrived on the topic meanwhile
        raise ManifestRefused(
            409,
            "manifest_exists",
            f"manifest {header.manifest_id} revision {header.revision} "
            "arrived on the topic customs.parcels.v1; send a new revision",
        )
    MANIFESTS.labels("http", "accepted").inc()
    return 202, answer


# ---------------------------------------------------------------- the topic


class TopicParcel:
    """A record of ``customs.parcels.v1`` after parsing: a good parcel, a rejected one, or an unusable record."""

    __slots__ = ("record", "header", "parcel", "raw", "rejection", "dead_letter")

    def __init__(
        self,
        record: ConsumerRecord,
        header: ManifestHeaderV1 | None = None,
        parcel: ParcelV1 | None = None,
        raw: Any = None,
        rejection: Rejection | None = None,
        dead_letter: tuple[str, Any] | None = None,
    ) -> None:
        self.record = record
        self.header = header
        self.parcel = parcel
        self.raw = raw
        self.rejection = rejection
        self.dead_letter = dead_letter  # (reason, details) to dead-letter the record with

    @property
    def accepted(self) -> tuple[ManifestHeaderV1, ParcelV1] | None:
        """The header and parcel of a good record (one not rejected)."""
        if self.rejection is None and self.header is not None and self.parcel is not None:
            return self.header, self.parcel
        return None


def parse_topic_parcel(record: ConsumerRecord) -> TopicParcel:
    """Check one topic record against the contract (header, parcel, and the rules that need both)."""
    value = record.value or b""
    try:
        parsed = ParcelRecordV1.model_validate_json(value)
    except ValidationError as exc:
        details = validation_details(exc)
        kind = "malformed_json" if any(e["type"] == "json_invalid" for e in details) else "schema_violation"
        raw = None
        try:
            raw = orjson.loads(value)
        except orjson.JSONDecodeError:
            pass
        header = None  # a good header still names the manifest's office, whose officers may read the rejection
        if isinstance(raw, dict) and isinstance(raw.get("manifest"), dict) and not unstorable(raw["manifest"]):
            try:
                header = ManifestHeaderV1.model_validate(raw["manifest"])
            except ValidationError:
                pass
        return TopicParcel(
            record,
            header=header,
            raw=raw,
            rejection=Rejection(code=kind, message="the parcel record does not match the contract", details=details),
            dead_letter=(kind, details),
        )
    problems = parcel_problems(parsed.manifest, parsed.parcel)
    ahead = _ahead(parsed.manifest)
    if ahead:
        problems = [("submitted_in_future", ahead), *problems]
    if problems:
        details = [{"code": c, "msg": m} for c, m in problems]
        return TopicParcel(
            record,
            header=parsed.manifest,
            parcel=parsed.parcel,
            rejection=Rejection(code=problems[0][0], message="; ".join(m for _, m in problems), details=details),
            dead_letter=(problems[0][0], details),
        )
    return TopicParcel(record, header=parsed.manifest, parcel=parsed.parcel)


def _identity(tp: TopicParcel) -> tuple[str, int, int | None, str | None] | None:
    """(manifest id, revision, parcel no, waybill) of a record, as far as it can be read."""
    if tp.header is not None and tp.parcel is not None:
        return tp.header.manifest_id, tp.header.revision, tp.parcel.parcel_no, tp.parcel.waybill_no
    raw = tp.raw
    if not isinstance(raw, dict) or not isinstance(raw.get("manifest"), dict):
        return None
    parcel = raw.get("parcel")
    m, p = raw["manifest"], parcel if isinstance(parcel, dict) else {}
    mid, rev = m.get("manifest_id"), m.get("revision", 1)
    no = p.get("parcel_no")
    waybill = p.get("waybill_no")
    if not (isinstance(mid, str) and 3 <= len(mid) <= 48 and re.match(MANIFEST_ID_PATTERN, mid)):
        return None
    if not (isinstance(rev, int) and not isinstance(rev, bool) and 1 <= rev <= 999):
        return None
    no = no if isinstance(no, int) and not isinstance(no, bool) and 1 <= no <= MAX_PARCELS else None
    waybill = waybill[:40] if isinstance(waybill, str) and waybill and not unstorable(waybill) else None
    return mid, rev, no, waybill


async def apply_topic_parcels(session: AsyncSession, parcels: list[TopicParcel]) -> list[tuple]:
    """Store a batch of topic parcels in the caller's transaction (one statement per table).

    Good parcels are stored once (a record intake itself published, or a redelivery, changes nothing);
    rejected ones are stored with their reason and get a ``parcel.rejected`` result. Returns the records
    to dead-letter, each with its reason and details.
    """
    now = _now()
    dead: list[tuple] = []
    good = [accepted for tp in parcels if (accepted := tp.accepted) is not None]
    keys = list({(h.manifest_id, h.revision, p.parcel_no) for h, p in good})
    known: dict[tuple, str | None] = {}
    if keys:
        t = ManifestParcel.__table__.c
        for row in (
            await session.execute(
                select(t.manifest_id, t.revision, t.parcel_no, t.content_hash).where(
                    tuple_(t.manifest_id, t.revision, t.parcel_no).in_(keys)
                )
            )
        ).all():
            known[(row.manifest_id, row.revision, row.parcel_no)] = row.content_hash
    manifests: dict[tuple, dict] = {}
    parcel_rows: dict[tuple, dict] = {}
    outbox_rows: list[dict] = []
    for tp in parcels:
        accepted = tp.accepted
        if accepted is not None:
            h, p = accepted
            key = (h.manifest_id, h.revision, p.parcel_no)
            digest = content_hash(p)
            if key in known and known[key] is not None:
                if known[key] != digest:
                    dead.append(
                        (
                            tp.record,
                            "parcel_conflict",
                            f"parcel {p.parcel_no} of manifest {h.manifest_id} revision {h.revision} was "
                            "already received with different content; send a new revision",
                        )
                    )
                    PARCELS.labels("kafka", "conflict").inc()
                else:
                    PARCELS.labels("kafka", "duplicate").inc()
                continue
            if key in parcel_rows:
                if parcel_rows[key]["content_hash"] != digest:
                    dead.append(
                        (
                            tp.record,
                            "parcel_conflict",
                            f"parcel {p.parcel_no} of manifest {h.manifest_id} "
                            "appears twice in the batch with different content",
                        )
                    )
                continue
            manifests.setdefault((h.manifest_id, h.revision), _manifest_row(h, now))
            parcel_rows[key] = {
                "manifest_id": h.manifest_id,
                "revision": h.revision,
                "parcel_no": p.parcel_no,
                "consignment_id": consignment_id(h.manifest_id, p.parcel_no),
                "waybill_no": p.waybill_no,
                "status": "accepted",
                "content_hash": digest,
                "payload": p.model_dump(mode="json"),
                "rejection": None,
                "received_at": now,
            }
            PARCELS.labels("kafka", "accepted").inc()
            continue
        rejection = tp.rejection
        assert rejection is not None  # a record is either accepted or rejected
        ident = _identity(tp)
        reason, details = tp.dead_letter or (rejection.code, rejection.details)
        dead.append((tp.record, reason, details))
        PARCELS.labels("kafka", "rejected").inc()
        if ident is None:
            continue
        mid, rev, no, waybill = ident
        envelope = rejected_result(
            mid, rev, parcel_no=no, waybill_no=waybill, position=None, rejection=rejection, at=now
        )
        outbox_rows.append(
            {"event_id": envelope["event_id"], "topic": TOPIC_PARCEL_RESULTS, "key": mid, "envelope": envelope}
        )
        if no is not None and (mid, rev, no) not in parcel_rows:
            parcel_rows[(mid, rev, no)] = {
                "manifest_id": mid,
                "revision": rev,
                "parcel_no": no,
                "consignment_id": consignment_id(mid, no),
                "waybill_no": waybill,
                "status": "rejected",
                "content_hash": None,
                "payload": None,
                "rejection": rejection.model_dump(mode="json"),
                "received_at": now,
            }
        if tp.header is not None:
            manifests.setdefault((mid, rev), _manifest_row(tp.header, now))
    if manifests:
        await session.execute(insert(MANIFEST_TABLE).on_conflict_do_nothing(), list(manifests.values()))
    if parcel_rows:
        stmt = insert(MANIFEST_PARCEL_TABLE)
        # A result may have come first (risk reads the same topic): keep its assessment, add what was declared.
        stmt = stmt.on_conflict_do_update(
            index_elements=["manifest_id", "revision", "parcel_no"],
            set_={
                "payload": stmt.excluded.payload,
                "content_hash": stmt.excluded.content_hash,
                "waybill_no": stmt.excluded.waybill_no,
                "received_at": stmt.excluded.received_at,
                "rejection": stmt.excluded.rejection,
            },
            where=and_(ManifestParcel.__table__.c.payload.is_(None), ManifestParcel.__table__.c.rejection.is_(None)),
        )
        await session.execute(stmt, list(parcel_rows.values()))
    if outbox_rows:
        await session.execute(insert(outbox).on_conflict_do_nothing(), outbox_rows)
    return dead


def _manifest_row(h: ManifestHeaderV1, now: datetime) -> dict:
    return {
        "manifest_id": h.manifest_id,
        "revision": h.revision,
        "content_hash": None,
        "header": h.model_dump(mode="json"),
        "jurisdiction": h.jurisdiction,
        "customs_office": h.customs_office,
        "parcel_count": h.parcel_count,
        "source": "kafka",
        "received_at": now,
        "answer": None,
    }


async def apply_results(session: AsyncSession, results: list[ParcelResultV1]) -> int:
    """Keep each assessed parcel's result (one statement per batch; the latest result of a parcel wins)."""
    rows: dict[tuple, dict] = {}
    for r in results:
        if r.status != "assessed" or r.parcel_no is None:
            continue  # rejections are intake's own, stored when they were made
        rows[(r.manifest_id, r.revision, r.parcel_no)] = {
            "manifest_id": r.manifest_id,
            "revision": r.revision,
            "parcel_no": r.parcel_no,
            "consignment_id": r.consignment_id or consignment_id(r.manifest_id, r.parcel_no),
            "waybill_no": r.waybill_no,
            "status": "assessed",
            "lane": r.lane,
            "suspected": r.suspected,
            "case_ids": r.case_ids,
            "result": r.model_dump(mode="json"),
            "assessed_at": r.at,
        }
    if not rows:
        return 0
    stmt = insert(MANIFEST_PARCEL_TABLE)
    stmt = stmt.on_conflict_do_update(
        index_elements=["manifest_id", "revision", "parcel_no"],
        set_={
            "status": "assessed",
            "lane": stmt.excluded.lane,
            "suspected": stmt.excluded.suspected,
            "case_ids": stmt.excluded.case_ids,
            "result": stmt.excluded.result,
            "assessed_at": stmt.excluded.assessed_at,
        },
    )
    await session.execute(stmt, list(rows.values()))
    return len(rows)


# ---------------------------------------------------------------- reading


def _parcel_view(p: ManifestParcel, cases: dict[str, list[dict]]) -> dict:
    result = p.result or {}
    return {
        "parcel_no": p.parcel_no,
        "waybill_no": p.waybill_no,
        "consignment_id": p.consignment_id,
        "status": p.status,
        "lane": p.lane,
        "suspected": p.suspected,
        "score": result.get("score"),
        "case_ids": p.case_ids or [],
        "cases": cases.get(p.consignment_id, []),
        "rejection": p.rejection,
        "assessed_at": p.assessed_at.isoformat() if p.assessed_at else None,
    }


async def _cases_of(session: AsyncSession, consignment_ids: list[str]) -> dict[str, list[dict]]:
    if not consignment_ids:
        return {}
    out: dict[str, list[dict]] = {}
    for c in (
        await session.execute(
            select(DeclarationCase)
            .where(DeclarationCase.declaration_id.in_(consignment_ids))
            .order_by(DeclarationCase.case_id)
        )
    ).scalars():
        out.setdefault(c.declaration_id, []).append({"case_id": c.case_id, "state": c.state})
    return out


async def view(
    session: AsyncSession,
    *,
    manifest_id: str,
    revision: int | None,
    status: str | None,
    lane: str | None,
    suspected: bool | None,
    after: int,
    limit: int,
) -> dict:
    """A manifest with its counts and one page of its parcels' results."""
    t = ManifestParcel.__table__.c
    # A revision counts once intake received one of its records: risk's results of a parcel can be kept before
    # intake read the parcel (both read the topic), and until then nothing says whose office the manifest is.
    revisions = sorted(
        {
            *(await session.execute(select(Manifest.revision).where(Manifest.manifest_id == manifest_id))).scalars(),
            *(
                await session.execute(
                    select(t.revision)
                    .where(t.manifest_id == manifest_id, or_(t.payload.is_not(None), t.rejection.is_not(None)))
                    .distinct()
                )
            ).scalars(),
        }
    )
    if not revisions:
        raise NotFound("manifest_not_found", f"no manifest {manifest_id}")
    rev = revisions[-1] if revision is None else revision
    if rev not in revisions:
        raise NotFound("revision_not_found", f"manifest {manifest_id} has no revision {rev}")
    m = await session.get(Manifest, (manifest_id, rev))
    where = [t.manifest_id == manifest_id, t.revision == rev]
    counts = {
        r.status: r.n
        for r in (
            await session.execute(select(t.status, func.count().label("n")).where(*where).group_by(t.status))
        ).all()
    }
    lanes = {
        r.lane: r.n
        for r in (
            await session.execute(
                select(t.lane, func.count().label("n")).where(*where, t.lane.is_not(None)).group_by(t.lane)
            )
        ).all()
    }
    n_suspected = (await session.execute(select(func.count()).where(*where, t.suspected.is_(True)))).scalar_one()
    stmt = select(ManifestParcel).where(*where, ManifestParcel.parcel_no > after)
    if status:
        stmt = stmt.where(ManifestParcel.status == status)
    if lane:
        stmt = stmt.where(ManifestParcel.lane == lane)
    if suspected is not None:
        stmt = stmt.where(ManifestParcel.suspected.is_(suspected))
    page = list((await session.execute(stmt.order_by(ManifestParcel.parcel_no).limit(limit))).scalars())
    cases = await _cases_of(session, [p.consignment_id for p in page])
    received = sum(counts.values())
    header = m.header if m else None
    return {
        "manifest_id": manifest_id,
        "revision": rev,
        "revisions": revisions,
        "source": m.source if m else None,
        "received_at": m.received_at.isoformat() if m else None,
        "parcel_count": m.parcel_count if m else None,
        "status": "assessed" if m and counts.get("accepted", 0) == 0 and received >= m.parcel_count else "received",
        "counts": {
            "received": received,
            "accepted_waiting": counts.get("accepted", 0),
            "assessed": counts.get("assessed", 0),
            "rejected": counts.get("rejected", 0),
            "suspected": n_suspected,
            "lanes": {k: lanes.get(k, 0) for k in ("green", "yellow", "red")},
        },
        "header": header,
        "parcels": [_parcel_view(p, cases) for p in page],
        "next_after": page[-1].parcel_no if len(page) == limit else None,
    }


async def parcel_view(session: AsyncSession, *, manifest_id: str, parcel_no: int, revision: int | None) -> dict:
    """One parcel: what was declared, why it was rejected or how it was assessed, and its cases."""
    stmt = select(ManifestParcel).where(
        ManifestParcel.manifest_id == manifest_id, ManifestParcel.parcel_no == parcel_no
    )
    if revision is not None:
        stmt = stmt.where(ManifestParcel.revision == revision)
    p = (await session.execute(stmt.order_by(ManifestParcel.revision.desc()).limit(1))).scalars().first()
    if p is None:
        raise NotFound("parcel_not_found", f"manifest {manifest_id} has no parcel {parcel_no}")
    m = await session.get(Manifest, (p.manifest_id, p.revision))
    if m is None and p.payload is None and p.rejection is None:  # only risk's result so far (see view)
        raise NotFound("parcel_not_found", f"manifest {manifest_id} has no parcel {parcel_no} yet")
    cases = await _cases_of(session, [p.consignment_id])
    return {
        **_parcel_view(p, cases),
        "manifest_id": p.manifest_id,
        "revision": p.revision,
        "customs_office": m.customs_office if m else None,
        "declared": p.payload,
        "result": p.result,
        "received_at": p.received_at.isoformat() if p.received_at else None,
    }
