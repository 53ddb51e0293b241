"""What the intake service answers at its HTTP edge: a declaration accepted, a declaration with its lines' assessment,
cases and history; a parcel manifest accepted (with the parcels it rejected), a manifest's page of parcel results,
and one parcel. The declaration, manifest header, parcel and result inside are the published contracts, as received."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.contracts.bounds import CaseId, Count, DeclarationId, LineNo, ManifestId, Revision, Timestamp
from shared.contracts.events import RiskHitV1
from shared.contracts.parcels import MAX_PARCELS, ManifestHeaderV1, ParcelNo, ParcelResultV1, Rejection

Lane = Literal["green", "yellow", "red"]


def _as_received(**fields: str) -> ConfigDict:
    """A model whose ``fields`` hold what a clearance system sent, answered as stored: documented with the request
    bodies' own schemas (``DeclarationV1`` is the body of POST /v1/declarations, ``ParcelV1`` a parcel of POST
    /v1/manifests), so a generated client has one class for each, and never validated again on the way out."""

    def document(schema: dict[str, Any]) -> None:
        for name, model in fields.items():
            ref = {"$ref": f"#/components/schemas/{model}"}
            described = {"description": schema["properties"][name].get("description", "")}
            nullable = "anyOf" in schema["properties"][name]
            schema["properties"][name] = (
                {"anyOf": [ref, {"type": "null"}], **described} if nullable else {**ref, **described}
            )

    return ConfigDict(json_schema_extra=document)


class DeclarationLinks(BaseModel):
    self: str = Field(max_length=256, description="where to read the declaration: /v1/declarations/{id}?revision=n")


class DeclarationAccepted(BaseModel):
    """A declaration revision is stored (the first time, or again: the same answer)."""

    declaration_id: DeclarationId
    revision: Revision
    status: Literal["received", "assessed"]
    received_at: Timestamp | None
    links: DeclarationLinks


class LineAssessmentView(BaseModel):
    """How risk assessed a line."""

    suspected: bool
    score: float
    lane: Lane
    hits: list[RiskHitV1] = Field(max_length=10_000)
    reasons: list[str] = Field(max_length=10_000)


class DeclarationLineView(BaseModel):
    line_no: LineNo
    hs_code: str = Field(max_length=10)
    description: str = Field(max_length=1024)
    brand: str | None = Field(max_length=256)
    assessment: LineAssessmentView | None = Field(description="none until risk assessed the revision")
    case_id: CaseId | None = Field(description="the case that holds the line now")
    case_state: str | None = Field(max_length=32)
    line_status: str | None = Field(max_length=32, description="the line's status in its case (held, released, ...)")


class DeclarationEventView(BaseModel):
    """One step of the declaration's history: received, assessed, republished, ..."""

    revision: Revision
    event: str = Field(max_length=32)
    detail: dict[str, Any] = Field(max_length=1000)
    at: Timestamp


class DeclarationView(BaseModel):
    """A declaration revision (the latest unless one was asked for) as intake holds it."""

    declaration_id: DeclarationId
    revision: Revision
    revisions: list[Revision] = Field(max_length=999, description="every revision received")
    status: Literal["received", "assessed"]
    jurisdiction: str = Field(max_length=8)
    source: Literal["http", "kafka"]
    received_at: Timestamp
    assessed_at: Timestamp | None
    lines: list[DeclarationLineView] = Field(max_length=999)
    case_ids: list[CaseId] = Field(max_length=100_000, description="cases on any revision's lines")
    history: list[DeclarationEventView] = Field(max_length=100_000)
    declaration: dict[str, Any] = Field(max_length=100, description="the revision as received")

    model_config = _as_received(declaration="DeclarationV1")


class ManifestLinks(BaseModel):
    self: str = Field(max_length=256, description="where to read the manifest: /v1/manifests/{id}?revision=n")


class ParcelRejectionView(BaseModel):
    """A parcel the manifest carried that was not accepted, and why."""

    position: ParcelNo = Field(description="its place among the manifest's parcels, from 1")
    parcel_no: ParcelNo | None = Field(description="none when the parcel carried no usable parcel_no")
    waybill_no: str | None = Field(max_length=40)
    code: str = Field(max_length=64, description="schema_violation, duplicate_parcel_no, order_no_required, ...")
    message: str = Field(max_length=20_000)
    details: Any = Field(
        default=None,
        description="present when there is more to say: the validation errors, or each rule broken with its code",
    )


class ManifestAccepted(BaseModel):
    """A manifest is stored: its good parcels accepted (and assessed next), the others rejected with reasons."""

    manifest_id: ManifestId
    revision: Revision
    status: Literal["received"]
    parcel_count: int = Field(ge=1, le=MAX_PARCELS)
    accepted: Count
    rejected: Count
    rejections: list[ParcelRejectionView] = Field(max_length=MAX_PARCELS)
    received_at: Timestamp
    links: ManifestLinks


class LaneCounts(BaseModel):
    green: Count
    yellow: Count
    red: Count


class ManifestCounts(BaseModel):
    received: Count = Field(description="parcels intake holds a record of")
    accepted_waiting: Count = Field(description="accepted, not yet assessed")
    assessed: Count
    rejected: Count
    suspected: Count
    lanes: LaneCounts


class ParcelCaseView(BaseModel):
    case_id: CaseId
    state: str = Field(max_length=32)


class ParcelView(BaseModel):
    """A parcel's result as a manifest's page lists it."""

    parcel_no: ParcelNo
    waybill_no: str | None = Field(max_length=40)
    consignment_id: DeclarationId = Field(description="the declaration id the parcel is assessed under")
    status: Literal["accepted", "rejected", "assessed"]
    lane: Lane | None
    suspected: bool | None
    score: float | None
    case_ids: list[CaseId] = Field(max_length=1000)
    cases: list[ParcelCaseView] = Field(max_length=1000)
    rejection: Rejection | None
    assessed_at: Timestamp | None


class ManifestView(BaseModel):
    """A manifest revision: counts and one page of its parcels' results."""

    manifest_id: ManifestId
    revision: Revision
    revisions: list[Revision] = Field(max_length=999)
    source: Literal["http", "kafka"] | None = Field(description="none while only risk's results of it are known")
    received_at: Timestamp | None
    parcel_count: int | None = Field(ge=1, le=MAX_PARCELS)
    status: Literal["received", "assessed"]
    counts: ManifestCounts
    header: ManifestHeaderV1 | None
    parcels: list[ParcelView] = Field(max_length=1000)
    next_after: ParcelNo | None = Field(description="pass as `after` for the next page; none on the last page")


class ParcelDetail(ParcelView):
    """One parcel: as declared, rejected or assessed, with its cases."""

    manifest_id: ManifestId
    revision: Revision
    customs_office: str | None = Field(max_length=16)
    declared: dict[str, Any] | None = Field(
        max_length=100, description="the parcel as declared (none if it was rejected)"
    )
    result: ParcelResultV1 | None = Field(description="risk's result (none until assessed)")
    received_at: Timestamp | None

    model_config = _as_received(declared="ParcelV1")
