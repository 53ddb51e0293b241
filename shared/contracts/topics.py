"""The platform's topics as published contracts: key, value, event types, who publishes and who reads.

This catalogue is what ``make contracts`` turns into JSON Schema files and the AsyncAPI document
(``contracts/``). Each topic's contract has a semantic version whose major number is the topic's own
``.vN`` suffix: a compatible change (a new optional field) raises the minor version; a breaking change
(a removed or retyped field, a new required field, a narrower type, a new meaning of a field) needs
a new topic ``<name>.v(N+1)`` with major version N+1.

Every record the platform publishes carries the CloudEvents attributes as Kafka headers, in the binary
content mode of the CloudEvents Kafka protocol binding: ``ce_specversion``, ``ce_id``, ``ce_source``,
``ce_type``, ``ce_time`` and ``content-type``; the record value is the event data. Readers treat the
headers as optional (a clearance system may publish declarations without them) and identify events by
the value's own ids.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, create_model

from shared.contracts.bounds import CaseId, Count, DeclarationId, ManifestId, Timestamp
from shared.contracts.declaration import DeclarationV1
from shared.contracts.events import (
    TOPIC_ASSESSMENTS,
    TOPIC_ASSESSMENTS_DLQ,
    TOPIC_CASE_EVENTS,
    TOPIC_CASE_EVENTS_DLQ,
    TOPIC_DECLARATIONS,
    TOPIC_DECLARATIONS_DLQ,
    TOPIC_HOLDS,
    TOPIC_PARCEL_RESULTS,
    TOPIC_PARCEL_RESULTS_DLQ,
    TOPIC_PARCELS,
    TOPIC_PARCELS_DLQ,
    CaseEventV1,
    EventEnvelope,
    HoldEventV1,
    RiskAssessedV1,
)
from shared.contracts.parcels import ParcelRecordV1, ParcelResultV1

# ------------------------------------------------------------------ CloudEvents (Kafka binding, binary mode)

CE_SPECVERSION = "1.0"
CE_CONTENT_TYPE = "application/json"
CE_HEADERS = ("ce_specversion", "ce_id", "ce_source", "ce_type", "ce_time", "content-type")
# Older headers, kept for readers that use them: the same values as ``ce_id`` and ``ce_type``.
LEGACY_HEADERS = ("event_id", "event_type")

KafkaHeaders = list[tuple[str, bytes]]
# A partition's offsets stay far below this in any real cluster (a trillion records).
KAFKA_OFFSET_MAX = 10**12 - 1


def ce_source(service: str) -> str:
    """The CloudEvents ``source`` of a platform service (a URI reference)."""
    return f"urn:ipr:service:{service}"


def _rfc3339(value: datetime | str) -> str:
    return value if isinstance(value, str) else value.isoformat()


def cloudevent_headers(
    *, event_id: str, event_type: str, source: str, time: datetime | str, content_type: str = CE_CONTENT_TYPE
) -> KafkaHeaders:
    """The Kafka headers of one event: the CloudEvents attributes and the older ``event_id``/``event_type``."""
    return [
        ("ce_specversion", CE_SPECVERSION.encode()),
        ("ce_id", event_id.encode()),
        ("ce_source", source.encode()),
        ("ce_type", event_type.encode()),
        ("ce_time", _rfc3339(time).encode()),
        ("content-type", content_type.encode()),
        ("event_id", event_id.encode()),
        ("event_type", event_type.encode()),
    ]


def with_cloudevent_headers(headers: KafkaHeaders | None, *, source: str, time: datetime) -> KafkaHeaders | None:
    """``headers`` completed with the CloudEvents attributes when they lack them but name the event
    (``event_id`` and ``event_type``); otherwise unchanged."""
    if not headers:
        return headers
    present = {name: value for name, value in headers}
    if "ce_id" in present or "event_id" not in present or "event_type" not in present:
        return headers
    added = cloudevent_headers(
        event_id=present["event_id"].decode(errors="replace"),
        event_type=present["event_type"].decode(errors="replace"),
        source=source,
        time=time,
    )
    return list(headers) + [(name, value) for name, value in added if name not in present]


def read_cloudevent(headers: Any) -> dict[str, str] | None:
    """The CloudEvents attributes of a consumed record (``ConsumerRecord.headers``), or None when it has none.

    Tolerant: records without the headers (published by an older producer or by a partner) are usual,
    unknown headers are ignored, and values that are not UTF-8 are replaced rather than refused."""
    found: dict[str, str] = {}
    for item in headers or ():
        try:
            name, value = item
        except (TypeError, ValueError):
            continue
        if isinstance(name, str) and name in CE_HEADERS and isinstance(value, bytes | bytearray):
            found[name.removeprefix("ce_")] = bytes(value).decode(errors="replace")
    return found if "id" in found else None


# ------------------------------------------------------------------ record values without a model elsewhere


class _Tolerant(BaseModel):
    model_config = ConfigDict(extra="ignore")


class DeadLetterSourceV1(_Tolerant):
    topic: str
    partition: Count
    offset: int = Field(ge=0, le=KAFKA_OFFSET_MAX)


class DeadLetterV1(_Tolerant):
    """Value of a record on ``customs.declarations.v1.dlq``: a record that could not be used, and why."""

    reason: str = Field(
        description="machine-readable reason: malformed_json, schema_violation, revision_conflict, "
        "or 'failed after N attempts: ...'"
    )
    details: Any = Field(default=None, description="what was wrong, e.g. the list of violated fields")
    source: DeadLetterSourceV1 = Field(description="where the record was read")
    key: str | None = Field(default=None, description="the record's key as text")
    consumer: str = Field(description="service/consumer group that refused the record")
    dead_lettered_at: Timestamp
    raw: str = Field(description="the record's value as text (at most 100,000 characters)")
    cloudevent: dict[str, str] | None = Field(
        default=None, description="the refused record's CloudEvents attributes (id, source, type, ...), if it had any"
    )


def _typed_envelope(name: str, payload: type[BaseModel], event_type: Any, doc: str) -> type[EventEnvelope]:
    """``EventEnvelope`` with its payload and event type narrowed to one topic's (for the published schema)."""
    model: type[EventEnvelope] = create_model(
        name,
        __base__=EventEnvelope,
        __doc__=doc,
        event_type=(event_type, Field(description="the event's type; the same as the ce_type header")),
        payload=(payload, ...),
    )
    return model


