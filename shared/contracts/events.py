"""Event envelope and the payloads published on the platform's topics.

Every message the platform itself produces is an ``EventEnvelope``: ``event_id`` is the
dedupe key for consumers, the Kafka key is the aggregate id (declaration id, case id,
hold id) so one aggregate's events stay in order. Fields are only ever added, with
defaults; a breaking change makes a ``V2`` class and a ``.v2`` topic.

Case ids changed meaning (fields unchanged): a case is now one declaration and one rights holder,
``IPR-<declaration id>-<holder id>`` (``shared.contracts.cases.consignment_case_id``), covering
several lines; cases opened before keep their per-line ids ``IPR-<declaration id>-L<line>``.
``HoldEventV1`` and ``CaseEventV1`` therefore name their lines (``line_nos``, ``lines``); their
``line_no`` is the first line, as before for one-line cases.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.contracts.bounds import (
    CampaignId,
    CaseId,
    CorrelationId,
    DeclarationId,
    HolderId,
    HoldId,
    LineNo,
    Money,
    ProfileId,
    RecordationId,
    Revision,
    Seq,
    Timestamp,
    TraderId,
    Version,
)

# Topic names live in one place so producers and consumers cannot drift apart.
TOPIC_DECLARATIONS = "customs.declarations.v1"
TOPIC_DECLARATIONS_DLQ = "customs.declarations.v1.dlq"
TOPIC_ASSESSMENTS = "risk.assessments.v1"
TOPIC_HOLDS = "customs.holds.v1"
TOPIC_CASE_EVENTS = "cases.events.v1"
TOPIC_PARCELS = "customs.parcels.v1"  # one record per parcel of a manifest (shared/contracts/parcels.py)
TOPIC_PARCELS_DLQ = "customs.parcels.v1.dlq"
TOPIC_PARCEL_RESULTS = "customs.parcel-results.v1"  # one result per parcel, keyed by the manifest id
# Every consumed topic has a dead-letter topic beside it: ``<topic>.dlq``, one record per record that
# could not be applied, with the reason and the consumer that gave up on it.
DLQ_SUFFIX = ".dlq"
TOPIC_ASSESSMENTS_DLQ = TOPIC_ASSESSMENTS + DLQ_SUFFIX
TOPIC_CASE_EVENTS_DLQ = TOPIC_CASE_EVENTS + DLQ_SUFFIX
TOPIC_PARCEL_RESULTS_DLQ = TOPIC_PARCEL_RESULTS + DLQ_SUFFIX
ALL_TOPICS = (
    TOPIC_DECLARATIONS,
    TOPIC_DECLARATIONS_DLQ,
    TOPIC_ASSESSMENTS,
    TOPIC_HOLDS,
    TOPIC_CASE_EVENTS,
    TOPIC_PARCELS,
    TOPIC_PARCELS_DLQ,
    TOPIC_PARCEL_RESULTS,
    TOPIC_ASSESSMENTS_DLQ,
    TOPIC_CASE_EVENTS_DLQ,
    TOPIC_PARCEL_RESULTS_DLQ,
)


def dlq_topic_for(topic: str) -> str:
    """The dead-letter topic of a consumed topic."""
    return topic + DLQ_SUFFIX


# Namespace for deterministic event ids (uuid5), so a retried publish carries the same id.
EVENT_NAMESPACE = uuid.UUID("5b0f8f51-8a52-4f0e-9d8e-1c7b1b3f0a11")


def deterministic_event_id(*parts: object) -> uuid.UUID:
    """An event id that is the same every time the same fact is published."""
    return uuid.uuid5(EVENT_NAMESPACE, "|".join(str(p) for p in parts))


def utcnow() -> datetime:
    return datetime.now(UTC)


class _Tolerant(BaseModel):
    # Consumers parse tolerantly: a producer may add fields before a consumer knows them.
    model_config = ConfigDict(extra="ignore")


class EventEnvelope(_Tolerant):
    event_id: uuid.UUID
    event_type: str
    event_version: Version = 1
    occurred_at: Timestamp = Field(default_factory=utcnow)
    producer: str
    correlation_id: CorrelationId
    causation_id: CorrelationId | None = None
    payload: dict[str, Any]


class RiskHitV1(_Tolerant):
    recordation_id: RecordationId
    match: Literal["exact", "alias", "normalised", "fuzzy", "descriptive"]
    term: str
    reasons: list[str] = Field(default_factory=list)
    score: float | None = None
    where: str | None = None  # brand | model | description
    suspected: bool = False
    found: str | None = None  # the text as found (folded), e.g. '奈克' for the mark '耐克'
    # how it was found besides ``match``: alias, traditional, full_width, glued_latin, homophone (same pinyin),
    # lookalike (one look-alike character), pinyin (a Chinese mark written in pinyin), spaced_characters,
    # invisible_characters
    how: list[str] = Field(default_factory=list)


class ContributionV1(_Tolerant):
    """One signal's share of a line's score, with its reason."""

    signal: str
    points: float
    reason: str


class LineAssessmentV1(_Tolerant):
    line_no: LineNo
    suspected: bool
    score: float
    lane: Literal["green", "yellow", "red"]
    hits: list[RiskHitV1] = Field(default_factory=list)
    reasons: list[str] = Field(default_factory=list)
    case_id: CaseId | None = None
    contributions: list[ContributionV1] = Field(default_factory=list)
    profile_ids: list[ProfileId] = Field(default_factory=list)
    random_selection: bool = False
    campaign_ids: list[CampaignId] = Field(default_factory=list)  # targeting campaigns that matched the line


class RiskAssessedV1(_Tolerant):
    """Payload of ``risk.assessed`` on ``risk.assessments.v1``."""

    declaration_id: DeclarationId
    revision: Revision
    jurisdiction: str
    assessed_at: Timestamp
    lines: list[LineAssessmentV1]
    case_ids: list[CaseId] = Field(default_factory=list)


HoldStatus = Literal[
    "suspended",
    "detained",
    "released",
    "confiscated",
    "handed_to_court",
    "destroyed",
    "forfeited",
    "seized",
    "excluded",
]


class HoldLineV1(_Tolerant):
    """One declaration line under a hold and its status."""

    line_no: LineNo
    status: HoldStatus


class HoldEventV1(_Tolerant):
    """Payload of ``hold.placed`` / ``hold.detained`` / ``hold.released`` / ``hold.confiscated`` /
    ``hold.handed_to_court`` / ``hold.destroyed`` / ``hold.forfeited`` / ``hold.seized`` / ``hold.excluded`` on
    ``customs.holds.v1``: the instruction clearance systems act on.

    A hold covers every line of its case. ``line_nos`` are the lines this instruction is about (``status``
    applies to them; e.g. line 4 released while lines 1-3 stay detained), ``lines`` the status of every line
    of the hold afterwards. ``line_no`` is the first of ``line_nos``, for consumers that know one line per hold.
    """

    hold_id: HoldId
    case_id: CaseId
    declaration_id: DeclarationId
    line_no: LineNo
    customs_office: str
    status: HoldStatus
    reason: str
    at: Timestamp
    line_nos: list[LineNo] = Field(default_factory=list)
    lines: list[HoldLineV1] = Field(default_factory=list)


class CaseLineEventV1(_Tolerant):
    line_no: LineNo
    status: str
    moved_to: CaseId | None = None


class CaseEventV1(_Tolerant):
    """Payload of ``case.transition`` on ``cases.events.v1``: one state change of a case."""

    case_id: CaseId
    seq: Seq
    state: str
    event: str
    detail: dict[str, Any] = Field(default_factory=dict)
    at: Timestamp
    holder_id: HolderId | None = None
    declaration_id: DeclarationId | None = None
    line_no: LineNo | None = None
    consignor_id: TraderId | None = None
    consignee_id: TraderId | None = None
    goods_value: Money | None = None
    line_nos: list[LineNo] = Field(default_factory=list)  # the case's lines now (consignment cases)
    lines: list[CaseLineEventV1] = Field(default_factory=list)  # each line ever in the case, with its status
