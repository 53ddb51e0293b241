"""Parcel-manifest contract, version 1.0: cross-border e-commerce and postal / express consignments.

A **manifest** is the transport unit: one carrier's list of parcels presented together at one
customs office (an e-commerce list under CN 9610, a B2B export under 9710 or 9810, a bonded list
under 1210, a postal or express manifest). Each **parcel** is a consignment of its own: it has its
own consignor, consignee, order and waybill, goods lines, declared value and declared IP status,
and it is assessed, and its suspected lines open cases per rights holder, exactly as a declaration's.

Clearance systems send a manifest whole to ``POST /v1/manifests`` (read as a stream: the header
fields come before ``parcels``), or put it on the ``customs.parcels.v1`` topic as one record per
parcel (``ParcelRecordV1``: the header and one parcel, keyed by the manifest id). Every parcel gets
its own result (``ParcelResultV1`` on ``customs.parcel-results.v1``, keyed by the manifest id): a
parcel that breaks the contract is rejected with its reason and the rest are assessed.

Each parcel is assessed as the declaration ``to_declaration`` builds (id ``<manifest id>-P<parcel
no, 5 digits>``), so the declaration contract's rules and the risk service's signals apply alike.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

import annotated_types as at
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from shared.contracts.bounds import (
    Bound,
    CaseId,
    DeclarationId,
    ManifestId,
    Money,
    Revision,
    Timestamp,
    WeightKg,
)
from shared.contracts.declaration import (
    SUPERVISION_MODES,
    BusinessModel,
    CountryCode,
    CurrencyCode,
    DeclarationLine,
    DeclarationV1,
    Jurisdiction,
    Party,
    SupervisionMode,
    mode_problems,
)
from shared.contracts.events import LineAssessmentV1

MANIFEST_CONTRACT_VERSION = "1.0"
MAX_PARCELS = 10_000
MAX_PARCEL_LINES = 50  # keeps one parcel's topic record far below the broker's 1 MB message limit
MANIFEST_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]*$"
ParcelNo = Annotated[int, at.Ge(1), at.Le(MAX_PARCELS), Bound("parcel_no")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)


class ManifestHeaderV1(_Strict):
    """What every parcel of the manifest shares."""

    manifest_id: ManifestId = Field(description="Set by the clearance system; parcels are <manifest id>-P<parcel no>")
    revision: Revision = Field(default=1, description="A corrected manifest is a new revision")
    submitted_at: Timestamp
    jurisdiction: Jurisdiction
    customs_office: str = Field(min_length=2, max_length=16)
    direction: Literal["import", "export", "transit"]
    supervision_mode: SupervisionMode
    business_model: BusinessModel = Field(
        description="B2B, B2C, or C2C: between private persons, not a sale (gifts, own belongings); "
        "a parcel may say otherwise for itself"
    )
    transport_mode: Literal["post", "express", "air", "road", "rail", "sea"]
    carrier: Party = Field(description="Postal operator or express company carrying the parcels")
    platform: Party | None = Field(default=None, description="E-commerce platform (required by 9610, 9710, 1210)")
    declarant: Party = Field(description="E-commerce enterprise, logistics company or agent filing the manifest")
    origin_country: CountryCode
    destination_country: CountryCode | None = Field(
        default=None, description="Default destination of the parcels (each parcel may name its own)"
    )
    transit_countries: list[CountryCode] = Field(default_factory=list, max_length=20)
    currency: CurrencyCode
    parcel_count: int = Field(ge=1, le=MAX_PARCELS, description=f"Parcels in the manifest, at most {MAX_PARCELS:,}")

    @field_validator("submitted_at")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("submitted_at must carry a time zone (e.g. 2026-11-20T08:15:00Z)")
        return value

    @model_validator(mode="after")
    def _mode_fits(self) -> ManifestHeaderV1:
        problems = mode_problems(
            mode=self.supervision_mode,
            jurisdiction=self.jurisdiction,
            direction=self.direction,
            business_model=self.business_model,
            has_platform=self.platform is not None,
        )
        if problems:
            raise ValueError("; ".join(problems))
        return self


class ParcelV1(_Strict):
    """One parcel: a consignment of its own."""

    parcel_no: ParcelNo = Field(description="Unique within the manifest")
    waybill_no: str = Field(
        min_length=4,
        max_length=40,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9-]*$",
        description="Carrier's waybill (tracking) number, unique within the manifest",
    )
    order_no: str | None = Field(
        default=None, min_length=1, max_length=64, description="E-commerce order number (required by 9610, 9710, 1210)"
    )
    business_model: BusinessModel | None = Field(default=None, description="Overrides the manifest's")
    seller: Party | None = Field(default=None, description="Seller (shop) on the platform")
    consignor: Party
    consignee: Party
    destination_country: CountryCode | None = Field(
        default=None, description="Overrides the manifest's; else the consignee's country"
    )
    declared_value: Money = Field(description="Declared value of the parcel, in the manifest currency")
    gross_weight_kg: WeightKg | None = None
    lines: list[DeclarationLine] = Field(min_length=1, max_length=MAX_PARCEL_LINES)

    @model_validator(mode="after")
    def _unique_lines(self) -> ParcelV1:
        numbers = [line.line_no for line in self.lines]
        if len(numbers) != len(set(numbers)):
            raise ValueError("line_no values must be unique within a parcel")
        return self


class ManifestV1(ManifestHeaderV1):
    """A whole manifest as one document (what ``POST /v1/manifests`` reads as a stream; its OpenAPI schema).

    Validated whole, any broken parcel fails the document; intake instead rejects that parcel alone and
    assesses the rest (``parcel_problems`` and the same per-parcel checks, applied as the stream arrives).
    """

    parcels: list[ParcelV1] = Field(min_length=1, max_length=MAX_PARCELS)

    @model_validator(mode="after")
    def _parcels_fit(self) -> ManifestV1:
        if len(self.parcels) != self.parcel_count:
            raise ValueError(f"parcel_count is {self.parcel_count} but the manifest has {len(self.parcels)} parcels")
        seen_no, seen_waybill = set(), set()
        for parcel in self.parcels:
            if parcel.parcel_no in seen_no:
                raise ValueError(f"parcel_no {parcel.parcel_no} appears twice")
            if parcel.waybill_no in seen_waybill:
                raise ValueError(f"waybill_no {parcel.waybill_no} appears twice")
            seen_no.add(parcel.parcel_no)
            seen_waybill.add(parcel.waybill_no)
            problems = parcel_problems(self, parcel)
            if problems:
                raise ValueError(f"parcel {parcel.parcel_no}: " + "; ".join(m for _, m in problems))
        return self


class ParcelRecordV1(_Strict):
    """One record of ``customs.parcels.v1``: the manifest header and one of its parcels (key: manifest id)."""

    manifest: ManifestHeaderV1
    parcel: ParcelV1


class Rejection(BaseModel):
    model_config = ConfigDict(extra="ignore")

    code: str
    message: str
    details: Any = None


class ParcelResultV1(BaseModel):
    """Payload of ``parcel.assessed`` / ``parcel.rejected`` on ``customs.parcel-results.v1`` (key: manifest id)."""

    model_config = ConfigDict(extra="ignore")

    manifest_id: ManifestId
    revision: Revision
    parcel_no: ParcelNo | None
    waybill_no: str | None = Field(default=None, max_length=40)
    consignment_id: DeclarationId | None = None
    status: Literal["assessed", "rejected"]
    position: ParcelNo | None = None  # 1-based place in the manifest's parcels (HTTP), for a parcel without a usable no
    at: Timestamp
    lane: Literal["green", "yellow", "red"] | None = None
    suspected: bool = False
    score: float | None = None
    case_ids: list[CaseId] = Field(default_factory=list)
    lines: list[LineAssessmentV1] = Field(default_factory=list)
    rejection: Rejection | None = None


def consignment_id(manifest_id: str, parcel_no: int) -> str:
    """The declaration id a parcel is assessed (and its cases opened) under: ``<manifest id>-P<00001>``."""
    return f"{manifest_id}-P{parcel_no:05d}"


def parcel_problems(header: ManifestHeaderV1, parcel: ParcelV1) -> list[tuple[str, str]]:
    """Rules that need the header: (code, message) for each one the parcel breaks."""
    out = []
    rule = SUPERVISION_MODES[header.supervision_mode]
    if rule.order_required and parcel.order_no is None:
        out.append(
            (
                "order_no_required",
                f"supervision mode {header.supervision_mode} needs the order number (order_no) of every parcel",
            )
        )
    model = parcel.business_model or header.business_model
    if rule.business_models is not None and model not in rule.business_models:
        out.append(
            (
                "business_model_not_allowed",
                f"supervision mode {header.supervision_mode} is "
                f"{'/'.join(sorted(rule.business_models))} only, not {model}",
            )
        )
    if destination_of(header, parcel) is None:
        out.append(
            (
                "destination_unknown",
                "no destination country: set the parcel's or the manifest's "
                "destination_country, or the consignee's country",
            )
        )
    return out


def destination_of(header: ManifestHeaderV1, parcel: ParcelV1) -> str | None:
    return parcel.destination_country or header.destination_country or parcel.consignee.country


def to_declaration(header: ManifestHeaderV1, parcel: ParcelV1) -> DeclarationV1:
    """The declaration a parcel is assessed as (both already validated: nothing is checked again)."""
    rule = SUPERVISION_MODES[header.supervision_mode]
    return DeclarationV1.model_construct(
        declaration_id=consignment_id(header.manifest_id, parcel.parcel_no),
        revision=header.revision,
        submitted_at=header.submitted_at,
        jurisdiction=header.jurisdiction,
        customs_office=header.customs_office,
        direction=header.direction,
        procedure=rule.procedure,
        transport_mode=header.transport_mode,
        declarant=header.declarant,
        consignor=parcel.consignor,
        consignee=parcel.consignee,
        origin_country=header.origin_country,
        destination_country=destination_of(header, parcel),  # type: ignore[arg-type]  # checked when the parcel is read
        transit_countries=header.transit_countries,
        currency=header.currency,
        lines=parcel.lines,
        supervision_mode=header.supervision_mode,
        business_model=parcel.business_model or header.business_model,
        platform=header.platform,
        seller=parcel.seller,
        order_no=parcel.order_no,
        waybill_no=parcel.waybill_no,
    )


def content_hash(value: Any) -> str:
    """Digest of a header or parcel (a model, or the raw JSON of one that broke the contract).

    Equal values hash equally however they were written (500 and 500.0, "4.20" and 4.2, any UTC offset).
    """
    # a model dumps its typed values (Decimal, datetime) in C and the encoder normalises them as it meets
    # them; raw JSON has its numbers made Decimal first
    data = value.model_dump() if isinstance(value, BaseModel) else _raw_canonical(value)
    return hashlib.sha256(_canonical_json(data).encode()).hexdigest()


def _canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=_norm)


def _norm(value: Any) -> str:
    if isinstance(value, Decimal):
        return format(value.normalize(), "f") if value else "0"
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    return str(value)


def _raw_canonical(value: Any) -> Any:
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, (int, float)):
        return Decimal(str(value))
    if isinstance(value, dict):
        return {str(k): _raw_canonical(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_raw_canonical(v) for v in value]
    return value


def validation_details(exc: ValidationError) -> list[dict[str, Any]]:
    """Pydantic's errors as the platform reports them: where, what, which kind."""
    return [{"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]} for e in exc.errors()]