HOLD_EVENT_TYPES = (
    "hold.placed",
    "hold.detained",
    "hold.released",
    "hold.confiscated",
    "hold.handed_to_court",
    "hold.destroyed",
    "hold.forfeited",
)
CASE_EVENT_TYPE_PATTERN = r"^case\.[a-z][a-z0-9_]*$"

RiskAssessedEnvelopeV1 = _typed_envelope(
    "RiskAssessedEnvelopeV1",
    RiskAssessedV1,
    Literal["risk.assessed"],
    "A declaration revision's risk assessment, line by line, with the cases it opened.",
)
HoldEnvelopeV1 = _typed_envelope(
    "HoldEnvelopeV1",
    HoldEventV1,
    Literal[HOLD_EVENT_TYPES],
    "An instruction for clearance systems about one declaration line: suspend, detain, release, confiscate, "
    "hand to court, destroy or forfeit the goods.",
)
ParcelResultEnvelopeV1 = _typed_envelope(
    "ParcelResultEnvelopeV1",
    ParcelResultV1,
    Literal["parcel.assessed", "parcel.rejected"],
    "The result of one parcel of a manifest: its assessment (lane, score, cases) or why it was rejected.",
)
CaseEventEnvelopeV1 = _typed_envelope(
    "CaseEventEnvelopeV1", CaseEventV1, str, "One state change of a case (``case.<event>``), in order per case."
)


# ------------------------------------------------------------------ the catalogue


