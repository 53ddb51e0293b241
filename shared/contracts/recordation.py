"""Recordation contract, version 1: a right recorded with customs (CN: GACC recordation).

The registry answers a recordation as ``RecordationView`` (the right as recorded, the forms its marks are looked
for in, its version), with its audit trail (``RecordationWithHistory``), or one earlier version as it was
(``RecordationAsRecorded``)."""

from __future__ import annotations

import unicodedata
from typing import Annotated, Literal

from pydantic import AnyHttpUrl, BaseModel, ConfigDict, EmailStr, Field, model_validator

from shared.contracts.bounds import (
    Day,
    HolderId,
    Money,
    NiceClass,
    RecordationId,
    Timestamp,
    TraderId,
    UnitPrice,
    Version,
)
from shared.contracts.declaration import CurrencyCode, Jurisdiction
from shared.contracts.text import Text


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)


class Holder(_Strict):
    id: HolderId
    name: Text = Field(min_length=1, max_length=256)
    contact_email: EmailStr
    webhook_url: AnyHttpUrl | None = None


class Agent(_Strict):
    id: TraderId
    name: Text = Field(min_length=1, max_length=256)
    contact_email: EmailStr | None = None


class Licensee(_Strict):
    id: TraderId
    name: Text = Field(min_length=1, max_length=256)


class GenuineValue(_Strict):
    hs_prefix: str = Field(pattern=r"^[0-9]{2,10}$")
    min: UnitPrice
    currency: CurrencyCode


class TraderRef(_Strict):
    """A trader named in a recordation: id (e.g. the unified social credit code) and/or name."""

    id: TraderId | None = None
    name: Text = Field(min_length=1, max_length=256)


class KnownInfringers(_Strict):
    """What the holder knows of infringing goods (CN Reg. Art. 7 (5)): who makes and ships them, and where."""

    manufacturers: list[TraderRef] = Field(default_factory=list, max_length=500)
    exporters: list[TraderRef] = Field(default_factory=list, max_length=500)
    importers: list[TraderRef] = Field(default_factory=list, max_length=500)
    ports: list[Annotated[str, Field(min_length=2, max_length=16)]] = Field(default_factory=list, max_length=200)


RouteMode = Literal["sea", "air", "road", "rail", "post", "express", "other"]


class GuideImage(_Strict):
    """A picture (or PDF sheet) of the guide, kept in the platform's object store under ``object_key``."""

    object_key: str = Field(min_length=3, max_length=256, pattern=r"^[A-Za-z0-9][A-Za-z0-9/._-]*$")
    caption: Text = Field(default="", max_length=256)
    shows: Literal["genuine", "fake", "packaging", "label", "other"] = "genuine"
    content_type: Literal["image/jpeg", "image/png", "image/webp", "application/pdf"] = "image/jpeg"


class GenuinePrice(_Strict):
    product: Text = Field(min_length=1, max_length=256)
    market: Text = Field(default="", max_length=64, description="where the genuine article sells at this price")
    price: Money = Field(ge=0)
    currency: CurrencyCode


class UsualRoute(_Strict):
    """A way the genuine goods usually travel (CN Reg. Art. 7 (4): ports, importers, exporters)."""

    origin_country: Annotated[str, Field(pattern=r"^[A-Z]{2}$")] | None = None
    destination_country: Annotated[str, Field(pattern=r"^[A-Z]{2}$")] | None = None
    transport_mode: RouteMode | None = None
    note: Text = Field(default="", max_length=256)


class IdentificationGuide(_Strict):
    """The product identification guide: how officers tell the genuine article from a fake (CN Reg. Art. 7,
    EU application for action Art. 6(3)(h)); licensees are the recordation's ``authorized_licensees``."""

    genuine_features: list[Annotated[Text, Field(min_length=1, max_length=1000)]] = Field(
        default_factory=list, max_length=50
    )
    fake_features: list[Annotated[Text, Field(min_length=1, max_length=1000)]] = Field(
        default_factory=list, max_length=50
    )
    images: list[GuideImage] = Field(default_factory=list, max_length=20)
    genuine_prices: list[GenuinePrice] = Field(default_factory=list, max_length=50)
    usual_routes: list[UsualRoute] = Field(default_factory=list, max_length=50)
    contact: Text | None = Field(default=None, max_length=256, description="who answers officers' questions")


