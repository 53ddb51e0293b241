"""Inbound customs declaration contract, version 1.

This is the payload clearance systems send to ``POST /v1/declarations`` or publish
straight to the ``customs.declarations.v1`` topic. Validation is strict: unknown
fields, negative quantities, empty line lists and unknown jurisdictions are refused
with a reason, because a declaration that is silently "fixed" cannot be audited.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timezone
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

def _iso_country(value: str) -> str:
    if pycountry.countries.get(alpha_2=value) is None:
        raise ValueError(f"{value!r} is not an ISO 3166-1 alpha-2 country code")
    return value


def _iso_currency(value: str) -> str:
    if pycountry.currencies.get(alpha_3=value) is None:
        raise ValueError(f"{value!r} is not an ISO 4217 currency code")
    return value


CountryCode = Annotated[str, Field(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2"),
                        AfterValidator(_iso_country)]
CurrencyCode = Annotated[str, Field(pattern=r"^[A-Z]{3}$", description="ISO 4217"), AfterValidator(_iso_currency)]


def _known_jurisdiction(value: str) -> str:
    if value not in SUPPORTED_JURISDICTIONS:
        raise ValueError(
            f"unknown jurisdiction {value!r}; supported: {', '.join(sorted(SUPPORTED_JURISDICTIONS))}"
        )
    return value


Jurisdiction = Annotated[str, AfterValidator(_known_jurisdiction)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)


class Party(_Strict):
    id: TraderId
    name: Text = Field(min_length=1, max_length=256)
    country: CountryCode | None = None


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

    @model_validator(mode="after")
    def _value_in_range(self) -> "DeclarationLine":
        if not in_money_range(self.line_value):
            raise ValueError(f"the line value (quantity x unit_value) must not exceed {MONEY_MAX:,}")
        return self

    @property
    def line_value(self) -> Decimal:
        """Declared value of the line (quantity x unit value) in the declaration currency."""
        return (self.quantity * self.unit_value).quantize(Decimal("0.01"))


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

    @field_validator("submitted_at")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("submitted_at must carry a time zone (e.g. 2026-11-20T08:15:00Z)")
        return value

    @model_validator(mode="after")
    def _unique_lines(self) -> "DeclarationV1":
        numbers = [line.line_no for line in self.lines]
        if len(numbers) != len(set(numbers)):
            raise ValueError("line_no values must be unique within a declaration")
        return self

    @model_validator(mode="after")
    def _totals_in_range(self) -> "DeclarationV1":
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
        and the same instant in any UTC offset.
        """
        canonical = json.dumps(_canonical(self.model_dump()), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()


def _canonical(value: object) -> object:
    if isinstance(value, dict):
        return {k: _canonical(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_canonical(v) for v in value]
    if isinstance(value, Decimal):
        return format(value.normalize(), "f") if value else "0"
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).isoformat()
    return value