@dataclass(frozen=True)
class TopicContract:
    topic: str
    version: str  # semantic version of the contract; the major number is the topic's .vN
    title: str
    description: str
    key: Any  # a type whose JSON Schema is the record key's (keys are UTF-8 text)
    key_description: str
    value: type[BaseModel]
    ce_types: tuple[str, ...]  # the event types (ce_type) of its records
    publishers: tuple[str, ...]  # services of the platform, or outside parties in parentheses
    consumers: tuple[str, ...]
    ce_type_pattern: str | None = None  # when the set of types is open (one per case event)
    headers_required: bool = True  # False where partners publish too (their records may lack the headers)
    # "serialization": the records exactly as the platform writes them; "validation": everything the platform
    # accepts (topics that partners publish to, e.g. amounts as numbers or as text)
    schema_mode: Literal["validation", "serialization"] = "serialization"

    @property
    def major(self) -> int:
        return int(self.version.split(".", 1)[0])

    @property
    def topic_major(self) -> int:
        """The N of the topic name's ``.vN``."""
        for part in reversed(self.topic.split(".")):
            if part.startswith("v") and part[1:].isdigit():
                return int(part[1:])
        raise ValueError(f"topic {self.topic} has no .vN version")

    def key_schema(self) -> dict[str, Any]:
        schema: dict[str, Any] = TypeAdapter(self.key).json_schema()
        return {"description": self.key_description, **schema}

    def value_schema(self) -> dict[str, Any]:
        return self.value.model_json_schema(mode=self.schema_mode)