class RecordationV1(_Strict):
    recordation_id: RecordationId
    jurisdiction: Jurisdiction
    right_type: Literal["trademark", "copyright", "patent"]
    title: Text = Field(min_length=1, max_length=256, description="The mark as registered, in any script")
    registration_number: Text = Field(min_length=1, max_length=64)
    aliases: list[Annotated[Text, Field(max_length=256)]] = Field(
        default_factory=list,
        max_length=100,
        description="Other forms of the same mark, matched like the title: the Chinese mark of a Latin one and "
        "the reverse (耐克 for NIKE, LI-NING for 李宁), model and line names, slogans. Chinese may be "
        "written in Simplified or Traditional characters: both are found",
    )
    holder: Holder
    agent: Agent | None = None
    goods_hs_prefixes: list[Annotated[str, Field(pattern=r"^[0-9]{2,10}$")]] = Field(min_length=1, max_length=200)
    nice_classes: list[NiceClass] = Field(default_factory=list, max_length=45)
    authorized_licensees: list[Licensee] = Field(default_factory=list, max_length=500)
    genuine_unit_value: list[GenuineValue] = Field(default_factory=list, max_length=200)
    known_infringers: KnownInfringers = Field(default_factory=KnownInfringers)
    genuine_ports: list[Annotated[str, Field(min_length=2, max_length=16)]] = Field(
        default_factory=list,
        max_length=200,
        description="Customs offices or ports the genuine goods usually pass (CN Reg. Art. 7 (4))",
    )
    common_word: bool = Field(
        default=False, description="The mark is also an ordinary word (APPLE, SHELL): weak evidence in free text"
    )
    common_word_aliases: list[Annotated[Text, Field(max_length=256)]] = Field(
        default_factory=list,
        max_length=100,
        description="Aliases that are also ordinary words (苹果 'apple' for APPLE, 北面 'north side' for THE NORTH "
        "FACE): weak evidence in free text, no hit outside the recorded goods, never the base of a "
        "near form. Each must be one of the aliases",
    )
    valid_from: Day
    valid_until: Day
    status: Literal["pending", "active", "expired", "revoked", "refused"] = "active"
    identification_guide: IdentificationGuide | None = Field(
        default=None, description="Genuine and fake features, images, genuine prices, usual routes (added in 1.1)"
    )

    @model_validator(mode="after")
    def _check(self) -> RecordationV1:
        if self.valid_until < self.valid_from:
            raise ValueError("valid_until must not be before valid_from")
        if any(not a.strip() for a in self.aliases):
            raise ValueError("aliases must not be empty strings")
        known = {_plain(a) for a in self.aliases}
        missing = [a for a in self.common_word_aliases if _plain(a) not in known]
        if missing:
            raise ValueError(f"common_word_aliases must be among the aliases: {', '.join(missing)}")
        return self


def _plain(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold().strip()


# ---------------------------------------------------------------- as the registry answers it


class MarkForm(BaseModel):
    """A form the registry looks for a recordation's title or one of its aliases in."""

    text: str = Field(max_length=256, description="the title or alias as recorded")
    kind: Literal["title", "alias"]
    script: Literal["Han", "unspaced", "mixed", "Latin"]
    # NFKC may write one character as up to 18 (U+FDFA), and a syllable of pinyin takes up to 7 with its space
    folded: str = Field(
        max_length=256 * 18,
        description="the key it is matched on (width, case, Traditional characters, look-alikes folded)",
    )
    pinyin: str | None = Field(
        default=None,
        max_length=256 * 18 * 7,
        description="a Chinese mark's sound, and so its homophones (absent otherwise)",
    )
    common_word: bool = Field(description="also an ordinary word: weak evidence in free text")


class RecordationView(RecordationV1):
    """A recorded right as the registry holds it now."""

    marks: list[MarkForm] = Field(max_length=101, description="the title's and each alias's forms")
    version: Version = Field(description="1 when recorded, one more with each change")
    created_at: Timestamp | None
    updated_at: Timestamp | None


class RecordationChange(BaseModel):
    """One version of a recordation in its audit trail: what changed, who did it, when and why."""

    version: Version
    event: str = Field(max_length=32, description="created, approved, refused, amended, renewed, expired, revoked")
    actor: str = Field(max_length=256)
    actor_sub: str | None = Field(max_length=256, description="the subject of the actor's token")
    at: Timestamp
    reason: str | None = Field(max_length=10_000)
    changes: list[Annotated[str, Field(max_length=64)]] | None = Field(
        max_length=100, description="the fields this version changed (none for the first)"
    )


class RecordationWithHistory(RecordationView):
    history: list[RecordationChange] = Field(max_length=100_000)


class RecordationAsRecorded(RecordationV1):
    """An earlier version of a recordation, as it was."""

    version: Version
