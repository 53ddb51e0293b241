"""Targeting campaigns: time-limited sets of sectors, directions and modes that officers switch on and off.

A campaign (for example the export campaign of July to December: consumer electronics, auto parts,
personal care, clothing, bags and footwear) adds its weight to the score of every line of its
sectors (HS prefixes) that passes its directions, supervision modes, transport modes and offices
while it is switched on and its period covers the consignment's date. Each campaign counts what it
hits per office and day (consignments, lines, suspected lines, cases opened) for its report.
Campaigns are data in the risk database, in force on every replica at once.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from shared.contracts.bounds import CampaignId, Day
from shared.contracts.declaration import DeclarationLine, DeclarationV1, Jurisdiction, SupervisionMode

Direction = Literal["import", "export", "transit"]
TransportMode = Literal["sea", "air", "road", "rail", "post", "express", "other"]


class Sector(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=100, description="e.g. consumer electronics")
    hs_prefixes: list[str] = Field(
        min_length=1, max_length=100, description="HS chapters (2 digits), headings (4) or subheadings (6)"
    )

    @field_validator("hs_prefixes")
    @classmethod
    def _digits(cls, value: list[str]) -> list[str]:
        for prefix in value:
            if not (prefix.isdigit() and 2 <= len(prefix) <= 6 and prefix.isascii()):
                raise ValueError(f"HS prefix {prefix!r} must be 2 to 6 digits")
        return value


class CampaignV1(BaseModel):
    """A targeting campaign (validated data). Unknown fields and a period ending before it starts are refused."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    campaign_id: CampaignId
    name: str = Field(min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=2000)
    owner: str = Field(min_length=1, max_length=128, description="Officer or unit answerable for the campaign")
    jurisdiction: Jurisdiction = "CN"
    valid_from: Day
    valid_until: Day
    customs_offices: list[str] = Field(default_factory=list, max_length=500, description="Empty: every office")
    directions: list[Direction] = Field(default_factory=list, description="Empty: every direction")
    supervision_modes: list[SupervisionMode] = Field(
        default_factory=list, description="Empty: any mode, declarations without one included"
    )
    transport_modes: list[TransportMode] = Field(default_factory=list, description="Empty: every transport mode")
    sectors: list[Sector] = Field(min_length=1, max_length=50)
    weight: float = Field(gt=0, le=1, description="Added to the score of each line the campaign hits")
    active: bool = Field(default=True, description="Switched on (officers switch campaigns on and off)")

    @model_validator(mode="after")
    def _period(self) -> CampaignV1:
        if self.valid_until < self.valid_from:
            raise ValueError(f"the campaign ends ({self.valid_until}) before it starts ({self.valid_from})")
        return self


class CompiledCampaign:
    __slots__ = (
        "campaign",
        "campaign_id",
        "name",
        "weight",
        "_offices",
        "_directions",
        "_modes",
        "_transport",
        "_prefixes",
    )

    def __init__(self, campaign: CampaignV1) -> None:
        self.campaign = campaign
        self.campaign_id = campaign.campaign_id
        self.name = campaign.name
        self.weight = campaign.weight
        self._offices = frozenset(campaign.customs_offices)
        self._directions = frozenset(campaign.directions)
        self._modes = frozenset(campaign.supervision_modes)
        self._transport = frozenset(campaign.transport_modes)
        # longest prefix first, so a line is named by its most specific sector
        self._prefixes = sorted(
            ((p, s.name) for s in campaign.sectors for p in s.hs_prefixes), key=lambda x: -len(x[0])
        )

    def applies(self, d: DeclarationV1, on_date: date) -> bool:
        """Whether the consignment is in the campaign's scope (period, offices, direction, modes)."""
        c = self.campaign
        if not c.active or d.jurisdiction != c.jurisdiction or not c.valid_from <= on_date <= c.valid_until:
            return False
        if self._offices and d.customs_office not in self._offices:
            return False
        if self._directions and d.direction not in self._directions:
            return False
        if self._modes and getattr(d, "supervision_mode", None) not in self._modes:
            return False
        return not self._transport or d.transport_mode in self._transport

    def sector_of(self, line: DeclarationLine) -> tuple[str, str] | None:
        """(sector name, HS prefix) of the line, or None if it is outside the campaign's sectors."""
        for prefix, sector in self._prefixes:
            if line.hs_code.startswith(prefix):
                return sector, prefix
        return None


class CampaignSet:
    """The campaigns switched on, compiled; swapped whole on reload."""

    def __init__(self, campaigns: list[CampaignV1] | None = None) -> None:
        self.compiled = [CompiledCampaign(c) for c in (campaigns or []) if c.active]

    def __len__(self) -> int:
        return len(self.compiled)

    def in_scope(self, d: DeclarationV1, on_date: date) -> list[CompiledCampaign]:
        return [c for c in self.compiled if c.applies(d, on_date)]
