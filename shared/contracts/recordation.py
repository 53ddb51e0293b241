"""Recordation contract, version 1: a right recorded with customs (CN: GACC recordation)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AnyHttpUrl, BaseModel, ConfigDict, EmailStr, Field, model_validator

from shared.contracts.bounds import Day, HolderId, NiceClass, RecordationId, TraderId, UnitPrice
from shared.contracts.declaration import CurrencyCode, Jurisdiction


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)


class Holder(_Strict):
    id: HolderId
    name: str = Field(min_length=1, max_length=256)
    contact_email: EmailStr
    webhook_url: AnyHttpUrl | None = None


class Agent(_Strict):
    id: TraderId
    name: str = Field(min_length=1, max_length=256)
    contact_email: EmailStr | None = None


class Licensee(_Strict):
    id: TraderId
    name: str = Field(min_length=1, max_length=256)


class GenuineValue(_Strict):
    hs_prefix: str = Field(pattern=r"^[0-9]{2,10}$")
    min: UnitPrice
    currency: CurrencyCode


class TraderRef(_Strict):
    """A trader named in a recordation: id (e.g. the unified social credit code) and/or name."""

    id: TraderId | None = None
    name: str = Field(min_length=1, max_length=256)


class KnownInfringers(_Strict):
    """What the holder knows of infringing goods (CN Reg. Art. 7 (5)): who makes and ships them, and where."""

    manufacturers: list[TraderRef] = Field(default_factory=list, max_length=500)
    exporters: list[TraderRef] = Field(default_factory=list, max_length=500)
    importers: list[TraderRef] = Field(default_factory=list, max_length=500)
    ports: list[Annotated[str, Field(min_length=2, max_length=16)]] = Field(default_factory=list, max_length=200)


class RecordationV1(_Strict):
    recordation_id: RecordationId
    jurisdiction: Jurisdiction
    right_type: Literal["trademark", "copyright", "patent"]
    title: str = Field(min_length=1, max_length=256)
    registration_number: str = Field(min_length=1, max_length=64)
    aliases: list[str] = Field(default_factory=list, max_length=100)
    holder: Holder
    agent: Agent | None = None
    goods_hs_prefixes: list[Annotated[str, Field(pattern=r"^[0-9]{2,10}$")]] = Field(min_length=1, max_length=200)
    nice_classes: list[NiceClass] = Field(default_factory=list, max_length=45)
    authorized_licensees: list[Licensee] = Field(default_factory=list, max_length=500)
    genuine_unit_value: list[GenuineValue] = Field(default_factory=list, max_length=200)
    known_infringers: KnownInfringers = Field(default_factory=KnownInfringers)
    genuine_ports: list[Annotated[str, Field(min_length=2, max_length=16)]] = Field(
        default_factory=list, max_length=200,
        description="Customs offices or ports the genuine goods usually pass (CN Reg. Art. 7 (4))")
    common_word: bool = Field(
        default=False, description="The mark is also an ordinary word (APPLE, SHELL): weak evidence in free text")
    valid_from: Day
    valid_until: Day
    status: Literal["pending", "active", "expired", "revoked", "refused"] = "active"

    @model_validator(mode="after")
    def _check(self) -> "RecordationV1":
        if self.valid_until < self.valid_from:
            raise ValueError("valid_until must not be before valid_from")
        if any(not a.strip() for a in self.aliases):
            raise ValueError("aliases must not be empty strings")
        return self
