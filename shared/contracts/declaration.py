"""Inbound customs declaration contract, version 1.2.

This is the payload clearance systems send to ``POST /v1/declarations`` or publish
straight to the ``customs.declarations.v1`` topic. Validation is strict: unknown
fields, negative quantities, empty line lists and unknown jurisdictions are refused
with a reason, because a declaration that is silently "fixed" cannot be audited.

Versions (minor versions only add optional fields; a 1.0 declaration is a valid 1.1 one and
keeps its content hash):

* 1.0: the declaration, its parties and lines.
* 1.1: the cross-border e-commerce fields: ``supervision_mode``, ``business_model``,
  ``platform``, ``seller``, ``order_no``, ``waybill_no`` and, per line, ``declared_ip_status``
  (CN Reg. Art. 5: the declarant declares the goods' IP status). The same fields describe a
  parcel of a parcel manifest (``shared/contracts/parcels.py``), which is assessed as a
  declaration of its own.
* 1.2: per party, an optional ``contact_email``: where customs sends the notices the law gives that party
  (declarant, consignor, consignee). Webhooks never go to an address taken from a declaration: a party
  registers its endpoint with customs.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Literal

import pycountry
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from shared.contracts.bounds import (
    MONEY_MAX,
    QUANTITY_MAX,
    WEIGHT_KG_MAX,
    DeclarationId,
    LineNo,
    Quantity,
    Revision,
    Timestamp,
    TraderId,
    UnitPrice,
    WeightKg,
    in_money_range,
)
from shared.contracts.jurisdictions import SUPPORTED_JURISDICTIONS
from shared.contracts.text import Text

DECLARATION_CONTRACT_VERSION = "1.2"


# The code lists as sets, read once: a declaration names several countries and is validated on every
# assessment, and pycountry's lookup is a few microseconds each.
_COUNTRIES = frozenset(c.alpha_2 for c in pycountry.countries)
_CURRENCIES = frozenset(c.alpha_3 for c in pycountry.currencies)


def _iso_country(value: str) -> str:
    if value not in _COUNTRIES:
        raise ValueError(f"{value!r} is not an ISO 3166-1 alpha-2 country code")
    return value


def _iso_currency(value: str) -> str:
    if value not in _CURRENCIES:
        raise ValueError(f"{value!r} is not an ISO 4217 currency code")
    return value


CountryCode = Annotated[
    str, Field(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2"), AfterValidator(_iso_country)
]
CurrencyCode = Annotated[str, Field(pattern=r"^[A-Z]{3}$", description="ISO 4217"), AfterValidator(_iso_currency)]


def _known_jurisdiction(value: str) -> str:
    if value not in SUPPORTED_JURISDICTIONS:
        raise ValueError(f"unknown jurisdiction {value!r}; supported: {', '.join(sorted(SUPPORTED_JURISDICTIONS))}")
    return value


Jurisdiction = Annotated[str, AfterValidator(_known_jurisdiction)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)


class Party(_Strict):
    id: TraderId
    name: Text = Field(min_length=1, max_length=256)
    country: CountryCode | None = None
    contact_email: str | None = Field(
        default=None,
        max_length=320,
        pattern=r"^[^@\s<>\x00-\x1f]{1,64}@[A-Za-z0-9.-]{1,253}\.[A-Za-z]{2,63}$",
        description="where customs sends the notices the law gives this party (added in 1.2)",
    )


IpStatus = Literal["no_brand", "own_brand", "brand_owner", "licensed", "oem", "other_brand"]
"""Declared brand / IP status of goods (CN Reg. Art. 5; the declaration form's brand type):

* ``no_brand``: the goods carry no brand (无品牌);
* ``own_brand``: the consignor's or seller's own brand, created or acquired (境内自主品牌 / 境内收购品牌);
* ``brand_owner``: shipped by or for the owner of the brand the goods carry;
* ``licensed``: another's brand, used under a licence from its owner;
* ``oem``: made to order for a foreign brand owner (境外品牌（贴牌生产）);
* ``other_brand``: another's brand, no licence declared (境外品牌（其他）).
"""
IP_STATUSES: tuple[str, ...] = ("no_brand", "own_brand", "brand_owner", "licensed", "oem", "other_brand")

SupervisionMode = Literal["9610", "9710", "9810", "1210", "postal", "express", "H7", "T86"]
BusinessModel = Literal["B2B", "B2C", "C2C"]


@dataclass(frozen=True)
class ModeRule:
    """What a supervision mode admits (``None``: anything)."""

    description: str
    procedure: str  # what a parcel of this mode declares as its procedure (at most 64 characters)
    jurisdictions: frozenset[str] | None = None
    directions: frozenset[str] | None = None
    business_models: frozenset[str] | None = None
    platform_required: bool = False
    order_required: bool = False


SUPERVISION_MODES: dict[str, ModeRule] = {
    "9610": ModeRule(
        "CN cross-border e-commerce, direct mail: retail parcels cleared parcel by parcel from lists",
        "9610 cross-border e-commerce direct mail",
        frozenset({"CN"}),
        platform_required=True,
        order_required=True,
    ),
    "9710": ModeRule(
        "CN cross-border e-commerce B2B direct export",
        "9710 cross-border e-commerce B2B direct export",
        frozenset({"CN"}),
        frozenset({"export"}),
        frozenset({"B2B"}),
        platform_required=True,
        order_required=True,
    ),
    "9810": ModeRule(
        "CN cross-border e-commerce export to overseas warehouses",
        "9810 cross-border e-commerce export to overseas warehouse",
        frozenset({"CN"}),
        frozenset({"export"}),
        frozenset({"B2B"}),
    ),
    "1210": ModeRule(
        "CN bonded cross-border e-commerce (bonded import or bonded export, retail)",
        "1210 bonded cross-border e-commerce",
        frozenset({"CN"}),
        business_models=frozenset({"B2C"}),
        platform_required=True,
        order_required=True,
    ),
    "postal": ModeRule("postal items outside the e-commerce modes (letter post and postal parcels)", "postal items"),
    "express": ModeRule("express / courier consignments outside the e-commerce modes", "express consignments"),
    "H7": ModeRule(
        "EU low-value consignment (H7 data set, intrinsic value up to EUR 150)",
        "H7 low-value consignment",
        frozenset({"EU"}),
        frozenset({"import"}),
    ),
    "T86": ModeRule(
        "US Entry Type 86 (low-value shipment)",
        "entry type 86 low-value shipment",
        frozenset({"US"}),
        frozenset({"import"}),
    ),
}


def mode_problems(
    *, mode: str | None, jurisdiction: str, direction: str, business_model: str | None, has_platform: bool
) -> list[str]:
    """Why a supervision mode does not fit the rest of a declaration or manifest (empty when it fits)."""
    if mode is None:
        return []
    rule = SUPERVISION_MODES[mode]
    out = []
    if rule.jurisdictions is not None and jurisdiction not in rule.jurisdictions:
        out.append(
            f"supervision mode {mode} exists only in {', '.join(sorted(rule.jurisdictions))}, not in {jurisdiction}"
        )
    if rule.directions is not None and direction not in rule.directions:
        out.append(f"supervision mode {mode} is for {' or '.join(sorted(rule.directions))} only, not {direction}")
    if rule.business_models is not None and business_model is not None and business_model not in rule.business_models:
        out.append(f"supervision mode {mode} is {'/'.join(sorted(rule.business_models))} only, not {business_model}")
    if rule.platform_required and not has_platform:
        out.append(f"supervision mode {mode} needs the e-commerce platform (platform)")
    return out


class DeclarationLine(_Strict):
    line_no: LineNo
    hs_code: str = Field(pattern=r"^[0-9]{4,10}$", description="HS / tariff code, digits only")
    description: Text = Field(min_length=1, max_length=1024, description="Goods as declared, in any script")
    brand: Text | None = Field(default=None, max_length=256)
    model: Text | None = Field(default=None, max_length=256)
    quantity: Quantity
    unit: Text = Field(min_length=1, max_length=16)
    unit_value: UnitPrice
    gross_weight_kg: WeightKg | None = None
    origin_country: CountryCode | None = None
    declared_ip_status: IpStatus | None = Field(
        default=None, description="Declared brand / IP status of the goods (1.1; CN Reg. Art. 5)"
    )

    @model_validator(mode="after")
    def _value_in_range(self) -> DeclarationLine:
        if not in_money_range(self.line_value):
            raise ValueError(f"the line value (quantity x unit_value) must not exceed {MONEY_MAX:,}")
        return self

    @property
    def line_value(self) -> Decimal:
        """Declared value of the line (quantity x unit value) in the declaration currency."""
        value: Decimal = (self.quantity * self.unit_value).quantize(Decimal("0.01"))
        return value


class DeclarationV1(_Strict):
    declaration_id: DeclarationId
    revision: Revision
    submitted_at: Timestamp
    jurisdiction: Jurisdiction
    customs_office: Text = Field(min_length=2, max_length=16)
    direction: Literal["import", "export", "transit"]
    procedure: Text = Field(min_length=1, max_length=64)
    transport_mode: Literal["sea", "air", "road", "rail", "post", "express", "other"]
    declarant: Party
    consignor: Party
    consignee: Party
    origin_country: CountryCode
    destination_country: CountryCode
    transit_countries: list[CountryCode] = Field(default_factory=list, max_length=20)
    currency: CurrencyCode
    lines: list[DeclarationLine] = Field(min_length=1, max_length=999)
    # 1.1: cross-border e-commerce
    supervision_mode: SupervisionMode | None = Field(
        default=None,
        description="Customs supervision mode of cross-border e-commerce and postal flows "
        "(CN 9610, 9710, 9810, 1210; postal; express; EU H7; US T86)",
    )
    business_model: BusinessModel | None = Field(
        default=None, description="B2B, B2C, or C2C (between private persons, not a sale: gifts, own belongings)"
    )
    platform: Party | None = Field(default=None, description="E-commerce platform the goods were sold on")
    seller: Party | None = Field(default=None, description="Seller (shop) on the platform")
    order_no: str | None = Field(default=None, min_length=1, max_length=64, description="E-commerce order number")
    waybill_no: str | None = Field(
        default=None, min_length=1, max_length=64, description="Carrier's waybill (tracking) number"
    )

    @field_validator("submitted_at")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("submitted_at must carry a time zone (e.g. 2026-11-20T08:15:00Z)")
        return value

    @model_validator(mode="after")
    def _unique_lines(self) -> DeclarationV1:
        numbers = [line.line_no for line in self.lines]
        if len(numbers) != len(set(numbers)):
            raise ValueError("line_no values must be unique within a declaration")
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

    @model_validator(mode="after")
    def _totals_in_range(self) -> DeclarationV1:
        """The consignment's totals keep within the bounds of one amount, quantity and weight: thresholds, the
        guarantee and the case of a holder count on the consignment, never on one line."""
        value = sum((line.line_value for line in self.lines), Decimal(0))
        if value > MONEY_MAX:
            raise ValueError(f"the value of all lines must not exceed {MONEY_MAX:,}")
        if sum((line.quantity for line in self.lines), Decimal(0)) > QUANTITY_MAX:
            raise ValueError(f"the quantity of all lines must not exceed {QUANTITY_MAX:,}")
        if sum((line.gross_weight_kg or Decimal(0) for line in self.lines), Decimal(0)) > WEIGHT_KG_MAX:
            raise ValueError(f"the gross weight of all lines must not exceed {WEIGHT_KG_MAX:,} kg")
        return self

    def content_hash(self) -> str:
        """Stable digest of the declaration's content, used to tell a replay from a conflict.

        Equal values hash equally however they were written: 500 and 500.0, 4.2 and "4.20",
        and the same instant in any UTC offset. Fields added by a minor version count only when
        set, so a declaration hashes as it did before they existed.
        """
        data = self.model_dump()
        for name in ADDED_FIELDS:
            if data.get(name) is None:
                data.pop(name, None)
        for line in data["lines"]:
            for name in ADDED_LINE_FIELDS:
                if line.get(name) is None:
                    line.pop(name, None)
        for party in (data.get(k) for k in ("declarant", "consignor", "consignee", "seller")):
            if isinstance(party, dict):
                for name in ADDED_PARTY_FIELDS:
                    if party.get(name) is None:
                        party.pop(name, None)
        canonical = json.dumps(_canonical(data), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()


ADDED_FIELDS = ("supervision_mode", "business_model", "platform", "seller", "order_no", "waybill_no")
ADDED_LINE_FIELDS = ("declared_ip_status",)
ADDED_PARTY_FIELDS = ("contact_email",)


def _canonical(value: object) -> object:
    if isinstance(value, dict):
        return {k: _canonical(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_canonical(v) for v in value]
    if isinstance(value, Decimal):
        return format(value.normalize(), "f") if value else "0"
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    return value