TOPICS: tuple[TopicContract, ...] = (
    TopicContract(
        topic=TOPIC_DECLARATIONS,
        # 1.1: e-commerce fields (platform, seller, order, waybill, mode), declared IP status; 1.2: parties' contact
        # e-mail (where their notices are sent)
        version="1.2.0",
        title="Customs declarations",
        description="Declarations as clearance systems send them, one record per declaration revision. Clearance "
        "systems may publish here directly; declarations received over HTTP are published by intake.",
        key=DeclarationId,
        key_description="the declaration id",
        value=DeclarationV1,
        ce_types=("declaration.submitted",),
        publishers=("intake", "(clearance systems)"),
        consumers=("intake", "risk"),
        headers_required=False,
        schema_mode="validation",
    ),
    TopicContract(
        topic=TOPIC_DECLARATIONS_DLQ,
        version="1.0.0",
        title="Refused declaration records",
        description="Records of customs.declarations.v1 that could not be used, with the reason; nothing is "
        "dropped silently.",
        key=str | None,
        key_description="the refused record's key, unchanged",
        value=DeadLetterV1,
        ce_types=("declaration.dead_lettered",),
        publishers=("intake",),
        consumers=("(operations)",),
    ),
    TopicContract(
        topic=TOPIC_ASSESSMENTS,
        version="1.1.0",  # 1.1: parcels (consignment of a manifest), campaign hits, red-quota reasons
        title="Risk assessments",
        description="The risk service's assessment of every declaration revision: each line's lane, score, "
        "hits and reasons, and the cases opened.",
        key=DeclarationId,
        key_description="the declaration id",
        value=RiskAssessedEnvelopeV1,
        ce_types=("risk.assessed",),
        publishers=("risk",),
        consumers=("intake",),
    ),
    TopicContract(
        topic=TOPIC_HOLDS,
        version="1.1.0",  # 1.1: a hold covers every line of its case (line_nos, lines); seized, excluded (US)
        title="Holds on declaration lines",
        description="What clearance systems must do with a declaration line's goods: the instruction of the "
        "holds service, in order per declaration.",
        key=DeclarationId,
        key_description="the declaration id (all holds of a declaration in order)",
        value=HoldEnvelopeV1,
        ce_types=HOLD_EVENT_TYPES,
        publishers=("holds",),
        consumers=("(clearance systems)",),
    ),
    TopicContract(
        topic=TOPIC_CASE_EVENTS,
        version="1.1.0",  # 1.1: the lines of a consignment case (line_nos, lines)
        title="Case events",
        description="Every state change of every case, in order per case, with the parties and goods value.",
        key=CaseId,
        key_description="the case id",
        value=CaseEventEnvelopeV1,
        ce_types=(),
        ce_type_pattern=CASE_EVENT_TYPE_PATTERN,
        publishers=("cases",),
        consumers=("intake", "risk"),
    ),
    TopicContract(
        topic=TOPIC_PARCELS,
        version="1.1.0",  # 1.1: parties of a parcel may carry a contact e-mail (declarations 1.2)
        title="Parcels of manifests",
        description="Cross-border e-commerce, postal and express parcels: one record per parcel with its "
        "manifest's header. Carriers and platforms may publish here directly; manifests received over HTTP are "
        "published by intake. Each parcel is a consignment.",
        key=ManifestId,
        key_description="the manifest id (all parcels of a manifest on one partition)",
        value=ParcelRecordV1,
        ce_types=("parcel.submitted",),
        publishers=("intake", "(carriers and platforms)"),
        consumers=("intake", "risk"),
        headers_required=False,
        schema_mode="validation",
    ),
    TopicContract(
        topic=TOPIC_PARCELS_DLQ,
        version="1.0.0",
        title="Refused parcel records",
        description="Records of customs.parcels.v1 that could not be used, with the reason.",
        key=str | None,
        key_description="the refused record's key, unchanged",
        value=DeadLetterV1,
        ce_types=("parcel.dead_lettered",),
        publishers=("intake", "risk"),
        consumers=("(operations)",),
    ),
    TopicContract(
        topic=TOPIC_PARCEL_RESULTS,
        version="1.0.0",
        title="Per-parcel results",
        description="For each parcel of a manifest, its assessment or the reason it was rejected, for the "
        "clearance systems, carriers and platforms.",
        key=ManifestId,
        key_description="the manifest id",
        value=ParcelResultEnvelopeV1,
        ce_types=("parcel.assessed", "parcel.rejected"),
        publishers=("intake", "risk"),
        consumers=("intake", "(clearance systems)"),
    ),
    TopicContract(
        topic=TOPIC_ASSESSMENTS_DLQ,
        version="1.0.0",
        title="Refused risk.assessments.v1 records",
        description="Records of risk.assessments.v1 that a consumer could not apply, "
        "with the reason and the consumer that gave up on them.",
        key=str | None,
        key_description="the refused record's key, unchanged",
        value=DeadLetterV1,
        ce_types=("assessment.dead_lettered",),
        publishers=("intake",),
        consumers=("(operations)",),
    ),
    TopicContract(
        topic=TOPIC_CASE_EVENTS_DLQ,
        version="1.0.0",
        title="Refused cases.events.v1 records",
        description="Records of cases.events.v1 that a consumer could not apply, "
        "with the reason and the consumer that gave up on them.",
        key=str | None,
        key_description="the refused record's key, unchanged",
        value=DeadLetterV1,
        ce_types=("case_event.dead_lettered",),
        publishers=("intake", "risk"),
        consumers=("(operations)",),
    ),
    TopicContract(
        topic=TOPIC_PARCEL_RESULTS_DLQ,
        version="1.0.0",
        title="Refused customs.parcel-results.v1 records",
        description="Records of customs.parcel-results.v1 that a consumer could not apply, "
        "with the reason and the consumer that gave up on them.",
        key=str | None,
        key_description="the refused record's key, unchanged",
        value=DeadLetterV1,
        ce_types=("parcel_result.dead_lettered",),
        publishers=("intake",),
        consumers=("(operations)",),
    ),
)


def topic_contract(topic: str) -> TopicContract:
    for contract in TOPICS:
        if contract.topic == topic:
            return contract
    raise KeyError(f"no published contract for topic {topic!r}")


def default_ce_type(topic: str) -> str:
    """The event type of a topic's records when the value does not name one (a contract published as-is):
    the topic's single event type, else the topic's name."""
    for contract in TOPICS:
        if contract.topic == topic and len(contract.ce_types) == 1:
            return contract.ce_types[0]
    return topic
