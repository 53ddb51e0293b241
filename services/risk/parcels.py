"""Parcels of manifests on the risk path: each parcel is assessed as the declaration it stands for.

A record of ``customs.parcels.v1`` becomes a ``ParcelConsignment``: the parcel as a declaration
(``shared.contracts.parcels.to_declaration``) and where its result goes. It goes through the same
assessment pipeline as a declaration (stored once per parcel and revision, its cases opened per
rights holder by the case starter), and its result is published per parcel on
``customs.parcel-results.v1``, keyed by the manifest id, instead of on ``risk.assessments.v1``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

import orjson
from aiokafka import ConsumerRecord
from prometheus_client import Counter
from pydantic import ValidationError

from shared.contracts.declaration import DeclarationV1
from shared.contracts.events import RiskAssessedV1, deterministic_event_id
from shared.contracts.parcels import ParcelRecordV1, ParcelResultV1, parcel_problems, to_declaration

log = logging.getLogger(__name__)
SKIPPED = Counter(
    "ipr_risk_skipped_parcels_total",
    "Records on the parcels topic that are not valid parcels (intake rejects them with the reason)",
)
LANE_ORDER = {"green": 0, "yellow": 1, "red": 2}


@dataclass(frozen=True)
class ParcelConsignment:
    declaration: DeclarationV1
    manifest_id: str
    parcel_no: int
    waybill_no: str

    @property
    def route(self) -> dict:
        return {"manifest_id": self.manifest_id, "parcel_no": self.parcel_no, "waybill_no": self.waybill_no}


def parse_parcel(record: ConsumerRecord) -> ParcelConsignment | None:
    """The consignment of a parcel record, or None if the record breaks the contract (intake rejects it)."""
    try:
        parsed = ParcelRecordV1.model_validate_json(record.value or b"")
    except ValidationError:
        SKIPPED.inc()
        log.info("skipping invalid parcel record at %s/%s (intake rejects it)", record.partition, record.offset)
        return None
    if parcel_problems(parsed.manifest, parsed.parcel):
        SKIPPED.inc()
        return None
    return ParcelConsignment(
        declaration=to_declaration(parsed.manifest, parsed.parcel),
        manifest_id=parsed.manifest.manifest_id,
        parcel_no=parsed.parcel.parcel_no,
        waybill_no=parsed.parcel.waybill_no,
    )


def parcel_result(assessed: RiskAssessedV1, route: dict) -> ParcelResultV1:
    """The per-parcel result of a parcel's assessment."""
    lines = assessed.lines
    lane = max((ln.lane for ln in lines), key=LANE_ORDER.__getitem__) if lines else "green"
    return ParcelResultV1(
        manifest_id=route["manifest_id"],
        revision=assessed.revision,
        parcel_no=route["parcel_no"],
        waybill_no=route.get("waybill_no"),
        consignment_id=assessed.declaration_id,
        status="assessed",
        at=assessed.assessed_at,
        lane=lane,
        suspected=any(ln.suspected for ln in lines),
        score=max((ln.score for ln in lines), default=0.0),
        case_ids=assessed.case_ids,
        lines=lines,
    )


def result_envelope(result: ParcelResultV1, occurred_at: datetime) -> tuple[str, bytes]:
    """(event id, ``parcel.assessed`` envelope) of a result: the same event id on every redelivery."""
    event_id = str(deterministic_event_id("parcel-assessed", result.manifest_id, result.revision, result.parcel_no))
    head = orjson.dumps(
        {
            "event_id": event_id,
            "event_type": "parcel.assessed",
            "event_version": 1,
            "occurred_at": occurred_at.isoformat(),
            "producer": "risk",
            "correlation_id": result.manifest_id,
            "causation_id": result.consignment_id,
        }
    )
    return event_id, head[:-1] + b',"payload":' + result.__pydantic_serializer__.to_json(result) + b"}"
